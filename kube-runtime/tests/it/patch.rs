//! PATCH on items and `/status`: JSON Merge Patch, JSON Patch and strategic merge patch
//! through raw HTTP, the same validation and compare-and-swap as an update, retries on
//! conflict, and bad patches that change nothing.

use crate::support::{pod, TestServer};
use async_trait::async_trait;
use hyper::Method;
use kube_core::store::{
    BoxWatchStream, KeyValue, ListRequest, ListResult, Revision, Store, StoreError,
};
use kube_runtime::store::MemoryStore;
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const PODS: &str = "/api/v1/namespaces/default/pods";
const P: &str = "/api/v1/namespaces/default/pods/p";
const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const SMP: &str = "application/strategic-merge-patch+json";

/// Sends a PATCH with `ctype` and returns the status code and the JSON answer.
async fn patch(s: &TestServer, path: &str, ctype: &str, body: &str) -> (u16, Value) {
    let (code, bytes) = s
        .raw(Method::PATCH, path, Some(ctype), body.as_bytes().to_vec())
        .await;
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {bytes:?}"));
    (code, v)
}

async fn with_pod(labels: Value) -> TestServer {
    let s = TestServer::start().await;
    let (code, body) = s.call(Method::POST, PODS, Some(pod("p", labels))).await;
    assert_eq!(code, 201, "{body}");
    s
}

#[tokio::test]
async fn merge_patch_adds_changes_and_removes_labels() {
    let s = with_pod(json!({"keep": "1", "change": "a", "drop": "x"})).await;
    // kubectl's content type carries a charset parameter.
    for ctype in [MERGE, "application/merge-patch+json; charset=utf-8"] {
        let (code, p) = patch(
            &s,
            P,
            ctype,
            r#"{"metadata":{"labels":{"change":"b","drop":null,"new":"n"}}}"#,
        )
        .await;
        assert_eq!(code, 200, "{ctype}: {p}");
        assert_eq!(
            p["metadata"]["labels"],
            json!({"keep": "1", "change": "b", "new": "n"}),
            "{ctype}"
        );
    }
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(
        stored["metadata"]["labels"],
        json!({"keep": "1", "change": "b", "new": "n"})
    );
}

#[tokio::test]
async fn json_patch_add_replace_remove() {
    let s = with_pod(json!({"a": "1", "b": "2"})).await;
    let (code, p) = patch(
        &s,
        P,
        JSON_PATCH,
        r#"[{"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"web"},
            {"op":"replace","path":"/metadata/labels/a","value":"one"},
            {"op":"remove","path":"/metadata/labels/b"},
            {"op":"test","path":"/metadata/labels/a","value":"one"}]"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(
        p["metadata"]["labels"],
        json!({"a": "one", "app.kubernetes.io/name": "web"})
    );
    // An image may change in a pod update, so it may through a patch.
    let (code, p) = patch(
        &s,
        P,
        JSON_PATCH,
        r#"[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:1.37"}]"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["spec"]["containers"][0]["image"], "busybox:1.37");
}

#[tokio::test]
async fn patches_that_do_not_apply_are_422_and_change_nothing() {
    let s = with_pod(json!({"a": "1"})).await;
    let cases = [
        r#"[{"op":"test","path":"/metadata/labels/a","value":"2"},{"op":"add","path":"/metadata/labels/x","value":"y"}]"#,
        r#"[{"op":"remove","path":"/metadata/labels/missing"}]"#,
        r#"[{"op":"replace","path":"/metadata/annotations/missing","value":"v"}]"#,
        // Applies (`-` appends), but a pod's containers cannot change in an update.
        r#"[{"op":"add","path":"/spec/containers/-","value":{"name":"d","image":"busybox"}}]"#,
    ];
    for body in cases {
        let before = s.snapshot().await;
        let (code, st) = patch(&s, P, JSON_PATCH, body).await;
        assert_eq!(code, 422, "{body}: {st}");
        assert_eq!(st["kind"], "Status", "{body}");
        assert_eq!(st["reason"], "Invalid", "{body}: {st}");
        assert_eq!(s.snapshot().await, before, "{body} changed the store");
    }
}

