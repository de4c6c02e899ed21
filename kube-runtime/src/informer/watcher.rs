//! The watcher: list, then watch from the list's revision, as an explicit state machine.
//!
//! kube-rs's `watcher` is the model. States:
//!
//! - `Empty`: nothing known; list in pages of [`LIST_PAGE_SIZE`] (remember the list's
//!   revision) → `Resume(rev)`, emitting [`WatcherEvent::Listed`] with the whole content.
//! - `Resume(rev)`: open a watch from `rev` → `Watching`.
//! - `Watching { rev, stream }`: each event is emitted and advances `rev` to the object's
//!   `resourceVersion`; the watch asks for bookmarks (`allowWatchBookmarks`), whose revision
//!   advances `rev` too without emitting anything (so a filtered watch on a busy store does
//!   not resume from far behind, or into a 410). A stream the server ended (its timeout) or that broke goes back to
//!   `Resume(rev)`: the next watch starts right after the last revision seen, so nothing is
//!   missed and nothing repeated (a watch ended within [`MIN_WATCH_DURATION`] of opening waits
//!   a backoff step first, so a server ending every watch at once cannot make it spin). A 410 Gone (on opening or as an ERROR event) goes back to
//!   `Empty`: the relist's `Listed` lets the reflector ([`Writer::replace`]) announce exactly the
//!   objects added, modified and deleted meanwhile.
//!
//! Every failed call waits a delay from [`Backoff::watch`] (jittered), reset after a success; all
//! waits run on the injected [`Clock`], so tests drive them on paused time.

use super::reflector::{object_key, Writer};
use crate::client::{ApiClient, ClientWatch, ListParams};
use crate::clock::{seeded_rng, Clock};
use kube_core::backoff::Backoff;
use kube_core::rand::SplitMix64;
use kube_core::store::Revision;
use kube_core::watch::WatchEventType;
use kube_core::Object;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Objects per page of a (re)list, as client-go's reflector asks.
pub const LIST_PAGE_SIZE: u64 = 500;

/// A watch the server ends sooner than this after opening is re-opened only after a backoff step.
pub const MIN_WATCH_DURATION: std::time::Duration = std::time::Duration::from_secs(1);

/// What the watcher saw in one step.
#[derive(Clone, Debug, PartialEq)]
pub enum WatcherEvent<T> {
    /// A complete list (the initial one, or a relist after 410): the whole current content.
    Listed(Vec<T>),
    /// An object was added or modified.
    Applied(T),
    /// An object was deleted (its last state).
    Deleted(T),
}

/// The watcher's state.
enum State<T> {
    /// Nothing is known: list next.
    Empty,
    /// Watch from this revision next.
    Resume(Revision),
    /// A watch is open; `rev` is the last revision seen.
    Watching {
        rev: Revision,
        stream: ClientWatch<T>,
        /// When the watch was opened (a watch the server ends at once is retried with backoff).
        opened: tokio::time::Instant,
    },
}

/// Lists and watches one resource (in one namespace or all, with selectors), forever.
pub struct Watcher<C, T> {
    client: C,
    namespace: Option<String>,
    params: ListParams,
    clock: Clock,
    backoff: Backoff,
    rng: SplitMix64,
    state: State<T>,
    watches_opened: Arc<AtomicU64>,
}

