//! Event: a report of something that happened to an object.

use crate::meta::{is_default, ObjectMeta, ObjectReference};
use serde::{Deserialize, Serialize};

/// An event (core/v1 `Event`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Event")]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Event` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The object the event is about.
    #[serde(default)]
    pub involved_object: ObjectReference,
    /// Short machine-readable reason, e.g. `FailedScheduling`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Component that reported the event.
    #[serde(default, skip_serializing_if = "EventSource::is_empty")]
    pub source: EventSource,
    /// RFC 3339 time the event was first seen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub first_timestamp: String,
    /// RFC 3339 time the event was last seen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub last_timestamp: String,
    /// Times the event occurred.
    #[serde(default, skip_serializing_if = "is_default")]
    pub count: i32,
    /// `Normal` or `Warning`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
}

/// Who reported an event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.EventSource")]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    /// Component name, e.g. `scheduler`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub component: String,
    /// Node name, for kubelet events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

impl EventSource {
    /// True when neither field is set.
    pub fn is_empty(&self) -> bool {
        self.component.is_empty() && self.host.is_empty()
    }
}
