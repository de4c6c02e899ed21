//! Object and list metadata shared by every API object (`metadata` in core/v1).

use crate::object::{Object, API_VERSION_V1};
use serde::{Deserialize, Serialize};
use serde_json::value::{to_raw_value, RawValue};
use serde_json::Value;
use std::collections::BTreeMap;

/// Label or annotation map, ordered so that output is deterministic.
pub type StringMap = BTreeMap<String, String>;

/// Returns true for the default value of a type (used by `skip_serializing_if`).
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Metadata every persisted object carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")]
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
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub creation_timestamp: String,
    /// RFC 3339 time after which the object will be deleted (graceful deletion).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub deletion_timestamp: String,
    /// Seconds the object was given to stop once `deletion_timestamp` was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// Identifying key/value pairs used by selectors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    /// Non-identifying key/value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: StringMap,
    /// Objects this object depends on; at most one of them is its managing controller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    /// Names of the parties that must act before the object is removed; a delete only marks an
    /// object that has any, and the update removing the last one removes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    /// Which manager owns which fields, per operation (server-side apply's bookkeeping, written
    /// by the server on every recorded write; see `crate::managed_fields`). A request's empty
    /// list (`[]`, not an absent one) decodes as Kubernetes' other spelling of a reset, one
    /// empty entry ([`is_reset_managed_fields`]).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "managed_fields_or_reset"
    )]
    #[schemars(with = "Vec<ManagedFieldsEntry>")]
    pub managed_fields: Vec<ManagedFieldsEntry>,
}

/// Whether `entries` ask a write to reset the managed fields (Kubernetes' `isResetManagedFields`:
/// `[]` or `[{}]`; `[]` decodes as `[{}]` so that it differs from an absent list, which keeps
/// the stored entries).
pub fn is_reset_managed_fields(entries: &[ManagedFieldsEntry]) -> bool {
    matches!(entries, [e] if *e == ManagedFieldsEntry::default())
}

/// `metadata.managedFields` as sent: absent or `null` is empty, `[]` is a reset (`[{}]`).
fn managed_fields_or_reset<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<ManagedFieldsEntry>, D::Error> {
    let entries = Option::<Vec<ManagedFieldsEntry>>::deserialize(d)?;
    Ok(match entries {
        Some(v) if v.is_empty() => vec![ManagedFieldsEntry::default()],
        other => other.unwrap_or_default(),
    })
}

/// `Apply`: the entry of a server-side applier.
pub const MANAGED_FIELDS_OPERATION_APPLY: &str = "Apply";
/// `Update`: the entry of a create, update or non-apply patch.
pub const MANAGED_FIELDS_OPERATION_UPDATE: &str = "Update";
/// The only `fieldsType` Kubernetes defines.
pub const FIELDS_TYPE_V1: &str = "FieldsV1";

/// One manager's fields of an object (`metadata.managedFields[]`, Kubernetes' shape).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry")]
#[serde(rename_all = "camelCase")]
pub struct ManagedFieldsEntry {
    /// The manager's name (`fieldManager`, or the User-Agent's first part).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manager: String,
    /// `Apply` or `Update`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    /// The API version the fields are expressed in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// RFC 3339 time of the manager's last change of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub time: String,
    /// `FieldsV1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fields_type: String,
    /// The owned fields in the FieldsV1 encoding (`{"f:spec":{"f:replicas":{}}}`).
    #[serde(default, rename = "fieldsV1", skip_serializing_if = "Option::is_none")]
    pub fields_v1: Option<FieldsV1>,
    /// The subresource written (`status`), empty for the object itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

/// A FieldsV1 document: a JSON object whose keys are `f:<field>`, `k:<keys>`, `v:<value>`,
/// `i:<index>` or `.` (see `crate::managed_fields::Set`).
///
/// It is held as its JSON text: every recorded write stores and answers these documents, and
/// with serde_json they are copied as they are rather than decoded into maps and encoded again
/// (other serde formats see an ordinary JSON object). Two documents are equal when their
/// JSON values are.
#[derive(Clone, Debug)]
pub struct FieldsV1(Box<RawValue>);

impl FieldsV1 {
    /// The document of a JSON value.
    pub fn from_value(value: &Value) -> FieldsV1 {
        // A `Value` always encodes; `null` is only a fallback that cannot happen.
        FieldsV1(to_raw_value(value).unwrap_or_default())
    }

    /// Parses a document from JSON text (any JSON value, as Kubernetes keeps it).
    pub fn from_json(text: &str) -> Result<FieldsV1, serde_json::Error> {
        FieldsV1::from_json_string(text.trim().to_string())
    }

    /// The document of an already encoded JSON value.
    pub(crate) fn from_raw(raw: Box<RawValue>) -> FieldsV1 {
        FieldsV1(raw)
    }

