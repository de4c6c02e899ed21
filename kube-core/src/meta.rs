//! Object and list metadata shared by every API object (`metadata` in core/v1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Label or annotation map, ordered so that output is deterministic.
pub type StringMap = BTreeMap<String, String>;

/// Returns true for the default value of a type (used by `skip_serializing_if`).
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Metadata every persisted object carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Unique name within the namespace (DNS-1123 subdomain).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Prefix for a server-generated name when `name` is empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generate_name: String,
    /// Namespace of a namespaced object; empty for cluster-scoped ones.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// URL of this object on the server (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub self_link: String,
    /// Server-assigned unique identifier, stable for the object's lifetime.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Opaque version: the store revision that last modified the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// Sequence number of spec changes, bumped by the server.
    #[serde(default, skip_serializing_if = "is_default")]
    pub generation: i64,
    /// RFC 3339 time the object was created, set by the server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub creation_timestamp: String,
    /// RFC 3339 time after which the object will be deleted (graceful deletion).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub deletion_timestamp: String,
    /// Identifying key/value pairs used by selectors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    /// Non-identifying key/value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: StringMap,
}

/// Metadata of a list response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// Store revision the list was read at (a string, as in core/v1).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// URL of the list (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub self_link: String,
}

/// Reference to another object, as used by events and bindings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Kind of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Namespace of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// UID of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Resource version of the referent this reference was taken at.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// Part of the referent, e.g. `spec.containers{redis}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field_path: String,
}
