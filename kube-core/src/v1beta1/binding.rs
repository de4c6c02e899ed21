//! v1beta1 `Binding` (`podID`, `host`) ⇄ v1 `Binding` (`metadata.name`, `target`).

use super::de::decode;
use super::meta::{decode_meta, encode};
use super::{ConversionError, V1Beta1};
use crate::binding::Binding;
use crate::meta::{ObjectMeta, ObjectReference};
use crate::object::API_VERSION_V1;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Kind of a binding's target.
const TARGET_KIND: &str = "Node";

/// v1beta1 binding body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct BindingBody {
    #[serde(rename = "podID")]
    pod_id: String,
    host: String,
}

impl V1Beta1 for Binding {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let mut metadata = decode_meta(&value)?;
        let body: BindingBody = decode(&value)?;
        if !body.pod_id.is_empty() {
            metadata.name = body.pod_id;
        }
        Ok(Binding {
            api_version: API_VERSION_V1.to_string(),
            kind: "Binding".to_string(),
            metadata,
            target: ObjectReference {
                kind: TARGET_KIND.to_string(),
                name: body.host,
                ..ObjectReference::default()
            },
        })
    }

    fn to_v1beta1(&self) -> Value {
        let body = BindingBody {
            pod_id: self.metadata.name.clone(),
            host: self.target.name.clone(),
        };
        let meta = ObjectMeta {
            name: String::new(),
            ..self.metadata.clone()
        };
        encode("Binding", &meta, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding() -> Binding {
        Binding {
            api_version: "v1".into(),
            kind: "Binding".into(),
            metadata: ObjectMeta {
                name: "redis".into(),
                namespace: "default".into(),
                ..ObjectMeta::default()
            },
            target: ObjectReference {
                kind: "Node".into(),
                name: "minion-1".into(),
                ..ObjectReference::default()
            },
        }
    }

    #[test]
    fn seed_binding_converts() {
        let cases = [
            json!({"kind": "Binding", "podID": "redis", "host": "minion-1", "namespace": "default"}),
            json!({"kind": "Binding", "id": "redis", "host": "minion-1", "namespace": "default"}),
        ];
        for doc in cases {
            assert_eq!(
                Binding::from_v1beta1(doc.clone()).expect("converts"),
                binding(),
                "{doc}"
            );
        }
    }

    #[test]
    fn bindings_round_trip_and_shape() {
        let out = binding().to_v1beta1();
        assert_eq!(
            out,
            json!({"kind": "Binding", "apiVersion": "v1beta1", "podID": "redis", "host": "minion-1",
                   "namespace": "default"})
        );
        assert_eq!(Binding::from_v1beta1(out).expect("back"), binding());
    }

    #[test]
    fn rejects_bad_binding() {
        let err = Binding::from_v1beta1(json!({"podID": 1})).expect_err("fails");
        assert_eq!(err.field, "podID");
    }
}
