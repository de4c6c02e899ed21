//! [`PodInfo`]: what the scheduler needs from a pod, computed once per pod so the per-node
//! loops only compare integers and short strings.

use crate::pod::{Container, Pod};
use crate::quantity::Quantity;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// CPU (milli-cores) assumed for scoring a container that requests none (kube-scheduler's non-zero default).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory (bytes) assumed for scoring a container that requests none (kube-scheduler's non-zero default).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;
/// The host IP meaning "every address"; an empty or unspecified host IP is normalised to it.
pub const WILDCARD_HOST_IP: &str = "0.0.0.0";
/// The protocol of a port that names none.
pub const DEFAULT_PROTOCOL: &str = "TCP";

/// The cache key of a pod: `namespace/name`, or `name` alone when the namespace is empty (client-go's `MetaNamespaceKeyFunc`).
pub fn pod_key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        let mut key = String::with_capacity(namespace.len() + 1 + name.len());
        key.push_str(namespace);
        key.push('/');
        key.push_str(name);
        key
    }
}

/// A port a pod binds on its node: host IP (normalised), protocol and port number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPort {
    /// Host IP; [`WILDCARD_HOST_IP`] for "all addresses".
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// Port number on the node (positive).
    pub port: i32,
}

impl HostPort {
    /// A host port; an empty or unspecified IP (`""`, `0.0.0.0`, `::`) becomes [`WILDCARD_HOST_IP`], an empty protocol `TCP`.
    pub fn new(ip: &str, protocol: &str, port: i32) -> HostPort {
        let ip = match ip.parse::<IpAddr>() {
            _ if ip.is_empty() => WILDCARD_HOST_IP.to_string(),
            Ok(addr) if addr.is_unspecified() => WILDCARD_HOST_IP.to_string(),
            _ => ip.to_string(),
        };
        let protocol = if protocol.is_empty() {
            DEFAULT_PROTOCOL
        } else {
            protocol
        };
        HostPort {
            ip,
            protocol: protocol.to_string(),
            port,
        }
    }

    /// True when the IP is [`WILDCARD_HOST_IP`].
    pub fn is_wildcard(&self) -> bool {
        self.ip == WILDCARD_HOST_IP
    }

    /// True when both cannot be bound on one node: same port and protocol, and equal IPs or either one the wildcard.
    pub fn conflicts_with(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.is_wildcard() || other.is_wildcard())
    }
}

/// The scheduling-relevant facts of a pod, computed once by [`PodInfo::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    key: String,
    namespace: String,
    name: String,
    uid: String,
    node_name: String,
    labels: BTreeMap<String, String>,
    node_selector: BTreeMap<String, String>,
    milli_cpu: i64,
    memory: i64,
    non_zero_milli_cpu: i64,
    non_zero_memory: i64,
    host_ports: Vec<HostPort>,
    terminating: bool,
}

/// Request of one container for `resource`: its request, else its limit (k8s defaulting), else `None`.
fn container_request(c: &Container, resource: &str, milli: bool) -> Option<i64> {
    let q: &Quantity = c
        .resources
        .requests
        .get(resource)
        .or_else(|| c.resources.limits.get(resource))?;
    let v = if milli { q.milli_value() } else { q.value() };
    Some(v.unwrap_or(0).max(0))
}

impl PodInfo {
    /// Precomputes the pod's key, requests (limits stand in for missing requests; unparsable counts as 0), host ports, labels, node selector and node name.
    pub fn new(pod: &Pod) -> PodInfo {
        let (mut milli_cpu, mut memory, mut nz_cpu, mut nz_mem) = (0i64, 0i64, 0i64, 0i64);
        let mut host_ports = Vec::new();
        for c in &pod.spec.containers {
            let cpu = container_request(c, "cpu", true);
            let mem = container_request(c, "memory", false);
            milli_cpu = milli_cpu.saturating_add(cpu.unwrap_or(0));
            memory = memory.saturating_add(mem.unwrap_or(0));
            nz_cpu = nz_cpu.saturating_add(cpu.unwrap_or(DEFAULT_MILLI_CPU_REQUEST));
            nz_mem = nz_mem.saturating_add(mem.unwrap_or(DEFAULT_MEMORY_REQUEST));
            for p in &c.ports {
                // With hostNetwork the container port is the host port (k8s defaulting).
                let port = if p.host_port == 0 && pod.spec.host_network {
                    p.container_port
                } else {
                    p.host_port
                };
                if port > 0 {
                    host_ports.push(HostPort::new(&p.host_ip, &p.protocol, port));
                }
            }
        }
        let meta = &pod.metadata;
        PodInfo {
            key: pod_key(&meta.namespace, &meta.name),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            node_name: pod.spec.node_name.clone(),
            labels: meta.labels.clone(),
            node_selector: pod.spec.node_selector.clone(),
            milli_cpu,
            memory,
            non_zero_milli_cpu: nz_cpu,
            non_zero_memory: nz_mem,
            host_ports,
            terminating: !meta.deletion_timestamp.is_empty(),
        }
    }

    /// The cache key, `namespace/name` (see [`pod_key`]).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The uid (empty when the pod had none).
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The node the pod is bound (or assumed) to; empty when unscheduled.
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// Sets the node, e.g. to assume a scheduling decision in a [`super::Snapshot`] before the binding lands.
    pub fn set_node_name(&mut self, node: impl Into<String>) {
        self.node_name = node.into();
    }

    /// The pod's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Labels a node must carry (`spec.nodeSelector`).
    pub fn node_selector(&self) -> &BTreeMap<String, String> {
        &self.node_selector
    }

    /// Requested CPU in milli-cores, summed over containers.
    pub fn milli_cpu(&self) -> i64 {
        self.milli_cpu
    }

    /// Requested memory in bytes, summed over containers.
    pub fn memory(&self) -> i64 {
        self.memory
    }

    /// CPU for scoring: containers without a CPU request count [`DEFAULT_MILLI_CPU_REQUEST`].
    pub fn non_zero_milli_cpu(&self) -> i64 {
        self.non_zero_milli_cpu
    }

    /// Memory for scoring: containers without a memory request count [`DEFAULT_MEMORY_REQUEST`].
    pub fn non_zero_memory(&self) -> i64 {
        self.non_zero_memory
    }

    /// Ports the pod binds on its node.
    pub fn host_ports(&self) -> &[HostPort] {
        &self.host_ports
    }

    /// True when the pod is being deleted (it no longer counts for spreading).
    pub fn is_terminating(&self) -> bool {
        self.terminating
    }
}