#[tokio::test]
async fn bad_content_types_and_malformed_patches_change_nothing() {
    let s = with_pod(json!({"a": "1"})).await;
    let good = r#"{"metadata":{"labels":{"a":"2"}}}"#;
    let cases: [(&str, &str, u16, &str); 12] = [
        ("application/json", good, 415, "UnsupportedMediaType"),
        ("text/plain", good, 415, "UnsupportedMediaType"),
        ("", good, 415, "UnsupportedMediaType"),
        (SMP, "[1]", 400, "BadRequest"),
        // Apply needs a fieldManager (PatchOptions validation, as Kubernetes).
        ("application/apply-patch+yaml", good, 422, "Invalid"),
        (MERGE, "{not json", 400, "BadRequest"),
        (MERGE, "", 400, "BadRequest"),
        (MERGE, "[1,2]", 400, "BadRequest"),
        (JSON_PATCH, good, 400, "BadRequest"),
        (
            JSON_PATCH,
            r#"[{"op":"jump","path":"/a"}]"#,
            400,
            "BadRequest",
        ),
        // The patched object must still decode strictly.
        (
            MERGE,
            r#"{"spec":{"containers":"nope"}}"#,
            400,
            "BadRequest",
        ),
        (MERGE, r#"{"kind":"Service"}"#, 400, "BadRequest"),
    ];
    for (ctype, body, want_code, want_reason) in cases {
        let before = s.snapshot().await;
        let ct = (!ctype.is_empty()).then_some(ctype);
        let (code, bytes) = s.raw(Method::PATCH, P, ct, body.as_bytes().to_vec()).await;
        let st: Value = serde_json::from_slice(&bytes).expect("a Status");
        assert_eq!(code, want_code, "{ctype} {body}: {st}");
        assert_eq!(st["kind"], "Status", "{ctype} {body}");
        assert_eq!(st["reason"], want_reason, "{ctype} {body}: {st}");
        if want_code == 415 {
            let msg = st["message"].as_str().unwrap_or_default();
            assert!(msg.contains(MERGE) && msg.contains(JSON_PATCH), "{msg}");
        }
        assert_eq!(
            s.snapshot().await,
            before,
            "{ctype} {body} changed the store"
        );
    }
}

#[tokio::test]
async fn status_patch_writes_only_the_status() {
    let s = with_pod(json!({"a": "1"})).await;
    let (code, p) = patch(
        &s,
        &format!("{P}/status"),
        MERGE,
        r#"{"status":{"phase":"Running","hostIP":"10.0.0.1"},"metadata":{"labels":{"a":"ignored"}}}"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(stored["status"]["phase"], "Running");
    assert_eq!(stored["status"]["hostIP"], "10.0.0.1");
    assert_eq!(
        stored["metadata"]["labels"]["a"], "1",
        "status patch left labels alone"
    );
    let (code, p) = patch(
        &s,
        &format!("{P}/status"),
        JSON_PATCH,
        r#"[{"op":"replace","path":"/status/phase","value":"Succeeded"}]"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["status"]["phase"], "Succeeded");
}

#[tokio::test]
async fn node_name_of_a_bound_pod_cannot_be_patched() {
    let s = with_pod(json!({})).await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
                         "target": {"kind": "Node", "name": "n1"}});
    let (code, b) = s
        .call(Method::POST, &format!("{P}/binding"), Some(binding))
        .await;
    assert_eq!(code, 201, "{b}");
    let (_, current) = s.call(Method::GET, P, None).await;
    let mut updated = current.clone();
    updated["spec"]["nodeName"] = json!("n2");
    let (put_code, put) = s.call(Method::PUT, P, Some(updated)).await;
    assert_eq!(put_code, 422, "an update is refused: {put}");
    let before = s.snapshot().await;
    for (ctype, body) in [
        (MERGE, r#"{"spec":{"nodeName":"n2"}}"#),
        (
            JSON_PATCH,
            r#"[{"op":"replace","path":"/spec/nodeName","value":"n2"}]"#,
        ),
    ] {
        let (code, st) = patch(&s, P, ctype, body).await;
        assert_eq!(code, put_code, "{ctype}: {st}");
        assert_eq!(st["reason"], put["reason"], "{ctype}: {st}");
        assert_eq!(s.snapshot().await, before, "{ctype} changed the store");
    }
}

#[tokio::test]
async fn a_stale_resource_version_in_the_patch_is_a_conflict() {
    let s = with_pod(json!({"a": "1"})).await;
    let (_, p) = s.call(Method::GET, P, None).await;
    let rv = p["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (code, _) = patch(&s, P, MERGE, r#"{"metadata":{"labels":{"a":"2"}}}"#).await;
    assert_eq!(code, 200);
    let before = s.snapshot().await;
    let stale = format!(r#"{{"metadata":{{"resourceVersion":"{rv}","labels":{{"a":"3"}}}}}}"#);
    let (code, st) = patch(&s, P, MERGE, &stale).await;
    assert_eq!(code, 409, "{st}");
    assert_eq!(st["reason"], "Conflict");
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn allow_header_lists_patch_on_items_and_status() {
    let s = with_pod(json!({})).await;
    for (path, patchable) in [
        (P.to_string(), true),
        (format!("{P}/status"), true),
        (PODS.to_string(), false),
    ] {
        // POST is served on none of these but the collection; OPTIONS on none.
        let resp = s.send(Method::OPTIONS, &path, None, Vec::new()).await;
        assert_eq!(resp.status().as_u16(), 405, "{path}");
        let allow = resp
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert_eq!(allow.contains("PATCH"), patchable, "{path}: {allow}");
    }
    let (_, doc) = s.call(Method::GET, "/api/v1", None).await;
    let verbs = |name: &str| -> Vec<Value> {
        doc["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name))
            .and_then(|r| r["verbs"].as_array().cloned())
            .unwrap_or_default()
    };
    assert!(verbs("pods").contains(&json!("patch")));
    assert!(verbs("pods/status").contains(&json!("patch")));
    assert!(!verbs("pods/binding").contains(&json!("patch")));
}

/// A store over which, the first time an object under `prefix` is updated, another write to
/// the same object (adding the annotation `racer: won`) lands first: an update racing
/// whatever made that first update.
struct RacingStore {
    inner: MemoryStore,
    prefix: String,
    raced: AtomicBool,
}

#[async_trait]
impl Store for RacingStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.inner.get(key).await
    }
    async fn list_page(
        &self,
        prefix: &str,
        request: &ListRequest,
    ) -> Result<ListResult, StoreError> {
        self.inner.list_page(prefix, request).await
    }
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<KeyValue, StoreError> {
        self.inner.create(key, value).await
    }
    async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        if key.starts_with(&self.prefix) && !self.raced.swap(true, Ordering::SeqCst) {
            let kv = self.inner.get(key).await?.expect("the raced object exists");
            let mut obj: Value = serde_json::from_slice(&kv.value).expect("stored JSON");
            obj["metadata"]["annotations"] = json!({"racer": "won"});
            let racer = serde_json::to_vec(&obj).expect("JSON");
            self.inner.update(key, racer, kv.mod_revision).await?;
        }
        self.inner.update(key, value, expected).await
    }
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        self.inner.delete(key, expected).await
    }
    async fn watch(&self, prefix: &str, after: Revision) -> Result<BoxWatchStream, StoreError> {
        self.inner.watch(prefix, after).await
    }
    async fn current_revision(&self) -> Result<Revision, StoreError> {
        self.inner.current_revision().await
    }
    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.inner.compact(revision).await
    }
}

#[tokio::test]
async fn a_patch_without_resource_version_is_retried_over_a_racing_update() {
    let store = Arc::new(RacingStore {
        inner: MemoryStore::new(),
        prefix: String::new(),
        raced: AtomicBool::new(true),
    });
    let cluster = TestCluster::builder()
        .store(store.clone())
        .start()
        .await
        .expect("cluster");
    let s = TestServer::on(cluster);
    let (code, body) = s.call(Method::POST, PODS, Some(pod("p", json!({})))).await;
    assert_eq!(code, 201, "{body}");
    // The next update of any object is raced.
    store.raced.store(false, Ordering::SeqCst);
    let (code, p) = patch(&s, P, MERGE, r#"{"metadata":{"labels":{"patched":"yes"}}}"#).await;
    assert_eq!(code, 200, "{p}");
    assert!(store.raced.load(Ordering::SeqCst), "the race happened");
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(stored["metadata"]["labels"]["patched"], "yes", "{stored}");
    assert_eq!(
        stored["metadata"]["annotations"]["racer"], "won",
        "{stored}"
    );

    // The same race against a patch that pins the revision it read: 409, the racer's change stays.
    let rv = stored["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    store.raced.store(false, Ordering::SeqCst);
    let pinned =
        format!(r#"{{"metadata":{{"resourceVersion":"{rv}","annotations":{{"racer":"lost"}}}}}}"#);
    let (code, st) = patch(&s, P, MERGE, &pinned).await;
    assert_eq!(code, 409, "{st}");
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(
        stored["metadata"]["annotations"]["racer"], "won",
        "{stored}"
    );
}

#[tokio::test]
async fn v1beta1_items_are_patched_in_their_own_shape() {
    let s = with_pod(json!({"a": "1"})).await;
    let (code, p) = patch(&s, "/api/v1beta1/pods/p", MERGE, r#"{"labels":{"a":"2"}}"#).await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["labels"]["a"], "2", "{p}");
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(stored["metadata"]["labels"]["a"], "2");
}

#[tokio::test]
async fn an_oversized_patch_is_413_and_changes_nothing() {
    let s = with_pod(json!({})).await;
    let before = s.snapshot().await;
    let big = format!(
        r#"{{"metadata":{{"annotations":{{"x":"{}"}}}}}}"#,
        "a".repeat(kube_runtime::apiserver::MAX_BODY_BYTES + 1)
    );
    let (code, st) = patch(&s, P, MERGE, &big).await;
    assert_eq!(code, 413, "{st}");
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn v1beta1_writes_keep_owner_references_and_finalizers() {
    let s = TestServer::start().await;
    let mut body = pod("p", json!({"a": "1"}));
    body["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "v1", "kind": "ReplicationController", "name": "rc",
        "uid": "rc-uid", "controller": true
    }]);
    body["metadata"]["finalizers"] = json!(["example.com/hold"]);
    let (code, created) = s.call(Method::POST, PODS, Some(body)).await;
    assert_eq!(code, 201, "{created}");
    // A seed-era client reads the v1beta1 form (which has neither field) and writes it back.
    let (code, old) = s.call(Method::GET, "/api/v1beta1/pods/p", None).await;
    assert_eq!(code, 200, "{old}");
    let mut edited = old.clone();
    edited["labels"]["a"] = json!("2");
    let (code, put) = s
        .call(Method::PUT, "/api/v1beta1/pods/p", Some(edited))
        .await;
    assert_eq!(code, 200, "{put}");
    let (code, patched) = patch(&s, "/api/v1beta1/pods/p", MERGE, r#"{"labels":{"a":"3"}}"#).await;
    assert_eq!(code, 200, "{patched}");
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(stored["metadata"]["labels"]["a"], "3", "{stored}");
    assert_eq!(
        stored["metadata"]["ownerReferences"][0]["uid"], "rc-uid",
        "{stored}"
    );
    assert_eq!(
        stored["metadata"]["finalizers"],
        json!(["example.com/hold"]),
        "{stored}"
    );
}

/// A pod with two containers, as kubectl's patch documentation starts from.
fn two_container_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web", "drop": "x"}},
        "spec": {"containers": [
            {"name": "web", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]},
            {"name": "side", "image": "busybox:1.36"}
        ]}
    })
}

fn images(obj: &Value, containers: &str) -> Vec<(String, String)> {
    let pointer = format!("{containers}/containers");
    obj.pointer(&pointer)
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let field = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                    (field("name"), field("image"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn strategic_patches_on_a_pod_merge_by_key() {
    let s = TestServer::start().await;
    let (code, body) = s.call(Method::POST, PODS, Some(two_container_pod())).await;
    assert_eq!(code, 201, "{body}");

    // kubectl set image: one container by name, the other kept.
    let (code, p) = patch(
        &s,
        P,
        &format!("{SMP}; charset=utf-8"),
        r#"{"spec":{"containers":[{"name":"side","image":"busybox:1.37"}]}}"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(
        images(&p, "/spec"),
        pairs(&[("web", "nginx:1.25"), ("side", "busybox:1.37")])
    );
    assert_eq!(
        p["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}])
    );

    // kubectl label: add one, remove one.
    let (code, p) = patch(
        &s,
        P,
        SMP,
        r#"{"metadata":{"labels":{"tier":"fe","drop":null}}}"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["metadata"]["labels"], json!({"app": "web", "tier": "fe"}));

    // Finalizers are a set: added, ordered, and removed one by one.
    let (code, p) = patch(
        &s,
        P,
        SMP,
        r#"{"metadata":{"finalizers":["a.io/x","b.io/y"]}}"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["metadata"]["finalizers"], json!(["a.io/x", "b.io/y"]));
    let (code, p) = patch(
        &s,
        P,
        SMP,
        r#"{"metadata":{"$setElementOrder/finalizers":["b.io/y","c.io/z","a.io/x"],"finalizers":["c.io/z"]}}"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(
        p["metadata"]["finalizers"],
        json!(["b.io/y", "c.io/z", "a.io/x"])
    );
    let (code, p) = patch(
        &s,
        P,
        SMP,
        r#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a.io/x","c.io/z"]}}"#,
    )
    .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["metadata"]["finalizers"], json!(["b.io/y"]));

    // A well-formed patch the pod's update rules refuse: a pod's containers cannot change.
    let before = s.snapshot().await;
    let (code, st) = patch(
        &s,
        P,
        SMP,
        r#"{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}"#,
    )
    .await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(st["reason"], "Invalid", "{st}");
    assert_eq!(s.snapshot().await, before);

    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(
        images(&stored, "/spec"),
        pairs(&[("web", "nginx:1.25"), ("side", "busybox:1.37")])
    );
    assert_eq!(stored["metadata"]["finalizers"], json!(["b.io/y"]));
}

#[tokio::test]
async fn strategic_patches_edit_a_replication_controllers_template() {
    const RC: &str = "/api/v1/namespaces/default/replicationcontrollers/rc";
    let s = TestServer::start().await;
    let rc = json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "rc"},
        "spec": {"replicas": 1, "selector": {"app": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "a", "image": "busybox:1.36"}]}
        }}
    });
    let (code, body) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/replicationcontrollers",
            Some(rc),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let tmpl = "/spec/template/spec";
    let steps: [(&str, &[(&str, &str)]); 4] = [
        // Added by name: a new element comes first, as Kubernetes orders it.
        (
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"nginx:1.25"}]}}}}"#,
            &[("b", "nginx:1.25"), ("a", "busybox:1.36")],
        ),
        // kubectl apply's ordering directive.
        (
            r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"a","image":"busybox:1.37"}]}}}}"#,
            &[("a", "busybox:1.37"), ("b", "nginx:1.25")],
        ),
        (
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}}}"#,
            &[("b", "nginx:1.25")],
        ),
        (
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"redis:7"},{"$patch":"replace"}]}}}}"#,
            &[("c", "redis:7")],
        ),
    ];
    for (body, want) in steps {
        let (code, p) = patch(&s, RC, SMP, body).await;
        assert_eq!(code, 200, "{body}: {p}");
        assert_eq!(images(&p, tmpl), pairs(want), "{body}");
    }
    let (_, stored) = s.call(Method::GET, RC, None).await;
    assert_eq!(images(&stored, tmpl), pairs(&[("c", "redis:7")]));
}

