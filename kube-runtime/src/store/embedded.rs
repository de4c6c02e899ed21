//! `EmbeddedStore`: a durable, file-backed store (redb) with group commit.
//!
//! All data is also held in the in-memory [`Engine`], so reads and watches never touch the
//! file. Writes are queued to one writer thread, which drains every queued request (up to
//! [`MAX_BATCH`]), plans them in order against the engine plus the batch's own earlier
//! effects, writes the successful ones in one redb transaction, commits once with fsync
//! (`Durability::Immediate`), then applies the batch to the engine (publishing watch events
//! in revision order) and answers every caller. An acknowledged write survives `kill -9`.
//!
//! On disk: table `kv` maps a key to `create_revision (u64 LE) ‖ mod_revision (u64 LE) ‖
//! value`; table `meta` holds `revision`, the store revision (advanced by deletes too).
//! History is not persisted: after a reopen the compaction floor is the revision at open.

use super::engine::{Engine, WriteOp, DEFAULT_HISTORY_CAPACITY};
use async_trait::async_trait;
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, Store, StoreError, StoreEvent,
    StoreEventKind,
};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// Key → encoded record (`create_revision`, `mod_revision`, value).
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// Store-wide metadata.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The `meta` key holding the store revision.
const META_REVISION: &str = "revision";
/// Length of the record header (two little-endian u64 revisions).
const HEADER: usize = 16;
/// Most requests committed in one redb transaction.
pub const MAX_BATCH: usize = 1024;
/// Requests that may wait in the writer's queue before callers are back-pressured.
const QUEUE_CAPACITY: usize = 4096;
/// Name of the database file inside the store directory.
const DB_FILE: &str = "store.redb";

/// One queued write and where to send its outcome.
struct Request {
    op: WriteOp,
    reply: oneshot::Sender<Result<KeyValue, StoreError>>,
}

/// The writer thread and the queue feeding it.
struct Writer {
    tx: mpsc::Sender<Request>,
    thread: JoinHandle<()>,
}

/// A durable store in a directory, backed by redb, implementing the full [`Store`] contract.
pub struct EmbeddedStore {
    engine: Arc<Engine>,
    writer: Option<Writer>,
    path: PathBuf,
}

