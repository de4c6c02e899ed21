//! Pure plans of the controller-manager's controllers (observed state in, actions out).

pub mod node_lifecycle;
pub mod replication;
