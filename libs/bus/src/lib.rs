//! The message bus (design §3): a small object-safe [`Bus`] trait with a NATS JetStream
//! implementation for production and an in-process one for the embedded single-process
//! mode, plus the transactional [`outbox`] and its relay.
//!
//! # Streams and subjects
//!
//! | subjects          | stream          | retention                                    |
//! |-------------------|-----------------|----------------------------------------------|
//! | `magnum.ops.>`    | `MAGNUM_OPS`    | work queue: a message is gone once acked     |
//! | `magnum.events.>` | `MAGNUM_EVENTS` | limits: kept 7 days, every durable sees all  |
//!
//! Publishing to any other subject is an [`BusError::InvalidSubject`]. Message ids
//! deduplicate within [`DUPLICATE_WINDOW`] (JetStream `Nats-Msg-Id`).
//!
//! # Consumers
//!
//! A [`ConsumerSpec`] names a durable pull consumer. Replicas that use the same durable
//! name share its messages (each goes to one of them); different durables each get every
//! message their filter matches. A new durable starts at the beginning of the stream
//! (JetStream `DeliverPolicy::All`), in both implementations.
//!
//! # Watches
//!
//! [`Bus::subscribe`] is the other way to read, for server-streaming APIs (a gRPC
//! `Watch`): an ephemeral, unacknowledged, in-order feed of the events published after the
//! call. Every watcher gets every matching event (fan-out), nothing is persisted for it,
//! and it may miss events in rare cases (see the method). Operations cannot be watched.
//!
//! **Work-queue rule**: on `MAGNUM_OPS` no two durables may have overlapping filters
//! (JetStream refuses it, and the in-process bus does too). Give each service its own
//! subtree: the bay service consumes `magnum.ops.bay.>` with durable `bay`, the k8s
//! service `magnum.ops.k8s.>` with durable `k8s`, and so on. Events have no such rule.
//!
//! # Test isolation
//!
//! `BusConfig::prefix` (e.g. `t_abc`) turns stream names into `T_ABC_MAGNUM_OPS` and wire
//! subjects into `t_abc.magnum.ops.…`. Callers never see it: [`Message::subject`] is
//! always the unprefixed subject.
//!
//! # Using it from a service
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use magnum_bus::{BusConfig, ConsumerSpec, Message, outbox};
//! use sea_orm::TransactionTrait;
//! use sea_orm_migration::{MigrationTrait, MigratorTrait};
//!
//! struct Migrator;
//!
//! impl MigratorTrait for Migrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         // The outbox next to the service's own migrations.
//!         vec![Box::new(outbox::Migration)]
//!     }
//! }
//!
//! async fn run(
//!     db: sea_orm::DatabaseConnection,
//!     config: BusConfig,
//!     shutdown: magnum_common::Shutdown,
//! ) -> Result<(), Box<dyn std::error::Error>> {
//!     Migrator::up(&db, None).await?;
//!     let bus = magnum_bus::connect(&config).await?;
//!     let relay = outbox::Relay::new(db.clone(), bus.clone());
//!     let wake_relay = relay.notifier();
//!     let _relay = relay.spawn(shutdown.clone());
//!
//!     // A request handler: the state change and the operation message commit together.
//!     let txn = db.begin().await?;
//!     // ... insert the bay row (status CREATE_IN_PROGRESS) with `&txn` ...
//!     let op = Message::new("magnum.ops.bay.create", b"protobuf".to_vec()).with_id("op-uuid");
//!     outbox::enqueue(&txn, op).await?;
//!     txn.commit().await?;
//!     wake_relay.notify_one();
//!
//!     // The worker: one durable per service, its own subtree of magnum.ops.
//!     let spec = ConsumerSpec {
//!         ack_wait: Duration::from_secs(60),
//!         max_deliver: 6,
//!         backoff: vec![Duration::from_secs(5), Duration::from_secs(30), Duration::from_secs(120)],
//!         ..ConsumerSpec::new("bay", "magnum.ops.bay.>")
//!     };
//!     let mut operations = bus.consume(spec).await?;
//!     loop {
//!         let delivery = tokio::select! {
//!             () = shutdown.cancelled() => break,
//!             next = operations.next() => match next {
//!                 Some(Ok(delivery)) => delivery,
//!                 Some(Err(error)) => { tracing::warn!(%error, "bus"); continue }
//!                 None => break,
//!             },
//!         };
//!         // ... handle it idempotently, calling delivery.progress() while it runs ...
//!         delivery.ack().await?;
//!     }
//!     Ok(())
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

mod error;
pub mod in_process;
pub mod jetstream;
pub mod outbox;
pub mod presence;
mod subject;

pub use error::{BoxError, BusError};
pub use in_process::InProcessBus;
pub use jetstream::{JetStreamBus, PULL_EXPIRY};
pub use subject::{DUPLICATE_WINDOW, EVENTS_MAX_AGE};

/// The W3C trace-context header that carries a trace across the bus.
pub const TRACEPARENT: &str = "traceparent";

