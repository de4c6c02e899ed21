//! The kubelet: runs the pods bound to its node as containers through a `ContainerRuntime`,
//! and reports their status. Decisions are kube-core's (`kube_core::kubelet`); this module
//! watches, relists and applies them.

pub mod config;
pub mod node_status;
mod pod_source;
mod pod_sync;
mod probe_manager;
pub mod probes;
mod run;
pub mod runtime_cache;
pub mod server;
mod state;

pub use config::KubeletConfig;
pub use pod_source::{PodSource, SharedPods};
pub use run::{run, run_with, KubeletError};
pub use state::SyncError;
