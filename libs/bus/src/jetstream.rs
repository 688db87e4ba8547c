//! The production bus: NATS JetStream through async-nats.
//!
//! - The first connection must succeed (no retry on initial connect); after that
//!   async-nats reconnects forever, and the streams and consumers are re-created when a
//!   restarted server has lost them.
//! - Publishes carry `Nats-Msg-Id` and wait for the stream's ack.
//! - Subscriptions are durable pull consumers with explicit ack. `next` sends one pull
//!   request for one message, with a 5 s expiry, and repeats it until a message comes:
//!   nothing is pulled while a handler is busy (a prefetched message would sit in a local
//!   buffer while its `ack_wait` ran out, be redelivered to another replica, and then be
//!   handed out stale here as well), and a request the server dropped is replaced by the
//!   next one. (A long-lived pull stream with non-expiring requests was tried first; under
//!   a burst it was seen to stop pulling, leaving messages pending with no request
//!   waiting.) The cost is a round trip per message, which the bus's traffic (operations,
//!   events) can afford.
//! - Watches (`Bus::subscribe`) are ephemeral pull consumers without acks, in memory, that
//!   expire on the server `WATCH_INACTIVE` (30 s) after the last pull. They work like async-nats'
//!   ordered consumer (re-created at the next stream sequence after a gap, a missed
//!   heartbeat or a reconnect) but not with it: that one restarts at the beginning of the
//!   stream when it is re-created before its first message, replaying days of events.
//! - After every reconnect a subscription re-creates its consumer (idempotent), so a server that came back without our streams or consumers (an empty
//!   store) is repaired at once rather than after async-nats' own retries run out.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, Consumer, DeliverPolicy, pull};
use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind, PublishErrorKind};
use async_nats::jetstream::message::{Acker, PublishMessage};
use async_nats::jetstream::stream::{self, ConsumerErrorKind, DiscardPolicy, RetentionPolicy};
use async_nats::jetstream::{self as js, AckKind, ErrorCode, kv};
use async_nats::{ConnectOptions, HeaderMap, HeaderName, HeaderValue};
use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::subject::{self, DUPLICATE_WINDOW, EVENTS_MAX_AGE, StreamKind};
use crate::{
    Acknowledge, Bus, BusError, ConsumerSpec, Delivery, Message, MessageStream, Subscription,
    inject_trace_context, presence,
};

const MSG_ID: &str = "Nats-Msg-Id";
/// Retry delays of a subscription that lost its consumer: 100 ms doubling up to 5 s.
const REOPEN_BASE: Duration = Duration::from_millis(100);
const REOPEN_MAX: Duration = Duration::from_secs(5);
/// How long the server keeps a watch's consumer once nobody pulls from it: the backstop
/// for a watch dropped without a runtime to send the delete (or while disconnected).
const WATCH_INACTIVE: Duration = Duration::from_secs(30);

/// The JetStream bus. Clones share one connection.
#[derive(Clone)]
pub struct JetStreamBus {
    inner: Arc<Inner>,
}

struct Inner {
    context: js::Context,
    prefix: String,
    /// Counts (re)connections; subscriptions start over when it moves.
    connections: Arc<watch::Sender<u64>>,
    /// The service registry's key-value bucket, opened (or made) on first use.
    registry: tokio::sync::OnceCell<kv::Store>,
}

