//! The domain: containers, their validation and the ports the use cases need. Plain Rust,
//! no transport, storage or bus types.

pub mod container;
pub mod listing;
pub mod ports;
