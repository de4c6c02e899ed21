//! `EtcdStore`: the [`Store`] contract on a real etcd cluster (v3 API, crate `etcd-client`).
//!
//! Mapping onto etcd:
//! - **Keys.** The registry's keys live under the key root `/registry`
//!   (`/registry/{resource}/{namespace}/{name}`). The root is replaced by the configured etcd
//!   prefix (default `/registry`, so keys are stored as they are; with `/other` the pod
//!   `/registry/pods/default/redis` is stored at `/other/pods/default/redis`) and put back on
//!   the way out. Keys in etcd under the prefix that do not map back (`/registryX`, non-UTF-8)
//!   are not ours and are skipped.
//! - **Values** are the stored JSON bytes; **revisions** are etcd revisions, so
//!   `resourceVersion` is the etcd revision.
//! - **Writes** are single-key transactions: create compares `mod_revision == 0`; update and
//!   delete compare the expected `mod_revision` (and that the key exists), and read the key in
//!   the else branch so a failure is told apart as `NotFound` or `Conflict` in one round trip.
//! - **List** reads every page at the revision of the first page (one consistent snapshot),
//!   [`EtcdConfig::page_size`] keys per range request; a page of the `Store` contract is a
//!   range from its start key, with a limit, at the revision asked for (etcd's "compacted" is
//!   [`StoreError::Gone`], "future revision" [`StoreError::FutureRevision`]); the count etcd
//!   returns with every range gives the keys remaining after it.
//! - **Watch** asks etcd for events from revision `after` (not `after + 1`) with previous
//!   values and drops the events at `after` itself: etcd then refuses exactly the starts that
//!   the contract calls gone (`after` below the compaction revision). A broken stream (member
//!   lost, connection reset, leader lost) is re-established from the last revision seen.
//! - **Failures**: transport errors, timeouts and "no leader" are [`StoreError::Unavailable`];
//!   every request is bounded by [`EtcdConfig::request_timeout`], so a dead cluster answers
//!   within seconds instead of hanging.

use async_trait::async_trait;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, EventType, GetOptions, GetResponse,
    KvClient, PutOptions, Txn, TxnOp, TxnOpResponse, TxnResponse, WatchClient, WatchOptions,
};
use kube_core::backoff::Backoff;
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, Store, StoreError, StoreEvent,
    StoreEventKind, WatchStream,
};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key root the registry writes under; it is mapped onto the configured etcd prefix.
pub const REGISTRY_ROOT: &str = "/registry";
/// The etcd prefix used when none is configured (the seed's and Kubernetes' layout).
pub const DEFAULT_ETCD_PREFIX: &str = "/registry";

/// gRPC status codes (see `google.golang.org/grpc/codes`) that mean "etcd could not serve
/// this now": cancelled, unknown (tonic's transport failures), deadline exceeded, aborted,
/// unavailable.
const RETRYABLE_CODES: [i32; 5] = [1, 2, 4, 10, 14];
/// gRPC `OUT_OF_RANGE`: also what tonic answers for a response above the decoding limit.
const CODE_OUT_OF_RANGE: i32 = 11;

/// Settings of an [`EtcdStore`].
#[derive(Clone, Debug)]
pub struct EtcdConfig {
    /// Client URLs of the cluster's members, e.g. `http://127.0.0.1:2379`.
    pub endpoints: Vec<String>,
    /// The etcd key prefix replacing [`EtcdConfig::key_root`] (trailing `/` ignored).
    pub prefix: String,
    /// The root every key given to the store starts with (`/registry`; `""` maps every key).
    pub key_root: String,
    /// Upper bound of one etcd request, including waiting for a usable connection.
    pub request_timeout: Duration,
    /// Upper bound of establishing a TCP connection to one member.
    pub connect_timeout: Duration,
    /// Keys per range request of a list.
    pub page_size: i64,
    /// How long a broken watch keeps trying to re-establish itself before it fails.
    pub watch_reconnect_timeout: Duration,
    /// Largest response message accepted from etcd (a list page, a watch batch).
    pub max_response_bytes: usize,
}

impl EtcdConfig {
    /// The defaults for `endpoints`: prefix `/registry`, 5 s requests, 500-key pages.
    pub fn new(endpoints: &[String]) -> Self {
        EtcdConfig {
            endpoints: endpoints.to_vec(),
            prefix: DEFAULT_ETCD_PREFIX.to_owned(),
            key_root: REGISTRY_ROOT.to_owned(),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            page_size: 500,
            watch_reconnect_timeout: Duration::from_secs(30),
            max_response_bytes: 512 << 20,
        }
    }
}

