//! Watch-list (`sendInitialEvents=true`, client-go's streaming list that a current kubectl's
//! `delete --wait` uses): the current objects as `ADDED`, then one `BOOKMARK` annotated
//! `k8s.io/initial-events-end: "true"`, then the changes; an empty list still gets the bookmark.

use crate::support::{pod, TestServer};
use hyper::Method;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";
const WATCH_LIST: &str = "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true\
                          &resourceVersionMatch=NotOlderThan";

#[tokio::test]
async fn initial_events_end_with_the_annotated_bookmark() {
    let s = TestServer::start().await;
    for name in ["a", "b"] {
        let (code, body) = s
            .call(Method::POST, PODS, Some(pod(name, json!({"app": "x"}))))
            .await;
        assert_eq!(code, 201, "{body}");
    }
    // A resourceVersion of the past: the objects are still sent (as read now).
    let mut w = s
        .watch(&format!("{PODS}{WATCH_LIST}&resourceVersion=1"))
        .await;
    let mut added = vec![
        w.next_summary().await.expect("first"),
        w.next_summary().await.expect("second"),
    ];
    added.sort();
    assert_eq!(
        added,
        [("ADDED".into(), "a".into()), ("ADDED".into(), "b".into())]
    );
    let end = w.next().await.expect("the end bookmark");
    assert_eq!(end["type"], "BOOKMARK", "{end}");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true",
        "{end}"
    );
    assert!(
        end["object"]["metadata"]["resourceVersion"].is_string(),
        "{end}"
    );
    s.call(Method::POST, PODS, Some(pod("c", json!({})))).await;
    assert_eq!(w.next_summary().await, Some(("ADDED".into(), "c".into())));

    // Nothing matches: the bookmark comes at once.
    let mut w = s
        .watch(&format!("{PODS}{WATCH_LIST}&labelSelector=app%3Dnone"))
        .await;
    let end = w.next().await.expect("the end bookmark");
    assert_eq!(end["type"], "BOOKMARK", "{end}");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // Without sendInitialEvents, no such bookmark: the objects, then quiet.
    let mut w = s.watch(&format!("{PODS}?watch=true")).await;
    for _ in 0..3 {
        assert_eq!(w.next_summary().await.map(|e| e.0), Some("ADDED".into()));
    }
    assert!(w.quiet_for(std::time::Duration::from_millis(300)).await);
}
