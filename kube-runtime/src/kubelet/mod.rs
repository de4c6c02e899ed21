//! The kubelet: runs the pods bound to its node through a `ContainerRuntime` and reports status.

pub mod node_status;
pub mod probes;
