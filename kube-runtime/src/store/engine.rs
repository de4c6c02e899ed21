//! The in-memory engine shared by every local store: current data, revision, bounded event
//! history with a compaction floor, and watchers.
//!
//! Writers plan operations with [`Engine::plan`] (or [`Engine::write`] for a single operation
//! applied at once) — the one place where preconditions are checked and revisions assigned —
//! and make them visible with [`Engine::apply`], which also records history and notifies
//! watchers. Reads take a shared lock and clone cheap `Arc` values.

use super::hub::{Hub, HubWatch, WATCH_CHANNEL_CAPACITY};
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, StoreError, StoreEvent,
    StoreEventKind,
};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Default number of events kept for watch replay.
pub const DEFAULT_HISTORY_CAPACITY: usize = 100_000;

/// A write operation, before its precondition is checked.
#[derive(Clone, Debug)]
pub(crate) enum WriteOp {
    /// Create a key that must not exist.
    Create { key: String, value: Arc<[u8]> },
    /// Replace a key whose `mod_revision` must equal `expected`.
    Update {
        key: String,
        value: Arc<[u8]>,
        expected: Revision,
    },
    /// Delete a key, optionally only when its `mod_revision` equals `expected`.
    Delete {
        key: String,
        expected: Option<Revision>,
    },
}

impl WriteOp {
    /// The key the operation touches.
    pub(crate) fn key(&self) -> &str {
        match self {
            WriteOp::Create { key, .. }
            | WriteOp::Update { key, .. }
            | WriteOp::Delete { key, .. } => key,
        }
    }
}

/// Checks `op` against the key's `current` value; on success returns the event it would
/// produce at `revision`. This is the single definition of the write preconditions.
fn plan_op(
    op: &WriteOp,
    current: Option<&KeyValue>,
    revision: Revision,
) -> Result<StoreEvent, StoreError> {
    let check = |expected: Option<Revision>| -> Result<KeyValue, StoreError> {
        let cur = current.ok_or_else(|| StoreError::NotFound {
            key: op.key().to_owned(),
        })?;
        match expected {
            Some(expected) if expected != cur.mod_revision => Err(StoreError::Conflict {
                key: op.key().to_owned(),
                expected,
                actual: cur.mod_revision,
            }),
            _ => Ok(cur.clone()),
        }
    };
    match op {
        WriteOp::Create { key, value } => {
            if current.is_some() {
                return Err(StoreError::AlreadyExists { key: key.clone() });
            }
            Ok(StoreEvent {
                kind: StoreEventKind::Created,
                kv: KeyValue {
                    key: key.clone(),
                    value: Arc::clone(value),
                    create_revision: revision,
                    mod_revision: revision,
                },
                prev: None,
            })
        }
        WriteOp::Update {
            key,
            value,
            expected,
        } => {
            let prev = check(Some(*expected))?;
            Ok(StoreEvent {
                kind: StoreEventKind::Updated,
                kv: KeyValue {
                    key: key.clone(),
                    value: Arc::clone(value),
                    create_revision: prev.create_revision,
                    mod_revision: revision,
                },
                prev: Some(prev),
            })
        }
        WriteOp::Delete { expected, .. } => {
            let prev = check(*expected)?;
            Ok(StoreEvent {
                kind: StoreEventKind::Deleted,
                kv: KeyValue {
                    mod_revision: revision,
                    ..prev.clone()
                },
                prev: Some(prev),
            })
        }
    }
}

/// Everything behind the engine's lock.
pub(crate) struct State {
    data: BTreeMap<String, KeyValue>,
    revision: Revision,
    /// The oldest revision one may still watch after; history holds every event above it.
    floor: Revision,
    history: VecDeque<StoreEvent>,
    history_capacity: usize,
    hub: Hub,
}

impl State {
    /// Plans `ops` in order against the current data plus the effects of the earlier
    /// successful ops in the same batch; successful ops get consecutive revisions.
    fn plan(&self, ops: &[&WriteOp]) -> Vec<Result<StoreEvent, StoreError>> {
        let mut overlay: HashMap<&str, Option<KeyValue>> = HashMap::new();
        let mut next = self.revision;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let key = op.key();
            let current = match overlay.get(key) {
                Some(pending) => pending.as_ref(),
                None => self.data.get(key),
            };
            let result = plan_op(op, current, next + 1);
            if let Ok(event) = &result {
                next += 1;
                let after = match event.kind {
                    StoreEventKind::Deleted => None,
                    StoreEventKind::Created | StoreEventKind::Updated => Some(event.kv.clone()),
                };
                overlay.insert(key, after);
            }
            out.push(result);
        }
        out
    }

    /// Makes planned events visible: updates data and revision, records history, notifies watchers.
    fn apply(&mut self, events: &[StoreEvent]) {
        for event in events {
            debug_assert!(event.revision() > self.revision);
            match event.kind {
                StoreEventKind::Deleted => {
                    self.data.remove(&event.kv.key);
                }
                StoreEventKind::Created | StoreEventKind::Updated => {
                    self.data.insert(event.kv.key.clone(), event.kv.clone());
                }
            }
            self.revision = event.revision();
            self.hub.publish(event);
            if self.history_capacity == 0 {
                self.floor = self.revision;
                continue;
            }
            self.history.push_back(event.clone());
            while self.history.len() > self.history_capacity {
                if let Some(old) = self.history.pop_front() {
                    self.floor = old.revision();
                }
            }
        }
    }
}

/// The shared in-memory engine: a lock around [`State`].
pub(crate) struct Engine {
    state: RwLock<State>,
    watch_capacity: usize,
}

