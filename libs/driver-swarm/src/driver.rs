//! [`SwarmDriver`]: the [`BayDriver`] that places bays on the engine pool.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use magnum_bay_driver::{
    BayDriver, BayRef, DriverError, Health, NodeHealth, NodeInfo, NodeRole, Provisioned,
};

use crate::config::{EngineConfig, SwarmConfig, SwarmConfigError};
use crate::engine::{Engine, EngineSurvey};
use crate::placement::{self, Candidate};
use crate::state::{PlacedEngine, SwarmBayState};

/// The swarm bay driver. Cheap to share; engines are contacted on first use.
#[derive(Debug)]
pub struct SwarmDriver {
    pool: Vec<Arc<Engine>>,
    connect_timeout: Duration,
    request_timeout: Duration,
}

/// One pool entry the bay is on, with the node's address.
struct Placement {
    engine: PlacedEngine,
    address: String,
}

impl SwarmDriver {
    /// Checks the pool (unique names, known url schemes); connects to nothing yet.
    pub fn new(config: SwarmConfig) -> Result<Self, SwarmConfigError> {
        config.validate()?;
        let connect_timeout = Duration::from_secs(config.connect_timeout_secs);
        let request_timeout = Duration::from_secs(config.request_timeout_secs);
        let pool = config
            .engines
            .into_iter()
            .map(|engine| Arc::new(Engine::new(engine, connect_timeout, request_timeout)))
            .collect();
        Ok(Self {
            pool,
            connect_timeout,
            request_timeout,
        })
    }

    /// The engine a bay's state names: its pool entry, or (should the entry have left the
    /// pool since) a plain connection to the url the state recorded.
    fn engine_of(&self, placed: &PlacedEngine) -> Arc<Engine> {
        self.pool
            .iter()
            .find(|engine| engine.name() == placed.name)
            .cloned()
            .unwrap_or_else(|| {
                Arc::new(Engine::new(
                    EngineConfig {
                        name: placed.name.clone(),
                        url: placed.url.clone(),
                        ..Default::default()
                    },
                    self.connect_timeout,
                    self.request_timeout,
                ))
            })
    }

    fn engines_needed(&self, bay: &BayRef) -> Result<usize, DriverError> {
        let needed = bay.node_count as usize;
        if needed == 0 {
            return Err(DriverError::Invalid(
                "a swarm bay needs at least 1 Docker engine".to_owned(),
            ));
        }
        if needed > self.pool.len() {
            return Err(DriverError::Invalid(format!(
                "bay needs {needed} Docker engines but the pool has {}",
                self.pool.len()
            )));
        }
        Ok(needed)
    }

    /// Places the bay on `needed` more pool entries, skipping those named in `exclude`.
    async fn place(
        &self,
        bay: &BayRef,
        needed: usize,
        exclude: &HashSet<&str>,
    ) -> Result<Vec<Placement>, DriverError> {
        let pool: Vec<&Arc<Engine>> = self
            .pool
            .iter()
            .filter(|engine| !exclude.contains(engine.name()))
            .collect();
        let surveys: Vec<Result<EngineSurvey, DriverError>> =
            join_all(pool.iter().map(|engine| engine.survey(bay.uuid))).await;
        let placed_before: HashSet<&str> = surveys
            .iter()
            .flatten()
            .flat_map(|survey| survey.bay_placed_through.iter().map(String::as_str))
            .collect();
        let candidates: Vec<Candidate> = surveys
            .iter()
            .enumerate()
            .filter_map(|(pool_index, survey)| {
                let survey = survey.as_ref().ok()?;
                Some(Candidate {
                    pool_index,
                    holds_bay: placed_before.contains(pool[pool_index].name()),
                    other_bays: survey.other_bays,
                })
            })
            .collect();
        let Some(chosen) = placement::choose(&candidates, needed) else {
            let reasons: Vec<&str> = surveys
                .iter()
                .filter_map(|survey| survey.as_ref().err().map(DriverError::message))
                .collect();
            // Entries the bay already uses were not contacted; they count as reachable.
            return Err(DriverError::Unavailable(format!(
                "bay needs {} Docker engines but only {} are reachable: {}",
                needed + exclude.len(),
                candidates.len() + exclude.len(),
                reasons.join("; ")
            )));
        };
        let mut placements = Vec::with_capacity(chosen.len());
        for pool_index in chosen {
            let engine = pool[pool_index];
            let network = engine.ensure_bay_network(bay.uuid, &bay.project_id).await?;
            placements.push(Placement {
                address: engine
                    .configured_address()
                    .or(network.gateway)
                    .unwrap_or_default(),
                engine: PlacedEngine {
                    name: engine.name().to_owned(),
                    url: engine.config.url.clone(),
                    network_id: network.id,
                    network_name: network.name,
                },
            });
        }
        Ok(placements)
    }
}

