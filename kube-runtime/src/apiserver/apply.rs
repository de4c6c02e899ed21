//! Server-side apply (`application/apply-patch+yaml`): one attempt of an apply PATCH.
//!
//! The live object (or, when absent, an empty one with the URL's name and namespace) and the
//! applied configuration go through `kube_core::managed_fields::apply`; the merged object is
//! decoded strictly, as an update body, and written with its managed fields through the
//! registry (create, update or `/status` update, so defaulting, validation and the
//! compare-and-swap against the revision read are the ones of any write). An apply that
//! changes neither the object nor its managed fields writes nothing, as in Kubernetes (no new
//! resourceVersion, no watch event).

use super::decode;
use super::patch::{Retry, Target};
use super::resource::Served;
use super::router::Version;
use crate::registry::FieldManager;
use kube_core::decode::StrictErrors;
use kube_core::error::ApiError;
use kube_core::managed_fields::{
    self, ApplyError, ApplyRequest, Scope, UpdateOperation, BEFORE_FIRST_APPLY,
};
use kube_core::meta::ManagedFieldsEntry;
use kube_core::status::{StatusCause, StatusDetails, REASON_CONFLICT};
use kube_core::strategic_merge::schema_for_kind;
use kube_core::Status;
use serde_json::Value;
use std::sync::Arc;

/// The `reason` of each cause of an apply conflict.
pub const CAUSE_FIELD_MANAGER_CONFLICT: &str = "FieldManagerConflict";

/// What one apply comes to.
enum Outcome<T> {
    /// Nothing changes: the live object is the answer.
    Unchanged(T),
    /// The object to write.
    Write(T),
}

/// One attempt of an apply: read, merge, write (create when absent). Returns the object and
/// whether it was created.
pub(super) async fn apply_once<T: Served>(
    t: &Target<'_>,
    config: &Value,
    repeated: &StrictErrors,
    force: bool,
) -> Result<(T, bool), Retry> {
    let (live, exists) = match t.registry.get::<T>(t.namespace, t.name).await {
        Ok(obj) => (obj, true),
        Err(e) if e.is_not_found() && !t.status => {
            let mut obj = T::default();
            obj.set_type_meta();
            obj.meta_mut().name = t.name.to_string();
            if t.resource.info().namespaced {
                obj.meta_mut().namespace = t.namespace.to_string();
            }
            (obj, false)
        }
        Err(e) => return Err(Retry::Fail(e)),
    };
    let read_rv = live.meta().resource_version.clone();
    let config = Arc::new(config.clone());
    let time = t.registry.clock().now().to_rfc3339();
    let (resource, manager, status) = (t.resource, t.manager.to_string(), t.status);
    let (mode, repeated) = (t.field_validation, repeated.clone());
    // Merging and decoding are proportional to the object's size: off the I/O threads.
    let (outcome, warnings) = tokio::task::spawn_blocking(move || {
        let warnings = checked_fields::<T>(&config, &live, mode, repeated)?;
        let outcome = applied::<T>(
            live, exists, &config, resource, &manager, status, force, &time,
        )?;
        Ok::<_, ApiError>((outcome, warnings))
    })
    .await
    .map_err(|e| Retry::Fail(ApiError::Internal(format!("applying failed: {e}"))))?
    .map_err(Retry::Fail)?;
    super::warning::add_all(warnings);
    let mut obj = match outcome {
        Outcome::Unchanged(live) => return Ok((live, false)),
        Outcome::Write(obj) => obj,
    };
    let pinned = !obj.meta().resource_version.is_empty() && obj.meta().resource_version != read_rv;
    if obj.meta().resource_version.is_empty() {
        obj.meta_mut().resource_version = read_rv;
    }
    let written = match (exists, t.status) {
        (false, _) => t
            .registry
            .create_as(t.namespace, obj, FieldManager::Precomputed)
            .await
            .map(|o| (o, true)),
        (true, false) => t
            .registry
            .update_as(t.namespace, t.name, obj, FieldManager::Precomputed)
            .await
            .map(|o| (o, false)),
        (true, true) => t
            .registry
            .update_status_as(t.namespace, t.name, obj, FieldManager::Precomputed)
            .await
            .map(|o| (o, false)),
    };
    written.map_err(|e| {
        // A racing write (or a racing create of an absent object) is worth another read.
        if (e.is_conflict() || (!exists && e.is_already_exists())) && !pinned {
            Retry::Conflict(e)
        } else {
            Retry::Fail(e)
        }
    })
}

