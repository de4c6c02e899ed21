//! [`Controller`]: runs a user's `reconcile` over the keys of a reflector cache (kube-rs's
//! `Controller`, client-go's controller loop).
//!
//! Keys (`namespace/name`, as [`object_key`]) enter one [`WorkQueue`] from:
//! - every change of the primary cache (and, when its subscription lags, every key it holds);
//! - owned objects ([`Controller::owns`]): the owner named by a child's controller reference;
//! - any related cache through a mapper ([`Controller::watches`]), e.g. pod → matching RCs;
//! - the resync period, which re-queues every key;
//! - the reconcile's own [`Action`] (`requeue(after)`) and the error policy (backoff).
//!
//! N workers take keys from the queue; the queue guarantees one key is never reconciled by two
//! workers at once. When the object is gone from the cache at reconcile time, the key is dropped
//! and `reconcile` is not called: like kube-rs, cleanup of what an object leaves behind relies on
//! owner references (garbage collection) or finalizers, not on seeing the deletion.
//!
//! Shutdown ([`Shutdown`]) stops the triggers and the queue, then waits for reconciles in flight.
//! A reconcile that panics counts as a failure of its key (retried with backoff); the worker
//! goes on.

use super::shutdown::Shutdown;
use super::workqueue::{QueueConfig, WorkQueue};
use crate::clock::Clock;
use crate::informer::reflector::{key_of, object_key, Cache, CacheEvent};
use kube_core::object::API_VERSION_V1;
use kube_core::Object;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

/// What the runner does with a key after a reconcile (or an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    kind: ActionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ActionKind {
    Requeue(Duration),
    AwaitChange,
    Backoff,
}

impl Action {
    /// Reconcile the key again after `after` (or earlier, if it changes).
    pub fn requeue(after: Duration) -> Action {
        Action {
            kind: ActionKind::Requeue(after),
        }
    }

    /// Reconcile the key again only when something changes.
    pub fn await_change() -> Action {
        Action {
            kind: ActionKind::AwaitChange,
        }
    }

    /// Reconcile the key again after its next per-key backoff step (the default on errors).
    pub fn backoff() -> Action {
        Action {
            kind: ActionKind::Backoff,
        }
    }

    /// The fixed requeue delay, if this is `requeue`.
    pub fn requeue_after(&self) -> Option<Duration> {
        match self.kind {
            ActionKind::Requeue(d) => Some(d),
            _ => None,
        }
    }
}

/// The default error policy: retry the key with per-key exponential backoff.
pub fn default_error_policy<K, E, Ctx>(_obj: Arc<K>, _err: &E, _ctx: Arc<Ctx>) -> Action {
    Action::backoff()
}

/// Settings of a [`Controller`].
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Concurrent reconciles (of different keys).
    pub workers: usize,
    /// Re-queue every key this often (`None`: never).
    pub resync: Option<Duration>,
    /// The work queue's backoff and rate limit.
    pub queue: QueueConfig,
}

impl Default for ControllerConfig {
    fn default() -> ControllerConfig {
        ControllerConfig {
            workers: 2,
            resync: None,
            queue: QueueConfig::default(),
        }
    }
}

/// Counters of a controller, readable while it runs (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct ControllerStats {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    reconciled: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

impl ControllerStats {
    /// Reconciles that returned `Ok`.
    pub fn reconciled(&self) -> u64 {
        self.inner.reconciled.load(Ordering::Relaxed)
    }

    /// Reconciles that returned `Err`.
    pub fn failed(&self) -> u64 {
        self.inner.failed.load(Ordering::Relaxed)
    }

