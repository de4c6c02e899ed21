//! The replication controller's plan: what to do so that `spec.replicas` active pods match an
//! RC's selector (Kubernetes' `ReplicationManager.syncReplicationController`, without I/O).
//!
//! [`plan`] takes the RC, the pods of its namespace, the [`Expectations`] of writes the caller
//! made but has not yet seen in its cache, the time and a random source, and returns a
//! [`Plan`]:
//! - pods to **adopt** (matching, active orphans: they get the RC's controller reference) and to
//!   **release** (owned pods whose labels stop matching lose it);
//! - pods to **create** (ready to post, with unique names `{rc}-{5 chars}`, at most
//!   [`BURST_REPLICAS`] per sync) or to **delete** (in [`deletion_order`]);
//! - the new status.
//!
//! Creates and deletes are planned only when the expectations are satisfied, so a slow watch
//! never makes the controller create or delete twice. The caller posts the creates in
//! slow-start batches ([`slow_start_batches`]: 1, 2, 4, …), stopping at the first error.

use crate::labels::Selector;
use crate::meta::controller_reference;
use crate::pod::{Pod, CONDITION_READY, CONDITION_TRUE, PHASE_FAILED, PHASE_SUCCEEDED};
use crate::pod::{PHASE_PENDING, PHASE_RUNNING};
use crate::rand::{uniform, Rng};
use crate::replication_controller::{ReplicationController, ReplicationControllerStatus};
use crate::time::Timestamp;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Most creates or deletes planned by one sync (Kubernetes' `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// How long an expectation waits to be observed before it is given up (Kubernetes' 5 minutes).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Characters of generated name suffixes (Kubernetes' alphabet: lowercase, no vowels).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Length of the random suffix of a pod name.
const SUFFIX_LEN: usize = 5;

/// Longest prefix (with its `-`) of a generated name, so the name stays a DNS-1123 label.
const MAX_PREFIX_LEN: usize = 63 - SUFFIX_LEN;

/// Writes a controller made but has not seen in its cache yet, by pod name.
///
/// The controller names the pods it creates, so each expectation is exact: a create is observed
/// when a pod of that name is cached, a delete when the pod is gone or terminating. Expectations
/// older than [`EXPECTATIONS_TIMEOUT`] are given up (a pod created and deleted again before
/// the cache saw it is never observed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    creates: BTreeMap<String, Timestamp>,
    deletes: BTreeMap<String, Timestamp>,
}

impl Expectations {
    /// No pending writes.
    pub fn new() -> Expectations {
        Expectations::default()
    }

    /// Records creates of the pods named `names`, made at `now`.
    pub fn expect_creates<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, now: Timestamp) {
        for n in names {
            self.creates.insert(n.to_string(), now);
        }
    }

    /// Records deletes of the pods named `names`, made at `now`.
    pub fn expect_deletes<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, now: Timestamp) {
        for n in names {
            self.deletes.insert(n.to_string(), now);
        }
    }

    /// Forgets a create that failed or was never sent.
    pub fn create_failed(&mut self, name: &str) {
        self.creates.remove(name);
    }

    /// Forgets a delete that failed.
    pub fn delete_failed(&mut self, name: &str) {
        self.deletes.remove(name);
    }

    /// Drops the expectations that `pods` (the cached pods of the namespace) show done, or that
    /// timed out by `now`.
    pub fn observe(&mut self, pods: &[&Pod], now: Timestamp) {
        let cached: BTreeMap<&str, &Pod> = pods
            .iter()
            .map(|p| (p.metadata.name.as_str(), *p))
            .collect();
        let live =
            |since: &Timestamp| now.saturating_duration_since(*since) <= EXPECTATIONS_TIMEOUT;
        self.creates
            .retain(|name, since| !cached.contains_key(name.as_str()) && live(since));
        self.deletes.retain(|name, since| {
            let pending = cached
                .get(name.as_str())
                .is_some_and(|p| p.metadata.deletion_timestamp.is_empty());
            pending && live(since)
        });
    }

    /// Whether no write is pending (call [`Expectations::observe`] first).
    pub fn satisfied(&self) -> bool {
        self.creates.is_empty() && self.deletes.is_empty()
    }

    /// Creates not yet observed.
    pub fn pending_creates(&self) -> usize {
        self.creates.len()
    }

    /// Deletes not yet observed.
    pub fn pending_deletes(&self) -> usize {
        self.deletes.len()
    }
}

