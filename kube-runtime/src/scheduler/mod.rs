//! The scheduler component: watches pending pods and nodes, places pods with the
//! kube-core framework, and binds them through the API.
//!
//! One event loop owns the [`Snapshot`] and the [`SchedulingQueue`]. Informers feed it
//! pod, node, replication controller and service changes; the snapshot is updated
//! incrementally from them. A placed pod is *assumed* (added to the snapshot at once, so
//! the next decision sees its ports and resources) and bound in the background; a failed
//! bind un-assumes it and puts it back with backoff. A pod that fits nowhere gets
//! `PodScheduled=False/Unschedulable` with the reasons and a `FailedScheduling` event, and
//! is retried with backoff (1 s doubling to 60 s), at once when a node is added or changes
//! or a pod leaves.

pub mod queue;

use crate::client::{ApiClient, ListParams};
use crate::events::{EventRecorder, NORMAL, WARNING};
use crate::informer::{object_key, Change, Informer};
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
use tokio::sync::{mpsc, Semaphore};

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

/// Runs the scheduler against `client` until `shutdown` completes.
pub async fn run<C: ApiClient>(
    client: C,
    config: SchedulerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let (pod_tx, mut pod_rx) = mpsc::unbounded_channel::<Change<Pod>>();
    let (node_tx, mut node_rx) = mpsc::unbounded_channel::<Change<Node>>();
    let (rc_tx, mut rc_rx) = mpsc::unbounded_channel::<Change<ReplicationController>>();
    let (svc_tx, mut svc_rx) = mpsc::unbounded_channel::<Change<Service>>();
    let informers = [
        tokio::spawn(Informer::new(client.clone(), ListParams::default()).run(pod_tx)),
        tokio::spawn(Informer::new(client.clone(), ListParams::default()).run(node_tx)),
        tokio::spawn(Informer::new(client.clone(), ListParams::default()).run(rc_tx)),
        tokio::spawn(Informer::new(client.clone(), ListParams::default()).run(svc_tx)),
    ];
    let (bind_tx, mut bind_rx) = mpsc::unbounded_channel::<BindOutcome>();
    let mut s = State::new(client, config, bind_tx);
    tokio::pin!(shutdown);
    loop {
        // A ready pod must not wait on the timer: tokio's timer ticks in whole milliseconds.
        let ready_now = s.ready_to_schedule() && s.queue.has_active();
        let wake = s.next_wakeup();
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            Some(c) = pod_rx.recv() => s.on_pod(c),
            Some(c) = node_rx.recv() => s.on_node(c),
            Some(c) = rc_rx.recv() => s.on_rc(c),
            Some(c) = svc_rx.recv() => s.on_service(c),
            Some(b) = bind_rx.recv() => s.on_bound(b),
            _ = std::future::ready(()), if ready_now => s.schedule_batch(),
            _ = sleep_until(wake), if !ready_now && s.ready_to_schedule() => s.schedule_one(),
        }
    }
    for i in informers {
        i.abort();
    }
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
    /// Unbound pods by key (latest version seen).
    pending: HashMap<String, Pod>,
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
        bind_tx: mpsc::UnboundedSender<BindOutcome>,
    ) -> State<C> {
        State {
            recorder: EventRecorder::new(client.clone(), "scheduler"),
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

    fn on_pod(&mut self, change: Change<Pod>) {
        match change {
            Change::Synced => self.pods_synced = true,
            Change::Added(pod) | Change::Modified { new: pod, .. } => self.pod_seen(pod),
            Change::Deleted(pod) => {
                let key = object_key(&pod);
                self.pending.remove(&key);
                self.in_flight.remove(&key);
                self.queue.remove(&key);
                if self.snapshot.has_pod(&key) {
                    self.snapshot.remove_pod(&key);
                    // A pod left: room may have opened for waiting pods.
                    self.queue.move_all_to_active();
                }
            }
        }
    }

    fn pod_seen(&mut self, pod: Pod) {
        let key = object_key(&pod);
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

    fn on_node(&mut self, change: Change<Node>) {
        match change {
            Change::Synced => self.nodes_synced = true,
            Change::Added(n) | Change::Modified { new: n, .. } => {
                self.snapshot.upsert_node(&n);
                self.queue.move_all_to_active();
            }
            Change::Deleted(n) => self.snapshot.remove_node(&n.metadata.name),
        }
    }

    fn on_rc(&mut self, change: Change<ReplicationController>) {
        let sel = |rc: &ReplicationController| SpreadSelector {
            namespace: rc.metadata.namespace.clone(),
            selector: rc.spec.selector.clone(),
        };
        let changed = match change {
            Change::Synced => false,
            Change::Added(rc) | Change::Modified { new: rc, .. } => {
                self.rc_selectors.insert(object_key(&rc), sel(&rc)) != Some(sel(&rc))
            }
            Change::Deleted(rc) => self.rc_selectors.remove(&object_key(&rc)).is_some(),
        };
        if changed {
            self.refresh_spread();
        }
    }

    fn on_service(&mut self, change: Change<Service>) {
        let sel = |s: &Service| SpreadSelector {
            namespace: s.metadata.namespace.clone(),
            selector: s.spec.selector.clone(),
        };
        let changed = match change {
            Change::Synced => false,
            Change::Added(s) | Change::Modified { new: s, .. } => {
                self.svc_selectors.insert(object_key(&s), sel(&s)) != Some(sel(&s))
            }
            Change::Deleted(s) => self.svc_selectors.remove(&object_key(&s)).is_some(),
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
                    self.queue.backoff(&key, Instant::now());
                }
            }
        }
    }

    fn schedule_one(&mut self) {
        let now = Instant::now();
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
                self.spawn_bind(key, pod.clone(), placed.node);
            }
            Err(fit) => {
                let message = fit.to_string();
                self.queue.backoff(&key, now);
                self.report_unschedulable(pod.clone(), message);
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
            last_transition_time: kube_core::time::format_rfc3339(unix_now()),
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

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
