//! Graceful deletion: what a delete request does to an object (pure; the time is an argument).
//!
//! Kubernetes' rules for pods (`CheckGracefulDelete` and `BeforeDelete`): deleting a bound pod
//! only marks it, setting `metadata.deletionTimestamp` (now + grace) and
//! `metadata.deletionGracePeriodSeconds`; the kubelet stops its containers within the grace
//! period and then deletes the pod with grace 0. The grace is the request's
//! `gracePeriodSeconds`, else the pod's `spec.terminationGracePeriodSeconds`, else 30 s. An
//! unbound pod, a pod that already finished (Succeeded or Failed) and grace 0 delete at once.
//! A second delete of a terminating pod may only shorten its grace period.
//!
//! Finalizers (any kind, [`plan_delete`]): a delete request first checks its preconditions
//! (uid, resourceVersion: 409 on a mismatch), then applies the grace rules, then its
//! `propagationPolicy` to the finalizers (`Orphan` adds [`FINALIZER_ORPHAN`], `Foreground`
//! [`FINALIZER_FOREGROUND`], each removing the other; `Background` removes both; none keeps
//! them). An object left with finalizers is never removed:
//! it is marked deleting instead (`deletionTimestamp` now, or kept if earlier, and
//! `deletionGracePeriodSeconds` 0, Kubernetes' `markAsDeleting`), and the update that removes
//! its last finalizer removes it ([`finalized`]).

use crate::defaults::DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
use crate::error::ApiError;
use crate::meta::{ObjectMeta, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use crate::pod::{PHASE_FAILED, PHASE_SUCCEEDED};
use crate::strategy::Strategy;
use crate::time::Timestamp;
use crate::Pod;
use serde::{Deserialize, Serialize};

/// Options of a delete request (core/v1 `DeleteOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// Seconds the object is given to stop; `None` uses the object's own default, 0 forces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// Conditions the stored object must meet, else the delete answers 409 and changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    /// What happens to the object's dependents; `None`: the kind's default (background).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
}

impl DeleteOptions {
    /// Options that delete at once (grace period 0), as the kubelet's final delete does.
    pub fn immediate() -> DeleteOptions {
        DeleteOptions::grace(0)
    }

    /// Options with the given grace period.
    pub fn grace(seconds: i64) -> DeleteOptions {
        DeleteOptions {
            grace_period_seconds: Some(seconds),
            ..DeleteOptions::default()
        }
    }

    /// Options with the given propagation policy.
    pub fn propagation(policy: PropagationPolicy) -> DeleteOptions {
        DeleteOptions {
            propagation_policy: Some(policy),
            ..DeleteOptions::default()
        }
    }
}

/// `DeleteOptions.preconditions`: each field set must equal the stored object's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions")]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The object's `metadata.uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The object's `metadata.resourceVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// `DeleteOptions.propagationPolicy`: what the garbage collector does with the dependents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(inline)]
pub enum PropagationPolicy {
    /// Keep the dependents, released (their owner reference removed) before the owner goes.
    Orphan,
    /// Remove the owner now; the garbage collector then deletes the dependents.
    Background,
    /// Delete the dependents first: the owner stays, marked, with [`FINALIZER_FOREGROUND`]
    /// until its blocking dependents are gone.
    Foreground,
}

impl PropagationPolicy {
    /// Every policy, by its wire name.
    pub const ALL: [PropagationPolicy; 3] = [
        PropagationPolicy::Orphan,
        PropagationPolicy::Background,
        PropagationPolicy::Foreground,
    ];

