//! Paging and sorting of lists, shared by every service (Magnum's `limit`, `marker`, `sort_key`, `sort_dir`):
//! keyset pagination on (sort key, id) after a marker object.

use uuid::Uuid;

/// A list request a caller got wrong (each service maps it into its own error type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// A marker (page token) that is not a uuid.
    #[error("Expected a uuid but received {0}.")]
    InvalidUuid(String),
    #[error("Invalid sort direction: {0}. Acceptable values are 'asc' or 'desc'")]
    InvalidSortDir(String),
}

type Result<T> = std::result::Result<T, ListingError>;

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
            other => Err(ListingError::InvalidSortDir(other.to_owned())),
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
            token => Some(
                Uuid::parse_str(token).map_err(|_| ListingError::InvalidUuid(token.to_owned()))?,
            ),
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
#[path = "listing_test.rs"]
mod tests;
