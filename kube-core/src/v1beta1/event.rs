//! v1beta1 `Event` (`source` string, single `timestamp`) ⇄ v1 `Event`.

use super::de::decode;
use super::meta::{decode_meta, encode, ObjectRef};
use super::{ConversionError, V1Beta1};
use crate::event::{Event, EventSource};
use crate::object::Object;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// v1beta1 event body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct EventBody {
    involved_object: ObjectRef,
    /// Free text in v1beta1; accepted and ignored.
    #[serde(skip_serializing)]
    status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    /// The reporting component.
    #[serde(skip_serializing_if = "String::is_empty")]
    source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    timestamp: String,
}

impl V1Beta1 for Event {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let metadata = decode_meta(&value)?;
        let body: EventBody = decode(&value)?;
        let mut event = Event {
            metadata,
            involved_object: body.involved_object.into_v1("involvedObject")?,
            reason: body.reason,
            message: body.message,
            source: EventSource {
                component: body.source,
                host: String::new(),
            },
            first_timestamp: body.timestamp.clone(),
            last_timestamp: body.timestamp,
            ..Event::default()
        };
        event.set_type_meta();
        Ok(event)
    }

    fn to_v1beta1(&self) -> Value {
        let timestamp = if self.last_timestamp.is_empty() {
            &self.first_timestamp
        } else {
            &self.last_timestamp
        };
        let source = if self.source.component.is_empty() {
            &self.source.host
        } else {
            &self.source.component
        };
        let body = EventBody {
            involved_object: ObjectRef::from_v1(&self.involved_object),
            status: String::new(),
            reason: self.reason.clone(),
            message: self.message.clone(),
            source: source.clone(),
            timestamp: timestamp.clone(),
        };
        encode(Event::RESOURCE.info().v1beta1_kind, &self.metadata, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::ObjectReference;
    use serde_json::json;

    fn event() -> Event {
        let mut ev = Event::default();
        ev.set_type_meta();
        ev.metadata.name = "redis.1".into();
        ev.metadata.namespace = "default".into();
        ev.metadata.resource_version = "21".into();
        ev.involved_object = ObjectReference {
            kind: "Pod".into(),
            namespace: "default".into(),
            name: "redis".into(),
            uid: "u1".into(),
            api_version: "v1beta1".into(),
            resource_version: "20".into(),
            field_path: "spec.containers{redis}".into(),
        };
        ev.reason = "scheduled".into();
        ev.message = "Successfully assigned redis to m1".into();
        ev.source.component = "scheduler".into();
        ev.first_timestamp = "2014-10-30T15:57:02Z".into();
        ev.last_timestamp = "2014-10-30T15:57:02Z".into();
        ev
    }

    #[test]
    fn events_round_trip() {
        let ev = event();
        assert_eq!(Event::from_v1beta1(ev.to_v1beta1()).expect("back"), ev);
    }

    #[test]
    fn output_shape() {
        let want = json!({
            "kind": "Event", "apiVersion": "v1beta1", "id": "redis.1", "namespace": "default",
            "resourceVersion": 21,
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "redis", "uid": "u1",
                               "apiVersion": "v1beta1", "resourceVersion": 20,
                               "fieldPath": "spec.containers{redis}"},
            "reason": "scheduled", "message": "Successfully assigned redis to m1",
            "source": "scheduler", "timestamp": "2014-10-30T15:57:02Z"
        });
        assert_eq!(event().to_v1beta1(), want);
    }

    #[test]
    fn seed_event_converts() {
        let doc = json!({"kind": "Event", "involvedObject": {"kind": "Pod", "name": "p", "resourceVersion": "7"},
                         "status": "bound", "reason": "scheduled", "source": "scheduler",
                         "timestamp": "2014-11-01T00:00:00Z"});
        let ev = Event::from_v1beta1(doc).expect("converts");
        assert_eq!(ev.involved_object.resource_version, "7");
        assert_eq!(ev.source.component, "scheduler");
        assert_eq!(ev.first_timestamp, "2014-11-01T00:00:00Z");
        assert_eq!(ev.last_timestamp, "2014-11-01T00:00:00Z");
        let err = Event::from_v1beta1(json!({"involvedObject": {"resourceVersion": -3}}))
            .expect_err("fails");
        assert_eq!(err.field, "involvedObject.resourceVersion");
        let err = Event::from_v1beta1(json!({"source": {"component": "x"}})).expect_err("fails");
        assert_eq!(err.field, "source");
    }
}
