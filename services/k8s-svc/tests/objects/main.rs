//! Service-level tests of pods, services and replication controllers: identity-svc
//! (no-auth), bay-svc with the kubernetes driver and k8s-svc served in-process on real
//! Postgres and an in-process bus, against the strict fake Kubernetes API server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod objects;
