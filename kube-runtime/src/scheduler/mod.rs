//! The scheduler component: watches pending pods and nodes, places pods with the
//! kube-core framework, and binds them through the API.
//!
//! One event loop owns the [`Snapshot`] and the [`SchedulingQueue`]. It reads pods, nodes,
//! replication controllers and services from shared caches ([`SharedInformers`]; no private
//! copy of any object) and subscribes to their changes; the snapshot is updated
//! incrementally from them. A subscription that lagged is answered by re-reading the cache
//! (level-triggered: the view is rebuilt, nothing is lost). A placed pod is *assumed* (added to the snapshot at once, so
//! the next decision sees its ports and resources) and bound in the background; a failed
//! bind un-assumes it and puts it back with backoff. A pod that fits nowhere gets
//! `PodScheduled=False/Unschedulable` with the reasons and a `FailedScheduling` event, and
//! is retried with backoff (1 s doubling to 60 s), at once when a node is added or changes
//! or a pod leaves.

pub mod queue;

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::events::{EventRecorder, NORMAL, WARNING};
use crate::informer::{object_key, Cache, CacheEvent, SharedInformers};
use kube_core::error::ApiError;
use kube_core::pod::{
    PodCondition, CONDITION_FALSE, CONDITION_POD_SCHEDULED, PHASE_FAILED, PHASE_SUCCEEDED,
    REASON_UNSCHEDULABLE,
};
use kube_core::scheduler::{Framework, PodInfo, Snapshot, SplitMix64, SpreadSelector};
use kube_core::{Binding, Node, ObjectReference, Pod, ReplicationController, Service};
use queue::SchedulingQueue;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, Semaphore};

/// Settings of the scheduler.
pub struct SchedulerConfig {
    /// The filters and scores to use.
    pub framework: Framework,
    /// Seed of the tie-breaking random source.
    pub seed: u64,
    /// First retry delay of a pod that fits nowhere.
    pub initial_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Bindings in flight at once.
    pub bind_concurrency: usize,
    /// Whether to record a `Scheduled` event per bound pod.
    pub record_scheduled_events: bool,
    /// The source of time (retry timers and condition timestamps).
    pub clock: Clock,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            framework: Framework::new(),
            seed: 0x5eed,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            bind_concurrency: 32,
            record_scheduled_events: true,
            clock: Clock::real(),
        }
    }
}

/// Pods placed per loop turn before pending events are looked at again.
const SCHEDULE_BATCH: usize = 16;

/// The outcome of a background bind.
struct BindOutcome {
    key: String,
    result: Result<(), ApiError>,
}

/// Runs the scheduler against `client` until `shutdown` completes, on caches of its own.
pub async fn run<C: ApiClient>(
    client: C,
    config: SchedulerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
}

/// Runs the scheduler on the shared caches of `informers` (started here if they are not yet)
/// until `shutdown` completes.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: SchedulerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let all = ListParams::default();
    let caches = Caches {
        pods: informers.cache::<Pod>(None, &all),
        nodes: informers.cache::<Node>(None, &all),
        rcs: informers.cache::<ReplicationController>(None, &all),
        services: informers.cache::<Service>(None, &all),
    };
    // Subscribe before starting, so no change falls between the two.
    let mut pod_rx = caches.pods.subscribe();
    let mut node_rx = caches.nodes.subscribe();
    let mut rc_rx = caches.rcs.subscribe();
    let mut svc_rx = caches.services.subscribe();
    informers.start();
    let (bind_tx, mut bind_rx) = mpsc::unbounded_channel::<BindOutcome>();
    let mut s = State::new(client, config, caches, bind_tx);
    // Caches synced before we subscribed announce nothing more: read them.
    s.resync_pods();
    s.resync_nodes();
    s.resync_selectors();
    tokio::pin!(shutdown);
    loop {
        // A ready pod must not wait on the timer: tokio's timer ticks in whole milliseconds.
        let ready_now = s.ready_to_schedule() && s.queue.has_active();
        let wake = s.next_wakeup();
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = pod_rx.recv() => match r {
                Ok(e) => s.on_pod(e),
                Err(e) => lagged(e, &mut pod_rx, || s.resync_pods()),
            },
            r = node_rx.recv() => match r {
                Ok(e) => s.on_node(e),
                Err(e) => lagged(e, &mut node_rx, || s.resync_nodes()),
            },
            r = rc_rx.recv() => match r {
                Ok(e) => s.on_rc(e),
                Err(e) => lagged(e, &mut rc_rx, || s.resync_selectors()),
            },
            r = svc_rx.recv() => match r {
                Ok(e) => s.on_service(e),
                Err(e) => lagged(e, &mut svc_rx, || s.resync_selectors()),
            },
            Some(b) = bind_rx.recv() => s.on_bound(b),
            _ = std::future::ready(()), if ready_now => s.schedule_batch(),
            _ = sleep_until(wake), if !ready_now && s.ready_to_schedule() => s.schedule_one(),
        }
    }
}

