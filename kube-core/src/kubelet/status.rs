//! A pod's status as its kubelet reports it, from the pod and its observed containers. Pure;
//! the kubelet writes it through `/status` only when it differs from what is stored.

use crate::kubelet::containers::{Observed, PodContainers};
use crate::kubelet::sync::{restart_at, should_restart, PodExtras};
use crate::pod::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Pod, PodCondition, PodStatus,
    CONDITION_CONTAINERS_READY, CONDITION_FALSE, CONDITION_READY, CONDITION_TRUE, PHASE_FAILED,
    PHASE_PENDING, PHASE_RUNNING, PHASE_SUCCEEDED, RESTART_ALWAYS, RESTART_NEVER,
};
use crate::time::Timestamp;

/// Waiting reason while a container is being created.
pub const REASON_CONTAINER_CREATING: &str = "ContainerCreating";
/// Waiting reason right after an image pull failed.
pub const REASON_ERR_IMAGE_PULL: &str = "ErrImagePull";
/// Waiting reason while a failed image pull backs off.
pub const REASON_IMAGE_PULL_BACKOFF: &str = "ImagePullBackOff";
/// Waiting reason while a crashed container backs off.
pub const REASON_CRASH_LOOP_BACKOFF: &str = "CrashLoopBackOff";
/// Condition type `Initialized`.
pub const CONDITION_INITIALIZED: &str = "Initialized";

/// Node-level facts the status needs.
#[derive(Clone, Copy, Debug)]
pub struct StatusContext<'a> {
    /// The node's address (`status.hostIP`).
    pub host_ip: &'a str,
    /// Runtime name, the scheme of `containerID` (`docker`, `fake`).
    pub runtime_name: &'a str,
    /// Now, on the kubelet's clock.
    pub now: Timestamp,
}

/// The status the kubelet reports for `pod`.
pub fn pod_status(
    pod: &Pod,
    group: &PodContainers<'_>,
    extras: &PodExtras<'_>,
    ctx: &StatusContext<'_>,
) -> PodStatus {
    let mut status = pod.status.clone();
    let now = ctx.now;
    if status.start_time.is_empty() {
        status.start_time = now.to_rfc3339();
    }
    status.host_ip = ctx.host_ip.to_string();
    status.pod_ip = group
        .running_infra()
        .and_then(|i| i.info.ip_address)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    status.container_statuses = pod
        .spec
        .containers
        .iter()
        .map(|c| container_status(pod, c, group, extras, ctx))
        .collect();

    let sticky = matches!(status.phase.as_str(), PHASE_SUCCEEDED | PHASE_FAILED);
    if !sticky {
        status.phase = phase(pod, &status.container_statuses).to_string();
    }
    let finished = matches!(status.phase.as_str(), PHASE_SUCCEEDED | PHASE_FAILED);
    let unready: Vec<&str> = status
        .container_statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let (cond_status, reason, message) = if finished {
        (CONDITION_FALSE, "PodCompleted", String::new())
    } else if unready.is_empty() {
        (CONDITION_TRUE, "", String::new())
    } else {
        (
            CONDITION_FALSE,
            "ContainersNotReady",
            format!("containers with unready status: [{}]", unready.join(" ")),
        )
    };
    let stamp = now.to_rfc3339();
    status.set_condition(PodCondition {
        type_: CONDITION_INITIALIZED.into(),
        status: CONDITION_TRUE.into(),
        last_transition_time: stamp.clone(),
        ..PodCondition::default()
    });
    for type_ in [CONDITION_READY, CONDITION_CONTAINERS_READY] {
        status.set_condition(PodCondition {
            type_: type_.into(),
            status: cond_status.into(),
            reason: reason.into(),
            message: message.clone(),
            last_transition_time: stamp.clone(),
            ..PodCondition::default()
        });
    }
    status
}

