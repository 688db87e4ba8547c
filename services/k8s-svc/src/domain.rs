//! The domain: Kubernetes objects of a bay, their manifests and records, and the ports the
//! use cases need. Plain Rust (and k8s-openapi's data types), no transport, storage or bus.

pub mod listing;
pub mod manifest;
pub mod object;
pub mod ports;
