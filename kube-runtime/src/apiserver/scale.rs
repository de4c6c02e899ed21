//! The `/scale` subresource of replication controllers (`autoscaling/v1` `Scale`; v1 only).
//!
//! GET answers the controller's scale; PUT decodes a `Scale` strictly and writes its
//! `spec.replicas` through [`crate::registry::Registry::update_scale`]; PATCH applies a merge
//! or JSON patch to the current scale's JSON, decodes the result the same way and writes it
//! against the revision it read, retrying on conflict unless the patch pins a resourceVersion.
//! Both follow the request's `fieldValidation` as the object's own PUT and PATCH do.

use super::body::ApiBody;
use super::codec::{json_response, read_body};
use super::decode::{self, bad_field, Checked, FieldValidation};
use super::patch::{read_patch, Patch, MAX_ATTEMPTS};
use super::ApiServer;
use crate::registry::{FieldManager, Registry};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use kube_core::decode::StrictErrors;
use kube_core::error::ApiError;
use kube_core::scale::{Scale, SCALE_API_VERSION, SCALE_KIND};
use serde_json::Value;

/// Serves `GET`, `PUT` and `PATCH` on `replicationcontrollers/{name}/scale` in `namespace`,
/// through `registry` (the server's, or its dry-run view), under field validation `mode`.
pub async fn handle(
    srv: &ApiServer,
    registry: &Registry,
    namespace: &str,
    name: &str,
    mode: FieldValidation,
    manager: &str,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let recorded = FieldManager::Update(manager);
    let scale = match *req.method() {
        Method::GET => registry.get_scale(namespace, name).await?,
        Method::PUT => {
            let (body, yaml) = read_body(req, srv.config.max_body_bytes).await?;
            let (scale, warnings) =
                decode::off_runtime(body, move |b| decode_scale_checked(b, yaml, mode)).await?;
            super::warning::add_all(warnings);
            registry
                .update_scale_as(namespace, name, &scale, recorded)
                .await?
        }
        _ => {
            let (p, repeated) = read_patch(srv, req, mode).await?;
            patch(registry, namespace, name, &p, (mode, recorded), &repeated).await?
        }
    };
    Ok(json_response(StatusCode::OK, &scale))
}

/// Applies `patch` to the current scale and writes it; a conflict with a write in between is
/// retried (re-reading the scale) unless the patched scale names another resourceVersion.
async fn patch(
    registry: &Registry,
    namespace: &str,
    name: &str,
    patch: &Patch,
    (mode, manager): (FieldValidation, FieldManager<'_>),
    repeated: &StrictErrors,
) -> Result<Scale, ApiError> {
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        let current = registry.get_scale(namespace, name).await?;
        let read_rv = current.metadata.resource_version.clone();
        let mut doc = serde_json::to_value(&current)
            .map_err(|e| ApiError::Internal(format!("encoding the scale: {e}")))?;
        patch.apply(
            &mut doc,
            kube_core::strategic_merge::schema_for_kind("Scale"),
        )?;
        let (scale, unknown) = scale_from_value(&doc, mode)?;
        let mut found = repeated.clone();
        found.extend(unknown);
        let on = Checked::Patch {
            kind: SCALE_KIND,
            name,
        };
        super::warning::add_all(decode::check_fields(mode, &found, on)?);
        let mut scale = scale;
        let pinned = !scale.metadata.resource_version.is_empty()
            && scale.metadata.resource_version != read_rv;
        if scale.metadata.resource_version.is_empty() {
            scale.metadata.resource_version = read_rv;
        }
        match registry
            .update_scale_as(namespace, name, &scale, manager)
            .await
        {
            Err(e) if e.is_conflict() && !pinned => last = Some(e),
            r => return r,
        }
    }
    Err(last.unwrap_or_else(|| ApiError::Internal("patch was never attempted".into())))
}

/// Decodes a `Scale` body (JSON or YAML) strictly (`kind` and `apiVersion`, when present, must
/// be `Scale` and `autoscaling/v1`) under a field validation mode: the scale and the warnings
/// to send, or (`Strict`) a 400 naming every unknown and repeated field.
pub fn decode_scale_checked(
    body: &[u8],
    yaml_declared: bool,
    mode: FieldValidation,
) -> Result<(Scale, Vec<String>), ApiError> {
    let (value, mut found) = decode::decode_document_checked(body, yaml_declared, mode.checks())?;
    let (scale, unknown) = scale_from_value(&value, mode)?;
    found.extend(unknown);
    let on = Checked::Body {
        kind: SCALE_KIND,
        version: SCALE_API_VERSION,
    };
    let warnings = decode::check_fields(mode, &found, on)?;
    Ok((scale, warnings))
}

