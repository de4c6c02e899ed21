//! PATCH on resources and their `/status`: JSON Merge Patch, JSON Patch and strategic merge
//! patch (the latter on v1 routes only; v1beta1 never had it).
//!
//! A patch reads the current object, applies the patch to its JSON form (in the route's API
//! version), decodes the result through the same strict decoder an update body goes through,
//! and writes it with the same compare-and-swap as an update (defaulting and validation
//! included), against the revision it read. A patch that does not pin a resourceVersion is
//! retried on conflict, re-reading the object; one that does answers 409 when it is stale.
//! A malformed patch answers 400 and an unsupported content type 415; neither changes anything.
//!
//! Server-side apply (`application/apply-patch+yaml`, v1 only) merges the applied
//! configuration (YAML or JSON, a partial object with apiVersion, kind and name) into the
//! live object with `kube_core::managed_fields::apply`: a missing object is created, a
//! conflict with another manager's fields answers 409 (`FieldManagerConflict` causes) unless
//! `force=true`, and an apply that changes nothing writes nothing. Every write records the
//! writer in `metadata.managedFields` (an `Update` entry for other patches).

use super::codec::{collect_body, content_type};
use super::decode;
use super::resource::Served;
use super::router::Version;
use super::ApiServer;
use crate::registry::{FieldManager, Registry};
use kube_core::decode::StrictErrors;
use kube_core::error::ApiError;
use kube_core::patch::{self, Operation, PatchError};
use kube_core::status::{REASON_BAD_REQUEST, REASON_INVALID};
use kube_core::strategic_merge::{self, Field};
use kube_core::{ResourceKind, Status};
use serde_json::Value;
use std::sync::Arc;

/// How many times a patch without a resourceVersion is tried when updates race it.
pub const MAX_ATTEMPTS: usize = 5;

/// The content types PATCH accepts.
pub const ACCEPTED: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// A parsed patch document.
#[derive(Clone, Debug)]
pub enum Patch {
    /// `application/merge-patch+json` (RFC 7386): an object merged into the current one.
    Merge(Value),
    /// `application/json-patch+json` (RFC 6902): a list of operations.
    Json(Vec<Operation>),
    /// `application/strategic-merge-patch+json`: an object merged with the kind's merge keys.
    Strategic(Value),
    /// `application/apply-patch+yaml`: the applier's intended object (server-side apply).
    Apply(Value),
}

/// The kind of patch a `Content-Type` names (parameters such as `charset` are ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// JSON Merge Patch.
    Merge,
    /// JSON Patch.
    Json,
    /// Strategic merge patch.
    Strategic,
    /// Server-side apply.
    Apply,
}

impl PatchType {
    /// The patch type of a `Content-Type` header, or 415 naming the accepted ones.
    pub fn from_content_type(ctype: &str) -> Result<PatchType, ApiError> {
        let media = ctype
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            "application/apply-patch+yaml" => Ok(PatchType::Apply),
            _ => Err(ApiError::UnsupportedMediaType(format!(
                "the body of the request was in an unknown format - accepted media types include: {} (got {ctype:?})",
                ACCEPTED.join(", ")
            ))),
        }
    }

    /// Parses a patch body of this type (400 when malformed).
    pub fn parse(self, body: &[u8]) -> Result<Patch, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest("the patch body is empty".into()));
        }
        if self == PatchType::Apply {
            // YAML (JSON is YAML), within the decoder's depth and alias limits.
            return decode::decode_document(body, true).map(Patch::Apply);
        }
        if decode::json_depth_exceeds(body, decode::MAX_DEPTH) {
            return Err(ApiError::BadRequest(format!(
                "the patch nests deeper than {} levels",
                decode::MAX_DEPTH
            )));
        }
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("the patch is not valid JSON: {e}")))?;
        match self {
            PatchType::Merge if doc.is_object() => Ok(Patch::Merge(doc)),
            PatchType::Merge => Err(ApiError::BadRequest(
                "a merge patch of an object must be a JSON object".into(),
            )),
            PatchType::Strategic if doc.is_object() => Ok(Patch::Strategic(doc)),
            PatchType::Strategic => Err(ApiError::BadRequest(
                "a strategic merge patch of an object must be a JSON object".into(),
            )),
            PatchType::Json => patch::parse_json_patch(&doc)
                .map(Patch::Json)
                .map_err(patch_error),
            PatchType::Apply => Ok(Patch::Apply(doc)),
        }
    }
}

