//! The in-process bus for the embedded single-process mode: JetStream's semantics
//! (deduplication window, work-queue and limits retention, competing consumers per
//! durable, `DeliverPolicy::All`, ack timeouts with backoff, nak with delay, term,
//! `max_deliver`, NATS wildcards) in memory, on Tokio only.
//!
//! Watches ([`Bus::subscribe`]) read a `tokio::sync::broadcast` channel of the events
//! stream rather than the stored messages: a publish never waits for a watcher, and one
//! that falls more than [`InProcessBus::WATCH_BUFFER`] messages behind gets a
//! `BusError::Lagged` item and goes on with the oldest message still buffered.
//!
//! Nothing runs in the background: a waiting [`Subscription::next`] sleeps until either
//! the stream changes (a publish or a nak wakes it) or its earliest pending redelivery is
//! due. Everything is lost when the process exits, which is the embedded mode's trade-off.
//!
//! Differences from JetStream that callers cannot observe through the trait: a work-queue
//! message that exhausted `max_deliver` or was terminated is dropped from memory (JetStream
//! keeps it in the stream, but no other consumer may read it anyway).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

use crate::subject::{self, DUPLICATE_WINDOW, EVENTS_MAX_AGE, StreamKind};
use crate::{
    Acknowledge, Bus, BusError, ConsumerSpec, Delivery, Message, MessageStream, Subscription,
    inject_trace_context, presence,
};

/// The in-process bus. Clones share the same streams.
#[derive(Clone, Default)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for InProcessBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessBus").finish_non_exhaustive()
    }
}

struct Inner {
    /// Indexed by `StreamKind::index`.
    streams: [StreamShared; 2],
    /// Every stored event, for the watches; sent under the events stream's lock so the
    /// order is the stream's.
    watches: broadcast::Sender<Message>,
    /// The service registry: each replica's last heartbeat and when it was written.
    heartbeats: Mutex<HashMap<String, (presence::Heartbeat, Instant)>>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            streams: Default::default(),
            watches: broadcast::Sender::new(InProcessBus::WATCH_BUFFER),
            heartbeats: Mutex::default(),
        }
    }
}

#[derive(Default)]
struct StreamShared {
    state: Mutex<StreamState>,
    /// Woken on publish and nak, so waiting subscriptions look again.
    changed: Notify,
}

impl StreamShared {
    fn lock(&self) -> MutexGuard<'_, StreamState> {
        // A panic while holding the lock leaves consistent data (every update is a
        // single step), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct StreamState {
    /// The next stream sequence; sequences start at 1.
    last_seq: u64,
    messages: BTreeMap<u64, Stored>,
    dedup: HashMap<String, Instant>,
    dedup_order: VecDeque<(Instant, String)>,
    consumers: HashMap<String, ConsumerState>,
    /// Identifies each delivery, so a late nak of an old delivery is ignored.
    last_token: u64,
}

struct Stored {
    message: Message,
    stored_at: Instant,
}

struct ConsumerState {
    spec: ConsumerSpec,
    /// Stream sequences below this were looked at for a first delivery.
    cursor: u64,
    /// Delivered and not yet acked or terminated, by stream sequence.
    pending: BTreeMap<u64, Pending>,
}

struct Pending {
    attempt: u64,
    /// When it may be delivered again (ack timeout, or the nak's delay).
    due: Instant,
    token: u64,
}

enum Next {
    Deliver {
        message: Message,
        attempt: u64,
        seq: u64,
        token: u64,
    },
    Wait(Option<Instant>),
    Gone,
}

impl StreamState {
    fn prune(&mut self, kind: StreamKind, now: Instant) {
        while let Some((at, _)) = self.dedup_order.front() {
            if now.duration_since(*at) < DUPLICATE_WINDOW {
                break;
            }
            if let Some((at, id)) = self.dedup_order.pop_front()
                && self.dedup.get(&id) == Some(&at)
            {
                self.dedup.remove(&id);
            }
        }
        if kind == StreamKind::Events {
            while let Some(entry) = self.messages.first_entry() {
                if now.duration_since(entry.get().stored_at) < EVENTS_MAX_AGE {
                    break;
                }
                entry.remove();
            }
        }
    }

