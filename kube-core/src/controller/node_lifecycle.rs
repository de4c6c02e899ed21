//! The node lifecycle controller's decisions, pure (Kubernetes' `NodeLifecycleController`
//! `monitorNodeHealth` and its pod eviction, without taints or zones). Time is an argument.
//!
//! - [`node_health`]: a node whose kubelet heartbeat (the `Ready` condition's
//!   `lastHeartbeatTime`) is older than the node monitor grace period (40 s) gets
//!   `Ready=Unknown` (reason `NodeStatusUnknown`). A node whose kubelet never posted a heartbeat
//!   is given the node startup grace period (60 s) from its creation.
//! - A node with **no conditions at all** is not managed by a kubelet (the API server's static
//!   `--machines`, a node created by hand): it is left alone, never marked and never evicted.
//!   The scheduler lets such nodes pass its `NodeReady` filter for the same reason.
//! - [`plan`]: once a node has been not ready (`Ready` `False` or `Unknown`) for longer than the
//!   pod eviction timeout (5 min, from the condition's `lastTransitionTime`), its pods are
//!   **evicted**: every pod bound to it that is not already terminating is deleted gracefully,
//!   all in one go, so that their controllers recreate them elsewhere. Evictions are rate
//!   limited per node by an [`EvictionLimiter`] (a token bucket, 0.1 node/s).
//! - A dead kubelet never finishes a graceful deletion, so on a node whose `Ready` is `Unknown`
//!   and past the eviction timeout, pods still terminating after their deletion deadline are
//!   **force-deleted** (grace 0) so they disappear. On a `Ready=False` node the kubelet is alive
//!   and finishes deletions itself. Force deletions take no eviction token: the pods were
//!   already evicted (or deleted by someone).
//! - Everything is level-triggered: a node that is `Ready` again has nothing evicted.

use crate::kubelet::node_status::CONDITION_READY;
use crate::node::{Node, NodeCondition};
use crate::pod::{Pod, CONDITION_FALSE, CONDITION_TRUE};
use crate::time::Timestamp;
use std::time::Duration;

/// How stale a heartbeat may be before the node is marked `Unknown` (Kubernetes' 40 s).
pub const NODE_MONITOR_GRACE_PERIOD: Duration = Duration::from_secs(40);
/// How long a node that never posted a heartbeat has from its creation (Kubernetes' 60 s).
pub const NODE_STARTUP_GRACE_PERIOD: Duration = Duration::from_secs(60);
/// How long a node is not ready before its pods are evicted (Kubernetes' 5 min).
pub const POD_EVICTION_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How often nodes are looked at even without any change (Kubernetes' 5 s).
pub const NODE_MONITOR_PERIOD: Duration = Duration::from_secs(5);
/// Nodes whose pods are evicted per second (Kubernetes' 0.1).
pub const NODE_EVICTION_RATE: f64 = 0.1;
/// The `Unknown` condition status.
pub const CONDITION_UNKNOWN: &str = "Unknown";
/// Reason of `Ready=Unknown` once heartbeats stopped.
pub const REASON_NODE_STATUS_UNKNOWN: &str = "NodeStatusUnknown";
/// Message of `Ready=Unknown` once heartbeats stopped.
pub const MESSAGE_NODE_STATUS_UNKNOWN: &str = "Kubelet stopped posting node status.";
/// Reason of `Ready=Unknown` for a node whose kubelet never posted a heartbeat.
pub const REASON_NODE_STATUS_NEVER_UPDATED: &str = "NodeStatusNeverUpdated";
/// Message of `Ready=Unknown` for a node whose kubelet never posted a heartbeat.
pub const MESSAGE_NODE_STATUS_NEVER_UPDATED: &str = "Kubelet never posted node status.";

/// The controller's periods (Kubernetes' flags of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeTiming {
    /// `--node-monitor-grace-period`: heartbeat age at which a node turns `Unknown`.
    pub node_monitor_grace_period: Duration,
    /// `--node-startup-grace-period`: time from creation a node gets to post its first heartbeat.
    pub node_startup_grace_period: Duration,
    /// `--pod-eviction-timeout`: time not ready after which a node's pods are evicted.
    pub pod_eviction_timeout: Duration,
}

impl Default for NodeTiming {
    fn default() -> NodeTiming {
        NodeTiming {
            node_monitor_grace_period: NODE_MONITOR_GRACE_PERIOD,
            node_startup_grace_period: NODE_STARTUP_GRACE_PERIOD,
            pod_eviction_timeout: POD_EVICTION_TIMEOUT,
        }
    }
}

