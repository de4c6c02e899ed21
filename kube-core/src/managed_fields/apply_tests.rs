//! Tables for server-side apply: merge, prune, conflicts, shared ownership.

use super::*;
use crate::meta::FieldsV1;
use crate::strategic_merge::schema_for_kind;
use serde_json::json;

const NOW: &str = "2026-03-03T00:00:00Z";

fn req<'a>(
    live: &'a Value,
    managed: &'a [ManagedFieldsEntry],
    config: &'a Value,
    manager: &'a str,
    force: bool,
) -> ApplyRequest<'a> {
    ApplyRequest {
        live,
        managed,
        config,
        schema: schema_for_kind("Pod"),
        manager,
        api_version: "v1",
        scope: Scope::Main,
        force,
        time: NOW,
    }
}

fn fields(entries: &[ManagedFieldsEntry], manager: &str) -> Option<Value> {
    entries
        .iter()
        .find(|e| e.manager == manager)
        .and_then(|e| e.fields_v1.clone())
        .map(|f| f.to_value())
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

#[test]
fn applying_creates_ownership_and_merges_by_key() {
    let live = pod(json!({"containers": [{"name": "a", "image": "x"}]}));
    let config = pod(json!({"containers": [{"name": "b", "image": "y"}]}));
    let out = apply(&req(&live, &[], &config, "m", false)).unwrap();
    assert!(out.changed);
    assert_eq!(
        out.object["spec"]["containers"],
        json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}])
    );
    assert_eq!(
        fields(&out.managed_fields, "m"),
        Some(
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"b\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        )
    );
    assert_eq!(out.managed_fields[0].operation, "Apply");
    assert_eq!(out.managed_fields[0].time, NOW);
    // Applying the same again changes nothing.
    let again = apply(&req(&out.object, &out.managed_fields, &config, "m", false)).unwrap();
    assert!(!again.changed);
    assert_eq!(again.managed_fields, out.managed_fields);
}

#[test]
fn list_merge_keeps_live_order_and_places_applied_items() {
    // (live names, applied names, merged names)
    let cases: [(&[&str], &[&str], &[&str]); 4] = [
        (&["a", "b", "c"], &["a", "x", "c"], &["a", "b", "x", "c"]),
        (&["a", "b"], &["b", "a"], &["b", "a"]),
        (&[], &["a"], &["a"]),
        (&["a"], &[], &["a"]),
    ];
    for (l, r, want) in cases {
        let items =
            |names: &[&str]| -> Value { names.iter().map(|n| json!({"name": n})).collect() };
        let live = pod(json!({"containers": items(l)}));
        let config = pod(json!({"containers": items(r)}));
        let out = apply(&req(&live, &[], &config, "m", false)).unwrap();
        assert_eq!(
            out.object["spec"]["containers"],
            items(want),
            "{l:?} + {r:?}"
        );
    }
}

