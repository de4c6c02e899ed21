//! The pod sync plan: from one pod's spec and its observed containers, the runtime actions
//! that bring them together. Pure; the kubelet's loop applies the actions in order.
//!
//! Semantics follow Kubernetes' kubelet:
//! - a pod gets an infra container first; app containers start once it runs; when it dies,
//!   the app containers are stopped and the pod's sandbox is made again;
//! - an exited container is restarted by the pod's restart policy (`Always`; `OnFailure` when
//!   the exit code is not 0; never with `Never`), the first time at once, then after a
//!   crash-loop back-off of 10 s doubling to 5 min (reset when the last run lasted 10 min);
//! - a running container whose spec hash differs, or whose liveness probe failed, is stopped
//!   (and then restarted by the same rules);
//! - a pod whose containers have all finished for good has its infra container stopped;
//! - a pod being deleted has every container stopped within what is left of its grace period,
//!   then removed, and then the pod object itself is deleted;
//! - the newest two runs of each container are kept (the current and the `previous` one for
//!   logs); older exited runs are removed.

use crate::backoff::Backoff;
use crate::kubelet::config::{container_hash, infra_hash};
use crate::kubelet::containers::{Observed, PodContainers};
use crate::kubelet::labels;
use crate::pod::{Pod, RESTART_NEVER, RESTART_ON_FAILURE};
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::time::Duration;

/// Grace given to containers whose pod no longer exists (Kubernetes' minimum grace period).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(2);
/// Crash-loop back-off: first delay (after the first immediate restart).
pub const CRASH_BACKOFF_INITIAL: Duration = Duration::from_secs(10);
/// Crash-loop back-off: longest delay.
pub const CRASH_BACKOFF_MAX: Duration = Duration::from_secs(300);
/// A run that lasted this long resets the crash-loop back-off.
pub const CRASH_BACKOFF_RESET: Duration = Duration::from_secs(600);

/// Why a container is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillReason {
    /// Its spec changed (hash differs).
    SpecChanged,
    /// Its liveness probe failed.
    Unhealthy,
    /// The pod is being deleted.
    PodDeleted,
    /// Its pod no longer exists.
    Orphan,
    /// A second running copy of the same container.
    Duplicate,
    /// Every app container of the pod has finished for good.
    PodFinished,
    /// The pod's infra container died, so its network is gone.
    SandboxDead,
    /// The container is not in the pod's spec.
    NotInSpec,
}

/// One runtime step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncAction {
    /// Create and start the pod's infra container (attempt number `attempt`).
    StartInfra {
        /// Attempt number (the infra's `RESTART_COUNT` label).
        attempt: i32,
    },
    /// Create and start an app container (pulling its image as its policy says).
    StartContainer {
        /// Container name in the pod spec.
        name: String,
        /// Restart count of the new run.
        restart_count: i32,
    },
    /// Stop a running container.
    KillContainer {
        /// Runtime ID.
        id: String,
        /// Time between SIGTERM and SIGKILL.
        grace: Duration,
        /// Why.
        reason: KillReason,
    },
    /// Remove a container that is not running.
    RemoveContainer {
        /// Runtime ID.
        id: String,
    },
    /// Delete the pod object for good: all of its containers are gone.
    DeletePod,
}

/// A failed attempt to start a container (image pull, create or start), remembered by the
/// kubelet so that retries back off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartFailure {
    /// `ErrImagePull`, `CreateContainerConfigError`, `CreateContainerError` or
    /// `RunContainerError`.
    pub reason: String,
    /// The runtime's message.
    pub message: String,
    /// Consecutive failures.
    pub attempts: u32,
    /// When the last one happened.
    pub at: Timestamp,
}

impl StartFailure {
    /// When the next attempt may be made (10 s doubling to 5 min after each failure).
    pub fn retry_at(&self) -> Timestamp {
        let n = self.attempts.saturating_sub(1);
        self.at.saturating_add(crash_backoff().base_delay(n))
    }
}

/// What the kubelet knows about one pod besides its spec and containers.
#[derive(Clone, Debug, Default)]
pub struct PodExtras<'a> {
    /// Failed start attempts by container name ([`labels::INFRA_CONTAINER_NAME`] for the
    /// infra container).
    pub start_failures: BTreeMap<&'a str, &'a StartFailure>,
    /// IDs of running containers whose liveness probe says to restart them.
    pub unhealthy: Vec<&'a str>,
    /// IDs of running containers whose readiness probe passes.
    pub ready: Vec<&'a str>,
}

