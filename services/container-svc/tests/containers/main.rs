//! Service-level tests of containers: identity-svc (no-auth), bay-svc and container-svc
//! served in-process on real Postgres, an in-process bus and the real test Docker engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod lifecycle;
mod restart;
