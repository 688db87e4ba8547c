//! What the `make bench` load drivers share: a client of the gateway that checks status
//! codes, waiting for a bay, and percentiles.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The gateway, called with a no-auth token.
#[derive(Clone)]
pub struct Gateway {
    http: reqwest::Client,
    url: String,
}

impl Gateway {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
            url: url.to_owned(),
        })
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("X-Auth-Token", "bench")
    }

    /// Sends `builder`; the body when the status is `expected`, else an error saying both.
    pub async fn send(
        &self,
        builder: reqwest::RequestBuilder,
        expected: u16,
    ) -> anyhow::Result<Value> {
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status == expected, "answered {status}: {body}");
        Ok(body)
    }

    /// A baymodel of `coe` and a bay of it, CREATE_COMPLETE (API 1.1); its uuid.
    pub async fn complete_bay(&self, coe: &str, name: &str) -> anyhow::Result<String> {
        let model = format!("{name}-model");
        self.send(
            self.request(reqwest::Method::POST, "/v1/baymodels")
                .json(&json!({
                    "name": model, "coe": coe, "image_id": "fedora-atomic",
                    "keypair_id": "default", "external_network_id": "public"
                })),
            201,
        )
        .await?;
        let bay = self
            .send(
                self.request(reqwest::Method::POST, "/v1/bays")
                    .json(&json!({"name": name, "baymodel_id": model})),
                201,
            )
            .await?;
        let uuid = bay["uuid"].as_str().unwrap_or_default().to_owned();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let shown = self
                .send(
                    self.request(reqwest::Method::GET, &format!("/v1/bays/{uuid}")),
                    200,
                )
                .await?;
            if shown["status"] == "CREATE_COMPLETE" {
                return Ok(uuid);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "bay {uuid} not complete: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Deletes the bays and waits until none is left.
    pub async fn delete_bays(&self, bays: &[String]) -> anyhow::Result<()> {
        for bay in bays {
            self.send(
                self.request(reqwest::Method::DELETE, &format!("/v1/bays/{bay}")),
                204,
            )
            .await?;
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let left = self
                .send(self.request(reqwest::Method::GET, "/v1/bays"), 200)
                .await?;
            if left["bays"].as_array().is_none_or(Vec::is_empty) {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "the bays did not go");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The `p` percentile (0..=1) of `sorted`, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(index)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}