/// Handles a failed receive: after a lag, skip the stale backlog (re-subscribe at the tail),
/// then re-read the cache, which is at least as new. (The channel cannot close: the loop's
/// cache readers keep its sender alive.)
fn lagged<T: Clone>(e: RecvError, rx: &mut broadcast::Receiver<T>, resync: impl FnOnce()) {
    if let RecvError::Lagged(n) = e {
        tracing::debug!("scheduler lagged {n} cache events; re-reading the cache");
        *rx = rx.resubscribe();
        resync();
    }
}

/// The shared caches the scheduler reads.
struct Caches {
    pods: Cache<Pod>,
    nodes: Cache<Node>,
    rcs: Cache<ReplicationController>,
    services: Cache<Service>,
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

struct State<C> {
    client: C,
    framework: Framework,
    rng: SplitMix64,
    snapshot: Snapshot,
    queue: SchedulingQueue,
    /// Unbound pods by key (latest version seen; shared with the cache).
    pending: HashMap<String, Arc<Pod>>,
    /// Every pod key the loop accounts for (pending or on a node), to notice deletions on resync.
    tracked: HashSet<String>,
    caches: Caches,
    clock: Clock,
    /// Pods assumed onto a node whose binding is in flight.
    in_flight: HashSet<String>,
    rc_selectors: HashMap<String, SpreadSelector>,
    svc_selectors: HashMap<String, SpreadSelector>,
    pods_synced: bool,
    nodes_synced: bool,
    binds: Arc<Semaphore>,
    bind_tx: mpsc::UnboundedSender<BindOutcome>,
    recorder: EventRecorder<C>,
    record_scheduled_events: bool,
}

impl<C: ApiClient> State<C> {
    fn new(
        client: C,
        config: SchedulerConfig,
        caches: Caches,
        bind_tx: mpsc::UnboundedSender<BindOutcome>,
    ) -> State<C> {
        State {
            tracked: HashSet::new(),
            caches,
            clock: config.clock.clone(),
            recorder: EventRecorder::with_clock(client.clone(), "scheduler", config.clock.clone()),
            client,
            framework: config.framework,
            rng: SplitMix64::new(config.seed),
            snapshot: Snapshot::new(),
            queue: SchedulingQueue::new(config.initial_backoff, config.max_backoff),
            pending: HashMap::new(),
            in_flight: HashSet::new(),
            rc_selectors: HashMap::new(),
            svc_selectors: HashMap::new(),
            pods_synced: false,
            nodes_synced: false,
            binds: Arc::new(Semaphore::new(config.bind_concurrency.max(1))),
            bind_tx,
            record_scheduled_events: config.record_scheduled_events,
        }
    }

    /// Schedule only once pods and nodes are listed, so no decision is made on a partial view.
    fn ready_to_schedule(&self) -> bool {
        self.pods_synced && self.nodes_synced && !self.queue.is_empty()
    }

    fn next_wakeup(&self) -> Option<Instant> {
        self.queue.next_ready_at()
    }

    /// Schedules up to a small batch of ready pods, then lets the loop drain new events.
    fn schedule_batch(&mut self) {
        for _ in 0..SCHEDULE_BATCH {
            if !self.queue.has_active() {
                break;
            }
            self.schedule_one();
        }
    }

    fn on_pod(&mut self, event: CacheEvent<Pod>) {
        match event {
            CacheEvent::Synced => self.pods_synced = true,
            CacheEvent::Applied { new, .. } => self.pod_seen(new),
            CacheEvent::Deleted(pod) => self.pod_gone(&object_key(pod.as_ref())),
        }
    }

