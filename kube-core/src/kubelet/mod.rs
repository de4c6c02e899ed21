//! The kubelet's pure decisions: which runtime actions bring a node's containers to its pods
//! (`sync`), what status each pod reports (`status`), when probes run and what they conclude
//! (`probe`), and the node object it registers (`node_status`). The loop in
//! `kube_runtime::kubelet` only reads caches, calls these and applies the result.

pub mod config;
pub mod containers;
pub mod labels;
pub mod node_status;
pub mod probe;
pub mod status;
pub mod sync;