    /// Keys dropped because their object was no longer cached.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

/// Makes one trigger: it subscribes at once (so no change is missed) and returns the loop that
/// feeds the queue, run as a task of the controller (aborted if the controller is dropped).
type Trigger<K> = Box<
    dyn FnOnce(WorkQueue<String>, Cache<K>, Shutdown) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send,
>;

/// A reconcile loop over the objects of one cache.
pub struct Controller<K> {
    cache: Cache<K>,
    clock: Clock,
    config: ControllerConfig,
    queue: WorkQueue<String>,
    triggers: Vec<Trigger<K>>,
    stats: ControllerStats,
}

impl<K: Object> Controller<K> {
    /// A controller of the objects in `cache`, on `clock`, with default settings.
    pub fn new(cache: Cache<K>, clock: Clock) -> Controller<K> {
        Controller::with_config(cache, clock, ControllerConfig::default())
    }

    /// A controller with explicit settings.
    pub fn with_config(cache: Cache<K>, clock: Clock, config: ControllerConfig) -> Controller<K> {
        let queue = WorkQueue::new(clock.clone(), config.queue.clone());
        let primary = cache.clone();
        let mut c = Controller {
            cache,
            clock,
            config,
            queue,
            triggers: Vec::new(),
            stats: ControllerStats::default(),
        };
        c.triggers
            .push(trigger(primary, |o: &K| vec![object_key(o)]));
        c
    }

    /// Also reconcile the owner of every changed object of `children` whose controller
    /// reference names an object of this controller's kind.
    pub fn owns<C: Object>(self, children: Cache<C>) -> Controller<K> {
        self.watches(children, owner_keys::<K, C>)
    }

    /// Also reconcile the keys `mapper` returns for every changed object of `related`
    /// (for the old and the new state of a modification).
    pub fn watches<C: Object>(
        mut self,
        related: Cache<C>,
        mapper: impl Fn(&C) -> Vec<String> + Send + Sync + 'static,
    ) -> Controller<K> {
        self.triggers.push(trigger(related, mapper));
        self
    }

    /// The controller's queue (to add keys by hand, or to observe it).
    pub fn queue(&self) -> WorkQueue<String> {
        self.queue.clone()
    }

    /// The controller's counters.
    pub fn stats(&self) -> ControllerStats {
        self.stats.clone()
    }