/// The plan for one pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncPlan {
    /// Steps, in order; the loop stops at the first that fails.
    pub actions: Vec<SyncAction>,
    /// When the pod should be looked at again even if nothing changes (a back-off expires).
    pub resync_at: Option<Timestamp>,
}

impl SyncPlan {
    fn push(&mut self, a: SyncAction) {
        self.actions.push(a);
    }

    fn resync(&mut self, at: Timestamp) {
        self.resync_at = Some(self.resync_at.map_or(at, |t| t.min(at)));
    }
}

/// The crash-loop back-off curve.
pub fn crash_backoff() -> Backoff {
    Backoff::new(CRASH_BACKOFF_INITIAL, CRASH_BACKOFF_MAX)
}

/// Whether a container that exited with `exit_code` is restarted under `policy`.
pub fn should_restart(policy: &str, exit_code: Option<i64>) -> bool {
    match policy {
        RESTART_NEVER => false,
        RESTART_ON_FAILURE => exit_code != Some(0),
        _ => true,
    }
}

/// When an exited container may be restarted: at once after its first run, then 10 s, 20 s,
/// … 5 min after it finished; at once again when its last run lasted 10 min or more.
pub fn restart_at(run: &Observed<'_>) -> Option<Timestamp> {
    let finished = run.info.finished_at?;
    if run.key.restart_count == 0 {
        return None;
    }
    if let Some(started) = run.info.started_at {
        if finished.saturating_duration_since(started) >= CRASH_BACKOFF_RESET {
            return None;
        }
    }
    let n = u32::try_from(run.key.restart_count - 1).unwrap_or(0);
    Some(finished.saturating_add(crash_backoff().base_delay(n)))
}

/// Whether every app container of the pod has run and will not run again.
pub fn pod_finished(pod: &Pod, group: &PodContainers<'_>) -> bool {
    !pod.spec.containers.is_empty()
        && pod.spec.containers.iter().all(|c| {
            group.latest(&c.name).is_some_and(|run| {
                run.is_exited() && !should_restart(&pod.spec.restart_policy, run.info.exit_code)
            })
        })
}