/// The bijection between the store's keys and etcd keys.
#[derive(Clone, Debug)]
struct KeyMap {
    /// The store-side root (no trailing `/`).
    root: String,
    /// The etcd-side prefix replacing it (no trailing `/`).
    prefix: String,
}

impl KeyMap {
    fn new(root: &str, prefix: &str) -> Self {
        KeyMap {
            root: root.trim_end_matches('/').to_owned(),
            prefix: prefix.trim_end_matches('/').to_owned(),
        }
    }

    /// The etcd key of `key`, which must be the root itself or below it.
    fn key(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        match key.strip_prefix(self.root.as_str()) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                Ok([self.prefix.as_bytes(), rest.as_bytes()].concat())
            }
            _ => Err(StoreError::Internal(format!(
                "key {key:?} is outside the store's key root {:?}",
                self.root
            ))),
        }
    }

    /// The etcd key prefix selecting every store key that starts with `prefix`.
    fn range(&self, prefix: &str) -> Result<Vec<u8>, StoreError> {
        if self.root.starts_with(prefix) {
            // Every key of the store starts with `prefix`: the whole root.
            Ok(self.prefix.as_bytes().to_vec())
        } else {
            self.key(prefix)
        }
    }

    /// A key that is cheap to read and never empty, for requests that only want a header.
    fn probe(&self) -> Vec<u8> {
        format!("{}/", self.prefix).into_bytes()
    }

    /// The store key of an etcd key, `None` when it is not one of ours.
    fn store_key(&self, etcd_key: &[u8]) -> Option<String> {
        let rest = etcd_key.strip_prefix(self.prefix.as_bytes())?;
        if !rest.is_empty() && rest[0] != b'/' {
            return None;
        }
        let rest = std::str::from_utf8(rest).ok()?;
        Some(format!("{}{rest}", self.root))
    }
}

/// The end of the etcd range holding every key starting with `prefix` (etcd's `--prefix`).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Empty or all 0xff: every key from `prefix` on.
    vec![0]
}

/// A store revision from an etcd revision (never negative in practice).
fn rev(r: i64) -> Revision {
    Revision::try_from(r).unwrap_or(0)
}

/// An etcd revision from a store revision.
fn etcd_rev(r: Revision) -> Result<i64, StoreError> {
    i64::try_from(r).map_err(|_| StoreError::Internal(format!("revision {r} is out of range")))
}

/// How an etcd failure is classified.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// Nothing reached etcd or nothing was applied (connect failure, no leader): any
    /// request may be sent again.
    NotSent,
    /// etcd could not answer (timeout, connection lost mid-request): reads may be retried,
    /// a write's outcome is unknown.
    Unavailable,
    /// The revision asked for is compacted.
    Compacted,
    /// The revision asked for is in the future.
    FutureRevision,
    /// The response was larger than the decoding limit.
    TooLarge,
    /// Anything else (request too large, permission...).
    Other,
}

/// Classifies an etcd-client error.
fn classify(e: &etcd_client::Error) -> Failure {
    match e {
        etcd_client::Error::GRpcStatus(s) => {
            let msg = s.message();
            let code = s.code() as i32;
            if msg.contains("required revision has been compacted") {
                Failure::Compacted
            } else if msg.contains("required revision is a future revision") {
                Failure::FutureRevision
            } else if code == CODE_OUT_OF_RANGE && msg.contains("message length too large") {
                Failure::TooLarge
            } else if msg.contains("no leader")
                || msg.contains("error trying to connect")
                || msg.contains("tcp connect error")
                || msg.contains("Connection refused")
            {
                Failure::NotSent
            } else if RETRYABLE_CODES.contains(&code) {
                Failure::Unavailable
            } else {
                Failure::Other
            }
        }
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => {
            let text = e.to_string();
            if text.contains("connect") || text.contains("refused") {
                Failure::NotSent
            } else {
                Failure::Unavailable
            }
        }
        etcd_client::Error::WatchError(_) => Failure::Unavailable,
        _ => Failure::Other,
    }
}

/// Whether the error is an answer from an etcd member (rather than a failed connection).
fn answered(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::GRpcStatus(s) => {
            let msg = s.message();
            !(msg.contains("error trying to connect")
                || msg.contains("tcp connect error")
                || msg.contains("Connection refused")
                || msg.contains("transport error"))
        }
        _ => false,
    }
}

