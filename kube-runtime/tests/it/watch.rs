//! Watch over HTTP: list-then-watch without gaps, selector transitions, 410 after compaction, v1beta1.

use crate::support::{pod, seed_pod, TestServer};
use hyper::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn watch_lists_then_streams_changes_in_order() {
    let s = TestServer::start().await;
    s.call(
        Method::POST,
        "/api/v1/namespaces/default/pods",
        Some(pod("a", json!({"app": "x"}))),
    )
    .await;
    let mut w = s.watch("/api/v1/namespaces/default/pods?watch=true").await;
    assert_eq!(w.next_summary().await, Some(("ADDED".into(), "a".into())));

    let (_, b) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod("b", json!({}))),
        )
        .await;
    let mut upd = b.clone();
    upd["spec"]["containers"][0]["image"] = json!("busybox:2");
    s.call(Method::PUT, "/api/v1/namespaces/default/pods/b", Some(upd))
        .await;
    s.call(Method::DELETE, "/api/v1/namespaces/default/pods/a", None)
        .await;
    let got = [
        w.next().await.unwrap(),
        w.next().await.unwrap(),
        w.next().await.unwrap(),
    ];
    let summary: Vec<(&str, &str)> = got
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("ADDED", "b"), ("MODIFIED", "b"), ("DELETED", "a")]
    );
    assert_eq!(
        got[1]["object"]["spec"]["containers"][0]["image"],
        "busybox:2"
    );
    // resourceVersions strictly increase along the stream.
    let rvs: Vec<u64> = got
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");
}

/// A client that lists and then watches from the list's resourceVersion misses nothing and sees nothing twice.
#[tokio::test]
async fn list_then_watch_loses_no_event() {
    let s = TestServer::start().await;
    for i in 0..5 {
        s.call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod(&format!("p{i}"), json!({}))),
        )
        .await;
    }
    let (_, list) = s
        .call(Method::GET, "/api/v1/namespaces/default/pods", None)
        .await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Writes between the list and the watch must all arrive.
    for i in 5..8 {
        s.call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod(&format!("p{i}"), json!({}))),
        )
        .await;
    }
    let mut w = s
        .watch(&format!(
            "/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}"
        ))
        .await;
    for i in 5..8 {
        assert_eq!(
            w.next_summary().await,
            Some(("ADDED".into(), format!("p{i}")))
        );
    }
    assert!(
        w.quiet_for(Duration::from_millis(200)).await,
        "no duplicates follow"
    );
}

#[tokio::test]
async fn watch_with_selector_sees_objects_enter_and_leave() {
    let s = TestServer::start().await;
    let mut w = s
        .watch("/api/v1/watch/namespaces/default/pods?labelSelector=app%3Dweb")
        .await;
    let (_, p) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod("p", json!({"app": "db"}))),
        )
        .await;
    let mut relabel = p.clone();
    relabel["metadata"]["labels"] = json!({"app": "web"});
    let (_, p2) = s
        .call(
            Method::PUT,
            "/api/v1/namespaces/default/pods/p",
            Some(relabel),
        )
        .await;
    let mut back = p2.clone();
    back["metadata"]["labels"] = json!({"app": "db"});
    s.call(Method::PUT, "/api/v1/namespaces/default/pods/p", Some(back))
        .await;
    assert_eq!(w.next_summary().await, Some(("ADDED".into(), "p".into())));
    assert_eq!(w.next_summary().await, Some(("DELETED".into(), "p".into())));
}

#[tokio::test]
async fn watch_from_a_compacted_revision_answers_gone() {
    let s = TestServer::start().await;
    for i in 0..3 {
        s.call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod(&format!("p{i}"), json!({}))),
        )
        .await;
    }
    let rev = s.cluster.store().current_revision().await.unwrap();
    s.cluster.store().compact(rev).await.unwrap();
    let (code, st) = s
        .call(
            Method::GET,
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion=1",
            None,
        )
        .await;
    assert_eq!(code, 410, "{st}");
    assert_eq!(st["reason"], "Expired");
}

#[tokio::test]
async fn v1beta1_watch_and_timeout() {
    let s = TestServer::start().await;
    let mut w = s
        .watch("/api/v1beta1/watch/pods?resourceVersion=0&timeoutSeconds=1")
        .await;
    s.call(Method::POST, "/api/v1beta1/pods", Some(seed_pod()))
        .await;
    let ev = w.next().await.unwrap();
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["id"], "redis");
    assert!(ev["object"]["resourceVersion"].is_u64());
    // The server ends the stream once timeoutSeconds pass.
    assert!(w.next().await.is_none());
}

#[tokio::test]
async fn stopping_the_server_ends_open_watches() {
    let mut s = TestServer::start().await;
    s.call(
        Method::POST,
        "/api/v1/namespaces/default/pods",
        Some(pod("a", json!({}))),
    )
    .await;
    let mut w = s.watch("/api/v1/namespaces/default/pods?watch=true").await;
    assert_eq!(w.next_summary().await, Some(("ADDED".into(), "a".into())));
    s.cluster.stop_server().await.expect("stop");
    // The stream ends (rather than hanging on a connection the stopped server still serves).
    let ended = tokio::time::timeout(Duration::from_secs(5), w.next()).await;
    assert_eq!(
        ended.ok(),
        Some(None),
        "the watch must end when the server stops"
    );
}