/// A node's readiness as the controller sees it (after its own decision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// No conditions at all: no kubelet manages the node; it is left alone.
    Unmanaged,
    /// Conditions but no `Ready` one yet, within the startup grace: not ready, not evicted.
    Starting,
    /// `Ready=True` with a fresh heartbeat.
    Ready,
    /// `Ready=False` (the kubelet says it is not ready), since the given time.
    NotReady(Timestamp),
    /// `Ready=Unknown` (heartbeats stopped, or any other status), since the given time.
    Unknown(Timestamp),
}

impl Readiness {
    /// When the node stopped being ready, if it is not.
    pub fn not_ready_since(self) -> Option<Timestamp> {
        match self {
            Readiness::NotReady(t) | Readiness::Unknown(t) => Some(t),
            Readiness::Unmanaged | Readiness::Starting | Readiness::Ready => None,
        }
    }
}

/// What the controller decides about one node's status.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeHealth {
    /// The node with `Ready=Unknown`, to write through `/status`; `None` when the status stands.
    pub mark_unknown: Option<Node>,
    /// The readiness once `mark_unknown` (if any) is written.
    pub readiness: Readiness,
    /// From when the node's pods are to be evicted (not ready since + eviction timeout).
    pub evict_after: Option<Timestamp>,
    /// The next instant at which this decision changes with nothing else changing (the
    /// heartbeat going stale, the eviction timeout passing); `None`: never by time alone.
    pub next_check: Option<Timestamp>,
}

/// The first time of `texts` that parses.
fn first_time<'a>(texts: impl IntoIterator<Item = &'a str>) -> Option<Timestamp> {
    texts.into_iter().find_map(|s| Timestamp::parse(s).ok())
}

/// Decides on `node`'s health at `now`: whether to mark it `Unknown`, its readiness, and
/// from when its pods are evicted.
pub fn node_health(node: &Node, now: Timestamp, timing: &NodeTiming) -> NodeHealth {
    let conditions = &node.status.conditions;
    if conditions.is_empty() {
        return NodeHealth {
            mark_unknown: None,
            readiness: Readiness::Unmanaged,
            evict_after: None,
            next_check: None,
        };
    }
    let created = node.metadata.creation_timestamp.as_str();
    let ready = conditions.iter().find(|c| c.type_ == CONDITION_READY);

    // The time the kubelet last proved alive, and the grace it gets from there. A node whose
    // kubelet never posted a heartbeat gets the startup grace from its creation (a time that
    // parses nowhere counts as the epoch: nothing proves the kubelet alive).
    let heartbeat = ready.and_then(|c| first_time([c.last_heartbeat_time.as_str()]));
    let (reference, grace) = match heartbeat {
        Some(h) => (h, timing.node_monitor_grace_period),
        None => (
            first_time([created]).unwrap_or(Timestamp::EPOCH),
            timing.node_startup_grace_period,
        ),
    };
    let posting = ready.is_some_and(|c| c.status == CONDITION_TRUE || c.status == CONDITION_FALSE);
    let stale_at = reference.saturating_add(grace);

    let (mark_unknown, readiness, stale_check) = match ready {
        // The kubelet reports True or False: trust it while its heartbeat is fresh.
        Some(c) if posting && now < stale_at => {
            let readiness = if c.status == CONDITION_TRUE {
                Readiness::Ready
            } else {
                let since = first_time([c.last_transition_time.as_str()]).unwrap_or(reference);
                Readiness::NotReady(since)
            };
            (None, readiness, Some(stale_at))
        }
        // Already Unknown (or a status nobody posts): stays so until the kubelet posts again.
        Some(c) if !posting => {
            let since = first_time([
                c.last_transition_time.as_str(),
                c.last_heartbeat_time.as_str(),
                created,
            ])
            .unwrap_or(Timestamp::EPOCH);
            (None, Readiness::Unknown(since), None)
        }
        // No Ready condition yet: wait for the startup grace.
        None if now < stale_at => (None, Readiness::Starting, Some(stale_at)),
        // Stale: the kubelet stopped (or never started) posting.
        _ => {
            let (reason, message) = match heartbeat {
                Some(_) => (REASON_NODE_STATUS_UNKNOWN, MESSAGE_NODE_STATUS_UNKNOWN),
                None => (
                    REASON_NODE_STATUS_NEVER_UPDATED,
                    MESSAGE_NODE_STATUS_NEVER_UPDATED,
                ),
            };
            let condition = NodeCondition {
                type_: CONDITION_READY.into(),
                status: CONDITION_UNKNOWN.into(),
                reason: reason.into(),
                message: message.into(),
                last_heartbeat_time: ready
                    .map(|c| c.last_heartbeat_time.clone())
                    .unwrap_or_default(),
                last_transition_time: now.to_rfc3339(),
            };
            let mut updated = node.clone();
            let conds = &mut updated.status.conditions;
            match conds.iter_mut().find(|c| c.type_ == CONDITION_READY) {
                Some(c) => *c = condition,
                None => conds.push(condition),
            }
            (Some(updated), Readiness::Unknown(now), None)
        }
    };
    let evict_after = readiness
        .not_ready_since()
        .map(|since| since.saturating_add(timing.pod_eviction_timeout));
    let pending_eviction = evict_after.filter(|t| *t > now);
    let next_check = [stale_check, pending_eviction].into_iter().flatten().min();
    NodeHealth {
        mark_unknown,
        readiness,
        evict_after,
        next_check,
    }
}

