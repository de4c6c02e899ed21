//! The kube-runtime integration test binary (one binary for the whole crate).

mod apiserver;
mod binding;
#[cfg(feature = "etcd")]
mod etcd;
mod informer;
mod scheduler;
mod store_contract;
mod support;
mod watch;
