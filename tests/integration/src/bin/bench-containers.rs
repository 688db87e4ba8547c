//! `make bench`'s container figures: makes two swarm bays, then creates and starts
//! `count` containers across them through the gateway (POST, then PUT start), and times
//! create → Running; then times `GET /v1/containers` (every container, one page).
//! Deletes the bays (their containers go with them) at the end.
//! Usage: `bench-containers <gateway url> <image> <count> <concurrency>`.

// The figures on stdout are this program's output (the bench script collects them).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use magnum_integration_tests::bench::{Gateway, percentile_ms};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, gateway, image, count, concurrency] = args.as_slice() else {
        anyhow::bail!("usage: bench-containers <gateway url> <image> <count> <concurrency>");
    };
    let count: usize = count.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let gateway = Gateway::new(gateway)?;
    let mut bays = Vec::new();
    for n in 0..2 {
        bays.push(
            gateway
                .complete_bay("swarm", &format!("bench-containers-{n}"))
                .await?,
        );
    }

    let started = Instant::now();
    let made: Vec<anyhow::Result<Duration>> = futures::stream::iter(0..count)
        .map(|n| {
            let gateway = gateway.clone();
            let create = gateway
                .request(reqwest::Method::POST, "/v1/containers")
                .json(&json!({
                    "name": format!("bench-{n}"), "image": image, "bay_uuid": bays[n % bays.len()],
                    "command": "sleep 3600", "memory": "32m"
                }));
            async move {
                let began = Instant::now();
                let created = gateway.send(create, 201).await?;
                let uuid = created["uuid"].as_str().unwrap_or_default().to_owned();
                let start = gateway.request(
                    reqwest::Method::PUT,
                    &format!("/v1/containers/{uuid}/start"),
                );
                gateway.send(start, 200).await?;
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
                gateway.request(reqwest::Method::GET, "/v1/containers?limit=1000"),
                200,
            )
            .await?;
        list_times.push(began.elapsed());
        let listed = listed["containers"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default();
        anyhow::ensure!(listed == count, "listed {listed} of {count}");
    }
    list_times.sort();
    gateway.delete_bays(&bays).await?;

    println!(
        "{count} containers on 2 bays, concurrency {concurrency}: create+start {:.1} containers/s ({:.1} s), per container p50 {:.0} ms p99 {:.0} ms",
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
    );
    println!(
        "GET /v1/containers ({count} items, 20 times): p50 {:.1} ms p99 {:.1} ms",
        percentile_ms(&list_times, 0.5),
        percentile_ms(&list_times, 0.99),
    );
    Ok(())
}
