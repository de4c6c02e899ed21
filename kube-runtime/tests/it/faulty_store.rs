//! The fault-injecting store: each fault, each count, prefixes, and what the API makes of them.

use kube_core::store::{Store, StoreError};
use kube_runtime::client::ApiClient;
use kube_runtime::store::MemoryStore;
use kube_runtime::testing::faulty_store::Times;
use kube_runtime::testing::{Fault, FaultyStore, StoreOp, TestCluster};
use std::sync::Arc;
use std::time::Duration;

fn faulty() -> FaultyStore {
    FaultyStore::new(Arc::new(MemoryStore::new()))
}

fn unavailable(r: &Result<impl std::fmt::Debug, StoreError>) -> bool {
    matches!(r, Err(StoreError::Unavailable(_)))
}

#[tokio::test]
async fn unavailable_fires_the_given_number_of_times() {
    // (times, calls that fail before the first success)
    let cases = [(Times::Once, 1), (Times::N(3), 3)];
    for (times, failing) in cases {
        let s = faulty();
        s.inject(StoreOp::Create, Fault::Unavailable, times);
        for i in 0..failing {
            let r = s.create(&format!("/k/{i}"), b"v".to_vec()).await;
            assert!(unavailable(&r), "{times:?} call {i}: {r:?}");
        }
        let ok = s.create("/k/ok", b"v".to_vec()).await;
        assert!(ok.is_ok(), "{times:?}: {ok:?}");
        assert_eq!(s.faults_fired(), failing);
        // Failed creates never reached the store.
        let keys = s.list("/k/").await.expect("list").items;
        assert_eq!(keys.len(), 1, "{times:?}");
    }
}

#[tokio::test]
async fn always_fails_until_cleared_and_only_the_targeted_ops() {
    let s = faulty();
    s.create("/k", b"v".to_vec()).await.expect("create");
    for op in StoreOp::WRITES {
        s.inject(op, Fault::Unavailable, Times::Always);
    }
    for _ in 0..5 {
        assert!(unavailable(&s.update("/k", b"w".to_vec(), 1).await));
        assert!(unavailable(&s.delete("/k", None).await));
        assert!(unavailable(&s.create("/j", b"v".to_vec()).await));
    }
    // Reads are not targeted.
    let kv = s.get("/k").await.expect("get").expect("present");
    assert_eq!(&kv.value[..], b"v");
    s.clear();
    s.update("/k", b"w".to_vec(), kv.mod_revision)
        .await
        .expect("writes pass again");
}

#[tokio::test]
async fn conflicts_look_like_lost_compare_and_swaps() {
    let s = faulty();
    let kv = s.create("/k", b"v".to_vec()).await.expect("create");
    s.inject(StoreOp::Update, Fault::Conflict, Times::Once);
    s.inject(StoreOp::Create, Fault::Conflict, Times::Once);
    s.inject(StoreOp::Delete, Fault::Conflict, Times::Once);
    let r = s.update("/k", b"w".to_vec(), kv.mod_revision).await;
    assert!(
        matches!(r, Err(StoreError::Conflict { expected, .. }) if expected == kv.mod_revision),
        "{r:?}"
    );
    let r = s.create("/new", b"v".to_vec()).await;
    assert!(matches!(r, Err(StoreError::AlreadyExists { .. })), "{r:?}");
    let r = s.delete("/k", Some(kv.mod_revision)).await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    assert_eq!(
        &s.get("/k").await.expect("get").expect("kept").value[..],
        b"v"
    );
    assert_eq!(s.get("/new").await.expect("get"), None);
}

#[tokio::test]
async fn prefixes_pick_the_keys() {
    let s = faulty();
    s.inject_under(
        &StoreOp::ALL,
        "/registry/leases/",
        Fault::Unavailable,
        Times::Always,
    );
    assert!(unavailable(
        &s.create("/registry/leases/ns/l", b"v".to_vec()).await
    ));
    assert!(unavailable(&s.list("/registry/leases/").await));
    s.create("/registry/pods/ns/p", b"v".to_vec())
        .await
        .expect("other keys pass");
    let calls = s.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        calls[2],
        (StoreOp::Create, "/registry/pods/ns/p".to_string())
    );
}

#[tokio::test(start_paused = true)]
async fn slow_writes_wait_on_virtual_time_then_succeed() {
    let s = faulty();
    s.inject(
        StoreOp::Create,
        Fault::Delay(Duration::from_secs(30)),
        Times::Once,
    );
    let start = tokio::time::Instant::now();
    let write = tokio::spawn({
        let s = s.clone();
        async move { s.create("/k", b"v".to_vec()).await }
    });
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert!(!write.is_finished(), "still waiting at 29 s");
    assert_eq!(s.get("/k").await.expect("get"), None, "not written yet");
    write.await.expect("join").expect("the write succeeds");
    assert!(start.elapsed() >= Duration::from_secs(30));
    // The next write is not delayed.
    let before = tokio::time::Instant::now();
    s.create("/j", b"v".to_vec()).await.expect("create");
    assert_eq!(before.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn the_api_answers_503_and_409_and_changes_nothing() {
    let s = faulty();
    let cluster = TestCluster::builder()
        .store(Arc::new(s.clone()))
        .start()
        .await
        .expect("cluster");
    cluster.create_namespace("ns").await.expect("namespace");
    let client = cluster.in_process();
    let pod = kube_core::testing::PodBuilder::new("web")
        .namespace("ns")
        .container("c", "busybox")
        .build();
    s.inject(StoreOp::Create, Fault::Unavailable, Times::Once);
    let err = client.create("ns", &pod).await.expect_err("unavailable");
    assert_eq!(err.to_status().code, 503, "{err}");
    let created = client.create("ns", &pod).await.expect("second try");
    s.inject(StoreOp::Update, Fault::Conflict, Times::Once);
    let err = client.update("ns", &created).await.expect_err("conflict");
    assert!(err.is_conflict(), "{err}");
    let again: kube_core::Pod = client.get("ns", "web").await.expect("get");
    assert_eq!(
        again.metadata.resource_version,
        created.metadata.resource_version
    );
}