/// One message on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Unprefixed subject, under `magnum.ops.` or `magnum.events.`.
    pub subject: String,
    /// Opaque bytes (protobuf for events).
    pub payload: Bytes,
    /// Application headers, e.g. `traceparent`. `Nats-Msg-Id` is not one of them: see `id`.
    pub headers: BTreeMap<String, String>,
    /// The deduplication id (JetStream `Nats-Msg-Id`); for operations, the operation id.
    pub id: String,
}

impl Message {
    /// A message with no headers and a fresh time-ordered (UUIDv7) id.
    pub fn new(subject: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        Self {
            subject: subject.into(),
            payload: payload.into(),
            headers: BTreeMap::new(),
            id: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// Sets the deduplication id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

/// Adds the current trace context (`traceparent`, `tracestate`) unless the message
/// already carries one.
pub(crate) fn inject_trace_context(headers: &mut BTreeMap<String, String>) {
    if headers.contains_key(TRACEPARENT) {
        return;
    }
    let mut current = BTreeMap::new();
    magnum_telemetry::inject_into_map(&mut current);
    for (name, value) in current {
        headers.entry(name).or_insert(value);
    }
}

/// A durable pull consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// Durable name (ASCII letters, digits, `_`, `-`). Same name = shared work.
    pub durable: String,
    /// Under `magnum.ops.` or `magnum.events.`; may use `*` and a trailing `>`.
    pub filter_subject: String,
    /// How long a delivery may stay unacknowledged before it is redelivered.
    pub ack_wait: Duration,
    /// Deliveries per message, the first included; 0 or negative means unlimited.
    pub max_deliver: i64,
    /// Redelivery delays after an ack timeout, by attempt (the last step repeats); when
    /// set, they replace `ack_wait` (JetStream semantics). Needs fewer steps than `max_deliver`.
    pub backoff: Vec<Duration>,
}

impl ConsumerSpec {
    /// A spec with JetStream's defaults: `ack_wait` 30 s, unlimited deliveries, no backoff.
    pub fn new(durable: impl Into<String>, filter_subject: impl Into<String>) -> Self {
        Self {
            durable: durable.into(),
            filter_subject: filter_subject.into(),
            ack_wait: Duration::from_secs(30),
            max_deliver: -1,
            backoff: Vec::new(),
        }
    }

    /// How long delivery `attempt` (1-based) may stay unacknowledged.
    pub(crate) fn ack_timeout(&self, attempt: u64) -> Duration {
        if self.backoff.is_empty() {
            return self.ack_wait;
        }
        let step = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.backoff
            .get(step)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(self.ack_wait)
    }
}

/// What a [`Delivery`] uses to settle its message; each implementation has its own.
/// Public so services can build fake deliveries in their unit tests.
#[async_trait]
pub trait Acknowledge: Send + Sync {
    /// Done: never deliver again.
    async fn ack(&self) -> Result<(), BusError>;
    /// Not done: deliver again, now or after `delay`.
    async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError>;
    /// Still working: restart the ack timer.
    async fn progress(&self) -> Result<(), BusError>;
    /// Give up: never deliver again, without counting it as done.
    async fn term(&self) -> Result<(), BusError>;
}

/// A message handed to a consumer, to be settled once with `ack`, `nak` or `term`.
/// Dropping it unsettled means it comes back after the ack timeout.
pub struct Delivery {
    /// The message, with the unprefixed subject.
    pub message: Message,
    /// 1 on the first delivery, 2 on the first redelivery, and so on.
    pub attempt: u64,
    acker: Box<dyn Acknowledge>,
}

impl Delivery {
    /// Assembles a delivery (for implementations and test fakes).
    pub fn new(message: Message, attempt: u64, acker: Box<dyn Acknowledge>) -> Self {
        Self {
            message,
            attempt,
            acker,
        }
    }

    /// Done: the message is never delivered to this durable again (and leaves a work queue).
    pub async fn ack(&self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    /// Not done: redeliver at once, or after `delay`.
    pub async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError> {
        self.acker.nak(delay).await
    }

    /// Still working: restarts the ack timer, so long operations are not redelivered
    /// while they run. Call it well within `ack_wait`.
    pub async fn progress(&self) -> Result<(), BusError> {
        self.acker.progress().await
    }

    /// Give up on this message: no more redeliveries.
    pub async fn term(&self) -> Result<(), BusError> {
        self.acker.term().await
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.message)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// The bus: durable publish and durable pull consumers.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Returns once the bus has durably stored the message (JetStream: the publish ack).
    /// Publishing the same `id` again within the duplicate window stores nothing new and
    /// still returns `Ok`. The current trace context is added unless `traceparent` is set.
    async fn publish(&self, message: Message) -> Result<(), BusError>;

    /// Opens a subscription on a durable pull consumer, creating or updating the consumer.
    /// Replicas using the same `durable` share the work (each message goes to one of
    /// them); different durable names each get every message. See the crate docs for the
    /// work-queue filter rule. Fails with `Unavailable` when the bus cannot be reached;
    /// once open, a subscription survives disconnects by itself.
    async fn consume(&self, spec: ConsumerSpec) -> Result<Box<dyn Subscription>, BusError>;

    /// Opens a watch: every message matching `filter_subject` that is published after this
    /// returns, in stream order, without acknowledgements. The filter must be under
    /// `magnum.events.` (`*` and a trailing `>` allowed); `magnum.ops.` filters are refused
    /// with `InvalidSubject`, since operations are a work queue that only durables read.
    /// Each watch gets every matching message, independently of other watches and durables.
    ///
    /// Dropping the stream ends the watch and leaves nothing behind (JetStream: its
    /// ephemeral consumer is deleted, or expires on the server by itself if the delete
    /// cannot be sent). Watches never slow publishers down.
    ///
    /// An `Err` item is not the end; the watch goes on by itself. `BusError::Lagged` means
    /// messages were skipped: the in-process bus keeps [`InProcessBus::WATCH_BUFFER`]
    /// messages for a watcher that does not keep up, and JetStream reports it when the
    /// server came back with an empty store. Across an ordinary disconnect or server restart
    /// a JetStream watch resumes after the last message it delivered, so it skips nothing,
    /// but it may end up skipping messages (without a `Lagged` if the server cannot tell)
    /// when the store was lost. A watch is for live views: a caller that must not miss
    /// anything re-reads the state after a `Lagged`, or uses a durable consumer.
    async fn subscribe(&self, filter_subject: &str) -> Result<MessageStream, BusError>;

    /// Records a service replica's heartbeat in the registry, replacing its previous one;
    /// it is kept [`presence::REGISTRY_TTL`] after this write.
    async fn record_heartbeat(&self, heartbeat: &presence::Heartbeat) -> Result<(), BusError>;

    /// Removes a replica's heartbeat (it stopped cleanly). An unknown key is not an error.
    async fn forget_heartbeat(&self, key: &str) -> Result<(), BusError>;

    /// Every replica's last heartbeat that has not expired.
    async fn heartbeats(&self) -> Result<Vec<presence::Heartbeat>, BusError>;
}

/// The messages of a watch ([`Bus::subscribe`]). It ends only when the in-process bus
/// itself is gone; a JetStream watch never ends on its own.
pub type MessageStream = BoxStream<'static, Result<Message, BusError>>;

/// A stream of deliveries from one durable consumer.
#[async_trait]
pub trait Subscription: Send {
    /// The next delivery, waiting as long as it takes. Cancel-safe: dropping the future
    /// loses no message. An `Err` is not the end: the subscription recovers on its own
    /// (with backoff) and the caller just calls `next` again. `None` means it has ended
    /// for good; neither implementation ends a subscription on its own.
    async fn next(&mut self) -> Option<Result<Delivery, BusError>>;

    /// For a clean stop: hands back what this subscription may still receive without
    /// having asked for it again (JetStream: the pull request already sent), by nak-ing
    /// whatever arrives within `within` for immediate redelivery to another consumer.
    /// Without it, such a message would wait out its `ack_wait`. The default has nothing
    /// outstanding.
    async fn release(&mut self, within: std::time::Duration) {
        let _ = within;
    }
}

/// Which bus to use.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// `memory://` (in-process, optionally `memory://name`) or `nats://host:4222`.
    pub url: String,
    /// Namespaces streams and subjects; empty in production, unique per test.
    pub prefix: String,
}

impl fmt::Debug for BusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A nats:// url may carry a user and password.
        f.debug_struct("BusConfig")
            .field("url", &display_url(&self.url))
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// The url without credentials, for messages and logs.
pub(crate) fn display_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://<credentials>@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: "memory://".to_owned(),
            prefix: String::new(),
        }
    }
}

/// Connects to the configured bus and makes sure its streams exist.
///
/// `memory://…` returns the process-wide in-process bus for that url and prefix, so every
/// service of the embedded binary that connects with the same config talks to the same
/// bus (as they would through one NATS server). `nats://…` connects to JetStream; the
/// first connection must succeed (no retry), later disconnects are retried forever.
pub async fn connect(config: &BusConfig) -> Result<Arc<dyn Bus>, BusError> {
    subject::validate_prefix(&config.prefix)?;
    if config.url.starts_with("memory://") {
        Ok(InProcessBus::shared(&config.url, &config.prefix))
    } else if ["nats://", "tls://", "ws://", "wss://"]
        .iter()
        .any(|scheme| config.url.starts_with(scheme))
    {
        Ok(Arc::new(
            JetStreamBus::connect(&config.url, &config.prefix).await?,
        ))
    } else {
        Err(BusError::Config(format!(
            "url {:?}: expected memory:// or nats://host:port",
            display_url(&config.url)
        )))
    }
}

#[cfg(test)]
#[path = "lib_test.rs"]
mod tests;
