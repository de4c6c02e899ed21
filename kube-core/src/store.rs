//! The `Store` trait: a revisioned key-value store with compare-and-swap and watch.
//!
//! Semantics (modelled on etcd and kine):
//! - one global revision, incremented by every successful write;
//! - `create` fails when the key exists; `update` and `delete` compare the key's
//!   `mod_revision` with the expected one (compare-and-swap);
//! - `list_page` returns the items under a prefix, sorted by key, from a start key on, at
//!   most `limit` of them, read at one revision: the current one, or a past one still in the
//!   history (older: [`StoreError::Gone`]; newer than the store: [`StoreError::FutureRevision`]),
//!   with whether more keys follow and how many; `list` reads everything at the current revision;
//! - `watch(prefix, after)` yields every change with a revision greater than `after`,
//!   in revision order, then follows live changes; when `after` is older than the
//!   compacted history it fails with [`StoreError::Gone`] so the client relists.

use async_trait::async_trait;
use std::sync::Arc;

/// A store revision. 0 means "before any write".
pub type Revision = u64;

/// A stored value with its revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value bytes (shared, cheap to clone).
    pub value: Arc<[u8]>,
    /// Revision at which the key was created.
    pub create_revision: Revision,
    /// Revision of the last write to the key (for a delete event: the delete's revision).
    pub mod_revision: Revision,
}

/// The result of a list: the items and the revision they were read at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListResult {
    /// Items under the prefix, sorted by key.
    pub items: Vec<KeyValue>,
    /// The store revision the list reflects.
    pub revision: Revision,
    /// Whether keys of the range follow the last item (the page was cut by its limit).
    pub more: bool,
    /// How many keys of the range follow the last item (0 when `more` is false).
    pub remaining: u64,
}

/// Which part of a prefix a list reads, and at which revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// The revision to read at; `None`: the current one.
    pub revision: Option<Revision>,
    /// The first key to return (inclusive); keys before it are skipped. `None`: from the
    /// prefix's first key. Only keys under the prefix are ever returned.
    pub start: Option<String>,
    /// At most this many items; 0: no limit.
    pub limit: usize,
}

impl ListRequest {
    /// A page of at most `limit` items from `start` on, at `revision`.
    pub fn page(revision: Option<Revision>, start: Option<String>, limit: usize) -> ListRequest {
        ListRequest {
            revision,
            start,
            limit,
        }
    }
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreEventKind {
    /// The key was created.
    Created,
    /// The key was updated.
    Updated,
    /// The key was deleted.
    Deleted,
}

/// One change, as delivered by a watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreEvent {
    /// What happened.
    pub kind: StoreEventKind,
    /// The new key-value; for a delete, the last value with `mod_revision` set to the delete's revision.
    pub kv: KeyValue,
    /// The value before the change, when there was one.
    pub prev: Option<KeyValue>,
}

impl StoreEvent {
    /// The revision of the change.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// Errors of store operations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// `create` on a key that exists.
    #[error("key {key:?} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// `update` or `delete` on a key that does not exist.
    #[error("key {key:?} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// Compare-and-swap failed: the key was modified since `expected`.
    #[error("key {key:?} has revision {actual}, expected {expected}")]
    Conflict {
        /// The key.
        key: String,
        /// The revision the caller expected.
        expected: Revision,
        /// The key's current revision.
        actual: Revision,
    },
    /// The requested revision is no longer in the history.
    #[error("revision {requested} is compacted (oldest available: {oldest})")]
    Gone {
        /// The revision asked for.
        requested: Revision,
        /// The oldest revision one may still watch after.
        oldest: Revision,
    },
    /// A read at a revision the store has not reached yet.
    #[error("revision {requested} is in the future (current: {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The store's current revision.
        current: Revision,
    },
    /// The store cannot be reached right now; the operation may be retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Any other failure of the backend.
    #[error("store failure: {0}")]
    Internal(String),
}

/// A stream of store events.
#[async_trait]
pub trait WatchStream: Send {
    /// The next event; `None` when the watch ended, `Some(Err)` once before ending on failure.
    async fn next(&mut self) -> Option<Result<StoreEvent, StoreError>>;
}

/// A boxed watch stream.
pub type BoxWatchStream = Box<dyn WatchStream>;

/// A revisioned key-value store. Implementations: memory, embedded file, etcd.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads one key.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError>;
    /// Reads every key under `prefix`, sorted by key, at the current revision.
    async fn list(&self, prefix: &str) -> Result<ListResult, StoreError> {
        self.list_page(prefix, &ListRequest::default()).await
    }
    /// Reads the keys under `prefix` from `request.start` on, sorted by key, at most
    /// `request.limit` of them, all at `request.revision` (or the current revision). A
    /// compacted revision answers [`StoreError::Gone`], a revision above the current one
    /// [`StoreError::FutureRevision`].
    async fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError>;
    /// Creates `key`; fails with `AlreadyExists` if it exists.
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue, StoreError>;
    /// Replaces `key` if its `mod_revision` equals `expected`.
    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError>;
    /// Deletes `key`, if `expected` is given only when its `mod_revision` equals it.
    /// Returns the deleted value with `mod_revision` set to the delete's revision.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError>;
    /// Watches changes under `prefix` with revisions greater than `after`.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxWatchStream, StoreError>;
    /// The current revision of the store.
    async fn current_revision(&self) -> Result<Revision, StoreError>;
    /// Discards history up to and including `revision`; later `watch(after < revision)` answers `Gone`.
    async fn compact(&self, revision: Revision) -> Result<(), StoreError>;
}
