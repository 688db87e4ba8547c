//! Collection query parameters and `next` links (spec §1.7).

use axum::http::Uri;
use magnum_proto::common::v1::ListOptions;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::attributes::{boolean, invalid_input};
use crate::error::Error;
use crate::links::{BaseUrl, encode_query_value};

/// The query parameters every paginated collection takes. Unknown parameters are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Most items to return (> 0); capped at the server's `max_limit` (1000 by default).
    pub limit: Option<String>,
    /// uuid of the last item of the previous page.
    pub marker: Option<String>,
    /// Field to sort by (default `id`, i.e. creation order).
    pub sort_key: Option<String>,
    /// `asc` (default) or `desc`.
    pub sort_dir: Option<String>,
    /// Admins only: every project's objects (a boolean: true/false, yes/no, 1/0 ...).
    pub all_tenants: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub marker: String,
    pub sort_key: String,
    pub sort_dir: String,
    pub all_projects: bool,
}

impl ListQuery {
    /// The parameters of a request URI; the last of repeated parameters wins.
    pub fn from_uri(uri: &Uri) -> Result<Self, Error> {
        let pairs = crate::query::pairs(uri)?;
        let mut parsed = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "limit" => parsed.limit = Some(value),
                "marker" => parsed.marker = Some(value),
                "sort_key" => parsed.sort_key = Some(value),
                "sort_dir" => parsed.sort_dir = Some(value),
                "all_tenants" => parsed.all_tenants = Some(value),
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// The validated page of a collection request.
    pub fn page(uri: &Uri, max_limit: u32) -> Result<Page, Error> {
        Self::from_uri(uri)?.validate(max_limit)
    }

    /// Magnum's rules: `limit <= 0` is refused, larger than `max_limit` is capped;
    /// `sort_dir` must be `asc` or `desc`.
    pub fn validate(&self, max_limit: u32) -> Result<Page, Error> {
        let limit = match self.limit.as_deref() {
            None => max_limit,
            Some(text) => {
                let requested: i64 = text.trim().parse().map_err(|_| {
                    invalid_input(
                        "limit",
                        &serde_json::Value::String(text.to_owned()),
                        "Value should be an integer",
                    )
                })?;
                if requested <= 0 {
                    return Err(Error::BadRequest("Limit must be positive".to_owned()));
                }
                u32::try_from(requested).unwrap_or(u32::MAX).min(max_limit)
            }
        };
        let sort_dir = self.sort_dir.clone().unwrap_or_else(|| "asc".to_owned());
        if sort_dir != "asc" && sort_dir != "desc" {
            return Err(Error::BadRequest(format!(
                "Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'"
            )));
        }
        let all_projects = match self.all_tenants.as_deref() {
            None => false,
            Some(text) => {
                let value = serde_json::Value::String(text.to_owned());
                boolean(&value).ok_or_else(|| {
                    invalid_input("all_tenants", &value, "Value should be a boolean")
                })?
            }
        };
        Ok(Page {
            all_projects,
            limit,
            marker: self.marker.clone().unwrap_or_default(),
            sort_key: self.sort_key.clone().unwrap_or_else(|| "id".to_owned()),
            sort_dir,
        })
    }
}

impl Page {
    /// The gRPC list options for this page.
    pub fn list_options(&self) -> ListOptions {
        ListOptions {
            page_size: self.limit,
            page_token: self.marker.clone(),
            sort_key: self.sort_key.clone(),
            sort_dir: self.sort_dir.clone(),
            all_projects: self.all_projects,
        }
    }

    /// The `next` link of a page, given the backend's `next_page_token` (set only when
    /// the page is full, to the last item's uuid); `None` when it is empty.
    pub fn next(&self, base: &BaseUrl, path: &str, next_page_token: &str) -> Option<String> {
        (!next_page_token.is_empty()).then(|| self.next_link(base, path, next_page_token))
    }

    /// The `next` link for a page whose last item is `last_uuid`, in Magnum's format:
    /// `<base>/v1/<path>?sort_key=<k>&sort_dir=<d>&limit=<n>&marker=<uuid>`.
    pub fn next_link(&self, base: &BaseUrl, path: &str, last_uuid: &str) -> String {
        format!(
            "{}/v1/{path}?sort_key={}&sort_dir={}&limit={}&marker={}",
            base.as_str(),
            encode_query_value(&self.sort_key),
            encode_query_value(&self.sort_dir),
            self.limit,
            encode_query_value(last_uuid),
        )
    }
}

#[cfg(test)]
#[path = "pagination_test.rs"]
mod tests;