impl Engine {
    /// An empty engine at revision 0 keeping `history_capacity` events for replay.
    pub(crate) fn new(history_capacity: usize) -> Self {
        Self::restore(BTreeMap::new(), 0, history_capacity)
    }

    /// An engine holding `data` at `revision`, with empty history (the floor is `revision`).
    pub(crate) fn restore(
        data: BTreeMap<String, KeyValue>,
        revision: Revision,
        history_capacity: usize,
    ) -> Self {
        Self {
            state: RwLock::new(State {
                data,
                revision,
                floor: revision,
                history: VecDeque::new(),
                history_capacity,
                hub: Hub::default(),
            }),
            watch_capacity: WATCH_CHANNEL_CAPACITY,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads one key.
    pub(crate) fn get(&self, key: &str) -> Option<KeyValue> {
        self.read().data.get(key).cloned()
    }

    /// Reads a page of the keys under `prefix` (see [`kube_core::Store::list_page`]): at the
    /// current revision, or at a past one by undoing the history above it.
    pub(crate) fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError> {
        let state = self.read();
        let at = request.revision.unwrap_or(state.revision);
        if at > state.revision {
            return Err(StoreError::FutureRevision {
                requested: at,
                current: state.revision,
            });
        }
        if at < state.floor {
            return Err(StoreError::Gone {
                requested: at,
                oldest: state.floor,
            });
        }
        let lower = match &request.start {
            Some(start) if start.as_str() > prefix => start.as_str(),
            _ => prefix,
        };
        let in_range = |k: &str| k >= lower && k.starts_with(prefix);
        // The value at `at` of every key in range written after it: the state before its
        // first later write (absent before a create).
        let mut undo: BTreeMap<&str, Option<&KeyValue>> = BTreeMap::new();
        let first_after = state.history.partition_point(|e| e.revision() <= at);
        for e in state.history.range(first_after..) {
            if in_range(&e.kv.key) {
                undo.entry(e.kv.key.as_str()).or_insert(match e.kind {
                    StoreEventKind::Created => None,
                    StoreEventKind::Updated | StoreEventKind::Deleted => e.prev.as_ref(),
                });
            }
        }
        let current = state
            .data
            .range::<str, _>((Bound::Included(lower), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| !undo.contains_key(k.as_str()))
            .map(|(k, kv)| (k.as_str(), kv));
        let restored = undo.iter().filter_map(|(k, kv)| kv.map(|kv| (*k, kv)));
        let mut snapshot = merge_sorted(current, restored);
        let limit = if request.limit == 0 {
            usize::MAX
        } else {
            request.limit
        };
        let items: Vec<KeyValue> = snapshot.by_ref().take(limit).cloned().collect();
        let remaining = snapshot.count() as u64;
        Ok(ListResult {
            items,
            revision: at,
            more: remaining > 0,
            remaining,
        })
    }

    /// The current revision.
    pub(crate) fn current_revision(&self) -> Revision {
        self.read().revision
    }

    /// Plans a batch of operations (see [`State::plan`]) without applying it.
    pub(crate) fn plan(&self, ops: &[&WriteOp]) -> Vec<Result<StoreEvent, StoreError>> {
        self.read().plan(ops)
    }

    /// Applies events previously planned against the current state, in order.
    pub(crate) fn apply(&self, events: &[StoreEvent]) {
        if events.is_empty() {
            return;
        }
        self.write_lock().apply(events);
    }

    /// Plans and applies one operation atomically; returns the resulting key-value.
    pub(crate) fn write(&self, op: &WriteOp) -> Result<KeyValue, StoreError> {
        let mut state = self.write_lock();
        let event = state
            .plan(&[op])
            .pop()
            .unwrap_or_else(|| Err(StoreError::Internal("empty write plan".into())))?;
        state.apply(std::slice::from_ref(&event));
        Ok(event.kv)
    }

    /// Discards history up to and including `revision` (clamped to the current revision).
    pub(crate) fn compact(&self, revision: Revision) {
        let mut state = self.write_lock();
        let target = revision.min(state.revision);
        if target <= state.floor {
            return;
        }
        while state
            .history
            .front()
            .is_some_and(|e| e.revision() <= target)
        {
            state.history.pop_front();
        }
        state.floor = target;
    }

    /// Starts a watch on `prefix` for events after `after`: replays history then follows live.
    pub(crate) fn watch(
        &self,
        prefix: &str,
        after: Revision,
    ) -> Result<BoxWatchStream, StoreError> {
        let mut state = self.write_lock();
        if after < state.floor {
            return Err(StoreError::Gone {
                requested: after,
                oldest: state.floor,
            });
        }
        let start = state.history.partition_point(|e| e.revision() <= after);
        let replay: VecDeque<StoreEvent> = state
            .history
            .range(start..)
            .filter(|e| e.kv.key.starts_with(prefix))
            .cloned()
            .collect();
        let watch: HubWatch = state
            .hub
            .subscribe(prefix, after, replay, self.watch_capacity);
        Ok(Box::new(watch))
    }
}

/// The values of two key-sorted sequences with disjoint keys, in key order.
fn merge_sorted<'a>(
    a: impl Iterator<Item = (&'a str, &'a KeyValue)>,
    b: impl Iterator<Item = (&'a str, &'a KeyValue)>,
) -> impl Iterator<Item = &'a KeyValue> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || {
        let take_a = match (a.peek(), b.peek()) {
            (Some((ka, _)), Some((kb, _))) => ka < kb,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let next = if take_a { a.next() } else { b.next() };
        next.map(|(_, kv)| kv)
    })
}
