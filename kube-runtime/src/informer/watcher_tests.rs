//! Watcher tests, driven by a scripted [`ApiClient`] on paused time.

use super::*;
use crate::client::watch::InProcessSource;
use crate::informer::reflector::CacheEvent;
use kube_core::error::ApiError;
use kube_core::list::List;
use kube_core::watch::WatchEvent;
use kube_core::{Binding, Pod};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// One scripted watch: its events in order, then either the end of the stream (after `lasts`)
/// or silence.
struct WatchScript {
    events: Vec<Result<WatchEvent<Pod>, ApiError>>,
    then_hang: bool,
    lasts: Duration,
}

#[derive(Default)]
struct Script {
    lists: VecDeque<Result<(Vec<Pod>, Revision), ApiError>>,
    watches: VecDeque<Result<WatchScript, ApiError>>,
    /// Every call, in order: `list` or `watch@REV`, with when it was made.
    calls: Vec<(String, Instant)>,
}

/// A client answering list and watch from a script; calls past the end of the script never answer.
#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Script>>);

impl Scripted {
    fn list_ok(&self, pods: Vec<Pod>, rev: Revision) -> &Self {
        self.lock().lists.push_back(Ok((pods, rev)));
        self
    }
    fn list_err(&self, e: ApiError) -> &Self {
        self.lock().lists.push_back(Err(e));
        self
    }
    fn watch(&self, events: Vec<Result<WatchEvent<Pod>, ApiError>>, then_hang: bool) -> &Self {
        self.lock().watches.push_back(Ok(WatchScript {
            events,
            then_hang,
            lasts: Duration::ZERO,
        }));
        self
    }
    /// A watch that delivers `events`, then is ended by the server `lasts` after opening.
    fn watch_ended_after(
        &self,
        events: Vec<Result<WatchEvent<Pod>, ApiError>>,
        lasts: Duration,
    ) -> &Self {
        self.lock().watches.push_back(Ok(WatchScript {
            events,
            then_hang: false,
            lasts,
        }));
        self
    }
    fn watch_err(&self, e: ApiError) -> &Self {
        self.lock().watches.push_back(Err(e));
        self
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn calls(&self) -> Vec<String> {
        self.lock().calls.iter().map(|(c, _)| c.clone()).collect()
    }
    /// Seconds between consecutive calls.
    fn gaps(&self) -> Vec<f64> {
        let calls = &self.lock().calls;
        calls
            .windows(2)
            .map(|w| (w[1].1 - w[0].1).as_secs_f64())
            .collect()
    }
}

fn convert<A: serde::Serialize, B: serde::de::DeserializeOwned>(a: A) -> B {
    serde_json::from_value(serde_json::to_value(a).expect("encode")).expect("decode")
}

struct Source<T> {
    events: VecDeque<Result<WatchEvent<T>, ApiError>>,
    then_hang: bool,
    ends_at: Instant,
}

impl<T: Object> InProcessSource<T> for Source<T> {
    fn next(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = Option<Result<WatchEvent<T>, ApiError>>> + Send + '_>> {
        Box::pin(async move {
            match self.events.pop_front() {
                Some(e) => Some(e),
                None if self.then_hang => std::future::pending().await,
                None => {
                    tokio::time::sleep_until(self.ends_at).await;
                    None
                }
            }
        })
    }
}

impl ApiClient for Scripted {
    async fn list<T: Object>(
        &self,
        _namespace: Option<&str>,
        _params: &ListParams,
    ) -> Result<List<T>, ApiError> {
        let next = {
            let mut s = self.lock();
            s.calls.push(("list".into(), Instant::now()));
            s.lists.pop_front()
        };
        let Some(next) = next else {
            return std::future::pending().await;
        };
        let (pods, rev) = next?;
        Ok(List {
            api_version: "v1".into(),
            kind: "PodList".into(),
            metadata: kube_core::ListMeta {
                resource_version: rev.to_string(),
                ..Default::default()
            },
            items: pods.into_iter().map(convert).collect(),
        })
    }
    async fn get<T: Object>(&self, _: &str, _: &str) -> Result<T, ApiError> {
        unimplemented!("not scripted")
    }
    async fn create<T: Object>(&self, _: &str, _: &T) -> Result<T, ApiError> {
        unimplemented!("not scripted")
    }
    async fn update<T: Object>(&self, _: &str, _: &T) -> Result<T, ApiError> {
        unimplemented!("not scripted")
    }
    async fn update_status<T: Object>(&self, _: &str, _: &T) -> Result<T, ApiError> {
        unimplemented!("not scripted")
    }
    async fn delete_with<T: Object>(
        &self,
        _: &str,
        _: &str,
        _: &kube_core::DeleteOptions,
    ) -> Result<T, ApiError> {
        unimplemented!("not scripted")
    }
    async fn watch<T: Object>(
        &self,
        _namespace: Option<&str>,
        _params: &ListParams,
        resource_version: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        let next = {
            let mut s = self.lock();
            s.calls
                .push((format!("watch@{resource_version}"), Instant::now()));
            s.watches.pop_front()
        };
        let Some(next) = next else {
            return std::future::pending().await;
        };
        let script = next?;
        let events = script
            .events
            .into_iter()
            .map(|r| {
                r.map(|e| WatchEvent {
                    type_: e.type_,
                    object: convert(e.object),
                })
            })
            .collect();
        Ok(ClientWatch::in_process(Box::new(Source {
            events,
            then_hang: script.then_hang,
            ends_at: Instant::now() + script.lasts,
        })))
    }
    async fn bind(&self, _: &str, _: &Binding) -> Result<(), ApiError> {
        unimplemented!("not scripted")
    }
}

fn pod(name: &str, rv: Revision) -> Pod {
    let mut p = Pod::default();
    p.metadata.namespace = "ns".into();
    p.metadata.name = name.into();
    p.metadata.resource_version = rv.to_string();
    p
}

fn ev(type_: WatchEventType, name: &str, rv: Revision) -> Result<WatchEvent<Pod>, ApiError> {
    Ok(WatchEvent {
        type_,
        object: pod(name, rv),
    })
}

use WatchEventType::{Added, Deleted, Modified};

fn gone() -> ApiError {
    ApiError::Gone("too old resource version".into())
}

fn broken() -> ApiError {
    ApiError::Transport("connection reset".into())
}

/// A watcher with unjittered 1 s → 8 s backoff, so delays are exact.
fn watcher(client: &Scripted) -> Watcher<Scripted, Pod> {
    Watcher::new(client.clone(), None, ListParams::default(), Clock::real()).with_backoff(
        Backoff::new(Duration::from_secs(1), Duration::from_secs(8)),
        SplitMix64::new(1),
    )
}

/// A short text per event: `list[a@1,b@2]`, `+a@3` (applied), `-b@5` (deleted).
fn show(e: &WatcherEvent<Pod>) -> String {
    let one = |p: &Pod| format!("{}@{}", p.metadata.name, p.metadata.resource_version);
    match e {
        WatcherEvent::Listed(ps) => {
            let mut v: Vec<String> = ps.iter().map(one).collect();
            v.sort();
            format!("list[{}]", v.join(","))
        }
        WatcherEvent::Applied(p) => format!("+{}", one(p)),
        WatcherEvent::Deleted(p) => format!("-{}", one(p)),
    }
}

async fn steps(w: &mut Watcher<Scripted, Pod>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(show(&w.step().await));
    }
    out
}

