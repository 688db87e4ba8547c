//! Bay deletions from the bus: a deleted bay's container records go with it (the swarm
//! driver already removed its Docker containers).

use std::sync::Arc;
use std::time::Duration;

use magnum_bus::{Bus, ConsumerSpec};
use magnum_proto::events::v1::BayDeleted;
use prost::Message as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::Containers;

/// The durable consumer's name (shared by replicas).
pub const DURABLE: &str = "container-svc";
/// Where bay-svc publishes deletions.
pub const BAY_DELETED_SUBJECT: &str = "magnum.events.bay.deleted";

/// Consumes bay deletions until `stop`.
pub async fn run_bay_deletions(bus: Arc<dyn Bus>, containers: Containers, stop: CancellationToken) {
    let mut subscription = loop {
        let spec = ConsumerSpec::new(DURABLE, BAY_DELETED_SUBJECT);
        tokio::select! {
            () = stop.cancelled() => return,
            opened = bus.consume(spec) => match opened {
                Ok(subscription) => break subscription,
                Err(error) => {
                    tracing::warn!(%error, "cannot consume bay deletions yet");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            },
        }
    };
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => return,
            next = subscription.next() => next,
        };
        let delivery = match next {
            None => return,
            Some(Err(error)) => {
                tracing::warn!(%error, "bay deletions feed");
                continue;
            }
            Some(Ok(delivery)) => delivery,
        };
        let bay = BayDeleted::decode(delivery.message.payload.clone())
            .ok()
            .and_then(|event| Uuid::parse_str(&event.bay_uuid).ok());
        let Some(bay) = bay else {
            tracing::warn!("dropping an undecodable bay deletion");
            let _ = delivery.ack().await;
            continue;
        };
        match containers.bay_deleted(bay).await {
            Ok(_) => {
                if let Err(error) = delivery.ack().await {
                    tracing::warn!(%error, "cannot ack a bay deletion");
                }
            }
            Err(error) => {
                tracing::warn!(%error, %bay, "cannot forget a deleted bay's containers");
                let _ = delivery.nak(Some(Duration::from_secs(5))).await;
            }
        }
    }
}
