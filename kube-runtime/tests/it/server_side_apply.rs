//! Server-side apply (`application/apply-patch+yaml`) and `metadata.managedFields` over raw
//! HTTP: create by apply, idempotent re-apply, conflicts and force, shared and separate
//! ownership, pruning, recorded updates, bad requests that change nothing.

use crate::support::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

const APPLY: &str = "application/apply-patch+yaml";
const PODS: &str = "/api/v1/namespaces/default/pods";
const P: &str = "/api/v1/namespaces/default/pods/p";
const RC: &str = "/api/v1/namespaces/default/replicationcontrollers/web";

/// Sends `body` with `ctype` (and a User-Agent when given); returns the code and the JSON.
async fn send(
    s: &TestServer,
    method: Method,
    path: &str,
    ctype: &str,
    body: &str,
    user_agent: Option<&str>,
) -> (u16, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(s.url(path))
        .header("content-type", ctype);
    if let Some(ua) = user_agent {
        b = b.header("user-agent", ua);
    }
    let client = Client::builder(TokioExecutor::new()).build_http();
    let resp = client
        .request(b.body(Full::new(Bytes::from(body.to_string()))).unwrap())
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {bytes:?}"));
    (code, v)
}

async fn apply(s: &TestServer, path: &str, query: &str, yaml: &str) -> (u16, Value) {
    send(
        s,
        Method::PATCH,
        &format!("{path}?{query}"),
        APPLY,
        yaml,
        None,
    )
    .await
}

const POD_YAML: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    app: web
    tier: front
spec:
  containers:
  - name: c
    image: busybox:1.36
";

/// The entry of `manager` (and `operation`) in an object's managed fields.
fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

