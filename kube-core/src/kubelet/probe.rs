//! Probes, pure: the effective parameters of a probe (Kubernetes' defaults), the port it
//! targets, and `ProbeTracker`, the per-container state machine that says when the next probe
//! is due and what the results so far mean (liveness: restart or not; readiness: ready or not).
//!
//! The probing itself (HTTP, TCP, exec) is `kube_runtime::kubelet::probes::run_probe`.

use crate::intstr::IntOrString;
use crate::pod::{Container, Probe};
use crate::time::Timestamp;
use std::time::Duration;

/// `periodSeconds` when unset.
pub const DEFAULT_PERIOD_SECONDS: i32 = 10;
/// `timeoutSeconds` when unset.
pub const DEFAULT_TIMEOUT_SECONDS: i32 = 1;
/// `failureThreshold` when unset.
pub const DEFAULT_FAILURE_THRESHOLD: i32 = 3;
/// `successThreshold` when unset.
pub const DEFAULT_SUCCESS_THRESHOLD: i32 = 1;

/// Which probe a tracker follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// Failing it past its threshold restarts the container.
    Liveness,
    /// Its verdict is the container's readiness.
    Readiness,
}

/// The outcome of one probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeResult {
    /// The container answered as healthy.
    Success,
    /// The container did not answer, or answered badly; the text says how.
    Failure(String),
}

impl ProbeResult {
    /// True for `Success`.
    pub fn is_success(&self) -> bool {
        matches!(self, ProbeResult::Success)
    }
}

/// The verdict of a tracker: what the kubelet does with the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeVerdict {
    /// Liveness passes: leave the container alone.
    Healthy,
    /// Liveness failed `failureThreshold` times in a row: restart the container.
    Unhealthy,
    /// Readiness passes: the container is ready.
    Ready,
    /// Readiness has not passed yet, or failed `failureThreshold` times in a row.
    NotReady,
}

impl ProbeVerdict {
    /// True for `Healthy` and `Ready`.
    pub fn is_passing(self) -> bool {
        matches!(self, ProbeVerdict::Healthy | ProbeVerdict::Ready)
    }

    /// The verdict of `kind` that passes (`true`) or not.
    pub fn of(kind: ProbeKind, passing: bool) -> ProbeVerdict {
        match (kind, passing) {
            (ProbeKind::Liveness, true) => ProbeVerdict::Healthy,
            (ProbeKind::Liveness, false) => ProbeVerdict::Unhealthy,
            (ProbeKind::Readiness, true) => ProbeVerdict::Ready,
            (ProbeKind::Readiness, false) => ProbeVerdict::NotReady,
        }
    }
}

/// A probe's timing and thresholds with Kubernetes' defaults and minimums applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeParams {
    /// Wait after the container started before the first probe (`initialDelaySeconds`, ≥ 0).
    pub initial_delay: Duration,
    /// Time between probes (`periodSeconds`, default 10, ≥ 1).
    pub period: Duration,
    /// Time one probe may take (`timeoutSeconds`, default 1, ≥ 1).
    pub timeout: Duration,
    /// Consecutive successes to pass again after failing (`successThreshold`, default 1, ≥ 1;
    /// always 1 for liveness, as Kubernetes' validation requires).
    pub success_threshold: u32,
    /// Consecutive failures to fail (`failureThreshold`, default 3, ≥ 1).
    pub failure_threshold: u32,
}

/// `value` when positive, else `default` (0 means unset; negatives are invalid and treated so).
fn positive_or(value: i32, default: i32) -> u32 {
    u32::try_from(if value > 0 { value } else { default }).unwrap_or(1)
}

fn secs(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}

impl ProbeParams {
    /// The effective parameters of `probe` used as a `kind` probe.
    pub fn new(kind: ProbeKind, probe: &Probe) -> ProbeParams {
        let success_threshold = match kind {
            ProbeKind::Liveness => 1,
            ProbeKind::Readiness => positive_or(probe.success_threshold, DEFAULT_SUCCESS_THRESHOLD),
        };
        ProbeParams {
            initial_delay: secs(u32::try_from(probe.initial_delay_seconds).unwrap_or(0)),
            period: secs(positive_or(probe.period_seconds, DEFAULT_PERIOD_SECONDS)),
            timeout: secs(positive_or(probe.timeout_seconds, DEFAULT_TIMEOUT_SECONDS)),
            success_threshold,
            failure_threshold: positive_or(probe.failure_threshold, DEFAULT_FAILURE_THRESHOLD),
        }
    }
}

/// Why a probe's port cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbePortError {
    /// A named port that the container does not declare (and that is not a number either).
    #[error("port {0:?} is not a port of the container")]
    UnknownName(String),
    /// A number outside 1–65535.
    #[error("invalid port number: {0}")]
    OutOfRange(i64),
}

