//! [`NodeInfo`]: a node as the scheduler sees it: allocatable resources, what its pods already
//! request, the host ports they bind, and counts for spreading. Updated incrementally.

use super::pod_info::{HostPort, PodInfo};
use super::spread::SpreadCounts;
use crate::node::Node;
use crate::pod::ResourceList;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Pods a node holds when its status does not say (`allocatable["pods"]`), as the kubelet's default.
pub const DEFAULT_MAX_PODS: i64 = 110;

/// Node condition type reporting readiness.
const CONDITION_READY: &str = "Ready";

/// A node plus the pods accounted to it.
///
/// Laid out for the scheduling loops: what filters and scores read sits in the first three cache
/// lines of a 64-byte aligned struct (resources; spread counts; pod count and flags).
#[derive(Clone, Debug, Default)]
#[repr(C, align(64))]
pub struct NodeInfo {
    // First cache line: resources.
    allocatable_milli_cpu: i64,
    allocatable_memory: i64,
    requested_milli_cpu: i64,
    requested_memory: i64,
    non_zero_milli_cpu: i64,
    non_zero_memory: i64,
    max_pods: i64,
    /// Bit `port % 64` is set when some bound port has that residue: a quick "surely free" test.
    port_mask: u64,
    // Second cache line: spread counts.
    /// Spread signature id → number of pods on this node with that signature (see `spread.rs`).
    spread: SpreadCounts,
    // Third: pod count, flags and scoring scales, then cold fields.
    pod_count: u32,
    ready: bool,
    unschedulable: bool,
    /// `100 / allocatable` per resource (0 when unknown), so scores multiply instead of divide.
    cpu_scale: f64,
    mem_scale: f64,
    name: String,
    labels: BTreeMap<String, String>,
    /// Port number → bound (host port, number of pods binding it).
    used_ports: BTreeMap<i32, Vec<(HostPort, u32)>>,
    pods: BTreeMap<String, Arc<PodInfo>>,
}

/// `resource` from allocatable, else from capacity; `None` when absent or unparsable in both.
fn node_resource(
    alloc: &ResourceList,
    cap: &ResourceList,
    resource: &str,
    milli: bool,
) -> Option<i64> {
    let parse = |list: &ResourceList| {
        let q = list.get(resource)?;
        let v = if milli { q.milli_value() } else { q.value() };
        v.ok().map(|v| v.max(0))
    };
    parse(alloc).or_else(|| parse(cap))
}

/// The bit of `port` in [`NodeInfo`]'s port mask.
fn port_bit(port: i32) -> u64 {
    1 << (port.rem_euclid(64))
}

