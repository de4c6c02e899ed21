//! PATCH on resources and their `/status`: JSON Merge Patch, JSON Patch and strategic merge
//! patch (the latter on v1 routes only; v1beta1 never had it).
//!
//! A patch reads the current object, applies the patch to its JSON form (in the route's API
//! version), decodes the result through the same strict decoder an update body goes through,
//! and writes it with the same compare-and-swap as an update (defaulting and validation
//! included), against the revision it read. A patch that does not pin a resourceVersion is
//! retried on conflict, re-reading the object; one that does answers 409 when it is stale.
//! A malformed patch answers 400 and an unsupported content type 415; neither changes anything.

use super::codec::{collect_body, content_type};
use super::decode;
use super::resource::Served;
use super::router::Version;
use super::ApiServer;
use crate::registry::Registry;
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
];

/// The patch formats Kubernetes has that are not served yet.
const NOT_YET: &[&str] = &["application/apply-patch+yaml"];

/// A parsed patch document.
#[derive(Clone, Debug)]
pub enum Patch {
    /// `application/merge-patch+json` (RFC 7386): an object merged into the current one.
    Merge(Value),
    /// `application/json-patch+json` (RFC 6902): a list of operations.
    Json(Vec<Operation>),
    /// `application/strategic-merge-patch+json`: an object merged with the kind's merge keys.
    Strategic(Value),
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
            m if NOT_YET.contains(&m) => Err(ApiError::UnsupportedMediaType(format!(
                "the patch type {m:?} is not supported yet; accepted patch types: {}",
                ACCEPTED.join(", ")
            ))),
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
}

/// Serves a PATCH: reads and parses the patch, then applies it with retries on conflict.
pub async fn patch<T: Served>(
    srv: &ApiServer,
    target: &Target<'_>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<T, ApiError> {
    if target.version == Version::V1Beta1
        && matches!(
            PatchType::from_content_type(content_type(&req)),
            Ok(PatchType::Strategic)
        )
    {
        return Err(ApiError::UnsupportedMediaType(
            "strategic merge patch is served on v1 only (v1beta1 never had it); use application/merge-patch+json or application/json-patch+json on v1beta1".into(),
        ));
    }
    let (parsed, repeated) = read_patch(srv, req, target.field_validation).await?;
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        match patch_once::<T>(target, &parsed, &repeated).await {
            Err(Retry::Conflict(e)) => last = Some(e),
            Err(Retry::Fail(e)) => return Err(e),
            Ok(obj) => return Ok(obj),
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
        Ok((
            Arc::new(ptype.parse(b)?),
            decode::patch_duplicates(b, ptype == PatchType::Json, mode),
        ))
    })
    .await
}

/// The outcome of one attempt that did not succeed.
enum Retry {
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
    let written = if t.status {
        t.registry.update_status(t.namespace, t.name, obj).await
    } else {
        t.registry.update(t.namespace, t.name, obj).await
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
            ("application/apply-patch+yaml", None),
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
        let e = PatchType::from_content_type("application/apply-patch+yaml").unwrap_err();
        assert!(e.to_string().contains("not supported yet"), "{e}");
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