/// Plans one pod that exists in the API.
pub fn plan_pod(
    pod: &Pod,
    group: &PodContainers<'_>,
    extras: &PodExtras<'_>,
    now: Timestamp,
) -> SyncPlan {
    if !pod.metadata.deletion_timestamp.is_empty() {
        let deadline = Timestamp::parse(&pod.metadata.deletion_timestamp).unwrap_or(now);
        return plan_teardown(
            group,
            deadline.saturating_duration_since(now),
            KillReason::PodDeleted,
            true,
        );
    }
    let mut plan = SyncPlan::default();
    let policy = pod.spec.restart_policy.as_str();
    let pod_grace = Duration::from_secs(
        pod.spec
            .termination_grace_period_seconds
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(30),
    );

    // A second running infra container is stopped; old attempts that are not running are
    // removed, after the app containers joined to them are stopped.
    let running_infra = group.running_infra();
    let mut old_infra = Vec::new();
    for o in &group.infra {
        if Some(o.info.id.as_str()) == running_infra.map(|r| r.info.id.as_str()) {
            continue;
        }
        if o.is_running() {
            plan.push(kill(o, ORPHAN_GRACE, KillReason::Duplicate));
        } else {
            old_infra.push(SyncAction::RemoveContainer {
                id: o.info.id.clone(),
            });
        }
    }

    if pod_finished(pod, group) {
        if let Some(infra) = running_infra {
            plan.push(kill(&infra, pod_grace, KillReason::PodFinished));
        }
        plan.actions.append(&mut old_infra);
        gc_runs(group, pod, &mut plan);
        return plan;
    }

    let want_infra = infra_hash(pod);
    let infra = running_infra.filter(|i| i.key.hash == Some(want_infra));
    let Some(_infra) = infra else {
        // No usable sandbox: stop what runs in the old one, then make a new one.
        for o in group.apps.values().flatten().filter(|o| o.is_running()) {
            plan.push(kill(o, pod_grace, KillReason::SandboxDead));
        }
        if let Some(stale) = running_infra {
            plan.push(kill(&stale, pod_grace, KillReason::SpecChanged));
        }
        plan.actions.append(&mut old_infra);
        match extras
            .start_failures
            .get(labels::INFRA_CONTAINER_NAME)
            .map(|f| f.retry_at())
            .filter(|at| now < *at)
        {
            Some(at) => plan.resync(at),
            None => {
                let attempt = group.infra.first().map_or(0, |o| o.key.restart_count + 1);
                plan.push(SyncAction::StartInfra { attempt });
            }
        }
        return plan;
    };

    for c in &pod.spec.containers {
        let name = c.name.as_str();
        let failure = extras.start_failures.get(name);
        let in_failure_backoff = failure.is_some_and(|f| now < f.retry_at());
        if let Some(f) = failure.filter(|_| in_failure_backoff) {
            plan.resync(f.retry_at());
            // The status shows the failure itself for a second, then the back-off.
            let shown = f.at.saturating_add(Duration::from_secs(1));
            if now < shown {
                plan.resync(shown);
            }
        }
        let want_hash = container_hash(c);
        match group.latest(name) {
            None => {
                if !in_failure_backoff {
                    plan.push(SyncAction::StartContainer {
                        name: name.to_string(),
                        restart_count: 0,
                    });
                }
            }
            Some(run) if run.is_running() => {
                if run.key.hash != Some(want_hash) {
                    plan.push(kill(&run, pod_grace, KillReason::SpecChanged));
                } else if extras.unhealthy.contains(&run.info.id.as_str()) {
                    plan.push(kill(&run, pod_grace, KillReason::Unhealthy));
                }
            }
            Some(run) if run.is_exited() => {
                let changed = run.key.hash != Some(want_hash);
                if !changed && !should_restart(policy, run.info.exit_code) {
                    continue;
                }
                let at = if changed { None } else { restart_at(&run) };
                match at.filter(|t| now < *t) {
                    Some(t) => plan.resync(t),
                    None if !in_failure_backoff => plan.push(SyncAction::StartContainer {
                        name: name.to_string(),
                        restart_count: run.key.restart_count + 1,
                    }),
                    None => {}
                }
            }
            Some(run) => {
                // Created but never started (a start that failed, or a crash in between):
                // remove it and try again once any back-off has passed.
                if !in_failure_backoff {
                    plan.push(SyncAction::RemoveContainer {
                        id: run.info.id.clone(),
                    });
                    plan.push(SyncAction::StartContainer {
                        name: name.to_string(),
                        restart_count: run.key.restart_count,
                    });
                }
            }
        }
    }
    // Containers no longer in the spec.
    for (name, runs) in &group.apps {
        if pod.spec.containers.iter().any(|c| c.name == *name) {
            continue;
        }
        for o in runs {
            plan.push(if o.is_running() {
                kill(o, pod_grace, KillReason::NotInSpec)
            } else {
                SyncAction::RemoveContainer {
                    id: o.info.id.clone(),
                }
            });
        }
    }
    plan.actions.append(&mut old_infra);
    gc_runs(group, pod, &mut plan);
    plan
}

/// Plans the containers of a pod that no longer exists in the API.
pub fn plan_orphan(group: &PodContainers<'_>) -> SyncPlan {
    plan_teardown(group, ORPHAN_GRACE, KillReason::Orphan, false)
}

/// Stops app containers, then the infra container, then removes them all; with
/// `delete_pod`, deletes the pod object once nothing is left.
fn plan_teardown(
    group: &PodContainers<'_>,
    grace: Duration,
    reason: KillReason,
    delete_pod: bool,
) -> SyncPlan {
    let mut plan = SyncPlan::default();
    for o in group.apps.values().flatten().filter(|o| o.is_running()) {
        plan.push(kill(o, grace, reason));
    }
    for o in group.infra.iter().filter(|o| o.is_running()) {
        plan.push(kill(o, grace, reason));
    }
    for o in group.all() {
        plan.push(SyncAction::RemoveContainer {
            id: o.info.id.clone(),
        });
    }
    if delete_pod {
        plan.push(SyncAction::DeletePod);
    }
    plan
}

/// Removes exited runs older than the newest two of each container.
fn gc_runs(group: &PodContainers<'_>, pod: &Pod, plan: &mut SyncPlan) {
    for (name, runs) in &group.apps {
        if !pod.spec.containers.iter().any(|c| c.name == *name) {
            continue;
        }
        for o in runs.iter().skip(2).filter(|o| !o.is_running()) {
            plan.push(SyncAction::RemoveContainer {
                id: o.info.id.clone(),
            });
        }
    }
}

fn kill(o: &Observed<'_>, grace: Duration, reason: KillReason) -> SyncAction {
    SyncAction::KillContainer {
        id: o.info.id.clone(),
        grace,
        reason,
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
pub(crate) mod tests;
