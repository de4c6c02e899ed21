//! Strict decoding of request bodies (JSON or YAML) into typed objects, with hard limits.
//!
//! Every route that reads a body (resources in v1 and v1beta1, `/status`, bindings) decodes
//! it here: the document is parsed into a JSON value within the limits ([`MAX_DEPTH`] for
//! both formats; YAML aliases bounded by [`yaml`]), its `kind` and `apiVersion` are checked
//! against the route, and it is decoded into the typed object by the strict decoder of
//! [`kube_core::decode`] (v1) or the v1beta1 conversion, both of which refuse any type
//! mismatch (an array for an object, an object for a string, a number out of range) with a
//! 400 naming the field path. Bodies above [`BLOCKING_THRESHOLD`] are decoded on tokio's
//! blocking pool ([`off_runtime`]), so no body can stall the I/O threads.

pub mod yaml;

use super::resource::Served;
use super::router::Version;
use bytes::Bytes;
use kube_core::deletion::{Preconditions, PropagationPolicy};
use kube_core::error::ApiError;
use kube_core::status::{StatusCause, StatusDetails, REASON_BAD_REQUEST};
use kube_core::v1beta1::V1Beta1;
use kube_core::validation::FieldError;
use kube_core::{Binding, DeleteOptions, ResourceKind, Status};
use serde_json::Value;

/// Deepest nesting of arrays and objects accepted in a body, JSON or YAML (serde_json's own
/// limit, 127, is a backstop; Kubernetes objects nest about 10 deep).
pub const MAX_DEPTH: usize = 100;

/// Bodies larger than this are decoded on the blocking pool rather than on an I/O thread.
pub const BLOCKING_THRESHOLD: usize = 16 * 1024;

/// A body's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML (a superset of JSON).
    Yaml,
}

impl Format {
    /// YAML when the content type declares it or when the body does not start with `{`.
    pub fn detect(body: &[u8], yaml_declared: bool) -> Format {
        let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if !yaml_declared && first == Some(b'{') {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// A 400 BadRequest whose single cause names the offending field (or query parameter).
pub fn bad_field(field: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    let mut st = Status::failure(
        400,
        REASON_BAD_REQUEST,
        if field.is_empty() {
            message.clone()
        } else {
            format!("{field}: {message}")
        },
    );
    if !field.is_empty() {
        st.details = Some(StatusDetails {
            causes: vec![StatusCause {
                reason: "FieldValueInvalid".into(),
                message,
                field: field.to_string(),
            }],
            ..StatusDetails::default()
        });
    }
    ApiError::Other(Box::new(st))
}

/// Parses a JSON or YAML body into a JSON object, within [`MAX_DEPTH`] and the alias budget.
pub fn decode_document(body: &[u8], yaml_declared: bool) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    let value = match Format::detect(body, yaml_declared) {
        Format::Json => {
            if json_depth_exceeds(body, MAX_DEPTH) {
                return Err(ApiError::BadRequest(format!(
                    "the request body nests deeper than {MAX_DEPTH} levels"
                )));
            }
            serde_json::from_slice(body).map_err(|e| {
                ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))
            })?
        }
        Format::Yaml => {
            let text = std::str::from_utf8(body)
                .map_err(|e| ApiError::BadRequest(format!("the request body is not UTF-8: {e}")))?;
            yaml::to_json(text, MAX_DEPTH).map_err(|e| {
                ApiError::BadRequest(format!("the request body is not valid YAML: {e}"))
            })?
        }
    };
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the request body must be a JSON or YAML object".into(),
        ));
    }
    Ok(value)
}