impl Patch {
    /// Applies the patch to a JSON document whose kind has the patch schema `schema` (from
    /// [`strategic_merge::schema_for_kind`]; only strategic patches use it). 400 or 422 on
    /// failure, the document unchanged.
    pub fn apply(&self, doc: &mut Value, schema: &[Field]) -> Result<(), ApiError> {
        match self {
            Patch::Merge(p) => {
                patch::merge_patch(doc, p);
                Ok(())
            }
            Patch::Json(ops) => patch::apply_operations(doc, ops).map_err(patch_error),
            Patch::Strategic(p) => strategic_merge::apply(doc, p, schema).map_err(|e| {
                ApiError::BadRequest(format!("the strategic merge patch does not apply: {e}"))
            }),
            Patch::Apply(_) => Err(ApiError::Internal(
                "an apply patch is not applied as a patch".into(),
            )),
        }
    }
}

/// A patch failure as Kubernetes answers it: 400 for a malformed patch, 422 for one that does
/// not apply (a failed `test`, a missing path).
fn patch_error(e: PatchError) -> ApiError {
    let st = match &e {
        PatchError::Malformed(_) => Status::failure(400, REASON_BAD_REQUEST, e.to_string()),
        PatchError::NotApplicable(_) => Status::failure(422, REASON_INVALID, e.to_string()),
    };
    ApiError::Other(Box::new(st))
}

/// Where a patch goes.
pub struct Target<'a> {
    /// API version of the route (the JSON the patch applies to is in this version).
    pub version: Version,
    /// The resource.
    pub resource: ResourceKind,
    /// The object's namespace (ignored for cluster-scoped kinds).
    pub namespace: &'a str,
    /// The object's name.
    pub name: &'a str,
    /// Whether the `/status` subresource is patched (only the status is written).
    pub status: bool,
    /// The registry the patch reads and writes through (a dry-run view for `dryRun=All`).
    pub registry: &'a Registry,
    /// `fieldValidation`: unknown fields of the patched object and members the patch repeats.
    pub field_validation: decode::FieldValidation,
    /// The writer recorded in `metadata.managedFields`: `fieldManager`, or the User-Agent's
    /// first part ([`manager_or_user_agent`]).
    pub manager: &'a str,
    /// Whether `fieldManager` was given (apply requires it).
    pub explicit_manager: bool,
}

/// Kubernetes' default field manager: `fieldManager` when given, else the User-Agent up to its
/// first `/` (`kubectl/v1.20.0 (linux/amd64)` → `kubectl`), printable characters only, at most
/// 128 bytes.
pub fn manager_or_user_agent(field_manager: Option<&str>, user_agent: &str) -> String {
    if let Some(m) = field_manager.filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    let mut out = String::new();
    for c in user_agent.split('/').next().unwrap_or_default().chars() {
        if c.is_control() || (c.is_whitespace() && c != ' ') {
            continue;
        }
        if out.len() + c.len_utf8() > 128 {
            break;
        }
        out.push(c);
    }
    out
}

/// Go's `strconv.ParseBool`, for `force`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `force` from the query: `None` when absent, 400 when not a boolean.
fn force_param<B>(req: &hyper::Request<B>) -> Result<Option<bool>, ApiError> {
    let query = super::router::parse_query(req.uri().query());
    match query.get("force") {
        None => Ok(None),
        Some(v) => parse_bool(v).map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!("invalid value {v:?} for force: not a boolean"))
        }),
    }
}

