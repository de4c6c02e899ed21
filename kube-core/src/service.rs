//! Service: a stable name and address balancing over a set of pods.

use crate::intstr::IntOrString;
use crate::meta::{ObjectMeta, StringMap};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A service (core/v1 `Service`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Service")]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Service` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Desired state.
    #[serde(default)]
    pub spec: ServiceSpec,
    /// Observed state.
    #[serde(default)]
    pub status: ServiceStatus,
}

/// Desired state of a service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ServiceSpec")]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// Ports the service exposes.
    #[serde(default)]
    pub ports: Vec<ServicePort>,
    /// Labels of the pods traffic goes to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: StringMap,
    /// Virtual IP of the service (the seed's portal IP).
    #[serde(
        rename = "clusterIP",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster_ip: String,
    /// `ClusterIP` (default) or `NodePort`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
    /// `None` (default) or `ClientIP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session_affinity: String,
}

/// A port of a service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ServicePort")]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// Name, required when there is more than one port.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `TCP` or `UDP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    /// Port the service listens on.
    #[serde(default)]
    pub port: i32,
    /// Container port number or name; defaults to `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
}

/// Observed state of a service (nothing yet).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ServiceStatus")]
pub struct ServiceStatus {}