/// What the controller does about one node and its pods.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePlan<'a> {
    /// The node's health (and the status to write, if any).
    pub health: NodeHealth,
    /// Pods to delete gracefully, all at once, once an eviction token is granted.
    pub evict: Vec<&'a Pod>,
    /// Terminating pods of an `Unknown` node past their deletion deadline: delete with grace 0.
    pub force_delete: Vec<&'a Pod>,
    /// When to look again with nothing changing (the earliest of the node's own
    /// [`NodeHealth::next_check`] and the deletion deadlines of its terminating pods).
    pub next_check: Option<Timestamp>,
}

/// Plans for `node` and `pods` (those bound to other nodes are ignored) at `now`.
pub fn plan<'a>(
    node: &Node,
    pods: &[&'a Pod],
    now: Timestamp,
    timing: &NodeTiming,
) -> NodePlan<'a> {
    let health = node_health(node, now, timing);
    let mut evict = Vec::new();
    let mut force_delete = Vec::new();
    let mut next_check = health.next_check;
    let evicting = health.evict_after.is_some_and(|t| now >= t);
    if evicting {
        let dead = matches!(health.readiness, Readiness::Unknown(_));
        let name = node.metadata.name.as_str();
        for pod in pods.iter().copied().filter(|p| p.spec.node_name == name) {
            let marked = &pod.metadata.deletion_timestamp;
            if marked.is_empty() {
                evict.push(pod);
            } else if dead {
                // A deadline that does not parse has passed: nothing else will remove the pod.
                match Timestamp::parse(marked) {
                    Ok(deadline) if deadline > now => {
                        next_check = Some(next_check.map_or(deadline, |n| n.min(deadline)));
                    }
                    _ => force_delete.push(pod),
                }
            }
        }
    }
    NodePlan {
        health,
        evict,
        force_delete,
        next_check,
    }
}

/// The answer of [`EvictionLimiter::admit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Evict now (a token was taken).
    Granted,
    /// Ask again after this long.
    Wait(Duration),
    /// Eviction is disabled (a rate of zero).
    Never,
}

/// Tokens short of a whole one still granted, so float rounding never asks for a wait of
/// nanoseconds.
const TOKEN_SLACK: f64 = 1e-9;

/// A token bucket of node evictions (client-go's `TokenBucketRateLimiter`, burst 1): at most
/// `rate` nodes per second, starting full. Pure: the time is an argument.
#[derive(Clone, Debug, PartialEq)]
pub struct EvictionLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Option<Timestamp>,
}

impl EvictionLimiter {
    /// A full bucket of one token refilled at `rate` per second (`rate <= 0`: never evict).
    pub fn new(rate: f64) -> EvictionLimiter {
        EvictionLimiter {
            rate: if rate.is_finite() { rate } else { 0.0 },
            burst: 1.0,
            tokens: 1.0,
            last: None,
        }
    }

    /// Takes a token at `now` if there is one, else says how long until there is.
    pub fn admit(&mut self, now: Timestamp) -> Admission {
        if self.rate <= 0.0 {
            return Admission::Never;
        }
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        }
        // Time never runs backwards for the bucket.
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
        if self.tokens + TOKEN_SLACK >= 1.0 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            return Admission::Granted;
        }
        let wait = (1.0 - self.tokens) / self.rate;
        Admission::Wait(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
    }
}

#[cfg(test)]
#[path = "node_lifecycle_tests.rs"]
mod tests;