/// A PatchOptions validation failure (422, as Kubernetes' `ValidatePatchOptions`).
fn invalid_options(error: kube_core::validation::FieldError) -> ApiError {
    ApiError::Invalid {
        kind: "PatchOptions.meta.k8s.io".into(),
        name: String::new(),
        errors: vec![error],
    }
}

/// Serves a PATCH: reads and parses the patch, then applies it with retries on conflict.
/// Returns the object and whether it was created (by an apply).
pub async fn patch<T: Served>(
    srv: &ApiServer,
    target: &Target<'_>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<(T, bool), ApiError> {
    let ptype = PatchType::from_content_type(content_type(&req));
    if target.version == Version::V1Beta1
        && matches!(ptype, Ok(PatchType::Strategic | PatchType::Apply))
    {
        return Err(ApiError::UnsupportedMediaType(
            "strategic merge patch and server-side apply are served on v1 only (v1beta1 never had them); use application/merge-patch+json or application/json-patch+json on v1beta1".into(),
        ));
    }
    let force = force_param(&req)?;
    let apply = matches!(ptype, Ok(PatchType::Apply));
    if !apply && force.is_some() {
        return Err(invalid_options(kube_core::validation::FieldError {
            kind: kube_core::validation::FieldErrorKind::Forbidden,
            field: "force".into(),
            value: String::new(),
            detail: "may not be specified for non-apply patch".into(),
        }));
    }
    if apply && !target.explicit_manager {
        return Err(invalid_options(
            kube_core::validation::FieldError::required(
                "fieldManager",
                "is required for apply patch",
            ),
        ));
    }
    let (parsed, repeated) = read_patch(srv, req, target.field_validation).await?;
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        let attempt = match &*parsed {
            Patch::Apply(config) => {
                let force = force.unwrap_or(false);
                super::apply::apply_once::<T>(target, config, &repeated, force).await
            }
            _ => patch_once::<T>(target, &parsed, &repeated)
                .await
                .map(|o| (o, false)),
        };
        match attempt {
            Err(Retry::Conflict(e)) => last = Some(e),
            Err(Retry::Fail(e)) => return Err(e),
            Ok(done) => return Ok(done),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::Internal("patch was never attempted".into())))
}

/// Reads and parses a PATCH request's body by its content type (415 for an unsupported one,
/// 400 for a malformed patch), with the members the patch itself repeats (and, for a JSON
/// Patch, the unknown members of its operations) under field validation `mode`.
pub async fn read_patch(
    srv: &ApiServer,
    req: hyper::Request<hyper::body::Incoming>,
    mode: decode::FieldValidation,
) -> Result<(Arc<Patch>, StrictErrors), ApiError> {
    let ptype = PatchType::from_content_type(content_type(&req))?;
    let body = collect_body(req, srv.config.max_body_bytes).await?;
    decode::off_runtime(body, move |b| {
        if ptype == PatchType::Apply {
            // YAML (JSON is YAML), within the decoder's depth and alias limits; its repeated
            // keys are found while parsing.
            let (config, repeated) = decode::decode_document_checked(b, true, mode.checks())?;
            return Ok((Arc::new(Patch::Apply(config)), repeated));
        }
        Ok((
            Arc::new(ptype.parse(b)?),
            decode::patch_duplicates(b, ptype == PatchType::Json, mode),
        ))
    })
    .await
}

/// The outcome of one attempt that did not succeed.
pub(super) enum Retry {
    /// A conflict with a write that came in between; worth another read.
    Conflict(ApiError),
    /// Anything else, final.
    Fail(ApiError),
}

