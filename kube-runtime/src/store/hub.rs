//! Watch fan-out: the live subscribers of an engine and the stream type handed to clients.
//!
//! The hub lives inside the engine's state lock, so registering a watcher and taking its
//! replay happen atomically with respect to writes (no gap, no duplicate). Publishing never
//! blocks: each watcher has a bounded channel, and a watcher whose channel is full is cut
//! off with [`StoreError::Gone`] (its client relists) instead of slowing writers down.

use async_trait::async_trait;
use kube_core::store::{Revision, StoreError, StoreEvent, WatchStream};
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;

/// Events a watcher may have queued before it is considered too slow and cut off.
pub(crate) const WATCH_CHANNEL_CAPACITY: usize = 10_000;

/// One live subscriber.
struct Watcher {
    prefix: String,
    /// Only events with a greater revision are delivered (a watch may start in the future).
    after: Revision,
    tx: mpsc::Sender<StoreEvent>,
    /// Set when the hub gives up on this watcher; read by the stream after the channel drains.
    failure: Arc<OnceLock<StoreError>>,
}

/// The set of live watchers of one engine.
#[derive(Default)]
pub(crate) struct Hub {
    watchers: Vec<Watcher>,
}

impl Hub {
    /// Registers a watcher on `prefix` whose stream first yields `replay`, then live events
    /// with revisions greater than `after`.
    pub(crate) fn subscribe(
        &mut self,
        prefix: &str,
        after: Revision,
        replay: VecDeque<StoreEvent>,
        capacity: usize,
    ) -> HubWatch {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let failure = Arc::new(OnceLock::new());
        self.watchers.push(Watcher {
            prefix: prefix.to_owned(),
            after,
            tx,
            failure: Arc::clone(&failure),
        });
        HubWatch {
            replay,
            rx,
            failure,
            done: false,
        }
    }

    /// Delivers `event` to every matching watcher; drops closed and overflowing watchers.
    pub(crate) fn publish(&mut self, event: &StoreEvent) {
        if self.watchers.is_empty() {
            return;
        }
        self.watchers.retain(|w| {
            if event.revision() <= w.after || !event.kv.key.starts_with(w.prefix.as_str()) {
                return !w.tx.is_closed();
            }
            match w.tx.try_send(event.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Closed(_)) => false,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let rev = event.revision();
                    tracing::warn!(
                        prefix = %w.prefix,
                        revision = rev,
                        "store watcher fell behind; terminating it with Gone"
                    );
                    let _ = w.failure.set(StoreError::Gone {
                        requested: rev.saturating_sub(1),
                        oldest: rev,
                    });
                    false
                }
            }
        });
    }
}

/// The watch stream returned by engine-backed stores: replay first, then live events.
pub(crate) struct HubWatch {
    replay: VecDeque<StoreEvent>,
    rx: mpsc::Receiver<StoreEvent>,
    failure: Arc<OnceLock<StoreError>>,
    done: bool,
}

#[async_trait]
impl WatchStream for HubWatch {
    async fn next(&mut self) -> Option<Result<StoreEvent, StoreError>> {
        if self.done {
            return None;
        }
        if let Some(event) = self.replay.pop_front() {
            return Some(Ok(event));
        }
        match self.rx.recv().await {
            Some(event) => Some(Ok(event)),
            None => {
                self.done = true;
                self.failure.get().cloned().map(Err)
            }
        }
    }
}