    fn take_next(&mut self, kind: StreamKind, durable: &str, now: Instant) -> Next {
        let Self {
            messages,
            consumers,
            last_token,
            last_seq,
            ..
        } = self;
        let Some(consumer) = consumers.get_mut(durable) else {
            return Next::Gone;
        };
        let max_deliver = u64::try_from(consumer.spec.max_deliver).unwrap_or(0);

        // Redeliveries first, oldest message first, as JetStream does.
        let mut dropped = Vec::new();
        let mut chosen = None;
        for (&seq, pending) in &consumer.pending {
            if pending.due > now {
                continue;
            }
            if !messages.contains_key(&seq) || (max_deliver > 0 && pending.attempt >= max_deliver) {
                dropped.push(seq);
                continue;
            }
            chosen = Some(seq);
            break;
        }
        for seq in dropped {
            consumer.pending.remove(&seq);
            if kind.work_queue() {
                messages.remove(&seq);
            }
        }
        if let Some(seq) = chosen
            && let (Some(pending), Some(stored)) =
                (consumer.pending.get_mut(&seq), messages.get(&seq))
        {
            *last_token += 1;
            pending.attempt += 1;
            pending.token = *last_token;
            pending.due = now + consumer.spec.ack_timeout(pending.attempt);
            return Next::Deliver {
                message: stored.message.clone(),
                attempt: pending.attempt,
                seq,
                token: pending.token,
            };
        }

        // Then the first message this durable has not seen yet.
        for (&seq, stored) in messages.range(consumer.cursor..) {
            consumer.cursor = seq + 1;
            if subject::matches(&consumer.spec.filter_subject, &stored.message.subject) {
                *last_token += 1;
                consumer.pending.insert(
                    seq,
                    Pending {
                        attempt: 1,
                        due: now + consumer.spec.ack_timeout(1),
                        token: *last_token,
                    },
                );
                return Next::Deliver {
                    message: stored.message.clone(),
                    attempt: 1,
                    seq,
                    token: *last_token,
                };
            }
        }
        consumer.cursor = consumer.cursor.max(*last_seq + 1);
        Next::Wait(consumer.pending.values().map(|p| p.due).min())
    }

    /// Removes a delivered message for good (ack or term).
    fn settle(&mut self, kind: StreamKind, durable: &str, seq: u64) {
        let removed = self
            .consumers
            .get_mut(durable)
            .and_then(|consumer| consumer.pending.remove(&seq))
            .is_some();
        if removed && kind.work_queue() {
            self.messages.remove(&seq);
        }
    }

    /// The pending entry of this very delivery, if it is still the current one.
    fn current(
        &mut self,
        durable: &str,
        seq: u64,
        token: u64,
    ) -> Option<(&mut Pending, &ConsumerSpec)> {
        let consumer = self.consumers.get_mut(durable)?;
        let pending = consumer.pending.get_mut(&seq)?;
        (pending.token == token).then_some((pending, &consumer.spec))
    }
}

impl InProcessBus {
    /// How many events a watch may fall behind before it skips the oldest ones.
    pub const WATCH_BUFFER: usize = 1024;

    /// A new, private bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide bus for this url and prefix (created on first use), so separate
    /// `connect` calls with the same config share streams, as they would on one NATS server.
    pub fn shared(url: &str, prefix: &str) -> Arc<dyn Bus> {
        static SHARED: OnceLock<Mutex<HashMap<String, InProcessBus>>> = OnceLock::new();
        let registry = SHARED.get_or_init(Default::default);
        let mut buses = registry.lock().unwrap_or_else(PoisonError::into_inner);
        let bus = buses.entry(format!("{url}\n{prefix}")).or_default().clone();
        Arc::new(bus)
    }

    fn stream(&self, kind: StreamKind) -> &StreamShared {
        &self.inner.streams[kind.index()]
    }

