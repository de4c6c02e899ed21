//! Graceful deletion of pods over HTTP: a bound pod is marked (deletionTimestamp and
//! deletionGracePeriodSeconds), grace 0 removes it, unbound pods and other kinds go at once.

use crate::support::TestServer;
use hyper::Method;
use kube_core::{DeleteOptions, Pod, Timestamp};
use kube_runtime::client::ApiClient;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/namespaces/default/pods";

/// A pod document; bound to `n1` when `bound`, with `spec.terminationGracePeriodSeconds`.
fn pod_doc(name: &str, bound: bool, spec_grace: Option<i64>) -> Value {
    let mut spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
    if bound {
        spec["nodeName"] = json!("n1");
    }
    if let Some(g) = spec_grace {
        spec["terminationGracePeriodSeconds"] = json!(g);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

fn secs(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|t| Timestamp::parse(t).ok())
        .map(Timestamp::unix_secs)
}

/// What a delete request should lead to.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Gone from the store (the answer is the last state, unmarked).
    Removed,
    /// Still stored, marked with this grace period.
    Marked(i64),
}

/// (case, bound, spec grace, query, body, expected)
type Case = (
    &'static str,
    bool,
    Option<i64>,
    &'static str,
    Option<Value>,
    Want,
);

#[tokio::test]
async fn deleting_a_pod_follows_the_graceful_rules() {
    let s = TestServer::start().await;
    let cases: [Case; 10] = [
        ("bound, default", true, None, "", None, Want::Marked(30)),
        (
            "bound, spec grace",
            true,
            Some(7),
            "",
            None,
            Want::Marked(7),
        ),
        (
            "bound, query grace",
            true,
            Some(7),
            "?gracePeriodSeconds=3",
            None,
            Want::Marked(3),
        ),
        (
            "bound, body grace",
            true,
            Some(7),
            "",
            Some(json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 4})),
            Want::Marked(4),
        ),
        (
            "bound, body wins over query",
            true,
            None,
            "?gracePeriodSeconds=3",
            Some(json!({"gracePeriodSeconds": 9})),
            Want::Marked(9),
        ),
        (
            "bound, body without grace: the spec's, query ignored",
            true,
            Some(7),
            "?gracePeriodSeconds=0",
            Some(json!({"kind": "DeleteOptions"})),
            Want::Marked(7),
        ),
        (
            "bound, query 0 forces",
            true,
            None,
            "?gracePeriodSeconds=0",
            None,
            Want::Removed,
        ),
        (
            "bound, body 0 forces",
            true,
            None,
            "",
            Some(json!({"gracePeriodSeconds": 0})),
            Want::Removed,
        ),
        ("unbound", false, Some(7), "", None, Want::Removed),
        (
            "unbound, grace asked",
            false,
            None,
            "?gracePeriodSeconds=20",
            None,
            Want::Removed,
        ),
    ];
    for (i, (case, bound, spec_grace, query, body, want)) in cases.into_iter().enumerate() {
        let name = format!("p{i}");
        let (code, _) = s
            .call(Method::POST, PODS, Some(pod_doc(&name, bound, spec_grace)))
            .await;
        assert_eq!(code, 201, "{case}");
        let before = s.cluster.clock().now().unix_secs();
        let path = format!("{PODS}/{name}{query}");
        let (code, answer) = s.call(Method::DELETE, &path, body).await;
        let after = s.cluster.clock().now().unix_secs();
        assert_eq!(code, 200, "{case}: {answer}");
        assert_eq!(answer["metadata"]["name"], name.as_str(), "{case}");
        let (code, stored) = s.call(Method::GET, &format!("{PODS}/{name}"), None).await;
        match want {
            Want::Removed => {
                assert_eq!(code, 404, "{case}: {stored}");
                assert!(answer["metadata"]["deletionTimestamp"].is_null(), "{case}");
            }
            Want::Marked(grace) => {
                assert_eq!(code, 200, "{case}");
                assert_eq!(stored, answer, "{case}: the answer is the stored pod");
                assert_eq!(
                    stored["metadata"]["deletionGracePeriodSeconds"], grace,
                    "{case}"
                );
                let at = secs(&stored["metadata"]["deletionTimestamp"]).expect("timestamp");
                assert!(
                    (before + grace..=after + grace).contains(&at),
                    "{case}: {at} not now + {grace}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_terminating_pod_can_only_be_shortened_and_then_forced() {
    let s = TestServer::start().await;
    s.call(Method::POST, PODS, Some(pod_doc("p", true, Some(60))))
        .await;
    let (_, first) = s.call(Method::DELETE, &format!("{PODS}/p"), None).await;
    let marked_at = secs(&first["metadata"]["deletionTimestamp"]).expect("marked") - 60;
    // (query, grace afterwards, still stored)
    let steps: [(&str, Option<i64>); 5] = [
        ("", Some(60)),
        ("?gracePeriodSeconds=90", Some(60)),
        ("?gracePeriodSeconds=20", Some(20)),
        ("?gracePeriodSeconds=20", Some(20)),
        ("?gracePeriodSeconds=0", None),
    ];
    for (query, want) in steps {
        let (code, answer) = s
            .call(Method::DELETE, &format!("{PODS}/p{query}"), None)
            .await;
        assert_eq!(code, 200, "{query}: {answer}");
        let (code, stored) = s.call(Method::GET, &format!("{PODS}/p"), None).await;
        match want {
            Some(grace) => {
                assert_eq!(stored["metadata"]["deletionGracePeriodSeconds"], grace);
                // Shortening counts from the first delete, as Kubernetes does.
                assert_eq!(
                    secs(&stored["metadata"]["deletionTimestamp"]),
                    Some(marked_at + grace),
                    "{query}"
                );
            }
            None => assert_eq!(code, 404, "{query}"),
        }
    }
}

#[tokio::test]
async fn watchers_see_the_mark_then_the_removal() {
    let s = TestServer::start().await;
    s.call(Method::POST, PODS, Some(pod_doc("w", true, None)))
        .await;
    let (_, list) = s.call(Method::GET, PODS, None).await;
    let rv = list["metadata"]["resourceVersion"].as_str().unwrap_or("0");
    let mut w = s
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    s.call(Method::DELETE, &format!("{PODS}/w"), None).await;
    let ev = w.next().await.expect("event");
    assert_eq!(ev["type"], "MODIFIED");
    assert_eq!(ev["object"]["metadata"]["deletionGracePeriodSeconds"], 30);
    // The kubelet's final delete, through the typed client.
    let gone: Pod = s
        .cluster
        .http()
        .delete_with("default", "w", &DeleteOptions::immediate())
        .await
        .expect("final delete");
    assert_eq!(gone.metadata.deletion_grace_period_seconds, Some(30));
    assert_eq!(
        w.next_summary().await,
        Some(("DELETED".to_string(), "w".to_string()))
    );
}

#[tokio::test]
async fn updates_cannot_clear_or_set_the_mark() {
    let s = TestServer::start().await;
    for name in ["dying", "live"] {
        s.call(Method::POST, PODS, Some(pod_doc(name, true, None)))
            .await;
    }
    let (_, dying) = s.call(Method::DELETE, &format!("{PODS}/dying"), None).await;
    let mut cleared = dying.clone();
    cleared["metadata"]
        .as_object_mut()
        .map(|m| m.remove("deletionTimestamp"));
    cleared["metadata"]["labels"] = json!({"a": "b"});
    let (code, updated) = s
        .call(Method::PUT, &format!("{PODS}/dying"), Some(cleared))
        .await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["metadata"]["labels"]["a"], "b");
    assert_eq!(
        updated["metadata"]["deletionTimestamp"],
        dying["metadata"]["deletionTimestamp"]
    );
    assert_eq!(updated["metadata"]["deletionGracePeriodSeconds"], 30);

    let (_, mut live) = s.call(Method::GET, &format!("{PODS}/live"), None).await;
    live["metadata"]["deletionTimestamp"] = json!("2020-01-01T00:00:00Z");
    live["metadata"]["deletionGracePeriodSeconds"] = json!(1);
    let (code, updated) = s
        .call(Method::PUT, &format!("{PODS}/live"), Some(live))
        .await;
    assert_eq!(code, 200, "{updated}");
    assert!(updated["metadata"]["deletionTimestamp"].is_null());
    assert!(updated["metadata"]["deletionGracePeriodSeconds"].is_null());
}

#[tokio::test]
async fn other_kinds_and_v1beta1_delete_as_before() {
    let s = TestServer::start().await;
    // Another kind goes at once even with a grace period.
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
        "spec": {"ports": [{"port": 80}]}});
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/services",
            Some(svc),
        )
        .await;
    assert_eq!(code, 201);
    let path = "/api/v1/namespaces/default/services/svc";
    let (code, _) = s
        .call(
            Method::DELETE,
            &format!("{path}?gracePeriodSeconds=30"),
            None,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(s.call(Method::GET, path, None).await.0, 404);

    // v1beta1: a bound pod is marked, grace 0 removes it; the answer stays a Status.
    s.call(Method::POST, PODS, Some(pod_doc("b", true, None)))
        .await;
    let (code, st) = s.call(Method::DELETE, "/api/v1beta1/pods/b", None).await;
    assert_eq!(
        (code, st["status"].as_str()),
        (200, Some("Success")),
        "{st}"
    );
    let (_, stored) = s.call(Method::GET, &format!("{PODS}/b"), None).await;
    assert_eq!(stored["metadata"]["deletionGracePeriodSeconds"], 30);
    let (code, _) = s
        .call(
            Method::DELETE,
            "/api/v1beta1/pods/b?gracePeriodSeconds=0",
            None,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(s.call(Method::GET, &format!("{PODS}/b"), None).await.0, 404);
}

#[tokio::test]
async fn bad_delete_options_change_nothing() {
    let s = TestServer::start().await;
    s.call(Method::POST, PODS, Some(pod_doc("p", true, None)))
        .await;
    let before = s.snapshot().await;
    // (query, body, the parameter named, or "" for a plain 400)
    let cases: [(&str, &[u8], &str); 7] = [
        ("?gracePeriodSeconds=-1", b"", "gracePeriodSeconds"),
        ("?gracePeriodSeconds=soon", b"", "gracePeriodSeconds"),
        ("", br#"{"gracePeriodSeconds": -1}"#, "gracePeriodSeconds"),
        ("", br#"{"gracePeriodSeconds": "5"}"#, "gracePeriodSeconds"),
        ("", br#"{"gracePeriodSeconds": 1.5}"#, "gracePeriodSeconds"),
        ("", br#"{"kind": "Pod"}"#, ""),
        ("", b"{not json", ""),
    ];
    for (query, body, field) in cases {
        let (code, answer) = s
            .raw(
                Method::DELETE,
                &format!("{PODS}/p{query}"),
                Some("application/json"),
                body.to_vec(),
            )
            .await;
        let st: Value = serde_json::from_slice(&answer).expect("status");
        assert_eq!(code, 400, "{query} {st}");
        if !field.is_empty() {
            assert_eq!(st["details"]["causes"][0]["field"], field, "{st}");
        }
    }
    assert_eq!(s.snapshot().await, before);
    // No body, whatever the content type: the query decides (and it is well-formed here).
    let (code, answer) = s
        .raw(
            Method::DELETE,
            &format!("{PODS}/p?gracePeriodSeconds=5"),
            Some("text/html"),
            Vec::new(),
        )
        .await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&answer));
    let (_, stored) = s.call(Method::GET, &format!("{PODS}/p"), None).await;
    assert_eq!(stored["metadata"]["deletionGracePeriodSeconds"], 5);
    let before = s.snapshot().await;
    // A pod that does not exist: 404, nothing written.
    let (code, _) = s
        .call(Method::DELETE, &format!("{PODS}/missing"), None)
        .await;
    assert_eq!(code, 404);
    assert_eq!(s.snapshot().await, before);
}