async fn patch_once<T: Served>(
    t: &Target<'_>,
    patch: &Arc<Patch>,
    repeated: &StrictErrors,
) -> Result<T, Retry> {
    let current: T = t
        .registry
        .get(t.namespace, t.name)
        .await
        .map_err(Retry::Fail)?;
    let read_rv = current.meta().resource_version.clone();
    let (version, resource, patch) = (t.version, t.resource, Arc::clone(patch));
    let (mode, repeated) = (t.field_validation, repeated.clone());
    // Applying and decoding are proportional to the object's size: off the I/O threads.
    let (mut obj, warnings): (T, _) = tokio::task::spawn_blocking(move || {
        patched::<T>(&current, &patch, version, resource, mode, repeated)
    })
    .await
    .map_err(|e| {
        Retry::Fail(ApiError::Internal(format!(
            "applying the patch failed: {e}"
        )))
    })?
    .map_err(Retry::Fail)?;
    super::warning::add_all(warnings);
    // A patch that leaves the resourceVersion alone (or removes it) is written against the
    // revision it was applied to, and may be retried; one that sets another is a precondition.
    let pinned = !obj.meta().resource_version.is_empty() && obj.meta().resource_version != read_rv;
    if obj.meta().resource_version.is_empty() {
        obj.meta_mut().resource_version = read_rv;
    }
    let manager = FieldManager::Update(t.manager);
    let written = if t.status {
        t.registry
            .update_status_as(t.namespace, t.name, obj, manager)
            .await
    } else {
        t.registry
            .update_as(t.namespace, t.name, obj, manager)
            .await
    };
    written.map_err(|e| {
        if e.is_conflict() && !pinned {
            Retry::Conflict(e)
        } else {
            Retry::Fail(e)
        }
    })
}

