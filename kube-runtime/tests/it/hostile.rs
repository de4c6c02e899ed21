//! Hostile input (issue 12): every class is answered with a 4xx Status in bounded time and
//! memory, and the store is left exactly as it was.

use crate::alloc_meter::peak_bytes;
use crate::support::{pod, TestServer};
use hyper::Method;
use kube_core::{Pod, ResourceKind};
use kube_runtime::apiserver::decode::{decode_object, MAX_DEPTH};
use kube_runtime::apiserver::router::Version;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The seed's billion laughs: `levels` anchors, each a list of `fan_out` aliases of the previous.
fn laughs(levels: usize, fan_out: usize) -> String {
    let mut y =
        String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: lol}\nl0: &l0 [lol, lol]\n");
    for level in 1..=levels {
        let refs = vec![format!("*l{}", level - 1); fan_out].join(", ");
        y.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    y
}

/// About `size` bytes: one anchored list of ~`size / 2` bytes, then as many aliases of it as fit.
fn wide_aliases(size: usize) -> String {
    let mut y = String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: wide}\nbase: &b [");
    y.push_str(&"x, ".repeat(size / 6));
    y.push_str("x]\ncopies: [");
    while y.len() < size {
        y.push_str("*b, ");
    }
    y.push_str("*b]\n");
    y
}

/// `depth` nested flow mappings (`{"":[{"":[...`), libyaml's quadratic case.
fn deep_flow(depth: usize) -> String {
    format!(
        "metadata: {{name: deep}}\nx: {}{}\n",
        "{\"\": [".repeat(depth),
        "]}".repeat(depth)
    )
}

/// `depth` nested block mappings.
fn deep_block(depth: usize) -> String {
    let mut y = String::from("metadata:\n  name: deep\nx:\n");
    for i in 1..=depth {
        y.push_str(&" ".repeat(i));
        y.push_str("a:\n");
    }
    y
}

/// A body that is valid YAML for almost all of its `size` bytes and is refused only at its end.
fn refused_at_the_end(size: usize) -> String {
    let mut y = String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: late}\nitems:\n");
    let mut i = 0;
    while y.len() < size {
        y.push_str(&format!("- {{k{i}: value, n: {i}}}\n"));
        i += 1;
    }
    y.push_str(&format!("tail: {}\n", "[".repeat(MAX_DEPTH + 1)));
    y
}

