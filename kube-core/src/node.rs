//! Node (the seed's "minion"): a machine pods are scheduled onto.

use crate::meta::{is_default, ObjectMeta};
use crate::pod::ResourceList;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node (core/v1 `Node`); cluster-scoped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Node")]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Node` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Desired state.
    #[serde(default)]
    pub spec: NodeSpec,
    /// Observed state, reported by the kubelet.
    #[serde(default)]
    pub status: NodeStatus,
}

/// Desired state of a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NodeSpec")]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    /// Pod IP range assigned to the node.
    #[serde(rename = "podCIDR", default, skip_serializing_if = "String::is_empty")]
    pub pod_cidr: String,
    /// When true, no new pods are scheduled onto the node.
    #[serde(default, skip_serializing_if = "is_default")]
    pub unschedulable: bool,
}

/// Observed state of a node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NodeStatus")]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Total resources of the node.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: ResourceList,
    /// Resources available to pods; defaults to capacity.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allocatable: ResourceList,
    /// Conditions such as `Ready`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<NodeCondition>,
    /// Addresses of the node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NodeAddress>,
    /// Endpoints of the daemons on the node (the kubelet's port).
    #[serde(default, skip_serializing_if = "NodeDaemonEndpoints::is_empty")]
    pub daemon_endpoints: NodeDaemonEndpoints,
    /// Versions of the node's software.
    #[serde(default, skip_serializing_if = "NodeSystemInfo::is_empty")]
    pub node_info: NodeSystemInfo,
}

/// Ports of the daemons running on a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NodeDaemonEndpoints")]
#[serde(rename_all = "camelCase")]
pub struct NodeDaemonEndpoints {
    /// The kubelet's endpoint.
    #[serde(default)]
    pub kubelet_endpoint: DaemonEndpoint,
}

impl NodeDaemonEndpoints {
    /// True when no endpoint is set.
    pub fn is_empty(&self) -> bool {
        self.kubelet_endpoint.port == 0
    }
}

/// One daemon's endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.DaemonEndpoint")]
#[serde(rename_all = "PascalCase")]
pub struct DaemonEndpoint {
    /// Port the daemon listens on (`Port`, as Kubernetes spells it).
    #[serde(default)]
    pub port: i32,
}

/// Versions of a node's software, as the kubelet reports them. Every field is always written
/// (empty when unknown): Kubernetes' schema marks them all required, and clients such as the
/// Python `kubernetes` package refuse a node whose `nodeInfo` lacks one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NodeSystemInfo")]
#[serde(rename_all = "camelCase")]
pub struct NodeSystemInfo {
    /// Machine ID (`/etc/machine-id`).
    #[serde(default, rename = "machineID")]
    pub machine_id: String,
    /// System UUID reported by the firmware.
    #[serde(default, rename = "systemUUID")]
    pub system_uuid: String,
    /// Boot ID.
    #[serde(default, rename = "bootID")]
    pub boot_id: String,
    /// Kernel version (`uname -r`).
    #[serde(default)]
    pub kernel_version: String,
    /// OS image, e.g. `Debian GNU/Linux 12 (bookworm)`.
    #[serde(default)]
    pub os_image: String,
    /// Container runtime and version, e.g. `docker://20.10.24`.
    #[serde(default)]
    pub container_runtime_version: String,
    /// Kubelet version.
    #[serde(default)]
    pub kubelet_version: String,
    /// Kube-proxy version.
    #[serde(default)]
    pub kube_proxy_version: String,
    /// Operating system, e.g. `linux`.
    #[serde(default)]
    pub operating_system: String,
    /// Architecture, e.g. `amd64`.
    #[serde(default)]
    pub architecture: String,
}

impl NodeSystemInfo {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == NodeSystemInfo::default()
    }
}

/// A node condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NodeCondition")]
#[serde(rename_all = "camelCase")]
pub struct NodeCondition {
    /// Condition type, e.g. `Ready`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// RFC 3339 time of the last heartbeat.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub last_heartbeat_time: String,
    /// RFC 3339 time the status last changed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub last_transition_time: String,
}

/// An address of a node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.NodeAddress")]
#[serde(rename_all = "camelCase")]
pub struct NodeAddress {
    /// `InternalIP`, `ExternalIP` or `Hostname`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The address.
    pub address: String,
}
