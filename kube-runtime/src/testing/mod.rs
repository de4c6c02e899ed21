//! Test kit for this project's tests and for programs that embed the library.
//!
//! - [`recording::RecordingClient`] wraps any API client, records every call and injects errors
//!   per verb and resource (client-go's fake clientset with reactors is the model);
//! - [`faulty_store::FaultyStore`] wraps any store and injects faults per operation;
//! - [`cluster::TestCluster`] starts a store, an API server on loopback and both clients.
//!
//! `recording::Times` and `faulty_store::Times` (how often an injected error fires) are named
//! through their modules.

pub mod cluster;
pub mod faulty_store;
pub mod recording;

pub use cluster::{TestCluster, TestClusterBuilder, TestClusterError};
pub use faulty_store::{Fault, FaultyStore, StoreOp};
pub use recording::{Call, RecordingClient, Verb};
