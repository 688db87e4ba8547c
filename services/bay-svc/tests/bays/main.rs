//! Service-level tests of bays: bay-svc served on a socket (behind identity-svc in
//! no-auth mode), on real Postgres and real JetStream, driving the real swarm driver on
//! the test Docker engine and the kubernetes driver on the fake API server.
//!
//! Fail points are process-wide: run these with `cargo nextest` (one process per test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod certificates;
mod crash;
mod credentials;
mod harness;
mod lifecycle;
mod operations;
mod quotas;
mod services;
mod watch;
