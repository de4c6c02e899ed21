//! `/openapi/v2` (JSON, or gnostic's protobuf when the `Accept` header asks for it, as kubectl
//! 1.20 does) and `/openapi/v3` (the index) with `/openapi/v3/{api/v1,apis/…}` (one OpenAPI 3.0
//! document per group-version). The documents are built by `kube_core::openapi` from the
//! served operations of [`verbs::OPERATIONS`], once, on the first request (they are static per
//! server), and carry an `ETag` (`If-None-Match` answers 304).

use super::body::ApiBody;
use super::codec::{error_response, raw_json};
use super::verbs::{self, Endpoint};
use bytes::Bytes;
use hyper::header::{HeaderValue, ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::{Request, Response, StatusCode};
use kube_core::error::ApiError;
use kube_core::openapi::paths::{PathKind, ServedOperation};
use kube_core::openapi::{self, protobuf};
use kube_core::ResourceKind;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The media type of the protobuf Swagger document (gnostic's `openapi.v2.Document`).
pub const PROTOBUF_V2: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The spelling newer clients use for the same media type.
const PROTOBUF_V2_DOTTED: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// One encoded document and its ETag.
struct Encoded {
    body: Bytes,
    etag: String,
}

impl Encoded {
    fn new(body: Vec<u8>) -> Self {
        Encoded {
            etag: openapi::content_hash(&body),
            body: Bytes::from(body),
        }
    }
}

/// Every document, encoded.
struct Documents {
    v2_json: Encoded,
    v2_protobuf: Encoded,
    v3_index: Encoded,
    v3: BTreeMap<String, Encoded>,
}

/// The operations the server serves, from its verbs table: every resource's collection (and
/// all-namespaces list), item and v1 subresources, with the methods served on each.
pub fn served_operations() -> Vec<ServedOperation> {
    let mut out = Vec::new();
    for resource in ResourceKind::ALL {
        let mut endpoints = vec![
            (Endpoint::Collection, PathKind::Collection),
            (Endpoint::AllNamespaces, PathKind::AllNamespaces),
            (Endpoint::Item, PathKind::Item),
        ];
        for (_, endpoint) in verbs::subresources(resource) {
            let path = match endpoint {
                Endpoint::Status => PathKind::Status,
                Endpoint::Scale => PathKind::Scale,
                Endpoint::Binding => PathKind::Binding,
                Endpoint::Finalize => PathKind::Finalize,
                _ => continue,
            };
            endpoints.push((endpoint, path));
        }
        for (endpoint, path) in endpoints {
            for method in verbs::allowed_methods(verbs::Scope::of(resource, false), endpoint) {
                out.push(ServedOperation {
                    resource,
                    path,
                    method,
                });
            }
        }
    }
    out
}

fn build() -> Result<Documents, String> {
    let served = served_operations();
    let v2 = openapi::swagger(&served);
    let v2_json = serde_json::to_vec(&v2).map_err(|e| e.to_string())?;
    let v2_protobuf = protobuf::encode_document(&v2).map_err(|e| e.to_string())?;
    let mut v3 = BTreeMap::new();
    let mut hashed = BTreeMap::new();
    for (gv, doc) in openapi::openapi3_documents(&served) {
        let encoded = Encoded::new(serde_json::to_vec(&doc).map_err(|e| e.to_string())?);
        hashed.insert(gv.clone(), encoded.etag.clone());
        v3.insert(gv, encoded);
    }
    let index = serde_json::to_vec(&openapi::openapi3_index(&hashed)).map_err(|e| e.to_string())?;
    Ok(Documents {
        v2_json: Encoded::new(v2_json),
        v2_protobuf: Encoded::new(v2_protobuf),
        v3_index: Encoded::new(index),
        v3,
    })
}

fn documents() -> Result<&'static Documents, ApiError> {
    static DOCUMENTS: OnceLock<Result<Documents, String>> = OnceLock::new();
    DOCUMENTS
        .get_or_init(|| {
            let start = std::time::Instant::now();
            let built = build();
            if let Ok(d) = &built {
                tracing::debug!(
                    "built the OpenAPI documents in {:?}: v2 {} bytes JSON, {} protobuf",
                    start.elapsed(),
                    d.v2_json.body.len(),
                    d.v2_protobuf.body.len()
                );
            }
            built
        })
        .as_ref()
        .map_err(|e| ApiError::Internal(format!("building the OpenAPI documents: {e}")))
}

/// Which document a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V2Form {
    Json,
    Protobuf(&'static str),
}

/// The v2 form the `Accept` header asks for: protobuf when it lists gnostic's media type
/// (with `q` > 0), JSON for JSON, `*/*` or no header; `None` (406) otherwise.
fn v2_form(accept: &str) -> Option<V2Form> {
    if accept.trim().is_empty() {
        return Some(V2Form::Json);
    }
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if refused {
            continue;
        }
        match media.as_str() {
            PROTOBUF_V2 => return Some(V2Form::Protobuf(PROTOBUF_V2)),
            PROTOBUF_V2_DOTTED => return Some(V2Form::Protobuf(PROTOBUF_V2_DOTTED)),
            "application/json" | "application/*" | "*/*" => return Some(V2Form::Json),
            _ => {}
        }
    }
    None
}