    fn heartbeats(&self) -> MutexGuard<'_, HashMap<String, (presence::Heartbeat, Instant)>> {
        // Every update is one map operation: a poisoned lock still holds consistent data.
        self.inner
            .heartbeats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, mut message: Message) -> Result<(), BusError> {
        let kind = subject::validate_message(&message)?;
        inject_trace_context(&mut message.headers);
        let stream = self.stream(kind);
        {
            let mut state = stream.lock();
            let now = Instant::now();
            state.prune(kind, now);
            if state.dedup.contains_key(&message.id) {
                return Ok(());
            }
            state.dedup.insert(message.id.clone(), now);
            state.dedup_order.push_back((now, message.id.clone()));
            state.last_seq += 1;
            let seq = state.last_seq;
            if kind == StreamKind::Events {
                // An error only means nobody watches.
                let _ = self.inner.watches.send(message.clone());
            }
            state.messages.insert(
                seq,
                Stored {
                    message,
                    stored_at: now,
                },
            );
        }
        stream.changed.notify_waiters();
        Ok(())
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        let kind = subject::validate_spec(&spec)?;
        let mut state = self.stream(kind).lock();
        if kind.work_queue()
            && let Some((other, _)) = state.consumers.iter().find(|(name, consumer)| {
                **name != spec.durable
                    && subject::overlap(&consumer.spec.filter_subject, &spec.filter_subject)
            })
        {
            return Err(BusError::consumer(
                &spec.durable,
                format!(
                    "its filter overlaps durable {other:?} on the work-queue stream; \
                     give each ops consumer its own subtree"
                ),
            ));
        }
        let durable = spec.durable.clone();
        match state.consumers.get_mut(&durable) {
            // Same durable again (a replica, or a restart): share it, with the new settings.
            Some(existing) => existing.spec = spec,
            None => {
                state.consumers.insert(
                    durable.clone(),
                    ConsumerState {
                        spec,
                        cursor: 0,
                        pending: BTreeMap::new(),
                    },
                );
            }
        }
        drop(state);
        Ok(Box::new(InProcessSubscription {
            bus: self.clone(),
            kind,
            durable,
        }))
    }

    async fn subscribe(&self, filter_subject: &str) -> Result<MessageStream, BusError> {
        subject::watch_stream(filter_subject)?;
        let filter = filter_subject.to_owned();
        let receiver = self.inner.watches.subscribe();
        let stream = futures::stream::unfold(receiver, move |mut receiver| {
            let filter = filter.clone();
            async move {
                loop {
                    let item = match receiver.recv().await {
                        Ok(message) if subject::matches(&filter, &message.subject) => Ok(message),
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(missed)) => Err(BusError::Lagged {
                            missed: Some(missed),
                        }),
                        // The bus is gone (the receiver holds no reference to it).
                        Err(broadcast::error::RecvError::Closed) => return None,
                    };
                    return Some((item, receiver));
                }
            }
        });
        Ok(stream.boxed())
    }

    async fn record_heartbeat(&self, heartbeat: &presence::Heartbeat) -> Result<(), BusError> {
        let mut heartbeats = self.heartbeats();
        heartbeats.insert(heartbeat.key.clone(), (heartbeat.clone(), Instant::now()));
        Ok(())
    }

    async fn forget_heartbeat(&self, key: &str) -> Result<(), BusError> {
        self.heartbeats().remove(key);
        Ok(())
    }

    async fn heartbeats(&self) -> Result<Vec<presence::Heartbeat>, BusError> {
        let mut heartbeats = self.heartbeats();
        let now = Instant::now();
        heartbeats.retain(|_, (_, written)| now.duration_since(*written) < presence::REGISTRY_TTL);
        Ok(heartbeats.values().map(|(beat, _)| beat.clone()).collect())
    }
}

struct InProcessSubscription {
    bus: InProcessBus,
    kind: StreamKind,
    durable: String,
}

#[async_trait]
impl Subscription for InProcessSubscription {
    async fn next(&mut self) -> Option<Result<Delivery, BusError>> {
        let stream = self.bus.stream(self.kind);
        loop {
            // Registered before looking, so a publish between the look and the wait
            // still wakes us.
            let changed = stream.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let next = stream
                .lock()
                .take_next(self.kind, &self.durable, Instant::now());
            match next {
                Next::Deliver {
                    message,
                    attempt,
                    seq,
                    token,
                } => {
                    let acker = InProcessAcker {
                        bus: self.bus.clone(),
                        kind: self.kind,
                        durable: self.durable.clone(),
                        seq,
                        token,
                    };
                    return Some(Ok(Delivery::new(message, attempt, Box::new(acker))));
                }
                Next::Wait(Some(due)) => {
                    tokio::select! {
                        () = &mut changed => {}
                        () = tokio::time::sleep_until(due) => {}
                    }
                }
                Next::Wait(None) => changed.await,
                Next::Gone => return None,
            }
        }
    }
}

struct InProcessAcker {
    bus: InProcessBus,
    kind: StreamKind,
    durable: String,
    seq: u64,
    token: u64,
}

impl InProcessAcker {
    /// Reschedules this delivery, if it is still the current one.
    fn reschedule(&self, delay: impl FnOnce(&Pending, &ConsumerSpec) -> Duration) {
        let stream = self.bus.stream(self.kind);
        {
            let mut state = stream.lock();
            if let Some((pending, spec)) = state.current(&self.durable, self.seq, self.token) {
                pending.due = Instant::now() + delay(pending, spec);
            }
        }
        stream.changed.notify_waiters();
    }
}

#[async_trait]
impl Acknowledge for InProcessAcker {
    async fn ack(&self) -> Result<(), BusError> {
        // Any delivery of the message may ack it, even a superseded one (as JetStream).
        self.bus
            .stream(self.kind)
            .lock()
            .settle(self.kind, &self.durable, self.seq);
        Ok(())
    }

    async fn nak(&self, delay: Option<Duration>) -> Result<(), BusError> {
        self.reschedule(|_, _| delay.unwrap_or(Duration::ZERO));
        Ok(())
    }

    async fn progress(&self) -> Result<(), BusError> {
        self.reschedule(|pending, spec| spec.ack_timeout(pending.attempt));
        Ok(())
    }

    async fn term(&self) -> Result<(), BusError> {
        self.bus
            .stream(self.kind)
            .lock()
            .settle(self.kind, &self.durable, self.seq);
        Ok(())
    }
}
