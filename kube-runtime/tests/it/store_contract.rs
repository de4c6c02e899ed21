//! The `Store` contract suite, written once and run against every implementation.
//!
//! Add an implementation with one more `store_contract!(name, async { Fixture::... })`
//! invocation at the bottom. Tests only assume relative revisions (they start from the
//! store's current revision), so a backend that does not start at 0 passes too.

use kube_core::store::{
    BoxWatchStream, KeyValue, Revision, Store, StoreError, StoreEvent, StoreEventKind,
};
use kube_runtime::store::{EmbeddedStore, MemoryStore, SharedStore};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A store under test plus whatever must outlive it (a temp dir, a server process...).
pub struct Fixture {
    /// The store (dropped before the guard).
    pub store: SharedStore,
    _guard: Box<dyn std::any::Any + Send>,
}

impl Fixture {
    /// A fixture owning nothing but the store.
    pub fn new(store: impl Store) -> Self {
        Self::with_guard(store, ())
    }

    /// A fixture keeping `guard` alive until after the store is dropped.
    pub fn with_guard(store: impl Store, guard: impl std::any::Any + Send) -> Self {
        Self {
            store: Arc::new(store),
            _guard: Box::new(guard),
        }
    }
}

/// Generates one multi-threaded tokio test per contract case for the store built by `$factory`.
macro_rules! store_contract {
    ($name:ident, $factory:expr) => {
        store_contract!(@cases $name, $factory;
            create_then_get,
            create_existing_is_already_exists,
            revisions_strictly_increase,
            cas_update,
            cas_update_conflict,
            delete_semantics,
            list_by_prefix,
            concurrent_cas_counter,
            concurrent_create_same_key,
            watch_replay_exact_sequence,
            watch_replay_then_live_is_gap_free,
            watch_resume_from_revision,
            watch_filters_prefix_and_delete_carries_prev,
            watch_after_future_revision_waits,
            compaction_answers_gone,
            large_values_round_trip,
            paging_limit_boundaries,
            paging_ranges_stay_within_the_prefix,
            paging_reads_a_past_revision_despite_writes,
            paging_at_a_compacted_revision_is_gone,
            paging_concurrent_writers_never_tear_a_page_walk,
        );
    };
    (@cases $name:ident, $factory:expr; $($case:ident),* $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fixture: super::Fixture = $factory.await;
                    super::cases::$case(fixture.store.clone()).await;
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use store_contract;

store_contract!(memory, async { Fixture::new(MemoryStore::new()) });
// The fault-injecting wrapper with nothing injected must be indistinguishable from its store.
store_contract!(faulty_passthrough, async {
    Fixture::new(kube_runtime::testing::FaultyStore::new(Arc::new(
        MemoryStore::new(),
    )))
});
store_contract!(embedded, async {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(dir.path())
        .await
        .expect("open embedded store");
    Fixture::with_guard(store, dir)
});
// One etcd process per case: cases compare the store's current revision with revisions they
// wrote themselves, and one compacts the whole etcd. Keys are stored under `/contract`.
#[cfg(feature = "etcd")]
store_contract!(etcd, async {
    let etcd = crate::etcd::EtcdCluster::single().await;
    let store = etcd.raw_store("/contract").await;
    Fixture::with_guard(store, etcd)
});

/// How long a test waits for an expected event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits to be confident no further event comes.
const QUIET: Duration = Duration::from_millis(150);

/// The next event of `w`, failing the test on error, end or timeout.
async fn next_event(w: &mut BoxWatchStream) -> StoreEvent {
    match tokio::time::timeout(EVENT_TIMEOUT, w.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(e))) => panic!("watch failed: {e}"),
        Ok(None) => panic!("watch ended"),
        Err(_) => panic!("no event within {EVENT_TIMEOUT:?}"),
    }
}

/// Asserts that `w` yields nothing for a short while.
async fn assert_quiet(w: &mut BoxWatchStream) {
    if let Ok(got) = tokio::time::timeout(QUIET, w.next()).await {
        panic!("unexpected watch item: {got:?}");
    }
}

