//! Every gRPC contract of magnum-rs and the messages it puts on the bus, generated from
//! `proto/` at build time. Services use these modules; nothing else generates code.

#![allow(clippy::all, clippy::pedantic)]

pub mod json;

pub mod common {
    pub mod v1 {
        tonic::include_proto!("magnum.common.v1");
    }
}
pub mod identity {
    pub mod v1 {
        tonic::include_proto!("magnum.identity.v1");
    }
}
pub mod bay {
    pub mod v1 {
        tonic::include_proto!("magnum.bay.v1");
    }
}
pub mod k8s {
    pub mod v1 {
        tonic::include_proto!("magnum.k8s.v1");
    }
}
pub mod container {
    pub mod v1 {
        tonic::include_proto!("magnum.container.v1");
    }
}
pub mod events {
    pub mod v1 {
        tonic::include_proto!("magnum.events.v1");
    }
}

/// Encoded descriptors of every service, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));