/// What one sync of a replication controller should do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Names of matching orphans to take over (add the RC's controller reference).
    pub adopt: Vec<String>,
    /// Names of owned pods that no longer match (remove the RC's controller reference).
    pub release: Vec<String>,
    /// Pods to create, named, labelled and owned (at most [`BURST_REPLICAS`]).
    pub create: Vec<Pod>,
    /// Names of pods to delete, most expendable first (at most [`BURST_REPLICAS`]).
    pub delete: Vec<String>,
    /// The status the RC should have.
    pub status: ReplicationControllerStatus,
}

/// Whether a pod counts towards replicas: not terminating, not Succeeded or Failed.
pub fn is_active(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_empty()
        && pod.status.phase != PHASE_SUCCEEDED
        && pod.status.phase != PHASE_FAILED
}

/// Whether a pod's `Ready` condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .condition(CONDITION_READY)
        .is_some_and(|c| c.status == CONDITION_TRUE)
}

/// The selector of an RC (an empty selector selects nothing: validation requires one).
pub fn selector(rc: &ReplicationController) -> Option<Selector> {
    (!rc.spec.selector.is_empty()).then(|| Selector::from_map(&rc.spec.selector))
}

/// Whether `pod` is controlled by `rc` (its controller reference carries the RC's uid).
pub fn is_owned_by(pod: &Pod, rc: &ReplicationController) -> bool {
    pod.metadata
        .controller_ref()
        .is_some_and(|r| r.uid == rc.metadata.uid && r.kind == "ReplicationController")
}

/// Desired replicas of an RC (`spec.replicas`, 1 when unset, never negative).
pub fn desired_replicas(rc: &ReplicationController) -> usize {
    usize::try_from(rc.spec.replicas.unwrap_or(1)).unwrap_or(0)
}

/// Plans one sync of `rc` over `pods` (the cached pods of its namespace).
///
/// `expectations` are checked against `pods` at `now` (the caller prunes its own copy with
/// [`Expectations::observe`]); while any write is pending, only adoptions, releases and status
/// are planned. An RC being deleted creates and deletes nothing.
pub fn plan(
    rc: &ReplicationController,
    pods: &[&Pod],
    expectations: &Expectations,
    now: Timestamp,
    rng: &mut dyn Rng,
) -> Plan {
    let mut out = Plan::default();
    let sel = selector(rc);
    let matches = |p: &Pod| sel.as_ref().is_some_and(|s| s.matches(&p.metadata.labels));
    let rc_alive = rc.metadata.deletion_timestamp.is_empty();
    let mut mine: Vec<&Pod> = Vec::new();
    for &p in pods {
        if p.metadata.namespace != rc.metadata.namespace {
            continue;
        }
        let owned = is_owned_by(p, rc);
        let orphan = p.metadata.controller_ref().is_none();
        match (owned, matches(p)) {
            (true, true) => mine.push(p),
            (true, false) => out.release.push(p.metadata.name.clone()),
            (false, true) if orphan && rc_alive && p.metadata.deletion_timestamp.is_empty() => {
                out.adopt.push(p.metadata.name.clone());
                mine.push(p);
            }
            _ => {}
        }
    }
    let active: Vec<&Pod> = mine.into_iter().filter(|p| is_active(p)).collect();
    out.status = status(rc, &active);
    let mut pending = expectations.clone();
    pending.observe(pods, now);
    if !pending.satisfied() || !rc_alive {
        return out;
    }
    let want = desired_replicas(rc);
    if active.len() < want {
        let n = (want - active.len()).min(BURST_REPLICAS);
        let mut taken: BTreeSet<String> = pods.iter().map(|p| p.metadata.name.clone()).collect();
        for _ in 0..n {
            let name = unique_name(&rc.metadata.name, &taken, rng);
            taken.insert(name.clone());
            out.create.push(pod_from_template(rc, name));
        }
    } else if active.len() > want {
        let n = (active.len() - want).min(BURST_REPLICAS);
        let mut victims = active;
        victims.sort_by(|a, b| deletion_order(a, b));
        out.delete = victims
            .into_iter()
            .take(n)
            .map(|p| p.metadata.name.clone())
            .collect();
    }
    out
}

