//! The seed's v1beta1 wire format, converted at the API edge.
//!
//! Storage holds only the core/v1 shape. A v1beta1 body (`id`, `desiredState.manifest`,
//! `replicaSelector`, `podTemplate`, numeric `resourceVersion`, ...) is decoded into
//! private serde structs mirroring the old Go types and then mapped field by field onto
//! the v1 object ([`V1Beta1::from_v1beta1`]); [`V1Beta1::to_v1beta1`] goes the other way.
//! Unknown members are ignored, missing ones take their zero value, `null` counts as
//! missing, and a type mismatch is reported with its JSON field path.

mod binding;
mod container;
mod de;
mod endpoints;
mod event;
mod lease;
mod meta;
mod namespace;
mod node;
mod pod;
mod replication_controller;
mod service;
mod status;

use crate::meta::ObjectMeta;
use crate::object::Object;
use serde_json::{Map, Value};

/// The API version string of the seed's wire format.
pub const API_VERSION: &str = "v1beta1";

/// A v1beta1 document that cannot be converted, located by its JSON field path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConversionError {
    /// JSON path of the offending member, e.g. `desiredState.manifest.containers[0].ports`; empty for the document itself.
    pub field: String,
    /// What is wrong, e.g. `expected an array, got an object`.
    pub message: String,
}

impl ConversionError {
    /// An error at `field` with `message`.
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> ConversionError {
        ConversionError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Conversion of a kind between the v1beta1 wire format and the stored v1 shape.
pub trait V1Beta1: Sized {
    /// Decodes a v1beta1 document into the v1 object (`apiVersion`/`kind` set to the v1 values).
    fn from_v1beta1(value: serde_json::Value) -> Result<Self, ConversionError>;
    /// Encodes the v1 object as a v1beta1 document (`apiVersion: v1beta1`, v1beta1 kind).
    fn to_v1beta1(&self) -> serde_json::Value;
}

/// Carries over from `stored` the metadata v1beta1 cannot express (owner references,
/// finalizers and managed fields) into an object decoded from a v1beta1 update, so a seed-era client that writes
/// back what it read cannot silently drop them (which would release a controller's pods, or
/// remove an object its finalizers still hold).
pub fn keep_v1_only_metadata(stored: &ObjectMeta, incoming: &mut ObjectMeta) {
    incoming
        .owner_references
        .clone_from(&stored.owner_references);
    incoming.finalizers.clone_from(&stored.finalizers);
    incoming.managed_fields.clone_from(&stored.managed_fields);
}

/// Encodes a list response: `{"kind": "<Kind>List", "apiVersion": "v1beta1", "resourceVersion": N, "selfLink", "items"}`; node lists are `MinionList` and also carry `minions`.
pub fn list_to_v1beta1<T: V1Beta1 + Object>(
    items: &[T],
    resource_version: u64,
    self_link: &str,
) -> serde_json::Value {
    let kind = T::RESOURCE.info().v1beta1_kind;
    let encoded: Vec<Value> = items.iter().map(V1Beta1::to_v1beta1).collect();
    let mut out = Map::new();
    out.insert("kind".into(), Value::from(format!("{kind}List")));
    out.insert("apiVersion".into(), Value::from(API_VERSION));
    out.insert("resourceVersion".into(), Value::from(resource_version));
    if !self_link.is_empty() {
        out.insert("selfLink".into(), Value::from(self_link));
    }
    if T::RESOURCE == crate::object::ResourceKind::Nodes {
        // The seed's encoder filled both the deprecated `minions` and `items`.
        out.insert("minions".into(), Value::Array(encoded.clone()));
    }
    out.insert("items".into(), Value::Array(encoded));
    Value::Object(out)
}

/// Converts a v1 resource version string to the v1beta1 number (`"123"` → 123; empty or non-numeric → 0).
pub fn resource_version_to_v1beta1(rv: &str) -> u64 {
    rv.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn v1_only_metadata_survives_a_v1beta1_update() {
        use crate::meta::{ObjectMeta, OwnerReference};
        let mut stored = ObjectMeta::default();
        stored.owner_references.push(OwnerReference {
            name: "rc".into(),
            uid: "u1".into(),
            ..OwnerReference::default()
        });
        stored.finalizers.push("example.com/hold".into());
        stored.managed_fields.push(crate::meta::ManagedFieldsEntry {
            manager: "kubectl".into(),
            operation: "Apply".into(),
            ..Default::default()
        });
        // A v1beta1 body has neither; whatever it carries is replaced by the stored values.
        let cases = [ObjectMeta::default(), {
            let mut m = ObjectMeta::default();
            m.finalizers.push("other".into());
            m
        }];
        for mut incoming in cases {
            super::keep_v1_only_metadata(&stored, &mut incoming);
            assert_eq!(incoming.owner_references, stored.owner_references);
            assert_eq!(incoming.finalizers, stored.finalizers);
            assert_eq!(incoming.managed_fields, stored.managed_fields);
        }
    }

    use super::*;
    use crate::{Node, Pod};
    use serde_json::json;

    #[test]
    fn resource_versions_become_numbers() {
        let cases = [
            ("123", 123),
            ("", 0),
            ("0", 0),
            ("abc", 0),
            ("18446744073709551615", u64::MAX),
        ];
        for (rv, want) in cases {
            assert_eq!(resource_version_to_v1beta1(rv), want, "{rv:?}");
        }
    }

    #[test]
    fn empty_pod_list() {
        let got = list_to_v1beta1::<Pod>(&[], 7, "/api/v1beta1/pods");
        assert_eq!(
            got,
            json!({"kind": "PodList", "apiVersion": "v1beta1", "resourceVersion": 7,
                   "selfLink": "/api/v1beta1/pods", "items": []})
        );
    }

    #[test]
    fn minion_list_fills_items_and_minions() {
        let mut node = Node::default();
        node.metadata.name = "m1".into();
        node.metadata.resource_version = "5".into();
        let got = list_to_v1beta1(&[node], 9, "");
        let minion =
            json!({"kind": "Minion", "apiVersion": "v1beta1", "id": "m1", "resourceVersion": 5});
        assert_eq!(
            got,
            json!({"kind": "MinionList", "apiVersion": "v1beta1", "resourceVersion": 9,
                   "items": [minion.clone()], "minions": [minion]})
        );
    }

    #[test]
    fn conversion_error_displays_field_and_message() {
        let e = ConversionError::new("a.b[0]", "expected an array");
        assert_eq!(e.to_string(), "a.b[0]: expected an array");
    }
}
