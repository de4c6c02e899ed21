//! `dryRun=All` on every write: decoded, defaulted, validated and answered as if written, never
//! stored (the store's revision and keys stay the same, and watchers see nothing); any other
//! value is 400. `fieldManager` is accepted on writes when valid.

use crate::support::{pod, TestServer};
use hyper::Method;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/namespaces/default/pods";
const P: &str = "/api/v1/namespaces/default/pods/p";
const MERGE: &str = "application/merge-patch+json";

async fn send(s: &TestServer, method: Method, path: &str, ctype: &str, body: &str) -> (u16, Value) {
    let (code, bytes) = s
        .raw(method, path, Some(ctype), body.as_bytes().to_vec())
        .await;
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {bytes:?}"));
    (code, v)
}

fn dry(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}dryRun=All")
}

async fn with_pod() -> TestServer {
    let s = TestServer::start().await;
    let (code, body) = s
        .call(Method::POST, PODS, Some(pod("p", json!({"a": "1"}))))
        .await;
    assert_eq!(code, 201, "{body}");
    s
}

#[tokio::test]
async fn a_dry_run_create_answers_the_object_and_stores_nothing() {
    let s = with_pod().await;
    let before = s.snapshot().await;
    let mut body = pod("q", json!({}));
    body["spec"]["containers"][0]["imagePullPolicy"] = Value::Null;
    let (code, created) = s.call(Method::POST, &dry(PODS), Some(body)).await;
    assert_eq!(code, 201, "{created}");
    let m = &created["metadata"];
    assert_eq!(m["name"], "q");
    assert!(
        m["uid"].as_str().is_some_and(|u| !u.is_empty()),
        "{created}"
    );
    assert!(m["creationTimestamp"].is_string(), "{created}");
    assert!(m.get("resourceVersion").is_none(), "{created}");
    assert_eq!(
        created["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent",
        "defaulted"
    );
    assert_eq!(s.snapshot().await, before, "a dry-run create was stored");
    let (code, _) = s.call(Method::GET, &format!("{PODS}/q"), None).await;
    assert_eq!(code, 404);
    // generateName is filled in too.
    let mut body = pod("", json!({}));
    body["metadata"]["generateName"] = json!("gen-");
    let (code, created) = s.call(Method::POST, &dry(PODS), Some(body)).await;
    assert_eq!(code, 201, "{created}");
    assert!(created["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("gen-") && n.len() > 4));
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn a_dry_run_write_is_refused_as_the_real_one_would_be() {
    let s = with_pod().await;
    let before = s.snapshot().await;
    let mut invalid = pod("bad", json!({}));
    invalid["spec"]["restartPolicy"] = json!("Sometimes");
    let cases: [(Method, &str, &str, String, u16); 6] = [
        (Method::POST, PODS, "application/json", invalid.to_string(), 422),
        (Method::POST, PODS, "application/json", pod("p", json!({})).to_string(), 409),
        (Method::POST, PODS, "application/json", "{not json".into(), 400),
        (
            Method::PUT,
            P,
            "application/json",
            json!({"metadata": {"name": "p", "resourceVersion": "999"}, "spec": pod("p", json!({}))["spec"]}).to_string(),
            409,
        ),
        (Method::PATCH, &format!("{PODS}/missing"), MERGE, "{}".into(), 404),
        (Method::DELETE, &format!("{PODS}/missing"), "application/json", String::new(), 404),
    ];
    for (method, path, ctype, body, want) in cases {
        let (code, st) = send(&s, method.clone(), &dry(path), ctype, &body).await;
        assert_eq!(code, want, "{method} {path} {body}: {st}");
        assert_eq!(st["kind"], "Status");
    }
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn dry_run_updates_patches_and_deletes_change_nothing() {
    let s = with_pod().await;
    let (_, current) = s.call(Method::GET, P, None).await;
    let rv = current["metadata"]["resourceVersion"].clone();
    let before = s.snapshot().await;
    let mut watch = s
        .watch(&format!(
            "{PODS}?watch=true&resourceVersion={}",
            rv.as_str().unwrap_or_default()
        ))
        .await;

    let mut updated = current.clone();
    updated["metadata"]["labels"]["a"] = json!("2");
    let (code, got) = s.call(Method::PUT, &dry(P), Some(updated)).await;
    assert_eq!(
        (code, &got["metadata"]["labels"]["a"]),
        (200, &json!("2")),
        "{got}"
    );
    assert_eq!(
        got["metadata"]["resourceVersion"], rv,
        "not written: same version"
    );

    let (code, got) = send(
        &s,
        Method::PATCH,
        &dry(P),
        MERGE,
        r#"{"metadata":{"labels":{"b":"3"}}}"#,
    )
    .await;
    assert_eq!(
        (code, &got["metadata"]["labels"]["b"]),
        (200, &json!("3")),
        "{got}"
    );

    let status = format!("{P}/status");
    let (code, got) = send(
        &s,
        Method::PATCH,
        &dry(&status),
        MERGE,
        r#"{"status":{"phase":"Running"}}"#,
    )
    .await;
    assert_eq!(
        (code, &got["status"]["phase"]),
        (200, &json!("Running")),
        "{got}"
    );
    let mut with_status = current.clone();
    with_status["status"]["phase"] = json!("Failed");
    let (code, got) = s.call(Method::PUT, &dry(&status), Some(with_status)).await;
    assert_eq!(
        (code, &got["status"]["phase"]),
        (200, &json!("Failed")),
        "{got}"
    );

    let (code, got) = s.call(Method::DELETE, &dry(P), None).await;
    assert_eq!(
        (code, &got["metadata"]["name"]),
        (200, &json!("p")),
        "{got}"
    );

    let binding = json!({"metadata": {"name": "p"}, "target": {"name": "n1"}});
    let (code, got) = s
        .call(Method::POST, &dry(&format!("{P}/binding")), Some(binding))
        .await;
    assert_eq!(code, 201, "{got}");

    assert_eq!(s.snapshot().await, before, "a dry run changed the store");
    assert!(
        watch.quiet_for(std::time::Duration::from_millis(100)).await,
        "a dry run was watched"
    );
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(stored, current);
}

#[tokio::test]
async fn a_dry_run_graceful_delete_shows_the_mark_and_leaves_the_pod() {
    let s = with_pod().await;
    let binding = json!({"metadata": {"name": "p"}, "target": {"name": "n1"}});
    let (code, _) = s
        .call(Method::POST, &format!("{P}/binding"), Some(binding))
        .await;
    assert_eq!(code, 201);
    let before = s.snapshot().await;
    let (code, got) = s
        .call(
            Method::DELETE,
            &dry(&format!("{P}?gracePeriodSeconds=10")),
            None,
        )
        .await;
    assert_eq!(code, 200, "{got}");
    assert!(got["metadata"]["deletionTimestamp"].is_string(), "{got}");
    assert_eq!(got["metadata"]["deletionGracePeriodSeconds"], 10);
    assert_eq!(s.snapshot().await, before);
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert!(
        stored["metadata"].get("deletionTimestamp").is_none(),
        "{stored}"
    );
}

#[tokio::test]
async fn dry_run_scale_changes_nothing() {
    let s = TestServer::start().await;
    let rc = json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"app": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
    });
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/replicationcontrollers",
            Some(rc),
        )
        .await;
    assert_eq!(code, 201);
    let scale = "/api/v1/namespaces/default/replicationcontrollers/web/scale";
    let before = s.snapshot().await;
    let (code, got) = s
        .call(
            Method::PUT,
            &dry(scale),
            Some(json!({"spec": {"replicas": 4}})),
        )
        .await;
    assert_eq!((code, &got["spec"]["replicas"]), (200, &json!(4)), "{got}");
    let (code, got) = send(
        &s,
        Method::PATCH,
        &dry(scale),
        MERGE,
        r#"{"spec":{"replicas":5}}"#,
    )
    .await;
    assert_eq!((code, &got["spec"]["replicas"]), (200, &json!(5)), "{got}");
    let (code, got) = s
        .call(
            Method::PUT,
            &dry(scale),
            Some(json!({"spec": {"replicas": -1}})),
        )
        .await;
    assert_eq!(code, 422, "{got}");
    assert_eq!(s.snapshot().await, before);
    let (_, got) = s.call(Method::GET, scale, None).await;
    assert_eq!(got["spec"]["replicas"], 1);
}

#[tokio::test]
async fn other_dry_run_values_and_bad_field_managers_are_400() {
    let s = with_pod().await;
    let before = s.snapshot().await;
    let long = "m".repeat(129);
    let queries = [
        "dryRun=all".to_string(),
        "dryRun=".into(),
        "dryRun=None".into(),
        format!("fieldManager={long}"),
        "fieldManager=a%0Ab".into(),
    ];
    for q in &queries {
        for (method, path) in [(Method::POST, PODS), (Method::PUT, P), (Method::DELETE, P)] {
            let body = if method == Method::DELETE {
                None
            } else {
                Some(pod("p", json!({"changed": "yes"})))
            };
            let (code, st) = s.call(method.clone(), &format!("{path}?{q}"), body).await;
            assert_eq!(
                (code, st["reason"].as_str()),
                (400, Some("BadRequest")),
                "{method} {q}: {st}"
            );
            let named = st["details"]["causes"][0]["field"]
                .as_str()
                .unwrap_or_default();
            assert!(q.starts_with(named) && !named.is_empty(), "{q}: {st}");
        }
    }
    assert_eq!(s.snapshot().await, before);
    // A valid manager is accepted (and not recorded yet).
    let (code, got) = s
        .call(
            Method::POST,
            &format!("{PODS}?fieldManager=kubectl-create"),
            Some(pod("q", json!({}))),
        )
        .await;
    assert_eq!(code, 201, "{got}");
}