    /// The wire name (`Orphan`, `Background`, `Foreground`).
    pub fn as_str(self) -> &'static str {
        match self {
            PropagationPolicy::Orphan => "Orphan",
            PropagationPolicy::Background => "Background",
            PropagationPolicy::Foreground => "Foreground",
        }
    }

    /// The policy of a wire name, if it is one.
    pub fn parse(s: &str) -> Option<PropagationPolicy> {
        PropagationPolicy::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Applies a delete request to `obj` (the stored object, its `resourceVersion` set) at `now`:
/// preconditions, graceful deletion, propagation policy and finalizers, as Kubernetes' store
/// does. `Immediate`: remove it; `Graceful`: write it back as changed (marked, finalizers
/// updated); `Pending`: nothing to do. A failed precondition is a 409 Conflict.
pub fn plan_delete<T: Strategy>(
    obj: &mut T,
    options: &DeleteOptions,
    now: Timestamp,
) -> Result<Deletion, ApiError> {
    check_preconditions(
        obj.meta(),
        options.preconditions.as_ref(),
        T::RESOURCE.info().plural,
    )?;
    let before = marks(obj.meta());
    let graceful = if T::GRACEFUL_DELETION {
        obj.prepare_for_delete(options.grace_period_seconds, now)
    } else {
        Deletion::Immediate
    };
    // Finalizers cannot be changed by a delete while a graceful deletion is pending.
    if graceful == Deletion::Pending {
        return Ok(Deletion::Pending);
    }
    let meta = obj.meta_mut();
    apply_propagation(&mut meta.finalizers, options.propagation_policy);
    if meta.finalizers.is_empty() {
        return Ok(graceful);
    }
    if graceful == Deletion::Immediate {
        mark_finalizing(meta, now);
    }
    Ok(if marks(meta) == before {
        Deletion::Pending
    } else {
        Deletion::Graceful
    })
}

/// The parts of the metadata a delete may change.
fn marks(meta: &ObjectMeta) -> (String, Option<i64>, Vec<String>) {
    (
        meta.deletion_timestamp.clone(),
        meta.deletion_grace_period_seconds,
        meta.finalizers.clone(),
    )
}

/// 409 Conflict unless every precondition set matches `meta`.
pub fn check_preconditions(
    meta: &ObjectMeta,
    preconditions: Option<&Preconditions>,
    plural: &str,
) -> Result<(), ApiError> {
    let Some(p) = preconditions else {
        return Ok(());
    };
    let checks = [
        ("UID", p.uid.as_deref(), meta.uid.as_str()),
        (
            "ResourceVersion",
            p.resource_version.as_deref(),
            meta.resource_version.as_str(),
        ),
    ];
    for (what, want, have) in checks {
        if let Some(want) = want.filter(|w| *w != have) {
            return Err(ApiError::Conflict {
                resource: plural.into(),
                name: meta.name.clone(),
                message: format!(
                    "Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}"
                ),
            });
        }
    }
    Ok(())
}

/// Updates `finalizers` for a delete with `policy`: `Orphan` adds [`FINALIZER_ORPHAN`] and
/// `Foreground` [`FINALIZER_FOREGROUND`], each removing the other; `Background` removes both;
/// `None` keeps them.
pub fn apply_propagation(finalizers: &mut Vec<String>, policy: Option<PropagationPolicy>) {
    let (add, remove) = match policy {
        None => return,
        Some(PropagationPolicy::Orphan) => (Some(FINALIZER_ORPHAN), FINALIZER_FOREGROUND),
        Some(PropagationPolicy::Foreground) => (Some(FINALIZER_FOREGROUND), FINALIZER_ORPHAN),
        Some(PropagationPolicy::Background) => {
            finalizers.retain(|f| f != FINALIZER_ORPHAN && f != FINALIZER_FOREGROUND);
            return;
        }
    };
    finalizers.retain(|f| f != remove);
    if let Some(add) = add.filter(|a| !finalizers.iter().any(|f| f == a)) {
        finalizers.push(add.to_string());
    }
}

/// Marks an object that finalizers keep: `deletionTimestamp` now (unless already earlier) and
/// `deletionGracePeriodSeconds` 0 (Kubernetes' `markAsDeleting`).
fn mark_finalizing(meta: &mut ObjectMeta, now: Timestamp) {
    let later = Timestamp::parse(&meta.deletion_timestamp).map_or(true, |t| t > now);
    if later {
        meta.deletion_timestamp = now.to_rfc3339();
    }
    meta.deletion_grace_period_seconds = Some(0);
}

/// Whether an object in this state must leave the store: marked deleting, its graceful
/// deletion done (grace 0) and no finalizer left. An update producing this state removes it.
pub fn finalized(meta: &ObjectMeta) -> bool {
    meta.is_deleting()
        && matches!(meta.deletion_grace_period_seconds, None | Some(0))
        && meta.finalizers.is_empty()
}

/// What a delete request does to the stored object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Remove the object from the store now.
    Immediate,
    /// The object was marked (or its grace shortened): write it back, do not remove it.
    Graceful,
    /// The object is already terminating and the request changes nothing.
    Pending,
}

