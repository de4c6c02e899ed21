//! Test kit for this project's tests and for programs that embed the library.

pub mod cluster;
pub mod faulty_store;

pub use cluster::{TestCluster, TestClusterBuilder, TestClusterError};
pub use faulty_store::{Fault, FaultyStore, StoreOp, Times};
