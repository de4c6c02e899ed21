//! kube-runtime: the I/O side of the orchestrator.
//!
//! Store adapters ([`store`]), the [`registry`] that applies the API's semantics on
//! top of a store, the HTTP [`apiserver`], and API [`client`]s. The component
//! binaries (`apiserver`, ...) live in `src/bin/`.

pub mod apiserver;
pub mod cli;
pub mod client;
pub mod clock;
pub mod controller;
pub mod controllers;
pub mod events;
pub mod informer;
pub mod kubelet;
pub mod leader_election;
pub mod local_cluster;
pub mod localkube;
pub mod proxy;
pub mod registry;
pub mod runtime;
pub mod scheduler;
pub mod store;
pub mod testing;
