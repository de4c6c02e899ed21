//! Tables for field sets, FieldsV1, comparisons, updates and applies.

use super::*;
use crate::meta::FieldsV1;
use crate::strategic_merge::schema_for_kind;
use serde_json::json;

fn pod() -> &'static [Field] {
    schema_for_kind("Pod")
}

fn set_of(v: Value) -> Set {
    Set::from_value(&v).unwrap()
}

#[test]
fn fields_v1_round_trips() {
    // Kubernetes' own examples (the server-side apply documentation and a kubectl-created pod).
    let cases = [
        json!({"f:metadata": {"f:labels": {"f:test-label": {}}}, "f:data": {"f:key": {}}}),
        json!({"f:metadata": {"f:labels": {".": {}, "f:run": {}}}, "f:spec": {"f:containers": {
            "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}, "f:resources": {}}},
            "f:dnsPolicy": {}}}),
        json!({"f:metadata": {"f:finalizers": {".": {}, "v:\"orphan\"": {}}}}),
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {"f:ports": {
            "k:{\"containerPort\":80}": {".": {}, "f:containerPort": {}}}}}}}),
        json!({"f:x": {"i:0": {}, "i:3": {"f:y": {}}}}),
        json!({}),
    ];
    for v in cases {
        let s = Set::from_value(&v).unwrap();
        assert_eq!(s.to_value(), v, "{v}");
    }
}

#[test]
fn malformed_fields_v1_is_refused() {
    let cases = [
        json!([]),
        json!({"x:a": {}}),
        json!({"f:a": 1}),
        json!({"k:[1]": {}}),
        json!({"k:{}": {}}),
        json!({"v:{": {}}),
        json!({"i:-1": {}}),
        json!({"noColon": {}}),
    ];
    for v in cases {
        assert!(Set::from_value(&v).is_err(), "{v}");
    }
}

#[test]
fn paths_print_as_structured_merge_diff() {
    let s = set_of(
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}}},
        "f:replicas": {}}, "f:metadata": {"f:finalizers": {"v:\"x\"": {}}}}),
    );
    let printed: Vec<String> = s.paths().iter().map(ToString::to_string).collect();
    assert_eq!(
        printed,
        [
            ".metadata.finalizers[=\"x\"]",
            ".spec.containers[name=\"a\"]",
            ".spec.containers[name=\"a\"].image",
            ".spec.replicas",
        ]
    );
}

#[test]
fn numeric_keys_order_numerically() {
    let mut s = Set::new();
    for port in [8080, 80, 443] {
        s.insert(&[PathElement::Key(vec![(
            "containerPort".into(),
            json!(port),
        )])]);
    }
    let printed: Vec<String> = s.paths().iter().map(ToString::to_string).collect();
    assert_eq!(
        printed,
        [
            "[containerPort=80]",
            "[containerPort=443]",
            "[containerPort=8080]"
        ]
    );
}

#[test]
fn set_algebra() {
    let a = set_of(json!({"f:a": {".": {}, "f:b": {}}, "f:c": {}}));
    let b = set_of(json!({"f:a": {"f:b": {}, "f:d": {}}}));
    // (expression, expected)
    let cases = [
        (
            a.union(&b),
            json!({"f:a": {".": {}, "f:b": {}, "f:d": {}}, "f:c": {}}),
        ),
        (a.difference(&b), json!({"f:a": {}, "f:c": {}})),
        (b.difference(&a), json!({"f:a": {"f:d": {}}})),
        (a.intersection(&b), json!({"f:a": {"f:b": {}}})),
        (a.difference(&a), json!({})),
    ];
    for (got, want) in cases {
        assert_eq!(got.to_value(), want);
    }
    assert!(a.has(&[PathElement::Field("a".into())]));
    assert!(!b.has(&[PathElement::Field("a".into())]));
}