#[tokio::test]
async fn apply_creates_then_reapplying_changes_nothing() {
    let s = TestServer::start().await;
    let (code, created) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    // Defaulted as any create.
    assert_eq!(created["spec"]["restartPolicy"], "Always");
    let e = entry(&created, "m", "Apply").expect("an Apply entry");
    assert_eq!(e["apiVersion"], "v1");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert!(e["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{e}");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}},
               "f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
    );
    assert_eq!(
        created["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, got) = s.call(Method::GET, P, None).await;
    assert_eq!(
        got["metadata"]["managedFields"],
        created["metadata"]["managedFields"]
    );

    // The same apply again: no write, no new resourceVersion (as Kubernetes).
    let before = s.snapshot().await;
    let (code, again) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(
        again["metadata"]["resourceVersion"],
        got["metadata"]["resourceVersion"]
    );
    assert_eq!(s.snapshot().await, before);

    // JSON is YAML too.
    let json_body = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web","tier":"front"}},
        "spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}"#;
    let (code, _) = apply(&s, P, "fieldManager=m", json_body).await;
    assert_eq!(code, 200);
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn an_update_by_kubectl_then_a_conflicting_apply_then_force() {
    let s = TestServer::start().await;
    let body = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
    let (code, created) = send(
        &s,
        Method::POST,
        &format!("{PODS}?fieldManager=kubectl-client-side-apply"),
        "application/json",
        &body.to_string(),
        None,
    )
    .await;
    assert_eq!(code, 201, "{created}");
    let e = entry(&created, "kubectl-client-side-apply", "Update").expect("an Update entry");
    assert_eq!(
        e["fieldsV1"]["f:metadata"],
        json!({"f:labels": {".": {}, "f:app": {}}})
    );

    let before = s.snapshot().await;
    let config = POD_YAML.replace("app: web", "app: api");
    let (code, st) = apply(&s, P, "fieldManager=m", &config).await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["reason"], "Conflict");
    assert_eq!(
        st["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .metadata.labels.app"
    );
    assert_eq!(
        st["details"]["causes"],
        json!([{"reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl-client-side-apply\" using v1",
                "field": ".metadata.labels.app"}])
    );
    assert_eq!(s.snapshot().await, before, "a conflict changed the store");

    let (code, forced) = apply(&s, P, "fieldManager=m&force=true", &config).await;
    assert_eq!(code, 200, "{forced}");
    assert_eq!(forced["metadata"]["labels"]["app"], "api");
    let kubectl = entry(&forced, "kubectl-client-side-apply", "Update").expect("kept");
    assert_eq!(kubectl["fieldsV1"]["f:metadata"]["f:labels"], json!({}));
    let mine = entry(&forced, "m", "Apply").expect("the applier");
    assert_eq!(
        mine["fieldsV1"]["f:metadata"]["f:labels"],
        json!({"f:app": {}, "f:tier": {}})
    );
    // Same values as the other manager's: shared, no conflict (the image).
    assert!(
        mine["fieldsV1"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["f:image"].is_object()
    );
}

#[tokio::test]
async fn a_manager_that_stops_applying_a_label_removes_it_unless_shared() {
    let s = TestServer::start().await;
    let (code, _) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 201);
    // n applies tier with the same value: both own it.
    let n = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    tier: front\n";
    let (code, shared) = apply(&s, P, "fieldManager=n", n).await;
    assert_eq!(code, 200, "{shared}");
    // m drops both labels: app goes, tier stays (n still applies it).
    let fewer = POD_YAML.replace("    app: web\n    tier: front\n", "    other: x\n");
    let (code, out) = apply(&s, P, "fieldManager=m", &fewer).await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(
        out["metadata"]["labels"],
        json!({"other": "x", "tier": "front"})
    );
    let (_, got) = s.call(Method::GET, P, None).await;
    assert_eq!(
        got["metadata"]["labels"],
        json!({"other": "x", "tier": "front"})
    );
}

#[tokio::test]
async fn two_managers_own_different_containers_of_one_template() {
    let s = TestServer::start().await;
    let rc = |container: &str| {
        format!(
            "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: {container}\n        image: busybox:1.36\n"
        )
    };
    let (code, _) = apply(&s, RC, "fieldManager=a", &rc("a")).await;
    assert_eq!(code, 201);
    let b_only = "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: b\n        image: busybox:1.37\n";
    let (code, both) = apply(&s, RC, "fieldManager=b", b_only).await;
    assert_eq!(code, 200, "{both}");
    let names: Vec<&str> = both["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let b = entry(&both, "b", "Apply").unwrap();
    assert_eq!(
        b["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"],
        json!({"k:{\"name\":\"b\"}": {".": {}, "f:image": {}, "f:name": {}}})
    );
    // b stops applying its container: it goes, a's stays.
    let none = "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: web\n";
    let (code, after) = apply(&s, RC, "fieldManager=b", none).await;
    assert_eq!(code, 200, "{after}");
    let names: Vec<&str> = after["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a"]);
    assert!(entry(&after, "b", "Apply").is_none(), "{after}");
}

#[tokio::test]
async fn writes_record_update_entries_named_after_the_user_agent() {
    let s = TestServer::start().await;
    let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
    let (code, created) = send(
        &s,
        Method::POST,
        PODS,
        "application/json",
        &body.to_string(),
        Some("kubectl/v1.20.0 (linux/amd64) kubernetes/af46c47"),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    let e = entry(&created, "kubectl", "Update").expect("kubectl's entry");
    let fields = &e["fieldsV1"];
    assert!(
        fields["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["f:image"].is_object(),
        "{fields}"
    );
    // Defaults the create brought are the creator's, status is nobody's.
    assert!(fields["f:spec"]["f:restartPolicy"].is_object(), "{fields}");
    assert!(fields.get("f:status").is_none() && fields["f:metadata"].get("f:name").is_none());
    // A merge patch by kubecfg takes the label it sets.
    let (code, patched) = send(
        &s,
        Method::PATCH,
        P,
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"x":"1"}}}"#,
        Some("kubecfg/0.5"),
    )
    .await;
    assert_eq!(code, 200, "{patched}");
    let e = entry(&patched, "kubecfg", "Update").expect("kubecfg's entry");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:metadata": {"f:labels": {".": {}, "f:x": {}}}})
    );
    // A status write is recorded for the status subresource only.
    let (code, st) = send(
        &s,
        Method::PATCH,
        &format!("{P}/status"),
        "application/merge-patch+json",
        r#"{"status":{"phase":"Running"}}"#,
        Some("kubelet/v1"),
    )
    .await;
    assert_eq!(code, 200, "{st}");
    let e = entry(&st, "kubelet", "Update").expect("kubelet's entry");
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
    // v1beta1 shows no managed fields and an update there keeps them.
    let (code, old) = s.call(Method::GET, "/api/v1beta1/pods/p", None).await;
    assert_eq!(code, 200);
    assert!(!old.to_string().contains("managedFields"), "{old}");
    let (code, _) = s.call(Method::PUT, "/api/v1beta1/pods/p", Some(old)).await;
    assert_eq!(code, 200);
    let (_, now) = s.call(Method::GET, P, None).await;
    assert!(entry(&now, "kubectl", "Update").is_some(), "{now}");
}

