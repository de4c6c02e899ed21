//! `/openapi/v2` (JSON and gnostic protobuf) and `/openapi/v3` (index and group-version
//! documents) over HTTP: what kubectl 1.20 and a current kubectl fetch before they validate,
//! explain or patch.

use crate::support::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_core::openapi::protobuf::{decode, field_bytes};
use kube_core::openapi::schemas::{kind_definition, GVK_EXTENSION};
use kube_core::ResourceKind;
use serde_json::{json, Value};

const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// A request with headers: (status, content type, ETag, body).
async fn get(
    s: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String, Bytes) {
    let mut b = Request::builder().method(method).uri(s.url(path));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let client = Client::builder(TokioExecutor::new()).build_http();
    let resp = client
        .request(b.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("send");
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ctype, etag) = (header("content-type"), header("etag"));
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (code, ctype, etag, body)
}

fn json_of(b: &Bytes) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

#[tokio::test]
async fn v2_json_describes_every_served_kind() {
    let s = TestServer::start().await;
    let (code, ctype, etag, body) = get(&s, Method::GET, "/openapi/v2", &[]).await;
    assert_eq!((code, ctype.as_str()), (200, "application/json"));
    assert!(!etag.is_empty());
    let doc = json_of(&body);
    assert_eq!(doc["swagger"], "2.0");
    for kind in ResourceKind::ALL {
        let k = kind_definition(kind);
        let def = &doc["definitions"][&k.name];
        assert_eq!(def[GVK_EXTENSION], json!([k.gvk(false)]), "{}", k.name);
        assert_eq!(
            doc["definitions"][k.list_name()][GVK_EXTENSION],
            json!([k.gvk(true)]),
            "{}",
            k.name
        );
        // Every kind can be patched, with the parameters clients look for.
        let patch = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, item)| item.get("patch"))
            .find(|op| op[GVK_EXTENSION] == k.gvk(false))
            .unwrap_or_else(|| panic!("no patch operation for {}", k.name));
        let params: Vec<&str> = patch["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for want in ["dryRun", "fieldManager", "fieldValidation", "force"] {
            assert!(params.contains(&want), "{}: {params:?}", k.name);
        }
    }
    // Asked again with the ETag: nothing new.
    let (code, _, _, body) = get(
        &s,
        Method::GET,
        "/openapi/v2",
        &[("if-none-match", etag.as_str())],
    )
    .await;
    assert_eq!((code, body.len()), (304, 0));
}

#[tokio::test]
async fn v2_protobuf_is_the_same_document() {
    let s = TestServer::start().await;
    let (_, _, _, json_body) = get(&s, Method::GET, "/openapi/v2", &[]).await;
    let doc = json_of(&json_body);
    for accept in [
        PROTOBUF,
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json",
    ] {
        let (code, ctype, _, body) =
            get(&s, Method::GET, "/openapi/v2", &[("accept", accept)]).await;
        assert_eq!((code, ctype.as_str()), (200, "application/octet-stream"));
        let fields = decode(&body).expect("protobuf");
        assert_eq!(field_bytes(&fields, 1), [b"2.0".as_slice()]);
        let defs = decode(field_bytes(&fields, 9)[0]).expect("definitions");
        let want = doc["definitions"].as_object().map_or(0, |m| m.len());
        assert_eq!(field_bytes(&defs, 1).len(), want);
        let paths = decode(field_bytes(&fields, 8)[0]).expect("paths");
        let want = doc["paths"].as_object().map_or(0, |m| m.len());
        assert_eq!(field_bytes(&paths, 2).len(), want);
    }
}

#[tokio::test]
async fn v3_index_points_at_a_document_per_group_version() {
    let s = TestServer::start().await;
    let (code, _, _, body) = get(&s, Method::GET, "/openapi/v3", &[]).await;
    assert_eq!(code, 200);
    let index = json_of(&body);
    let paths = index["paths"].as_object().cloned().unwrap_or_default();
    assert_eq!(
        paths.keys().collect::<Vec<_>>(),
        ["api/v1", "apis/coordination.k8s.io/v1"]
    );
    for (gv, entry) in paths {
        let url = entry["serverRelativeURL"].as_str().unwrap_or_default();
        assert!(url.starts_with(&format!("/openapi/v3/{gv}?hash=")), "{url}");
        let (code, ctype, etag, body) = get(&s, Method::GET, url, &[]).await;
        assert_eq!((code, ctype.as_str()), (200, "application/json"), "{url}");
        assert!(url.ends_with(etag.trim_matches('"')), "{url} {etag}");
        let doc = json_of(&body);
        assert_eq!(doc["openapi"], "3.0.0");
        let kinds: Vec<ResourceKind> = ResourceKind::ALL
            .into_iter()
            .filter(|k| {
                let av = k.info().api_version;
                gv == if av.contains('/') {
                    format!("apis/{av}")
                } else {
                    format!("api/{av}")
                }
            })
            .collect();
        assert!(!kinds.is_empty());
        for kind in kinds {
            let k = kind_definition(kind);
            let schema = &doc["components"]["schemas"][&k.name];
            assert_eq!(schema[GVK_EXTENSION], json!([k.gvk(false)]), "{}", k.name);
        }
    }
    let pod_patch = {
        let (_, _, _, body) = get(&s, Method::GET, "/openapi/v3/api/v1", &[]).await;
        json_of(&body)["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"].clone()
    };
    assert_eq!(pod_patch["operationId"], "patchCoreV1NamespacedPod");
    assert!(pod_patch["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
}

#[tokio::test]
async fn unknown_documents_and_media_types_are_refused() {
    let s = TestServer::start().await;
    // (method, path, accept, status)
    let cases = [
        (Method::GET, "/openapi/v3/apis/apps/v1", "", 404),
        (Method::GET, "/openapi/v3/api/v9", "", 404),
        (Method::GET, "/openapi/v2", "text/html", 406),
        (Method::GET, "/openapi/v3", PROTOBUF, 406),
        (Method::POST, "/openapi/v2", "", 405),
    ];
    for (method, path, accept, want) in cases {
        let headers: Vec<(&str, &str)> = if accept.is_empty() {
            Vec::new()
        } else {
            vec![("accept", accept)]
        };
        let (code, _, _, body) = get(&s, method.clone(), path, &headers).await;
        assert_eq!(code, want, "{method} {path} {accept}");
        assert_eq!(json_of(&body)["kind"], "Status", "{method} {path}");
    }
}
