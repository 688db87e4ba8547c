//! `make bench`'s container figures: makes two swarm bays, then creates and starts
//! `count` containers across them through the gateway (POST, then PUT start), and times
//! create → Running; then times `GET /v1/containers` (every container, one page) and the
//! detail of one. Deletes the bays (their containers go with them) at the end.
//! Usage: `bench-containers <gateway url> <image> <count> <concurrency>`.

// The figures on stdout are this program's output (the bench script collects them).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, gateway, image, count, concurrency] = args.as_slice() else {
        anyhow::bail!("usage: bench-containers <gateway url> <image> <count> <concurrency>");
    };
    let count: usize = count.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let request = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{gateway}{path}"))
            .header("X-Auth-Token", "bench")
    };
    let send = |builder: reqwest::RequestBuilder, expected: u16| async move {
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status == expected, "answered {status}: {body}");
        Ok::<Value, anyhow::Error>(body)
    };

    send(
        request(reqwest::Method::POST, "/v1/baymodels").json(&json!({
            "name": "bench-containers", "coe": "swarm", "image_id": "fedora-atomic",
            "keypair_id": "default", "external_network_id": "public"
        })),
        201,
    )
    .await?;
    let mut bays = Vec::new();
    for n in 0..2 {
        let bay = send(
            request(reqwest::Method::POST, "/v1/bays").json(&json!({
                "name": format!("bench-containers-{n}"), "baymodel_id": "bench-containers"
            })),
            201,
        )
        .await?;
        bays.push(bay["uuid"].as_str().unwrap_or_default().to_owned());
    }
    for bay in &bays {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let shown = send(
                request(reqwest::Method::GET, &format!("/v1/bays/{bay}")),
                200,
            )
            .await?;
            if shown["status"] == "CREATE_COMPLETE" {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "bay {bay} not complete: {shown}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let started = Instant::now();
    let made: Vec<anyhow::Result<Duration>> = futures::stream::iter(0..count)
        .map(|n| {
            let bay = bays[n % bays.len()].clone();
            let create = request(reqwest::Method::POST, "/v1/containers").json(&json!({
                "name": format!("bench-{n}"), "image": image, "bay_uuid": bay,
                "command": "sleep 3600", "memory": "32m"
            }));
            async move {
                let began = Instant::now();
                let created = send(create, 201).await?;
                let uuid = created["uuid"].as_str().unwrap_or_default().to_owned();
                send(
                    request(
                        reqwest::Method::PUT,
                        &format!("/v1/containers/{uuid}/start"),
                    ),
                    200,
                )
                .await?;
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
        let listed = send(
            request(reqwest::Method::GET, "/v1/containers?limit=1000"),
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

    for bay in &bays {
        send(
            request(reqwest::Method::DELETE, &format!("/v1/bays/{bay}")),
            204,
        )
        .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let left = send(request(reqwest::Method::GET, "/v1/bays"), 200).await?;
        if left["bays"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the bays did not go");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let pct = |sorted: &[Duration], p: f64| {
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted
            .get(index)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "{count} containers on 2 bays, concurrency {concurrency}: create+start {:.1} containers/s ({:.1} s), per container p50 {:.0} ms p99 {:.0} ms",
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
    );
    println!(
        "GET /v1/containers ({count} items, 20 times): p50 {:.1} ms p99 {:.1} ms",
        pct(&list_times, 0.5),
        pct(&list_times, 0.99),
    );
    Ok(())
}