/// Maps a backend error to [`StoreError::Internal`] with `context`.
fn internal<E: std::fmt::Display>(context: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Internal(format!("{context}: {e}"))
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, loading every key into memory.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_history_capacity(dir, DEFAULT_HISTORY_CAPACITY).await
    }

    /// Like [`EmbeddedStore::open`], keeping at most `events` events for watch replay.
    pub async fn open_with_history_capacity(
        dir: impl AsRef<Path>,
        events: usize,
    ) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(DB_FILE);
        let db_path = path.clone();
        let (db, data, revision) = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| {
                StoreError::Internal(format!("create store dir {}: {e}", dir.display()))
            })?;
            let db = Database::create(&db_path).map_err(|e| {
                StoreError::Internal(format!("redb open {}: {e}", db_path.display()))
            })?;
            let (data, revision) = load(&db)?;
            Ok::<_, StoreError>((db, data, revision))
        })
        .await
        .map_err(internal("store open task"))??;
        let engine = Arc::new(Engine::restore(data, revision, events));
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let thread_engine = Arc::clone(&engine);
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run_writer(db, thread_engine, rx))
            .map_err(|e| StoreError::Internal(format!("spawn store writer: {e}")))?;
        tracing::debug!(path = %path.display(), revision, "embedded store opened");
        Ok(Self {
            engine,
            writer: Some(Writer { tx, thread }),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after it has finished every queued write, and closes the file.
    pub async fn close(mut self) {
        if let Some(writer) = self.writer.take() {
            drop(writer.tx);
            let _ = tokio::task::spawn_blocking(move || writer.thread.join()).await;
        }
    }

    /// Queues `op` for the writer and waits for its durable outcome.
    async fn submit(&self, op: WriteOp) -> Result<KeyValue, StoreError> {
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("embedded store is closed".into()))?;
        let (reply, outcome) = oneshot::channel();
        writer
            .tx
            .send(Request { op, reply })
            .await
            .map_err(|_| StoreError::Unavailable("embedded store writer stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Internal("embedded store writer dropped the request".into()))?
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Every acknowledged write is already committed; this only lets queued (abandoned)
        // requests finish and releases the file so the directory can be reopened at once.
        if let Some(writer) = self.writer.take() {
            drop(writer.tx);
            let _ = writer.thread.join();
        }
    }
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .field("revision", &self.engine.current_revision())
            .finish_non_exhaustive()
    }
}

/// Reads every key and the store revision from `db`.
fn load(db: &Database) -> Result<(BTreeMap<String, KeyValue>, Revision), StoreError> {
    let txn = db.begin_read().map_err(internal("redb begin_read"))?;
    let mut revision = match txn.open_table(META) {
        Ok(meta) => meta
            .get(META_REVISION)
            .map_err(internal("redb read meta"))?
            .map(|g| g.value())
            .unwrap_or(0),
        Err(TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(internal("redb open meta table")(e)),
    };
    let mut data = BTreeMap::new();
    match txn.open_table(KV) {
        Ok(table) => {
            for entry in table.iter().map_err(internal("redb iterate kv"))? {
                let (key, record) = entry.map_err(internal("redb read kv"))?;
                let key = key.value().to_owned();
                let kv = decode(&key, record.value())?;
                revision = revision.max(kv.mod_revision);
                data.insert(key, kv);
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(internal("redb open kv table")(e)),
    }
    Ok((data, revision))
}

/// Encodes a stored record.
fn encode(kv: &KeyValue) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADER + kv.value.len());
    buf.extend_from_slice(&kv.create_revision.to_le_bytes());
    buf.extend_from_slice(&kv.mod_revision.to_le_bytes());
    buf.extend_from_slice(&kv.value);
    buf
}

/// Decodes a stored record for `key`.
fn decode(key: &str, record: &[u8]) -> Result<KeyValue, StoreError> {
    let corrupt = || StoreError::Internal(format!("corrupt record for key {key:?}"));
    let (create, rest) = record.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let (modr, value) = rest.split_first_chunk::<8>().ok_or_else(corrupt)?;
    Ok(KeyValue {
        key: key.to_owned(),
        value: Arc::from(value),
        create_revision: u64::from_le_bytes(*create),
        mod_revision: u64::from_le_bytes(*modr),
    })
}

/// Writes `events` (already planned, in revision order) in one durable transaction.
fn persist(db: &Database, events: &[StoreEvent]) -> Result<(), StoreError> {
    let Some(last) = events.last() else {
        return Ok(());
    };
    let mut txn = db.begin_write().map_err(internal("redb begin_write"))?;
    txn.set_durability(Durability::Immediate)
        .map_err(internal("redb set_durability"))?;
    {
        let mut kv = txn.open_table(KV).map_err(internal("redb open kv table"))?;
        for event in events {
            match event.kind {
                StoreEventKind::Deleted => {
                    kv.remove(event.kv.key.as_str())
                        .map_err(internal("redb remove"))?;
                }
                StoreEventKind::Created | StoreEventKind::Updated => {
                    kv.insert(event.kv.key.as_str(), encode(&event.kv).as_slice())
                        .map_err(internal("redb insert"))?;
                }
            }
        }
        let mut meta = txn
            .open_table(META)
            .map_err(internal("redb open meta table"))?;
        meta.insert(META_REVISION, last.revision())
            .map_err(internal("redb write meta"))?;
    }
    txn.commit().map_err(internal("redb commit"))
}

/// The writer thread: group commit until every sender is gone.
fn run_writer(db: Database, engine: Arc<Engine>, mut rx: mpsc::Receiver<Request>) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    while rx.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        let ops: Vec<&WriteOp> = batch.iter().map(|r| &r.op).collect();
        let outcomes = engine.plan(&ops);
        let events: Vec<StoreEvent> = outcomes.iter().filter_map(|o| o.clone().ok()).collect();
        match persist(&db, &events) {
            Ok(()) => {
                engine.apply(&events);
                for (request, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = request.reply.send(outcome.map(|event| event.kv));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, requests = batch.len(), "embedded store commit failed");
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(err.clone()));
                }
            }
        }
    }
    tracing::debug!("embedded store writer stopped");
}

#[async_trait]
impl Store for EmbeddedStore {
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
        self.submit(WriteOp::Create {
            key: key.to_owned(),
            value: value.into(),
        })
        .await
    }

    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        self.submit(WriteOp::Update {
            key: key.to_owned(),
            value: value.into(),
            expected,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        self.submit(WriteOp::Delete {
            key: key.to_owned(),
            expected,
        })
        .await
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