#[test]
fn conflicts_with_other_managers_unless_forced() {
    let live = pod(json!({"restartPolicy": "Always", "hostname": "h"}));
    let managed = vec![ManagedFieldsEntry {
        manager: "kubectl-client-side-apply".into(),
        operation: "Update".into(),
        api_version: "v1".into(),
        fields_type: "FieldsV1".into(),
        fields_v1: Some(FieldsV1::from_value(
            &json!({"f:spec": {"f:restartPolicy": {}, "f:hostname": {}}}),
        )),
        ..ManagedFieldsEntry::default()
    }];
    // Same value: shared, no conflict. Different value: conflict.
    let config = pod(json!({"restartPolicy": "Never", "hostname": "h"}));
    let e = apply(&req(&live, &managed, &config, "m", false)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .spec.restartPolicy"
    );
    let out = apply(&req(&live, &managed, &config, "m", true)).unwrap();
    assert_eq!(out.object["spec"]["restartPolicy"], "Never");
    assert_eq!(
        fields(&out.managed_fields, "kubectl-client-side-apply"),
        Some(json!({"f:spec": {"f:hostname": {}}}))
    );
    assert_eq!(
        fields(&out.managed_fields, "m"),
        Some(json!({"f:spec": {"f:hostname": {}, "f:restartPolicy": {}}}))
    );
    // Two fields of two managers: counted and listed per manager.
    let mut two = managed.clone();
    two.push(ManagedFieldsEntry {
        manager: "other".into(),
        operation: "Apply".into(),
        fields_v1: Some(FieldsV1::from_value(&json!({"f:spec": {"f:hostname": {}}}))),
        ..managed[0].clone()
    });
    let config = pod(json!({"restartPolicy": "Never", "hostname": "k"}));
    match apply(&req(&live, &two, &config, "m", false)).unwrap_err() {
        ApplyError::Conflicts(c) => {
            assert_eq!(c.len(), 3);
            let msg = conflict_message(&c);
            assert!(msg.starts_with("Apply failed with 3 conflicts: conflicts with \"kubectl-client-side-apply\" using v1:\n- .spec.hostname\n- .spec.restartPolicy\nconflicts with \"other\":\n- .spec.hostname"), "{msg}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn fields_no_longer_applied_are_removed_unless_owned() {
    let config1 = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}},
        "spec": {"containers": [{"name": "c", "image": "i"}, {"name": "d", "image": "j"}]}});
    let live = pod(json!({}));
    let first = apply(&req(&live, &[], &config1, "m", false)).unwrap();
    // Another manager applies label b with the same value: both own it.
    let other =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"b": "2"}}});
    let shared = apply(&req(
        &first.object,
        &first.managed_fields,
        &other,
        "n",
        false,
    ))
    .unwrap();
    assert_eq!(
        fields(&shared.managed_fields, "n"),
        Some(json!({"f:metadata": {"f:labels": {"f:b": {}}}}))
    );
    // m stops applying both labels and container d.
    let config2 = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i"}]}});
    let out = apply(&req(
        &shared.object,
        &shared.managed_fields,
        &config2,
        "m",
        false,
    ))
    .unwrap();
    assert_eq!(out.object["metadata"]["labels"], json!({"b": "2"}));
    assert_eq!(out.object["metadata"]["name"], "p");
    assert_eq!(
        out.object["spec"]["containers"],
        json!([{"name": "c", "image": "i"}])
    );
    assert_eq!(
        fields(&out.managed_fields, "m"),
        Some(
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        )
    );
    // Then n stops too: the label goes.
    let none = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    let gone = apply(&req(&out.object, &out.managed_fields, &none, "n", false)).unwrap();
    assert_eq!(
        gone.object["metadata"]
            .get("labels")
            .cloned()
            .unwrap_or(json!({})),
        json!({})
    );
    assert_eq!(fields(&gone.managed_fields, "n"), None);
}

#[test]
fn unowned_fields_an_applier_never_applied_stay() {
    let live = pod(
        json!({"restartPolicy": "Always", "containers": [{"name": "c", "image": "i", "imagePullPolicy": "IfNotPresent"}]}),
    );
    let config = pod(json!({"containers": [{"name": "c", "image": "i"}]}));
    let first = apply(&req(&live, &[], &config, "m", false)).unwrap();
    let config2 = pod(json!({"containers": [{"name": "c", "image": "j"}]}));
    let out = apply(&req(
        &first.object,
        &first.managed_fields,
        &config2,
        "m",
        false,
    ))
    .unwrap();
    assert_eq!(
        out.object["spec"],
        json!({"restartPolicy": "Always", "containers": [{"name": "c", "image": "j", "imagePullPolicy": "IfNotPresent"}]})
    );
}

#[test]
fn managed_fields_in_the_configuration_are_refused() {
    let live = pod(json!({}));
    let config = json!({"metadata": {"name": "p", "managedFields": [{"manager": "x"}]}});
    let e = apply(&req(&live, &[], &config, "m", false)).unwrap_err();
    assert_eq!(
        e,
        ApplyError::Invalid("metadata.managedFields must be nil".into())
    );
    let config = pod(json!({"containers": [{"image": "x"}]}));
    assert!(matches!(
        apply(&req(&live, &[], &config, "m", false)),
        Err(ApplyError::Invalid(_))
    ));
}
