//! bay-svc's domain: plain types, their validation and the ports the use cases need.
//! Nothing here may name a transport or storage crate (`make lint` greps for them), so
//! the rules can be read and tested without a network or a database.

pub mod bay;
pub mod baymodel;
pub mod credentials;
pub mod event;
pub mod listing;
pub mod node;
pub mod nodegroup;
pub mod ports;
pub mod quota;
pub mod service;