#[tokio::test]
async fn strategic_status_patches_merge_node_conditions_by_type() {
    const NODE: &str = "/api/v1/nodes/n1";
    let s = TestServer::start().await;
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
    let (code, body) = s.call(Method::POST, "/api/v1/nodes", Some(node)).await;
    assert_eq!(code, 201, "{body}");
    let status = format!("{NODE}/status");
    let steps = [
        (
            r#"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}"#,
            json!([["Ready", "True"]]),
        ),
        (
            r#"{"status":{"conditions":[{"type":"DiskPressure","status":"False"}]}}"#,
            json!([["DiskPressure", "False"], ["Ready", "True"]]),
        ),
        (
            r#"{"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady"}]}}"#,
            json!([["DiskPressure", "False"], ["Ready", "False"]]),
        ),
    ];
    for (body, want) in steps {
        let (code, p) = patch(&s, &status, SMP, body).await;
        assert_eq!(code, 200, "{body}: {p}");
        let got: Vec<Value> = p["status"]["conditions"]
            .as_array()
            .map(|cs| cs.iter().map(|c| json!([c["type"], c["status"]])).collect())
            .unwrap_or_default();
        assert_eq!(Value::Array(got), want, "{body}: {p}");
    }
    let (_, stored) = s.call(Method::GET, NODE, None).await;
    assert_eq!(
        stored["status"]["conditions"][1]["reason"],
        "KubeletNotReady"
    );
}