    fn pod_gone(&mut self, key: &str) {
        self.tracked.remove(key);
        self.pending.remove(key);
        self.in_flight.remove(key);
        self.queue.remove(key);
        if self.snapshot.has_pod(key) {
            self.snapshot.remove_pod(key);
            // A pod left: room may have opened for waiting pods.
            self.queue.move_all_to_active();
        }
    }

    /// Re-reads every pod from the cache (at start, and after the subscription lagged).
    fn resync_pods(&mut self) {
        let pods = self.caches.pods.list();
        let present: HashSet<String> = pods.iter().map(|p| object_key(p.as_ref())).collect();
        let gone: Vec<String> = self
            .tracked
            .iter()
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            self.pod_gone(&key);
        }
        for pod in pods {
            self.pod_seen(pod);
        }
        if self.caches.pods.is_synced() {
            self.pods_synced = true;
        }
    }

    fn pod_seen(&mut self, pod: Arc<Pod>) {
        let key = object_key(pod.as_ref());
        self.tracked.insert(key.clone());
        let terminal = pod.status.phase == PHASE_SUCCEEDED || pod.status.phase == PHASE_FAILED;
        if pod.spec.node_name.is_empty() {
            if self.in_flight.contains(&key) {
                // Our binding is in flight; keep the assumption until it answers.
                self.pending.insert(key, pod);
                return;
            }
            self.pending.insert(key.clone(), pod);
            self.queue.add(&key);
            return;
        }
        // Bound (by us or anyone): account it on its node, replacing any assumption.
        self.pending.remove(&key);
        self.in_flight.remove(&key);
        self.queue.remove(&key);
        let was_there = self.snapshot.has_pod(&key);
        if was_there {
            self.snapshot.remove_pod(&key);
        }
        if terminal {
            if was_there {
                self.queue.move_all_to_active();
            }
        } else {
            self.snapshot.add_pod(&PodInfo::new(&pod));
        }
    }

    fn on_node(&mut self, event: CacheEvent<Node>) {
        match event {
            CacheEvent::Synced => self.nodes_synced = true,
            CacheEvent::Applied { new, .. } => {
                self.snapshot.upsert_node(&new);
                self.queue.move_all_to_active();
            }
            CacheEvent::Deleted(n) => self.snapshot.remove_node(&n.metadata.name),
        }
    }

    /// Re-reads every node from the cache.
    fn resync_nodes(&mut self) {
        let nodes = self.caches.nodes.list();
        let present: HashSet<&str> = nodes.iter().map(|n| n.metadata.name.as_str()).collect();
        let gone: Vec<String> = self
            .snapshot
            .nodes()
            .iter()
            .map(|n| n.name().to_string())
            .filter(|n| !present.contains(n.as_str()))
            .collect();
        for name in gone {
            self.snapshot.remove_node(&name);
        }
        for n in &nodes {
            self.snapshot.upsert_node(n);
        }
        self.queue.move_all_to_active();
        if self.caches.nodes.is_synced() {
            self.nodes_synced = true;
        }
    }

    /// Re-reads every replication controller and service selector from the caches.
    fn resync_selectors(&mut self) {
        self.rc_selectors = self
            .caches
            .rcs
            .list()
            .iter()
            .map(|rc| (object_key(rc.as_ref()), rc_selector(rc)))
            .collect();
        self.svc_selectors = self
            .caches
            .services
            .list()
            .iter()
            .map(|s| (object_key(s.as_ref()), service_selector(s)))
            .collect();
        self.refresh_spread();
    }

    fn on_rc(&mut self, event: CacheEvent<ReplicationController>) {
        let changed = match event {
            CacheEvent::Synced => false,
            CacheEvent::Applied { new, .. } => {
                let sel = rc_selector(&new);
                self.rc_selectors
                    .insert(object_key(new.as_ref()), sel.clone())
                    != Some(sel)
            }
            CacheEvent::Deleted(rc) => self.rc_selectors.remove(&object_key(rc.as_ref())).is_some(),
        };
        if changed {
            self.refresh_spread();
        }
    }

    fn on_service(&mut self, event: CacheEvent<Service>) {
        let changed = match event {
            CacheEvent::Synced => false,
            CacheEvent::Applied { new, .. } => {
                let sel = service_selector(&new);
                self.svc_selectors
                    .insert(object_key(new.as_ref()), sel.clone())
                    != Some(sel)
            }
            CacheEvent::Deleted(s) => self.svc_selectors.remove(&object_key(s.as_ref())).is_some(),
        };
        if changed {
            self.refresh_spread();
        }
    }