/// Runs `w` until it blocks for an hour of (paused) time with nothing to report.
async fn assert_quiet(w: &mut Watcher<Scripted, Pod>) {
    let r = tokio::time::timeout(Duration::from_secs(3600), w.step()).await;
    assert!(r.is_err(), "unexpected event {:?}", r.map(|e| show(&e)));
}

#[tokio::test(start_paused = true)]
async fn initial_list_then_watch_from_its_revision() {
    let c = Scripted::default();
    c.list_ok(vec![pod("a", 1), pod("b", 2)], 7).watch(
        vec![
            ev(Modified, "a", 8),
            ev(Added, "c", 9),
            ev(Deleted, "b", 10),
        ],
        true,
    );
    let mut w = watcher(&c);
    assert_eq!(
        steps(&mut w, 4).await,
        ["list[a@1,b@2]", "+a@8", "+c@9", "-b@10"]
    );
    assert_eq!(w.revision(), 10);
    assert_quiet(&mut w).await;
    assert_eq!(c.calls(), ["list", "watch@7"]);
    assert_eq!(w.watches_opened(), 1);
}

/// Drives `w` into a writer; returns the cache events after the first sync, as text.
async fn reflect_and_record(
    w: &mut Watcher<Scripted, Pod>,
    n: usize,
) -> (Writer<Pod>, Vec<String>) {
    let writer = Writer::<Pod>::new();
    apply(&writer, w.step().await);
    let mut rx = writer.cache().subscribe();
    for _ in 0..n {
        apply(&writer, w.step().await);
    }
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(match e {
            CacheEvent::Applied { old: None, new } => {
                format!(
                    "added {}@{}",
                    new.metadata.name, new.metadata.resource_version
                )
            }
            CacheEvent::Applied { old: Some(o), new } => format!(
                "modified {}@{}->{}",
                new.metadata.name, o.metadata.resource_version, new.metadata.resource_version
            ),
            CacheEvent::Deleted(o) => {
                format!(
                    "deleted {}@{}",
                    o.metadata.name, o.metadata.resource_version
                )
            }
            CacheEvent::Synced => "synced".into(),
        });
    }
    (writer, out)
}

