//! sea-orm entities: the tables as the database sees them. Private to the store; the
//! rest of the crate only ever sees domain types.

pub(super) mod baymodel;
pub(super) mod node;
