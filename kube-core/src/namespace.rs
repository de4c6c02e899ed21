//! Namespace (core/v1): the cluster-scoped object every namespaced object lives in.
//!
//! A namespace is `Active` until it is deleted; a delete marks it (`deletionTimestamp`) and
//! turns it `Terminating`, the namespace controller deletes its content and then removes the
//! `kubernetes` finalizer from `spec.finalizers`, which removes the namespace.

use crate::meta::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `status.phase` of a namespace that accepts new content.
pub const PHASE_ACTIVE: &str = "Active";
/// `status.phase` of a namespace being deleted: no new content, its content is being removed.
pub const PHASE_TERMINATING: &str = "Terminating";
/// The finalizer the namespace controller removes once the namespace is empty.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";
/// The namespace used when a request names none.
pub const NAMESPACE_DEFAULT: &str = "default";
/// The namespace of the system's own objects (leader-election leases, …).
pub const NAMESPACE_SYSTEM: &str = "kube-system";
/// The namespace readable by everyone (Kubernetes creates it at start-up).
pub const NAMESPACE_PUBLIC: &str = "kube-public";
/// The namespace of node heartbeat leases (Kubernetes creates it at start-up).
pub const NAMESPACE_NODE_LEASE: &str = "kube-node-lease";
/// The namespaces the API server creates when they are missing.
pub const SYSTEM_NAMESPACES: [&str; 4] = [
    NAMESPACE_DEFAULT,
    NAMESPACE_SYSTEM,
    NAMESPACE_PUBLIC,
    NAMESPACE_NODE_LEASE,
];

/// The namespaces that may not be deleted (Kubernetes' immortal namespaces; `kube-node-lease`
/// is not one of them).
pub const IMMORTAL_NAMESPACES: [&str; 3] = [NAMESPACE_DEFAULT, NAMESPACE_SYSTEM, NAMESPACE_PUBLIC];

/// Condition: some content could not be discovered (Kubernetes' `NamespaceDeletionDiscoveryFailure`).
pub const CONDITION_DELETION_CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
/// Condition: content remains (Kubernetes' `NamespaceContentRemaining`).
pub const CONDITION_CONTENT_REMAINING: &str = "NamespaceContentRemaining";

/// A namespace (core/v1 `Namespace`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Namespace")]
#[serde(rename_all = "camelCase")]
pub struct Namespace {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Namespace` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata (no namespace: namespaces are cluster-scoped).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The finalizers that must be removed before the namespace goes away.
    #[serde(default)]
    pub spec: NamespaceSpec,
    /// The phase and conditions, owned by the server and the namespace controller.
    #[serde(default)]
    pub status: NamespaceStatus,
}

/// What a namespace asks of its deletion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NamespaceSpec")]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSpec {
    /// Finalizers of the namespace's content (`kubernetes`: the namespace controller).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

/// The observed state of a namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NamespaceStatus")]
#[serde(rename_all = "camelCase")]
pub struct NamespaceStatus {
    /// `Active` or `Terminating`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phase: String,
    /// Conditions of the deletion (absent while active).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<NamespaceCondition>,
}

/// One condition of a namespace, e.g. `NamespaceContentRemaining`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NamespaceCondition")]
#[serde(rename_all = "camelCase")]
pub struct NamespaceCondition {
    /// The condition's type.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// When the status last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub last_transition_time: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Namespace {
    /// A namespace named `name` (as a client would send it; the server fills the rest).
    pub fn named(name: &str) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: name.to_string(),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        }
    }

    /// Whether the namespace is being deleted (marked, or phase `Terminating`): no new content.
    pub fn is_terminating(&self) -> bool {
        self.metadata.is_deleting() || self.status.phase == PHASE_TERMINATING
    }

    /// The condition of type `type_`, if set.
    pub fn condition(&self, type_: &str) -> Option<&NamespaceCondition> {
        self.status.conditions.iter().find(|c| c.type_ == type_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_round_trips() {
        let json = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Terminating","conditions":[{"type":"NamespaceContentRemaining","status":"True","reason":"SomeResourcesRemain","message":"pods: 1"}]}}"#;
        let ns: Namespace = serde_json::from_str(json).expect("decodes");
        assert_eq!(ns.spec.finalizers, [FINALIZER_KUBERNETES]);
        assert!(ns.is_terminating());
        assert_eq!(
            ns.condition(CONDITION_CONTENT_REMAINING)
                .map(|c| c.status.as_str()),
            Some("True")
        );
        assert_eq!(serde_json::to_string(&ns).expect("encodes"), json);
    }

    #[test]
    fn terminating_is_the_mark_or_the_phase() {
        let mut ns = Namespace::named("a");
        assert!(!ns.is_terminating());
        ns.status.phase = PHASE_ACTIVE.into();
        assert!(!ns.is_terminating());
        ns.metadata.deletion_timestamp = "2026-11-28T00:00:00Z".into();
        assert!(ns.is_terminating());
        let mut ns = Namespace::named("b");
        ns.status.phase = PHASE_TERMINATING.into();
        assert!(ns.is_terminating());
    }
}