    /// [`FieldsV1::from_json`] taking the text (without surrounding spaces) as it is.
    pub(crate) fn from_json_string(text: String) -> Result<FieldsV1, serde_json::Error> {
        RawValue::from_string(text).map(FieldsV1)
    }

    /// The JSON text (compact when the server wrote it).
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        // The text is always one valid JSON value (a `RawValue`).
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl PartialEq for FieldsV1 {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

// JSON values hold no NaN, so equality is an equivalence.
impl Eq for FieldsV1 {}

/// Whether a serde serializer or deserializer (by its type's name) is one of serde_json's,
/// which take a `RawValue` as it is. Only a matter of speed: other ones get the JSON value.
fn is_serde_json<T: ?Sized>() -> bool {
    let name = std::any::type_name::<T>();
    let name = name.trim_start_matches("&mut ").trim_start_matches('&');
    name.starts_with("serde_json::")
}

impl Serialize for FieldsV1 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if is_serde_json::<S>() {
            self.0.serialize(s)
        } else {
            self.to_value().serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for FieldsV1 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if is_serde_json::<D>() {
            Box::<RawValue>::deserialize(d).map(FieldsV1)
        } else {
            Value::deserialize(d).map(|v| FieldsV1::from_value(&v))
        }
    }
}

impl schemars::JsonSchema for FieldsV1 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // Kubernetes publishes FieldsV1 as a bare object (its keys are a trie, not fields).
        schemars::json_schema!({
            "description": "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.",
            "type": "object",
        })
    }
}

/// The finalizer that makes the garbage collector release an object's dependents (remove their
/// owner references to it) before the object goes (`propagationPolicy: Orphan`).
pub const FINALIZER_ORPHAN: &str = "orphan";

/// The finalizer of foreground deletion (`propagationPolicy: Foreground`): the object stays
/// until the garbage collector has seen its blocking dependents (`blockOwnerDeletion`) gone.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

impl ObjectMeta {
    /// Whether `finalizer` is among the object's finalizers.
    pub fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.iter().any(|f| f == finalizer)
    }

    /// Whether the object is marked for deletion (`deletionTimestamp` set).
    pub fn is_deleting(&self) -> bool {
        !self.deletion_timestamp.is_empty()
    }

    /// The owner reference marked `controller: true`, if any (validation allows at most one).
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references.iter().find(|r| r.is_controller())
    }
}

/// A reference from an object to one of its owners (same namespace, or cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference")]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// API version of the owner.
    #[serde(default)]
    pub api_version: String,
    /// Kind of the owner, e.g. `ReplicationController`.
    #[serde(default)]
    pub kind: String,
    /// Name of the owner.
    #[serde(default)]
    pub name: String,
    /// UID of the owner (a recreated owner of the same name is a different owner).
    #[serde(default)]
    pub uid: String,
    /// Whether the owner is the managing controller of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Whether deleting the owner in the foreground waits for this object to be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

impl OwnerReference {
    /// Whether this reference names the managing controller.
    pub fn is_controller(&self) -> bool {
        self.controller == Some(true)
    }
}

