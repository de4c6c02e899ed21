//! Field validation: unknown members (v1 and v1beta1, at every depth, nulls included) and
//! repeated members of JSON text.

use super::*;
use crate::testing::{NodeBuilder, PodBuilder, ReplicationControllerBuilder, ServiceBuilder};
use crate::v1beta1::V1Beta1;
use crate::{Binding, Endpoints, Event, Lease, Node, Pod, ReplicationController, Service};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

fn fields(found: &StrictErrors) -> Vec<String> {
    found.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn unknown_members_of_a_v1_pod_are_reported_with_their_paths() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"metadata": {"name": "p"}}), vec![]),
        (
            json!({"spec": {"foo": 1}}),
            vec![r#"unknown field "spec.foo""#],
        ),
        (
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "imagee": "x"}]}}),
            vec![r#"unknown field "spec.containers[1].imagee""#],
        ),
        (
            json!({"spec": {"containers": [{"ports": [{"containerPort": 80, "hostPorts": 1}]}]}}),
            vec![r#"unknown field "spec.containers[0].ports[0].hostPorts""#],
        ),
        // A null member is absent for decoding, but still unknown.
        (
            json!({"metadata": {"nmae": null}}),
            vec![r#"unknown field "metadata.nmae""#],
        ),
        // Map keys (labels, resource limits) are free.
        (
            json!({"metadata": {"labels": {"anything": "x"}},
                   "spec": {"containers": [{"resources": {"limits": {"cpu": "1", "gpu": "2"}}}]}}),
            vec![],
        ),
        (
            json!({"extra": {}, "status": {"phasee": "Running"}, "metadata": {"x": [1]}}),
            vec![
                r#"unknown field "extra""#,
                r#"unknown field "metadata.x""#,
                r#"unknown field "status.phasee""#,
            ],
        ),
    ];
    for (input, want) in cases {
        let (pod, found) = from_value_reporting::<Pod>(&input);
        assert!(pod.is_ok(), "{input}");
        let mut got = fields(&found);
        got.sort();
        assert_eq!(got, want, "{input}");
    }
}

#[test]
fn unknown_members_inside_maps_of_structs_and_options() {
    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Inner {
        #[allow(dead_code)]
        a: i32,
    }
    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Outer {
        #[allow(dead_code)]
        by_name: BTreeMap<String, Inner>,
        #[allow(dead_code)]
        maybe: Option<Inner>,
        #[allow(dead_code)]
        free: Value,
    }
    let v = json!({"by_name": {"x": {"a": 1, "b": 2}, "y": {}}, "maybe": {"c": 3},
                   "free": {"anything": {"goes": 1}}});
    let (got, found) = from_value_reporting::<Outer>(&v);
    assert!(got.is_ok());
    assert_eq!(
        fields(&found),
        [
            r#"unknown field "by_name.x.b""#,
            r#"unknown field "maybe.c""#
        ]
    );
    // Outside unknown_fields nothing is tracked, and decoding is unchanged.
    assert!(from_value::<Outer>(&v).is_ok());
}

#[test]
fn a_decode_error_is_still_an_error_when_tracking() {
    let (pod, _) = from_value_reporting::<Pod>(&json!({"spec": [], "x": 1}));
    assert_eq!(pod.map_err(|e| e.field), Err("spec".to_string()));
}

#[test]
fn v1beta1_unknown_members_are_those_of_the_v1beta1_document() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"kind": "Pod", "apiVersion": "v1beta1", "id": "p", "labels": {"a": "b"},
                   "desiredState": {"manifest": {"version": "v1beta1", "containers": [{"name": "c", "image": "i"}]}}}),
            vec![],
        ),
        (
            json!({"id": "p", "desiredState": {"manifest": {"containers": [{"name": "c", "imagee": "i"}]}}}),
            vec![r#"unknown field "desiredState.manifest.containers[0].imagee""#],
        ),
        // A v1 member is unknown in a v1beta1 document.
        (
            json!({"id": "p", "metadata": {"name": "p"}, "spec": {}}),
            vec![r#"unknown field "metadata""#, r#"unknown field "spec""#],
        ),
    ];
    for (input, want) in cases {
        let (pod, found) = from_v1beta1_reporting::<Pod>(input.clone());
        assert!(pod.is_ok(), "{input}");
        let mut got = fields(&found);
        got.sort();
        assert_eq!(got, want, "{input}");
    }
}