/// The port a probe targets: a number, or the name of one of the container's `ports`
/// (Kubernetes' `extractPort`: a name that is not declared but spells a number is that number).
pub fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, ProbePortError> {
    let number = match port {
        IntOrString::Int(n) => i64::from(*n),
        IntOrString::String(name) => {
            match container
                .ports
                .iter()
                .find(|p| !p.name.is_empty() && p.name == *name)
            {
                Some(p) => i64::from(p.container_port),
                None => name
                    .parse::<i64>()
                    .map_err(|_| ProbePortError::UnknownName(name.clone()))?,
            }
        }
    };
    match u16::try_from(number) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(ProbePortError::OutOfRange(number)),
    }
}

/// One container's probe of one kind: when the next probe is due and what the results so far
/// mean. Liveness starts `Healthy`, readiness `NotReady`; without a probe the verdict passes
/// for good (a container without a readiness probe is ready once running). A new container
/// (another ID) starts over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTracker {
    kind: ProbeKind,
    params: Option<ProbeParams>,
    container_id: String,
    next_due: Option<Timestamp>,
    passing: bool,
    successes: u32,
    failures: u32,
    last_failure: Option<String>,
}

impl ProbeTracker {
    /// A tracker for the `kind` probe (if any) of the container `container_id`, started at
    /// `started_at`: the first probe is due `initialDelaySeconds` after the start.
    pub fn new(
        kind: ProbeKind,
        probe: Option<&Probe>,
        container_id: impl Into<String>,
        started_at: Timestamp,
    ) -> ProbeTracker {
        let params = probe.map(|p| ProbeParams::new(kind, p));
        let mut t = ProbeTracker {
            kind,
            params,
            container_id: String::new(),
            next_due: None,
            passing: false,
            successes: 0,
            failures: 0,
            last_failure: None,
        };
        t.reset(container_id.into(), started_at);
        t
    }

    fn reset(&mut self, container_id: String, started_at: Timestamp) {
        self.container_id = container_id;
        self.next_due = self
            .params
            .map(|p| started_at.saturating_add(p.initial_delay));
        self.passing = self.params.is_none() || self.kind == ProbeKind::Liveness;
        self.successes = 0;
        self.failures = 0;
        self.last_failure = None;
    }

    /// Follows the container now running under the tracked name: a different ID (a restart)
    /// starts the tracker over from `started_at`. Returns whether it started over.
    pub fn observe_container(&mut self, container_id: &str, started_at: Timestamp) -> bool {
        if self.container_id == container_id {
            return false;
        }
        self.reset(container_id.to_string(), started_at);
        true
    }

    /// The kind of probe tracked.
    pub fn kind(&self) -> ProbeKind {
        self.kind
    }

    /// The ID of the container tracked.
    pub fn container_id(&self) -> &str {
        &self.container_id
    }

    /// The effective parameters, `None` when the container has no such probe.
    pub fn params(&self) -> Option<ProbeParams> {
        self.params
    }

    /// When the next probe is due; `None` when there is no probe.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.next_due
    }

    /// Whether a probe is due at `now`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.next_due.is_some_and(|due| now >= due)
    }

    /// How long one probe may take (`timeoutSeconds`); the default when there is no probe.
    pub fn timeout(&self) -> Duration {
        self.params
            .map_or(secs(DEFAULT_TIMEOUT_SECONDS as u32), |p| p.timeout)
    }

    /// The current verdict.
    pub fn verdict(&self) -> ProbeVerdict {
        ProbeVerdict::of(self.kind, self.passing)
    }

    /// The message of the last failure since the last success, if any.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// Records the result of the probe that was due, finished at `now`, and schedules the next
    /// one a period after the one that was due (or a period after `now`, when the probe ran so
    /// late that this is already past). Returns whether the verdict changed. Ignored when
    /// there is no probe.
    pub fn record(&mut self, now: Timestamp, result: &ProbeResult) -> bool {
        let Some(params) = self.params else {
            return false;
        };
        let due = self.next_due.unwrap_or(now);
        let mut next = due.saturating_add(params.period);
        if next <= now {
            next = now.saturating_add(params.period);
        }
        self.next_due = Some(next);
        let before = self.passing;
        match result {
            ProbeResult::Success => {
                self.failures = 0;
                self.successes = self.successes.saturating_add(1);
                self.last_failure = None;
                if self.successes >= params.success_threshold {
                    self.passing = true;
                }
            }
            ProbeResult::Failure(message) => {
                self.successes = 0;
                self.failures = self.failures.saturating_add(1);
                self.last_failure = Some(message.clone());
                if self.failures >= params.failure_threshold {
                    self.passing = false;
                }
            }
        }
        before != self.passing
    }
}

#[cfg(test)]
#[path = "probe_tests.rs"]
mod tests;
