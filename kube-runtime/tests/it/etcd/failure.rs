//! A 3-member etcd cluster on loopback losing members: with one down, creates and watches
//! keep working; with two down, writes answer 503 and change nothing; after the members
//! return, everything acknowledged before is there.

use super::{assert_store_unavailable, create_retrying, next_event, rv, EtcdCluster, Http};
use crate::support::pod;
use hyper::Method;
use kube_core::store::{KeyValue, Revision, Store};
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::store::EtcdStore;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PODS: &str = "/api/v1/namespaces/default/pods";
/// Requests fail after this long (the default is 5 s; shorter keeps the test quick).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_and_watches_survive_losing_any_one_member() {
    let mut etcd = EtcdCluster::start(3).await;
    let store = etcd.store("/registry").await;
    let base = store.current_revision().await.unwrap();
    // A watch opened before the failures, one opened with a member down, and one that
    // resumes from the middle after all of them.
    let mut early = store.watch("/registry/f/", base).await.unwrap();
    let mut acked: Vec<KeyValue> = Vec::new();
    for i in 0..3 {
        acked.push(create_retrying(&store, &format!("/registry/f/before-{i}")).await);
    }
    let mut during = None;
    // Kill the leader first (the harder case: an election), then each other member in turn,
    // so whichever member the watch streams from is lost at some point.
    let leader = etcd.leader().await;
    let order = [leader, (leader + 1) % 3, (leader + 2) % 3];
    for (round, victim) in order.into_iter().enumerate() {
        etcd.kill(victim);
        for i in 0..4 {
            acked.push(create_retrying(&store, &format!("/registry/f/r{round}-{i}")).await);
        }
        if during.is_none() {
            during = Some((
                acked.len(),
                store.watch("/registry/f/", base).await.unwrap(),
            ));
        }
        let list = store.list("/registry/f/").await.unwrap();
        assert_eq!(list.items.len(), acked.len(), "member {victim} down");
        etcd.restart(victim).await;
    }
    let want: Vec<Revision> = acked.iter().map(|kv| kv.mod_revision).collect();
    for (name, w) in [
        ("early", &mut early),
        ("during", &mut during.expect("watch").1),
    ] {
        let mut got = Vec::new();
        while got.len() < want.len() {
            got.push(next_event(w).await.revision());
        }
        assert_eq!(
            got, want,
            "{name} watch: every create exactly once, in order"
        );
        super::assert_quiet(w).await;
    }
    let mid = want[want.len() / 2];
    let mut late = store.watch("/registry/f/", mid).await.unwrap();
    let mut got = Vec::new();
    while got.len() < want.len() - want.len() / 2 - 1 {
        got.push(next_event(&mut late).await.revision());
    }
    assert_eq!(got, want[want.len() / 2 + 1..]);
    for kv in &acked {
        assert_eq!(store.get(&kv.key).await.unwrap().as_ref(), Some(kv));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_quorum_writes_answer_503_and_acknowledged_data_survives() {
    let mut etcd = EtcdCluster::start(3).await;
    let store = EtcdStore::connect_with(etcd.config("/registry", REQUEST_TIMEOUT))
        .await
        .expect("etcd store");
    let config = ApiServerConfig {
        port: 0,
        ..ApiServerConfig::default()
    };
    let running = ApiServer::new(Arc::new(store), config)
        .start()
        .await
        .expect("bind loopback");
    let api = Http::new(running.url());
    let mut acked: Vec<Value> = Vec::new();
    for i in 0..4 {
        acked.push(
            api.call_until(
                201,
                Method::POST,
                PODS,
                Some(&pod(&format!("p{i}"), json!({}))),
            )
            .await,
        );
    }

    // Lose two of three members: the survivor has no quorum.
    let survivor = etcd.leader().await;
    let victims: Vec<usize> = (0..3).filter(|i| *i != survivor).collect();
    for v in &victims {
        etcd.kill(*v);
    }
    // Wait until the survivor knows it has no leader: from then on every request is refused
    // before anything is proposed, so a refused write can never appear later.
    etcd.wait_no_leader(survivor).await;
    let (code, body) = api.call(Method::GET, "/healthz", None).await;
    assert_eq!(code, 503, "healthz reports the store: {body}");
    for i in 0..3 {
        let started = Instant::now();
        let (code, body) = api
            .call(
                Method::POST,
                PODS,
                Some(&pod(&format!("doomed{i}"), json!({}))),
            )
            .await;
        assert_store_unavailable(code, &body);
        assert!(
            started.elapsed() < REQUEST_TIMEOUT + Duration::from_secs(2),
            "503 took {:?}",
            started.elapsed()
        );
    }
    let mut changed = acked[0].clone();
    changed["metadata"]["labels"] = json!({"changed": "yes"});
    let (code, body) = api
        .call(Method::PUT, &format!("{PODS}/p0"), Some(&changed))
        .await;
    assert_store_unavailable(code, &body);
    let (code, body) = api.call(Method::DELETE, &format!("{PODS}/p1"), None).await;
    assert_store_unavailable(code, &body);

    // The members return; the cluster has everything acknowledged and nothing refused.
    for v in &victims {
        etcd.restart_no_wait(*v);
    }
    for v in &victims {
        etcd.wait_member(*v).await;
    }
    let list = api.call_until(200, Method::GET, PODS, None).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["p0", "p1", "p2", "p3"]);
    for want in &acked {
        let name = want["metadata"]["name"].as_str().expect("name");
        let (code, got) = api.call(Method::GET, &format!("{PODS}/{name}"), None).await;
        assert_eq!(code, 200);
        assert_eq!(got, *want, "{name} is exactly as acknowledged");
        assert_eq!(rv(&got), rv(want));
    }
    // And the cluster takes writes again.
    api.call_until(201, Method::POST, PODS, Some(&pod("after", json!({}))))
        .await;
    running.shutdown().await;
}
