//! The `/scale` subresource of replication controllers (`autoscaling/v1` `Scale`) over raw
//! HTTP: GET, PUT and PATCH change only `spec.replicas`, through the registry's
//! compare-and-swap; stale, negative, missing and misplaced requests change nothing.

use crate::support::TestServer;
use hyper::Method;
use serde_json::{json, Value};

const RCS: &str = "/api/v1/namespaces/default/replicationcontrollers";
const RC: &str = "/api/v1/namespaces/default/replicationcontrollers/web";
const SCALE: &str = "/api/v1/namespaces/default/replicationcontrollers/web/scale";
const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";

fn rc(replicas: i32) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web", "labels": {"tier": "front"}},
        "spec": {
            "replicas": replicas,
            "selector": {"app": "web", "tier": "front"},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "front"}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}
            }
        }
    })
}

async fn with_rc(replicas: i32) -> (TestServer, Value) {
    let s = TestServer::start().await;
    let (code, created) = s.call(Method::POST, RCS, Some(rc(replicas))).await;
    assert_eq!(code, 201, "{created}");
    (s, created)
}

/// Sends `body` with `ctype` and decodes the JSON answer.
async fn send(s: &TestServer, method: Method, path: &str, ctype: &str, body: &str) -> (u16, Value) {
    let (code, bytes) = s
        .raw(method, path, Some(ctype), body.as_bytes().to_vec())
        .await;
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {bytes:?}"));
    (code, v)
}

/// The field of the first cause of a Status.
fn first_cause(st: &Value) -> &str {
    st["details"]["causes"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn get_scale_mirrors_the_controller() {
    let (s, created) = with_rc(2).await;
    let (code, scale) = s.call(Method::GET, SCALE, None).await;
    assert_eq!(code, 200, "{scale}");
    let m = &created["metadata"];
    assert_eq!(
        scale,
        json!({
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                "name": "web", "namespace": "default", "uid": m["uid"],
                "resourceVersion": m["resourceVersion"],
                "creationTimestamp": m["creationTimestamp"],
            },
            "spec": {"replicas": 2},
            "status": {"replicas": 0, "selector": "app=web,tier=front"}
        })
    );
}

#[tokio::test]
async fn put_changes_only_the_replicas() {
    let (s, created) = with_rc(2).await;
    let body = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 5}, "status": {"replicas": 99, "selector": "x=y"}});
    let (code, scale) = s.call(Method::PUT, SCALE, Some(body)).await;
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["spec"]["replicas"], 5);
    assert_eq!(
        scale["status"],
        json!({"replicas": 0, "selector": "app=web,tier=front"})
    );
    let (_, stored) = s.call(Method::GET, RC, None).await;
    assert_eq!(
        stored["metadata"]["resourceVersion"],
        scale["metadata"]["resourceVersion"]
    );
    assert_eq!(
        stored["metadata"]["generation"], 2,
        "a spec change bumps the generation"
    );
    // Nothing but spec.replicas (and the versions) changed.
    let without_versions = |mut v: Value| {
        v["metadata"]["resourceVersion"] = Value::Null;
        v["metadata"]["generation"] = Value::Null;
        v
    };
    let mut want = without_versions(created);
    want["spec"]["replicas"] = json!(5);
    assert_eq!(without_versions(stored), want);
    // Zero is a valid count, and a YAML body is accepted.
    let (code, scale) = send(
        &s,
        Method::PUT,
        SCALE,
        "application/yaml",
        "spec:\n  replicas: 0\n",
    )
    .await;
    assert_eq!((code, &scale["spec"]), (200, &json!({})), "{scale}");
    let (_, stored) = s.call(Method::GET, RC, None).await;
    assert_eq!(stored["spec"]["replicas"], 0);
}

#[tokio::test]
async fn a_stale_resource_version_is_409_and_a_current_one_applies() {
    let (s, created) = with_rc(1).await;
    let stale = created["metadata"]["resourceVersion"].clone();
    // Another write moves the controller on.
    let (code, _) = send(
        &s,
        Method::PATCH,
        RC,
        MERGE,
        r#"{"metadata":{"labels":{"x":"1"}}}"#,
    )
    .await;
    assert_eq!(code, 200);
    let before = s.snapshot().await;
    let body =
        json!({"metadata": {"name": "web", "resourceVersion": stale}, "spec": {"replicas": 3}});
    let (code, st) = s.call(Method::PUT, SCALE, Some(body)).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (409, Some("Conflict")),
        "{st}"
    );
    assert_eq!(s.snapshot().await, before, "a conflict changed the store");
    // A merge patch pinning the stale version conflicts too.
    let pinned = format!(r#"{{"metadata":{{"resourceVersion":{stale}}},"spec":{{"replicas":3}}}}"#);
    let (code, st) = send(&s, Method::PATCH, SCALE, MERGE, &pinned).await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(s.snapshot().await, before);
    let (_, current) = s.call(Method::GET, SCALE, None).await;
    let body = json!({"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
        "spec": {"replicas": 3}});
    let (code, scale) = s.call(Method::PUT, SCALE, Some(body)).await;
    assert_eq!(
        (code, &scale["spec"]["replicas"]),
        (200, &json!(3)),
        "{scale}"
    );
}

