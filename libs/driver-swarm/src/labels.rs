//! The labels put on every Docker resource of a bay.

/// `true` on everything this driver manages.
pub const MANAGED: &str = "magnum.managed";
/// The bay's uuid: how the driver (and container-svc) finds a bay's networks and containers.
pub const BAY_UUID: &str = "magnum.bay.uuid";
/// The bay's project.
pub const PROJECT: &str = "magnum.project";
/// The pool entry a network was placed through.
pub const ENGINE: &str = "magnum.engine";