/// Field validation of the applied configuration (`fieldValidation`): the keys its parse found
/// repeated and the members the kind does not know, as warnings to send, or (`Strict`) the
/// refusal a patch gets (422 on the field `patch`, nothing written).
fn checked_fields<T: Served>(
    config: &Value,
    live: &T,
    mode: decode::FieldValidation,
    repeated: StrictErrors,
) -> Result<Vec<String>, ApiError> {
    let found = decode::strict_fields::<T>(config, Version::V1, mode, repeated);
    let on = decode::Checked::Patch {
        kind: T::RESOURCE.info().kind,
        name: &live.meta().name,
    };
    decode::check_fields(mode, &found, on)
}

/// The apply itself, pure but for decoding: the merged object with its managed fields, or
/// `Unchanged` when nothing would change.
#[allow(clippy::too_many_arguments)]
fn applied<T: Served>(
    live: T,
    exists: bool,
    config: &Value,
    resource: kube_core::ResourceKind,
    manager: &str,
    status: bool,
    force: bool,
    time: &str,
) -> Result<Outcome<T>, ApiError> {
    let info = resource.info();
    check_identity(
        config,
        info.kind,
        info.api_version,
        live.meta().name.as_str(),
    )?;
    let live_value = serde_json::to_value(&live)
        .map_err(|e| ApiError::Internal(format!("encoding the object: {e}")))?;
    let schema = schema_for_kind(info.kind);
    let scope = if status { Scope::Status } else { Scope::Main };
    let before_first_apply;
    let managed = if exists && live.meta().managed_fields.is_empty() {
        before_first_apply =
            untracked_fields::<T>(&live_value, schema, info.api_version, scope, time)?;
        &before_first_apply
    } else {
        &live.meta().managed_fields
    };
    let req = ApplyRequest {
        live: &live_value,
        managed,
        config,
        schema,
        manager,
        api_version: info.api_version,
        scope,
        force,
        time,
    };
    let out = managed_fields::apply(&req).map_err(apply_error)?;
    if exists && !out.changed && out.managed_fields == live.meta().managed_fields {
        return Ok(Outcome::Unchanged(live));
    }
    let bytes = serde_json::to_vec(&out.object)
        .map_err(|e| ApiError::Internal(format!("encoding the applied object: {e}")))?;
    let mut obj: T = decode::decode_object::<T>(&bytes, false, Version::V1, resource)?;
    obj.meta_mut().managed_fields = out.managed_fields;
    Ok(Outcome::Write(obj))
}

/// The entries of an object nobody's fields are tracked on (never tracked, or reset) at its
/// first apply: an `Update` by [`BEFORE_FIRST_APPLY`] owning everything it holds, as
/// Kubernetes' skipNonAppliedManager records, so the apply conflicts with what it changes.
fn untracked_fields<T: Served>(
    live: &Value,
    schema: &'static [kube_core::strategic_merge::Field],
    api_version: &str,
    scope: Scope,
    time: &str,
) -> Result<Vec<ManagedFieldsEntry>, ApiError> {
    let mut zero = T::default();
    zero.set_type_meta();
    let zero = serde_json::to_value(&zero)
        .map_err(|e| ApiError::Internal(format!("encoding an empty object: {e}")))?;
    let op = UpdateOperation {
        manager: BEFORE_FIRST_APPLY,
        api_version,
        scope,
        time,
        creating: true,
    };
    Ok(managed_fields::record_update(
        &[],
        &[],
        zero,
        live.clone(),
        schema,
        &op,
    ))
}

/// An applied configuration names its kind, version and object (400 otherwise).
fn check_identity(
    config: &Value,
    kind: &str,
    api_version: &str,
    name: &str,
) -> Result<(), ApiError> {
    let got = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or_default();
    if got("apiVersion") != api_version {
        return Err(ApiError::BadRequest(format!(
            "Incorrect version specified in apply patch. Specified patch version: {:?}, expected: {api_version:?}",
            got("apiVersion")
        )));
    }
    if got("kind") != kind {
        return Err(ApiError::BadRequest(format!(
            "the kind {:?} of the apply patch does not match the expected kind {kind:?}",
            got("kind")
        )));
    }
    let config_name = config
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !config_name.is_empty() && config_name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({config_name}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

/// An apply failure as Kubernetes answers it: 409 with one `FieldManagerConflict` cause per
/// field, or 400.
fn apply_error(e: ApplyError) -> ApiError {
    match &e {
        ApplyError::Invalid(m) => ApiError::BadRequest(m.clone()),
        ApplyError::Conflicts(conflicts) => {
            let mut st = Status::failure(409, REASON_CONFLICT, e.to_string());
            st.details = Some(StatusDetails {
                causes: conflicts
                    .iter()
                    .map(|c| StatusCause {
                        reason: CAUSE_FIELD_MANAGER_CONFLICT.into(),
                        message: format!("conflict with {}", c.manager),
                        field: c.path.to_string(),
                    })
                    .collect(),
                ..StatusDetails::default()
            });
            ApiError::Other(Box::new(st))
        }
    }
}
