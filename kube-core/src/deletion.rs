//! Graceful deletion: what a delete request does to an object (pure; the time is an argument).
//!
//! Kubernetes' rules for pods (`CheckGracefulDelete` and `BeforeDelete`): deleting a bound pod
//! only marks it, setting `metadata.deletionTimestamp` (now + grace) and
//! `metadata.deletionGracePeriodSeconds`; the kubelet stops its containers within the grace
//! period and then deletes the pod with grace 0. The grace is the request's
//! `gracePeriodSeconds`, else the pod's `spec.terminationGracePeriodSeconds`, else 30 s. An
//! unbound pod, a pod that already finished (Succeeded or Failed) and grace 0 delete at once.
//! A second delete of a terminating pod may only shorten its grace period.

use crate::defaults::DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
use crate::meta::ObjectMeta;
use crate::pod::{PHASE_FAILED, PHASE_SUCCEEDED};
use crate::time::Timestamp;
use crate::Pod;
use serde::{Deserialize, Serialize};

/// Options of a delete request (core/v1 `DeleteOptions`; only the grace period is honoured).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// Seconds the object is given to stop; `None` uses the object's own default, 0 forces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
}

impl DeleteOptions {
    /// Options that delete at once (grace period 0), as the kubelet's final delete does.
    pub fn immediate() -> DeleteOptions {
        DeleteOptions {
            grace_period_seconds: Some(0),
        }
    }

    /// Options with the given grace period.
    pub fn grace(seconds: i64) -> DeleteOptions {
        DeleteOptions {
            grace_period_seconds: Some(seconds),
        }
    }
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
