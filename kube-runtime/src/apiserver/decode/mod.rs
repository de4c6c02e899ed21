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
//!
//! Field validation (`fieldValidation=Strict|Warn|Ignore`, [`FieldValidation`]): unless it
//! is `Ignore`, the parse also finds members repeated in one object (JSON and YAML) and the
//! typed decode the members the type does not know (for v1beta1, those of the v1beta1
//! document); [`check_fields`] turns what was found into warnings (`Warn`, the default on v1
//! as in Kubernetes; v1beta1 defaults to `Ignore`, as it always behaved) or a refusal naming
//! every field (`Strict`). [`strict_fields`] is the one call for a path that has a parsed
//! body of its own (server-side apply).

pub mod yaml;

use super::resource::Served;
use super::router::Version;
use bytes::Bytes;
use kube_core::decode::{StrictErrors, StrictKind};
use kube_core::deletion::{Preconditions, PropagationPolicy};
use kube_core::error::ApiError;
use kube_core::status::{StatusCause, StatusDetails, REASON_BAD_REQUEST, REASON_INVALID};
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

/// What the server does about unknown and repeated fields of a body (`fieldValidation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse the request, naming every such field.
    Strict,
    /// Accept it, with a `Warning` header per field (Kubernetes' default since 1.27).
    #[default]
    Warn,
    /// Accept it silently (unknown fields are dropped, the last repeated member wins).
    Ignore,
}

impl FieldValidation {
    /// The accepted values of the parameter.
    pub const VALUES: [&'static str; 3] = ["Strict", "Warn", "Ignore"];

    /// The mode when the request names none: `Warn` on v1 (current Kubernetes' default),
    /// `Ignore` on v1beta1, which never looked at unknown fields.
    pub fn default_for(version: Version) -> FieldValidation {
        match version {
            Version::V1 => FieldValidation::Warn,
            Version::V1Beta1 => FieldValidation::Ignore,
        }
    }

    /// The mode a `fieldValidation` value names (case-sensitive, as in Kubernetes).
    pub fn parse(v: &str) -> Option<FieldValidation> {
        match v {
            "Warn" => Some(FieldValidation::Warn),
            "Strict" => Some(FieldValidation::Strict),
            "Ignore" => Some(FieldValidation::Ignore),
            _ => None,
        }
    }

    /// Whether unknown and repeated fields are looked for at all.
    pub fn checks(self) -> bool {
        self != FieldValidation::Ignore
    }
}

/// What a field validation failure is reported as.
#[derive(Clone, Copy, Debug)]
pub enum Checked<'a> {
    /// A create or update body: 400 BadRequest, `{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: ...`.
    Body {
        /// The kind in the route's version (`Pod`, `Minion`).
        kind: &'a str,
        /// The route's version (`v1`, `v1beta1`, `coordination.k8s.io/v1`).
        version: &'a str,
    },
    /// A patch (its body and the patched object): 422 Invalid on the field `patch`, as Kubernetes answers.
    Patch {
        /// The object's kind.
        kind: &'a str,
        /// The object's name.
        name: &'a str,
    },
}

/// Applies a field validation mode to what was found: the warnings to send (`Warn`; none for
/// `Ignore` or when nothing was found), or, for `Strict`, the refusal, whose message and
/// Status causes name every field (`FieldValueInvalid` for an unknown one,
/// `FieldValueDuplicate` for a repeated one). Nothing has been stored when it is called.
pub fn check_fields(
    mode: FieldValidation,
    found: &StrictErrors,
    on: Checked<'_>,
) -> Result<Vec<String>, ApiError> {
    if found.is_empty() || mode == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    if mode == FieldValidation::Warn {
        return Ok(found.messages());
    }
    let causes = found
        .errors
        .iter()
        .map(|e| StatusCause {
            reason: match e.kind {
                StrictKind::Unknown => "FieldValueInvalid",
                StrictKind::Duplicate => "FieldValueDuplicate",
            }
            .into(),
            message: e.to_string(),
            field: e.field.clone(),
        })
        .collect();
    let mut st = match on {
        Checked::Body { kind, version } => Status::failure(
            400,
            REASON_BAD_REQUEST,
            format!("{kind} in version {version:?} cannot be handled as a {kind}: {found}"),
        ),
        Checked::Patch { kind, name } => Status::failure(
            422,
            REASON_INVALID,
            format!("{kind} {name:?} is invalid: patch: Invalid value: {found}"),
        ),
    };
    st.details = Some(StatusDetails {
        causes,
        ..StatusDetails::default()
    });
    Err(ApiError::Other(Box::new(st)))
}