/// Applies a delete request with `requested` grace seconds at time `now` to `pod`.
pub fn delete_pod(pod: &mut Pod, requested: Option<i64>, now: Timestamp) -> Deletion {
    let grace = match requested {
        _ if !pod.metadata.deletion_timestamp.is_empty() => {
            return shorten(&mut pod.metadata, requested, now)
        }
        _ if pod.spec.node_name.is_empty() => 0,
        _ if pod.status.phase == PHASE_SUCCEEDED || pod.status.phase == PHASE_FAILED => 0,
        Some(g) => g,
        None => pod
            .spec
            .termination_grace_period_seconds
            .unwrap_or(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
    };
    if grace <= 0 {
        return Deletion::Immediate;
    }
    mark(&mut pod.metadata, now.unix_secs(), grace);
    Deletion::Graceful
}

/// A second delete of a terminating object: only a shorter grace period changes anything,
/// counted from when the first delete was accepted (as Kubernetes does).
fn shorten(meta: &mut ObjectMeta, requested: Option<i64>, now: Timestamp) -> Deletion {
    let current = match meta.deletion_grace_period_seconds {
        // Marked with grace 0 (or by an older writer) but still stored: finish the job.
        None | Some(0) => return Deletion::Immediate,
        Some(c) => c,
    };
    let requested = match requested {
        Some(r) if r < current => r,
        _ => return Deletion::Pending,
    };
    if requested <= 0 {
        return Deletion::Immediate;
    }
    let marked_at = Timestamp::parse(&meta.deletion_timestamp)
        .map(|t| t.unix_secs() - current)
        .unwrap_or_else(|_| now.unix_secs());
    mark(meta, marked_at, requested);
    Deletion::Graceful
}

fn mark(meta: &mut ObjectMeta, from_secs: i64, grace: i64) {
    meta.deletion_timestamp = Timestamp::from_unix(from_secs.saturating_add(grace), 0).to_rfc3339();
    meta.deletion_grace_period_seconds = Some(grace);
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn at(secs: i64) -> String {
        Timestamp::from_unix(secs, 0).to_rfc3339()
    }

    fn pod(node: &str, phase: &str, spec_grace: Option<i64>) -> Pod {
        let mut p = Pod::default();
        p.spec.node_name = node.into();
        p.status.phase = phase.into();
        p.spec.termination_grace_period_seconds = spec_grace;
        p
    }

    fn terminating(marked_at: i64, grace: i64) -> Pod {
        let mut p = pod("n1", "Running", Some(30));
        p.metadata.deletion_timestamp = at(marked_at + grace);
        p.metadata.deletion_grace_period_seconds = Some(grace);
        p
    }

    /// (case, pod, requested grace, decision, deletionTimestamp, deletionGracePeriodSeconds)
    type Case = (
        &'static str,
        Pod,
        Option<i64>,
        Deletion,
        Option<i64>,
        Option<i64>,
    );

    #[test]
    fn delete_decisions() {
        let cases: Vec<Case> = vec![
            (
                "bound, spec grace",
                pod("n1", "Running", Some(10)),
                None,
                Deletion::Graceful,
                Some(NOW + 10),
                Some(10),
            ),
            (
                "bound, no spec grace: 30 s",
                pod("n1", "Running", None),
                None,
                Deletion::Graceful,
                Some(NOW + 30),
                Some(30),
            ),
            (
                "bound, requested grace wins over spec",
                pod("n1", "Pending", Some(10)),
                Some(3),
                Deletion::Graceful,
                Some(NOW + 3),
                Some(3),
            ),
            (
                "bound, requested longer than spec",
                pod("n1", "Running", Some(10)),
                Some(60),
                Deletion::Graceful,
                Some(NOW + 60),
                Some(60),
            ),
            (
                "bound, grace 0 forces",
                pod("n1", "Running", Some(10)),
                Some(0),
                Deletion::Immediate,
                None,
                None,
            ),
            (
                "bound, spec grace 0",
                pod("n1", "Running", Some(0)),
                None,
                Deletion::Immediate,
                None,
                None,
            ),
            (
                "unbound",
                pod("", "Pending", Some(10)),
                Some(5),
                Deletion::Immediate,
                None,
                None,
            ),
            (
                "succeeded",
                pod("n1", PHASE_SUCCEEDED, Some(10)),
                None,
                Deletion::Immediate,
                None,
                None,
            ),
            (
                "failed",
                pod("n1", PHASE_FAILED, Some(10)),
                None,
                Deletion::Immediate,
                None,
                None,
            ),
            (
                "terminating, no grace asked: pending",
                terminating(NOW - 5, 30),
                None,
                Deletion::Pending,
                Some(NOW + 25),
                Some(30),
            ),
            (
                "terminating, longer grace: pending",
                terminating(NOW - 5, 30),
                Some(60),
                Deletion::Pending,
                Some(NOW + 25),
                Some(30),
            ),
            (
                "terminating, same grace: pending",
                terminating(NOW - 5, 30),
                Some(30),
                Deletion::Pending,
                Some(NOW + 25),
                Some(30),
            ),
            (
                "terminating, shorter grace: from the first delete",
                terminating(NOW - 5, 30),
                Some(10),
                Deletion::Graceful,
                Some(NOW + 5),
                Some(10),
            ),
            (
                "terminating, grace 0 forces",
                terminating(NOW - 5, 30),
                Some(0),
                Deletion::Immediate,
                Some(NOW + 25),
                Some(30),
            ),
            (
                "terminating with grace 0 stored: remove",
                terminating(NOW - 5, 0),
                None,
                Deletion::Immediate,
                Some(NOW - 5),
                Some(0),
            ),
        ];
        for (name, mut p, requested, want, ts, grace) in cases {
            let got = delete_pod(&mut p, requested, Timestamp::from_unix(NOW, 0));
            assert_eq!(got, want, "{name}");
            assert_eq!(
                p.metadata.deletion_timestamp,
                ts.map(at).unwrap_or_default(),
                "{name}"
            );
            assert_eq!(p.metadata.deletion_grace_period_seconds, grace, "{name}");
        }
    }

    fn rc(finalizers: &[&str], deleting_at: Option<i64>) -> crate::ReplicationController {
        let mut r = crate::ReplicationController::default();
        r.metadata.name = "rc".into();
        r.metadata.uid = "u1".into();
        r.metadata.resource_version = "7".into();
        r.metadata.finalizers = finalizers.iter().map(|f| f.to_string()).collect();
        if let Some(t) = deleting_at {
            r.metadata.deletion_timestamp = at(t);
            r.metadata.deletion_grace_period_seconds = Some(0);
        }
        r
    }

    fn with_policy(p: PropagationPolicy) -> DeleteOptions {
        DeleteOptions::propagation(p)
    }

    fn preconditions(uid: Option<&str>, rv: Option<&str>) -> DeleteOptions {
        DeleteOptions {
            preconditions: Some(Preconditions {
                uid: uid.map(str::to_string),
                resource_version: rv.map(str::to_string),
            }),
            ..DeleteOptions::default()
        }
    }

    /// (case, object, options, decision, deletionTimestamp, finalizers)
    type FinalizerCase = (
        &'static str,
        crate::ReplicationController,
        DeleteOptions,
        Deletion,
        Option<i64>,
        &'static [&'static str],
    );

    #[test]
    fn finalizers_and_propagation_decide_non_graceful_kinds() {
        use PropagationPolicy::*;
        let cases: Vec<FinalizerCase> = vec![
            (
                "plain",
                rc(&[], None),
                DeleteOptions::default(),
                Deletion::Immediate,
                None,
                &[],
            ),
            (
                "background",
                rc(&[], None),
                with_policy(Background),
                Deletion::Immediate,
                None,
                &[],
            ),
            (
                "foreground marks",
                rc(&[], None),
                with_policy(Foreground),
                Deletion::Graceful,
                Some(NOW),
                &["foregroundDeletion"],
            ),
            (
                "foreground replaces orphan",
                rc(&["orphan"], Some(NOW - 9)),
                with_policy(Foreground),
                Deletion::Graceful,
                Some(NOW - 9),
                &["foregroundDeletion"],
            ),
            (
                "background drops foreground",
                rc(&["foregroundDeletion"], Some(NOW - 9)),
                with_policy(Background),
                Deletion::Immediate,
                Some(NOW - 9),
                &[],
            ),
            (
                "orphan marks",
                rc(&[], None),
                with_policy(Orphan),
                Deletion::Graceful,
                Some(NOW),
                &["orphan"],
            ),
            (
                "a finalizer keeps it",
                rc(&["a.io/x"], None),
                DeleteOptions::default(),
                Deletion::Graceful,
                Some(NOW),
                &["a.io/x"],
            ),
            (
                "orphan adds to others",
                rc(&["a.io/x"], None),
                with_policy(Orphan),
                Deletion::Graceful,
                Some(NOW),
                &["a.io/x", "orphan"],
            ),
            (
                "already marked: nothing new",
                rc(&["a.io/x"], Some(NOW - 9)),
                DeleteOptions::default(),
                Deletion::Pending,
                Some(NOW - 9),
                &["a.io/x"],
            ),
            (
                "orphaning, deleted again plainly",
                rc(&["orphan"], Some(NOW - 9)),
                DeleteOptions::default(),
                Deletion::Pending,
                Some(NOW - 9),
                &["orphan"],
            ),
            (
                "orphaning, background drops the last finalizer",
                rc(&["orphan"], Some(NOW - 9)),
                with_policy(Background),
                Deletion::Immediate,
                Some(NOW - 9),
                &[],
            ),
            (
                "orphaning, background keeps other finalizers",
                rc(&["orphan", "a.io/x"], Some(NOW - 9)),
                with_policy(Background),
                Deletion::Graceful,
                Some(NOW - 9),
                &["a.io/x"],
            ),
            (
                "foreground finalizer replaced by orphan",
                rc(&["foregroundDeletion"], None),
                with_policy(Orphan),
                Deletion::Graceful,
                Some(NOW),
                &["orphan"],
            ),
            (
                "matching preconditions",
                rc(&[], None),
                preconditions(Some("u1"), Some("7")),
                Deletion::Immediate,
                None,
                &[],
            ),
        ];
        for (name, mut obj, options, want, ts, finalizers) in cases {
            let got = plan_delete(&mut obj, &options, Timestamp::from_unix(NOW, 0));
            assert_eq!(got, Ok(want), "{name}");
            assert_eq!(
                obj.metadata.deletion_timestamp,
                ts.map(at).unwrap_or_default(),
                "{name}"
            );
            assert_eq!(obj.metadata.finalizers, finalizers, "{name}");
            if ts.is_some() {
                assert_eq!(
                    obj.metadata.deletion_grace_period_seconds,
                    Some(0),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn failed_preconditions_conflict_and_change_nothing() {
        let cases = [
            (
                "uid",
                preconditions(Some("other"), None),
                "UID in precondition: other",
            ),
            (
                "resourceVersion",
                preconditions(None, Some("6")),
                "ResourceVersion in precondition: 6",
            ),
            (
                "both",
                preconditions(Some("other"), Some("6")),
                "UID in precondition",
            ),
        ];
        for (name, options, message) in cases {
            let mut obj = rc(&["a.io/x"], None);
            let before = obj.clone();
            let err =
                plan_delete(&mut obj, &options, Timestamp::from_unix(NOW, 0)).expect_err(name);
            assert_eq!(err.to_status().code, 409, "{name}");
            assert!(err.to_string().contains(message), "{name}: {err}");
            assert_eq!(obj, before, "{name}");
        }
    }

    #[test]
    fn pods_with_finalizers_finish_graceful_deletion_marked() {
        let now = Timestamp::from_unix(NOW, 0);
        let mut p = pod("n1", "Running", Some(30));
        p.metadata.finalizers = vec!["a.io/x".into()];
        // First delete: the graceful mark, finalizers kept.
        assert_eq!(
            plan_delete(&mut p, &DeleteOptions::default(), now),
            Ok(Deletion::Graceful)
        );
        assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
        assert!(!finalized(&p.metadata));
        // The kubelet's final delete (grace 0) marks it done but cannot remove it.
        assert_eq!(
            plan_delete(&mut p, &DeleteOptions::immediate(), now),
            Ok(Deletion::Graceful)
        );
        assert_eq!(
            (
                p.metadata.deletion_timestamp.clone(),
                p.metadata.deletion_grace_period_seconds
            ),
            (at(NOW), Some(0))
        );
        // Repeated, it changes nothing.
        assert_eq!(
            plan_delete(&mut p, &DeleteOptions::immediate(), now),
            Ok(Deletion::Pending)
        );
        // A pending graceful deletion does not take finalizer changes.
        let mut q = terminating(NOW - 5, 30);
        assert_eq!(
            plan_delete(&mut q, &with_policy(PropagationPolicy::Orphan), now),
            Ok(Deletion::Pending)
        );
        assert!(q.metadata.finalizers.is_empty());
        // Without finalizers, the same final delete removes it.
        let mut r = terminating(NOW - 5, 30);
        assert_eq!(
            plan_delete(&mut r, &DeleteOptions::immediate(), now),
            Ok(Deletion::Immediate)
        );
    }

    #[test]
    fn finalized_needs_mark_grace_zero_and_no_finalizers() {
        // (deletionTimestamp set, grace, finalizers, finalized)
        let cases = [
            (false, None, 0, false),
            (true, Some(0), 0, true),
            (true, None, 0, true),
            (true, Some(0), 1, false),
            (true, Some(30), 0, false),
        ];
        for (marked, grace, n, want) in cases {
            let meta = ObjectMeta {
                deletion_timestamp: if marked { at(NOW) } else { String::new() },
                deletion_grace_period_seconds: grace,
                finalizers: vec!["a.io/x".to_string(); n],
                ..ObjectMeta::default()
            };
            assert_eq!(finalized(&meta), want, "{meta:?}");
        }
    }

    #[test]
    fn propagation_policies_parse_by_wire_name() {
        for p in PropagationPolicy::ALL {
            assert_eq!(PropagationPolicy::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        assert_eq!(PropagationPolicy::parse("orphan"), None);
    }

    #[test]
    fn options_wire_form() {
        let o: DeleteOptions =
            serde_json::from_str(r#"{"kind":"DeleteOptions","gracePeriodSeconds":5}"#).unwrap();
        assert_eq!(o, DeleteOptions::grace(5));
        assert_eq!(
            serde_json::to_string(&DeleteOptions::immediate()).unwrap(),
            r#"{"gracePeriodSeconds":0}"#
        );
    }
}
