//! `fieldValidation=Strict|Warn|Ignore` on create, update and patch, through raw HTTP: Strict
//! refuses naming every unknown and repeated field and stores nothing; Warn (also the default)
//! succeeds with one `Warning: 299 - "..."` header per field; Ignore is silent.

use crate::support::{pod, TestServer};
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/namespaces/default/pods";
const P: &str = "/api/v1/namespaces/default/pods/p";

/// A pod document with an unknown field in a container, one in the spec, and `name` twice.
const BAD_POD: &str = r#"{"apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "x", "name": "p"},
  "spec": {"foo": 1, "containers": [{"name": "c", "image": "busybox", "imagee": "typo"}]}}"#;

/// The warnings Kubernetes would send for [`BAD_POD`], as header values.
const BAD_POD_WARNINGS: [&str; 3] = [
    r#"299 - "duplicate field \"metadata.name\"""#,
    r#"299 - "unknown field \"spec.containers[0].imagee\"""#,
    r#"299 - "unknown field \"spec.foo\"""#,
];

/// Sends a request and returns the status, the sorted `Warning` headers and the JSON answer.
async fn send(
    s: &TestServer,
    method: Method,
    path: &str,
    ctype: &str,
    body: &str,
) -> (u16, Vec<String>, Value) {
    let resp = s
        .send(method, path, Some(ctype), body.as_bytes().to_vec())
        .await;
    let code = resp.status().as_u16();
    let mut warnings: Vec<String> = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    warnings.sort();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (code, warnings, v)
}

/// The fields a refusal's Status causes name, sorted.
fn cause_fields(status: &Value) -> Vec<String> {
    let mut f: Vec<String> = status["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["field"].as_str().unwrap_or_default().to_string())
        .collect();
    f.sort();
    f
}

async fn with_pod() -> TestServer {
    let s = TestServer::start().await;
    let (code, body) = s.call(Method::POST, PODS, Some(pod("p", json!({})))).await;
    assert_eq!(code, 201, "{body}");
    s
}

#[tokio::test]
async fn strict_create_names_every_field_and_stores_nothing() {
    let s = TestServer::start().await;
    let before = s.snapshot().await;
    let path = format!("{PODS}?fieldValidation=Strict");
    let (code, warnings, st) = send(&s, Method::POST, &path, "application/json", BAD_POD).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (400, Some("BadRequest")),
        "{st}"
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let msg = st["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(
            r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: "#
        ),
        "{msg}"
    );
    for part in [
        r#"unknown field "spec.foo""#,
        r#"unknown field "spec.containers[0].imagee""#,
        r#"duplicate field "metadata.name""#,
    ] {
        assert!(msg.contains(part), "{msg} lacks {part}");
    }
    assert_eq!(
        cause_fields(&st),
        ["metadata.name", "spec.containers[0].imagee", "spec.foo"]
    );
    assert_eq!(s.snapshot().await, before, "nothing is stored");
    // A clean body passes Strict without warnings.
    let clean = serde_json::to_string(&pod("p", json!({}))).expect("json");
    let (code, warnings, _) = send(&s, Method::POST, &path, "application/json", &clean).await;
    assert_eq!((code, warnings.len()), (201, 0));
}

#[tokio::test]
async fn warn_is_the_default_and_sends_a_header_per_field() {
    for query in ["", "?fieldValidation=Warn", "?fieldValidation="] {
        let s = TestServer::start().await;
        let path = format!("{PODS}{query}");
        let (code, warnings, created) =
            send(&s, Method::POST, &path, "application/json", BAD_POD).await;
        assert_eq!(code, 201, "{query}: {created}");
        assert_eq!(warnings, BAD_POD_WARNINGS, "{query}");
        // The last member wins; unknown fields are dropped.
        assert_eq!(created["metadata"]["name"], "p", "{query}");
        assert!(created["spec"].get("foo").is_none(), "{query}");
    }
}

#[tokio::test]
async fn ignore_is_silent() {
    let s = TestServer::start().await;
    let path = format!("{PODS}?fieldValidation=Ignore");
    let (code, warnings, created) =
        send(&s, Method::POST, &path, "application/json", BAD_POD).await;
    assert_eq!((code, warnings.len()), (201, 0), "{created}");
    assert_eq!(created["metadata"]["name"], "p");
}