/// The comparable essence of an event.
type Ev = (StoreEventKind, String, Revision, Vec<u8>);

fn ev(event: &StoreEvent) -> Ev {
    (
        event.kind,
        event.kv.key.clone(),
        event.revision(),
        event.kv.value.to_vec(),
    )
}

fn ev_of(kind: StoreEventKind, kv: &KeyValue) -> Ev {
    (kind, kv.key.clone(), kv.mod_revision, kv.value.to_vec())
}

/// Reads `n` events from `w`.
async fn take(w: &mut BoxWatchStream, n: usize) -> Vec<Ev> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(ev(&next_event(w).await));
    }
    out
}

/// Applies a deterministic mix of `n` creates, updates and deletes over five keys under
/// `prefix` (plus noise outside it), returning the expected events under `prefix`.
async fn churn(s: &SharedStore, prefix: &str, n: usize) -> Vec<Ev> {
    let mut live: HashMap<String, KeyValue> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let key = format!("{prefix}k{}", i % 5);
        let value = format!("v{i}").into_bytes();
        let (kind, kv) = match live.get(&key) {
            None => (
                StoreEventKind::Created,
                s.create(&key, value).await.unwrap(),
            ),
            Some(cur) if i % 7 == 0 => {
                let kv = s.delete(&key, Some(cur.mod_revision)).await.unwrap();
                (StoreEventKind::Deleted, kv)
            }
            Some(cur) => {
                let kv = s.update(&key, value, cur.mod_revision).await.unwrap();
                (StoreEventKind::Updated, kv)
            }
        };
        match kind {
            StoreEventKind::Deleted => live.remove(&key),
            _ => live.insert(key, kv.clone()),
        };
        out.push(ev_of(kind, &kv));
        if i % 4 == 0 {
            let noise = format!("{}noise/{i}", prefix.trim_end_matches('/'));
            s.create(&noise, b"x".to_vec()).await.unwrap();
        }
    }
    out
}

/// The contract cases, each taking a fresh store.
pub mod cases {
    pub use super::paging::*;
    use super::*;

    pub async fn create_then_get(s: SharedStore) {
        let base = s.current_revision().await.unwrap();
        assert_eq!(s.get("/t/a").await.unwrap(), None);
        let kv = s.create("/t/a", b"one".to_vec()).await.unwrap();
        assert_eq!(kv.key, "/t/a");
        assert_eq!(&*kv.value, b"one");
        assert!(kv.mod_revision > base);
        assert_eq!(kv.create_revision, kv.mod_revision);
        assert_eq!(s.current_revision().await.unwrap(), kv.mod_revision);
        assert_eq!(s.get("/t/a").await.unwrap(), Some(kv));
    }

    pub async fn create_existing_is_already_exists(s: SharedStore) {
        let kv = s.create("/t/a", b"one".to_vec()).await.unwrap();
        let err = s.create("/t/a", b"two".to_vec()).await.unwrap_err();
        assert_eq!(err, StoreError::AlreadyExists { key: "/t/a".into() });
        assert_eq!(s.get("/t/a").await.unwrap(), Some(kv.clone()));
        assert_eq!(s.current_revision().await.unwrap(), kv.mod_revision);
    }

    pub async fn revisions_strictly_increase(s: SharedStore) {
        let mut last = s.current_revision().await.unwrap();
        for i in 0..10 {
            let kv = s.create(&format!("/t/k{i}"), vec![i]).await.unwrap();
            assert!(kv.mod_revision > last, "{} !> {last}", kv.mod_revision);
            last = kv.mod_revision;
        }
        let created = s.create("/t/x", b"0".to_vec()).await.unwrap();
        let u1 = s
            .update("/t/x", b"1".to_vec(), created.mod_revision)
            .await
            .unwrap();
        let u2 = s
            .update("/t/x", b"2".to_vec(), u1.mod_revision)
            .await
            .unwrap();
        assert!(created.mod_revision > last);
        assert!(u1.mod_revision > created.mod_revision && u2.mod_revision > u1.mod_revision);
        assert_eq!(u1.create_revision, created.create_revision);
        assert_eq!(u2.create_revision, created.create_revision);
        assert_eq!(s.get("/t/x").await.unwrap(), Some(u2.clone()));
        assert_eq!(s.current_revision().await.unwrap(), u2.mod_revision);
    }