#[tokio::test]
async fn bad_strategic_patches_are_400_and_change_nothing() {
    let s = TestServer::start().await;
    let (code, body) = s.call(Method::POST, PODS, Some(two_container_pod())).await;
    assert_eq!(code, 201, "{body}");
    let cases = [
        r#"{"spec":{"containers":[{"image":"busybox:1.37"}]}}"#,
        r#"{"metadata":{"labels":{"$patch":"explode"}}}"#,
        r#"{"metadata":{"$frobnicate":["a"]}}"#,
        r#"{"metadata":{"$retainKeys":["name"],"labels":{"a":"b"}}}"#,
        r#"{"spec":{"$setElementOrder/containers":[{"name":"side"}],"containers":[{"name":"web","image":"x:1"}]}}"#,
        r#"{"metadata":{"$deleteFromPrimitiveList/finalizers":"a.io/x"}}"#,
        r#"{"spec":{"containers":[[1]]}}"#,
        r#"["not","an","object"]"#,
    ];
    let (_, original) = s.call(Method::GET, P, None).await;
    for body in cases {
        let before = s.snapshot().await;
        let (code, st) = patch(&s, P, SMP, body).await;
        assert_eq!(code, 400, "{body}: {st}");
        assert_eq!(st["kind"], "Status", "{body}");
        assert_eq!(st["reason"], "BadRequest", "{body}: {st}");
        assert_eq!(s.snapshot().await, before, "{body} changed the store");
    }
    let (_, stored) = s.call(Method::GET, P, None).await;
    assert_eq!(
        stored["metadata"]["resourceVersion"],
        original["metadata"]["resourceVersion"]
    );

    // v1beta1 never had strategic merge patch.
    let (code, st) = patch(&s, "/api/v1beta1/pods/p", SMP, r#"{"labels":{"a":"2"}}"#).await;
    assert_eq!(code, 415, "{st}");
    assert!(
        st["message"]
            .as_str()
            .is_some_and(|m| m.contains("v1 only")),
        "{st}"
    );
}