/// Maps an etcd-client error to a store error, with `what` as context.
fn store_error(what: &str, e: &etcd_client::Error) -> StoreError {
    match classify(e) {
        Failure::NotSent | Failure::Unavailable => {
            StoreError::Unavailable(format!("etcd {what}: {e}"))
        }
        _ => StoreError::Internal(format!("etcd {what}: {e}")),
    }
}

/// Whether an operation may be sent again after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idempotence {
    /// A read: retry on any unavailability.
    Read,
    /// A write: retry only when it certainly was not applied.
    Write,
}

/// What the store shares with its watch streams.
struct Inner {
    client: Client,
    kv: KvClient,
    watch: WatchClient,
    keys: KeyMap,
    config: EtcdConfig,
}

/// A [`Store`] backed by an etcd cluster (v3 API).
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.inner.config.endpoints)
            .field("prefix", &self.inner.keys.prefix)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// A store on the cluster at `endpoints` with the registry's keys under `prefix`.
    ///
    /// Connections are made lazily: this succeeds while etcd is down, and operations answer
    /// [`StoreError::Unavailable`] until it is reachable.
    pub async fn connect(endpoints: &[String], prefix: &str) -> Result<Self, StoreError> {
        let mut config = EtcdConfig::new(endpoints);
        config.prefix = prefix.to_owned();
        Self::connect_with(config).await
    }

    /// A store with explicit settings.
    pub async fn connect_with(config: EtcdConfig) -> Result<Self, StoreError> {
        if config.endpoints.is_empty() {
            return Err(StoreError::Internal("no etcd endpoints given".into()));
        }
        if config.page_size < 1 {
            return Err(StoreError::Internal(format!(
                "etcd page size must be positive, got {}",
                config.page_size
            )));
        }
        // HTTP/2 pings only while requests or watches are open, and no more often than every
        // 10 s: etcd's server allows pings every 5 s at most (`--grpc-keepalive-min-time`) and
        // none without streams, and answers more with GOAWAY, failing every open request.
        // Requests carry "require leader", so a member cut off from its cluster refuses them
        // (and ends its watches) at once instead of letting them wait.
        let options = ConnectOptions::new()
            .with_connect_timeout(config.connect_timeout)
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5))
            .with_keep_alive_while_idle(false)
            .with_require_leader(true);
        let client = Client::connect(&config.endpoints, Some(options))
            .await
            .map_err(|e| {
                StoreError::Internal(format!(
                    "etcd client for {}: {e}",
                    config.endpoints.join(",")
                ))
            })?;
        let kv = client
            .kv_client()
            .max_decoding_message_size(config.max_response_bytes);
        let watch = client
            .watch_client()
            .max_decoding_message_size(config.max_response_bytes);
        let keys = KeyMap::new(&config.key_root, &config.prefix);
        tracing::debug!(endpoints = ?config.endpoints, prefix = %keys.prefix, "etcd store configured");
        Ok(EtcdStore {
            inner: Arc::new(Inner {
                client,
                kv,
                watch,
                keys,
                config,
            }),
        })
    }

    /// The underlying etcd client (for tools and tests).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The etcd prefix the registry's keys are stored under.
    pub fn prefix(&self) -> &str {
        &self.inner.keys.prefix
    }
}

