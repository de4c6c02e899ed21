//! The kube-runtime integration test binary (one binary for the whole crate).

mod alloc_meter;
mod apiserver;
mod binding;
mod cluster;
mod controller;
mod dry_run;
mod endpoints_controller;
#[cfg(feature = "etcd")]
mod etcd;
mod fake_runtime;
mod faulty_store;
mod garbage_collector;
mod graceful_delete;
mod hostile;
mod informer;
mod kubelet;
mod kubelet_docker;
mod leader_election;
mod lease;
mod local_cluster;
mod logs;
mod node_lifecycle;
mod node_status;
mod patch;
mod probes;
mod replication;
mod runtime_contract;
mod scale;
mod scheduler;
mod service_ip;
mod store_contract;
mod stub_runtime;
mod support;
mod watch;
