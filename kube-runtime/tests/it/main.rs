//! The kube-runtime integration test binary (one binary for the whole crate).

mod alloc_meter;
mod apiserver;
mod binding;
mod cluster;
mod controller;
#[cfg(feature = "etcd")]
mod etcd;
mod faulty_store;
mod hostile;
mod informer;
mod leader_election;
mod lease;
mod node_status;
mod probes;
mod scheduler;
mod store_contract;
mod stub_runtime;
mod support;
mod watch;