impl Inner {
    /// Runs `op` (built fresh for every attempt) until it succeeds, fails for good, or
    /// the request timeout passes. Returns the raw error for the caller to interpret.
    async fn call<T, F, Fut>(
        &self,
        what: &str,
        idempotence: Idempotence,
        mut op: F,
    ) -> Result<Result<T, etcd_client::Error>, StoreError>
    where
        F: FnMut(KvClient) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let timeout = self.config.request_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let policy = Backoff::new(Duration::from_millis(10), Duration::from_millis(500));
        let mut tries = 0;
        let mut pause = policy.base_delay(tries);
        // The most telling failure so far: a member's answer ("no leader") says more than
        // a refused connection to another member.
        let mut worst: Option<etcd_client::Error> = None;
        loop {
            let attempt = tokio::time::timeout_at(deadline, op(self.kv.clone())).await;
            let err = match attempt {
                Err(_) => {
                    return match worst {
                        Some(e) => Ok(Err(e)),
                        None => Err(StoreError::Unavailable(format!(
                            "etcd {what}: no answer within {timeout:?}"
                        ))),
                    }
                }
                Ok(Ok(v)) => return Ok(Ok(v)),
                Ok(Err(e)) => e,
            };
            let retry = match classify(&err) {
                Failure::NotSent => true,
                Failure::Unavailable => idempotence == Idempotence::Read,
                _ => false,
            };
            if !retry {
                return Ok(Err(err));
            }
            tracing::debug!(error = %err, "etcd {what}: retrying");
            if worst
                .as_ref()
                .is_none_or(|w| !answered(w) || answered(&err))
            {
                worst = Some(err);
            }
            if tokio::time::Instant::now() + pause >= deadline {
                return Ok(Err(worst.take().unwrap_or_else(|| {
                    etcd_client::Error::Internal("retry without an error".into())
                })));
            }
            tokio::time::sleep(pause).await;
            tries += 1;
            pause = policy.base_delay(tries);
        }
    }

    /// Like [`Inner::call`], mapping every failure to a store error.
    async fn call_ok<T, F, Fut>(
        &self,
        what: &str,
        idempotence: Idempotence,
        op: F,
    ) -> Result<T, StoreError>
    where
        F: FnMut(KvClient) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.call(what, idempotence, op)
            .await?
            .map_err(|e| store_error(what, &e))
    }

    /// A store key-value from an etcd one, `None` when the key is not ours.
    fn kv(&self, kv: &etcd_client::KeyValue) -> Option<KeyValue> {
        Some(KeyValue {
            key: self.keys.store_key(kv.key())?,
            value: Arc::from(kv.value()),
            create_revision: rev(kv.create_revision()),
            mod_revision: rev(kv.mod_revision()),
        })
    }

    /// The revision in a response header.
    fn header_rev(
        header: Option<&etcd_client::ResponseHeader>,
        what: &str,
    ) -> Result<Revision, StoreError> {
        header
            .map(|h| rev(h.revision()))
            .ok_or_else(|| StoreError::Internal(format!("etcd {what}: response without header")))
    }

    /// The key read by the else branch of a failed transaction.
    fn else_read(txn: &TxnResponse) -> Option<etcd_client::KeyValue> {
        txn.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(get) => get.kvs().first().cloned(),
            _ => None,
        })
    }

    /// A failed compare-and-swap on `key`: `NotFound` or `Conflict` from the else read.
    fn cas_failure(key: &str, expected: Revision, txn: &TxnResponse) -> StoreError {
        match Self::else_read(txn) {
            None => StoreError::NotFound {
                key: key.to_owned(),
            },
            Some(current) => StoreError::Conflict {
                key: key.to_owned(),
                expected,
                actual: rev(current.mod_revision()),
            },
        }
    }

    /// The etcd range `[from, end)` of the keys under `prefix` from `start` on.
    fn list_range(
        &self,
        prefix: &str,
        start: Option<&str>,
    ) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
        let lo = self.keys.range(prefix)?;
        let end = prefix_end(&lo);
        let from = match start {
            Some(start) if start > prefix => {
                if start.starts_with(prefix) {
                    self.keys.key(start)?
                } else {
                    // Past every key under the prefix: an empty range.
                    end.clone()
                }
            }
            _ => lo,
        };
        Ok((from, end))
    }

    /// Whether `after` is older than etcd's compaction revision (so a watch after it is gone).
    async fn is_compacted(&self, after: Revision) -> Result<bool, StoreError> {
        let at = etcd_rev(after.max(1))?;
        let probe = self.keys.probe();
        let outcome = self
            .call("compaction check", Idempotence::Read, |mut kv| {
                let probe = probe.clone();
                async move {
                    kv.get(
                        probe,
                        Some(GetOptions::new().with_revision(at).with_count_only()),
                    )
                    .await
                }
            })
            .await?;
        match outcome {
            Ok(_) => Ok(false),
            Err(e) => match classify(&e) {
                Failure::Compacted => Ok(true),
                Failure::FutureRevision => Ok(false),
                _ => Err(store_error("compaction check", &e)),
            },
        }
    }

    /// Opens an etcd watch on `[key, end)` delivering events from revision `after` on
    /// (inclusive), and waits until etcd confirms it. `Ok(Err(compact_revision))` when etcd
    /// refuses the start revision as compacted.
    async fn open_watch(
        &self,
        key: &[u8],
        end: &[u8],
        after: Revision,
    ) -> Result<Result<etcd_client::WatchStream, Revision>, StoreError> {
        let start = etcd_rev(after.max(1))?;
        let options = WatchOptions::new()
            .with_range(end.to_vec())
            .with_start_revision(start)
            .with_prev_key();
        let timeout = self.config.request_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let policy = Backoff::new(Duration::from_millis(10), Duration::from_millis(500));
        let mut tries = 0;
        let mut pause = policy.base_delay(tries);
        // Opening a watch is idempotent: retry it, within the deadline, while a member (or the
        // connection to it) is unavailable, so the client fails over to a live member.
        loop {
            let opened = tokio::time::timeout_at(deadline, async {
                let mut stream = self
                    .watch
                    .clone()
                    .watch(key.to_vec(), Some(options.clone()))
                    .await?;
                loop {
                    match stream.message().await? {
                        Some(resp) if resp.compact_revision() != 0 => {
                            return Ok(Err(rev(resp.compact_revision())));
                        }
                        Some(resp) if resp.canceled() => {
                            return Err(etcd_client::Error::WatchError(format!(
                                "watch canceled: {}",
                                resp.cancel_reason()
                            )));
                        }
                        Some(resp) if resp.created() => return Ok(Ok(stream)),
                        Some(_) => continue,
                        None => {
                            return Err(etcd_client::Error::WatchError(
                                "watch stream closed before it was created".into(),
                            ))
                        }
                    }
                }
            })
            .await;
            let err = match opened {
                Err(_) => {
                    return Err(StoreError::Unavailable(format!(
                        "etcd watch: not established within {timeout:?}"
                    )))
                }
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e,
            };
            if let Failure::Other = classify(&err) {
                return Err(store_error("watch", &err));
            }
            if tokio::time::Instant::now() + pause >= deadline {
                return Err(StoreError::Unavailable(format!("etcd watch: {err}")));
            }
            tracing::debug!(error = %err, "etcd watch: retrying");
            tokio::time::sleep(pause).await;
            tries += 1;
            pause = policy.base_delay(tries);
        }
    }

    /// etcd's compaction revision, learned from a watch that starts at `after`.
    async fn compaction_revision(&self, after: Revision) -> Result<Revision, StoreError> {
        let key = self.keys.prefix.clone().into_bytes();
        let end = prefix_end(&key);
        match self.open_watch(&key, &end, after).await? {
            Err(compacted) => Ok(compacted),
            Ok(mut stream) => {
                // etcd accepted the start and reports the compaction asynchronously.
                let timeout = self.config.request_timeout;
                let found = tokio::time::timeout(timeout, async {
                    while let Ok(Some(resp)) = stream.message().await {
                        if resp.compact_revision() != 0 {
                            return Some(rev(resp.compact_revision()));
                        }
                    }
                    None
                })
                .await;
                Ok(found.ok().flatten().unwrap_or(after + 1))
            }
        }
    }
}

