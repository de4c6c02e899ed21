//! Binding and the status subresource: a pod is bound at most once; status writes touch only status.

use crate::support::{pod, seed_pod, TestServer};
use hyper::Method;
use serde_json::json;
use std::sync::Arc;

fn binding(pod: &str, node: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod}, "target": {"kind": "Node", "name": node}})
}

#[tokio::test]
async fn a_pod_is_bound_once() {
    let s = TestServer::start().await;
    s.call(
        Method::POST,
        "/api/v1/namespaces/default/pods",
        Some(pod("p", json!({}))),
    )
    .await;
    let (code, st) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods/p/binding",
            Some(binding("p", "n1")),
        )
        .await;
    assert_eq!(
        (code, st["status"].as_str()),
        (201, Some("Success")),
        "{st}"
    );
    let (_, p) = s
        .call(Method::GET, "/api/v1/namespaces/default/pods/p", None)
        .await;
    assert_eq!(p["spec"]["nodeName"], "n1");
    assert_eq!(p["status"]["conditions"][0]["type"], "PodScheduled");
    assert_eq!(p["status"]["conditions"][0]["status"], "True");

    let before = s.snapshot().await;
    let (code, st) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods/p/binding",
            Some(binding("p", "n2")),
        )
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (409, Some("Conflict")),
        "{st}"
    );
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .contains("already assigned to node \"n1\""),
        "{st}"
    );
    assert_eq!(
        s.snapshot().await,
        before,
        "a second binding changes nothing"
    );
}

#[tokio::test]
async fn concurrent_binders_have_exactly_one_winner() {
    let s = Arc::new(TestServer::start().await);
    s.call(
        Method::POST,
        "/api/v1/namespaces/default/pods",
        Some(pod("race", json!({}))),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let body = binding("race", &format!("n{i}"));
            s.call(
                Method::POST,
                "/api/v1/namespaces/default/pods/race/binding",
                Some(body),
            )
            .await
            .0
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
}

#[tokio::test]
async fn seed_binding_form_and_errors() {
    let s = TestServer::start().await;
    s.call(Method::POST, "/api/v1beta1/pods", Some(seed_pod()))
        .await;
    let (code, st) = s
        .call(
            Method::POST,
            "/api/v1beta1/bindings",
            Some(json!({"podID": "redis", "host": "127.0.0.1"})),
        )
        .await;
    assert_eq!(code, 201, "{st}");
    assert_eq!(st["apiVersion"], "v1beta1");
    let (_, p) = s.call(Method::GET, "/api/v1beta1/pods/redis", None).await;
    assert_eq!(p["desiredState"]["host"], "127.0.0.1");
    assert_eq!(p["currentState"]["host"], "127.0.0.1");

    let cases = [
        (
            "/api/v1/namespaces/default/pods/missing/binding",
            binding("missing", "n1"),
            404,
            "NotFound",
        ),
        (
            "/api/v1/namespaces/default/pods/redis/binding",
            binding("redis", ""),
            422,
            "Invalid",
        ),
        (
            "/api/v1/namespaces/default/pods/redis/binding",
            binding("other", "n1"),
            400,
            "BadRequest",
        ),
        (
            "/api/v1/namespaces/default/pods/redis/binding",
            json!({"kind": "Pod"}),
            400,
            "BadRequest",
        ),
        (
            "/api/v1/namespaces/default/services/redis/binding",
            binding("redis", "n1"),
            404,
            "NotFound",
        ),
    ];
    for (path, body, want_code, want_reason) in cases {
        let before = s.snapshot().await;
        let (code, st) = s.call(Method::POST, path, Some(body)).await;
        assert_eq!(
            (code, st["reason"].as_str()),
            (want_code, Some(want_reason)),
            "{path}: {st}"
        );
        assert_eq!(s.snapshot().await, before, "{path}");
    }
}

#[tokio::test]
async fn status_subresource_writes_only_status() {
    let s = TestServer::start().await;
    let (_, created) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod("p", json!({}))),
        )
        .await;

    // A plain update cannot change status.
    let mut plain = created.clone();
    plain["status"]["phase"] = json!("Running");
    let (code, after_plain) = s
        .call(
            Method::PUT,
            "/api/v1/namespaces/default/pods/p",
            Some(plain),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(after_plain["status"]["phase"], "Pending");

    // The status subresource changes status and nothing else.
    let mut st = after_plain.clone();
    st["status"]["phase"] = json!("Running");
    st["status"]["podIP"] = json!("10.0.0.5");
    st["spec"]["containers"][0]["image"] = json!("evil:1");
    let (code, updated) = s
        .call(
            Method::PUT,
            "/api/v1/namespaces/default/pods/p/status",
            Some(st.clone()),
        )
        .await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["status"]["phase"], "Running");
    assert_eq!(updated["status"]["podIP"], "10.0.0.5");
    assert_eq!(updated["spec"]["containers"][0]["image"], "busybox:1.36");

    // The same body again carries a stale resourceVersion.
    let (code, conflict) = s
        .call(
            Method::PUT,
            "/api/v1/namespaces/default/pods/p/status",
            Some(st),
        )
        .await;
    assert_eq!((code, conflict["reason"].as_str()), (409, Some("Conflict")));
    let (code, got) = s
        .call(
            Method::GET,
            "/api/v1/namespaces/default/pods/p/status",
            None,
        )
        .await;
    assert_eq!(
        (code, got["status"]["phase"].as_str()),
        (200, Some("Running"))
    );
    let (code, _) = s
        .call(Method::GET, "/api/v1/namespaces/default/pods/p/logs", None)
        .await;
    assert_eq!(code, 404);
}
