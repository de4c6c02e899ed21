//! The scheduling algorithm, sans-IO: kube-scheduler's framework in miniature.
//!
//! A [`Snapshot`] holds every node as a [`NodeInfo`] (allocatable and requested resources, used
//! host ports, pod count, labels, readiness, spread counts), updated incrementally as pods are
//! bound ([`Snapshot::add_pod`]) or leave ([`Snapshot::remove_pod`]). A [`Framework`] runs
//! [`FilterPlugin`]s over the nodes, scores the feasible ones with weighted [`ScorePlugin`]s and
//! picks the best, breaking ties with the caller's [`Rng`]. When nothing fits, the [`FitError`]
//! says why, per reason, in kube-scheduler's words.
//!
//! ```
//! use kube_core::scheduler::{Framework, PodInfo, Snapshot, SplitMix64};
//! # use kube_core::{Node, Pod};
//! let mut node = Node::default();
//! node.metadata.name = "n1".into();
//! node.status.allocatable.insert("cpu".into(), "2".into());
//! node.status.allocatable.insert("memory".into(), "4Gi".into());
//! let mut snapshot = Snapshot::new();
//! snapshot.upsert_node(&node);
//! let mut pod = Pod::default();
//! pod.metadata.name = "p".into();
//! let mut info = PodInfo::new(&pod);
//! let result = Framework::new().schedule(&info, &snapshot, &mut SplitMix64::new(1)).unwrap();
//! assert_eq!(result.node, "n1");
//! info.set_node_name(result.node); // assume it until the binding is observed
//! snapshot.add_pod(&info);
//! ```

mod filters;
mod framework;
mod node_info;
mod pod_info;

pub(crate) mod scores;
mod snapshot;
pub(crate) mod spread;

#[cfg(test)]
mod tests;

pub use crate::rand::{uniform, Rng, SplitMix64};
pub use filters::{
    default_filters, FilterPlugin, NodePorts, NodeReady, NodeResourcesFit, NodeSelector,
    NodeUnschedulable, PodCount, Reason, REASON_INSUFFICIENT_CPU, REASON_INSUFFICIENT_MEMORY,
    REASON_NODE_PORTS, REASON_NODE_SELECTOR, REASON_NOT_READY, REASON_TOO_MANY_PODS,
    REASON_UNSCHEDULABLE,
};
pub use framework::{
    num_feasible_nodes_to_find, FitError, Framework, ScheduleResult,
    MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, MIN_FEASIBLE_NODES_TO_FIND,
};
pub use node_info::{NodeInfo, DEFAULT_MAX_PODS};
pub use pod_info::{
    pod_key, HostPort, PodInfo, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST,
    DEFAULT_PROTOCOL, WILDCARD_HOST_IP,
};
pub use scores::{
    default_scores, BalancedAllocation, LeastAllocated, PreparedScore, ScorePlugin, SelectorSpread,
    MAX_NODE_SCORE,
};
pub use snapshot::Snapshot;
pub use spread::SpreadSelector;
