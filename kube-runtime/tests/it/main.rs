//! The kube-runtime integration test binary (one binary for the whole crate).

mod apiserver;
mod binding;
mod cluster;
#[cfg(feature = "etcd")]
mod etcd;
mod faulty_store;
mod leader_election;
mod lease;
mod scheduler;
mod store_contract;
mod support;
mod watch;
