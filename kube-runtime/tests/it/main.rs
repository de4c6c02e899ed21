//! The kube-runtime integration test binary (one binary for the whole crate).

mod alloc_meter;
mod apiserver;
mod binding;
mod controller;
#[cfg(feature = "etcd")]
mod etcd;
mod hostile;
mod scheduler;
mod store_contract;
mod support;
mod watch;
