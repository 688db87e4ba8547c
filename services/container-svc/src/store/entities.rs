//! The tables of container-svc.

pub(super) mod container;
