//! Filter plugins (kube-scheduler's Filter extension point, the old "predicates"): may this pod
//! run on this node? The reasons are kube-scheduler's own wording, aggregated into a [`super::FitError`].

use super::node_info::NodeInfo;
use super::pod_info::PodInfo;
use std::borrow::Cow;

/// Why a filter rejected a node: usually a `&'static str`, so failing nodes cost no allocation.
pub type Reason = Cow<'static, str>;

/// Reason of [`NodeUnschedulable`].
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// Reason of [`NodeReady`].
pub const REASON_NOT_READY: &str = "node(s) were not ready";
/// Reason of [`NodeSelector`].
pub const REASON_NODE_SELECTOR: &str = "node(s) didn't match Pod's node affinity/selector";
/// Reason of [`NodePorts`].
pub const REASON_NODE_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";
/// Reason of [`NodeResourcesFit`] for CPU.
pub const REASON_INSUFFICIENT_CPU: &str = "Insufficient cpu";
/// Reason of [`NodeResourcesFit`] for memory.
pub const REASON_INSUFFICIENT_MEMORY: &str = "Insufficient memory";
/// Reason of [`PodCount`].
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";

/// A filter: decides whether a pod may run on a node. Implement it to plug in your own.
pub trait FilterPlugin: Send + Sync {
    /// The plugin's name, e.g. `NodePorts`.
    fn name(&self) -> &'static str;

    /// False when the filter has nothing to check for this pod, i.e. it would accept every node; the framework then skips it (kube-scheduler's PreFilter "Skip").
    fn is_relevant(&self, _pod: &PodInfo) -> bool {
        true
    }

    /// `Ok` when the pod may run on the node, else the reason (one per node, e.g. "Insufficient cpu").
    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason>;
}

/// Rejects nodes with `spec.unschedulable` set.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        if node.is_unschedulable() {
            return Err(Cow::Borrowed(REASON_UNSCHEDULABLE));
        }
        Ok(())
    }
}

/// Rejects nodes whose `Ready` condition is not `True` (nodes without conditions pass).
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeReady;

impl FilterPlugin for NodeReady {
    fn name(&self) -> &'static str {
        "NodeReady"
    }

    fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        if !node.is_ready() {
            return Err(Cow::Borrowed(REASON_NOT_READY));
        }
        Ok(())
    }
}

/// Rejects nodes lacking a label pair of the pod's `nodeSelector`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeSelector;

impl FilterPlugin for NodeSelector {
    fn name(&self) -> &'static str {
        "NodeSelector"
    }

    fn is_relevant(&self, pod: &PodInfo) -> bool {
        !pod.node_selector().is_empty()
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        let labels = node.labels();
        let ok = pod
            .node_selector()
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        if !ok {
            return Err(Cow::Borrowed(REASON_NODE_SELECTOR));
        }
        Ok(())
    }
}

/// Rejects nodes where a pod already binds a conflicting host port (same protocol and port, overlapping IPs).
#[derive(Clone, Copy, Debug, Default)]
pub struct NodePorts;

impl FilterPlugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn is_relevant(&self, pod: &PodInfo) -> bool {
        !pod.host_ports().is_empty()
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        if node.has_no_host_ports() {
            return Ok(());
        }
        if pod.host_ports().iter().any(|p| node.port_conflicts(p)) {
            return Err(Cow::Borrowed(REASON_NODE_PORTS));
        }
        Ok(())
    }
}

/// Rejects nodes without room for the pod's CPU or memory requests (a pod requesting none of a resource always fits it).
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeResourcesFit;

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn is_relevant(&self, pod: &PodInfo) -> bool {
        pod.milli_cpu() > 0 || pod.memory() > 0
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        let cpu = pod.milli_cpu();
        if cpu > 0
            && cpu
                > node
                    .allocatable_milli_cpu()
                    .saturating_sub(node.requested_milli_cpu())
        {
            return Err(Cow::Borrowed(REASON_INSUFFICIENT_CPU));
        }
        let mem = pod.memory();
        if mem > 0
            && mem
                > node
                    .allocatable_memory()
                    .saturating_sub(node.requested_memory())
        {
            return Err(Cow::Borrowed(REASON_INSUFFICIENT_MEMORY));
        }
        Ok(())
    }
}

/// Rejects nodes already holding their maximum number of pods.
#[derive(Clone, Copy, Debug, Default)]
pub struct PodCount;

impl FilterPlugin for PodCount {
    fn name(&self) -> &'static str {
        "PodCount"
    }

    fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Reason> {
        if node.pod_count() as i64 >= node.max_pods() {
            return Err(Cow::Borrowed(REASON_TOO_MANY_PODS));
        }
        Ok(())
    }
}

/// The default filters, in the order they run.
pub fn default_filters() -> Vec<Box<dyn FilterPlugin>> {
    vec![
        Box::new(NodeUnschedulable),
        Box::new(NodeReady),
        Box::new(NodeSelector),
        Box::new(NodePorts),
        Box::new(NodeResourcesFit),
        Box::new(PodCount),
    ]
}
