//! The transactional outbox: a service writes its state change and the message in one
//! database transaction ([`enqueue`]), and a [`Relay`] publishes the committed rows to
//! the bus and then deletes them. So a message is published if and only if its
//! transaction committed, whatever crashes in between.
//!
//! Delivery is at least once from the relay's side (a relay that dies after the publish
//! ack but before the delete publishes the row again later) and exactly once in the
//! stream, because the row id is the message's deduplication id.
//!
//! Using it from a service:
//!
//! 1. put [`Migration`] in the service's migrator list;
//! 2. call [`enqueue`] inside the transaction that changes the state;
//! 3. run one [`Relay`] per process (`Relay::new(db, bus).spawn(shutdown)`), and call
//!    `notifier().notify_one()` after a commit to publish at once instead of at the next poll.
//!
//! The fail point `outbox-relay-before-publish` (live with the `failpoints` feature) is
//! evaluated before each row's publish; a `panic` there ends the relay task like a killed
//! process (its `JoinHandle` reports the panic), leaving the unpublished rows for another relay.
//!
//! Several replicas may share one Postgres outbox: each relay locks its batch with
//! `SELECT … FOR UPDATE`, so no row is published twice at the same time, and a relay that
//! meets another's batch waits for it rather than skipping ahead: rows go out in
//! `(created_at, id)` order across replicas too (a bay's CREATE_COMPLETE never overtakes
//! its CREATE_IN_PROGRESS). SQLite (the embedded, single-process mode) has no row
//! locks and needs none; there the relay reads and deletes without holding a transaction,
//! so a slow publish never blocks the service's writers.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use magnum_common::Shutdown;
use magnum_common::error::ErrorChain;
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    DeriveIden, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    TransactionTrait,
};
use sea_orm_migration::schema::{blob, string, text, timestamp_with_time_zone};
use sea_orm_migration::sea_query::{Index, Table};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, error, warn};

use crate::{Bus, BusError, Message, inject_trace_context, subject};

/// The `outbox` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One message waiting to be published.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// The message id, also its deduplication id on the bus.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Unprefixed subject.
        pub subject: String,
        /// The payload bytes.
        #[sea_orm(column_type = "Blob")]
        pub payload: Vec<u8>,
        /// The headers as a JSON object of strings.
        #[sea_orm(column_type = "Text")]
        pub headers: String,
        /// When it was enqueued; the relay publishes in `(created_at, id)` order.
        pub created_at: DateTimeUtc,
    }

    /// The outbox has no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Subject,
    Payload,
    Headers,
    CreatedAt,
}

/// Creates the `outbox` table; add it to the service's migrator.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_create_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(string(Outbox::Id).primary_key())
                    .col(string(Outbox::Subject))
                    .col(blob(Outbox::Payload))
                    .col(text(Outbox::Headers))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_outbox_created_at_id")
                    .table(Outbox::Table)
                    .col(Outbox::CreatedAt)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).if_exists().to_owned())
            .await
    }
}

/// Writes `message` to the outbox on `conn`: call it with the transaction that makes the
/// state change, so the message exists exactly when the change does. Adds the current
/// trace context unless the message has a `traceparent`. The subject, id and headers are
/// checked here, so a row the bus would refuse never gets in.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, mut message: Message) -> Result<(), BusError> {
    subject::validate_message(&message)?;
    inject_trace_context(&mut message.headers);
    let headers = serde_json::to_string(&message.headers)
        .map_err(|e| BusError::InvalidMessage(format!("headers: {e}")))?;
    let id = message.id.clone();
    let row = entity::ActiveModel {
        id: Set(message.id),
        subject: Set(message.subject),
        payload: Set(message.payload.to_vec()),
        headers: Set(headers),
        created_at: Set(Utc::now()),
    };
    entity::Entity::insert(row)
        .exec_without_returning(conn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => BusError::DuplicateId(id),
            _ => BusError::database("insert an outbox row", e),
        })?;
    Ok(())
}

