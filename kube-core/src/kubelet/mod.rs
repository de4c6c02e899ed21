//! The kubelet's pure decisions: which runtime actions bring a node's containers to its pods
//! (`sync`), and what status each pod reports (`status`). The loop in
//! `kube_runtime::kubelet` only reads caches, calls these and applies the result.

pub mod labels;
pub mod node_status;
pub mod probe;