/// The status of `rc` given its active pods.
fn status(rc: &ReplicationController, active: &[&Pod]) -> ReplicationControllerStatus {
    let template_labels = rc.spec.template.as_ref().map(|t| &t.metadata.labels);
    let fully_labeled = active
        .iter()
        .filter(|p| {
            template_labels.is_none_or(|want| {
                want.iter()
                    .all(|(k, v)| p.metadata.labels.get(k) == Some(v))
            })
        })
        .count();
    ReplicationControllerStatus {
        replicas: count(active.len()),
        fully_labeled_replicas: count(fully_labeled),
        ready_replicas: count(active.iter().filter(|p| is_ready(p)).count()),
        observed_generation: rc.metadata.generation,
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Kubernetes' order of pods to delete first (`ActivePods.Less`): unscheduled before
/// scheduled, Pending before Unknown before Running, not ready before ready, more restarts
/// first, newest first (then by name, so the order is total).
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    let scheduled = |p: &Pod| !p.spec.node_name.is_empty();
    let phase_rank = |p: &Pod| match p.status.phase.as_str() {
        PHASE_PENDING | "" => 0,
        PHASE_RUNNING => 2,
        _ => 1,
    };
    let restarts = |p: &Pod| {
        p.status
            .container_statuses
            .iter()
            .map(|c| c.restart_count)
            .max()
            .unwrap_or(0)
    };
    let created = |p: &Pod| Timestamp::parse(&p.metadata.creation_timestamp).ok();
    scheduled(a)
        .cmp(&scheduled(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(is_ready(a).cmp(&is_ready(b)))
        .then(restarts(b).cmp(&restarts(a)))
        .then(created(b).cmp(&created(a)))
        .then(a.metadata.name.cmp(&b.metadata.name))
}

/// Slow-start batch sizes for `n` creates: 1, 2, 4, … (the last one holds the rest).
pub fn slow_start_batches(n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut left, mut size) = (n, 1usize);
    while left > 0 {
        let b = size.min(left);
        out.push(b);
        left -= b;
        size = size.saturating_mul(2);
    }
    out
}

/// A pod name for `rc_name` not in `taken`: `{rc_name lower-cased}-{5 random characters}`.
pub fn unique_name(rc_name: &str, taken: &BTreeSet<String>, rng: &mut dyn Rng) -> String {
    let mut prefix = format!("{}-", rc_name.to_lowercase());
    if prefix.len() > MAX_PREFIX_LEN {
        let mut cut = MAX_PREFIX_LEN;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    loop {
        let mut name = prefix.clone();
        for _ in 0..SUFFIX_LEN {
            let i = uniform(rng, SUFFIX_ALPHABET.len() as u64) as usize;
            name.push(char::from(SUFFIX_ALPHABET[i]));
        }
        if !taken.contains(&name) {
            return name;
        }
    }
}

/// A pod made from `rc`'s template, named `name`, owned by `rc` (Kubernetes'
/// `GetPodFromTemplate`): the template's labels, annotations and spec.
pub fn pod_from_template(rc: &ReplicationController, name: String) -> Pod {
    let mut pod = Pod::default();
    if let Some(t) = &rc.spec.template {
        pod.metadata.labels = t.metadata.labels.clone();
        pod.metadata.annotations = t.metadata.annotations.clone();
        pod.spec = t.spec.clone();
    }
    pod.metadata.name = name;
    pod.metadata.namespace = rc.metadata.namespace.clone();
    pod.metadata.owner_references = vec![controller_reference(rc)];
    pod
}

#[cfg(test)]
#[path = "replication_tests.rs"]
mod tests;