#[test]
fn field_sets_follow_the_schema() {
    // (applied configuration, expected set before stripping)
    let cases = [
        (
            // Associative list by merge key; maps granular; scalars leaves.
            json!({"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80}]}]}}),
            json!({"f:metadata": {"f:labels": {"f:app": {}}},
                   "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}, "f:name": {},
                       "f:ports": {"k:{\"containerPort\":80}": {".": {}, "f:containerPort": {}}}}}}}),
        ),
        (
            // A set of primitives; an atomic list (args) is one leaf; an empty map is a leaf.
            json!({"metadata": {"finalizers": ["a", "b"]},
                   "spec": {"containers": [{"name": "a", "args": ["x", "y"], "resources": {}}]}}),
            json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}, "v:\"b\"": {}}},
                   "f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:args": {}, "f:name": {}, "f:resources": {}}}}}),
        ),
        (
            // Tolerations have no merge key: atomic.
            json!({"spec": {"tolerations": [{"key": "k"}], "nodeSelector": {"disk": "ssd"}}}),
            json!({"f:spec": {"f:tolerations": {}, "f:nodeSelector": {"f:disk": {}}}}),
        ),
    ];
    for (config, want) in cases {
        let got = field_set(&config, pod()).unwrap();
        assert_eq!(got.to_value(), want, "{config}");
    }
}

#[test]
fn bad_configurations_are_refused() {
    let cases = [
        (
            json!({"spec": {"containers": [{"image": "x"}]}}),
            "omits key field \"name\"",
        ),
        (
            json!({"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}),
            "duplicate entries for key [name=\"a\"]",
        ),
        (
            json!({"metadata": {"finalizers": ["a", "a"]}}),
            "duplicate entries",
        ),
    ];
    for (config, want) in cases {
        let e = field_set(&config, pod()).unwrap_err();
        assert!(e.to_string().contains(want), "{config}: {e}");
    }
}

#[test]
fn stripping_drops_server_metadata_and_other_scopes() {
    let mut s = set_of(
        json!({"f:apiVersion": {}, "f:kind": {}, "f:metadata": {".": {}, "f:name": {},
        "f:uid": {}, "f:labels": {"f:a": {}}}, "f:status": {"f:phase": {}}, "f:spec": {"f:x": {}}}),
    );
    let mut st = s.clone();
    strip(&mut s, Scope::Main);
    assert_eq!(
        s.to_value(),
        json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:x": {}}})
    );
    strip(&mut st, Scope::Status);
    assert_eq!(st.to_value(), json!({"f:status": {"f:phase": {}}}));
}

#[test]
fn comparisons() {
    // (old, new, added, modified, removed)
    let cases = [
        (
            json!({"spec": {"replicas": 1}}),
            json!({"spec": {"replicas": 2}}),
            json!({}),
            json!({"f:spec": {"f:replicas": {}}}),
            json!({}),
        ),
        (
            json!({"metadata": {"name": "x"}, "spec": {}}),
            json!({"metadata": {"name": "y", "labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
            // A list absent before is itself added (Go's zero objects have `containers: null`
            // where ours omit it, hence Kubernetes' creates lack this `.`).
            json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}},
                   "f:spec": {"f:containers": {".": {}, "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}),
            json!({}),
            json!({}),
        ),
        (
            json!({"spec": {"containers": [{"name": "c", "image": "i"}, {"name": "d"}], "tolerations": [{"key": "a"}]}}),
            json!({"spec": {"containers": [{"name": "c", "image": "j"}], "tolerations": [{"key": "b"}]}}),
            json!({}),
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {"f:image": {}}}, "f:tolerations": {}}}),
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"d\"}": {".": {}, "f:name": {}}}}}),
        ),
        (
            json!({"status": {"phase": "Pending"}}),
            json!({"status": {"phase": "Running"}}),
            json!({}),
            json!({}),
            json!({}),
        ),
    ];
    for (old, new, added, modified, removed) in cases {
        let c = compare(&old, &new, pod(), Scope::Main);
        assert_eq!(c.added.to_value(), added, "{old} -> {new}");
        assert_eq!(c.modified.to_value(), modified, "{old} -> {new}");
        assert_eq!(c.removed.to_value(), removed, "{old} -> {new}");
    }
}

fn entry(manager: &str, op: &str, fields: Value) -> ManagedFieldsEntry {
    ManagedFieldsEntry {
        manager: manager.into(),
        operation: op.into(),
        api_version: "v1".into(),
        time: "2026-01-01T00:00:00Z".into(),
        fields_type: FIELDS_TYPE_V1.into(),
        fields_v1: Some(FieldsV1::from_value(&fields)),
        subresource: String::new(),
    }
}