#[tokio::test(start_paused = true)]
async fn gone_relists_and_reports_exactly_the_difference() {
    // 410 as an ERROR event of an open watch, and as the answer to opening one.
    for gone_on_open in [false, true] {
        let c = Scripted::default();
        c.list_ok(vec![pod("a", 1), pod("b", 2), pod("c", 3)], 3);
        if gone_on_open {
            c.watch(vec![ev(Modified, "a", 4)], false).watch_err(gone());
        } else {
            c.watch(vec![ev(Modified, "a", 4), Err(gone())], true);
        }
        // Meanwhile: a unchanged since 4, b modified, c deleted, d added.
        c.list_ok(vec![pod("a", 4), pod("b", 6), pod("d", 7)], 9)
            .watch(vec![ev(Modified, "d", 10)], true);
        let mut w = watcher(&c);
        let (writer, mut events) = reflect_and_record(&mut w, 3).await;
        let synced = events
            .iter()
            .position(|e| e == "synced")
            .expect("relist syncs");
        events[1..synced].sort();
        assert_eq!(
            events,
            [
                "modified a@1->4",
                "added d@7",
                "deleted c@3",
                "modified b@2->6",
                "synced",
                "modified d@7->10"
            ],
            "gone_on_open={gone_on_open}"
        );
        let mut keys = writer.cache().keys();
        keys.sort();
        assert_eq!(keys, ["ns/a", "ns/b", "ns/d"]);
        let want_calls: &[&str] = if gone_on_open {
            &["list", "watch@3", "watch@4", "list", "watch@9"]
        } else {
            &["list", "watch@3", "list", "watch@9"]
        };
        assert_eq!(c.calls(), want_calls, "gone_on_open={gone_on_open}");
    }
}

#[tokio::test(start_paused = true)]
async fn broken_or_ended_streams_resume_from_the_last_revision() {
    let c = Scripted::default();
    c.list_ok(vec![], 10)
        .watch(
            vec![ev(Added, "a", 11), ev(Added, "b", 12), Err(broken())],
            true,
        )
        // The server ends this one after a minute (its timeout) ...
        .watch_ended_after(vec![ev(Modified, "a", 13)], Duration::from_secs(60))
        // ... and this one as soon as it is opened (a server stopping, or misbehaving).
        .watch_ended_after(vec![], Duration::ZERO)
        .watch(vec![ev(Deleted, "b", 14)], true);
    let mut w = watcher(&c);
    assert_eq!(
        steps(&mut w, 5).await,
        ["list[]", "+a@11", "+b@12", "+a@13", "-b@14"],
        "every change exactly once, in order"
    );
    assert_quiet(&mut w).await;
    assert_eq!(
        c.calls(),
        ["list", "watch@10", "watch@12", "watch@13", "watch@13"]
    );
    // A broken stream waits the first backoff delay; a stream the server ended after its
    // timeout is re-opened at once; one ended at once waits a backoff step (no spinning).
    assert_eq!(c.gaps(), [0.0, 1.0, 60.0, 1.0]);
    assert_eq!(w.watches_opened(), 4);
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_to_its_cap_and_resets_after_success() {
    let c = Scripted::default();
    for _ in 0..5 {
        c.list_err(ApiError::Transport("connection refused".into()));
    }
    c.list_ok(vec![pod("a", 1)], 1)
        .watch_err(broken())
        .watch_err(ApiError::ServiceUnavailable(
            "storage is unavailable".into(),
        ))
        .watch(vec![ev(Modified, "a", 2), Err(broken())], true)
        .watch_err(broken())
        .watch(vec![], true);
    let mut w = watcher(&c);
    assert_eq!(steps(&mut w, 2).await, ["list[a@1]", "+a@2"]);
    assert_quiet(&mut w).await;
    assert_eq!(
        c.calls(),
        [
            "list", "list", "list", "list", "list", "list", "watch@1", "watch@1", "watch@1",
            "watch@2", "watch@2"
        ]
    );
    assert_eq!(
        c.gaps(),
        [1.0, 2.0, 4.0, 8.0, 8.0, 0.0, 1.0, 2.0, 1.0, 2.0],
        "doubling to the 8 s cap; reset by the list and by the event"
    );
}

#[tokio::test(start_paused = true)]
async fn the_default_policy_is_jittered_around_800ms() {
    let c = Scripted::default();
    c.list_err(broken()).list_err(broken()).list_ok(vec![], 1);
    let mut w: Watcher<Scripted, Pod> =
        Watcher::new(c.clone(), None, ListParams::default(), Clock::real());
    assert_eq!(steps(&mut w, 1).await, ["list[]"]);
    let gaps = c.gaps();
    assert!((0.4..1.2).contains(&gaps[0]), "{gaps:?}");
    assert!((0.8..2.4).contains(&gaps[1]), "{gaps:?}");
}
