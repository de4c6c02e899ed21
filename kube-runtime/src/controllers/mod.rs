//! The controller-manager's controllers, each a thin reconcile over a kube-core plan.

pub mod endpoints;
pub mod garbage_collector;
pub mod manager;
pub mod namespace;
pub mod node_lifecycle;
pub mod replication;
