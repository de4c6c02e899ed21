//! Store adapters implementing [`kube_core::Store`]: an in-memory store and a durable
//! embedded (redb file) store, both built on one in-memory engine that owns revisions,
//! preconditions, history and watch fan-out.

mod embedded;
mod engine;
mod hub;
mod memory;

pub use embedded::{EmbeddedStore, MAX_BATCH};
pub use engine::DEFAULT_HISTORY_CAPACITY;
pub use memory::MemoryStore;

/// A store shared between tasks and components.
pub type SharedStore = std::sync::Arc<dyn kube_core::Store>;
