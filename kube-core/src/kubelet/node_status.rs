//! Node status, pure: the `Node` a kubelet registers and the status it writes on every
//! heartbeat (capacity and allocatable, addresses, the kubelet's port, versions, and the
//! `Ready` condition from the runtime's health). Time is passed in.
//!
//! The registration and the heartbeat loop are `kube_runtime::kubelet::node_status`.

use crate::meta::StringMap;
use crate::node::{
    DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSystemInfo,
};
use crate::quantity::Quantity;
use crate::runtime::RuntimeVersion;
use crate::time::Timestamp;
use crate::Node;
use std::net::IpAddr;

/// Label carrying the node's host name.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// Label carrying the node's operating system.
pub const LABEL_OS: &str = "kubernetes.io/os";
/// Label carrying the node's architecture.
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
/// The node condition the kubelet keeps fresh.
pub const CONDITION_READY: &str = "Ready";
/// Reason of `Ready=True`.
pub const REASON_KUBELET_READY: &str = "KubeletReady";
/// Reason of `Ready=False`.
pub const REASON_KUBELET_NOT_READY: &str = "KubeletNotReady";
/// Message of `Ready=True`.
pub const MESSAGE_KUBELET_READY: &str = "kubelet is posting ready status";
/// Address type of the node's IP.
pub const ADDRESS_INTERNAL_IP: &str = "InternalIP";
/// Address type of the node's host name.
pub const ADDRESS_HOSTNAME: &str = "Hostname";
/// Pods a node accepts unless told otherwise.
pub const DEFAULT_MAX_PODS: i64 = 110;
/// The version the kubelet reports (`v` + the crate's version).
pub const KUBELET_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// What the kubelet knows about its node, gathered by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatusInput {
    /// Name of the node object.
    pub node_name: String,
    /// The node's IP (`InternalIP`), if known.
    pub internal_ip: Option<IpAddr>,
    /// The node's host name (`Hostname`); the node name when empty.
    pub hostname: String,
    /// CPU capacity in millicores.
    pub cpu_millis: i64,
    /// Memory capacity in bytes.
    pub memory_bytes: i64,
    /// Most pods the node accepts.
    pub max_pods: i64,
    /// Port of the kubelet's server.
    pub kubelet_port: u16,
    /// The runtime's identity, or why it did not answer.
    pub runtime: Result<RuntimeVersion, String>,
    /// Labels the kubelet puts on its node, besides the well-known ones it always sets.
    pub labels: StringMap,
    /// Operating system (`linux`).
    pub operating_system: String,
    /// Architecture in Go's spelling (`amd64`, `arm64`).
    pub architecture: String,
}

impl NodeStatusInput {
    /// Input for `node_name` on this build's platform, 110 pods, and a runtime not asked yet.
    pub fn new(node_name: impl Into<String>) -> NodeStatusInput {
        NodeStatusInput {
            node_name: node_name.into(),
            internal_ip: None,
            hostname: String::new(),
            cpu_millis: 0,
            memory_bytes: 0,
            max_pods: DEFAULT_MAX_PODS,
            kubelet_port: 0,
            runtime: Err("container runtime not checked yet".to_string()),
            labels: StringMap::new(),
            operating_system: std::env::consts::OS.to_string(),
            architecture: go_arch(std::env::consts::ARCH).to_string(),
        }
    }
}

/// Go's name of a Rust target architecture (`x86_64` → `amd64`), as Kubernetes reports it.
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// A memory size in the largest binary unit that holds it exactly (`2Gi`, `8005924Ki`, `1000`).
pub fn memory_quantity(bytes: i64) -> Quantity {
    let bytes = bytes.max(0);
    const UNITS: [(&str, u32); 6] = [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ];
    for (suffix, shift) in UNITS {
        let unit = 1i64 << shift;
        if bytes != 0 && bytes % unit == 0 {
            return Quantity(format!("{}{suffix}", bytes / unit));
        }
    }
    Quantity(bytes.to_string())
}

/// The labels the kubelet wants on its node: `input.labels`, then hostname, OS and
/// architecture (the well-known ones win).
pub fn node_labels(input: &NodeStatusInput) -> StringMap {
    let mut labels = input.labels.clone();
    labels.insert(LABEL_HOSTNAME.to_string(), input.node_name.clone());
    if !input.operating_system.is_empty() {
        labels.insert(LABEL_OS.to_string(), input.operating_system.clone());
    }
    if !input.architecture.is_empty() {
        labels.insert(LABEL_ARCH.to_string(), input.architecture.clone());
    }
    labels
}