/// The object `patch` makes of `current`: the patch is applied to its JSON in `version`, and
/// the result is decoded as an update body of that version would be; field validation
/// (`mode`) covers the members the patch repeats and the patched object's unknown fields,
/// answering the warnings to send.
fn patched<T: Served>(
    current: &T,
    patch: &Patch,
    version: Version,
    resource: ResourceKind,
    mode: decode::FieldValidation,
    mut found: StrictErrors,
) -> Result<(T, Vec<String>), ApiError> {
    let mut doc = match version {
        Version::V1 => serde_json::to_value(current)
            .map_err(|e| ApiError::Internal(format!("encoding the object: {e}")))?,
        Version::V1Beta1 => current.to_v1beta1(),
    };
    patch.apply(
        &mut doc,
        strategic_merge::schema_for_kind(resource.info().kind),
    )?;
    // Through the text, so the patched document meets a body's limits (depth, an object).
    let bytes = serde_json::to_vec(&doc)
        .map_err(|e| ApiError::Internal(format!("encoding the patched object: {e}")))?;
    let doc = decode::decode_document(&bytes, false)?;
    let (mut obj, unknown) = decode::decode_value::<T>(doc, version, resource, mode.checks())?;
    found.extend(unknown);
    let on = decode::Checked::Patch {
        kind: resource.info().kind,
        name: &current.meta().name,
    };
    let warnings = decode::check_fields(mode, &found, on)?;
    if version == Version::V1Beta1 {
        kube_core::v1beta1::keep_v1_only_metadata(current.meta(), obj.meta_mut());
    }
    Ok((obj, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            ("application/merge-patch+json", Some(PatchType::Merge)),
            (
                "application/merge-patch+json; charset=utf-8",
                Some(PatchType::Merge),
            ),
            ("Application/JSON-Patch+JSON", Some(PatchType::Json)),
            (
                "application/strategic-merge-patch+json; charset=utf-8",
                Some(PatchType::Strategic),
            ),
            ("application/apply-patch+yaml", Some(PatchType::Apply)),
            ("application/json", None),
            ("", None),
        ];
        for (ct, want) in cases {
            match (PatchType::from_content_type(ct), want) {
                (Ok(got), Some(want)) => assert_eq!(got, want, "{ct}"),
                (Err(e), None) => {
                    assert_eq!(e.code(), 415, "{ct}");
                    assert!(e.to_string().contains(ACCEPTED[1]), "{ct}: {e}");
                }
                (got, want) => panic!("{ct}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn malformed_patches_are_400() {
        let cases: [(PatchType, &str); 8] = [
            (PatchType::Merge, ""),
            (PatchType::Strategic, "[{\"$patch\":\"delete\"}]"),
            (PatchType::Strategic, "\"x\""),
            (PatchType::Merge, "{"),
            (PatchType::Merge, "[1]"),
            (PatchType::Json, "{\"op\":\"add\"}"),
            (PatchType::Json, "[{\"op\":\"nope\",\"path\":\"/a\"}]"),
            (
                PatchType::Json,
                "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
            ),
        ];
        for (pt, body) in cases {
            let e = pt.parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.code(), 400, "{body}: {e}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            PatchType::Json.parse(deep.as_bytes()).unwrap_err().code(),
            400
        );
    }

    #[test]
    fn default_field_managers() {
        // (fieldManager, User-Agent, manager)
        let cases = [
            (Some("mine"), "kubectl/v1.20.0 (linux/amd64)", "mine"),
            (
                None,
                "kubectl/v1.20.0 (linux/amd64) kubernetes/abc",
                "kubectl",
            ),
            (Some(""), "kubecfg", "kubecfg"),
            (None, "", ""),
            (None, "Go-http-client/1.1", "Go-http-client"),
            (None, "a\tb\u{7}c/x", "abc"),
        ];
        for (fm, ua, want) in cases {
            assert_eq!(manager_or_user_agent(fm, ua), want, "{fm:?} {ua:?}");
        }
        assert_eq!(manager_or_user_agent(None, &"m".repeat(300)).len(), 128);
    }

    #[test]
    fn apply_bodies_are_yaml_or_json_objects() {
        let p = PatchType::Apply
            .parse(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
            .unwrap();
        assert!(matches!(p, Patch::Apply(v) if v["metadata"]["name"] == "p"));
        assert!(matches!(
            PatchType::Apply.parse(br#"{"kind":"Pod"}"#),
            Ok(Patch::Apply(_))
        ));
        for bad in ["", "- a\n- b\n", "a: [", "a: 1\n---\nb: 2\n"] {
            let e = PatchType::Apply.parse(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code(), 400, "{bad:?}: {e}");
        }
        let mut q = hyper::Request::new(());
        *q.uri_mut() = "/x?force=true".parse().unwrap();
        assert_eq!(force_param(&q).unwrap(), Some(true));
        *q.uri_mut() = "/x?force=maybe".parse().unwrap();
        assert_eq!(force_param(&q).unwrap_err().code(), 400);
        *q.uri_mut() = "/x".parse().unwrap();
        assert_eq!(force_param(&q).unwrap(), None);
    }

    #[test]
    fn a_failed_test_is_422() {
        let p = PatchType::Json
            .parse(br#"[{"op":"test","path":"/a","value":2}]"#)
            .unwrap();
        let mut doc = serde_json::json!({"a": 1});
        assert_eq!(p.apply(&mut doc, &[]).unwrap_err().code(), 422);
    }

    #[test]
    fn strategic_patches_use_the_schema_and_fail_with_400() {
        let pod = strategic_merge::schema_for_kind("Pod");
        let p = PatchType::Strategic
            .parse(br#"{"spec":{"containers":[{"name":"b","image":"y"}]}}"#)
            .unwrap();
        let mut doc = serde_json::json!({"spec": {"containers": [{"name": "a"}]}});
        p.apply(&mut doc, pod).unwrap();
        assert_eq!(
            doc["spec"]["containers"],
            serde_json::json!([{"name": "b", "image": "y"}, {"name": "a"}])
        );
        let bad = PatchType::Strategic
            .parse(br#"{"spec":{"containers":[{"image":"y"}]}}"#)
            .unwrap();
        let before = doc.clone();
        let e = bad.apply(&mut doc, pod).unwrap_err();
        assert_eq!(e.code(), 400, "{e}");
        assert!(e.to_string().contains("merge key"), "{e}");
        assert_eq!(doc, before);
    }
}