/// Whether a JSON text nests arrays and objects deeper than `max` (strings are skipped;
/// malformed text is left to the parser).
pub fn json_depth_exceeds(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Decodes a resource body for a route: parses it, checks `kind` and `apiVersion` against
/// the route's resource and version, and decodes it strictly into `T`.
pub fn decode_object<T: Served>(
    body: &[u8],
    yaml_declared: bool,
    version: Version,
    resource: ResourceKind,
) -> Result<T, ApiError> {
    let value = decode_document(body, yaml_declared)?;
    let info = resource.info();
    let (want_kind, want_version) = match version {
        Version::V1 => (info.kind, info.api_version),
        Version::V1Beta1 => (info.v1beta1_kind, "v1beta1"),
    };
    if let Some(kind) = value.get("kind") {
        let kind = kind.as_str().unwrap_or_default();
        let also_ok = version == Version::V1Beta1 && kind == info.kind;
        if kind != want_kind && !also_ok {
            return Err(ApiError::BadRequest(format!(
                "the kind {kind:?} of the body does not match the expected kind {want_kind:?} of {}",
                info.plural
            )));
        }
    }
    if let Some(av) = value.get("apiVersion") {
        let av = av.as_str().unwrap_or_default();
        if av != want_version {
            return Err(ApiError::BadRequest(format!(
                "the apiVersion {av:?} of the body does not match the path's version {want_version:?}"
            )));
        }
    }
    match version {
        Version::V1 => kube_core::decode::from_value::<T>(&value).map_err(|e| {
            bad_field(
                &e.field,
                format!("the body is not a valid {want_kind}: {}", e.message),
            )
        }),
        Version::V1Beta1 => T::from_v1beta1(value).map_err(|e| {
            bad_field(
                &e.field,
                format!("the body is not a valid v1beta1 {want_kind}: {}", e.message),
            )
        }),
    }
}

/// Decodes a binding body (v1 `Binding` or the seed's v1beta1 form), strictly.
pub fn decode_binding(
    body: &[u8],
    yaml_declared: bool,
    version: Version,
) -> Result<Binding, ApiError> {
    let value = decode_document(body, yaml_declared)?;
    if let Some(kind) = value.get("kind").and_then(|k| k.as_str()) {
        if kind != "Binding" {
            return Err(ApiError::BadRequest(format!(
                "the kind {kind:?} of the body does not match the expected kind \"Binding\""
            )));
        }
    }
    match version {
        Version::V1 => kube_core::decode::from_value::<Binding>(&value).map_err(|e| {
            bad_field(
                &e.field,
                format!("the body is not a valid Binding: {}", e.message),
            )
        }),
        Version::V1Beta1 => Binding::from_v1beta1(value).map_err(|e| {
            bad_field(
                &e.field,
                format!("the body is not a valid v1beta1 Binding: {}", e.message),
            )
        }),
    }
}

/// Decodes a delete request's body (`DeleteOptions`, JSON or YAML): `kind`, when present, must
/// be `DeleteOptions`; `gracePeriodSeconds`, when present, a non-negative integer;
/// `propagationPolicy` one of `Orphan`, `Background`, `Foreground` (or the deprecated boolean
/// `orphanDependents`, not both: 422); `preconditions` an object of optional `uid` and
/// `resourceVersion` strings. Other fields (`dryRun`, ...) are accepted and ignored.
pub fn decode_delete_options(body: &[u8], yaml_declared: bool) -> Result<DeleteOptions, ApiError> {
    let value = decode_document(body, yaml_declared)?;
    match value.get("kind") {
        None => {}
        Some(Value::String(k)) if k == "DeleteOptions" => {}
        Some(k) => {
            return Err(ApiError::BadRequest(format!(
                "the kind {k} of the body does not match the expected kind \"DeleteOptions\""
            )))
        }
    }
    let grace = match value.get("gracePeriodSeconds") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|g| g >= 0) => n.as_i64(),
        Some(v) => {
            return Err(bad_field(
                "gracePeriodSeconds",
                format!("invalid value {v}: must be a non-negative integer"),
            ))
        }
    };
    let policy = match value.get("propagationPolicy") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if PropagationPolicy::parse(p).is_some() => {
            PropagationPolicy::parse(p)
        }
        Some(v) => {
            return Err(bad_field(
                "propagationPolicy",
                format!("invalid value {v}: must be one of Orphan, Background, Foreground"),
            ))
        }
    };
    let orphan = match value.get("orphanDependents") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => {
            return Err(bad_field(
                "orphanDependents",
                format!("invalid value {v}: must be a boolean"),
            ))
        }
    };
    let preconditions = match value.get("preconditions") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            kube_core::decode::from_value::<Preconditions>(v).map_err(|e| {
                let field = match e.field.as_str() {
                    "" => "preconditions".to_string(),
                    f => format!("preconditions.{f}"),
                };
                bad_field(&field, format!("invalid preconditions: {}", e.message))
            })?,
        ),
    };
    Ok(DeleteOptions {
        grace_period_seconds: grace,
        preconditions,
        propagation_policy: propagation_policy(policy, orphan)?,
    })
}

/// The propagation policy of a delete given `propagationPolicy` and the deprecated
/// `orphanDependents` (true: `Orphan`, false: `Background`); both set is a 422, as in Kubernetes.
pub fn propagation_policy(
    policy: Option<PropagationPolicy>,
    orphan_dependents: Option<bool>,
) -> Result<Option<PropagationPolicy>, ApiError> {
    match (policy, orphan_dependents) {
        (Some(_), Some(_)) => Err(ApiError::Invalid {
            kind: "DeleteOptions".into(),
            name: String::new(),
            errors: vec![FieldError::invalid(
                "propagationPolicy",
                "",
                "orphanDependents and deletionPropagation cannot be both set",
            )],
        }),
        (Some(p), None) => Ok(Some(p)),
        (None, Some(true)) => Ok(Some(PropagationPolicy::Orphan)),
        (None, Some(false)) => Ok(Some(PropagationPolicy::Background)),
        (None, None) => Ok(None),
    }
}

/// Runs `decode` over `body`: inline for small bodies, on the blocking pool above
/// [`BLOCKING_THRESHOLD`], so that decoding never holds an I/O thread for long.
pub async fn off_runtime<R, F>(body: Bytes, decode: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce(&[u8]) -> Result<R, ApiError> + Send + 'static,
{
    if body.len() <= BLOCKING_THRESHOLD {
        return decode(&body);
    }
    tokio::task::spawn_blocking(move || decode(&body))
        .await
        .map_err(|e| ApiError::Internal(format!("decoding the body failed: {e}")))?
}

#[cfg(test)]
mod tests;