#[tokio::test]
async fn negative_replicas_are_422_with_a_cause() {
    let (s, _) = with_rc(1).await;
    let before = s.snapshot().await;
    let (code, st) = s
        .call(Method::PUT, SCALE, Some(json!({"spec": {"replicas": -1}})))
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (422, Some("Invalid")),
        "{st}"
    );
    assert_eq!(st["details"]["kind"], "Scale", "{st}");
    assert_eq!(first_cause(&st), "spec.replicas", "{st}");
    let (code, st) = send(
        &s,
        Method::PATCH,
        SCALE,
        MERGE,
        r#"{"spec":{"replicas":-3}}"#,
    )
    .await;
    assert_eq!((code, first_cause(&st)), (422, "spec.replicas"), "{st}");
    assert_eq!(
        s.snapshot().await,
        before,
        "an invalid scale changed the store"
    );
}

#[tokio::test]
async fn bad_requests_change_nothing() {
    let (s, _) = with_rc(1).await;
    let before = s.snapshot().await;
    let missing = "/api/v1/namespaces/default/replicationcontrollers/nope/scale";
    let cases: [(Method, &str, &str, &str, u16); 9] = [
        (Method::GET, missing, "application/json", "", 404),
        (
            Method::PUT,
            missing,
            "application/json",
            r#"{"spec":{"replicas":1}}"#,
            404,
        ),
        (
            Method::PATCH,
            missing,
            MERGE,
            r#"{"spec":{"replicas":1}}"#,
            404,
        ),
        (
            Method::PUT,
            SCALE,
            "application/json",
            r#"{"metadata":{"name":"other"},"spec":{"replicas":2}}"#,
            400,
        ),
        (
            Method::PUT,
            SCALE,
            "application/json",
            r#"{"metadata":{"namespace":"ns2"},"spec":{"replicas":2}}"#,
            400,
        ),
        (
            Method::PUT,
            SCALE,
            "application/json",
            r#"{"kind":"ReplicationController","spec":{"replicas":2}}"#,
            400,
        ),
        (
            Method::PUT,
            SCALE,
            "application/json",
            r#"{"spec":{"replicas":"2"}}"#,
            400,
        ),
        (
            Method::PATCH,
            SCALE,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"$patch":"explode","replicas":2}}"#,
            400,
        ),
        (
            Method::PATCH,
            SCALE,
            MERGE,
            r#"{"spec":{"replicas":[2]}}"#,
            400,
        ),
    ];
    for (method, path, ctype, body, want) in cases {
        let (code, st) = send(&s, method.clone(), path, ctype, body).await;
        assert_eq!(code, want, "{method} {path} {body}: {st}");
        assert_eq!(st["kind"], "Status", "{method} {path} {body}");
        assert_eq!(
            s.snapshot().await,
            before,
            "{method} {path} {body} changed the store"
        );
    }
    let (code, st) = s.call(Method::GET, missing, None).await;
    assert_eq!(st["reason"], "NotFound", "{code} {st}");
    let (code, _) = s.call(Method::DELETE, SCALE, None).await;
    assert_eq!(code, 405);
    let (code, _) = s.call(Method::POST, SCALE, Some(json!({}))).await;
    assert_eq!(code, 405);
}

#[tokio::test]
async fn merge_and_json_patches_apply_to_the_scale() {
    let (s, _) = with_rc(1).await;
    // What kubectl scale sends.
    let (code, scale) = send(
        &s,
        Method::PATCH,
        SCALE,
        MERGE,
        r#"{"spec":{"replicas":5}}"#,
    )
    .await;
    assert_eq!(
        (code, &scale["spec"]["replicas"]),
        (200, &json!(5)),
        "{scale}"
    );
    let (_, stored) = s.call(Method::GET, RC, None).await;
    assert_eq!(stored["spec"]["replicas"], 5);
    // What `kubectl patch --subresource=scale` sends by default.
    let (code, scale) = send(
        &s,
        Method::PATCH,
        SCALE,
        "application/strategic-merge-patch+json",
        r#"{"spec":{"replicas":5}}"#,
    )
    .await;
    assert_eq!(
        (code, &scale["spec"]["replicas"]),
        (200, &json!(5)),
        "{scale}"
    );
    let (code, scale) = send(
        &s,
        Method::PATCH,
        SCALE,
        JSON_PATCH,
        r#"[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":7}]"#,
    )
    .await;
    assert_eq!(
        (code, &scale["spec"]["replicas"]),
        (200, &json!(7)),
        "{scale}"
    );
    let before = s.snapshot().await;
    let (code, st) = send(
        &s,
        Method::PATCH,
        SCALE,
        JSON_PATCH,
        r#"[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":9}]"#,
    )
    .await;
    assert_eq!(code, 422, "a failed test: {st}");
    assert_eq!(s.snapshot().await, before);
    let (_, stored) = s.call(Method::GET, RC, None).await;
    assert_eq!(stored["spec"]["replicas"], 7);
    // A status in the patch is ignored.
    let (code, scale) = send(
        &s,
        Method::PATCH,
        SCALE,
        MERGE,
        r#"{"status":{"replicas":4}}"#,
    )
    .await;
    assert_eq!(
        (code, &scale["status"]["replicas"]),
        (200, &json!(0)),
        "{scale}"
    );
}

