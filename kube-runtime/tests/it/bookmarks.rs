//! Watch bookmarks (`allowWatchBookmarks=true`): every `bookmark_interval` a `BOOKMARK` event
//! carrying only kind, apiVersion and a `resourceVersion` a client may resume from (past the
//! changes its selectors filter out); none unless asked, none on v1beta1, none while a
//! list-then-watch's initial events are going out. The watcher asks for them and resumes from
//! them, so a filtered watcher survives a compaction without relisting.

use crate::support::{eventually, pod, TestServer};
use hyper::Method;
use kube_core::time::Timestamp;
use kube_core::Pod;
use kube_runtime::apiserver::ApiServerConfig;
use kube_runtime::client::{HttpClient, HttpClientConfig, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::informer::{Watcher, WatcherEvent};
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PODS: &str = "/api/v1/namespaces/default/pods";

/// A server sending bookmarks every `interval`, on a virtual clock (paused time).
async fn server(interval: Duration) -> TestServer {
    let start = Timestamp::parse("2026-11-28T12:00:00Z").expect("time");
    let cluster = TestCluster::builder()
        .clock(Clock::virtual_at(start))
        .server_config(ApiServerConfig {
            bookmark_interval: interval,
            ..ApiServerConfig::default()
        })
        .start()
        .await
        .expect("cluster");
    TestServer::on(cluster)
}

async fn create(s: &TestServer, name: &str, app: &str) -> u64 {
    let (code, created) = s
        .call(Method::POST, PODS, Some(pod(name, json!({"app": app}))))
        .await;
    assert_eq!(code, 201, "{created}");
    rv(&created)
}

fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {obj}"))
}

#[tokio::test(start_paused = true)]
async fn a_filtered_watch_gets_bookmarks_past_what_it_does_not_see() {
    let s = server(Duration::from_secs(1)).await;
    let start = create(&s, "web-0", "web").await;
    let mut w = s
        .watch(&format!(
            "{PODS}?watch=true&resourceVersion={start}&labelSelector=app%3Dweb&allowWatchBookmarks=true"
        ))
        .await;
    // Nothing happened yet: the bookmark is the revision the watch started after.
    let first = w.next().await.expect("bookmark");
    assert_eq!(
        first,
        json!({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
               "metadata": {"resourceVersion": start.to_string()}}})
    );
    // Changes the selector filters out still move the bookmark.
    create(&s, "db-0", "db").await;
    let last = create(&s, "db-1", "db").await;
    let ev = w.next().await.expect("bookmark");
    assert_eq!(ev["type"], "BOOKMARK");
    assert_eq!(rv(&ev["object"]), last, "{ev}");
    // Events keep their order with bookmarks around them, never ahead of them.
    let web = create(&s, "web-1", "web").await;
    let mut seen_web = false;
    for _ in 0..3 {
        let ev = w.next().await.expect("event");
        if ev["type"] == "ADDED" {
            assert_eq!(rv(&ev["object"]), web);
            seen_web = true;
        } else {
            assert_eq!(ev["type"], "BOOKMARK");
            let at = rv(&ev["object"]);
            assert!(at >= last && (seen_web || at < web), "{ev} (web at {web})");
            if seen_web {
                assert_eq!(at, web);
            }
        }
    }
    assert!(seen_web);
}

#[tokio::test(start_paused = true)]
async fn bookmarks_only_when_asked_and_only_after_the_initial_events() {
    let s = server(Duration::from_secs(1)).await;
    create(&s, "a", "web").await;
    let b = create(&s, "b", "web").await;
    // Not asked: no bookmark.
    let mut w = s
        .watch(&format!("{PODS}?watch=true&resourceVersion={b}"))
        .await;
    assert!(w.quiet_for(Duration::from_secs(5)).await);
    // The seed's API has none either.
    let mut w = s
        .watch(&format!(
            "/api/v1beta1/pods?watch=true&resourceVersion={b}&allowWatchBookmarks=true"
        ))
        .await;
    assert!(w.quiet_for(Duration::from_secs(5)).await);
    // A list-then-watch: the initial objects first, then bookmarks at the list's revision.
    let (_, list) = s.call(Method::GET, PODS, None).await;
    let mut w = s
        .watch(&format!("{PODS}?watch=true&allowWatchBookmarks=true"))
        .await;
    assert_eq!(w.next_summary().await, Some(("ADDED".into(), "a".into())));
    assert_eq!(w.next_summary().await, Some(("ADDED".into(), "b".into())));
    let ev = w.next().await.expect("bookmark");
    assert_eq!(ev["type"], "BOOKMARK");
    assert_eq!(
        ev["object"]["metadata"]["resourceVersion"],
        list["metadata"]["resourceVersion"]
    );
}

/// Runs a watcher of `app=web` pods over HTTP against a server sending bookmarks every
/// `interval`; meanwhile other pods change, the store is compacted, the watch ends and is
/// re-opened, and a `web` pod is created. Returns the watcher's events after its first list.
async fn filtered_watcher_across_a_compaction(interval: Duration) -> Vec<String> {
    let s = server(interval).await;
    // The watcher's list is at a revision a compaction can pass (0 would mean "list again").
    create(&s, "web-0", "web").await;
    let config = HttpClientConfig {
        watch_timeout: Duration::from_secs(10),
        ..HttpClientConfig::default()
    };
    let client = HttpClient::with_config(s.cluster.url(), config).expect("client");
    let params = ListParams {
        label_selector: "app=web".into(),
        ..ListParams::default()
    };
    let opened = Arc::new(AtomicU64::new(0));
    let mut watcher = Watcher::<_, Pod>::new(client, None, params, s.cluster.clock().clone())
        .with_watch_counter(opened.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let ev = match watcher.step().await {
                WatcherEvent::Listed(pods) => format!("listed {}", pods.len()),
                WatcherEvent::Applied(p) => format!("applied {}", p.metadata.name),
                WatcherEvent::Deleted(p) => format!("deleted {}", p.metadata.name),
            };
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    assert_eq!(rx.recv().await.as_deref(), Some("listed 1"));
    eventually("the watch to open", 30, || async {
        (opened.load(Ordering::Relaxed) == 1).then_some(())
    })
    .await;
    for i in 0..5 {
        create(&s, &format!("db-{i}"), "db").await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let current = s
        .cluster
        .store()
        .current_revision()
        .await
        .expect("revision");
    s.cluster.store().compact(current).await.expect("compact");
    eventually("the watch to be re-opened", 60, || async {
        (opened.load(Ordering::Relaxed) >= 2).then_some(())
    })
    .await;
    create(&s, "web-1", "web").await;
    let mut events = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        events.push(ev);
    }
    task.abort();
    events
}

#[tokio::test(start_paused = true)]
async fn the_watcher_resumes_from_bookmarks_instead_of_relisting() {
    assert_eq!(
        filtered_watcher_across_a_compaction(Duration::from_secs(1)).await,
        ["applied web-1"]
    );
    // Without bookmarks it resumes from its list's revision, compacted away: 410, relist.
    assert_eq!(
        filtered_watcher_across_a_compaction(Duration::from_secs(3600)).await,
        ["listed 1", "applied web-1"]
    );
}
