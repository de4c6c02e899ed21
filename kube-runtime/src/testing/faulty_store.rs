//! [`FaultyStore`]: wraps any [`Store`] and injects faults per operation — `Unavailable`,
//! `Conflict`, slow calls — once, N times or always, optionally only under a key prefix.
//! With no fault injected it passes every call straight through (it passes the store contract).

use crate::clock::Clock;
use crate::store::SharedStore;
use async_trait::async_trait;
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, Store, StoreError,
};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A store operation faults can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreOp {
    /// `get`
    Get,
    /// `list`
    List,
    /// `create`
    Create,
    /// `update`
    Update,
    /// `delete`
    Delete,
    /// `watch` (opening it; events of an open watch pass through)
    Watch,
    /// `current_revision`
    CurrentRevision,
    /// `compact`
    Compact,
}

impl StoreOp {
    /// The operations that write.
    pub const WRITES: [StoreOp; 3] = [StoreOp::Create, StoreOp::Update, StoreOp::Delete];
    /// Every operation.
    pub const ALL: [StoreOp; 8] = [
        StoreOp::Get,
        StoreOp::List,
        StoreOp::Create,
        StoreOp::Update,
        StoreOp::Delete,
        StoreOp::Watch,
        StoreOp::CurrentRevision,
        StoreOp::Compact,
    ];
}

/// What happens to a matching call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fails with [`StoreError::Unavailable`] without reaching the store.
    Unavailable,
    /// Fails as a lost compare-and-swap without reaching the store: [`StoreError::Conflict`]
    /// (`AlreadyExists` for `create`).
    Conflict,
    /// Waits this long on the clock (tokio time: virtual when paused), then runs the call.
    Delay(Duration),
}

/// How many times a fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// The next matching call only.
    Once,
    /// The next `n` matching calls.
    N(u32),
    /// Every matching call until cleared.
    Always,
}

#[derive(Clone, Debug)]
struct Rule {
    ops: Vec<StoreOp>,
    prefix: String,
    fault: Fault,
    left: Option<u32>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    fired: u64,
    calls: Vec<(StoreOp, String)>,
}

/// A [`Store`] wrapper that injects faults; cheap to clone (clones share the rules).
#[derive(Clone)]
pub struct FaultyStore {
    inner: SharedStore,
    clock: Clock,
    state: Arc<Mutex<State>>,
}

impl FaultyStore {
    /// Wraps `inner`; delays run on the real clock's (tokio) timers.
    pub fn new(inner: SharedStore) -> FaultyStore {
        FaultyStore::with_clock(inner, Clock::real())
    }

    /// Wraps `inner`; delays run on `clock`.
    pub fn with_clock(inner: SharedStore, clock: Clock) -> FaultyStore {
        FaultyStore {
            inner,
            clock,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &SharedStore {
        &self.inner
    }

    /// Injects `fault` into calls of `op`, `times` times.
    pub fn inject(&self, op: StoreOp, fault: Fault, times: Times) {
        self.inject_under(&[op], "", fault, times);
    }

    /// Injects `fault` into calls of any of `ops` on keys (or prefixes) starting with `prefix`.
    /// Rules are tried in the order injected; the first one that matches fires.
    pub fn inject_under(&self, ops: &[StoreOp], prefix: &str, fault: Fault, times: Times) {
        let left = match times {
            Times::Once => Some(1),
            Times::N(n) => Some(n),
            Times::Always => None,
        };
        self.lock().rules.push(Rule {
            ops: ops.to_vec(),
            prefix: prefix.to_string(),
            fault,
            left,
        });
    }

    /// Removes every injected fault: calls pass through again.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many faults have fired so far.
    pub fn faults_fired(&self) -> u64 {
        self.lock().fired
    }

    /// Every call made so far, in order: the operation and its key or prefix.
    pub fn calls(&self) -> Vec<(StoreOp, String)> {
        self.lock().calls.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the rules half-updated.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the call and consumes the first matching rule, if any.
    fn take_fault(&self, op: StoreOp, key: &str) -> Option<Fault> {
        let mut st = self.lock();
        st.calls.push((op, key.to_string()));
        let at = st
            .rules
            .iter()
            .position(|r| r.ops.contains(&op) && key.starts_with(&r.prefix))?;
        let rule = &mut st.rules[at];
        let fault = rule.fault;
        if let Some(left) = rule.left.as_mut() {
            *left -= 1;
            if *left == 0 {
                st.rules.remove(at);
            }
        }
        st.fired += 1;
        Some(fault)
    }

    /// Applies the fault for `op` on `key`: an error to return, or `Ok` (after any delay).
    async fn gate(&self, op: StoreOp, key: &str, expected: Revision) -> Result<(), StoreError> {
        match self.take_fault(op, key) {
            None => Ok(()),
            Some(Fault::Delay(d)) => {
                self.clock.sleep(d).await;
                Ok(())
            }
            Some(Fault::Unavailable) => Err(StoreError::Unavailable(format!(
                "injected fault: {op:?} {key:?}"
            ))),
            Some(Fault::Conflict) if op == StoreOp::Create => Err(StoreError::AlreadyExists {
                key: key.to_string(),
            }),
            Some(Fault::Conflict) => Err(StoreError::Conflict {
                key: key.to_string(),
                expected,
                actual: expected.saturating_add(1),
            }),
        }
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.gate(StoreOp::Get, key, 0).await?;
        self.inner.get(key).await
    }

    async fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError> {
        self.gate(StoreOp::List, prefix, 0).await?;
        self.inner.list_page(prefix, request).await
    }

    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue, StoreError> {
        self.gate(StoreOp::Create, key, 0).await?;
        self.inner.create(key, value).await
    }

    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        self.gate(StoreOp::Update, key, expected).await?;
        self.inner.update(key, value, expected).await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        self.gate(StoreOp::Delete, key, expected.unwrap_or(0))
            .await?;
        self.inner.delete(key, expected).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxWatchStream, StoreError> {
        self.gate(StoreOp::Watch, prefix, after).await?;
        self.inner.watch(prefix, after).await
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        self.gate(StoreOp::CurrentRevision, "", 0).await?;
        self.inner.current_revision().await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.gate(StoreOp::Compact, "", revision).await?;
        self.inner.compact(revision).await
    }
}
