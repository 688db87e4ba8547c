//! `manifest_url`: the service fetches the manifest itself, so only http(s), within a time
//! and size limit, and only when the operator allows it.

use std::time::Duration;

use crate::error::{Error, Result};

/// Fetches manifests by URL.
#[derive(Clone)]
pub struct ManifestFetcher {
    http: Option<reqwest::Client>,
    max_bytes: usize,
}

impl ManifestFetcher {
    /// `enabled = false` refuses every URL (the operator does not want the service to
    /// fetch what users name).
    pub fn new(enabled: bool, timeout: Duration, max_bytes: usize) -> Result<Self> {
        let http = if enabled {
            Some(
                reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .build()
                    .map_err(|error| Error::ManifestUrl(format!("cannot fetch URLs: {error}")))?,
            )
        } else {
            None
        };
        Ok(Self { http, max_bytes })
    }

    /// The text at `url`.
    pub async fn fetch(&self, url: &str) -> Result<String> {
        let http = self.http.as_ref().ok_or_else(|| {
            Error::ManifestUrl("manifest_url is disabled here; send the manifest itself.".into())
        })?;
        let parsed = reqwest::Url::parse(url)
            .map_err(|error| Error::ManifestUrl(format!("Invalid URL {url}: {error}.")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::ManifestUrl(format!(
                "Invalid URL scheme {}: only http and https are fetched.",
                parsed.scheme()
            )));
        }
        let failed = |reason: String| {
            Error::ManifestUrl(format!("Cannot fetch the manifest from {url}: {reason}."))
        };
        let response = http
            .get(parsed)
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status())));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| failed(error.to_string()))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > self.max_bytes {
                return Err(failed(format!(
                    "it is larger than the limit of {} bytes",
                    self.max_bytes
                )));
            }
        }
        String::from_utf8(body).map_err(|_| failed("it is not UTF-8 text".to_owned()))
    }
}