#[tokio::test]
async fn bad_applies_change_nothing() {
    let s = TestServer::start().await;
    let (code, _) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 201);
    // (query, body, code, reason)
    let cases: [(&str, &str, u16, &str); 7] = [
        ("", POD_YAML, 422, "Invalid"),
        ("fieldManager=m", "metadata: [", 400, "BadRequest"),
        ("fieldManager=m", "- a\n- b\n", 400, "BadRequest"),
        ("fieldManager=m&force=perhaps", POD_YAML, 400, "BadRequest"),
        (
            "fieldManager=m",
            "apiVersion: v2\nkind: Pod\nmetadata:\n  name: p\n",
            400,
            "BadRequest",
        ),
        (
            "fieldManager=m",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\n",
            400,
            "BadRequest",
        ),
        (
            "fieldManager=m",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: x\n",
            400,
            "BadRequest",
        ),
    ];
    let (_, st) = apply(&s, P, "", POD_YAML).await;
    assert_eq!(
        st["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        "{st}"
    );
    for (query, body, want, reason) in cases {
        let before = s.snapshot().await;
        let (code, st) = apply(&s, P, query, body).await;
        assert_eq!(code, want, "{query} {body:?}: {st}");
        assert_eq!(st["reason"], reason, "{query} {body:?}: {st}");
        assert_eq!(
            s.snapshot().await,
            before,
            "{query} {body:?} changed the store"
        );
    }
    // force is only for apply.
    let (code, st) = send(
        &s,
        Method::PATCH,
        &format!("{P}?force=true"),
        "application/merge-patch+json",
        "{}",
        None,
    )
    .await;
    assert_eq!(code, 422, "{st}");
    // A dry-run apply creates nothing.
    let before = s.snapshot().await;
    let q = POD_YAML.replace("name: p", "name: q");
    let (code, dry) = apply(
        &s,
        "/api/v1/namespaces/default/pods/q",
        "fieldManager=m&dryRun=All",
        &q,
    )
    .await;
    assert_eq!(code, 201, "{dry}");
    assert!(entry(&dry, "m", "Apply").is_some());
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn apply_to_status_owns_status_fields() {
    let s = TestServer::start().await;
    let (code, _) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 201);
    let status = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nstatus:\n  phase: Running\n";
    let (code, out) = apply(&s, &format!("{P}/status"), "fieldManager=kubelet", status).await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["status"]["phase"], "Running");
    let e = entry(&out, "kubelet", "Apply").expect("the status applier");
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
    // Missing objects are not created through /status.
    let (code, _) = apply(
        &s,
        &format!("{PODS}/zz/status"),
        "fieldManager=kubelet",
        &status.replace("name: p", "name: zz"),
    )
    .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn an_empty_managed_fields_list_resets_them_an_absent_one_keeps_them_and_apply_restarts() {
    let s = TestServer::start().await;
    let (code, created) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 201, "{created}");
    // Absent: the stored entries stay (clients that do not know managedFields lose nothing).
    let mut put = created.clone();
    put["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    put["metadata"]["labels"]["x"] = json!("1");
    let (code, kept) = send(
        &s,
        Method::PUT,
        P,
        "application/json",
        &put.to_string(),
        Some("u/1"),
    )
    .await;
    assert_eq!(code, 200, "{kept}");
    assert!(entry(&kept, "m", "Apply").is_some(), "{kept}");
    assert!(entry(&kept, "u", "Update").is_some(), "{kept}");
    // `[]` (or `[{}]`): reset, and the object stays untracked, even by this write's changes
    // (Kubernetes' isResetManagedFields and skipNonAppliedManager).
    let (code, cleared) = send(
        &s,
        Method::PATCH,
        P,
        "application/merge-patch+json",
        r#"{"metadata":{"managedFields":[],"labels":{"y":"2"}}}"#,
        Some("u/1"),
    )
    .await;
    assert_eq!(code, 200, "{cleared}");
    assert_eq!(cleared["metadata"]["labels"]["y"], "2");
    assert!(
        cleared["metadata"].get("managedFields").is_none(),
        "{cleared}"
    );
    let mut put = cleared.clone();
    put["metadata"]["labels"]["z"] = json!("3");
    let (code, still) = send(
        &s,
        Method::PUT,
        P,
        "application/json",
        &put.to_string(),
        Some("u/1"),
    )
    .await;
    assert_eq!(code, 200, "{still}");
    assert!(still["metadata"].get("managedFields").is_none(), "{still}");
    // An apply starts tracking again: what was there belongs to `before-first-apply`, so
    // changing it conflicts.
    let (code, st) = apply(
        &s,
        P,
        "fieldManager=m",
        &POD_YAML.replace("app: web", "app: api"),
    )
    .await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(
        st["details"]["causes"][0]["message"],
        "conflict with \"before-first-apply\" using v1"
    );
    let (code, applied) = apply(&s, P, "fieldManager=m", POD_YAML).await;
    assert_eq!(code, 200, "{applied}");
    assert!(
        entry(&applied, "before-first-apply", "Update").is_some(),
        "{applied}"
    );
    assert!(entry(&applied, "m", "Apply").is_some(), "{applied}");
}

