//! Runs each running container's liveness and readiness probes on their schedule (one small
//! task per probed container and kind, timed by kube-core's `ProbeTracker`) and keeps the
//! verdicts the pod sync reads. A verdict that changes queues the pod for a sync.

use super::probes::{run_probe, ProbeTarget};
use crate::clock::Clock;
use crate::controller::WorkQueue;
use kube_core::kubelet::containers::PodContainers;
use kube_core::kubelet::probe::{ProbeKind, ProbeTracker};
use kube_core::pod::{Container, Pod, Probe};
use kube_core::runtime::ContainerRuntime;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::task::AbortHandle;

/// One probe worker: which container, which kind, and its task.
struct Worker {
    container_id: String,
    task: AbortHandle,
}

/// The probe state of one pod.
#[derive(Default)]
struct PodProbes {
    /// Workers by (container name, kind).
    workers: HashMap<(String, ProbeKind), Worker>,
    /// Container IDs whose liveness probe failed past its threshold.
    unhealthy: BTreeSet<String>,
    /// Container IDs whose readiness probe passes.
    ready: BTreeSet<String>,
}

/// Probe workers and their verdicts, by pod UID.
#[derive(Clone)]
pub(crate) struct ProbeManager {
    runtime: Arc<dyn ContainerRuntime>,
    clock: Clock,
    queue: WorkQueue<String>,
    pods: Arc<Mutex<HashMap<String, PodProbes>>>,
}

impl ProbeManager {
    /// A manager probing through `runtime`, queueing pods whose verdicts change on `queue`.
    pub fn new(
        runtime: Arc<dyn ContainerRuntime>,
        clock: Clock,
        queue: WorkQueue<String>,
    ) -> ProbeManager {
        ProbeManager {
            runtime,
            clock,
            queue,
            pods: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// (unhealthy, ready) container IDs of a pod.
    pub fn results(&self, uid: &str) -> (Vec<String>, Vec<String>) {
        let pods = self.lock();
        pods.get(uid)
            .map(|p| {
                (
                    p.unhealthy.iter().cloned().collect(),
                    p.ready.iter().cloned().collect(),
                )
            })
            .unwrap_or_default()
    }

    /// Starts probing the pod's running containers that have probes, and stops the workers
    /// of containers that are no longer running.
    pub fn sync_pod(&self, pod: &Pod, group: &PodContainers<'_>) {
        let uid = pod.metadata.uid.clone();
        let pod_ip: Option<IpAddr> = group.running_infra().and_then(|i| i.info.ip_address);
        let mut wanted: Vec<(String, ProbeKind, String, Probe, Container)> = Vec::new();
        for c in &pod.spec.containers {
            let Some(run) = group.latest(&c.name).filter(|r| r.is_running()) else {
                continue;
            };
            for (kind, probe) in [
                (ProbeKind::Liveness, &c.liveness_probe),
                (ProbeKind::Readiness, &c.readiness_probe),
            ] {
                if let Some(p) = probe {
                    wanted.push((
                        c.name.clone(),
                        kind,
                        run.info.id.clone(),
                        p.clone(),
                        c.clone(),
                    ));
                }
            }
        }
        let mut pods = self.lock();
        let state = pods.entry(uid.clone()).or_default();
        // Stop workers whose container is gone or replaced.
        state.workers.retain(|key, w| {
            let keep = wanted
                .iter()
                .any(|(n, k, id, _, _)| (n, k) == (&key.0, &key.1) && *id == w.container_id);
            if !keep {
                w.task.abort();
            }
            keep
        });
        let live: BTreeSet<&str> = wanted.iter().map(|w| w.2.as_str()).collect();
        state.unhealthy.retain(|id| live.contains(id.as_str()));
        state.ready.retain(|id| live.contains(id.as_str()));
        for (name, kind, id, probe, container) in wanted {
            let key = (name, kind);
            if state.workers.contains_key(&key) {
                continue;
            }
            let started = group
                .latest(&key.0)
                .and_then(|r| r.info.started_at)
                .unwrap_or_else(|| self.clock.now());
            let tracker = ProbeTracker::new(kind, Some(&probe), id.clone(), started);
            let task = tokio::spawn(self.clone().probe_loop(
                uid.clone(),
                tracker,
                probe,
                container,
                ProbeTarget {
                    pod_ip,
                    container_id: id.clone(),
                },
            ));
            state.workers.insert(
                key,
                Worker {
                    container_id: id,
                    task: task.abort_handle(),
                },
            );
        }
        if state.workers.is_empty() && state.unhealthy.is_empty() && state.ready.is_empty() {
            pods.remove(&uid);
        }
    }

    /// Probes one container on its tracker's schedule until aborted.
    async fn probe_loop(
        self,
        uid: String,
        mut tracker: ProbeTracker,
        probe: Probe,
        container: Container,
        target: ProbeTarget,
    ) {
        let id = target.container_id.clone();
        loop {
            let Some(due) = tracker.next_due() else {
                return;
            };
            let wait = due.saturating_duration_since(self.clock.now());
            if !wait.is_zero() {
                self.clock.sleep(wait).await;
            }
            let result = run_probe(self.runtime.as_ref(), &probe, &container, target.clone()).await;
            let changed = tracker.record(self.clock.now(), &result);
            if changed {
                let passing = tracker.verdict().is_passing();
                let mut pods = self.lock();
                let state = pods.entry(uid.clone()).or_default();
                let set = match tracker.kind() {
                    ProbeKind::Liveness => &mut state.unhealthy,
                    ProbeKind::Readiness => &mut state.ready,
                };
                // `unhealthy` holds failing liveness; `ready` holds passing readiness.
                let member = match tracker.kind() {
                    ProbeKind::Liveness => !passing,
                    ProbeKind::Readiness => passing,
                };
                if member {
                    set.insert(id.clone());
                } else {
                    set.remove(&id);
                }
                drop(pods);
                tracing::debug!(pod = %uid, container = %id, kind = ?tracker.kind(), passing, "probe verdict changed");
                self.queue.add(uid.clone());
            }
        }
    }

    /// Stops probing a pod and forgets its verdicts.
    pub fn forget_pod(&self, uid: &str) {
        if let Some(state) = self.lock().remove(uid) {
            for w in state.workers.values() {
                w.task.abort();
            }
        }
    }

    /// Stops every worker.
    pub fn shutdown(&self) {
        for state in self.lock().values() {
            for w in state.workers.values() {
                w.task.abort();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PodProbes>> {
        self.pods.lock().unwrap_or_else(|p| p.into_inner())
    }
}
