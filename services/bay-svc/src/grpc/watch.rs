//! `WatchBays`: the caller's bays as they are, then every change, from the events bus.
//!
//! The feed subscribes before it reads the current bays, so no change falls in between
//! (a change may show twice, which a watcher tolerates: every item is the whole bay).
//! Each event is re-read through the use cases, so a watcher only ever sees bays it may
//! see, as they are when the event arrives.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use futures::{Stream, StreamExt as _};
use magnum_bus::Bus;
use magnum_common::{RequestContext, Scope};
use magnum_proto::bay::v1 as pb;
use magnum_proto::events::v1::{BayDeleted, BayStatusChanged};
use prost::Message as _;
use tonic::Status;

use crate::app::{Bays, ListQuery};
use crate::domain::bay::BayStatus;
use crate::store::{BAY_DELETED_SUBJECT, BAY_STATUS_SUBJECT};

/// The items of a watch.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::BayChange, Status>> + Send>>;

/// Starts watches over `bus`; every watch ends when `shutdown` is cancelled, so a
/// stopping server's graceful drain is not held open by its watchers (they reconnect to
/// another replica).
#[derive(Clone)]
pub struct BayWatch {
    bus: Arc<dyn Bus>,
    shutdown: magnum_common::Shutdown,
}

impl BayWatch {
    pub fn new(bus: Arc<dyn Bus>, shutdown: magnum_common::Shutdown) -> Self {
        Self { bus, shutdown }
    }

    /// One bay (`ident` set) or all the caller's bays.
    pub async fn start(
        &self,
        bays: &Bays,
        ctx: RequestContext,
        ident: String,
    ) -> Result<WatchStream, Status> {
        let events = self
            .bus
            .subscribe("magnum.events.bay.>")
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot subscribe to bay events");
                Status::unavailable("bay events are unavailable, try again later")
            })?;
        let mut existing = Vec::new();
        let only = if ident.is_empty() {
            let mut query = ListQuery::default();
            loop {
                let page = bays.list(&ctx, query.clone()).await?;
                existing.extend(page.items);
                match page.next_marker {
                    Some(marker) => query.page_token = marker.to_string(),
                    None => break,
                }
            }
            None
        } else {
            let bay = bays.get(&ctx, &ident).await?;
            let uuid = bay.uuid;
            existing.push(bay);
            Some(uuid)
        };
        // The last state sent of each bay: a deleted bay's item carries it.
        let last = Arc::new(Mutex::new(HashMap::<String, pb::Bay>::new()));
        let sent = Arc::clone(&last);
        let snapshot = futures::stream::iter(existing).map(move |bay| {
            let bay = pb::Bay::from(&bay);
            remember(&sent, &bay);
            Ok(pb::BayChange {
                kind: pb::bay_change::Kind::Existing.into(),
                bay: Some(bay),
            })
        });
        let bays = bays.clone();
        let changes = events.filter_map(move |message| {
            let bays = bays.clone();
            let ctx = ctx.clone();
            let last = Arc::clone(&last);
            async move {
                let message = match message {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::warn!(%error, "bay watch lost events");
                        return None;
                    }
                };
                let item = change(&bays, &ctx, only, &message.subject, &message.payload).await;
                if let Some(Ok(pb::BayChange {
                    kind,
                    bay: Some(bay),
                })) = &item
                {
                    if *kind == i32::from(pb::bay_change::Kind::Deleted) {
                        return item.map(|item| item.map(|change| last_state(&last, change)));
                    }
                    remember(&last, bay);
                }
                item
            }
        });
        let stopping = self.shutdown.clone().cancelled_owned();
        Ok(Box::pin(snapshot.chain(changes).take_until(stopping)))
    }
}

fn remember(last: &Mutex<HashMap<String, pb::Bay>>, bay: &pb::Bay) {
    last.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(bay.uuid.clone(), bay.clone());
}

/// A deletion's item with the bay's last state, when this watch has sent it before.
fn last_state(last: &Mutex<HashMap<String, pb::Bay>>, mut change: pb::BayChange) -> pb::BayChange {
    let Some(gone) = change.bay.as_ref() else {
        return change;
    };
    let known = last
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&gone.uuid);
    if let Some(mut bay) = known {
        bay.status = pb::BayStatus::DeleteComplete.into();
        bay.status_reason = None;
        change.bay = Some(bay);
    }
    change
}

/// The watch item for one event, if the caller may see it.
async fn change(
    bays: &Bays,
    ctx: &RequestContext,
    only: Option<uuid::Uuid>,
    subject: &str,
    payload: &[u8],
) -> Option<Result<pb::BayChange, Status>> {
    let wanted = |uuid: &str| only.is_none_or(|only| only.to_string() == uuid);
    if subject.ends_with(BAY_STATUS_SUBJECT) {
        let event = BayStatusChanged::decode(payload).ok()?;
        if !wanted(&event.bay_uuid) {
            return None;
        }
        // Not found: another project's bay, or gone since (its deleted event follows).
        let bay = bays.get(ctx, &event.bay_uuid).await.ok()?;
        let kind = if event.status == BayStatus::CreateInProgress.as_str() {
            pb::bay_change::Kind::Created
        } else {
            pb::bay_change::Kind::Updated
        };
        Some(Ok(pb::BayChange {
            kind: kind.into(),
            bay: Some((&bay).into()),
        }))
    } else if subject.ends_with(BAY_DELETED_SUBJECT) {
        let event = BayDeleted::decode(payload).ok()?;
        let visible = match ctx.object_scope() {
            Scope::AllProjects => true,
            Scope::Project(project) => project == event.project_id,
        };
        if !visible || !wanted(&event.bay_uuid) {
            return None;
        }
        Some(Ok(pb::BayChange {
            kind: pb::bay_change::Kind::Deleted.into(),
            bay: Some(pb::Bay {
                uuid: event.bay_uuid,
                project_id: event.project_id,
                status: pb::BayStatus::DeleteComplete.into(),
                ..Default::default()
            }),
        }))
    } else {
        None
    }
}
