//! `make bench`'s bay figure: creates bays through the gateway (API latest: 202), waits
//! until every one is CREATE_COMPLETE, then deletes them and waits until they are gone.
//! Prints bays per second end to end for both. Usage:
//! `bench-bays <gateway url> <baymodel> <count> <concurrency> <label>`.

// The figures on stdout are this program's output (the bench script collects them).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, gateway, baymodel, count, concurrency, label] = args.as_slice() else {
        anyhow::bail!("usage: bench-bays <gateway url> <baymodel> <count> <concurrency> <label>");
    };
    let count: usize = count.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let request = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{gateway}{path}"))
            .header("X-Auth-Token", "bench")
            .header("OpenStack-API-Version", "container-infra latest")
    };

    let started = Instant::now();
    let created: Vec<anyhow::Result<String>> = futures::stream::iter(0..count)
        .map(|n| {
            let body =
                json!({"name": format!("{label}-{n}"), "baymodel_id": baymodel, "node_count": 1});
            let sent = request(reqwest::Method::POST, "/v1/bays")
                .json(&body)
                .send();
            async move {
                let response = sent.await?;
                anyhow::ensure!(
                    response.status().as_u16() == 202,
                    "POST /v1/bays: {}",
                    response.status()
                );
                let body: Value = response.json().await?;
                body["uuid"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow::anyhow!("no uuid in {body}"))
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let uuids: Vec<String> = created.into_iter().collect::<anyhow::Result<_>>()?;
    let accepted = started.elapsed();
    let (complete, failure) =
        wait(&request, &uuids, |bay| bay["status"] == "CREATE_COMPLETE").await?;
    let created_in = started.elapsed();

    let deleting = Instant::now();
    let deleted: Vec<anyhow::Result<()>> = futures::stream::iter(uuids.iter())
        .map(|uuid| {
            let sent = request(reqwest::Method::DELETE, &format!("/v1/bays/{uuid}")).send();
            async move {
                let response = sent.await?;
                anyhow::ensure!(
                    response.status().as_u16() == 204,
                    "DELETE: {}",
                    response.status()
                );
                Ok(())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    deleted.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    wait(&request, &[], |_| true).await?;
    if let Some(reason) = failure {
        eprintln!("{label}: a failed bay says: {reason}");
    }
    let deleted_in = deleting.elapsed();

    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{label}\t{count} bays\taccepted in {:.2} s\tCREATE_COMPLETE {:.1} bays/s ({:.2} s)\tdeleted {:.1} bays/s ({:.2} s)\tfailed {}",
        accepted.as_secs_f64(),
        rate(complete, created_in),
        created_in.as_secs_f64(),
        rate(count, deleted_in),
        deleted_in.as_secs_f64(),
        count - complete,
    );
    Ok(())
}

/// Polls the bay list until every bay in `uuids` is settled by `done` (or, with no uuids,
/// until the list is empty); returns how many satisfied `done`, and the reason of one that
/// did not.
async fn wait<F>(
    request: &impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder,
    uuids: &[String],
    done: F,
) -> anyhow::Result<(usize, Option<String>)>
where
    F: Fn(&Value) -> bool,
{
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let page: Value = request(reqwest::Method::GET, "/v1/bays/detail?limit=1000")
            .send()
            .await?
            .json()
            .await?;
        let bays = page["bays"].as_array().cloned().unwrap_or_default();
        if uuids.is_empty() {
            if bays.is_empty() {
                return Ok((0, None));
            }
        } else {
            let settled = bays
                .iter()
                .filter(|bay| {
                    bay["status"]
                        .as_str()
                        .is_some_and(|s| !s.ends_with("IN_PROGRESS"))
                })
                .count();
            if settled >= uuids.len() {
                let failure = bays
                    .iter()
                    .find(|bay| !done(bay))
                    .map(|bay| bay["status_reason"].to_string());
                return Ok((bays.iter().filter(|bay| done(bay)).count(), failure));
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "bays did not settle within 600 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
