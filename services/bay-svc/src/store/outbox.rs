//! Events on their way to the bus: encoded as protobuf and written to the outbox in the
//! caller's transaction (the relay publishes them once committed).

use magnum_bus::Message;
use magnum_proto::events::v1::BayModelChanged;
use prost::Message as _;
use sea_orm::ConnectionTrait;

use crate::domain::event::BayModelEvent;
use crate::error::{Error, Result};

/// Baymodel events go to `magnum.events.baymodel.<created|updated|deleted>`.
const BAYMODEL_EVENTS_SUBJECT_PREFIX: &str = "magnum.events.baymodel.";

/// The request id travels in this header, as in gRPC metadata.
const REQUEST_ID_HEADER: &str = "x-openstack-request-id";

/// Writes `event` to the outbox through `txn`, the transaction of the change it reports.
pub(super) async fn enqueue<C: ConnectionTrait>(txn: &C, event: &BayModelEvent) -> Result<()> {
    let payload = BayModelChanged::from(event).encode_to_vec();
    let subject = format!("{BAYMODEL_EVENTS_SUBJECT_PREFIX}{}", event.change.name());
    let message = Message::new(subject, payload)
        .with_id(event.id.to_string())
        .with_header(REQUEST_ID_HEADER, event.actor.request_id.clone());
    magnum_bus::outbox::enqueue(txn, message)
        .await
        .map_err(|error| Error::EventNotRecorded(Box::new(error)))
}
