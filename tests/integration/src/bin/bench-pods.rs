//! `make bench`'s pod figures, against the FAKE Kubernetes API server (no real cluster
//! runs here: the figures are k8s-svc's and the gateway's cost, not a cluster's): makes a
//! kubernetes bay, creates `count` pods through the gateway (POST /v1/pods, each a
//! Kubernetes create with the bay's token), then times `GET /v1/pods` (every pod, one
//! page, statuses from the bay's snapshot). Deletes the bay at the end.
//! Usage: `bench-pods <gateway url> <count> <concurrency>`.

// The figures on stdout are this program's output (the bench script collects them).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use magnum_integration_tests::bench::{Gateway, percentile_ms};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, gateway, count, concurrency] = args.as_slice() else {
        anyhow::bail!("usage: bench-pods <gateway url> <count> <concurrency>");
    };
    let count: usize = count.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let gateway = Gateway::new(gateway)?;
    let bay = gateway.complete_bay("kubernetes", "bench-pods").await?;

    let started = Instant::now();
    let made: Vec<anyhow::Result<Duration>> = futures::stream::iter(0..count)
        .map(|n| {
            let gateway = gateway.clone();
            let manifest = format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench-{n}\n  labels: {{app: bench}}\n\
                 spec:\n  containers:\n    - name: web\n      image: nginx:1.27\n"
            );
            let create = gateway
                .request(reqwest::Method::POST, "/v1/pods")
                .json(&json!({"bay_uuid": bay, "manifest": manifest, "manifest_url": null}));
            async move {
                let began = Instant::now();
                gateway.send(create, 201).await?;
                Ok(began.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = made.into_iter().collect::<anyhow::Result<_>>()?;
    latencies.sort();

    let mut list_times = Vec::new();
    for _ in 0..20 {
        let began = Instant::now();
        let listed = gateway
            .send(
                gateway.request(reqwest::Method::GET, "/v1/pods?limit=1000"),
                200,
            )
            .await?;
        list_times.push(began.elapsed());
        let listed = listed["pods"].as_array().map(Vec::len).unwrap_or_default();
        anyhow::ensure!(listed == count, "listed {listed} of {count}");
    }
    list_times.sort();
    gateway.delete_bays(&[bay]).await?;

    println!(
        "{count} pods on 1 kubernetes bay (FAKE API server), concurrency {concurrency}: create {:.1} pods/s ({:.1} s), per pod p50 {:.0} ms p99 {:.0} ms",
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
    );
    println!(
        "GET /v1/pods ({count} items, 20 times, FAKE API server): p50 {:.1} ms p99 {:.1} ms",
        percentile_ms(&list_times, 0.5),
        percentile_ms(&list_times, 0.99),
    );
    Ok(())
}
