//! v1beta1 `Status` (`details.id`, numeric `resourceVersion`) ⇄ v1 `Status`.

use super::de::{decode, Scalar};
use super::meta::resource_version_from;
use super::{resource_version_to_v1beta1, ConversionError, V1Beta1, API_VERSION};
use crate::meta::ListMeta;
use crate::object::API_VERSION_V1;
use crate::status::{Status, StatusCause, StatusDetails};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// v1beta1 status document.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct StatusDoc {
    /// `Status` on output; ignored on input.
    kind: String,
    /// `v1beta1` on output; ignored on input.
    api_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    self_link: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_version: Option<Scalar>,
    #[serde(skip_serializing_if = "String::is_empty")]
    status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
    code: u16,
}

/// v1beta1 status details (`id` is the v1 `name`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Details {
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    uid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    causes: Vec<StatusCause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u32>,
}

impl V1Beta1 for Status {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let doc: StatusDoc = decode(&value)?;
        Ok(Status {
            api_version: API_VERSION_V1.to_string(),
            kind: "Status".to_string(),
            metadata: ListMeta {
                resource_version: resource_version_from(doc.resource_version, "resourceVersion")?,
                self_link: doc.self_link,
                ..ListMeta::default()
            },
            status: doc.status,
            message: doc.message,
            reason: doc.reason,
            details: doc.details.map(|d| StatusDetails {
                name: d.id,
                kind: d.kind,
                uid: d.uid,
                causes: d.causes,
                retry_after_seconds: d.retry_after_seconds,
            }),
            code: doc.code,
        })
    }

    fn to_v1beta1(&self) -> Value {
        let rv = &self.metadata.resource_version;
        let doc = StatusDoc {
            kind: "Status".to_string(),
            api_version: API_VERSION.to_string(),
            self_link: self.metadata.self_link.clone(),
            resource_version: (!rv.is_empty()).then(|| {
                Scalar::Int(i64::try_from(resource_version_to_v1beta1(rv)).unwrap_or(i64::MAX))
            }),
            status: self.status.clone(),
            message: self.message.clone(),
            reason: self.reason.clone(),
            details: self.details.as_ref().map(|d| Details {
                id: d.name.clone(),
                kind: d.kind.clone(),
                uid: d.uid.clone(),
                causes: d.causes.clone(),
                retry_after_seconds: d.retry_after_seconds,
            }),
            code: self.code,
        };
        serde_json::to_value(doc).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn not_found_shape() {
        let st =
            Status::failure(404, "NotFound", "pod \"foo\" not found").with_details("pod", "foo");
        assert_eq!(
            st.to_v1beta1(),
            json!({"kind": "Status", "apiVersion": "v1beta1", "status": "Failure",
                   "message": "pod \"foo\" not found", "reason": "NotFound",
                   "details": {"id": "foo", "kind": "pod"}, "code": 404})
        );
    }

    #[test]
    fn statuses_round_trip() {
        let mut invalid =
            Status::failure(422, "Invalid", "pod \"x\" is invalid").with_details("pod", "x");
        if let Some(d) = invalid.details.as_mut() {
            d.causes = vec![StatusCause {
                reason: "FieldValueRequired".into(),
                message: "required value".into(),
                field: "desiredState.manifest.containers[0].image".into(),
            }];
            d.uid = "u".into();
            d.retry_after_seconds = Some(3);
        }
        invalid.metadata.resource_version = "5".into();
        let cases = [
            Status::success(),
            invalid,
            Status::failure(409, "AlreadyExists", "exists"),
        ];
        for st in cases {
            assert_eq!(
                Status::from_v1beta1(st.to_v1beta1()).expect("back"),
                st,
                "{st:?}"
            );
        }
    }

    #[test]
    fn seed_working_status_converts() {
        let doc = json!({"kind": "Status", "apiVersion": "v1beta1", "status": "Working", "reason": "Working",
                         "details": {"id": "7", "kind": "operation"}});
        let st = Status::from_v1beta1(doc).expect("converts");
        assert_eq!(st.status, "Working");
        assert_eq!(
            st.details.map(|d| (d.name, d.kind)),
            Some(("7".into(), "operation".into()))
        );
        let err = Status::from_v1beta1(json!({"code": "404"})).expect_err("fails");
        assert_eq!(err.field, "code");
    }
}