fn by_manager(entries: &[ManagedFieldsEntry]) -> Vec<(String, String, Value)> {
    entries
        .iter()
        .map(|e| {
            (
                e.manager.clone(),
                e.operation.clone(),
                e.fields_v1
                    .clone()
                    .map(|f| f.to_value())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

const NOW: &str = "2026-02-02T00:00:00Z";

fn update_op(manager: &str) -> UpdateOperation<'_> {
    UpdateOperation {
        manager,
        api_version: "v1",
        scope: Scope::Main,
        time: NOW,
        creating: false,
    }
}

#[test]
fn updates_take_the_fields_they_change() {
    let rc = schema_for_kind("ReplicationController");
    let stored = vec![
        entry(
            "a",
            "Apply",
            json!({"f:spec": {"f:replicas": {}, "f:selector": {"f:app": {}}}}),
        ),
        entry(
            "b",
            "Update",
            json!({"f:metadata": {"f:labels": {"f:x": {}}}}),
        ),
    ];
    let old = json!({"metadata": {"name": "r", "labels": {"x": "1"}}, "spec": {"replicas": 1, "selector": {"app": "w"}}});
    let new = json!({"metadata": {"name": "r"}, "spec": {"replicas": 3, "selector": {"app": "w"}}});
    let got = record_update(&stored, &[], old.clone(), new, rc, &update_op("kubectl"));
    assert_eq!(
        by_manager(&got),
        [
            (
                "a".into(),
                "Apply".into(),
                json!({"f:spec": {"f:selector": {"f:app": {}}}})
            ),
            (
                "kubectl".into(),
                "Update".into(),
                json!({"f:spec": {"f:replicas": {}}})
            ),
        ]
    );
    assert_eq!(got[1].time, NOW);
    // Nothing changed: the stored entries as they were.
    let same = record_update(&stored, &[], old.clone(), old, rc, &update_op("kubectl"));
    assert_eq!(same, stored);
}

/// A create by `m` in `scope`.
fn create_op(scope: Scope) -> UpdateOperation<'static> {
    UpdateOperation {
        manager: "m",
        scope,
        creating: true,
        ..update_op("m")
    }
}

#[test]
fn a_create_owns_what_it_sets_and_status_writes_own_status() {
    let zero = json!({"metadata": {}, "spec": {}, "status": {}});
    let new = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "uid": "u", "labels": {"a": "1"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"phase": "Pending"}});
    let create = UpdateOperation {
        creating: true,
        ..update_op("kubectl")
    };
    // An update of an untracked object stays untracked; a create starts tracking.
    let untracked = record_update(
        &[],
        &[],
        zero.clone(),
        new.clone(),
        pod(),
        &update_op("kubectl"),
    );
    assert!(untracked.is_empty(), "{untracked:?}");
    let got = record_update(&[], &[], zero, new.clone(), pod(), &create);
    assert_eq!(
        by_manager(&got),
        [(
            "kubectl".into(),
            "Update".into(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}},
                   "f:spec": {"f:containers": {".": {}, "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        )]
    );
    let mut running = new.clone();
    running["status"]["phase"] = json!("Running");
    let op = UpdateOperation {
        scope: Scope::Status,
        ..update_op("kubelet")
    };
    let got = record_update(&got, &[], new, running, pod(), &op);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].manager, "kubelet");
    assert_eq!(got[1].subresource, "status");
    assert_eq!(
        got[1].fields_v1,
        Some(FieldsV1::from_value(&json!({"f:status": {"f:phase": {}}})))
    );
}

#[test]
fn sent_entries_replace_the_stored_ones_and_bad_ones_reset() {
    let stored = vec![entry("a", "Update", json!({"f:spec": {"f:x": {}}}))];
    let sent = vec![entry("z", "Update", json!({"f:spec": {"f:y": {}}}))];
    let v = json!({"spec": {"x": 1, "y": 2}});
    let got = record_update(&stored, &sent, v.clone(), v.clone(), pod(), &update_op("m"));
    assert_eq!(got, sent);
    let mut bad = sent.clone();
    bad[0].fields_type = "FieldsV2".into();
    let got = record_update(&stored, &bad, v.clone(), v, pod(), &update_op("m"));
    assert_eq!(got, stored);
}

#[test]
fn an_empty_list_resets_and_an_absent_one_keeps() {
    // (metadata as sent, whether it is a reset, entries decoded)
    let cases = [
        (json!({}), false, 0),
        (json!({"managedFields": null}), false, 0),
        (json!({"managedFields": []}), true, 1),
        (json!({"managedFields": [{}]}), true, 1),
        (
            json!({"managedFields": [{"manager": "m", "operation": "Update"}]}),
            false,
            1,
        ),
    ];
    for (meta, reset, len) in cases {
        let m: crate::meta::ObjectMeta = serde_json::from_value(meta.clone()).unwrap();
        assert_eq!(m.managed_fields.len(), len, "{meta}");
        assert_eq!(
            crate::meta::is_reset_managed_fields(&m.managed_fields),
            reset,
            "{meta}"
        );
    }
    let stored = vec![entry("a", "Update", json!({"f:spec": {"f:x": {}}}))];
    let reset = vec![ManagedFieldsEntry::default()];
    let old = json!({"spec": {"x": 1}});
    let same = record_update(
        &stored,
        &reset,
        old.clone(),
        old.clone(),
        pod(),
        &update_op("m"),
    );
    assert!(same.is_empty(), "{same:?}");
    // A reset that also changes fields records nothing either (Kubernetes' skipNonApplied).
    let new = json!({"spec": {"x": 1, "y": 2}});
    let got = record_update(&stored, &reset, old, new, pod(), &update_op("m"));
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn update_entries_are_capped() {
    let mut stored = Vec::new();
    for i in 0..MAX_UPDATE_MANAGERS {
        let mut e = entry(&format!("m{i}"), "Update", json!({format!("f:f{i}"): {}}));
        e.time = format!("2026-01-01T00:00:{i:02}Z");
        stored.push(e);
    }
    let got = record_update(
        &stored,
        &[],
        json!({}),
        json!({"new": 1}),
        pod(),
        &update_op("late"),
    );
    let names: Vec<&str> = got.iter().map(|e| e.manager.as_str()).collect();
    assert_eq!(names.len(), MAX_UPDATE_MANAGERS);
    assert!(names.contains(&ANCIENT_CHANGES) && names.contains(&"late"));
    assert!(
        !names.contains(&"m0") && !names.contains(&"m1"),
        "{names:?}"
    );
    let bucket = got.iter().find(|e| e.manager == ANCIENT_CHANGES).unwrap();
    assert_eq!(
        bucket.fields_v1,
        Some(FieldsV1::from_value(&json!({"f:f0": {}, "f:f1": {}})))
    );
}

#[test]
fn a_creates_entry_is_the_comparisons_with_no_sets_built() {
    // (kind, scope, the kind's empty object, the created object): the entry written straight
    // from the objects must be, to the byte, the general path's (compare, union, strip, encode).
    let pod_zero = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"containers": []}, "status": {}});
    let cases = [
        (
            "Pod",
            Scope::Main,
            pod_zero.clone(),
            json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "u", "creationTimestamp": "t",
                         "labels": {"app": "web", "q\"uote": "x"}, "annotations": {},
                         "ownerReferences": [{"uid": "o1", "name": "rc"}], "finalizers": ["a", "b"]},
            "spec": {"containers": [
                        {"name": "web", "image": "nginx", "ports": [{"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 80}, {"containerPort": 9}],
                         "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}], "resources": {}, "args": ["-x"]},
                        {"name": "sidecar", "image": "busybox", "command": ["sleep", "1"]}],
                     "volumes": [{"name": "v", "emptyDir": {}}],
                     "nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "a"}],
                     "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "securityContext": {}},
            "status": {"phase": "Pending"}}),
        ),
        // Where the empty object has nothing, the typed walk keys the lists itself.
        (
            "Pod",
            Scope::Main,
            json!({"metadata": {}}),
            json!({"metadata": {"name": "p", "finalizers": ["b", "a"]},
            "spec": {"containers": [
                {"name": "web", "ports": [{"containerPort": 8080}, {"containerPort": 80}], "args": ["-x"]},
                {"name": "sidecar", "env": [{"name": "B"}, {"name": "A", "value": "1"}]}],
            "volumes": [{"name": "v"}, {"emptyDir": {}}], "tolerations": [{"key": "a"}, {"key": "a"}]}}),
        ),
        // Against empty lists in the empty object: keyed, atomic, an object, duplicates,
        // and empty lists again (equal, so not owned).
        (
            "Pod",
            Scope::Main,
            json!({"metadata": {"finalizers": []}, "spec": {"containers": [], "volumes": [],
                   "tolerations": [], "nodeSelector": [], "imagePullSecrets": [], "hostAliases": [],
                   "ephemeralContainers": [], "schedulingGates": []}}),
            json!({"metadata": {"name": "p", "finalizers": []},
            "spec": {"containers": [{"name": "b"}, {"name": "a", "args": []}], "volumes": [],
                     "tolerations": [{"key": "a"}], "nodeSelector": {"a": "b"},
                     "imagePullSecrets": [{"name": "x"}, {"name": "x"}], "hostAliases": [],
                     "ephemeralContainers": [{"image": "no-name"}], "schedulingGates": []}}),
        ),
        // Against lists with items: the JSON walk, item by item.
        (
            "Pod",
            Scope::Main,
            json!({"metadata": {}, "spec": {"volumes": [{"name": "v"}], "tolerations": [{"key": "a"}]}}),
            json!({"metadata": {"name": "p"},
            "spec": {"volumes": [{"name": "w"}, {"name": "v"}], "tolerations": [{"key": "a"}]}}),
        ),
        // Duplicate keys make the list atomic; an empty list is a leaf.
        (
            "Pod",
            Scope::Main,
            pod_zero.clone(),
            json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}, {"name": "a"}], "volumes": []}}),
        ),
        // Nothing owned: no entry.
        (
            "Pod",
            Scope::Main,
            pod_zero.clone(),
            json!({"metadata": {"name": "p"}, "spec": {"containers": []}}),
        ),
        (
            "Pod",
            Scope::Main,
            pod_zero.clone(),
            json!({"metadata": {}, "status": {"phase": "Running"}}),
        ),
        // A leaf that differs from the empty object's value, and one equal to it.
        (
            "ReplicationController",
            Scope::Main,
            json!({"metadata": {}, "spec": {"replicas": 1, "paused": false}, "status": {"replicas": 0}}),
            json!({"metadata": {"name": "r"}, "spec": {"replicas": 3, "paused": false,
                   "selector": {"app": "web"}, "template": {"metadata": {"labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "c", "image": "i"}]}}}, "status": {"replicas": 0}}),
        ),
        // An empty object without `metadata`: the element is still not owned.
        (
            "Node",
            Scope::Main,
            json!({}),
            json!({"metadata": {"name": "n", "labels": {"a": "b"}}, "spec": {"unschedulable": true}}),
        ),
        (
            "Service",
            Scope::Main,
            json!({"metadata": {}, "spec": {"ports": []}, "status": {}}),
            json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}, {"port": 443}],
                   "selector": {"app": "web"}, "type": "ClusterIP"}}),
        ),
        (
            "Pod",
            Scope::Status,
            pod_zero,
            json!({"metadata": {"name": "p"}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "podIP": "10.0.0.1"}}),
        ),
    ];
    for (kind, scope, zero, new) in cases {
        let schema = crate::strategic_merge::schema_for_kind(kind);
        let op = create_op(scope);
        let (mut old, mut stripped) = (zero.clone(), new.clone());
        strip_value(&mut old, scope);
        strip_value(&mut stripped, scope);
        let c = compare(&old, &stripped, schema, scope);
        let mut changed = c.added;
        changed.union_in_place(&c.modified);
        let got = record_update(&[], &[], zero.clone(), new.clone(), schema, &op);
        // The typed walk (here over the JSON value itself, as a `Serialize`) writes the same.
        let typed = typed::created_fields(&old, &new, walk::Ty::root(schema), scope);
        let typed = typed.unwrap_or_else(|e| panic!("{new}: the typed walk gave up: {e}"));
        assert_eq!(
            typed.as_ref().map(FieldsV1::as_str),
            created::created_fields(&old, &stripped, walk::Ty::root(schema))
                .as_ref()
                .map(FieldsV1::as_str),
            "{new}"
        );
        let created = record_create(&[], &zero, &new, schema, &op).unwrap();
        assert_eq!(texts(&created), texts(&got), "{new}");
        assert_eq!(created, got, "{new}");
        if changed.is_empty() {
            assert!(got.is_empty(), "{new}: {got:?}");
            continue;
        }
        let [e] = got.as_slice() else {
            panic!("{new}: one entry expected, got {got:?}");
        };
        let fields = e.fields_v1.as_ref().map(|f| f.as_str()).unwrap_or_default();
        assert_eq!(fields, changed.to_fields_v1().as_str(), "{new}");
        assert_eq!(
            (
                e.manager.as_str(),
                e.operation.as_str(),
                e.subresource.as_str()
            ),
            ("m", MANAGED_FIELDS_OPERATION_UPDATE, scope.subresource()),
        );
        assert_eq!(
            (e.time.as_str(), e.fields_type.as_str()),
            (NOW, FIELDS_TYPE_V1)
        );
    }
}