impl std::fmt::Debug for JetStreamBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamBus")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl JetStreamBus {
    /// Connects (once, no retry) and creates or updates the two streams.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        subject::validate_prefix(prefix)?;
        let shown = crate::display_url(url);
        let connections = Arc::new(watch::Sender::new(0_u64));
        let on_event = Arc::clone(&connections);
        let client = ConnectOptions::new()
            .name("magnum-bus")
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                let connections = Arc::clone(&on_event);
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            info!("NATS connection (re)established");
                            connections.send_modify(|count| *count += 1);
                        }
                        async_nats::Event::Disconnected => {
                            warn!("NATS connection lost; reconnecting");
                        }
                        other => warn!(event = %other, "NATS connection event"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| BusError::unavailable(format!("connect to {shown}"), e))?;
        let bus = Self {
            inner: Arc::new(Inner {
                context: js::new(client),
                prefix: prefix.to_owned(),
                connections,
                registry: tokio::sync::OnceCell::new(),
            }),
        };
        bus.ensure_streams().await?;
        Ok(bus)
    }

    /// The registry bucket (`SERVICES`, or `<PREFIX>_SERVICES`): one entry per replica,
    /// expiring [`presence::REGISTRY_TTL`] after its last write. Its stream is made here
    /// rather than with `create_key_value`, which first asks for the account's limits in a
    /// form older servers (2.9) answer differently.
    async fn registry(&self) -> Result<&kv::Store, BusError> {
        self.inner
            .registry
            .get_or_try_init(|| async {
                let bucket = subject::registry_bucket(&self.inner.prefix);
                if let Ok(store) = self.inner.context.get_key_value(&bucket).await {
                    return Ok(store);
                }
                let context = format!("create bucket {bucket}");
                self.inner
                    .context
                    .create_or_update_stream(stream::Config {
                        name: format!("KV_{bucket}"),
                        description: Some("magnum-rs service heartbeats (/v1/mservices)".into()),
                        subjects: vec![format!("$KV.{bucket}.>")],
                        max_messages_per_subject: 1,
                        max_age: presence::REGISTRY_TTL,
                        allow_rollup: true,
                        deny_delete: true,
                        allow_direct: true,
                        discard: DiscardPolicy::New,
                        num_replicas: 1,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| BusError::unavailable(context.clone(), e))?;
                self.inner
                    .context
                    .get_key_value(&bucket)
                    .await
                    .map_err(|e| BusError::unavailable(context, e))
            })
            .await
    }

    fn stream_config(&self, kind: StreamKind) -> stream::Config {
        let prefix = &self.inner.prefix;
        stream::Config {
            name: subject::stream_name(prefix, kind),
            subjects: vec![subject::prefixed(prefix, &format!("{}.>", kind.root()))],
            retention: if kind.work_queue() {
                RetentionPolicy::WorkQueue
            } else {
                RetentionPolicy::Limits
            },
            max_age: if kind.work_queue() {
                Duration::ZERO
            } else {
                EVENTS_MAX_AGE
            },
            discard: DiscardPolicy::Old,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: 1,
            ..Default::default()
        }
    }

    /// Creates the streams, or updates them to this config; idempotent.
    async fn ensure_streams(&self) -> Result<(), BusError> {
        for kind in StreamKind::ALL {
            let config = self.stream_config(kind);
            let context = format!("create or update stream {}", config.name);
            self.inner
                .context
                .create_or_update_stream(config)
                .await
                .map_err(|e| match e.kind() {
                    CreateStreamErrorKind::JetStream(_)
                    | CreateStreamErrorKind::EmptyStreamName
                    | CreateStreamErrorKind::InvalidStreamName
                    | CreateStreamErrorKind::DomainAndExternalSet => BusError::rejected(context, e),
                    _ => BusError::unavailable(context, e),
                })?;
        }
        Ok(())
    }

    fn consumer_config(&self, spec: &ConsumerSpec) -> pull::Config {
        pull::Config {
            durable_name: Some(spec.durable.clone()),
            filter_subject: subject::prefixed(&self.inner.prefix, &spec.filter_subject),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            max_deliver: if spec.max_deliver > 0 {
                spec.max_deliver
            } else {
                -1
            },
            backoff: spec.backoff.clone(),
            ..Default::default()
        }
    }

    /// Creates or updates the durable consumer; re-creates the streams if they are gone.
    async fn create_consumer(
        &self,
        kind: StreamKind,
        spec: &ConsumerSpec,
    ) -> Result<Consumer<pull::Config>, BusError> {
        let what = format!("create consumer {}", spec.durable);
        self.create_consumer_with(kind, self.consumer_config(spec), &what)
            .await
            .map_err(|error| match error {
                CreateError::WorkQueueOverlap(error) => BusError::consumer(
                    &spec.durable,
                    format!(
                        "its filter overlaps another durable on the work-queue stream; \
                         give each ops consumer its own subtree ({error})"
                    ),
                ),
                CreateError::Bus(error) => error,
            })
    }

    /// Creates a consumer from `config`; re-creates the streams if they are gone.
    async fn create_consumer_with(
        &self,
        kind: StreamKind,
        config: pull::Config,
        what: &str,
    ) -> Result<Consumer<pull::Config>, CreateError> {
        let stream = subject::stream_name(&self.inner.prefix, kind);
        let mut streams_checked = false;
        loop {
            let result = self
                .inner
                .context
                .create_consumer_on_stream(config.clone(), stream.as_str())
                .await;
            let error = match result {
                Ok(consumer) => return Ok(consumer),
                Err(error) => error,
            };
            let code = match error.kind() {
                ConsumerErrorKind::JetStream(api) => Some(api.error_code()),
                _ => None,
            };
            match code {
                Some(ErrorCode::STREAM_NOT_FOUND) if !streams_checked => {
                    streams_checked = true;
                    self.ensure_streams().await?;
                }
                Some(
                    ErrorCode::CONSUMER_WQ_CONSUMER_NOT_UNIQUE
                    | ErrorCode::CONSUMER_WQ_MULTIPLE_UNFILTERED,
                ) => return Err(CreateError::WorkQueueOverlap(error)),
                Some(_) => {
                    return Err(BusError::rejected(format!("{what} on {stream}"), error).into());
                }
                None => {
                    return Err(BusError::unavailable(format!("{what} on {stream}"), error).into());
                }
            }
        }
    }

    async fn publish_once(
        &self,
        subject: &str,
        headers: HeaderMap,
        message: &Message,
    ) -> Result<(), async_nats::jetstream::context::PublishError> {
        let publish = PublishMessage::build()
            .payload(message.payload.clone())
            .headers(headers);
        let ack = self
            .inner
            .context
            .send_publish(subject.to_owned(), publish)
            .await?
            .await?;
        if ack.duplicate {
            debug!(id = %message.id, subject = %message.subject, "duplicate publish ignored by the stream");
        }
        Ok(())
    }
}