/// Checks `kind` and `apiVersion` and decodes a scale strictly, with its unknown members
/// when `mode` looks for them.
fn scale_from_value(
    value: &Value,
    mode: FieldValidation,
) -> Result<(Scale, StrictErrors), ApiError> {
    if let Some(kind) = value.get("kind") {
        if kind.as_str() != Some(SCALE_KIND) {
            return Err(ApiError::BadRequest(format!(
                "the kind {kind} of the body does not match the expected kind \"{SCALE_KIND}\" of replicationcontrollers/scale"
            )));
        }
    }
    if let Some(av) = value.get("apiVersion") {
        if av.as_str() != Some(SCALE_API_VERSION) {
            return Err(ApiError::BadRequest(format!(
                "the apiVersion {av} of the body does not match the expected version \"{SCALE_API_VERSION}\""
            )));
        }
    }
    let (scale, unknown) = if mode.checks() {
        kube_core::decode::from_value_reporting::<Scale>(value)
    } else {
        (
            kube_core::decode::from_value::<Scale>(value),
            StrictErrors::default(),
        )
    };
    let scale = scale.map_err(|e| {
        bad_field(
            &e.field,
            format!("the body is not a valid {SCALE_KIND}: {}", e.message),
        )
    })?;
    Ok((scale, unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_scale(body: &[u8], yaml: bool) -> Result<Scale, ApiError> {
        decode_scale_checked(body, yaml, FieldValidation::Ignore).map(|(s, _)| s)
    }

    #[test]
    fn scale_bodies_follow_field_validation() {
        let body = br#"{"spec": {"replicas": 2, "replicas": 3, "replica": 1}}"#;
        let (scale, warnings) =
            decode_scale_checked(body, false, FieldValidation::Warn).expect("warn");
        assert_eq!(scale.spec.replicas, 3);
        assert_eq!(
            warnings,
            [
                r#"duplicate field "spec.replicas""#,
                r#"unknown field "spec.replica""#
            ]
        );
        let (_, warnings) =
            decode_scale_checked(body, false, FieldValidation::Ignore).expect("ignore");
        assert!(warnings.is_empty());
        let st = decode_scale_checked(body, false, FieldValidation::Strict)
            .expect_err("strict")
            .to_status();
        assert_eq!(
            (st.code, st.message.as_str()),
            (
                400,
                r#"Scale in version "autoscaling/v1" cannot be handled as a Scale: strict decoding error: duplicate field "spec.replicas", unknown field "spec.replica""#
            )
        );
    }

    #[test]
    fn scale_bodies_are_decoded_strictly() {
        let cases: [(&str, Result<i32, u16>); 9] = [
            (r#"{"spec":{"replicas":3}}"#, Ok(3)),
            (
                r#"{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":0}}"#,
                Ok(0),
            ),
            ("spec:\n  replicas: 2\n", Ok(2)),
            (r#"{}"#, Ok(0)),
            (
                r#"{"kind":"ReplicationController","spec":{"replicas":3}}"#,
                Err(400),
            ),
            (r#"{"apiVersion":"v1","spec":{"replicas":3}}"#, Err(400)),
            (r#"{"spec":{"replicas":"3"}}"#, Err(400)),
            (r#"{"spec":{"replicas":4294967296}}"#, Err(400)),
            (r#"{"spec":[3]}"#, Err(400)),
        ];
        for (body, want) in cases {
            let got = decode_scale(body.as_bytes(), false)
                .map(|s| s.spec.replicas)
                .map_err(|e| e.code());
            assert_eq!(got, want, "{body}");
        }
        let e = decode_scale(br#"{"spec":{"replicas":"x"}}"#, false).unwrap_err();
        let st = e.to_status();
        let cause = st.details.and_then(|d| d.causes.into_iter().next());
        assert_eq!(cause.map(|c| c.field), Some("spec.replicas".to_string()));
    }
}
