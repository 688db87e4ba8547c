//! Paging and sorting of lists (Magnum's `limit`, `marker`, `sort_key`, `sort_dir`):
//! keyset pagination on (sort key, id) after a marker object.

use uuid::Uuid;

use crate::error::{Error, Result};

/// The most items one page may hold (Magnum's `max_limit`).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    /// `""` means the default, ascending.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "" | "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            other => Err(Error::InvalidSortDir(other.to_owned())),
        }
    }

    /// `asc` or `desc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// One page's worth of a list request, checked. `K` is the resource's sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// 1..=MAX_PAGE_SIZE.
    pub size: u32,
    /// The uuid of the last item of the previous page.
    pub marker: Option<Uuid>,
    /// The column to sort by; ties are broken by id in the same direction.
    pub sort_key: K,
    /// Ascending or descending.
    pub sort_dir: SortDir,
}

impl<K> PageRequest<K> {
    /// `size` 0 means the maximum; larger sizes are capped at it. An empty `marker` means
    /// the first page; anything else must be a uuid.
    pub fn new(size: u32, marker: &str, sort_key: K, sort_dir: SortDir) -> Result<Self> {
        let size = if size == 0 {
            MAX_PAGE_SIZE
        } else {
            size.min(MAX_PAGE_SIZE)
        };
        let marker = match marker {
            "" => None,
            token => {
                Some(Uuid::parse_str(token).map_err(|_| Error::InvalidUuid(token.to_owned()))?)
            }
        };
        Ok(Self {
            size,
            marker,
            sort_key,
            sort_dir,
        })
    }
}

/// A page of results and, when the page is full, the marker of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// At most the requested page size, in list order.
    pub items: Vec<T>,
    /// Set exactly when the page is full (even if nothing follows), as Magnum does.
    pub next_marker: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(
            PageRequest::new(0, "", (), SortDir::Asc).unwrap().size,
            1000
        );
        assert_eq!(
            PageRequest::new(5000, "", (), SortDir::Asc).unwrap().size,
            1000
        );
        assert_eq!(PageRequest::new(7, "", (), SortDir::Asc).unwrap().size, 7);
    }

    #[test]
    fn markers_must_be_uuids() {
        let uuid = "27e3153e-d5bf-4b7e-b517-fb518e17f34c";
        let page = PageRequest::new(1, uuid, (), SortDir::Asc).unwrap();
        assert_eq!(page.marker.map(|m| m.to_string()).as_deref(), Some(uuid));
        let error = PageRequest::new(1, "my-model", (), SortDir::Asc).unwrap_err();
        assert_eq!(error.to_string(), "Expected a uuid but received my-model.");
    }

    #[test]
    fn sort_directions() {
        assert_eq!(SortDir::parse("").unwrap(), SortDir::Asc);
        assert_eq!(SortDir::parse("desc").unwrap(), SortDir::Desc);
        assert!(matches!(
            SortDir::parse("up"),
            Err(Error::InvalidSortDir(_))
        ));
    }
}
