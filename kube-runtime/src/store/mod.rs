//! Store adapters implementing [`kube_core::Store`]: an in-memory store and a durable
//! embedded (redb file) store, both built on one in-memory engine that owns revisions,
//! preconditions, history and watch fan-out; and, with the `etcd` feature, an etcd store.

mod dry_run;
mod embedded;
mod engine;
#[cfg(feature = "etcd")]
mod etcd;
mod hub;
mod memory;

pub use dry_run::DryRunStore;
pub use embedded::{EmbeddedStore, MAX_BATCH};
pub use engine::DEFAULT_HISTORY_CAPACITY;
#[cfg(feature = "etcd")]
pub use etcd::{EtcdConfig, EtcdStore, DEFAULT_ETCD_PREFIX, REGISTRY_ROOT};
/// The etcd client crate the etcd store is built on (for tools that also talk to etcd directly).
#[cfg(feature = "etcd")]
pub use etcd_client;
pub use memory::MemoryStore;

/// A store shared between tasks and components.
pub type SharedStore = std::sync::Arc<dyn kube_core::Store>;