fn container_status(
    pod: &Pod,
    c: &Container,
    group: &PodContainers<'_>,
    extras: &PodExtras<'_>,
    ctx: &StatusContext<'_>,
) -> ContainerStatus {
    let latest = group.latest(&c.name);
    let previous = group.previous(&c.name).filter(|p| p.is_exited());
    let mut cs = ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone(),
        restart_count: latest.map_or(0, |l| l.key.restart_count),
        ..ContainerStatus::default()
    };
    let failure = extras.start_failures.get(c.name.as_str());
    let waiting_for_start = |cs: &mut ContainerStatus| {
        cs.state.waiting = Some(match failure {
            Some(f) if f.reason == REASON_ERR_IMAGE_PULL => {
                if ctx.now < f.retry_at() && ctx.now.saturating_duration_since(f.at).as_secs() >= 1
                {
                    ContainerStateWaiting {
                        reason: REASON_IMAGE_PULL_BACKOFF.into(),
                        message: format!("Back-off pulling image {:?}: {}", c.image, f.message),
                    }
                } else {
                    ContainerStateWaiting {
                        reason: REASON_ERR_IMAGE_PULL.into(),
                        message: f.message.clone(),
                    }
                }
            }
            Some(f) => ContainerStateWaiting {
                reason: f.reason.clone(),
                message: f.message.clone(),
            },
            None => ContainerStateWaiting {
                reason: REASON_CONTAINER_CREATING.into(),
                message: String::new(),
            },
        });
    };
    let Some(run) = latest else {
        waiting_for_start(&mut cs);
        return cs;
    };
    cs.container_id = format!("{}://{}", ctx.runtime_name, run.info.id);
    cs.image_id = run.info.image_id.clone();
    if run.is_running() {
        cs.state.running = Some(ContainerStateRunning {
            started_at: run
                .info
                .started_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
        });
        cs.ready = c.readiness_probe.is_none() || extras.ready.contains(&run.info.id.as_str());
        if let Some(p) = previous {
            cs.last_state = terminated(&p);
        }
    } else if run.is_exited() {
        let restarting = should_restart(&pod.spec.restart_policy, run.info.exit_code);
        match restart_at(&run).filter(|t| restarting && ctx.now < *t) {
            Some(at) => {
                let wait = at.saturating_duration_since(run.info.finished_at.unwrap_or(at));
                cs.state.waiting = Some(ContainerStateWaiting {
                    reason: REASON_CRASH_LOOP_BACKOFF.into(),
                    message: format!(
                        "back-off {}s restarting failed container={} pod={}_{}({})",
                        wait.as_secs(),
                        c.name,
                        pod.metadata.name,
                        pod.metadata.namespace,
                        pod.metadata.uid
                    ),
                });
                cs.last_state = terminated(&run);
            }
            None => {
                cs.state = terminated(&run);
                if let Some(p) = previous {
                    cs.last_state = terminated(&p);
                }
            }
        }
    } else {
        waiting_for_start(&mut cs);
    }
    cs
}

/// The terminated state of an exited run.
fn terminated(run: &Observed<'_>) -> ContainerState {
    let info = run.info;
    let code = info.exit_code.unwrap_or(0);
    let reason = if info.oom_killed {
        "OOMKilled"
    } else if code == 0 {
        "Completed"
    } else {
        "Error"
    };
    let ts = |t: Option<Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: i32::try_from(code).unwrap_or(i32::MAX),
            signal: 0,
            reason: reason.into(),
            message: info.error.clone(),
            started_at: ts(info.started_at),
            finished_at: ts(info.finished_at),
        }),
        ..ContainerState::default()
    }
}

/// The pod phase from its container statuses, as Kubernetes' kubelet computes it.
pub fn phase(pod: &Pod, statuses: &[ContainerStatus]) -> &'static str {
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in statuses {
        if s.state.running.is_some() {
            running += 1;
        } else if let Some(t) = &s.state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if s.last_state.terminated.is_some() {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if statuses.is_empty() || waiting > 0 {
        return PHASE_PENDING;
    }
    if running > 0 {
        return PHASE_RUNNING;
    }
    match pod.spec.restart_policy.as_str() {
        RESTART_ALWAYS | "" => PHASE_RUNNING,
        _ if stopped == succeeded => PHASE_SUCCEEDED,
        RESTART_NEVER => PHASE_FAILED,
        _ => PHASE_RUNNING,
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