/// What bay-svc stores: the first placement is the master, every placement a worker.
fn provisioned(placements: Vec<Placement>) -> Provisioned {
    let mut nodes: Vec<NodeInfo> = placements
        .first()
        .map(|first| NodeInfo {
            name: first.engine.name.clone(),
            address: first.address.clone(),
            role: NodeRole::Master,
        })
        .into_iter()
        .collect();
    nodes.extend(placements.iter().map(|placement| NodeInfo {
        name: placement.engine.name.clone(),
        address: placement.address.clone(),
        role: NodeRole::Worker,
    }));
    let state = SwarmBayState {
        engines: placements
            .into_iter()
            .map(|placement| placement.engine)
            .collect(),
    };
    Provisioned {
        api_address: state.engines.first().map(|engine| engine.url.clone()),
        nodes,
        state: state.to_value(),
        credential: None,
    }
}

/// Several failures as one error, of the first failure's kind.
fn combine(errors: Vec<DriverError>) -> Result<(), DriverError> {
    let Some(first) = errors.first() else {
        return Ok(());
    };
    let message = errors
        .iter()
        .map(DriverError::message)
        .collect::<Vec<_>>()
        .join("; ");
    Err(match first {
        DriverError::Invalid(_) => DriverError::Invalid(message),
        DriverError::Unavailable(_) => DriverError::Unavailable(message),
        DriverError::Failed(_) => DriverError::Failed(message),
    })
}

#[async_trait::async_trait]
impl BayDriver for SwarmDriver {
    fn coe(&self) -> &'static str {
        "swarm"
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn create(&self, bay: &BayRef) -> Result<Provisioned, DriverError> {
        let needed = self.engines_needed(bay)?;
        let placements = self.place(bay, needed, &HashSet::new()).await?;
        Ok(provisioned(placements))
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn resize(
        &self,
        bay: &BayRef,
        current: &Provisioned,
    ) -> Result<Provisioned, DriverError> {
        let needed = self.engines_needed(bay)?;
        let state = SwarmBayState::from_provisioned(current)?;
        let mut placements: Vec<Placement> = state
            .engines
            .iter()
            .map(|engine| Placement {
                address: current
                    .nodes
                    .iter()
                    .find(|node| node.role == NodeRole::Worker && node.name == engine.name)
                    .map(|node| node.address.clone())
                    .unwrap_or_default(),
                engine: engine.clone(),
            })
            .collect();
        if needed > placements.len() {
            let used: HashSet<&str> = state.engines.iter().map(|e| e.name.as_str()).collect();
            let added = self.place(bay, needed - placements.len(), &used).await?;
            placements.extend(added);
        } else if needed < placements.len() {
            let removed = placements.split_off(needed);
            for placement in removed.iter().rev() {
                let placed = &placement.engine;
                // Entries naming the same engine share its network: keep it while one stays.
                if placements
                    .iter()
                    .any(|kept| kept.engine.network_id == placed.network_id)
                {
                    continue;
                }
                let engine = self.engine_of(placed);
                engine
                    .remove_bay_containers(bay.uuid, Some(&placed.network_id))
                    .await?;
                engine.remove_network(&placed.network_id).await?;
                tracing::info!(engine = %placed.name, "removed bay network");
            }
        }
        Ok(provisioned(placements))
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn delete(&self, bay: &BayRef, current: Option<&Provisioned>) -> Result<(), DriverError> {
        let state = match current {
            Some(current) if !current.state.is_null() => {
                match SwarmBayState::from_provisioned(current) {
                    Ok(state) => state,
                    Err(err) => {
                        // Still sweep the pool: that finds the bay's resources by label.
                        tracing::warn!(error = %err, "ignoring the bay's unreadable state");
                        SwarmBayState::default()
                    }
                }
            }
            _ => SwarmBayState::default(),
        };
        let mut errors = Vec::new();
        let mut swept = HashSet::new();
        for placed in &state.engines {
            if !swept.insert(placed.name.as_str()) {
                continue;
            }
            if let Err(err) = self.engine_of(placed).purge_bay(bay.uuid).await {
                errors.push(err);
            }
        }
        // Also every other pool entry: a bay that never finished creating may have left
        // networks there that no state records.
        for engine in self.pool.iter().filter(|e| !swept.contains(e.name())) {
            match engine.purge_bay(bay.uuid).await {
                Ok(()) => {}
                Err(DriverError::Unavailable(reason)) => {
                    tracing::warn!(engine = %engine.name(), %reason, "skipping unreachable engine");
                }
                Err(err) => errors.push(err),
            }
        }
        combine(errors)
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn health(&self, bay: &BayRef, current: &Provisioned) -> Result<Health, DriverError> {
        let state = SwarmBayState::from_provisioned(current)?;
        let checks = state.engines.iter().map(|placed| async move {
            let engine = self.engine_of(placed);
            let problem = match engine.ping().await {
                Err(err) => Some(err.message().to_owned()),
                Ok(()) => match engine.has_bay_network(bay.uuid, &placed.network_id).await {
                    Ok(true) => None,
                    Ok(false) => Some(format!(
                        "network {} is missing on {}",
                        placed.network_name, placed.name
                    )),
                    Err(err) => Some(err.message().to_owned()),
                },
            };
            NodeHealth {
                name: placed.name.clone(),
                healthy: problem.is_none(),
                reason: problem,
            }
        });
        Ok(Health {
            nodes: join_all(checks).await,
        })
    }
}

#[cfg(test)]
#[path = "driver_test.rs"]
mod tests;
