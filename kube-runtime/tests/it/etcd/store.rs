//! `EtcdStore` specifics beyond the shared contract: key layout under the prefix, paged
//! lists at one revision, watches that survive an etcd restart, and bounded failures while
//! etcd is down.

use super::{create_retrying, next_event, EtcdCluster};
use kube_core::store::{Revision, Store, StoreError, StoreEventKind};
use kube_runtime::store::{EtcdConfig, EtcdStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a request against a dead etcd may take to fail (its timeout is 2 s).
const FAIL_FAST: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_keys_live_under_the_configured_prefix() {
    let etcd = EtcdCluster::single().await;
    let default = etcd.store("/registry").await;
    let other = etcd.store("/other/").await;
    let key = "/registry/pods/default/redis";
    let a = default.create(key, b"{\"a\":1}".to_vec()).await.unwrap();
    let b = other.create(key, b"{\"b\":2}".to_vec()).await.unwrap();
    assert!(b.mod_revision > a.mod_revision, "one etcd, one revision");

    let mut raw = etcd_client::Client::connect(etcd.endpoints(), None)
        .await
        .unwrap();
    let got = raw.get("/registry/pods/default/redis", None).await.unwrap();
    assert_eq!(got.kvs()[0].value(), b"{\"a\":1}", "default prefix: as is");
    let got = raw.get("/other/pods/default/redis", None).await.unwrap();
    assert_eq!(
        got.kvs()[0].value(),
        b"{\"b\":2}",
        "root replaced by /other"
    );
    // Keys next to the prefix are not ours.
    raw.put("/otherwise/pods/x", "foreign", None).await.unwrap();
    raw.put("/other-pods", "foreign", None).await.unwrap();

    let list = other.list("/registry/").await.unwrap();
    assert_eq!(list.items, vec![b.clone()]);
    assert_eq!(
        other.list("/registry").await.unwrap().items,
        vec![b.clone()]
    );
    assert_eq!(other.get(key).await.unwrap(), Some(b.clone()));
    assert_eq!(default.get(key).await.unwrap(), Some(a.clone()));
    assert!(matches!(
        other.create("/elsewhere/x", Vec::new()).await,
        Err(StoreError::Internal(_))
    ));

    // A watch under the prefix sees its own keys only, with the registry's key names.
    let mut w = other
        .watch("/registry/pods/", a.mod_revision)
        .await
        .unwrap();
    let e = next_event(&mut w).await;
    assert_eq!((e.kind, e.kv.clone()), (StoreEventKind::Created, b.clone()));
    let del = other.delete(key, Some(b.mod_revision)).await.unwrap();
    let e = next_event(&mut w).await;
    assert_eq!(e.kind, StoreEventKind::Deleted);
    assert_eq!(e.kv, del);
    assert_eq!(e.kv.key, key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_list_reads_one_revision_while_writers_run() {
    let etcd = EtcdCluster::single().await;
    let mut config = EtcdConfig::new(&etcd.endpoints());
    config.page_size = 7;
    let store = Arc::new(EtcdStore::connect_with(config).await.unwrap());
    let mut created: Vec<(String, Revision)> = Vec::new();
    for i in 0..60 {
        let key = format!("/registry/pods/default/p{i:03}");
        let kv = store.create(&key, vec![b'x'; 10]).await.unwrap();
        created.push((key, kv.mod_revision));
    }
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..80 {
                // Interleaved keys, so pages read later would see them if the revision moved.
                let key = format!("/registry/pods/default/p{:03}x", i % 60);
                if let Ok(kv) = store.create(&key, vec![b'y'; 10]).await {
                    out.push((key, kv.mod_revision));
                }
            }
            out
        })
    };
    let mut lists = Vec::new();
    while !writer.is_finished() {
        lists.push(store.list("/registry/pods/").await.unwrap());
    }
    created.extend(writer.await.unwrap());
    lists.push(store.list("/registry/pods/").await.unwrap());
    assert!(lists.len() >= 2);
    for list in lists {
        let mut want: Vec<&str> = created
            .iter()
            .filter(|(_, r)| *r <= list.revision)
            .map(|(k, _)| k.as_str())
            .collect();
        want.sort_unstable();
        let got: Vec<&str> = list.items.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(got, want, "list at revision {}", list.revision);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_shrink_to_fit_the_response_limit() {
    let etcd = EtcdCluster::single().await;
    let mut config = EtcdConfig::new(&etcd.endpoints());
    config.max_response_bytes = 1 << 20;
    let store = EtcdStore::connect_with(config).await.unwrap();
    for i in 0..10u8 {
        store
            .create(&format!("/registry/big/{i}"), vec![i; 300 << 10])
            .await
            .unwrap();
    }
    let list = store.list("/registry/big/").await.unwrap();
    assert_eq!(list.items.len(), 10);
    for (i, kv) in list.items.iter().enumerate() {
        assert!(kv.value.iter().all(|b| usize::from(*b) == i));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_is_reestablished_across_an_etcd_restart() {
    let mut etcd = EtcdCluster::single().await;
    let store = etcd.store("/registry").await;
    let base = store.current_revision().await.unwrap();
    let mut w = store.watch("/registry/w/", base).await.unwrap();
    let mut acked = Vec::new();
    for i in 0..5 {
        acked.push(create_retrying(&store, &format!("/registry/w/a{i}")).await);
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next_event(&mut w).await.revision());
    }
    etcd.kill(0);
    etcd.restart(0).await;
    for i in 0..5 {
        acked.push(create_retrying(&store, &format!("/registry/w/b{i}")).await);
    }
    while got.len() < acked.len() {
        got.push(next_event(&mut w).await.revision());
    }
    let want: Vec<Revision> = acked.iter().map(|kv| kv.mod_revision).collect();
    assert_eq!(got, want, "every change exactly once, in order");
    super::assert_quiet(&mut w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_etcd_fails_fast_and_the_store_recovers() {
    let mut etcd = EtcdCluster::single().await;
    etcd.kill(0);
    // Connecting does not need etcd. Requests give up after 2 s (default 5 s).
    let store = EtcdStore::connect_with(etcd.config("/registry", Duration::from_secs(2)))
        .await
        .expect("connect without etcd");
    let key = "/registry/pods/default/a";
    let unavailable = |what: &str, r: Result<(), StoreError>, started: Instant| {
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "{what}: expected Unavailable, got {r:?}"
        );
        assert!(
            started.elapsed() < FAIL_FAST,
            "{what} took {:?}",
            started.elapsed()
        );
    };
    let t = Instant::now();
    unavailable(
        "create",
        store.create(key, b"v".to_vec()).await.map(|_| ()),
        t,
    );
    let t = Instant::now();
    unavailable("get", store.get(key).await.map(|_| ()), t);
    let t = Instant::now();
    unavailable("list", store.list("/registry/").await.map(|_| ()), t);
    let t = Instant::now();
    unavailable("revision", store.current_revision().await.map(|_| ()), t);
    let t = Instant::now();
    unavailable("watch", store.watch("/registry/", 0).await.map(|_| ()), t);
    etcd.restart(0).await;
    let kv = create_retrying(&store, key).await;
    assert_eq!(store.get(key).await.unwrap(), Some(kv));
}
