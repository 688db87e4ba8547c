//! sea-orm entities: the tables as the database sees them. Private to the store; the
//! rest of the crate only ever sees domain types.

pub(super) mod bay;
pub(super) mod bay_ca;
pub(super) mod bay_lease;
pub(super) mod bay_operation;
pub(super) mod baymodel;
pub(super) mod node;
pub(super) mod nodegroup;
pub(super) mod quota;
