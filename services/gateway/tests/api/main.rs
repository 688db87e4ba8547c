//! Router tests: the whole gateway application driven with `oneshot`, against an
//! in-memory bay-svc, container-svc and a no-auth identity-svc served by tonic on 127.0.0.1:0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod baymodels;
mod bays;
mod certificates;
mod containers;
mod lifecycle;
mod nodes;
mod protocol;
mod support;
