//! Binding: the scheduler's request to place a pod on a node.

use crate::meta::{ObjectMeta, ObjectReference};
use serde::{Deserialize, Serialize};

/// A binding of a pod to a node (core/v1 `Binding`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Binding")]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// `v1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `Binding`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Name and namespace of the pod being bound.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The node to bind to (`kind: Node`, `name`).
    #[serde(default)]
    pub target: ObjectReference,
}