/// The members of a JSON patch body (merge, strategic or JSON Patch) strict decoding refuses,
/// as Kubernetes reports them before applying it: repeated members, and for a JSON Patch
/// (`json patch ` before each) members of an operation other than `op`, `path`, `from` and
/// `value`. Nothing when `mode` is `Ignore` or the body does not parse (refused elsewhere).
pub fn patch_duplicates(body: &[u8], json_patch: bool, mode: FieldValidation) -> StrictErrors {
    if !mode.checks() {
        return StrictErrors::default();
    }
    let Ok((doc, mut found)) = kube_core::decode::parse_json(body) else {
        return StrictErrors::default();
    };
    if json_patch {
        for e in &mut found.errors {
            e.prefix = "json patch ";
        }
        for (i, op) in doc.as_array().into_iter().flatten().enumerate() {
            for key in op.as_object().into_iter().flat_map(|o| o.keys()) {
                if !["op", "path", "from", "value"].contains(&key.as_str()) {
                    found.push(kube_core::decode::StrictError {
                        prefix: "json patch ",
                        ..kube_core::decode::StrictError::unknown(format!("[{i}].{key}"))
                    });
                }
            }
        }
    }
    found
}

/// Parses a JSON or YAML body into a JSON object, within [`MAX_DEPTH`] and the alias budget.
pub fn decode_document(body: &[u8], yaml_declared: bool) -> Result<Value, ApiError> {
    decode_document_checked(body, yaml_declared, false).map(|(v, _)| v)
}

/// [`decode_document`], also reporting the members repeated in one object when `duplicates`
/// is asked for (YAML bodies always find them; JSON ones only then, as it takes another parser).
pub fn decode_document_checked(
    body: &[u8],
    yaml_declared: bool,
    duplicates: bool,
) -> Result<(Value, StrictErrors), ApiError> {
    let mut found = StrictErrors::default();
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
            let invalid =
                |e| ApiError::BadRequest(format!("the request body is not valid JSON: {e}"));
            if duplicates {
                let (value, dups) = kube_core::decode::parse_json(body).map_err(invalid)?;
                found = dups;
                value
            } else {
                serde_json::from_slice(body).map_err(invalid)?
            }
        }
        Format::Yaml => {
            let text = std::str::from_utf8(body)
                .map_err(|e| ApiError::BadRequest(format!("the request body is not UTF-8: {e}")))?;
            let (value, dups) = yaml::to_json_checked(text, MAX_DEPTH).map_err(|e| {
                ApiError::BadRequest(format!("the request body is not valid YAML: {e}"))
            })?;
            found = dups;
            value
        }
    };
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the request body must be a JSON or YAML object".into(),
        ));
    }
    Ok((value, found))
}

pub use kube_core::decode::json_depth_exceeds;

/// Decodes a resource body for a route: parses it, checks `kind` and `apiVersion` against
/// the route's resource and version, and decodes it strictly into `T`.
pub fn decode_object<T: Served>(
    body: &[u8],
    yaml_declared: bool,
    version: Version,
    resource: ResourceKind,
) -> Result<T, ApiError> {
    let value = decode_document(body, yaml_declared)?;
    decode_value::<T>(value, version, resource, false).map(|(obj, _)| obj)
}

/// [`decode_object`] under a field validation mode: the object and the warnings to send, or
/// (`Strict`) a 400 naming every unknown and repeated field.
pub fn decode_object_checked<T: Served>(
    body: &[u8],
    yaml_declared: bool,
    version: Version,
    resource: ResourceKind,
    mode: FieldValidation,
) -> Result<(T, Vec<String>), ApiError> {
    let (value, mut found) = decode_document_checked(body, yaml_declared, mode.checks())?;
    let (obj, unknown) = decode_value::<T>(value, version, resource, mode.checks())?;
    found.extend(unknown);
    let info = resource.info();
    let on = match version {
        Version::V1 => Checked::Body {
            kind: info.kind,
            version: info.api_version,
        },
        Version::V1Beta1 => Checked::Body {
            kind: info.v1beta1_kind,
            version: "v1beta1",
        },
    };
    let warnings = check_fields(mode, &found, on)?;
    Ok((obj, warnings))
}

