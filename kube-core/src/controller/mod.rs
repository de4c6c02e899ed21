//! Pure plans of the controller-manager's controllers (observed state in, actions out).

pub mod endpoints;
pub mod garbage_collector;
pub mod namespace;
pub mod node_lifecycle;
pub mod replication;
