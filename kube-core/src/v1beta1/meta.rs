//! v1beta1 `TypeMeta` (inlined `id`, `uid`, numeric `resourceVersion`, ...) ⇄ v1 `metadata`.

use super::de::{decode, Scalar};
use super::{resource_version_to_v1beta1, ConversionError, API_VERSION};
use crate::meta::{ObjectMeta, ObjectReference, StringMap};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The metadata members every v1beta1 object carries at its top level.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TypeMeta {
    id: String,
    generate_name: String,
    uid: String,
    creation_timestamp: String,
    self_link: String,
    resource_version: Option<Scalar>,
    namespace: String,
    annotations: StringMap,
    labels: StringMap,
}

/// Converts a v1beta1 resource version (number, or a numeric string) to the v1 string; 0 means unset.
pub(crate) fn resource_version_from(
    rv: Option<Scalar>,
    field: &str,
) -> Result<String, ConversionError> {
    match rv {
        None | Some(Scalar::Int(0)) => Ok(String::new()),
        Some(Scalar::Int(n)) if n < 0 => Err(ConversionError::new(
            field,
            format!("expected a non-negative integer, got {n}"),
        )),
        Some(Scalar::Int(n)) => Ok(n.to_string()),
        Some(Scalar::Str(s)) => Ok(s),
    }
}

/// Decodes the top-level metadata members of a v1beta1 document into v1 metadata.
pub(crate) fn decode_meta(value: &Value) -> Result<ObjectMeta, ConversionError> {
    let tm: TypeMeta = decode(value)?;
    Ok(ObjectMeta {
        name: tm.id,
        generate_name: tm.generate_name,
        namespace: tm.namespace,
        self_link: tm.self_link,
        uid: tm.uid,
        resource_version: resource_version_from(tm.resource_version, "resourceVersion")?,
        creation_timestamp: tm.creation_timestamp,
        labels: tm.labels,
        annotations: tm.annotations,
        ..ObjectMeta::default()
    })
}

/// Inserts `key: value` when `value` is a non-empty string.
fn put_str(out: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        out.insert(key.to_string(), Value::from(value));
    }
}

/// Inserts `key: map` when the map is non-empty.
fn put_map(out: &mut Map<String, Value>, key: &str, map: &StringMap) {
    if !map.is_empty() {
        let obj = map
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        out.insert(key.to_string(), Value::Object(obj));
    }
}

/// Encodes a v1beta1 document: `body`'s members plus `kind`, `apiVersion` and the metadata members.
///
/// `id` is omitted when `meta.name` is empty (as for bindings, which name the pod in `podID`).
pub(crate) fn encode<T: Serialize>(kind: &str, meta: &ObjectMeta, body: &T) -> Value {
    let mut out = match serde_json::to_value(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    out.insert("kind".into(), Value::from(kind));
    out.insert("apiVersion".into(), Value::from(API_VERSION));
    put_str(&mut out, "id", &meta.name);
    put_str(&mut out, "generateName", &meta.generate_name);
    put_str(&mut out, "uid", &meta.uid);
    put_str(&mut out, "creationTimestamp", &meta.creation_timestamp);
    put_str(&mut out, "selfLink", &meta.self_link);
    if !meta.resource_version.is_empty() {
        let rv = resource_version_to_v1beta1(&meta.resource_version);
        out.insert("resourceVersion".into(), Value::from(rv));
    }
    put_str(&mut out, "namespace", &meta.namespace);
    put_map(&mut out, "annotations", &meta.annotations);
    put_map(&mut out, "labels", &meta.labels);
    Value::Object(out)
}

/// v1beta1 `ObjectReference` (numeric `resourceVersion`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ObjectRef {
    #[serde(skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    uid: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    api_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_version: Option<Scalar>,
    #[serde(skip_serializing_if = "String::is_empty")]
    field_path: String,
}

impl ObjectRef {
    /// Converts to the v1 reference; `path` locates the reference for errors.
    pub(crate) fn into_v1(self, path: &str) -> Result<ObjectReference, ConversionError> {
        let rv_path = super::de::join(path, "resourceVersion");
        Ok(ObjectReference {
            kind: self.kind,
            namespace: self.namespace,
            name: self.name,
            uid: self.uid,
            api_version: self.api_version,
            resource_version: resource_version_from(self.resource_version, &rv_path)?,
            field_path: self.field_path,
        })
    }

    /// Converts from the v1 reference.
    pub(crate) fn from_v1(r: &ObjectReference) -> ObjectRef {
        let resource_version = if r.resource_version.is_empty() {
            None
        } else {
            let n = resource_version_to_v1beta1(&r.resource_version);
            Some(Scalar::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        };
        ObjectRef {
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            uid: r.uid.clone(),
            api_version: r.api_version.clone(),
            resource_version,
            field_path: r.field_path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_type_meta() {
        let cases = [
            (json!({"id": "a", "resourceVersion": 12}), "a", "12"),
            (json!({"id": "b", "resourceVersion": "13"}), "b", "13"),
            (json!({"id": "c", "resourceVersion": 0}), "c", ""),
            (json!({"id": "d"}), "d", ""),
        ];
        for (input, name, rv) in cases {
            let m = decode_meta(&input).expect("decodes");
            assert_eq!(
                (m.name.as_str(), m.resource_version.as_str()),
                (name, rv),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_bad_type_meta() {
        let cases = [
            (json!({"resourceVersion": -1}), "resourceVersion"),
            (json!({"resourceVersion": true}), "resourceVersion"),
            (json!({"labels": ["a"]}), "labels"),
            (json!({"labels": {"a": 1}}), "labels.a"),
            (json!({"id": 5}), "id"),
        ];
        for (input, field) in cases {
            let e = decode_meta(&input).expect_err("must fail");
            assert_eq!(e.field, field, "{input}");
        }
    }

    #[test]
    fn encodes_type_meta() {
        let meta = ObjectMeta {
            name: "a".into(),
            namespace: "default".into(),
            uid: "u1".into(),
            resource_version: "42".into(),
            creation_timestamp: "2014-10-30T15:57:02Z".into(),
            self_link: "/api/v1beta1/pods/a".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            ..ObjectMeta::default()
        };
        let got = encode("Pod", &meta, &json!({"x": 1}));
        assert_eq!(
            got,
            json!({"kind": "Pod", "apiVersion": "v1beta1", "id": "a", "namespace": "default",
                   "uid": "u1", "resourceVersion": 42, "creationTimestamp": "2014-10-30T15:57:02Z",
                   "selfLink": "/api/v1beta1/pods/a", "labels": {"k": "v"}, "x": 1})
        );
    }
}
