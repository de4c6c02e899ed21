//! [`WorkQueue`]: client-go's rate-limiting work queue on the injected [`Clock`].
//!
//! - A key is queued once however many times it is added while it waits (the *dirty* set).
//! - A key being processed (handed out by [`WorkQueue::get`], not yet [`WorkQueue::done`]) is
//!   never handed to a second worker (the *processing* set); if it is added meanwhile, it is
//!   queued again when it is done, so the change is not lost.
//! - [`WorkQueue::add_after`] delays a key (the earliest pending deadline of a key wins).
//! - [`WorkQueue::add_rate_limited`] delays a key by the larger of its own exponential backoff
//!   (one [`Backoff`] step per failure until [`WorkQueue::forget`]) and an overall token bucket
//!   (client-go's default controller rate limiter: 5 ms → 1000 s per key, 10 qps with a burst of 100).
//! - After [`WorkQueue::shutdown`], adds are ignored and `get` answers `None`;
//!   [`WorkQueue::shutdown_with_drain`] also waits for the keys in flight to be done. Unlike
//!   client-go, keys still queued are not handed out after shutdown: controllers are
//!   level-triggered, so the next start queues every cached key again and nothing is lost.
//!
//! There is no background task: delayed keys move to the queue inside `get`, whose wait ends at
//! the earliest deadline, so a queue on paused tokio time is fully deterministic.

use crate::clock::Clock;
use kube_core::backoff::Backoff;
use kube_core::rand::SplitMix64;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

/// An overall token-bucket limit on rate-limited adds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub qps: f64,
    /// Bucket size: how many adds pass at once before the rate applies.
    pub burst: u32,
}

impl Default for RateLimit {
    /// client-go's default: 10 qps, burst 100.
    fn default() -> RateLimit {
        RateLimit {
            qps: 10.0,
            burst: 100,
        }
    }
}

/// Settings of a [`WorkQueue`].
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// Per-key backoff of [`WorkQueue::add_rate_limited`].
    pub per_item: Backoff,
    /// Overall limit of [`WorkQueue::add_rate_limited`] (`None`: per-key backoff only).
    pub rate_limit: Option<RateLimit>,
    /// Seed of the jitter source (`None`: seeded from the system).
    pub seed: Option<u64>,
}

impl Default for QueueConfig {
    fn default() -> QueueConfig {
        QueueConfig {
            per_item: Backoff::per_item(),
            rate_limit: Some(RateLimit::default()),
            seed: None,
        }
    }
}

/// A token bucket reserved like Go's `rate.Limiter.Reserve`: tokens may go negative, and the
/// reservation waits until its token would have been refilled.
#[derive(Debug)]
struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(limit: RateLimit, now: Instant) -> TokenBucket {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst),
            last: now,
        }
    }

    /// Takes one token; returns how long the caller must wait for it.
    fn reserve(&mut self, now: Instant) -> Duration {
        let qps = self.limit.qps;
        if !(qps.is_finite() && qps > 0.0) {
            return Duration::ZERO;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * qps).min(f64::from(self.limit.burst));
        self.last = self.last.max(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / qps)
        }
    }
}

struct State<K> {
    /// Keys ready to be handed out, in order.
    queue: VecDeque<K>,
    /// Keys that need processing (queued, or re-queued once their processing is done).
    dirty: HashSet<K>,
    /// Keys handed out and not yet done.
    processing: HashSet<K>,
    /// Delayed keys: key → its timer entry.
    waiting: HashMap<K, (Instant, u64)>,
    /// Delayed keys by deadline (the sequence number keeps equal deadlines apart, in order).
    timers: BTreeMap<(Instant, u64), K>,
    seq: u64,
    /// Failures per key since its last `forget`.
    failures: HashMap<K, u32>,
    bucket: Option<TokenBucket>,
    rng: SplitMix64,
    shutting_down: bool,
}

impl<K: Clone + Eq + Hash> State<K> {
    /// Queues `key` unless it is already dirty; returns whether it became ready for a worker.
    fn add(&mut self, key: K) -> bool {
        if self.shutting_down || self.dirty.contains(&key) {
            return false;
        }
        self.dirty.insert(key.clone());
        if self.processing.contains(&key) {
            return false;
        }
        self.queue.push_back(key);
        true
    }

    /// Moves every delayed key whose deadline has passed to the queue.
    fn promote(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.waiting.remove(&key);
            self.add(key);
        }
    }
}

struct Inner<K> {
    state: Mutex<State<K>>,
    /// Wakes waiting `get`s after an add, a done, a new deadline or shutdown.
    wake: Notify,
    /// How many keys are in flight (for the drain).
    in_flight: watch::Sender<usize>,
    clock: Clock,
    per_item: Backoff,
}

/// A client-go style work queue of keys; cheap to clone (clones share the queue).
pub struct WorkQueue<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        WorkQueue {
            inner: self.inner.clone(),
        }
    }
}

