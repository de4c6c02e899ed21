//! The namespace controller's decisions, pure: what to do with a terminating namespace given
//! the objects still in it.
//!
//! Kubernetes' namespace deleter: every namespaced object of every served kind in a namespace
//! marked for deletion is deleted (objects already being deleted are left to finish: a pod's
//! kubelet, an object's finalizers); the namespace's status carries the
//! `NamespaceDeletionContentFailure` and `NamespaceContentRemaining` conditions; once nothing is
//! left and no delete failed, the `kubernetes` finalizer is removed from `spec.finalizers`,
//! which removes the namespace.

use crate::namespace::{
    Namespace, NamespaceCondition, NamespaceStatus, CONDITION_CONTENT_REMAINING,
    CONDITION_DELETION_CONTENT_FAILURE, FINALIZER_KUBERNETES, PHASE_TERMINATING,
};
use crate::object::ResourceKind;
use std::collections::BTreeMap;

/// The kinds whose objects live in namespaces, hence deleted with them.
pub fn namespaced_kinds() -> impl Iterator<Item = ResourceKind> {
    ResourceKind::ALL
        .into_iter()
        .filter(|k| k.info().namespaced)
}

/// One object found in a terminating namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// Its kind.
    pub resource: ResourceKind,
    /// Its name.
    pub name: String,
    /// Whether it is already being deleted (`deletionTimestamp` set).
    pub deleting: bool,
}

/// What to do with one namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespacePlan {
    /// Objects to delete (not yet being deleted), in kind then name order.
    pub delete: Vec<(ResourceKind, String)>,
    /// The status to write through `/status`, when it differs from the stored one.
    pub status: Option<NamespaceStatus>,
    /// Remove the `kubernetes` finalizer (see [`without_kubernetes_finalizer`]): the
    /// namespace is empty and every delete succeeded.
    pub finalize: bool,
    /// Content remains (or a delete failed): look again later.
    pub wait: bool,
}

/// Plans one namespace: nothing unless it is marked for deletion and still carries the
/// `kubernetes` finalizer; otherwise delete what is not being deleted yet, report the
/// conditions, and finalize once the namespace is empty and no delete failed (`failures`:
/// the messages of the deletes that failed in the previous round). `now` stamps changed
/// conditions.
pub fn plan(ns: &Namespace, content: &[Content], failures: &[String], now: &str) -> NamespacePlan {
    let ours = ns.spec.finalizers.iter().any(|f| f == FINALIZER_KUBERNETES);
    if !ns.metadata.is_deleting() || !ours {
        return NamespacePlan::default();
    }
    let mut delete: Vec<(ResourceKind, String)> = content
        .iter()
        .filter(|c| !c.deleting)
        .map(|c| (c.resource, c.name.clone()))
        .collect();
    delete.sort();
    let status = desired_status(ns, content, failures, now);
    let empty = content.is_empty() && failures.is_empty();
    NamespacePlan {
        delete,
        status: (status != ns.status).then_some(status),
        finalize: empty,
        wait: !empty,
    }
}

/// `ns` with the `kubernetes` finalizer removed from `spec.finalizers` (others kept).
pub fn without_kubernetes_finalizer(ns: &Namespace) -> Namespace {
    let mut out = ns.clone();
    out.spec.finalizers.retain(|f| f != FINALIZER_KUBERNETES);
    out
}

/// `Terminating`, with the two deletion conditions (Kubernetes' reasons and messages); a
/// condition whose status is unchanged keeps its transition time.
fn desired_status(
    ns: &Namespace,
    content: &[Content],
    failures: &[String],
    now: &str,
) -> NamespaceStatus {
    let failure = if failures.is_empty() {
        (
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".to_string(),
        )
    } else {
        (
            "True",
            "ContentDeletionFailed",
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                failures.len(),
                failures.join(", ")
            ),
        )
    };
    let mut counts: BTreeMap<ResourceKind, usize> = BTreeMap::new();
    for c in content {
        *counts.entry(c.resource).or_default() += 1;
    }
    let remaining = if counts.is_empty() {
        (
            "False",
            "ContentRemoved",
            "All content successfully removed".to_string(),
        )
    } else {
        let mut parts: Vec<String> = counts
            .iter()
            .map(|(kind, n)| {
                let info = kind.info();
                let group = info.api_version.rsplit_once('/').map_or("", |(g, _)| g);
                format!("{}.{group} has {n} resource instances", info.plural)
            })
            .collect();
        parts.sort();
        (
            "True",
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", parts.join(", ")),
        )
    };
    let condition = |type_: &str, (status, reason, message): (&str, &str, String)| {
        let since = ns
            .condition(type_)
            .filter(|c| c.status == status && !c.last_transition_time.is_empty())
            .map_or(now.to_string(), |c| c.last_transition_time.clone());
        NamespaceCondition {
            type_: type_.to_string(),
            status: status.to_string(),
            last_transition_time: since,
            reason: reason.to_string(),
            message,
        }
    };
    NamespaceStatus {
        phase: PHASE_TERMINATING.to_string(),
        conditions: vec![
            condition(CONDITION_DELETION_CONTENT_FAILURE, failure),
            condition(CONDITION_CONTENT_REMAINING, remaining),
        ],
    }
}

#[cfg(test)]
#[path = "namespace_tests.rs"]
mod tests;