/// One hostile request: what, method, path, content type, body, expected code and reason.
type Case = (
    String,
    Method,
    String,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

fn json_case(
    what: &str,
    method: Method,
    path: &str,
    body: Value,
    code: u16,
    reason: &'static str,
) -> Case {
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    (
        what.into(),
        method,
        path.into(),
        Some("application/json"),
        bytes,
        code,
        reason,
    )
}

fn yaml_case(what: &str, path: &str, body: String) -> Case {
    (
        what.into(),
        Method::POST,
        path.into(),
        Some("application/yaml"),
        body.into_bytes(),
        400,
        "BadRequest",
    )
}

fn get_case(what: &str, method: Method, path: &str, code: u16, reason: &'static str) -> Case {
    (
        what.into(),
        method,
        path.into(),
        None,
        Vec::new(),
        code,
        reason,
    )
}

const PODS: &str = "/api/v1/namespaces/default/pods";
const VICTIM: &str = "/api/v1/namespaces/default/pods/victim";

#[tokio::test]
async fn hostile_requests_are_refused_and_change_nothing() {
    let s = TestServer::start().await;
    let (code, _) = s
        .call(
            Method::POST,
            PODS,
            Some(pod("victim", json!({"app": "web"}))),
        )
        .await;
    assert_eq!(code, 201);
    let mut victim = pod("victim", json!({"app": "web"}));
    let with = |path: &str, v: Value| {
        let mut p = victim.clone();
        let (head, last) = path.split_once('.').unwrap_or((path, ""));
        if last.is_empty() {
            p[head] = v;
        } else {
            p[head][last] = v;
        }
        p
    };
    let metadata_array = with("metadata", json!([]));
    let metadata_name = with("metadata", json!(["x"]));
    let status_array = with("status", json!([]));
    let labels_array = with("metadata.labels", json!(["a"]));
    let name_object = with("metadata.name", json!({"a": 1}));
    let containers_arrays = with("spec", json!({"containers": [["c", "busybox"]]}));
    let port_overflow = with(
        "spec",
        json!({"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 4294967297u64}]}]}),
    );
    victim["metadata"]["generateName"] = json!("a".repeat(300));
    victim["metadata"]["name"] = json!("");
    let long_generate_name = victim;
    let deep_json = format!(
        "{{\"metadata\": {{\"name\": \"d\"}}, \"x\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );

    let mut cases: Vec<Case> = vec![
        // Arrays (and other shapes) decoded as objects.
        json_case(
            "metadata: [] on PUT",
            Method::PUT,
            VICTIM,
            metadata_array.clone(),
            400,
            "BadRequest",
        ),
        json_case(
            "metadata: [\"x\"] on POST",
            Method::POST,
            PODS,
            metadata_name,
            400,
            "BadRequest",
        ),
        json_case(
            "status: [] on PUT",
            Method::PUT,
            VICTIM,
            status_array.clone(),
            400,
            "BadRequest",
        ),
        json_case(
            "status: [] on /status",
            Method::PUT,
            &format!("{VICTIM}/status"),
            status_array,
            400,
            "BadRequest",
        ),
        json_case(
            "labels: [..]",
            Method::PUT,
            VICTIM,
            labels_array,
            400,
            "BadRequest",
        ),
        json_case(
            "name: {..}",
            Method::PUT,
            VICTIM,
            name_object,
            400,
            "BadRequest",
        ),
        json_case(
            "containers of arrays",
            Method::POST,
            PODS,
            containers_arrays,
            400,
            "BadRequest",
        ),
        json_case(
            "containerPort overflow",
            Method::POST,
            PODS,
            port_overflow,
            400,
            "BadRequest",
        ),
        json_case(
            "v1beta1 labels: []",
            Method::PUT,
            "/api/v1beta1/pods/victim",
            json!({"id": "victim", "labels": []}),
            400,
            "BadRequest",
        ),
        json_case(
            "v1beta1 desiredState: []",
            Method::POST,
            "/api/v1beta1/pods",
            json!({"id": "x", "desiredState": []}),
            400,
            "BadRequest",
        ),
        json_case(
            "binding target: []",
            Method::POST,
            &format!("{VICTIM}/binding"),
            json!({"metadata": {"name": "victim"}, "target": []}),
            400,
            "BadRequest",
        ),
        json_case(
            "v1beta1 binding podID: {}",
            Method::POST,
            "/api/v1beta1/bindings",
            json!({"podID": {}, "host": "n"}),
            400,
            "BadRequest",
        ),
        (
            "JSON 100,000 levels deep".into(),
            Method::POST,
            PODS.into(),
            Some("application/json"),
            deep_json.into_bytes(),
            400,
            "BadRequest",
        ),
        // YAML aliases and nesting.
        yaml_case("billion laughs", PODS, laughs(9, 9)),
        yaml_case("billion laughs, 150 KB", PODS, laughs(5, 5000)),
        yaml_case(
            "one anchor copied across ~100 KB",
            PODS,
            wide_aliases(100_000),
        ),
        yaml_case("flow nesting 100,000 deep", PODS, deep_flow(100_000)),
        yaml_case(
            "block nesting past the limit",
            PODS,
            deep_block(MAX_DEPTH + 1),
        ),
        yaml_case(
            "compact sequences 100,000 deep",
            PODS,
            format!("metadata: {{name: c}}\nx:\n{}x\n", "- ".repeat(100_000)),
        ),
        yaml_case(
            "two documents",
            PODS,
            "metadata: {name: a}\n---\nmetadata: {name: b}\n".into(),
        ),
        yaml_case("custom tag", PODS, "metadata: !evil {name: a}\n".into()),
        // generateName.
        json_case(
            "generateName of 300 characters",
            Method::POST,
            PODS,
            long_generate_name,
            422,
            "Invalid",
        ),
        // Methods.
        get_case(
            "PUT /version",
            Method::PUT,
            "/version",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "DELETE /api/v1",
            Method::DELETE,
            "/api/v1",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "OPTIONS /api",
            Method::OPTIONS,
            "/api",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "POST /healthz",
            Method::POST,
            "/healthz",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "GET bindings",
            Method::GET,
            "/api/v1beta1/bindings",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "PATCH a collection",
            Method::PATCH,
            PODS,
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "PATCH /binding",
            Method::PATCH,
            &format!("{VICTIM}/binding"),
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "DELETE across namespaces",
            Method::DELETE,
            "/api/v1/pods",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "DELETE every namespace",
            Method::DELETE,
            "/api/v1/namespaces",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "POST across namespaces",
            Method::POST,
            "/api/v1/pods",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "DELETE /status",
            Method::DELETE,
            &format!("{VICTIM}/status"),
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "GET /binding",
            Method::GET,
            &format!("{VICTIM}/binding"),
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "POST on a watch path",
            Method::POST,
            "/api/v1/watch/pods",
            405,
            "MethodNotAllowed",
        ),
        get_case(
            "unknown subresource",
            Method::GET,
            &format!("{VICTIM}/exec"),
            404,
            "NotFound",
        ),
    ];
    // Malformed parameters, on every verb that could read them.
    let bad_values = [
        "abc",
        "-1",
        "1.5",
        "99999999999999999999999",
        "1%00",
        "%2B1",
    ];
    for v in bad_values {
        for (verb, method, path) in [
            ("GET", Method::GET, format!("{VICTIM}?resourceVersion={v}")),
            ("LIST", Method::GET, format!("{PODS}?resourceVersion={v}")),
            (
                "LIST v1beta1",
                Method::GET,
                format!("/api/v1beta1/pods?resourceVersion={v}"),
            ),
            (
                "WATCH",
                Method::GET,
                format!("{PODS}?watch=true&resourceVersion={v}"),
            ),
            ("LIST limit", Method::GET, format!("{PODS}?limit={v}")),
            (
                "WATCH timeoutSeconds",
                Method::GET,
                format!("{PODS}?watch=1&timeoutSeconds={v}"),
            ),
            (
                "DELETE gracePeriodSeconds",
                Method::DELETE,
                format!("{VICTIM}?gracePeriodSeconds={v}"),
            ),
        ] {
            cases.push(get_case(
                &format!("{verb} {path}"),
                method,
                &path,
                400,
                "BadRequest",
            ));
        }
    }
    for path in [
        format!("{PODS}?watch=yes"),
        format!("{PODS}?pretty=maybe"),
        format!("{PODS}?labelSelector=a%20in%20("),
        format!("{PODS}?fieldSelector=%3D%3D"),
        format!("{VICTIM}?dryRun=Some"),
        format!("{VICTIM}?propagationPolicy=Now"),
        "/api/v1beta1/pods?labels=a%20in%20(".to_string(),
    ] {
        cases.push(get_case(&path, Method::GET, &path, 400, "BadRequest"));
    }

    for (what, method, path, ctype, body, want_code, want_reason) in cases {
        let before = s.snapshot().await;
        let started = Instant::now();
        let resp = s.send(method, &path, ctype, body).await;
        let code = resp.status().as_u16();
        let allow = resp
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let st: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {bytes:?}"));
        assert_eq!(code, want_code, "{what}: {st}");
        assert_eq!(st["kind"], "Status", "{what}: {st}");
        assert_eq!(st["reason"], want_reason, "{what}: {st}");
        assert_eq!(st["code"], want_code, "{what}: {st}");
        if want_code == 405 {
            let allow = allow.unwrap_or_default();
            assert!(!allow.is_empty(), "{what}: an Allow header");
            // PATCH is served on items and `/status` only.
            let patchable = path == VICTIM || path.ends_with("/status");
            assert_eq!(allow.contains("PATCH"), patchable, "{what}: {allow}");
        }
        if want_code == 422 {
            assert_eq!(
                st["details"]["causes"][0]["field"], "metadata.generateName",
                "{what}: {st}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: refused in bounded time ({:?})",
            started.elapsed()
        );
        assert_eq!(s.snapshot().await, before, "{what}: the store is unchanged");
    }
    // The victim kept its labels.
    let (_, got) = s.call(Method::GET, VICTIM, None).await;
    assert_eq!(got["metadata"]["labels"], json!({"app": "web"}));
}

#[tokio::test]
async fn type_mismatches_name_the_field_path() {
    let s = TestServer::start().await;
    let cases = [
        (PODS, json!({"metadata": []}), "metadata"),
        (
            PODS,
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}),
            "spec.containers[0].ports[0].containerPort",
        ),
        (
            "/api/v1beta1/pods",
            json!({"id": "p", "desiredState": {"manifest": {"containers": [{"ports": {}}]}}}),
            "desiredState.manifest.containers[0].ports",
        ),
    ];
    for (path, body, field) in cases {
        let (code, st) = s.call(Method::POST, path, Some(body)).await;
        assert_eq!(
            (code, st["reason"].as_str()),
            (400, Some("BadRequest")),
            "{st}"
        );
        assert_eq!(st["details"]["causes"][0]["field"], field, "{st}");
        assert!(
            st["message"].as_str().unwrap_or_default().contains(field),
            "{st}"
        );
    }
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let s = TestServer::start().await;
    for (query, name) in [
        ("resourceVersion=abc", "resourceVersion"),
        ("timeoutSeconds=-1&watch=true", "timeoutSeconds"),
        ("limit=x", "limit"),
        ("watch=maybe", "watch"),
        ("labelSelector=%3D", "labelSelector"),
    ] {
        let (code, st) = s.call(Method::GET, &format!("{PODS}?{query}"), None).await;
        assert_eq!(code, 400, "{query}: {st}");
        assert_eq!(st["details"]["causes"][0]["field"], name, "{query}: {st}");
    }
}

#[tokio::test]
async fn discovery_lists_exactly_the_verbs_served() {
    let s = TestServer::start().await;
    for path in ["/api/v1", "/api/v1beta1"] {
        let (code, doc) = s.call(Method::GET, path, None).await;
        assert_eq!(code, 200);
        for r in doc["resources"].as_array().cloned().unwrap_or_default() {
            let verbs: Vec<&str> = r["verbs"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let want: &[&str] = match r["name"].as_str().unwrap_or_default() {
                n if n.ends_with("/status") || n.ends_with("/scale") => &["get", "patch", "update"],
                n if n.ends_with("/binding") => &["create"],
                n if n.ends_with("/log") => &["get"],
                n if n.ends_with("/finalize") => &["update"],
                // deletecollection: v1 only, and not on namespaces.
                "namespaces" => &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                _ if path == "/api/v1beta1" => &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
                _ => &[
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch",
                ],
            };
            assert_eq!(verbs, want, "{path} {}", r["name"]);
        }
    }
    // A verb discovery lists is served: update through /status, create through /binding.
    s.call(Method::POST, PODS, Some(pod("p", json!({})))).await;
    let (code, _) = s.call(Method::GET, &format!("{PODS}/p/status"), None).await;
    assert_eq!(code, 200);
    let (code, list) = s.call(Method::DELETE, PODS, None).await;
    assert_eq!((code, &list["kind"]), (200, &json!("PodList")), "{list}");
}

/// The memory the decoder may use on the worst YAML bodies: a small multiple of the body.
#[test]
fn yaml_decoding_memory_is_bounded_by_the_body_size() {
    let bodies = [
        ("billion laughs", laughs(9, 9)),
        ("billion laughs, 150 KB", laughs(5, 5000)),
        ("wide aliases, 100 KB", wide_aliases(100_000)),
        ("wide aliases, 3 MB", wide_aliases(3_000_000)),
        ("flow nesting", deep_flow(100_000)),
        ("refused at the end, 1 MB", refused_at_the_end(1_000_000)),
    ];
    for (what, body) in bodies {
        let started = Instant::now();
        let (result, peak) = peak_bytes(|| {
            decode_object::<Pod>(body.as_bytes(), true, Version::V1, ResourceKind::Pods).map(|_| ())
        });
        let elapsed = started.elapsed();
        // An alias-free document held as a JSON value takes up to ~25 times its text.
        let ceiling = 40 * body.len() + (1 << 20);
        eprintln!(
            "{what}: {} bytes, peak {peak} bytes, {elapsed:?}",
            body.len()
        );
        assert!(result.is_err(), "{what}: refused");
        assert!(
            peak <= ceiling,
            "{what}: {peak} bytes used for a body of {}",
            body.len()
        );
    }
}

/// `/healthz` answers promptly while the server refuses a large, expensive YAML body.
#[tokio::test]
async fn healthz_stays_fast_while_a_worst_case_body_is_refused() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let body = refused_at_the_end(3_000_000).into_bytes();
    let big = {
        let s = s.clone();
        tokio::spawn(async move {
            s.raw(Method::POST, PODS, Some("application/yaml"), body)
                .await
        })
    };
    let mut overlapped = 0;
    let mut slowest = Duration::ZERO;
    while !big.is_finished() {
        let started = Instant::now();
        let (code, _) = s.raw(Method::GET, "/healthz", None, Vec::new()).await;
        let took = started.elapsed();
        assert_eq!(code, 200);
        if !big.is_finished() {
            overlapped += 1;
            slowest = slowest.max(took);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (code, _) = big.await.expect("big request");
    assert_eq!(code, 400);
    assert!(
        overlapped > 0,
        "no health check ran while the body was decoded"
    );
    assert!(
        slowest < Duration::from_millis(100),
        "/healthz took {slowest:?}"
    );
}
