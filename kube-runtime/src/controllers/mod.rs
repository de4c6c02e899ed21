//! The controller-manager's controllers, each a thin reconcile over a kube-core plan.

pub mod manager;
pub mod garbage_collector;
pub mod endpoints;
pub mod node_lifecycle;
pub mod replication;