    /// Runs until `shutdown` is triggered, then drains the reconciles in flight and returns.
    ///
    /// Workers start once the primary cache is synced, with every cached key queued.
    pub async fn run<Ctx, E, F, Fut, P>(
        self,
        reconcile: F,
        error_policy: P,
        ctx: Arc<Ctx>,
        shutdown: Shutdown,
    ) where
        Ctx: Send + Sync + 'static,
        E: Display + Send + 'static,
        F: Fn(Arc<K>, Arc<Ctx>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        P: Fn(Arc<K>, &E, Arc<Ctx>) -> Action + Send + Sync + 'static,
    {
        let Controller {
            cache,
            clock,
            config,
            queue,
            triggers,
            stats,
        } = self;
        let mut tasks = JoinSet::new();
        for make in triggers {
            tasks.spawn(make(queue.clone(), cache.clone(), shutdown.clone()));
        }
        tokio::select! {
            _ = cache.wait_until_synced() => {}
            _ = shutdown.triggered() => {}
        }
        for key in cache.keys() {
            queue.add(key);
        }
        if let Some(period) = config.resync.filter(|p| !p.is_zero()) {
            let (queue, cache, shutdown) = (queue.clone(), cache.clone(), shutdown.clone());
            tasks.spawn(async move {
                loop {
                    tokio::select! {
                        _ = clock.sleep(period) => {}
                        _ = shutdown.triggered() => return,
                    }
                    for key in cache.keys() {
                        queue.add(key);
                    }
                }
            });
        }
        let reconcile = Arc::new(reconcile);
        let error_policy = Arc::new(error_policy);
        let mut workers = JoinSet::new();
        for _ in 0..config.workers.max(1) {
            workers.spawn(worker(
                queue.clone(),
                cache.clone(),
                reconcile.clone(),
                error_policy.clone(),
                ctx.clone(),
                stats.clone(),
            ));
        }
        shutdown.triggered().await;
        queue.shutdown_with_drain().await;
        while let Some(res) = workers.join_next().await {
            if let Err(e) = res {
                tracing::error!("controller worker of {} failed: {e}", kind::<K>());
            }
        }
        while tasks.join_next().await.is_some() {}
    }
}

fn kind<K: Object>() -> &'static str {
    K::RESOURCE.info().kind
}

/// The keys of the owners of kind `K` named by `child`'s controller reference.
fn owner_keys<K: Object, C: Object>(child: &C) -> Vec<String> {
    let meta = child.meta();
    let info = K::RESOURCE.info();
    meta.controller_ref()
        .filter(|r| r.kind == info.kind && r.api_version == API_VERSION_V1)
        .map(|r| {
            if info.namespaced {
                key_of(&meta.namespace, &r.name)
            } else {
                r.name.clone()
            }
        })
        .into_iter()
        .collect()
}

/// A trigger feeding the keys `mapper` returns for every change of `source` into the queue;
/// when its subscription lags, every primary key is queued (level-triggered resync).
fn trigger<K: Object, C: Object>(
    source: Cache<C>,
    mapper: impl Fn(&C) -> Vec<String> + Send + Sync + 'static,
) -> Trigger<K> {
    Box::new(move |queue, primary, shutdown| {
        let mut rx = source.subscribe();
        Box::pin(async move {
            loop {
                let ev = tokio::select! {
                    ev = rx.recv() => ev,
                    _ = shutdown.triggered() => return,
                };
                match ev {
                    Ok(CacheEvent::Applied { old, new }) => {
                        for key in old.iter().flat_map(|o| mapper(o)).chain(mapper(&new)) {
                            queue.add(key);
                        }
                    }
                    Ok(CacheEvent::Deleted(o)) => {
                        for key in mapper(&o) {
                            queue.add(key);
                        }
                    }
                    Ok(CacheEvent::Synced) => {}
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(
                            "{} trigger lagged by {n} events: re-queueing every {}",
                            C::RESOURCE.info().plural,
                            kind::<K>()
                        );
                        for key in primary.keys() {
                            queue.add(key);
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
    })
}

/// Marks a key done when dropped, so a key is never left in flight (which would wedge the drain).
struct Processing<'a> {
    queue: &'a WorkQueue<String>,
    key: String,
}

impl Drop for Processing<'_> {
    fn drop(&mut self) {
        self.queue.done(&self.key);
    }
}

async fn worker<K, Ctx, E, F, Fut, P>(
    queue: WorkQueue<String>,
    cache: Cache<K>,
    reconcile: Arc<F>,
    error_policy: Arc<P>,
    ctx: Arc<Ctx>,
    stats: ControllerStats,
) where
    K: Object,
    Ctx: Send + Sync + 'static,
    E: Display + Send + 'static,
    F: Fn(Arc<K>, Arc<Ctx>) -> Fut,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    P: Fn(Arc<K>, &E, Arc<Ctx>) -> Action,
{
    while let Some(key) = queue.get().await {
        let guard = Processing { queue: &queue, key };
        let key = &guard.key;
        let Some(obj) = cache.get(key) else {
            // Gone: nothing to reconcile (cleanup is by owner references or finalizers).
            queue.forget(key);
            stats.inner.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        // Its own task, so that a panicking reconcile fails one key, not the worker.
        let outcome = tokio::spawn(reconcile(obj.clone(), ctx.clone())).await;
        let action = match outcome {
            Ok(Ok(action)) => {
                queue.forget(key);
                stats.inner.reconciled.fetch_add(1, Ordering::Relaxed);
                action
            }
            Ok(Err(e)) => {
                stats.inner.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("reconcile of {} {key} failed: {e}", kind::<K>());
                error_policy(obj, &e, ctx.clone())
            }
            Err(e) => {
                stats.inner.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!("reconcile of {} {key} panicked: {e}", kind::<K>());
                Action::backoff()
            }
        };
        match action.kind {
            ActionKind::Requeue(after) => queue.add_after(key.clone(), after),
            ActionKind::AwaitChange => {}
            ActionKind::Backoff => queue.add_rate_limited(key.clone()),
        }
    }
}
