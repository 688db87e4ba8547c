//! The driver's record of a bay, kept by bay-svc in [`Provisioned::state`].

use magnum_bay_driver::{DriverError, Provisioned};
use serde::{Deserialize, Serialize};

/// Where a swarm bay lives: the pool entries it was placed on, in placement order (the first
/// is the master). container-svc reads it to find a bay's engines and networks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SwarmBayState {
    pub engines: Vec<PlacedEngine>,
}

/// The bay's network on one pool entry. Entries naming the same engine share one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedEngine {
    /// The pool entry's name (also the node's name).
    pub name: String,
    pub url: String,
    pub network_id: String,
    pub network_name: String,
}

impl SwarmBayState {
    /// Reads the state a swarm driver stored on a bay.
    pub fn from_provisioned(provisioned: &Provisioned) -> Result<Self, DriverError> {
        Self::deserialize(&provisioned.state).map_err(|err| {
            DriverError::Invalid(format!("the bay's swarm driver state is unreadable: {err}"))
        })
    }

    pub(crate) fn to_value(&self) -> serde_json::Value {
        serde_json::json!({ "engines": self.engines })
    }
}

#[cfg(test)]
#[path = "state_test.rs"]
mod tests;
