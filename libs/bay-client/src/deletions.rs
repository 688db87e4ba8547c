//! Bay deletions from the bus, for services that keep things of a bay: when bay-svc has
//! deleted a bay (its driver removed what the bay held), they forget their records of it.

use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use magnum_bus::{Bus, ConsumerSpec};
use magnum_proto::events::v1::BayDeleted;
use prost::Message as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Where bay-svc publishes deletions.
pub const BAY_DELETED_SUBJECT: &str = "magnum.events.bay.deleted";

/// Consumes bay deletions with the durable consumer `durable` (shared by a service's
/// replicas) until `stop`, calling `forget` with each deleted bay's uuid; a failure is
/// retried after 5 s.
pub async fn consume<F, Fut, E>(
    bus: Arc<dyn Bus>,
    durable: &str,
    stop: CancellationToken,
    forget: F,
) where
    F: Fn(Uuid) -> Fut,
    Fut: Future<Output = Result<u64, E>>,
    E: Display,
{
    let mut subscription = loop {
        let spec = ConsumerSpec::new(durable, BAY_DELETED_SUBJECT);
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
            () = stop.cancelled() => {
                // A deletion already on its way to this replica goes to another at once.
                subscription.release(magnum_bus::PULL_EXPIRY).await;
                return;
            }
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
        match forget(bay).await {
            Ok(_) => {
                if let Err(error) = delivery.ack().await {
                    tracing::warn!(%error, "cannot ack a bay deletion");
                }
            }
            Err(error) => {
                tracing::warn!(%error, %bay, "cannot forget a deleted bay's records");
                let _ = delivery.nak(Some(Duration::from_secs(5))).await;
            }
        }
    }
}