/// The node to create at registration: name, labels and a fresh status.
pub fn build_node(input: &NodeStatusInput, now: Timestamp) -> Node {
    let mut node = Node::default();
    node.metadata.name = input.node_name.clone();
    node.metadata.labels = node_labels(input);
    update_node_status(&node, input, now)
}

/// `existing` with the kubelet's labels merged in (others' labels kept), or `None` when it
/// already carries them all.
pub fn merge_node_labels(existing: &Node, input: &NodeStatusInput) -> Option<Node> {
    let wanted = node_labels(input);
    let have = &existing.metadata.labels;
    if wanted.iter().all(|(k, v)| have.get(k) == Some(v)) {
        return None;
    }
    let mut node = existing.clone();
    node.metadata.labels.extend(wanted);
    Some(node)
}

/// `existing` with the status the kubelet reports at `now`: capacity and allocatable (cpu,
/// memory, pods), addresses, the kubelet's port, versions, and the `Ready` condition
/// (heartbeat `now`; transition time kept unless the status changed). Other conditions and
/// the rest of the object are kept.
pub fn update_node_status(existing: &Node, input: &NodeStatusInput, now: Timestamp) -> Node {
    let mut node = existing.clone();
    let status = &mut node.status;

    // The kubelet's own resources; other keys (set by others) are kept.
    let own = [
        ("cpu", Quantity::from_milli(input.cpu_millis.max(0))),
        ("memory", memory_quantity(input.memory_bytes)),
        ("pods", Quantity::from_value(input.max_pods.max(0))),
    ];
    for (name, quantity) in own {
        status.capacity.insert(name.into(), quantity.clone());
        status.allocatable.insert(name.into(), quantity);
    }

    let hostname = if input.hostname.is_empty() {
        &input.node_name
    } else {
        &input.hostname
    };
    status.addresses = input
        .internal_ip
        .map(|ip| NodeAddress {
            type_: ADDRESS_INTERNAL_IP.into(),
            address: ip.to_string(),
        })
        .into_iter()
        .chain(std::iter::once(NodeAddress {
            type_: ADDRESS_HOSTNAME.into(),
            address: hostname.clone(),
        }))
        .collect();

    status.daemon_endpoints = NodeDaemonEndpoints {
        kubelet_endpoint: DaemonEndpoint {
            port: i32::from(input.kubelet_port),
        },
    };

    let runtime_version = match &input.runtime {
        Ok(v) => format!("{}://{}", v.name, v.version),
        // Keep the last version known while the runtime does not answer.
        Err(_) => status.node_info.container_runtime_version.clone(),
    };
    status.node_info = NodeSystemInfo {
        kubelet_version: KUBELET_VERSION.to_string(),
        container_runtime_version: runtime_version,
        operating_system: input.operating_system.clone(),
        architecture: input.architecture.clone(),
        ..NodeSystemInfo::default()
    };

    let (cond_status, reason, message) = match &input.runtime {
        Ok(_) => (
            "True",
            REASON_KUBELET_READY,
            MESSAGE_KUBELET_READY.to_string(),
        ),
        Err(e) => (
            "False",
            REASON_KUBELET_NOT_READY,
            format!("container runtime is down: {e}"),
        ),
    };
    let now_s = now.to_rfc3339();
    let previous = status
        .conditions
        .iter()
        .position(|c| c.type_ == CONDITION_READY);
    let transition = match previous.map(|i| &status.conditions[i]) {
        Some(c) if c.status == cond_status && !c.last_transition_time.is_empty() => {
            c.last_transition_time.clone()
        }
        _ => now_s.clone(),
    };
    let ready = NodeCondition {
        type_: CONDITION_READY.into(),
        status: cond_status.into(),
        reason: reason.into(),
        message,
        last_heartbeat_time: now_s,
        last_transition_time: transition,
    };
    match previous {
        Some(i) => status.conditions[i] = ready,
        None => status.conditions.push(ready),
    }
    node
}

#[cfg(test)]
#[path = "node_status_tests.rs"]
mod tests;