impl NodeInfo {
    /// A node with no pods accounted yet.
    pub fn new(node: &Node) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(node);
        info
    }

    /// Takes the node's name, labels, allocatable resources, readiness and schedulability; keeps the accounted pods.
    pub(crate) fn set_node(&mut self, node: &Node) {
        let (alloc, cap) = (&node.status.allocatable, &node.status.capacity);
        self.name.clone_from(&node.metadata.name);
        self.labels.clone_from(&node.metadata.labels);
        self.allocatable_milli_cpu = node_resource(alloc, cap, "cpu", true).unwrap_or(0);
        self.allocatable_memory = node_resource(alloc, cap, "memory", false).unwrap_or(0);
        self.max_pods = node_resource(alloc, cap, "pods", false).unwrap_or(DEFAULT_MAX_PODS);
        let scale = |v: i64| if v > 0 { 100.0 / v as f64 } else { 0.0 };
        self.cpu_scale = scale(self.allocatable_milli_cpu);
        self.mem_scale = scale(self.allocatable_memory);
        // Ready unless a Ready condition says otherwise: nodes registered through the API
        // before any kubelet reports have no conditions at all.
        self.ready = node
            .status
            .conditions
            .iter()
            .filter(|c| c.type_ == CONDITION_READY)
            .all(|c| c.status == "True");
        self.unschedulable = node.spec.unschedulable;
    }

    /// Accounts `pod` to this node (replacing a pod with the same key); standalone use, no spread counts.
    pub fn add_pod(&mut self, pod: &PodInfo) {
        self.remove_pod(pod.key());
        self.account(Arc::new(pod.clone()), None);
    }

    /// Forgets the pod with `key`; false when it was not accounted here.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        self.unaccount(key, None).is_some()
    }

    /// Adds a pod's requests, ports and spread signature. The key must not be accounted yet.
    pub(crate) fn account(&mut self, pod: Arc<PodInfo>, sig: Option<u32>) {
        self.requested_milli_cpu = self.requested_milli_cpu.saturating_add(pod.milli_cpu());
        self.requested_memory = self.requested_memory.saturating_add(pod.memory());
        self.non_zero_milli_cpu = self
            .non_zero_milli_cpu
            .saturating_add(pod.non_zero_milli_cpu());
        self.non_zero_memory = self.non_zero_memory.saturating_add(pod.non_zero_memory());
        for hp in pod.host_ports() {
            self.port_mask |= port_bit(hp.port);
            let bound = self.used_ports.entry(hp.port).or_default();
            match bound.iter_mut().find(|(p, _)| p == hp) {
                Some((_, n)) => *n += 1,
                None => bound.push((hp.clone(), 1)),
            }
        }
        if let Some(sig) = sig {
            self.spread_add(sig);
        }
        self.pods.insert(pod.key().to_string(), pod);
        self.pod_count = self.pods.len() as u32;
    }

    /// Removes the pod with `key` (and its spread signature) from the accounting; returns it.
    pub(crate) fn unaccount(&mut self, key: &str, sig: Option<u32>) -> Option<Arc<PodInfo>> {
        let pod = self.pods.remove(key)?;
        self.pod_count = self.pods.len() as u32;
        self.requested_milli_cpu = self.requested_milli_cpu.saturating_sub(pod.milli_cpu());
        self.requested_memory = self.requested_memory.saturating_sub(pod.memory());
        self.non_zero_milli_cpu = self
            .non_zero_milli_cpu
            .saturating_sub(pod.non_zero_milli_cpu());
        self.non_zero_memory = self.non_zero_memory.saturating_sub(pod.non_zero_memory());
        for hp in pod.host_ports() {
            if let Some(bound) = self.used_ports.get_mut(&hp.port) {
                if let Some(i) = bound.iter().position(|(p, _)| p == hp) {
                    bound[i].1 -= 1;
                    if bound[i].1 == 0 {
                        bound.swap_remove(i);
                    }
                }
                if bound.is_empty() {
                    self.used_ports.remove(&hp.port);
                    self.port_mask = self.used_ports.keys().fold(0, |m, &p| m | port_bit(p));
                }
            }
        }
        if let Some(sig) = sig {
            self.spread.remove(sig);
        }
        Some(pod)
    }

    /// Counts one more pod with spread signature `sig`.
    pub(crate) fn spread_add(&mut self, sig: u32) {
        self.spread.add(sig);
    }

    /// Drops every spread count (the selectors changed).
    pub(crate) fn clear_spread(&mut self) {
        self.spread.clear();
    }

    /// Pods on this node whose spread signature is in `sigs` (sorted signature ids, bloom `mask` from `spread::sig_mask`).
    pub(crate) fn spread_count(&self, sigs: &[u32], mask: u64) -> i64 {
        self.spread.count(sigs, mask)
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// Allocatable CPU in milli-cores (0 when unknown).
    pub fn allocatable_milli_cpu(&self) -> i64 {
        self.allocatable_milli_cpu
    }

    /// `100 / allocatable_milli_cpu` (0 when unknown), for scores.
    pub(crate) fn cpu_scale(&self) -> f64 {
        self.cpu_scale
    }

    /// `100 / allocatable_memory` (0 when unknown), for scores.
    pub(crate) fn mem_scale(&self) -> f64 {
        self.mem_scale
    }

    /// Allocatable memory in bytes (0 when unknown).
    pub fn allocatable_memory(&self) -> i64 {
        self.allocatable_memory
    }

    /// Most pods the node takes (`allocatable["pods"]`, default [`DEFAULT_MAX_PODS`]).
    pub fn max_pods(&self) -> i64 {
        self.max_pods
    }

    /// CPU requested by the accounted pods, in milli-cores.
    pub fn requested_milli_cpu(&self) -> i64 {
        self.requested_milli_cpu
    }

    /// Memory requested by the accounted pods, in bytes.
    pub fn requested_memory(&self) -> i64 {
        self.requested_memory
    }

    /// CPU requested by the accounted pods with non-zero defaults (for scoring).
    pub fn non_zero_milli_cpu(&self) -> i64 {
        self.non_zero_milli_cpu
    }

    /// Memory requested by the accounted pods with non-zero defaults (for scoring).
    pub fn non_zero_memory(&self) -> i64 {
        self.non_zero_memory
    }

    /// Number of pods accounted to the node.
    pub fn pod_count(&self) -> usize {
        self.pod_count as usize
    }

    /// True unless the node has a `Ready` condition that is not `True`.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// True when `spec.unschedulable` is set.
    pub fn is_unschedulable(&self) -> bool {
        self.unschedulable
    }

    /// True when some accounted pod binds a port that conflicts with `port`.
    pub fn port_conflicts(&self, port: &HostPort) -> bool {
        if self.port_mask & port_bit(port.port) == 0 {
            return false;
        }
        self.used_ports
            .get(&port.port)
            .is_some_and(|bound| bound.iter().any(|(p, _)| p.conflicts_with(port)))
    }

    /// True when no accounted pod binds a host port.
    pub fn has_no_host_ports(&self) -> bool {
        self.used_ports.is_empty()
    }

    /// Host ports bound by the accounted pods (each distinct port once).
    pub fn used_ports(&self) -> impl Iterator<Item = &HostPort> {
        self.used_ports.values().flatten().map(|(p, _)| p)
    }

    /// The accounted pods, by key.
    pub fn pods(&self) -> impl Iterator<Item = &PodInfo> {
        self.pods.values().map(|p| &**p)
    }

    /// True when the pod with `key` is accounted here.
    pub fn has_pod(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }
}