#[async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let inner = &self.inner;
        let k = inner.keys.key(key)?;
        let what = format!("get {key}");
        let resp: GetResponse = inner
            .call_ok(&what, Idempotence::Read, |mut kv| {
                let k = k.clone();
                async move { kv.get(k, None).await }
            })
            .await?;
        Ok(resp.kvs().first().and_then(|kv| inner.kv(kv)))
    }

    async fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError> {
        let inner = &self.inner;
        let (lo, end) = inner.list_range(prefix, request.start.as_deref())?;
        let what = format!("list {prefix}");
        let want = match request.limit {
            0 => usize::MAX,
            n => n,
        };
        let mut page_size = inner.config.page_size;
        let mut restarts = 0;
        'snapshot: loop {
            let mut items = Vec::new();
            let mut revision = match request.revision {
                Some(r) => etcd_rev(r)?,
                None => 0,
            };
            let mut from = lo.clone();
            let mut remaining = 0;
            while items.len() < want {
                let left = i64::try_from(want - items.len()).unwrap_or(i64::MAX);
                let options = GetOptions::new()
                    .with_range(end.clone())
                    .with_limit(page_size.min(left))
                    .with_revision(revision);
                let page = inner
                    .call(&what, Idempotence::Read, |mut kv| {
                        let from = from.clone();
                        let options = options.clone();
                        async move { kv.get(from, Some(options)).await }
                    })
                    .await?;
                let mut page = match page {
                    Ok(page) => page,
                    Err(e) => match classify(&e) {
                        Failure::TooLarge if page_size > 1 => {
                            // Large values: smaller pages, same snapshot.
                            page_size = (page_size / 2).max(1);
                            continue;
                        }
                        Failure::Compacted => match request.revision {
                            Some(requested) => {
                                let oldest = inner.compaction_revision(requested).await?;
                                return Err(StoreError::Gone { requested, oldest });
                            }
                            None if restarts < 3 => {
                                // The snapshot was compacted between pages: read a newer one.
                                restarts += 1;
                                continue 'snapshot;
                            }
                            None => return Err(store_error(&what, &e)),
                        },
                        Failure::FutureRevision => {
                            return Err(StoreError::FutureRevision {
                                requested: rev(revision),
                                current: self.current_revision().await?,
                            })
                        }
                        _ => return Err(store_error(&what, &e)),
                    },
                };
                if revision == 0 {
                    revision = page.header().map(|h| h.revision()).ok_or_else(|| {
                        StoreError::Internal(format!("etcd {what}: response without header"))
                    })?;
                }
                let count = u64::try_from(page.count()).unwrap_or(0);
                let kvs = page.take_kvs();
                remaining = count.saturating_sub(kvs.len() as u64);
                let Some(last) = kvs.last() else {
                    break;
                };
                from = [last.key(), &[0u8][..]].concat();
                items.extend(kvs.iter().filter_map(|kv| inner.kv(kv)));
                if remaining == 0 {
                    break;
                }
            }
            return Ok(ListResult {
                items,
                revision: rev(revision),
                more: remaining > 0,
                remaining,
            });
        }
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue, StoreError> {
        let inner = &self.inner;
        let k = inner.keys.key(key)?;
        let what = format!("create {key}");
        let resp: TxnResponse = inner
            .call_ok(&what, Idempotence::Write, |mut kv| {
                let txn = Txn::new()
                    .when([Compare::mod_revision(k.clone(), CompareOp::Equal, 0)])
                    .and_then([TxnOp::put(k.clone(), value.clone(), None)]);
                async move { kv.txn(txn).await }
            })
            .await?;
        if !resp.succeeded() {
            return Err(StoreError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        let revision = Inner::header_rev(resp.header(), &what)?;
        Ok(KeyValue {
            key: key.to_owned(),
            value: value.into(),
            create_revision: revision,
            mod_revision: revision,
        })
    }

    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        let inner = &self.inner;
        let k = inner.keys.key(key)?;
        let expected_etcd = etcd_rev(expected)?;
        let what = format!("update {key}");
        let resp: TxnResponse = inner
            .call_ok(&what, Idempotence::Write, |mut kv| {
                let txn = Txn::new()
                    .when([
                        Compare::create_revision(k.clone(), CompareOp::Greater, 0),
                        Compare::mod_revision(k.clone(), CompareOp::Equal, expected_etcd),
                    ])
                    .and_then([TxnOp::put(
                        k.clone(),
                        value.clone(),
                        Some(PutOptions::new().with_prev_key()),
                    )])
                    .or_else([TxnOp::get(k.clone(), None)]);
                async move { kv.txn(txn).await }
            })
            .await?;
        if !resp.succeeded() {
            return Err(Inner::cas_failure(key, expected, &resp));
        }
        let revision = Inner::header_rev(resp.header(), &what)?;
        let create_revision = resp
            .op_responses()
            .into_iter()
            .find_map(|op| match op {
                TxnOpResponse::Put(put) => put.prev_key().map(|p| rev(p.create_revision())),
                _ => None,
            })
            .ok_or_else(|| {
                StoreError::Internal(format!("etcd {what}: put returned no previous value"))
            })?;
        Ok(KeyValue {
            key: key.to_owned(),
            value: value.into(),
            create_revision,
            mod_revision: revision,
        })
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        let inner = &self.inner;
        let k = inner.keys.key(key)?;
        let expected_etcd = expected.map(etcd_rev).transpose()?;
        let what = format!("delete {key}");
        let resp: TxnResponse = inner
            .call_ok(&what, Idempotence::Write, |mut kv| {
                let mut compares = vec![Compare::create_revision(k.clone(), CompareOp::Greater, 0)];
                if let Some(expected) = expected_etcd {
                    compares.push(Compare::mod_revision(k.clone(), CompareOp::Equal, expected));
                }
                let txn = Txn::new()
                    .when(compares)
                    .and_then([TxnOp::delete(
                        k.clone(),
                        Some(DeleteOptions::new().with_prev_key()),
                    )])
                    .or_else([TxnOp::get(k.clone(), None)]);
                async move { kv.txn(txn).await }
            })
            .await?;
        if !resp.succeeded() {
            return Err(match expected {
                Some(expected) => Inner::cas_failure(key, expected, &resp),
                None => StoreError::NotFound {
                    key: key.to_owned(),
                },
            });
        }
        let revision = Inner::header_rev(resp.header(), &what)?;
        let prev = resp
            .op_responses()
            .into_iter()
            .find_map(|op| match op {
                TxnOpResponse::Delete(del) => del.prev_kvs().first().cloned(),
                _ => None,
            })
            .ok_or_else(|| {
                StoreError::Internal(format!("etcd {what}: delete returned no previous value"))
            })?;
        Ok(KeyValue {
            key: key.to_owned(),
            value: Arc::from(prev.value()),
            create_revision: rev(prev.create_revision()),
            mod_revision: revision,
        })
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxWatchStream, StoreError> {
        let inner = &self.inner;
        let key = inner.keys.range(prefix)?;
        let end = prefix_end(&key);
        // etcd accepts a watch starting at its compaction revision, and reports a compacted
        // start only asynchronously: ask first, so a gone revision fails here.
        if inner.is_compacted(after).await? {
            let oldest = inner.compaction_revision(after).await?;
            return Err(StoreError::Gone {
                requested: after,
                oldest,
            });
        }
        let stream = match inner.open_watch(&key, &end, after).await? {
            Ok(stream) => stream,
            Err(oldest) => {
                return Err(StoreError::Gone {
                    requested: after,
                    oldest,
                })
            }
        };
        Ok(Box::new(EtcdWatch {
            inner: Arc::clone(&self.inner),
            key,
            end,
            resume: after,
            seen: after,
            stream: Some(stream),
            pending: VecDeque::new(),
            done: false,
        }))
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        let inner = &self.inner;
        let probe = inner.keys.probe();
        let resp: GetResponse = inner
            .call_ok("current revision", Idempotence::Read, |mut kv| {
                let probe = probe.clone();
                async move {
                    kv.get(probe, Some(GetOptions::new().with_count_only()))
                        .await
                }
            })
            .await?;
        Inner::header_rev(resp.header(), "current revision")
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let inner = &self.inner;
        let target = revision.min(self.current_revision().await?);
        if target <= 1 {
            return Ok(());
        }
        let at = etcd_rev(target)?;
        let what = format!("compact {target}");
        let outcome = inner
            .call(&what, Idempotence::Read, |mut kv| async move {
                kv.compact(at, None).await
            })
            .await?;
        match outcome {
            Ok(_) => Ok(()),
            // Already compacted at or past `target`.
            Err(e) if classify(&e) == Failure::Compacted => Ok(()),
            Err(e) => Err(store_error(&what, &e)),
        }
    }
}

/// A watch on etcd that re-establishes itself from the last revision it saw.
struct EtcdWatch {
    inner: Arc<Inner>,
    /// The etcd range watched: `[key, end)`.
    key: Vec<u8>,
    end: Vec<u8>,
    /// The revision the current etcd stream started after (its events at or below are dropped).
    resume: Revision,
    /// The highest revision queued for the consumer.
    seen: Revision,
    /// The etcd stream; `None` when it broke and must be re-established.
    stream: Option<etcd_client::WatchStream>,
    /// Events received but not yet delivered.
    pending: VecDeque<StoreEvent>,
    /// Whether the watch has ended (after reporting an error).
    done: bool,
}

impl EtcdWatch {
    /// Converts one etcd event; `None` for keys that are not ours.
    fn event(&self, ev: &etcd_client::Event) -> Option<StoreEvent> {
        let kv = ev.kv()?;
        let prev = ev.prev_kv().and_then(|p| self.inner.kv(p));
        match ev.event_type() {
            EventType::Put => {
                let kv = self.inner.kv(kv)?;
                let kind = if kv.create_revision == kv.mod_revision {
                    StoreEventKind::Created
                } else {
                    StoreEventKind::Updated
                };
                Some(StoreEvent {
                    kind,
                    prev: if kind == StoreEventKind::Created {
                        None
                    } else {
                        prev
                    },
                    kv,
                })
            }
            EventType::Delete => {
                let key = self.inner.keys.store_key(kv.key())?;
                let mod_revision = rev(kv.mod_revision());
                let last = match &prev {
                    Some(p) => KeyValue {
                        mod_revision,
                        ..p.clone()
                    },
                    // The previous value was compacted away: only the key is known.
                    None => KeyValue {
                        key,
                        value: Arc::from(&[][..]),
                        create_revision: 0,
                        mod_revision,
                    },
                };
                Some(StoreEvent {
                    kind: StoreEventKind::Deleted,
                    kv: last,
                    prev,
                })
            }
        }
    }

    /// Re-establishes the etcd stream from the last revision seen, with backoff, until
    /// [`EtcdConfig::watch_reconnect_timeout`] passes.
    async fn reconnect(&mut self) -> Result<(), StoreError> {
        let give_up = Instant::now() + self.inner.config.watch_reconnect_timeout;
        let policy = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
        let mut tries = 0;
        let mut pause = policy.base_delay(tries);
        loop {
            match self.inner.open_watch(&self.key, &self.end, self.seen).await {
                Ok(Ok(stream)) => {
                    tracing::debug!(after = self.seen, "etcd watch re-established");
                    self.stream = Some(stream);
                    self.resume = self.seen;
                    return Ok(());
                }
                Ok(Err(oldest)) => {
                    return Err(StoreError::Gone {
                        requested: self.seen,
                        oldest,
                    })
                }
                Err(StoreError::Unavailable(reason)) if Instant::now() + pause < give_up => {
                    tracing::debug!(%reason, "etcd watch: reconnecting");
                    tokio::time::sleep(pause).await;
                    tries += 1;
                    pause = policy.base_delay(tries);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[async_trait]
impl WatchStream for EtcdWatch {
    async fn next(&mut self) -> Option<Result<StoreEvent, StoreError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let Some(stream) = self.stream.as_mut() else {
                if let Err(e) = self.reconnect().await {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            };
            match stream.message().await {
                Ok(Some(resp)) => {
                    if resp.compact_revision() != 0 {
                        self.done = true;
                        return Some(Err(StoreError::Gone {
                            requested: self.seen,
                            oldest: rev(resp.compact_revision()),
                        }));
                    }
                    if resp.canceled() {
                        tracing::debug!(reason = resp.cancel_reason(), "etcd watch canceled");
                        self.stream = None;
                        continue;
                    }
                    for ev in resp.events() {
                        let Some(event) = self.event(ev) else {
                            continue;
                        };
                        if event.revision() <= self.resume {
                            continue;
                        }
                        self.seen = self.seen.max(event.revision());
                        self.pending.push_back(event);
                    }
                }
                Ok(None) => {
                    tracing::debug!("etcd watch stream ended");
                    self.stream = None;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "etcd watch stream broke");
                    self.stream = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix_keeps_registry_keys() {
        let m = KeyMap::new(REGISTRY_ROOT, DEFAULT_ETCD_PREFIX);
        let k = m.key("/registry/pods/default/redis").unwrap();
        assert_eq!(k, b"/registry/pods/default/redis");
        assert_eq!(
            m.store_key(&k).as_deref(),
            Some("/registry/pods/default/redis")
        );
    }

    #[test]
    fn other_prefix_replaces_the_root() {
        let m = KeyMap::new(REGISTRY_ROOT, "/other/");
        let k = m.key("/registry/pods/default/redis").unwrap();
        assert_eq!(k, b"/other/pods/default/redis");
        assert_eq!(
            m.store_key(&k).as_deref(),
            Some("/registry/pods/default/redis")
        );
        assert_eq!(m.range("/registry/pods/").unwrap(), b"/other/pods/");
        assert_eq!(m.range("/reg").unwrap(), b"/other");
        assert_eq!(m.range("").unwrap(), b"/other");
        assert!(m.key("/registryX").is_err());
        assert!(m.key("/t/a").is_err());
        assert_eq!(m.store_key(b"/otherwise/x"), None);
        assert_eq!(m.store_key(b"/other/\xff"), None);
    }

    #[test]
    fn empty_root_prefixes_every_key() {
        let m = KeyMap::new("", "/test-7");
        assert_eq!(m.key("/ab").unwrap(), b"/test-7/ab");
        assert_eq!(m.range("/a").unwrap(), b"/test-7/a");
        assert_eq!(m.store_key(b"/test-7/ab").as_deref(), Some("/ab"));
        assert_eq!(m.store_key(b"/test-70/ab"), None);
    }

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b""), vec![0]);
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
    }
}