impl<K: Clone + Eq + Hash + Send + 'static> WorkQueue<K> {
    /// An empty queue whose timers run on `clock`.
    pub fn new(clock: Clock, config: QueueConfig) -> WorkQueue<K> {
        let now = clock.instant();
        let rng = match config.seed {
            Some(seed) => SplitMix64::new(seed),
            None => crate::clock::seeded_rng(),
        };
        let (in_flight, _) = watch::channel(0);
        WorkQueue {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashSet::new(),
                    waiting: HashMap::new(),
                    timers: BTreeMap::new(),
                    seq: 0,
                    failures: HashMap::new(),
                    bucket: config.rate_limit.map(|l| TokenBucket::new(l, now)),
                    rng,
                    shutting_down: false,
                }),
                wake: Notify::new(),
                in_flight,
                clock,
                per_item: config.per_item,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // Every critical section leaves the sets consistent before it can panic, so a poisoned
        // lock still guards a usable state.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `key` (once, however many times it is added before a worker takes it).
    pub fn add(&self, key: K) {
        if self.lock().add(key) {
            self.inner.wake.notify_waiters();
        }
    }

    /// Queues `key` after `delay`; if it is already waiting, the earlier deadline wins.
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let deadline = self.inner.clock.instant() + delay;
        {
            let mut st = self.lock();
            if st.shutting_down {
                return;
            }
            if let Some(&(at, seq)) = st.waiting.get(&key) {
                if at <= deadline {
                    return;
                }
                st.timers.remove(&(at, seq));
            }
            st.seq += 1;
            let entry = (deadline, st.seq);
            st.waiting.insert(key.clone(), entry);
            st.timers.insert(entry, key);
        }
        // Waiting `get`s recompute the deadline they sleep until.
        self.inner.wake.notify_waiters();
    }

    /// Queues `key` after its next backoff step (and the overall rate limit), counting a failure.
    pub fn add_rate_limited(&self, key: K) {
        let now = self.inner.clock.instant();
        let delay = {
            let mut st = self.lock();
            let n = st.failures.get(&key).copied().unwrap_or(0);
            st.failures.insert(key.clone(), n.saturating_add(1));
            let per_item = self.inner.per_item.delay(n, &mut st.rng);
            let overall = st
                .bucket
                .as_mut()
                .map_or(Duration::ZERO, |b| b.reserve(now));
            per_item.max(overall)
        };
        self.add_after(key, delay);
    }

    /// Forgets the failures of `key` (after a success): its next backoff starts over.
    pub fn forget(&self, key: &K) {
        self.lock().failures.remove(key);
    }

    /// How many times `key` was rate-limited since it was last forgotten.
    pub fn num_requeues(&self, key: &K) -> u32 {
        self.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// Waits for a key to process; `None` once the queue is shut down.
    ///
    /// The caller owns the key until it calls [`WorkQueue::done`] with it.
    pub async fn get(&self) -> Option<K> {
        loop {
            let woken = self.inner.wake.notified();
            tokio::pin!(woken);
            // Registered before the state is read, so no wake-up between the two is lost.
            woken.as_mut().enable();
            let deadline = {
                let mut st = self.lock();
                if st.shutting_down {
                    return None;
                }
                st.promote(self.inner.clock.instant());
                if let Some(key) = st.queue.pop_front() {
                    st.dirty.remove(&key);
                    st.processing.insert(key.clone());
                    self.inner.in_flight.send_replace(st.processing.len());
                    return Some(key);
                }
                st.timers.first_key_value().map(|((at, _), _)| *at)
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = &mut woken => {}
                        _ = self.inner.clock.sleep_until(at) => {}
                    }
                }
                None => woken.await,
            }
        }
    }

    /// Marks `key` processed; if it was added meanwhile, it is queued again.
    pub fn done(&self, key: &K) {
        let requeued = {
            let mut st = self.lock();
            if !st.processing.remove(key) {
                return;
            }
            self.inner.in_flight.send_replace(st.processing.len());
            if st.dirty.contains(key) && !st.shutting_down {
                st.queue.push_back(key.clone());
                true
            } else {
                false
            }
        };
        if requeued {
            self.inner.wake.notify_waiters();
        }
    }

    /// Keys ready for a worker.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no key is ready for a worker.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys waiting for a deadline (`add_after`, `add_rate_limited`).
    pub fn delayed_len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// Keys handed out and not yet done.
    pub fn in_flight(&self) -> usize {
        *self.inner.in_flight.borrow()
    }

    /// Whether the queue is shut down.
    pub fn is_shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    /// Stops the queue: later adds are ignored, and every `get` answers `None`.
    pub fn shutdown(&self) {
        self.lock().shutting_down = true;
        self.inner.wake.notify_waiters();
    }

    /// Stops the queue and waits until every key in flight is done.
    pub async fn shutdown_with_drain(&self) {
        self.shutdown();
        let mut rx = self.inner.in_flight.subscribe();
        // The sender lives in `inner`, which `self` keeps alive: the wait cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

#[cfg(test)]
#[path = "workqueue_tests.rs"]
mod tests;