/// `fieldValidation` on an apply: unknown and repeated members of the applied configuration
/// are warnings by default (Warn) and under Warn, silent under Ignore, and under Strict a 422
/// naming them that writes nothing.
#[tokio::test]
async fn apply_follows_field_validation() {
    let s = TestServer::start().await;
    let (code, _) = apply(&s, P, "fieldManager=a", POD_YAML).await;
    assert_eq!(code, 201);
    let bad = POD_YAML.replace("spec:\n", "spec:\n  bogus: 1\n") + "metadata:\n  name: p\n";
    let warnings = |resp: &hyper::Response<hyper::body::Incoming>| -> Vec<String> {
        resp.headers()
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    };
    // (query, code, warnings)
    let unknown = r#"299 - "unknown field \"spec.bogus\"""#;
    let repeated = r#"299 - "duplicate field \"metadata\"""#;
    let cases: [(&str, u16, Vec<&str>); 3] = [
        ("", 200, vec![repeated, unknown]),
        ("&fieldValidation=Warn", 200, vec![repeated, unknown]),
        ("&fieldValidation=Ignore", 200, vec![]),
    ];
    for (query, code, want) in cases {
        let path = format!("{P}?fieldManager=a&dryRun=All{query}");
        let resp = s
            .send(Method::PATCH, &path, Some(APPLY), bad.clone().into_bytes())
            .await;
        assert_eq!(resp.status().as_u16(), code, "{query}");
        assert_eq!(warnings(&resp), want, "{query}");
    }
    let before = s.snapshot().await;
    let (code, status) = apply(&s, P, "fieldManager=a&fieldValidation=Strict", &bad).await;
    assert_eq!(code, 422, "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(r#"unknown field "spec.bogus""#)
            && message.contains(r#"duplicate field "metadata""#),
        "{message}"
    );
    assert_eq!(s.snapshot().await, before);
}

/// A scale through `/scale` (PUT or PATCH) is recorded as its writer's `Update` of
/// `spec.replicas`, so an apply of another count conflicts with it until forced, as
/// `kubectl scale` then `kubectl apply --server-side` does in Kubernetes.
#[tokio::test]
async fn a_scale_owns_the_replicas_an_apply_then_conflicts_with() {
    let s = TestServer::start().await;
    let rc = "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: c\n        image: busybox:1.36\n";
    let (code, _) = apply(&s, RC, "fieldManager=deployer", rc).await;
    assert_eq!(code, 201);
    for (method, ctype, body, replicas) in [
        (
            Method::PUT,
            "application/json",
            r#"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":3}}"#,
            3,
        ),
        (
            Method::PATCH,
            "application/merge-patch+json",
            r#"{"spec":{"replicas":4}}"#,
            4,
        ),
    ] {
        let path = format!("{RC}/scale?fieldManager=scaler");
        let (code, scale) = send(&s, method, &path, ctype, body, None).await;
        assert_eq!((code, &scale["spec"]["replicas"]), (200, &json!(replicas)));
    }
    let (_, obj) = send(&s, Method::GET, RC, "application/json", "", None).await;
    let scaler = entry(&obj, "scaler", "Update").expect("the scaler's entry");
    assert_eq!(scaler["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    let (code, st) = apply(&s, RC, "fieldManager=deployer", rc).await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(
        st["message"],
        "Apply failed with 1 conflict: conflict with \"scaler\" using v1: .spec.replicas"
    );
    let (code, forced) = apply(&s, RC, "fieldManager=deployer&force=true", rc).await;
    assert_eq!((code, &forced["spec"]["replicas"]), (200, &json!(1)));
}