/// The controller reference to put on an object managed by `owner` (as client-go's `NewControllerRef`).
pub fn controller_reference<T: Object>(owner: &T) -> OwnerReference {
    let m = owner.meta();
    OwnerReference {
        api_version: API_VERSION_V1.to_string(),
        kind: T::RESOURCE.info().kind.to_string(),
        name: m.name.clone(),
        uid: m.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Metadata of a list response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// Store revision the list was read at (a string, as in core/v1).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// URL of the list (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub self_link: String,
    /// Opaque token to get the next page of a list (`limit`); empty on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "String::is_empty")]
    pub continue_: String,
    /// Items left after this page, when the server knows (lists without selectors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
}

/// Reference to another object, as used by events and bindings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ObjectReference")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReplicationController;

    fn owner(kind: &str, name: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            controller,
            block_owner_deletion: None,
        }
    }

    #[test]
    fn controller_ref_finds_the_controlling_owner() {
        // (owner references, expected controller name)
        let cases: [(Vec<OwnerReference>, Option<&str>); 4] = [
            (vec![], None),
            (vec![owner("ReplicationController", "a", None)], None),
            (
                vec![
                    owner("ReplicationController", "a", Some(false)),
                    owner("ReplicationController", "b", Some(true)),
                ],
                Some("b"),
            ),
            (vec![owner("Node", "n1", Some(true))], Some("n1")),
        ];
        for (refs, want) in cases {
            let meta = ObjectMeta {
                owner_references: refs.clone(),
                ..ObjectMeta::default()
            };
            assert_eq!(
                meta.controller_ref().map(|r| r.name.as_str()),
                want,
                "{refs:?}"
            );
        }
    }

    #[test]
    fn controller_reference_names_the_owner() {
        let mut rc = ReplicationController::default();
        rc.metadata.name = "web".into();
        rc.metadata.namespace = "default".into();
        rc.metadata.uid = "1234".into();
        let r = controller_reference(&rc);
        assert_eq!(
            r,
            OwnerReference {
                api_version: "v1".into(),
                kind: "ReplicationController".into(),
                name: "web".into(),
                uid: "1234".into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }
        );
    }

    #[test]
    fn finalizers_serialize_compactly_and_last() {
        let mut meta = ObjectMeta {
            name: "p".into(),
            ..ObjectMeta::default()
        };
        meta.owner_references
            .push(owner("ReplicationController", "rc", Some(true)));
        meta.finalizers.push(FINALIZER_ORPHAN.into());
        let json = serde_json::to_string(&meta).unwrap();
        assert!(json.ends_with(r#"}],"finalizers":["orphan"]}"#), "{json}");
        let back: ObjectMeta = serde_json::from_str(&json).unwrap();
        assert_eq!(back, meta);
        assert!(back.has_finalizer("orphan") && !back.has_finalizer("x"));
    }

    #[test]
    fn owner_references_serialize_compactly_and_last() {
        let mut meta = ObjectMeta {
            name: "p".into(),
            ..ObjectMeta::default()
        };
        // Absent when empty, so stored layouts without owners are unchanged.
        assert_eq!(serde_json::to_string(&meta).unwrap(), r#"{"name":"p"}"#);
        meta.owner_references
            .push(owner("ReplicationController", "rc", Some(true)));
        meta.labels.insert("app".into(), "web".into());
        let json = serde_json::to_string(&meta).unwrap();
        assert_eq!(
            json,
            r#"{"name":"p","labels":{"app":"web"},"ownerReferences":[{"apiVersion":"v1","kind":"ReplicationController","name":"rc","uid":"uid-rc","controller":true}]}"#
        );
        let back: ObjectMeta = serde_json::from_str(&json).unwrap();
        assert_eq!(back, meta);
    }

    /// An entry whose FieldsV1 has a `.` member and a key with quotes to escape.
    fn entry_json() -> &'static str {
        r#"{"manager":"m","fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{}}}}}}"#
    }

    #[test]
    fn fields_v1_goes_through_every_serde_format() {
        let want: Value = serde_json::from_str(entry_json()).unwrap();
        let fields = want["fieldsV1"].clone();
        // serde_json keeps the text as it came, spaces included (it is not decoded).
        let spaced = r#"{"fieldsV1": {"f:a" : {}}}"#;
        let e: ManagedFieldsEntry = serde_json::from_str(spaced).unwrap();
        assert_eq!(e.fields_v1.as_ref().unwrap().as_str(), r#"{"f:a" : {}}"#);
        assert_eq!(
            e.fields_v1,
            Some(FieldsV1::from_value(&serde_json::json!({"f:a": {}})))
        );
        // ... and writes it as it is, even when pretty-printing the rest.
        let e: ManagedFieldsEntry = serde_json::from_str(entry_json()).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), entry_json());
        let pretty = serde_json::to_string_pretty(&e).unwrap();
        assert!(pretty.contains(&fields.to_string()), "{pretty}");
        // Values, our strict decoder and YAML see a JSON object.
        assert_eq!(serde_json::to_value(&e).unwrap(), want);
        let from_value: ManagedFieldsEntry = serde_json::from_value(want.clone()).unwrap();
        assert_eq!(from_value, e);
        let strict: ManagedFieldsEntry = crate::decode::from_value(&want).unwrap();
        assert_eq!(strict.fields_v1.unwrap().to_value(), fields);
        let yaml = serde_yaml_ng::to_string(&e).unwrap();
        assert!(yaml.contains("f:image: {}"), "{yaml}");
        let back: ManagedFieldsEntry = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(back, e);
        assert_eq!(serde_yaml_ng::from_str::<Value>(&yaml).unwrap(), want);
    }

    #[test]
    fn fields_v1_equality_is_of_json_values() {
        let a = FieldsV1::from_json(r#"{"f:a":{},"f:b":{}}"#).unwrap();
        let cases = [
            (r#"{"f:a":{},"f:b":{}}"#, true),
            (r#"{ "f:b": {}, "f:a": {} }"#, true),
            (r#"{"f:a":{}}"#, false),
            (r#"{"f:a":{"f:b":{}}}"#, false),
        ];
        for (text, equal) in cases {
            assert_eq!(a == FieldsV1::from_json(text).unwrap(), equal, "{text}");
        }
        assert!(FieldsV1::from_json("{").is_err());
    }
}