/// Decodes a parsed document for a route: checks `kind` and `apiVersion` against the route's
/// resource and version and decodes it strictly into `T`, also reporting (when `unknown` is
/// asked for) the members the type does not know, those of the v1beta1 document on v1beta1.
/// Server-side apply calls it on the applied configuration, then [`check_fields`].
pub fn decode_value<T: Served>(
    value: Value,
    version: Version,
    resource: ResourceKind,
    unknown: bool,
) -> Result<(T, StrictErrors), ApiError> {
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
    use kube_core::decode::{from_v1beta1_reporting, from_value, from_value_reporting};
    match version {
        Version::V1 => {
            let (obj, found) = if unknown {
                from_value_reporting::<T>(&value)
            } else {
                (from_value::<T>(&value), StrictErrors::default())
            };
            let obj = obj.map_err(|e| {
                bad_field(
                    &e.field,
                    format!("the body is not a valid {want_kind}: {}", e.message),
                )
            })?;
            Ok((obj, found))
        }
        Version::V1Beta1 => {
            let (obj, found) = if unknown {
                from_v1beta1_reporting::<T>(value)
            } else {
                (T::from_v1beta1(value), StrictErrors::default())
            };
            let obj = obj.map_err(|e| {
                bad_field(
                    &e.field,
                    format!("the body is not a valid v1beta1 {want_kind}: {}", e.message),
                )
            })?;
            Ok((obj, found))
        }
    }
}

/// Field validation of a document a route parsed itself (server-side apply's applied
/// configuration): the members of `value` that `T` does not know in `version` (paths as
/// Kubernetes prints them, `spec.containers[0].foo`), after the members its parse found
/// repeated (`repeated`, from [`decode_document_checked`]); nothing under `Ignore`. Hand the
/// list to [`check_fields`] for the warnings to record or the `Strict` refusal.
pub fn strict_fields<T: Served>(
    value: &Value,
    version: Version,
    mode: FieldValidation,
    repeated: StrictErrors,
) -> StrictErrors {
    if !mode.checks() {
        return StrictErrors::default();
    }
    let unknown = match version {
        Version::V1 => kube_core::decode::from_value_reporting::<T>(value).1,
        Version::V1Beta1 => kube_core::decode::from_v1beta1_reporting::<T>(value.clone()).1,
    };
    let mut found = repeated;
    found.extend(unknown);
    found
}

/// Decodes a binding body (v1 `Binding` or the seed's v1beta1 form), strictly, under a field
/// validation mode: the binding and the warnings to send, or (`Strict`) a 400 naming every
/// unknown and repeated field.
pub fn decode_binding(
    body: &[u8],
    yaml_declared: bool,
    version: Version,
    mode: FieldValidation,
) -> Result<(Binding, Vec<String>), ApiError> {
    let (value, mut found) = decode_document_checked(body, yaml_declared, mode.checks())?;
    if let Some(kind) = value.get("kind").and_then(|k| k.as_str()) {
        if kind != "Binding" {
            return Err(ApiError::BadRequest(format!(
                "the kind {kind:?} of the body does not match the expected kind \"Binding\""
            )));
        }
    }
    use kube_core::decode::{from_v1beta1_reporting, from_value, from_value_reporting};
    let (binding, unknown, version_name) = match version {
        Version::V1 => {
            let (b, unknown) = if mode.checks() {
                from_value_reporting::<Binding>(&value)
            } else {
                (from_value::<Binding>(&value), StrictErrors::default())
            };
            let b = b.map_err(|e| {
                bad_field(
                    &e.field,
                    format!("the body is not a valid Binding: {}", e.message),
                )
            })?;
            (b, unknown, "v1")
        }
        Version::V1Beta1 => {
            let (b, unknown) = if mode.checks() {
                from_v1beta1_reporting::<Binding>(value)
            } else {
                (Binding::from_v1beta1(value), StrictErrors::default())
            };
            let b = b.map_err(|e| {
                bad_field(
                    &e.field,
                    format!("the body is not a valid v1beta1 Binding: {}", e.message),
                )
            })?;
            (b, unknown, "v1beta1")
        }
    };
    found.extend(unknown);
    let on = Checked::Body {
        kind: "Binding",
        version: version_name,
    };
    let warnings = check_fields(mode, &found, on)?;
    Ok((binding, warnings))
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
mod field_validation_tests;
#[cfg(test)]
mod tests;
