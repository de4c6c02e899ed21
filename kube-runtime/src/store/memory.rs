//! `MemoryStore`: the engine with every write applied directly under its lock. Not durable;
//! for tests, embedding and the all-in-one binary when persistence is not wanted.

use super::engine::{Engine, WriteOp, DEFAULT_HISTORY_CAPACITY};
use async_trait::async_trait;
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, Store, StoreError,
};

/// A non-durable, in-process store implementing the full [`Store`] contract.
pub struct MemoryStore {
    engine: Engine,
}

impl MemoryStore {
    /// An empty store keeping the default number of events for watch replay.
    pub fn new() -> Self {
        Self::with_history_capacity(DEFAULT_HISTORY_CAPACITY)
    }

    /// An empty store keeping at most `events` events for watch replay.
    pub fn with_history_capacity(events: usize) -> Self {
        Self {
            engine: Engine::new(events),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("revision", &self.engine.current_revision())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        Ok(self.engine.get(key))
    }

    async fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError> {
        self.engine.list_page(prefix, request)
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue, StoreError> {
        self.engine.write(&WriteOp::Create {
            key: key.to_owned(),
            value: value.into(),
        })
    }

    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        self.engine.write(&WriteOp::Update {
            key: key.to_owned(),
            value: value.into(),
            expected,
        })
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        self.engine.write(&WriteOp::Delete {
            key: key.to_owned(),
            expected,
        })
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxWatchStream, StoreError> {
        self.engine.watch(prefix, after)
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        Ok(self.engine.current_revision())
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.engine.compact(revision);
        Ok(())
    }
}