/// Why a consumer could not be created.
enum CreateError {
    /// Another durable on the work-queue stream has an overlapping filter.
    WorkQueueOverlap(async_nats::jetstream::stream::ConsumerError),
    Bus(BusError),
}

impl From<BusError> for CreateError {
    fn from(error: BusError) -> Self {
        Self::Bus(error)
    }
}

impl From<CreateError> for BusError {
    fn from(error: CreateError) -> Self {
        match error {
            CreateError::WorkQueueOverlap(error) => {
                BusError::rejected("create a consumer on the work-queue stream", error)
            }
            CreateError::Bus(error) => error,
        }
    }
}

/// The caller's view of a JetStream message: the unprefixed subject, the id apart from
/// the other headers.
fn to_message(prefix: &str, message: async_nats::Message) -> Message {
    let mut headers = BTreeMap::new();
    let mut id = None;
    if let Some(map) = &message.headers {
        for (name, values) in map.iter() {
            let Some(value) = values.last() else { continue };
            let name = name.to_string();
            if name.eq_ignore_ascii_case(MSG_ID) {
                id = Some(value.as_str().to_owned());
            } else {
                headers.insert(name, value.as_str().to_owned());
            }
        }
    }
    Message {
        subject: subject::unprefixed(prefix, message.subject.as_str()).to_owned(),
        payload: message.payload,
        headers,
        // Messages published by other tools may lack an id.
        id: id.unwrap_or_default(),
    }
}