#[tokio::test]
async fn discovery_lists_the_scale_subresource() {
    let s = TestServer::start().await;
    let (code, doc) = s.call(Method::GET, "/api/v1", None).await;
    assert_eq!(code, 200);
    let entry = doc["resources"]
        .as_array()
        .and_then(|rs| {
            rs.iter()
                .find(|r| r["name"] == "replicationcontrollers/scale")
        })
        .cloned();
    assert_eq!(
        entry,
        Some(json!({
            "name": "replicationcontrollers/scale", "singularName": "", "namespaced": true,
            "kind": "Scale", "group": "autoscaling", "version": "v1",
            "verbs": ["get", "patch", "update"]
        }))
    );
    let scales: Vec<&Value> = doc["resources"]
        .as_array()
        .map(|rs| rs.iter().filter(|r| r["kind"] == "Scale").collect())
        .unwrap_or_default();
    assert_eq!(scales.len(), 1, "only replication controllers scale");
    let (_, beta) = s.call(Method::GET, "/api/v1beta1", None).await;
    assert!(!beta.to_string().contains("scale"), "{beta}");
}

#[tokio::test]
async fn scale_is_served_only_on_v1_replication_controllers() {
    let (s, _) = with_rc(1).await;
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(crate::support::pod("p", json!({}))),
        )
        .await;
    assert_eq!(code, 201);
    for path in [
        "/api/v1beta1/replicationControllers/web/scale",
        "/api/v1/namespaces/default/pods/p/scale",
        "/api/v1/namespaces/default/replicationcontrollers/scale",
        "/api/v1/watch/namespaces/default/replicationcontrollers/web/scale",
    ] {
        let (code, st) = s.call(Method::GET, path, None).await;
        assert_eq!(code, 404, "{path}: {st}");
    }
    let before = s.snapshot().await;
    let (code, _) = s
        .call(
            Method::PUT,
            "/api/v1beta1/replicationControllers/web/scale",
            Some(json!({"spec": {"replicas": 4}})),
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(s.snapshot().await, before);
}

/// `get_scale`/`update_scale` of both clients (and of a recording wrapper) go through the
/// subresource: the same answers, conflicts and validation as raw HTTP.
#[tokio::test]
async fn clients_read_and_write_the_scale() {
    use kube_runtime::client::ApiClient;
    use kube_runtime::testing::{RecordingClient, Verb};
    let (s, _) = with_rc(1).await;
    let recording = RecordingClient::new(s.cluster.in_process().clone());
    async fn check<C: ApiClient>(c: &C, to: i32) {
        let mut scale = c.get_scale("default", "web").await.expect("get_scale");
        assert_eq!(scale.status.selector, "app=web,tier=front");
        let stale = scale.clone();
        scale.spec.replicas = to;
        let scaled = c
            .update_scale("default", "web", &scale)
            .await
            .expect("update");
        assert_eq!(scaled.spec.replicas, to);
        assert_ne!(
            scaled.metadata.resource_version,
            stale.metadata.resource_version
        );
        let e = c.update_scale("default", "web", &stale).await.unwrap_err();
        assert!(e.is_conflict(), "{e}");
        let mut negative = scaled.clone();
        negative.spec.replicas = -2;
        negative.metadata.resource_version.clear();
        let e = c
            .update_scale("default", "web", &negative)
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().contains("spec.replicas")),
            (422, true),
            "{e}"
        );
        let e = c.get_scale("default", "nope").await.unwrap_err();
        assert!(e.is_not_found(), "{e}");
        let rc: kube_core::ReplicationController = c.get("default", "web").await.expect("get rc");
        assert_eq!(rc.spec.replicas, Some(to));
    }
    check(s.cluster.http(), 4).await;
    check(s.cluster.in_process(), 6).await;
    check(&recording, 8).await;
    let verbs: Vec<Verb> = recording.calls().iter().map(|c| c.verb).collect();
    assert_eq!(
        verbs[..4],
        [
            Verb::GetScale,
            Verb::UpdateScale,
            Verb::UpdateScale,
            Verb::UpdateScale
        ]
    );
}