/// What the server answers decodes back without unknown members, in both versions.
fn round_trips<T: Serialize + DeserializeOwned + V1Beta1>(obj: &T, v1beta1: bool) {
    let v1 = serde_json::to_value(obj).expect("encode");
    let (back, found) = from_value_reporting::<T>(&v1);
    assert!(back.is_ok() && found.is_empty(), "{v1}: {found}");
    if v1beta1 {
        let old = obj.to_v1beta1();
        let (back, found) = from_v1beta1_reporting::<T>(old.clone());
        assert!(back.is_ok() && found.is_empty(), "{old}: {found}");
    }
}

#[test]
fn served_objects_have_no_unknown_members() {
    let mut pod = PodBuilder::new("web")
        .namespace("ns")
        .node("n1")
        .request_cpu("100m")
        .build();
    pod.metadata.labels.insert("app".into(), "web".into());
    pod.status.phase = "Running".into();
    pod.status.host_ip = "10.0.0.1".into();
    round_trips(&pod, true);
    round_trips(&NodeBuilder::new("n1").build(), true);
    round_trips(&ServiceBuilder::new("s").build(), true);
    round_trips(&ReplicationControllerBuilder::new("rc").build(), true);
    round_trips(&Endpoints::default(), true);
    round_trips(&Event::default(), true);
    round_trips(&Binding::default(), true);
    round_trips(&Lease::default(), false);
    round_trips(&Node::default(), true);
    round_trips(&Service::default(), true);
    round_trips(&ReplicationController::default(), true);
}

#[test]
fn repeated_members_are_reported_and_the_last_wins() {
    let cases: [(&str, Value, Vec<&str>); 5] = [
        (r#"{"a": 1, "b": 2}"#, json!({"a": 1, "b": 2}), vec![]),
        (
            r#"{"metadata": {"name": "a", "name": "b"}}"#,
            json!({"metadata": {"name": "b"}}),
            vec![r#"duplicate field "metadata.name""#],
        ),
        (
            r#"{"spec": {"containers": [{"name": "c"}, {"image": "x", "image": "y", "image": "z"}]}}"#,
            json!({"spec": {"containers": [{"name": "c"}, {"image": "z"}]}}),
            vec![
                r#"duplicate field "spec.containers[1].image""#,
                r#"duplicate field "spec.containers[1].image""#,
            ],
        ),
        (
            r#"{"a": {"x": 1}, "a": {"y": [1.5, -2, null, true, "s"]}}"#,
            json!({"a": {"y": [1.5, -2, null, true, "s"]}}),
            vec![r#"duplicate field "a""#],
        ),
        (
            r#"[{"op": "add", "op": "remove"}]"#,
            json!([{"op": "remove"}]),
            vec![r#"duplicate field "[0].op""#],
        ),
    ];
    for (text, want_value, want) in cases {
        let (value, dups) = parse_json(text.as_bytes()).expect(text);
        assert_eq!(value, want_value, "{text}");
        assert_eq!(fields(&dups), want, "{text}");
        // The same value serde_json builds.
        assert_eq!(
            value,
            serde_json::from_str::<Value>(text).expect(text),
            "{text}"
        );
    }
    for bad in ["", "{", "{} x", r#"{"a": }"#, &"[".repeat(200)] {
        assert!(parse_json(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn reports_are_bounded() {
    let members: Vec<String> = (0..250).map(|i| format!("\"k{i}\": 1")).collect();
    let text = format!("{{\"spec\": {{{}}}}}", members.join(","));
    let v: Value = serde_json::from_str(&text).expect("json");
    let (_, found) = from_value_reporting::<Pod>(&v);
    assert_eq!(
        (found.errors.len(), found.omitted),
        (MAX_STRICT_ERRORS, 150)
    );
    assert!(found.to_string().ends_with(", and 150 more"), "{found}");
    assert_eq!(found.messages().len(), MAX_STRICT_ERRORS + 1);
    let long = "x".repeat(5000);
    let (_, found) = from_value_reporting::<Pod>(&json!({ long.clone(): 1 }));
    assert_eq!(found.errors[0].field.len(), MAX_PATH_BYTES + 3);
    assert!(found.errors[0].field.ends_with("..."));
}

#[test]
fn messages_follow_kubernetes_wording() {
    let mut e = StrictErrors::default();
    assert!(e.is_empty());
    e.push(StrictError::unknown("spec.foo"));
    e.push(StrictError::duplicate("metadata.name"));
    e.push(StrictError {
        prefix: "json patch ",
        ..StrictError::duplicate("[0].op")
    });
    e.push(StrictError::unknown("a\"b"));
    assert_eq!(
        e.to_string(),
        r#"strict decoding error: unknown field "spec.foo", duplicate field "metadata.name", json patch duplicate field "[0].op", unknown field "a\"b""#
    );
    assert_eq!(e.messages()[0], r#"unknown field "spec.foo""#);
}