    pub async fn cas_update(s: SharedStore) {
        let kv = s.create("/t/a", b"v1".to_vec()).await.unwrap();
        let up = s
            .update("/t/a", b"v2".to_vec(), kv.mod_revision)
            .await
            .unwrap();
        assert_eq!(&*up.value, b"v2");
        assert!(up.mod_revision > kv.mod_revision);
        assert_eq!(up.create_revision, kv.create_revision);
        assert_eq!(s.get("/t/a").await.unwrap(), Some(up.clone()));
        let err = s
            .update("/t/missing", b"x".to_vec(), up.mod_revision)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            StoreError::NotFound {
                key: "/t/missing".into()
            }
        );
        assert_eq!(s.get("/t/missing").await.unwrap(), None);
        assert_eq!(s.current_revision().await.unwrap(), up.mod_revision);
    }

    pub async fn cas_update_conflict(s: SharedStore) {
        let kv = s.create("/t/a", b"v1".to_vec()).await.unwrap();
        let up = s
            .update("/t/a", b"v2".to_vec(), kv.mod_revision)
            .await
            .unwrap();
        let err = s
            .update("/t/a", b"v3".to_vec(), kv.mod_revision)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                key: "/t/a".into(),
                expected: kv.mod_revision,
                actual: up.mod_revision
            }
        );
        assert_eq!(s.get("/t/a").await.unwrap(), Some(up.clone()));
        assert_eq!(s.current_revision().await.unwrap(), up.mod_revision);
    }

    pub async fn delete_semantics(s: SharedStore) {
        let a = s.create("/t/a", b"va".to_vec()).await.unwrap();
        let b = s.create("/t/b", b"vb".to_vec()).await.unwrap();
        let c = s.create("/t/c", b"vc".to_vec()).await.unwrap();
        // Unconditional delete returns the last value at the delete's revision.
        let d = s.delete("/t/a", None).await.unwrap();
        assert_eq!(d.key, "/t/a");
        assert_eq!(&*d.value, b"va");
        assert_eq!(d.create_revision, a.create_revision);
        assert!(d.mod_revision > c.mod_revision);
        assert_eq!(s.current_revision().await.unwrap(), d.mod_revision);
        assert_eq!(s.get("/t/a").await.unwrap(), None);
        let keys: Vec<String> = s
            .list("/t/")
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|kv| kv.key)
            .collect();
        assert_eq!(keys, ["/t/b", "/t/c"]);
        // Deleting a missing key.
        let err = s.delete("/t/a", None).await.unwrap_err();
        assert_eq!(err, StoreError::NotFound { key: "/t/a".into() });
        let err = s.delete("/t/a", Some(a.mod_revision)).await.unwrap_err();
        assert_eq!(err, StoreError::NotFound { key: "/t/a".into() });
        // Stale expected revision.
        let c2 = s
            .update("/t/c", b"vc2".to_vec(), c.mod_revision)
            .await
            .unwrap();
        let err = s.delete("/t/c", Some(c.mod_revision)).await.unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                key: "/t/c".into(),
                expected: c.mod_revision,
                actual: c2.mod_revision
            }
        );
        assert_eq!(s.get("/t/c").await.unwrap(), Some(c2.clone()));
        assert_eq!(s.current_revision().await.unwrap(), c2.mod_revision);
        // Conditional delete with the right revision.
        let db = s.delete("/t/b", Some(b.mod_revision)).await.unwrap();
        assert_eq!(&*db.value, b"vb");
        assert!(db.mod_revision > c2.mod_revision);
        let list = s.list("/t/").await.unwrap();
        assert_eq!(list.items, vec![c2]);
        assert_eq!(list.revision, db.mod_revision);
    }

    pub async fn list_by_prefix(s: SharedStore) {
        for key in ["/a/c", "/a/a", "/ab", "/a/b", "/b/x", "/a/b/deep"] {
            s.create(key, key.as_bytes().to_vec()).await.unwrap();
        }
        let cur = s.current_revision().await.unwrap();
        let list = s.list("/a/").await.unwrap();
        let keys: Vec<&str> = list.items.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["/a/a", "/a/b", "/a/b/deep", "/a/c"]);
        assert!(list.items.iter().all(|kv| &*kv.value == kv.key.as_bytes()));
        assert_eq!(list.revision, cur);
        let keys: Vec<String> = s
            .list("/ab")
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|kv| kv.key)
            .collect();
        assert_eq!(keys, ["/ab"]);
        let empty = s.list("/zzz/").await.unwrap();
        assert!(empty.items.is_empty());
        assert_eq!(empty.revision, cur);
        // A write anywhere advances the revision lists report.
        let d = s.delete("/b/x", None).await.unwrap();
        let list = s.list("/a/").await.unwrap();
        assert_eq!(list.items.len(), 4);
        assert_eq!(list.revision, d.mod_revision);
    }

    pub async fn concurrent_cas_counter(s: SharedStore) {
        const TASKS: usize = 32;
        const INCREMENTS: usize = 20;
        s.create("/t/counter", b"0".to_vec()).await.unwrap();
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                let mut successes = 0usize;
                for _ in 0..INCREMENTS {
                    loop {
                        let kv = s.get("/t/counter").await.unwrap().expect("counter exists");
                        let n: u64 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                        match s
                            .update(
                                "/t/counter",
                                (n + 1).to_string().into_bytes(),
                                kv.mod_revision,
                            )
                            .await
                        {
                            Ok(_) => {
                                successes += 1;
                                break;
                            }
                            Err(StoreError::Conflict { .. }) => continue,
                            Err(e) => panic!("unexpected error: {e}"),
                        }
                    }
                }
                successes
            }));
        }
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        assert_eq!(total, TASKS * INCREMENTS);
        let kv = s.get("/t/counter").await.unwrap().unwrap();
        assert_eq!(&*kv.value, (TASKS * INCREMENTS).to_string().as_bytes());
    }

    pub async fn concurrent_create_same_key(s: SharedStore) {
        let mut handles = Vec::new();
        for i in 0..16u8 {
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                (i, s.create("/t/once", vec![i]).await)
            }));
        }
        let mut winners = Vec::new();
        for h in handles {
            match h.await.unwrap() {
                (i, Ok(kv)) => winners.push((i, kv)),
                (_, Err(StoreError::AlreadyExists { key })) => assert_eq!(key, "/t/once"),
                (_, Err(e)) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one create wins");
        let (i, kv) = &winners[0];
        assert_eq!(s.get("/t/once").await.unwrap().as_ref(), Some(kv));
        assert_eq!(&*kv.value, &[*i]);
    }

    pub async fn watch_replay_exact_sequence(s: SharedStore) {
        let base = s.current_revision().await.unwrap();
        let expected = churn(&s, "/w/", 50).await;
        assert!(expected.windows(2).all(|p| p[0].2 < p[1].2));
        for kind in [
            StoreEventKind::Created,
            StoreEventKind::Updated,
            StoreEventKind::Deleted,
        ] {
            assert!(
                expected.iter().any(|e| e.0 == kind),
                "script covers {kind:?}"
            );
        }
        let mut w = s.watch("/w/", base).await.unwrap();
        assert_eq!(take(&mut w, 50).await, expected);
        assert_quiet(&mut w).await;
        // From a middle revision: exactly the events after it.
        let mid = expected[24].2;
        let mut w = s.watch("/w/", mid).await.unwrap();
        assert_eq!(take(&mut w, 25).await, expected[25..]);
        assert_quiet(&mut w).await;
    }

    pub async fn watch_replay_then_live_is_gap_free(s: SharedStore) {
        let base = s.current_revision().await.unwrap();
        let before = churn(&s, "/w/", 10).await;
        let mut w = s.watch("/w/", base).await.unwrap();
        assert_eq!(take(&mut w, 10).await, before);
        // Four concurrent writers (so group-committing stores batch them) race with a
        // second watch's registration: the seam between replay and live must be exact.
        let live_base = s.current_revision().await.unwrap();
        let writers: Vec<_> = (0..4u32)
            .map(|t| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut revs = Vec::new();
                    for i in 0..50u32 {
                        let key = format!("/w/live/{t}/{i:02}");
                        revs.push(
                            s.create(&key, i.to_be_bytes().to_vec())
                                .await
                                .unwrap()
                                .mod_revision,
                        );
                    }
                    revs
                })
            })
            .collect();
        while s.current_revision().await.unwrap() < live_base + 80 {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let at = s.current_revision().await.unwrap();
        let mut w2 = s.watch("/w/live/", at).await.unwrap();
        let mut revs = Vec::new();
        for h in writers {
            revs.extend(h.await.unwrap());
        }
        revs.sort_unstable();
        // The first watch sees all 200 live creates in order.
        let live: Vec<Revision> = take(&mut w, 200).await.into_iter().map(|e| e.2).collect();
        assert_eq!(live, revs);
        // The second sees exactly those after `at`.
        let want: Vec<Revision> = revs.iter().copied().filter(|r| *r > at).collect();
        let got: Vec<Revision> = take(&mut w2, want.len())
            .await
            .into_iter()
            .map(|e| e.2)
            .collect();
        assert_eq!(got, want);
        assert_quiet(&mut w).await;
        assert_quiet(&mut w2).await;
    }

    pub async fn watch_resume_from_revision(s: SharedStore) {
        let base = s.current_revision().await.unwrap();
        let expected = churn(&s, "/w/", 20).await;
        let mut w = s.watch("/w/", base).await.unwrap();
        let first = take(&mut w, 8).await;
        assert_eq!(first, expected[..8]);
        drop(w);
        let mut w = s.watch("/w/", first[7].2).await.unwrap();
        assert_eq!(take(&mut w, 12).await, expected[8..]);
        assert_quiet(&mut w).await;
    }

    pub async fn watch_filters_prefix_and_delete_carries_prev(s: SharedStore) {
        let base = s.current_revision().await.unwrap();
        let mut w = s.watch("/p/", base).await.unwrap();
        let created = s.create("/p/a", b"1".to_vec()).await.unwrap();
        s.create("/q/a", b"other".to_vec()).await.unwrap();
        s.create("/pa", b"sibling".to_vec()).await.unwrap();
        let updated = s
            .update("/p/a", b"2".to_vec(), created.mod_revision)
            .await
            .unwrap();
        s.create("/p", b"parent".to_vec()).await.unwrap();
        let deleted = s.delete("/p/a", None).await.unwrap();

        let e1 = next_event(&mut w).await;
        assert_eq!(e1.kind, StoreEventKind::Created);
        assert_eq!(e1.kv, created);
        assert_eq!(e1.prev, None);
        let e2 = next_event(&mut w).await;
        assert_eq!(e2.kind, StoreEventKind::Updated);
        assert_eq!(e2.kv, updated);
        assert_eq!(e2.prev.as_ref(), Some(&created));
        let e3 = next_event(&mut w).await;
        assert_eq!(e3.kind, StoreEventKind::Deleted);
        assert_eq!(e3.kv, deleted);
        assert_eq!(&*e3.kv.value, b"2");
        assert_eq!(e3.kv.create_revision, created.create_revision);
        assert_eq!(e3.revision(), deleted.mod_revision);
        assert_eq!(e3.prev.as_ref(), Some(&updated));
        assert_quiet(&mut w).await;
    }

    pub async fn watch_after_future_revision_waits(s: SharedStore) {
        let cur = s.current_revision().await.unwrap();
        let mut w = s.watch("/f/", cur + 2).await.unwrap();
        assert_quiet(&mut w).await;
        let mut written = Vec::new();
        for i in 0..4u8 {
            written.push(s.create(&format!("/f/{i}"), vec![i]).await.unwrap());
        }
        let want: Vec<Ev> = written
            .iter()
            .filter(|kv| kv.mod_revision > cur + 2)
            .map(|kv| ev_of(StoreEventKind::Created, kv))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(take(&mut w, want.len()).await, want);
        assert_quiet(&mut w).await;
    }

    pub async fn compaction_answers_gone(s: SharedStore) {
        let base = s.current_revision().await.unwrap();
        let mut revs = Vec::new();
        for i in 0..10u8 {
            revs.push(
                s.create(&format!("/c/{i}"), vec![i])
                    .await
                    .unwrap()
                    .mod_revision,
            );
        }
        let r = revs[4];
        s.compact(r).await.unwrap();
        for after in [base, r - 1] {
            match s.watch("/c/", after).await {
                Err(StoreError::Gone { requested, oldest }) => {
                    assert_eq!(requested, after);
                    assert_eq!(oldest, r);
                }
                Err(e) => panic!("expected Gone, got {e}"),
                Ok(_) => panic!("expected Gone for watch after {after}, compacted at {r}"),
            }
        }
        let mut w = s.watch("/c/", r).await.unwrap();
        let got: Vec<Revision> = take(&mut w, 5).await.into_iter().map(|e| e.2).collect();
        assert_eq!(got, revs[5..]);
        assert_quiet(&mut w).await;
        // Watching from the head still works and follows live writes.
        let mut live = s.watch("/c/", revs[9]).await.unwrap();
        let kv = s.create("/c/new", b"n".to_vec()).await.unwrap();
        assert_eq!(
            ev(&next_event(&mut live).await),
            ev_of(StoreEventKind::Created, &kv)
        );
        assert_eq!(
            ev(&next_event(&mut w).await),
            ev_of(StoreEventKind::Created, &kv)
        );
    }

    pub async fn large_values_round_trip(s: SharedStore) {
        let pattern = |len: usize, seed: u8| -> Vec<u8> {
            // A prime-length block repeated: every offset is checked, yet building is cheap.
            let block: Vec<u8> = (0..251u32)
                .map(|i| (i as u8).wrapping_mul(31) ^ seed)
                .collect();
            let mut out = Vec::with_capacity(len + block.len());
            while out.len() < len {
                out.extend_from_slice(&block);
            }
            out.truncate(len);
            out
        };
        let two = pattern(2 << 20, 7);
        let eight = pattern(8 << 20, 13);
        let base = s.current_revision().await.unwrap();
        let mut w = s.watch("/big/", base).await.unwrap();
        let a = s.create("/big/a", two.clone()).await.unwrap();
        let b = s.create("/big/b", eight.clone()).await.unwrap();
        assert_eq!(&*s.get("/big/a").await.unwrap().unwrap().value, &two[..]);
        assert_eq!(&*s.get("/big/b").await.unwrap().unwrap().value, &eight[..]);
        let list = s.list("/big/").await.unwrap();
        assert_eq!(list.items.len(), 2);
        assert_eq!(&*list.items[0].value, &two[..]);
        assert_eq!(&*list.items[1].value, &eight[..]);
        let small = s
            .update("/big/a", b"small".to_vec(), a.mod_revision)
            .await
            .unwrap();
        let e = next_event(&mut w).await;
        assert_eq!(&*e.kv.value, &two[..]);
        let e = next_event(&mut w).await;
        assert_eq!(
            (e.kv.mod_revision, &*e.kv.value),
            (b.mod_revision, &eight[..])
        );
        let e = next_event(&mut w).await;
        assert_eq!(e.kv, small);
        assert_eq!(&*e.prev.unwrap().value, &two[..]);
    }
}

mod embedded_only;
mod memory_only;
mod paging;