fn header_map(message: &Message) -> Result<HeaderMap, BusError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &message.headers {
        let name = HeaderName::from_str(name)
            .map_err(|e| BusError::InvalidMessage(format!("header name {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| BusError::InvalidMessage(format!("header value: {e}")))?;
        headers.insert(name, value);
    }
    let id = HeaderValue::from_str(&message.id)
        .map_err(|e| BusError::InvalidMessage(format!("id: {e}")))?;
    headers.insert(MSG_ID, id);
    Ok(headers)
}

#[async_trait]
impl Bus for JetStreamBus {
    async fn publish(&self, mut message: Message) -> Result<(), BusError> {
        subject::validate_message(&message)?;
        inject_trace_context(&mut message.headers);
        let headers = header_map(&message)?;
        let wire_subject = subject::prefixed(&self.inner.prefix, &message.subject);
        let mut result = self
            .publish_once(&wire_subject, headers.clone(), &message)
            .await;
        if let Err(error) = &result
            && error.kind() == PublishErrorKind::StreamNotFound
        {
            // A server restarted with an empty store has no streams: make them and retry once.
            warn!("stream missing on publish; re-creating the streams");
            self.ensure_streams().await?;
            result = self.publish_once(&wire_subject, headers, &message).await;
        }
        result.map_err(|error| match error.kind() {
            PublishErrorKind::MaxPayloadExceeded => {
                BusError::InvalidMessage(format!("too large: {error}"))
            }
            _ => BusError::unavailable(format!("publish to {}", message.subject), error),
        })
    }

    async fn subscribe(&self, filter_subject: &str) -> Result<MessageStream, BusError> {
        let kind = subject::watch_stream(filter_subject)?;
        let mut connections = self.inner.connections.subscribe();
        connections.mark_unchanged();
        let mut watch = Watch {
            bus: self.clone(),
            kind,
            filter: subject::prefixed(&self.inner.prefix, filter_subject),
            next_seq: 0,
            consumer: None,
            consumer_seq: 0,
            stream_created: None,
            messages: None,
            failures: 0,
            connections,
        };
        watch.open(DeliverPolicy::New).await?;
        let stream = futures::stream::unfold(watch, |mut watch| async move {
            let item = watch.next().await;
            Some((item, watch))
        });
        Ok(stream.boxed())
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        let kind = subject::validate_spec(&spec)?;
        let mut connections = self.inner.connections.subscribe();
        connections.mark_unchanged();
        let consumer = self.create_consumer(kind, &spec).await?;
        Ok(Box::new(JetStreamSubscription {
            bus: self.clone(),
            kind,
            spec,
            consumer: Some(consumer),
            pull: None,
            failures: 0,
            connections,
        }))
    }

    async fn record_heartbeat(&self, heartbeat: &presence::Heartbeat) -> Result<(), BusError> {
        let value = serde_json::to_vec(heartbeat)
            .map_err(|e| BusError::InvalidMessage(format!("heartbeat: {e}")))?;
        self.registry()
            .await?
            .put(&heartbeat.key, value.into())
            .await
            .map_err(|e| BusError::unavailable("record a heartbeat", e))?;
        Ok(())
    }

    async fn forget_heartbeat(&self, key: &str) -> Result<(), BusError> {
        self.registry()
            .await?
            .purge(key)
            .await
            .map_err(|e| BusError::unavailable("remove a heartbeat", e))
    }

    async fn heartbeats(&self) -> Result<Vec<presence::Heartbeat>, BusError> {
        let store = self.registry().await?;
        let keys: Vec<String> = store
            .keys()
            .await
            .map_err(|e| BusError::unavailable("list heartbeats", e))?
            .filter_map(|key| async move { key.ok() })
            .collect()
            .await;
        let mut heartbeats = Vec::with_capacity(keys.len());
        for key in keys {
            let value = store
                .get(&key)
                .await
                .map_err(|e| BusError::unavailable("read a heartbeat", e))?;
            // Gone since it was listed: skipped.
            if let Some(beat) = value.and_then(|bytes| serde_json::from_slice(&bytes).ok()) {
                heartbeats.push(beat);
            }
        }
        Ok(heartbeats)
    }
}

/// How long one pull request waits for a message before the next one is sent.
pub const PULL_EXPIRY: Duration = Duration::from_secs(5);

/// One pull request for one message, made only when the caller asks for the next message:
/// nothing is prefetched (a prefetched message would sit in a local buffer while its
/// `ack_wait` ran out), and every request expires, so a request the server dropped (a
/// reconnect, a leadership change) is simply replaced by the next one. A long-lived pull
/// stream without expiry was seen here to stop pulling under load, stranding messages.
async fn pull_one(consumer: &Consumer<pull::Config>) -> Result<pull::Batch, BusError> {
    consumer
        .batch()
        .max_messages(1)
        .expires(PULL_EXPIRY)
        .messages()
        .await
        .map_err(|e| BusError::unavailable("pull a message", e))
}

struct JetStreamSubscription {
    bus: JetStreamBus,
    kind: StreamKind,
    spec: ConsumerSpec,
    /// `None` after a failure: the next call re-creates the consumer.
    consumer: Option<Consumer<pull::Config>>,
    /// The pull request in flight. Kept here, not in `next`'s future, so a caller that
    /// gives up waiting (a timeout) does not strand a message that is on its way: the next
    /// call reads it.
    pull: Option<pull::Batch>,
    failures: u32,
    connections: watch::Receiver<u64>,
}

impl JetStreamSubscription {
    async fn reopen(&mut self) -> Result<Consumer<pull::Config>, BusError> {
        if self.failures > 0 {
            let delay = REOPEN_BASE
                .saturating_mul(1 << (self.failures - 1).min(8))
                .min(REOPEN_MAX);
            tokio::time::sleep(delay).await;
        }
        self.connections.mark_unchanged();
        // The server may have come back without our consumer (or streams): re-create them.
        self.bus.create_consumer(self.kind, &self.spec).await
    }

    fn delivery(&self, message: js::Message) -> Result<Delivery, String> {
        let info = message
            .info()
            .map_err(|e| format!("not a JetStream delivery: {e}"))?;
        let attempt = u64::try_from(info.delivered).unwrap_or(1);
        // Bus lag: how long the message waited, and how many wait behind it.
        let waited_ns = chrono::Utc::now()
            .timestamp_nanos_opt()
            .map(i128::from)
            .unwrap_or_default()
            - info.published.unix_timestamp_nanos();
        let consumer = self.spec.durable.clone();
        metrics::histogram!("magnum_bus_delivery_lag_seconds", "consumer" => consumer.clone())
            .record((waited_ns.max(0) as f64) / 1e9);
        metrics::gauge!("magnum_bus_consumer_pending_messages", "consumer" => consumer)
            .set(info.pending as f64);
        let (message, acker) = message.split();
        Ok(Delivery::new(
            to_message(&self.bus.inner.prefix, message),
            attempt,
            Box::new(JetStreamAcker { acker }),
        ))
    }
}

#[async_trait]
impl Subscription for JetStreamSubscription {
    async fn release(&mut self, within: Duration) {
        let Some(mut pull) = self.pull.take() else {
            return;
        };
        // The request asked for one message and expires by itself within PULL_EXPIRY.
        let Ok(Some(Ok(message))) = tokio::time::timeout(within, pull.next()).await else {
            return;
        };
        match self.delivery(message) {
            Ok(delivery) => {
                if let Err(error) = delivery.nak(None).await {
                    warn!(durable = %self.spec.durable, %error, "cannot hand back a message; it comes back after ack_wait");
                }
            }
            Err(reason) => warn!(%reason, "skipping a message"),
        }
    }

    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        loop {
            let consumer = match &self.consumer {
                Some(consumer) => consumer,
                None => match self.reopen().await {
                    Ok(consumer) => self.consumer.insert(consumer),
                    Err(error) => {
                        self.failures = self.failures.saturating_add(1);
                        return Some(Err(error));
                    }
                },
            };
            let pull = match &mut self.pull {
                Some(pull) => pull,
                None => match pull_one(consumer).await {
                    Ok(pull) => self.pull.insert(pull),
                    Err(error) => {
                        warn!(durable = %self.spec.durable, %error, "cannot pull; re-creating the consumer");
                        self.consumer = None;
                        self.failures = self.failures.saturating_add(1);
                        continue;
                    }
                },
            };
            let item = tokio::select! {
                // A message already here goes out first; starting over would strand it
                // until its ack_wait ran out.
                biased;
                item = pull.next() => item,
                Ok(()) = self.connections.changed() => {
                    debug!(durable = %self.spec.durable, "reconnected; re-creating the subscription");
                    self.consumer = None;
                    self.pull = None;
                    continue;
                }
            };
            // A request asks for one message: whatever came, the next call pulls anew.
            self.pull = None;
            match item {
                Some(Ok(message)) => {
                    self.failures = 0;
                    match self.delivery(message) {
                        Ok(delivery) => return Some(Ok(delivery)),
                        Err(reason) => warn!(%reason, "skipping a message"),
                    }
                }
                // The request expired with nothing to deliver: ask again.
                None => self.failures = 0,
                Some(Err(error)) => {
                    warn!(durable = %self.spec.durable, %error, "pull request failed; re-creating the consumer");
                    self.consumer = None;
                    self.failures = self.failures.saturating_add(1);
                }
            }
        }
    }
}

/// A watch: an ephemeral consumer, re-created where it left off whenever in doubt.
struct Watch {
    bus: JetStreamBus,
    kind: StreamKind,
    /// The prefixed filter.
    filter: String,
    /// The stream sequence to start at when the consumer has to be re-created.
    next_seq: u64,
    /// The server's name for the current consumer, to delete it when done with it.
    consumer: Option<String>,
    /// The consumer sequence of the last message, to notice a gap.
    consumer_seq: u64,
    /// When the stream was created, to notice that the server lost it.
    stream_created: Option<async_nats::datetime::DateTime>,
    /// `None` after a failure: the next call re-creates the consumer.
    messages: Option<pull::Stream>,
    failures: u32,
    connections: watch::Receiver<u64>,
}

impl Watch {
    fn stream_name(&self) -> String {
        subject::stream_name(&self.bus.inner.prefix, self.kind)
    }

    /// Creates a consumer starting at `start` and its pull stream.
    async fn open(&mut self, start: DeliverPolicy) -> Result<(), BusError> {
        self.messages = None;
        self.delete_consumer();
        self.connections.mark_unchanged();
        let config = pull::Config {
            filter_subject: self.filter.clone(),
            deliver_policy: start,
            ack_policy: AckPolicy::None,
            max_deliver: 1,
            inactive_threshold: WATCH_INACTIVE,
            num_replicas: 1,
            memory_storage: true,
            ..Default::default()
        };
        let consumer = self
            .bus
            .create_consumer_with(self.kind, config, "create a watch consumer")
            .await?;
        let info = consumer.cached_info();
        self.consumer = Some(info.name.clone());
        // Where the server placed the start: for `New`, the stream's last sequence.
        self.next_seq = info.delivered.stream_sequence + 1;
        self.consumer_seq = 0;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| BusError::unavailable("open a watch", e))?;
        self.messages = Some(messages);
        // After the consumer, which re-creates a missing stream.
        self.stream_created = self.stream_state().await?.map(|(created, _)| created);
        Ok(())
    }

    /// Re-creates the consumer at the next sequence after what it delivered; reports a
    /// `Lagged` when the stream is not the one it was (the server lost its store).
    async fn reopen(&mut self) -> Result<Option<BusError>, BusError> {
        if self.failures > 0 {
            let delay = REOPEN_BASE
                .saturating_mul(1 << (self.failures - 1).min(8))
                .min(REOPEN_MAX);
            tokio::time::sleep(delay).await;
        }
        let same_stream = self.stream_state().await?.is_some_and(|(created, last)| {
            Some(created) == self.stream_created && last + 1 >= self.next_seq
        });
        if same_stream {
            let start_sequence = self.next_seq;
            self.open(DeliverPolicy::ByStartSequence { start_sequence })
                .await?;
            return Ok(None);
        }
        // A new stream holds only messages published after this watch began.
        warn!(filter = %self.filter, "the stream was re-created; the watch starts over with it");
        self.open(DeliverPolicy::All).await?;
        Ok(Some(BusError::Lagged { missed: None }))
    }

    /// When the stream was created (which tells a re-created one apart, sequences
    /// alone may not) and its last sequence; `None` when it is gone.
    async fn stream_state(
        &self,
    ) -> Result<Option<(async_nats::datetime::DateTime, u64)>, BusError> {
        match self.bus.inner.context.get_stream(self.stream_name()).await {
            Ok(stream) => {
                let info = stream.cached_info();
                Ok(Some((info.created, info.state.last_sequence)))
            }
            Err(error) => match error.kind() {
                GetStreamErrorKind::JetStream(api)
                    if api.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    Ok(None)
                }
                _ => Err(BusError::unavailable("read the stream state", error)),
            },
        }
    }

    async fn next(&mut self) -> Result<Message, BusError> {
        loop {
            let messages = match &mut self.messages {
                Some(messages) => messages,
                None => match self.reopen().await {
                    Ok(None) => {
                        self.failures = 0;
                        continue;
                    }
                    Ok(Some(lagged)) => {
                        self.failures = 0;
                        return Err(lagged);
                    }
                    Err(error) => {
                        self.failures = self.failures.saturating_add(1);
                        return Err(error);
                    }
                },
            };
            let item = tokio::select! {
                biased;
                item = messages.next() => item,
                Ok(()) = self.connections.changed() => {
                    debug!(filter = %self.filter, "reconnected; re-creating the watch");
                    self.messages = None;
                    continue;
                }
            };
            let message = match item {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    debug!(filter = %self.filter, %error, "watch consumer failed; re-creating it");
                    self.messages = None;
                    continue;
                }
                None => {
                    self.messages = None;
                    continue;
                }
            };
            let info = match message.info() {
                Ok(info) => (info.consumer_sequence, info.stream_sequence),
                Err(error) => {
                    warn!(%error, "skipping a message that is not a JetStream delivery");
                    continue;
                }
            };
            let (consumer_seq, stream_seq) = info;
            if consumer_seq != self.consumer_seq + 1 {
                // Something was lost in transit: start again right after the last one.
                debug!(filter = %self.filter, "gap in the watch; re-creating it");
                self.messages = None;
                continue;
            }
            self.consumer_seq = consumer_seq;
            self.next_seq = stream_seq + 1;
            let (message, _) = message.split();
            return Ok(to_message(&self.bus.inner.prefix, message));
        }
    }

    /// Deletes the current consumer in the background, if a runtime is there to do it;
    /// otherwise the server drops it after `WATCH_INACTIVE`.
    fn delete_consumer(&mut self) {
        let Some(name) = self.consumer.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let context = self.bus.inner.context.clone();
        let stream = self.stream_name();
        runtime.spawn(async move {
            if let Err(error) = context.delete_consumer_from_stream(&name, &stream).await {
                debug!(%error, consumer = %name, "could not delete a watch consumer; it expires");
            }
        });
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.delete_consumer();
    }
}

struct JetStreamAcker {
    acker: Acker,
}

impl JetStreamAcker {
    /// Waits for the server's confirmation, so `Ok` means the server applied it.
    async fn send(&self, kind: AckKind, what: &str) -> Result<(), BusError> {
        self.acker
            .double_ack_with(kind)
            .await
            .map_err(|e| BusError::unavailable(format!("{what} a message"), e))
    }
}

#[async_trait]
impl Acknowledge for JetStreamAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.send(AckKind::Ack, "ack").await
    }

    async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError> {
        self.send(AckKind::Nak(delay), "nak").await
    }

    async fn progress(&self) -> Result<(), BusError> {
        self.send(AckKind::Progress, "extend").await
    }

    async fn term(&self) -> Result<(), BusError> {
        self.send(AckKind::Term, "terminate").await
    }
}

#[cfg(test)]
#[path = "jetstream_test.rs"]
mod tests;
