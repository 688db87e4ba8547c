//! Prometheus metrics: one recorder per process, shared by every service in it (the
//! all-in-one binary's `/metrics` shows them all), rendered in the text exposition
//! format. Code records with the `metrics` macros; names follow Prometheus conventions
//! (`_total` counters, base units such as `_seconds`, `magnum_` for our own).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets of every `*_seconds` metric: 1 ms to 2 min.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder; later calls return the same handle. `None` when
/// another recorder was installed first (then nothing is rendered).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Everything recorded so far, in the Prometheus text format.
pub fn render() -> String {
    match install() {
        Some(handle) => {
            // Without the exporter's own listener, draining histogram samples is ours.
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Counts one lookup in a cache: `magnum_cache_requests_total{cache, result}` with
/// `result` `hit` or `miss` (the hit ratio is `hit / (hit + miss)`).
pub fn cache_lookup(cache: &'static str, hit: bool) {
    metrics::counter!(
        "magnum_cache_requests_total",
        "cache" => cache,
        "result" => if hit { "hit" } else { "miss" },
    )
    .increment(1);
}
