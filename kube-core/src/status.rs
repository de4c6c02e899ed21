//! Status: the body of every API error (and of a successful delete in v1beta1).

use crate::meta::ListMeta;
use serde::{Deserialize, Serialize};

/// Reason `NotFound` (404).
pub const REASON_NOT_FOUND: &str = "NotFound";
/// Reason `Forbidden` (403).
pub const REASON_FORBIDDEN: &str = "Forbidden";
/// Reason `AlreadyExists` (409).
pub const REASON_ALREADY_EXISTS: &str = "AlreadyExists";
/// Reason `Conflict` (409).
pub const REASON_CONFLICT: &str = "Conflict";
/// Reason `Invalid` (422).
pub const REASON_INVALID: &str = "Invalid";
/// Reason `BadRequest` (400).
pub const REASON_BAD_REQUEST: &str = "BadRequest";
/// Reason `Gone` (410).
pub const REASON_GONE: &str = "Gone";
/// Reason `Expired` (410, watch too old).
pub const REASON_EXPIRED: &str = "Expired";
/// Reason `RequestEntityTooLarge` (413).
pub const REASON_TOO_LARGE: &str = "RequestEntityTooLarge";
/// Reason `MethodNotAllowed` (405).
pub const REASON_METHOD_NOT_ALLOWED: &str = "MethodNotAllowed";
/// Reason `UnsupportedMediaType` (415).
pub const REASON_UNSUPPORTED_MEDIA_TYPE: &str = "UnsupportedMediaType";
/// Reason `ServiceUnavailable` (503).
pub const REASON_SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";
/// Reason `InternalError` (500).
pub const REASON_INTERNAL_ERROR: &str = "InternalError";
/// Reason `Timeout` (504).
pub const REASON_TIMEOUT: &str = "Timeout";

/// Result of an API call that returns no object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.Status")]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `v1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `Status`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// List metadata (unused, kept for shape compatibility).
    #[serde(default)]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Machine-readable reason, e.g. `NotFound`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Which object, and which fields, the status is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// HTTP status code.
    #[serde(default)]
    pub code: u16,
}

/// Extra detail of a status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails")]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// Name of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Kind (resource) of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// UID of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// One entry per problem, e.g. per invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// Seconds the client should wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

/// One cause of a failure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause")]
#[serde(rename_all = "camelCase")]
pub struct StatusCause {
    /// Machine-readable cause, e.g. `FieldValueInvalid`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Field path, e.g. `spec.containers[0].image`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

impl Status {
    /// A failure status with the given code, reason and message.
    pub fn failure(code: u16, reason: &str, message: impl Into<String>) -> Status {
        Status {
            api_version: "v1".into(),
            kind: "Status".into(),
            status: "Failure".into(),
            message: message.into(),
            reason: reason.into(),
            code,
            ..Status::default()
        }
    }

    /// A success status (e.g. after a delete).
    pub fn success() -> Status {
        Status {
            api_version: "v1".into(),
            kind: "Status".into(),
            status: "Success".into(),
            code: 200,
            ..Status::default()
        }
    }

    /// Attaches details naming the object.
    pub fn with_details(mut self, kind: &str, name: &str) -> Status {
        let d = self.details.get_or_insert_with(StatusDetails::default);
        d.kind = kind.to_string();
        d.name = name.to_string();
        self
    }
}