#[tokio::test]
async fn yaml_bodies_report_repeated_keys() {
    let s = TestServer::start().await;
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    a: '1'\n    a: '2'\nspec:\n  containers:\n  - name: c\n    image: busybox\n    image: busybox:1.36\n    imagee: x\n";
    let path = format!("{PODS}?fieldValidation=Strict");
    let (code, _, st) = send(&s, Method::POST, &path, "application/yaml", yaml).await;
    assert_eq!(code, 400, "{st}");
    assert_eq!(
        cause_fields(&st),
        [
            "metadata.labels.a",
            "spec.containers[0].image",
            "spec.containers[0].imagee"
        ]
    );
    let (code, warnings, created) = send(&s, Method::POST, PODS, "application/yaml", yaml).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        warnings,
        [
            r#"299 - "duplicate field \"metadata.labels.a\"""#,
            r#"299 - "duplicate field \"spec.containers[0].image\"""#,
            r#"299 - "unknown field \"spec.containers[0].imagee\"""#,
        ]
    );
    assert_eq!(created["metadata"]["labels"]["a"], "2");
}

#[tokio::test]
async fn updates_are_validated_the_same_way() {
    let s = with_pod().await;
    let (_, current) = s.call(Method::GET, P, None).await;
    let mut doc = current.clone();
    doc["spec"]["containers"][0]["imagee"] = json!("typo");
    doc["metadata"]["labels"] = json!({"v": "2"});
    let body = doc.to_string();
    let strict = format!("{P}?fieldValidation=Strict");
    let (code, _, st) = send(&s, Method::PUT, &strict, "application/json", &body).await;
    assert_eq!(code, 400, "{st}");
    assert_eq!(cause_fields(&st), ["spec.containers[0].imagee"]);
    let (_, after) = s.call(Method::GET, P, None).await;
    assert_eq!(after, current, "a refused update changes nothing");
    let (code, warnings, updated) = send(&s, Method::PUT, P, "application/json", &body).await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(
        warnings,
        [r#"299 - "unknown field \"spec.containers[0].imagee\"""#]
    );
    assert_eq!(updated["metadata"]["labels"]["v"], "2");
}

/// The patches of [`patches_check_the_patched_object_and_the_patch`]: content type, body, and
/// the `Warning` headers `Warn` answers (sorted, joined by `|`).
const PATCHES: [(&str, &str, &str); 6] = [
    (
        "application/merge-patch+json",
        r#"{"spec": {"foo": 1}, "metadata": {"labels": {"a": "1", "a": "2"}}}"#,
        r#"299 - "duplicate field \"metadata.labels.a\""|299 - "unknown field \"spec.foo\"""#,
    ),
    (
        "application/merge-patch+json",
        r#"{"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u", "controllerr": true}]}}"#,
        r#"299 - "unknown field \"metadata.ownerReferences[0].controllerr\"""#,
    ),
    (
        "application/strategic-merge-patch+json",
        r#"{"spec": {"containers": [{"name": "c", "imagee": "x"}]}}"#,
        r#"299 - "unknown field \"spec.containers[0].imagee\"""#,
    ),
    (
        "application/strategic-merge-patch+json",
        r#"{"metadata": {"labels": {"s": "1"}, "labels": {"s": "2"}}}"#,
        r#"299 - "duplicate field \"metadata.labels\"""#,
    ),
    (
        "application/json-patch+json",
        r#"[{"op": "add", "path": "/spec/foo", "value": 1}]"#,
        r#"299 - "unknown field \"spec.foo\"""#,
    ),
    (
        "application/json-patch+json",
        r#"[{"op": "add", "op": "add", "path": "/metadata/labels", "value": {"b": "1"}, "valeu": 2}]"#,
        r#"299 - "json patch duplicate field \"[0].op\""|299 - "json patch unknown field \"[0].valeu\"""#,
    ),
];

#[tokio::test]
async fn patches_check_the_patched_object_and_the_patch() {
    let s = with_pod().await;
    for (ctype, body, want) in PATCHES {
        let (_, current) = s.call(Method::GET, P, None).await;
        let strict = format!("{P}?fieldValidation=Strict");
        let (code, warnings, st) = send(&s, Method::PATCH, &strict, ctype, body).await;
        assert_eq!(
            (code, st["reason"].as_str(), warnings.len()),
            (422, Some("Invalid"), 0),
            "{ctype} {body}: {st}"
        );
        let msg = st["message"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with(r#"Pod "p" is invalid: patch: Invalid value: strict decoding error: "#),
            "{st}"
        );
        for w in want.split('|') {
            let text = w
                .strip_prefix("299 - \"")
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(w);
            assert!(msg.contains(&text.replace("\\\"", "\"")), "{msg} lacks {w}");
        }
        let (_, after) = s.call(Method::GET, P, None).await;
        assert_eq!(
            after, current,
            "{ctype} {body}: a refused patch changes nothing"
        );
        for mode in ["", "?fieldValidation=Warn"] {
            let (code, warnings, patched) =
                send(&s, Method::PATCH, &format!("{P}{mode}"), ctype, body).await;
            assert_eq!(code, 200, "{ctype} {body} {mode}: {patched}");
            assert_eq!(warnings.join("|"), want, "{ctype} {body} {mode}");
        }
        let ignore = format!("{P}?fieldValidation=Ignore");
        let (code, warnings, _) = send(&s, Method::PATCH, &ignore, ctype, body).await;
        assert_eq!((code, warnings.len()), (200, 0), "{ctype} {body}");
    }
    // A clean patch passes Strict.
    let strict = format!("{P}?fieldValidation=Strict");
    let clean = r#"{"metadata": {"labels": {"clean": "1"}}}"#;
    for ctype in [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ] {
        let (code, warnings, _) = send(&s, Method::PATCH, &strict, ctype, clean).await;
        assert_eq!((code, warnings.len()), (200, 0), "{ctype}");
    }
}

#[tokio::test]
async fn dry_run_is_validated_the_same_and_stores_nothing() {
    let s = TestServer::start().await;
    let before = s.snapshot().await;
    let strict = format!("{PODS}?dryRun=All&fieldValidation=Strict");
    let (code, _, st) = send(&s, Method::POST, &strict, "application/json", BAD_POD).await;
    assert_eq!(code, 400, "{st}");
    let (code, warnings, _) = send(
        &s,
        Method::POST,
        &format!("{PODS}?dryRun=All"),
        "application/json",
        BAD_POD,
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(warnings, BAD_POD_WARNINGS);
    assert_eq!(s.snapshot().await, before, "a dry run stores nothing");
}

#[tokio::test]
async fn status_and_scale_are_validated() {
    let s = with_pod().await;
    let status = format!("{P}/status");
    let (_, current) = s.call(Method::GET, &status, None).await;
    let mut doc = current.clone();
    doc["status"]["phasee"] = json!("Running");
    let body = doc.to_string();
    let (code, _, st) = send(
        &s,
        Method::PUT,
        &format!("{status}?fieldValidation=Strict"),
        "application/json",
        &body,
    )
    .await;
    assert_eq!(
        (code, cause_fields(&st)),
        (400, vec!["status.phasee".into()])
    );
    let (code, warnings, _) = send(&s, Method::PUT, &status, "application/json", &body).await;
    assert_eq!(
        (code, warnings),
        (
            200,
            vec![r#"299 - "unknown field \"status.phasee\"""#.to_string()]
        )
    );

    let rcs = "/api/v1/namespaces/default/replicationcontrollers";
    let rc = json!({"apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"app": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}});
    let (code, created) = s.call(Method::POST, rcs, Some(rc)).await;
    assert_eq!(code, 201, "{created}");
    let scale = format!("{rcs}/web/scale");
    let put = r#"{"spec": {"replicas": 2, "replicass": 3}}"#;
    let strict = format!("{scale}?fieldValidation=Strict");
    let (code, _, st) = send(&s, Method::PUT, &strict, "application/json", put).await;
    assert_eq!(
        (code, cause_fields(&st)),
        (400, vec!["spec.replicass".into()])
    );
    let merge = "application/merge-patch+json";
    let (code, _, st) = send(&s, Method::PATCH, &strict, merge, put).await;
    assert_eq!(
        (code, cause_fields(&st)),
        (422, vec!["spec.replicass".into()])
    );
    let (_, got) = s.call(Method::GET, &scale, None).await;
    assert_eq!(got["spec"]["replicas"], 1, "refusals change nothing");
    for method in [Method::PUT, Method::PATCH] {
        let ctype = if method == Method::PUT {
            "application/json"
        } else {
            merge
        };
        let (code, warnings, got) = send(&s, method, &scale, ctype, put).await;
        assert_eq!(
            (code, warnings),
            (
                200,
                vec![r#"299 - "unknown field \"spec.replicass\"""#.to_string()]
            ),
            "{got}"
        );
        assert_eq!(got["spec"]["replicas"], 2);
    }
}

#[tokio::test]
async fn v1beta1_bodies_report_their_own_fields() {
    let s = TestServer::start().await;
    let body = r#"{"kind": "Pod", "apiVersion": "v1beta1", "id": "p",
        "metadata": {"name": "p"},
        "desiredState": {"manifest": {"version": "v1beta1",
            "containers": [{"name": "c", "image": "busybox", "imagee": "x"}]}}}"#;
    let (code, _, st) = send(
        &s,
        Method::POST,
        "/api/v1beta1/pods?fieldValidation=Strict",
        "application/json",
        body,
    )
    .await;
    assert_eq!(code, 400, "{st}");
    assert!(
        st["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with(r#"Pod in version "v1beta1" cannot be handled as a Pod"#),
        "{st}"
    );
    assert_eq!(
        cause_fields(&st),
        ["desiredState.manifest.containers[0].imagee", "metadata"]
    );
    // v1beta1 never looked at unknown fields: silent unless the request asks.
    let (code, warnings, _) = send(
        &s,
        Method::POST,
        "/api/v1beta1/pods",
        "application/json",
        body,
    )
    .await;
    assert_eq!((code, warnings.len()), (201, 0), "{warnings:?}");
    let (code, warnings, _) = send(
        &s,
        Method::PUT,
        "/api/v1beta1/pods/p?fieldValidation=Warn",
        "application/json",
        body,
    )
    .await;
    assert_eq!((code, warnings.len()), (200, 2), "{warnings:?}");
}

#[tokio::test]
async fn an_invalid_mode_is_a_400_naming_the_parameter() {
    let s = TestServer::start().await;
    for v in ["strict", "Error", "1"] {
        let path = format!("{PODS}?fieldValidation={v}");
        let (code, _, st) = send(&s, Method::POST, &path, "application/json", BAD_POD).await;
        assert_eq!(code, 400, "{v}: {st}");
        assert_eq!(cause_fields(&st), ["fieldValidation"], "{v}");
    }
}

#[tokio::test]
async fn the_http_client_surfaces_warnings() {
    use std::sync::{Arc, Mutex};
    let s = TestServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let client = kube_runtime::client::HttpClient::new(s.cluster.url())
        .expect("client")
        .with_warning_handler(move |w| sink.lock().expect("lock").push(w.to_string()));
    let mut doc = pod("p", json!({}));
    doc["spec"]["foo"] = json!(1);
    client
        .request_json(Method::POST, PODS, Some(&doc))
        .await
        .expect("created");
    assert_eq!(
        *seen.lock().expect("lock"),
        [r#"unknown field "spec.foo""#.to_string()]
    );
}

#[tokio::test]
async fn bindings_are_validated_on_both_routes() {
    let s = with_pod().await;
    let body = r#"{"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "n1", "nmae": "x"}}"#;
    let routes = [
        "/api/v1/namespaces/default/pods/p/binding",
        "/api/v1/namespaces/default/bindings",
    ];
    for route in routes {
        let strict = format!("{route}?fieldValidation=Strict");
        let (code, _, st) = send(&s, Method::POST, &strict, "application/json", body).await;
        assert_eq!(code, 400, "{route}: {st}");
        assert_eq!(cause_fields(&st), ["target.nmae"], "{route}");
    }
    let (_, got) = s.call(Method::GET, P, None).await;
    assert!(
        got["spec"].get("nodeName").is_none(),
        "refusals bind nothing"
    );
    let (code, warnings, st) = send(&s, Method::POST, routes[1], "application/json", body).await;
    assert_eq!(code, 201, "{st}");
    assert_eq!(
        warnings,
        [r#"299 - "unknown field \"target.nmae\"""#.to_string()]
    );
}
