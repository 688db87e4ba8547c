//! Tracing for every service: logs (pretty or JSON) and OpenTelemetry spans. Spans are
//! exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; trace context always
//! propagates (W3C `traceparent`) through gRPC metadata and bus message headers, so one
//! trace spans REST -> gRPC -> bus -> worker.

pub mod metrics;

use std::collections::BTreeMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,bay_svc=debug`. `RUST_LOG` wins when set.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Pretty,
            log_filter: "info".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter: {0}")]
    Filter(String),
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(String),
    #[error("tracing was already initialised: {0}")]
    AlreadyInitialised(String),
}

/// Flushes and stops span export when dropped: keep it alive until `main` returns.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::debug!(%error, "span exporter shutdown");
        }
    }
}

/// Installs the global subscriber. Call once, inside the Tokio runtime.
pub fn init(service: &str, config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let mut builder = provider_builder(service);
    if std::env::var(OTLP_ENDPOINT_ENV).is_ok_and(|v| !v.is_empty()) {
        // The exporter reads the endpoint (and OTEL_EXPORTER_OTLP_* options) itself.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        builder = builder.with_batch_exporter(exporter);
    }
    install(service, config, builder)
}

/// [`init`] with spans handed to `exporter` as each ends (tests capture them in memory).
pub fn init_with_span_exporter(
    service: &str,
    config: &TelemetryConfig,
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
) -> Result<TelemetryGuard, TelemetryError> {
    install(
        service,
        config,
        provider_builder(service).with_simple_exporter(exporter),
    )
}

fn provider_builder(service: &str) -> opentelemetry_sdk::trace::TracerProviderBuilder {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    SdkTracerProvider::builder().with_resource(resource)
}

fn install(
    service: &str,
    config: &TelemetryConfig,
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives),
        _ => EnvFilter::try_new(&config.log_filter),
    }
    .map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let provider = builder.build();
    let otel_layer =
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service.to_owned()));

    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    let result = match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().compact())
            .try_init(),
    };
    result.map_err(|e| TelemetryError::AlreadyInitialised(e.to_string()))?;
    Ok(TelemetryGuard { provider })
}

// --------------------------------------------------------------------------------------
// Propagation
// --------------------------------------------------------------------------------------

fn propagator() -> TraceContextPropagator {
    TraceContextPropagator::new()
}

struct MapInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct MapExtractor<'a>(&'a BTreeMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Writes the current span's trace context (`traceparent`, `tracestate`) into message
/// headers (bus messages, outbox rows).
pub fn inject_into_map(headers: &mut BTreeMap<String, String>) {
    let cx = tracing::Span::current().context();
    propagator().inject_context(&cx, &mut MapInjector(headers));
}

/// Makes `span` a child of the trace context found in message headers, if any.
pub fn set_parent_from_map(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    let cx = propagator().extract(&MapExtractor(headers));
    // Setting a parent fails only when the span is already started with another one.
    let _ = span.set_parent(cx);
}

/// Writes the current span's trace context into HTTP/gRPC headers.
pub fn inject_into_headers(headers: &mut http::HeaderMap) {
    let cx = tracing::Span::current().context();
    propagator().inject_context(&cx, &mut HeaderInjector(headers));
}

/// Makes `span` a child of the trace context found in HTTP/gRPC headers, if any.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    let cx = propagator().extract(&HeaderExtractor(headers));
    let _ = span.set_parent(cx);
}

/// The current trace id (hex), for log correlation; empty when there is none.
pub fn current_trace_id() -> String {
    use opentelemetry::trace::TraceContextExt;
    let cx = tracing::Span::current().context();
    let span_ref = cx.span();
    let span_cx = span_ref.span_context();
    if span_cx.is_valid() {
        span_cx.trace_id().to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_round_trip_keeps_a_foreign_traceparent() {
        let mut headers = BTreeMap::new();
        headers.insert(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        );
        let cx = propagator().extract(&MapExtractor(&headers));
        let mut out = BTreeMap::new();
        propagator().inject_context(&cx, &mut MapInjector(&mut out));
        assert_eq!(out.get("traceparent"), headers.get("traceparent"));
    }
}