/// The FieldsV1 texts of entries.
fn texts(entries: &[ManagedFieldsEntry]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e.fields_v1.as_ref().map_or("", FieldsV1::as_str))
        .collect()
}

/// The JSON walk's entry for a create of `new` (typed) from `T`'s empty object, and the
/// typed walk's, which must not give up.
fn both_create_walks<T: crate::object::Object + Default + serde::Serialize>(
    new: &T,
    scope: Scope,
) -> (Vec<ManagedFieldsEntry>, Vec<ManagedFieldsEntry>) {
    let mut zero = T::default();
    zero.set_type_meta();
    let zero = serde_json::to_value(&zero).unwrap();
    let schema = schema_for_kind(T::RESOURCE.info().kind);
    let op = create_op(scope);
    let mut old = zero.clone();
    strip_value(&mut old, scope);
    if let Err(e) = typed::created_fields(&old, new, walk::Ty::root(schema), scope) {
        panic!("the typed walk gave up: {e}");
    }
    let json = serde_json::to_value(new).unwrap();
    (
        record_update(&[], &[], zero.clone(), json, schema, &op),
        record_create(&[], &zero, new, schema, &op).unwrap(),
    )
}

#[test]
fn the_typed_create_walk_writes_what_the_json_walk_writes() {
    use crate::endpoints::Endpoints;
    use crate::event::Event;
    use crate::lease::Lease;
    use crate::namespace::Namespace;
    use crate::node::Node;
    use crate::pod::Pod;
    use crate::replication_controller::ReplicationController;
    use crate::service::Service;
    let meta = json!({"name": "x", "namespace": "default", "uid": "u", "generateName": "x-",
        "labels": {"b": "2", "a": "1"}, "annotations": {"note": "n"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "ReplicationController", "name": "rc", "uid": "o1", "controller": true}],
        "finalizers": ["f/b", "f/a"]});
    let pod_spec = json!({"containers": [
            {"name": "web", "image": "nginx", "command": ["nginx"], "args": ["-g", "daemon off;"],
             "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}, {"containerPort": 80, "hostPort": 8081}],
             "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
             "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}},
             "volumeMounts": [{"name": "data", "mountPath": "/data"}],
             "livenessProbe": {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 3},
             "imagePullPolicy": "IfNotPresent"},
            {"name": "side", "image": "busybox", "command": ["sleep", "3600"]}],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "host", "hostPath": {"path": "/tmp"}}],
        "restartPolicy": "Always", "nodeSelector": {"disk": "ssd"}, "dnsPolicy": "ClusterFirst",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]});
    let pod: Pod = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": meta, "spec": pod_spec,
        "status": {"phase": "Running", "podIP": "10.0.0.2", "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}}))
    .unwrap();
    let rc: ReplicationController = serde_json::from_value(json!({"metadata": meta,
        "spec": {"replicas": 3, "selector": {"app": "web"},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}}}))
    .unwrap();
    let service: Service = serde_json::from_value(json!({"metadata": meta,
        "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP", "name": "http"}, {"port": 443, "targetPort": "https"}],
            "selector": {"app": "web"}, "type": "ClusterIP", "sessionAffinity": "None"}}))
    .unwrap();
    let node: Node =
        serde_json::from_value(json!({"metadata": {"name": "n", "labels": {"zone": "a"}},
        "spec": {"unschedulable": true, "podCIDR": "10.1.0.0/24",
            "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "2", "memory": "1Gi"},
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "conditions": [{"type": "Ready", "status": "True"}]}}))
        .unwrap();
    let endpoints: Endpoints = serde_json::from_value(json!({"metadata": {"name": "s"},
        "subsets": [{"addresses": [{"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}], "ports": [{"port": 8080, "name": "http"}]}]}))
    .unwrap();
    let event: Event =
        serde_json::from_value(json!({"metadata": {"name": "e", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default", "uid": "u"},
        "reason": "Scheduled", "message": "m", "type": "Normal", "count": 1,
        "source": {"component": "scheduler"}}))
        .unwrap();
    let lease: Lease = serde_json::from_value(json!({"metadata": {"name": "l", "namespace": "kube-system"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "renewTime": "2026-11-29T00:00:00.000000Z",
            "leaseTransitions": 0}}))
    .unwrap();
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "ns", "labels": {"a": "b"}}})).unwrap();
    let cases = [
        ("pod", both_create_walks(&pod, Scope::Main)),
        ("pod status", both_create_walks(&pod, Scope::Status)),
        ("empty pod", both_create_walks(&Pod::default(), Scope::Main)),
        (
            "replication controller",
            both_create_walks(&rc, Scope::Main),
        ),
        ("service", both_create_walks(&service, Scope::Main)),
        ("node", both_create_walks(&node, Scope::Main)),
        ("endpoints", both_create_walks(&endpoints, Scope::Main)),
        ("event", both_create_walks(&event, Scope::Main)),
        ("lease", both_create_walks(&lease, Scope::Main)),
        ("namespace", both_create_walks(&namespace, Scope::Main)),
    ];
    for (what, (json, typed)) in cases {
        // Byte for byte (FieldsV1 equality is that of JSON values).
        assert_eq!(texts(&typed), texts(&json), "{what}");
        assert_eq!(typed, json, "{what}");
    }
    // The walk sees what a rich pod sets (a spot check that the table compares something).
    let (entry, _) = both_create_walks(&pod, Scope::Main);
    let fields = entry[0].fields_v1.as_ref().unwrap().as_str();
    for want in [
        r#""k:{\"containerPort\":8080}":{".":{}"#,
        r#""f:labels":{".":{},"f:a":{},"f:b":{}}"#,
        r#""v:\"f/a\"":{}"#,
    ] {
        assert!(fields.contains(want), "{want} not in {fields}");
    }
}

#[test]
fn the_typed_create_walk_gives_up_on_what_it_does_not_model_and_the_json_walk_answers() {
    #[derive(serde::Serialize)]
    enum Probe {
        Exec(Vec<String>),
    }
    #[derive(serde::Serialize)]
    struct Odd {
        spec: Probe,
        metadata: Value,
    }
    let new = Odd {
        spec: Probe::Exec(vec!["true".into()]),
        metadata: json!({"labels": {"a": "b"}}),
    };
    let schema = pod();
    let old = json!({"metadata": {}});
    assert!(typed::created_fields(&old, &new, walk::Ty::root(schema), Scope::Main).is_err());
    let op = create_op(Scope::Main);
    let got = record_create(&[], &old, &new, schema, &op).unwrap();
    let json = serde_json::to_value(&new).unwrap();
    assert_eq!(got, record_update(&[], &[], old, json, schema, &op));
    assert_eq!(
        got[0].fields_v1.as_ref().unwrap().as_str(),
        r#"{"f:metadata":{"f:labels":{".":{},"f:a":{}}},"f:spec":{".":{},"f:Exec":{}}}"#
    );
}
