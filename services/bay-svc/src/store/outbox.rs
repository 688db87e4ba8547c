//! Messages on their way to the bus: encoded as protobuf and written to the outbox in the
//! caller's transaction (the relay publishes them once committed).

use magnum_bus::Message;
use magnum_proto::events::v1::{BayDeleted, BayModelChanged, BayOperation, BayStatusChanged};
use prost::Message as _;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use tokio::sync::Notify;

use super::repository::db_error;

use crate::domain::bay::Operation;
use crate::domain::event::{BayDeletedEvent, BayModelEvent, BayStatusEvent};
use crate::error::{Error, Result};

/// Baymodel events go to `magnum.events.baymodel.<created|updated|deleted>`.
const BAYMODEL_EVENTS_SUBJECT_PREFIX: &str = "magnum.events.baymodel.";

/// Bay status changes (every transition, creation included).
pub const BAY_STATUS_SUBJECT: &str = "magnum.events.bay.status";

/// A bay is gone.
pub const BAY_DELETED_SUBJECT: &str = "magnum.events.bay.deleted";

/// Bay operations go to `magnum.ops.bay.<create|update|delete>`, the work queue bay-svc's
/// workers consume.
pub const BAY_OPERATIONS_FILTER: &str = "magnum.ops.bay.>";
const BAY_OPERATIONS_SUBJECT_PREFIX: &str = "magnum.ops.bay.";

/// The request id travels in this header, as in gRPC metadata.
const REQUEST_ID_HEADER: &str = "x-openstack-request-id";

/// Commits transactions that wrote to the outbox, then wakes the relay so the messages go
/// out at once rather than at its next poll. Shared by every repository of the service.
#[derive(Clone, Default)]
pub(super) struct RelayWake(Option<Arc<Notify>>);

impl RelayWake {
    pub(super) fn new(notifier: Arc<Notify>) -> Self {
        Self(Some(notifier))
    }

    pub(super) async fn commit(&self, txn: DatabaseTransaction) -> Result<()> {
        txn.commit().await.map_err(db_error)?;
        if let Some(notifier) = &self.0 {
            notifier.notify_one();
        }
        Ok(())
    }
}

async fn enqueue<C: ConnectionTrait>(txn: &C, message: Message) -> Result<()> {
    magnum_bus::outbox::enqueue(txn, message)
        .await
        .map_err(|error| Error::EventNotRecorded(Box::new(error)))
}

/// Writes `event` to the outbox through `txn`, the transaction of the change it reports.
pub(super) async fn enqueue_baymodel_event<C: ConnectionTrait>(
    txn: &C,
    event: &BayModelEvent,
) -> Result<()> {
    let payload = BayModelChanged::from(event).encode_to_vec();
    let subject = format!("{BAYMODEL_EVENTS_SUBJECT_PREFIX}{}", event.change.name());
    let message = Message::new(subject, payload)
        .with_id(event.id.to_string())
        .with_header(REQUEST_ID_HEADER, event.actor.request_id.clone());
    enqueue(txn, message).await
}

/// Writes the operation's work message; its id is the operation's, so the bus drops a
/// republished copy.
pub(super) async fn enqueue_operation<C: ConnectionTrait>(
    txn: &C,
    operation: &Operation,
) -> Result<()> {
    let payload = BayOperation::from(operation).encode_to_vec();
    let subject = format!("{BAY_OPERATIONS_SUBJECT_PREFIX}{}", operation.kind.as_str());
    let message = Message::new(subject, payload)
        .with_id(operation.id.to_string())
        .with_header(REQUEST_ID_HEADER, operation.actor.request_id.clone());
    enqueue(txn, message).await
}

pub(super) async fn enqueue_bay_status<C: ConnectionTrait>(
    txn: &C,
    event: &BayStatusEvent,
) -> Result<()> {
    let payload = BayStatusChanged::from(event).encode_to_vec();
    let message = Message::new(BAY_STATUS_SUBJECT, payload).with_id(event.id.to_string());
    enqueue(txn, message).await
}

pub(super) async fn enqueue_bay_deleted<C: ConnectionTrait>(
    txn: &C,
    event: &BayDeletedEvent,
) -> Result<()> {
    let payload = BayDeleted::from(event).encode_to_vec();
    let message = Message::new(BAY_DELETED_SUBJECT, payload).with_id(event.id.to_string());
    enqueue(txn, message).await
}