impl<C: ApiClient, T: Object> Watcher<C, T> {
    /// A watcher of `T` in `namespace` (every namespace when `None`) matching `params`.
    pub fn new(
        client: C,
        namespace: Option<String>,
        params: ListParams,
        clock: Clock,
    ) -> Watcher<C, T> {
        Watcher {
            client,
            namespace,
            params,
            clock,
            backoff: Backoff::watch(),
            rng: seeded_rng(),
            state: State::Empty,
            watches_opened: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The same watcher with another retry policy and random source (tests pin both).
    pub fn with_backoff(mut self, backoff: Backoff, rng: SplitMix64) -> Watcher<C, T> {
        self.backoff = backoff;
        self.rng = rng;
        self
    }

    /// The same watcher counting every watch it opens into `counter`.
    pub fn with_watch_counter(mut self, counter: Arc<AtomicU64>) -> Watcher<C, T> {
        self.watches_opened = counter;
        self
    }

    /// How many watches this watcher (or its shared counter) has opened.
    pub fn watches_opened(&self) -> u64 {
        self.watches_opened.load(Ordering::Relaxed)
    }

    /// The last revision seen (0 before the first list).
    pub fn revision(&self) -> Revision {
        match &self.state {
            State::Empty => 0,
            State::Resume(rev) => *rev,
            State::Watching { rev, stream, .. } => (*rev).max(stream.bookmark().unwrap_or(0)),
        }
    }

    /// Waits for the next event, retrying failures with backoff for as long as it takes.
    pub async fn step(&mut self) -> WatcherEvent<T> {
        loop {
            match std::mem::replace(&mut self.state, State::Empty) {
                State::Empty => {
                    match self
                        .client
                        .list_paged::<T>(self.namespace.as_deref(), &self.params, LIST_PAGE_SIZE)
                        .await
                    {
                        Ok(list) => {
                            let rev = list.metadata.resource_version.parse().unwrap_or(0);
                            self.backoff.reset();
                            self.state = State::Resume(rev);
                            return WatcherEvent::Listed(list.items);
                        }
                        Err(e) => {
                            tracing::warn!("list {} failed: {e}", T::RESOURCE.info().plural);
                            self.wait().await;
                        }
                    }
                }
                State::Resume(rev) => {
                    match self
                        .client
                        .watch::<T>(self.namespace.as_deref(), &self.params, rev)
                        .await
                    {
                        Ok(stream) => {
                            self.watches_opened.fetch_add(1, Ordering::Relaxed);
                            self.state = State::Watching {
                                rev,
                                stream,
                                opened: self.clock.instant(),
                            };
                        }
                        Err(e) if e.is_gone() => {
                            tracing::debug!("watch {} from {rev}: {e}; relisting", plural::<T>());
                        }
                        Err(e) => {
                            tracing::warn!("watch {} failed: {e}", plural::<T>());
                            self.state = State::Resume(rev);
                            self.wait().await;
                        }
                    }
                }
                State::Watching {
                    mut rev,
                    mut stream,
                    opened,
                } => {
                    let next = stream.next().await;
                    // Bookmarks received so far move the resume point, however the call ended.
                    rev = rev.max(stream.bookmark().unwrap_or(0));
                    match next {
                        Some(Ok(ev)) => {
                            if let Ok(r) = ev.object.meta().resource_version.parse::<Revision>() {
                                rev = rev.max(r);
                            }
                            self.backoff.reset();
                            self.state = State::Watching {
                                rev,
                                stream,
                                opened,
                            };
                            return match ev.type_ {
                                WatchEventType::Deleted => WatcherEvent::Deleted(ev.object),
                                WatchEventType::Added | WatchEventType::Modified => {
                                    WatcherEvent::Applied(ev.object)
                                }
                            };
                        }
                        Some(Err(e)) if e.is_gone() => {
                            tracing::debug!("watch {} at {rev}: {e}; relisting", plural::<T>());
                        }
                        Some(Err(e)) => {
                            tracing::warn!("watch {} broke at {rev}: {e}", plural::<T>());
                            self.state = State::Resume(rev);
                            self.wait().await;
                        }
                        // The server ended the watch (its timeout): resume at once; but a watch
                        // ended almost as soon as it opened (a server stopping, or misbehaving)
                        // waits a backoff step, so the watcher never spins on re-opening.
                        None => {
                            self.state = State::Resume(rev);
                            if self.clock.instant().duration_since(opened) < MIN_WATCH_DURATION {
                                self.wait().await;
                            }
                        }
                    }
                }
            }
        }
    }

    async fn wait(&mut self) {
        let d = self.backoff.next_delay(&mut self.rng);
        self.clock.sleep(d).await;
    }

    /// Runs forever, keeping `writer`'s cache equal to the watched objects (abort the task to stop).
    pub async fn reflect(mut self, writer: Writer<T>) {
        loop {
            apply(&writer, self.step().await);
        }
    }
}

/// Applies one watcher event to a cache.
pub fn apply<T: Object>(writer: &Writer<T>, event: WatcherEvent<T>) {
    match event {
        WatcherEvent::Listed(objs) => writer.replace(objs),
        WatcherEvent::Applied(o) => {
            writer.apply(o);
        }
        WatcherEvent::Deleted(o) => {
            writer.delete(&object_key(&o));
        }
    }
}

fn plural<T: Object>() -> &'static str {
    T::RESOURCE.info().plural
}

#[cfg(test)]
#[path = "watcher_tests.rs"]
mod tests;