fn not_acceptable(what: &str) -> Response<ApiBody> {
    error_response(&ApiError::Other(Box::new(kube_core::Status::failure(
        406,
        "NotAcceptable",
        format!("only the following media types are accepted: {what}"),
    ))))
}

fn not_found(path: &str) -> Response<ApiBody> {
    error_response(&ApiError::Other(Box::new(kube_core::Status::failure(
        404,
        kube_core::status::REASON_NOT_FOUND,
        format!("the server could not find the requested resource: {path}"),
    ))))
}

/// The response for `doc`, or 304 when the client already has it.
fn respond<B>(req: &Request<B>, doc: &Encoded, content_type: &'static str) -> Response<ApiBody> {
    let etag = format!("\"{}\"", doc.etag);
    let cached = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if cached {
        let mut r = Response::new(ApiBody::full(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = raw_json(StatusCode::OK, Vec::new());
        *r.body_mut() = ApiBody::full(doc.body.clone());
        r
    };
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    resp
}

/// `GET /openapi/v2`.
pub fn v2<B>(req: &Request<B>) -> Response<ApiBody> {
    let accept = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(form) = v2_form(accept) else {
        return not_acceptable(&format!("application/json, {PROTOBUF_V2}"));
    };
    match (documents(), form) {
        (Err(e), _) => error_response(&e),
        (Ok(d), V2Form::Json) => respond(req, &d.v2_json, "application/json"),
        // Kubernetes answers `application/octet-stream`: clients parse the Content-Type with
        // Go's `mime`, which refuses the `@` of the requested type.
        (Ok(d), V2Form::Protobuf(_)) => respond(req, &d.v2_protobuf, "application/octet-stream"),
    }
}

/// `GET /openapi/v3` (`group_version` empty: the index) and `GET /openapi/v3/{group_version}`.
pub fn v3<B>(req: &Request<B>, group_version: &str) -> Response<ApiBody> {
    let accept = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if v2_form(accept) != Some(V2Form::Json) {
        return not_acceptable("application/json");
    }
    let d = match documents() {
        Ok(d) => d,
        Err(e) => return error_response(&e),
    };
    if group_version.is_empty() {
        return respond(req, &d.v3_index, "application/json");
    }
    match d.v3.get(group_version) {
        Some(doc) => respond(req, doc, "application/json"),
        None => not_found(&format!("/openapi/v3/{group_version}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_form_follows_accept() {
        let cases = [
            ("", Some(V2Form::Json)),
            ("application/json", Some(V2Form::Json)),
            ("*/*", Some(V2Form::Json)),
            (PROTOBUF_V2, Some(V2Form::Protobuf(PROTOBUF_V2))),
            (
                "application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json",
                Some(V2Form::Protobuf(PROTOBUF_V2_DOTTED)),
            ),
            (
                "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0, application/json",
                Some(V2Form::Json),
            ),
            ("text/html", None),
            ("application/yaml", None),
        ];
        for (accept, want) in cases {
            assert_eq!(v2_form(accept), want, "{accept:?}");
        }
    }

    #[test]
    fn served_operations_follow_the_verbs_table() {
        let ops = served_operations();
        let has = |resource, path, method| {
            ops.contains(&ServedOperation {
                resource,
                path,
                method,
            })
        };
        assert!(has(ResourceKind::Pods, PathKind::Item, "PATCH"));
        assert!(has(ResourceKind::Pods, PathKind::Binding, "POST"));
        assert!(has(
            ResourceKind::ReplicationControllers,
            PathKind::Scale,
            "PUT"
        ));
        assert!(has(ResourceKind::Nodes, PathKind::Status, "PATCH"));
        assert!(!has(ResourceKind::Events, PathKind::Status, "GET"));
        assert!(!has(ResourceKind::Pods, PathKind::Scale, "GET"));
        assert!(documents().is_ok());
    }
}
