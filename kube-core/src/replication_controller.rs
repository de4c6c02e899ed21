//! ReplicationController: keeps a number of pod replicas running.

use crate::meta::{is_default, ObjectMeta, StringMap};
use crate::pod::PodTemplateSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A replication controller (core/v1 `ReplicationController`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ReplicationController")]
#[serde(rename_all = "camelCase")]
pub struct ReplicationController {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `ReplicationController` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Desired state.
    #[serde(default)]
    pub spec: ReplicationControllerSpec,
    /// Observed state.
    #[serde(default)]
    pub status: ReplicationControllerStatus,
}

/// Desired state of a replication controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ReplicationControllerSpec")]
#[serde(rename_all = "camelCase")]
pub struct ReplicationControllerSpec {
    /// Desired number of pods; defaults to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Labels that select the controller's pods; defaults to the template's labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: StringMap,
    /// Template of the pods to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplateSpec>,
}

/// Observed state of a replication controller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ReplicationControllerStatus")]
#[serde(rename_all = "camelCase")]
pub struct ReplicationControllerStatus {
    /// Pods currently matching the selector.
    #[serde(default)]
    pub replicas: i32,
    /// Matching pods whose labels also match the template.
    #[serde(default, skip_serializing_if = "is_default")]
    pub fully_labeled_replicas: i32,
    /// Matching pods that are ready.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ready_replicas: i32,
    /// Generation most recently acted on by the controller.
    #[serde(default, skip_serializing_if = "is_default")]
    pub observed_generation: i64,
}