/// Publishes committed outbox rows, oldest first, and deletes each after its publish ack.
pub struct Relay {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    notify: Arc<Notify>,
    poll_interval: Duration,
    batch_size: u64,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("poll_interval", &self.poll_interval)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// How often an idle relay refreshes `magnum_outbox_pending_messages`.
const DEPTH_INTERVAL: Duration = Duration::from_secs(5);
/// First retry delay after a failure; it doubles up to `MAX_BACKOFF`.
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Relay {
    /// A relay polling every 200 ms, 64 rows per batch.
    pub fn new(db: DatabaseConnection, bus: Arc<dyn Bus>) -> Self {
        Self {
            db,
            bus,
            notify: Arc::new(Notify::new()),
            poll_interval: Duration::from_millis(200),
            batch_size: 64,
        }
    }

    /// How often to look for rows when nobody calls the notifier.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Rows per database round trip (and per Postgres transaction).
    pub fn with_batch_size(mut self, rows: u64) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// Wakes the relay: call `notify_one()` on it after committing an `enqueue` (a wake-up
    /// that arrives while the relay is busy is kept, not lost).
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.notify)
    }

    /// Publishes everything pending now; returns how many rows went out. On an error the
    /// rows published before it are deleted and the rest stay for the next run.
    ///
    /// A panic at the `outbox-relay-before-publish` fail point goes through to the caller.
    pub async fn run_once(&self) -> Result<usize, BusError> {
        self.run_once_or_killed().await.map_err(|stop| match stop {
            Stop::Failed(error) => error,
            Stop::Killed(panic) => std::panic::resume_unwind(panic),
        })
    }

    async fn run_once_or_killed(&self) -> Result<usize, Stop> {
        let mut total = 0;
        loop {
            let (rows, published) = self.batch().await?;
            total += published;
            if u64::try_from(rows).unwrap_or(u64::MAX) < self.batch_size {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown`: woken by the notifier or the poll interval; failures are
    /// logged and retried with backoff (a panic in the bus too), so the task never dies
    /// early, except by the `outbox-relay-before-publish` fail point's panic, which stands
    /// for the process being killed and so ends the task with that panic.
    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        tokio::spawn(async move { self.run(shutdown).await })
    }

    async fn run(self, shutdown: Shutdown) {
        let mut failures: u32 = 0;
        // The depth gauge is a COUNT: taken when a pass changed or failed to change the
        // outbox, and otherwise at most every DEPTH_INTERVAL, not on every idle poll.
        let mut depth_taken: Option<std::time::Instant> = None;
        loop {
            let outcome = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                // Cancelling mid-batch is safe: the transaction rolls back and the rows
                // are published again later, deduplicated by id.
                outcome = AssertUnwindSafe(self.run_once_or_killed()).catch_unwind() => outcome,
            };
            let outcome = match outcome {
                Ok(Err(Stop::Killed(panic))) => std::panic::resume_unwind(panic),
                Ok(Err(Stop::Failed(error))) => Ok(Err(error)),
                Ok(Ok(published)) => Ok(Ok(published)),
                Err(panic) => Err(panic),
            };
            match outcome {
                Ok(Ok(published)) => {
                    if published > 0 {
                        debug!(published, "outbox rows published");
                        metrics::counter!("magnum_outbox_published_messages_total")
                            .increment(u64::try_from(published).unwrap_or(u64::MAX));
                    }
                    failures = 0;
                    let due = depth_taken.is_none_or(|taken| taken.elapsed() >= DEPTH_INTERVAL);
                    if published > 0 || due {
                        self.record_depth().await;
                        depth_taken = Some(std::time::Instant::now());
                    }
                }
                Ok(Err(error)) => {
                    failures = failures.saturating_add(1);
                    warn!(error = %ErrorChain(&error), failures, "outbox relay failed; retrying");
                    // A backlog matters most while the bus refuses it.
                    self.record_depth().await;
                    depth_taken = Some(std::time::Instant::now());
                }
                Err(_) => {
                    failures = failures.saturating_add(1);
                    error!(failures, "outbox relay panicked; retrying");
                }
            }
            let wait = if failures == 0 {
                self.poll_interval
            } else {
                BASE_BACKOFF
                    .saturating_mul(1 << (failures - 1).min(8))
                    .min(MAX_BACKOFF)
            };
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                // While backing off, wake-ups wait: retrying sooner would not help.
                () = self.notify.notified(), if failures == 0 => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        debug!("outbox relay stopped");
    }

    /// `magnum_outbox_pending_messages`: rows still waiting (new ones since the pass).
    async fn record_depth(&self) {
        match entity::Entity::find().count(&self.db).await {
            Ok(pending) => metrics::gauge!("magnum_outbox_pending_messages").set(pending as f64),
            Err(error) => debug!(%error, "cannot count the outbox"),
        }
    }

    /// One batch: returns (rows read, rows published).
    async fn batch(&self) -> Result<(usize, usize), Stop> {
        let query = entity::Entity::find()
            .order_by_asc(entity::Column::CreatedAt)
            .order_by_asc(entity::Column::Id)
            .limit(self.batch_size);
        if self.db.get_database_backend() == DbBackend::Postgres {
            let txn = self
                .db
                .begin()
                .await
                .map_err(|e| BusError::database("begin a transaction", e))?;
            let rows = query
                .lock(LockType::Update)
                .all(&txn)
                .await
                .map_err(|e| BusError::database("read the outbox", e))?;
            let count = rows.len();
            let result = self.publish_rows(&txn, rows).await;
            // Commit after a failure too: it deletes the rows published before it.
            let committed = txn
                .commit()
                .await
                .map_err(|e| BusError::database("commit outbox deletes", e));
            let published = result?;
            committed?;
            Ok((count, published))
        } else {
            let rows = query
                .all(&self.db)
                .await
                .map_err(|e| BusError::database("read the outbox", e))?;
            let count = rows.len();
            Ok((count, self.publish_rows(&self.db, rows).await?))
        }
    }

    async fn publish_rows<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<entity::Model>,
    ) -> Result<usize, Stop> {
        let mut published = 0;
        for row in rows {
            let id = row.id.clone();
            // Caught here and carried out as a value, so the relay's own panic guard (for
            // bus panics) lets it through: "killed" must end the task, not be retried.
            std::panic::catch_unwind(|| fail::fail_point!("outbox-relay-before-publish"))
                .map_err(Stop::Killed)?;
            let (message, span) = traced(row_message(row));
            match self.bus.publish(message).instrument(span).await {
                Ok(()) => published += 1,
                // Only a hand-edited row gets here (enqueue checks what the bus checks);
                // keeping it would block every row behind it forever.
                Err(error) if error.is_permanent() => {
                    error!(%id, error = %ErrorChain(&error), "dropping an outbox row the bus refuses");
                }
                Err(error) => return Err(error.into()),
            }
            entity::Entity::delete_many()
                .filter(entity::Column::Id.eq(id))
                .exec(conn)
                .await
                .map_err(|e| BusError::database("delete a published outbox row", e))?;
        }
        Ok(published)
    }
}

/// Why a batch stopped early.
enum Stop {
    Failed(BusError),
    /// The fail point panicked, with this payload: the "process" is dead.
    Killed(Box<dyn Any + Send>),
}

impl From<BusError> for Stop {
    fn from(error: BusError) -> Self {
        Self::Failed(error)
    }
}

/// The message in an `outbox_publish` span, a child of the trace the row was written in;
/// the message then carries this span's context, so its consumer continues from here.
fn traced(mut message: Message) -> (Message, tracing::Span) {
    let span = tracing::info_span!("outbox_publish", subject = %message.subject, id = %message.id);
    magnum_telemetry::set_parent_from_map(&span, &message.headers);
    let mut continued = BTreeMap::new();
    span.in_scope(|| magnum_telemetry::inject_into_map(&mut continued));
    // Without a tracing subscriber the span has no context: the row's own stays.
    if continued.contains_key(crate::TRACEPARENT) {
        message.headers.remove("tracestate");
        message.headers.extend(continued);
    }
    (message, span)
}

fn row_message(row: entity::Model) -> Message {
    let headers =
        serde_json::from_str::<BTreeMap<String, String>>(&row.headers).unwrap_or_else(|error| {
            warn!(id = %row.id, %error, "outbox row has unreadable headers; sending none");
            BTreeMap::new()
        });
    Message {
        subject: row.subject,
        payload: row.payload.into(),
        headers,
        id: row.id,
    }
}