    fn refresh_spread(&mut self) {
        let all = self
            .rc_selectors
            .values()
            .chain(self.svc_selectors.values())
            .cloned()
            .collect();
        self.snapshot.set_namespaced_spread_selectors(all);
    }

    fn on_bound(&mut self, outcome: BindOutcome) {
        let BindOutcome { key, result } = outcome;
        if !self.in_flight.remove(&key) {
            return; // The watch already reported the bound pod (or its deletion).
        }
        match result {
            Ok(()) => self.queue.forget(&key),
            Err(e) => {
                self.snapshot.remove_pod(&key);
                if e.is_not_found() {
                    self.pending.remove(&key);
                } else if e.is_conflict() {
                    // Someone else bound it; the watch will account it.
                    tracing::debug!("binding {key}: {e}");
                } else if self.pending.contains_key(&key) {
                    tracing::warn!("binding {key} failed: {e}");
                    self.queue.backoff(&key, self.clock.instant().into_std());
                }
            }
        }
    }

    fn schedule_one(&mut self) {
        let now = self.clock.instant().into_std();
        let Some(key) = self.queue.pop(now) else {
            return;
        };
        let Some(pod) = self.pending.get(&key) else {
            return;
        };
        let mut info = PodInfo::new(pod);
        match self
            .framework
            .schedule(&info, &self.snapshot, &mut self.rng)
        {
            Ok(placed) => {
                info.set_node_name(placed.node.clone());
                self.snapshot.add_pod(&info);
                self.in_flight.insert(key.clone());
                self.spawn_bind(key, Pod::clone(pod), placed.node);
            }
            Err(fit) => {
                let message = fit.to_string();
                self.queue.backoff(&key, now);
                self.report_unschedulable(Pod::clone(pod), message);
            }
        }
    }

    fn spawn_bind(&self, key: String, pod: Pod, node: String) {
        let client = self.client.clone();
        let permits = self.binds.clone();
        let tx = self.bind_tx.clone();
        let recorder = self.record_scheduled_events.then(|| self.recorder.clone());
        tokio::spawn(async move {
            let _permit = permits.acquire().await;
            let binding = Binding {
                metadata: kube_core::ObjectMeta {
                    name: pod.metadata.name.clone(),
                    namespace: pod.metadata.namespace.clone(),
                    ..Default::default()
                },
                target: ObjectReference {
                    kind: "Node".into(),
                    name: node.clone(),
                    ..Default::default()
                },
                ..Binding::default()
            };
            let result = client.bind(&pod.metadata.namespace, &binding).await;
            if let (Ok(()), Some(r)) = (&result, recorder) {
                let msg = format!(
                    "Successfully assigned {}/{} to {node}",
                    pod.metadata.namespace, pod.metadata.name
                );
                r.record(&pod, NORMAL, "Scheduled", &msg);
            }
            let _ = tx.send(BindOutcome { key, result });
        });
    }

    /// Sets `PodScheduled=False/Unschedulable` (when it changed) and records a `FailedScheduling` event.
    fn report_unschedulable(&self, mut pod: Pod, message: String) {
        let changed = pod.status.set_condition(PodCondition {
            type_: CONDITION_POD_SCHEDULED.into(),
            status: CONDITION_FALSE.into(),
            reason: REASON_UNSCHEDULABLE.into(),
            message: message.clone(),
            last_transition_time: self.clock.now().to_rfc3339(),
            ..PodCondition::default()
        });
        self.recorder
            .record(&pod, WARNING, "FailedScheduling", &message);
        if !changed {
            return;
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            pod.metadata.resource_version.clear();
            if let Err(e) = client.update_status(&pod.metadata.namespace, &pod).await {
                tracing::debug!("reporting {} unschedulable: {e}", pod.metadata.name);
            }
        });
    }
}

fn rc_selector(rc: &ReplicationController) -> SpreadSelector {
    SpreadSelector {
        namespace: rc.metadata.namespace.clone(),
        selector: rc.spec.selector.clone(),
    }
}

fn service_selector(s: &Service) -> SpreadSelector {
    SpreadSelector {
        namespace: s.metadata.namespace.clone(),
        selector: s.spec.selector.clone(),
    }
}
