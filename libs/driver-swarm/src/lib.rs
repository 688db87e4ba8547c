//! Swarm bay driver: a bay is a Docker network on each of `node_count` engines from a
//! configured pool.
//!
//! **Engine pool.** [`SwarmConfig::engines`] lists Docker engines by name (`unix://` or
//! `tcp://`, optionally TLS). A bay is placed on `node_count` pool entries: the first is the
//! master (its url is the bay's API address) and each is a worker node named after the entry.
//! New placements go to the reachable entries carrying the fewest bays (bays whose networks
//! were placed through that entry), ties by pool order.
//! Several entries may name the same engine; they then share that engine's one network of the
//! bay.
//!
//! **Labels.** Each bay network is `magnum-bay-<bay uuid>` (bridge) and carries
//! `magnum.managed=true`, `magnum.bay.uuid`, `magnum.project` and `magnum.engine` (the pool entry
//! it was placed through). The driver finds a bay's resources by these labels, never only by
//! remembered ids; containers of the bay carry `magnum.bay.uuid` too, so they go with it.
//!
//! **Idempotency.** Every call may be repeated after a crash: create reuses the entries an
//! earlier attempt placed the bay on before filling up, and finds existing networks instead of
//! making duplicates; delete treats already-gone resources as removed and also sweeps every
//! reachable pool engine for resources of a bay that never finished creating.

mod config;
mod driver;
mod engine;
pub mod labels;
mod placement;
mod state;

pub use config::{EngineConfig, EngineTls, SwarmConfig, SwarmConfigError};
pub use driver::SwarmDriver;
pub use engine::connect_engine;
pub use state::{PlacedEngine, SwarmBayState};
