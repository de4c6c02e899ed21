//! Strategic merge patch cases: the behaviour Kubernetes documents for each directive
//! ("Update API Objects in Place Using kubectl patch", the strategic-merge-patch design
//! documents) and its apimachinery test tables, on a test schema and on the built-in kinds.

use super::schema::{merge_by, merge_set, nested};
use super::*;
use serde_json::json;

/// A test schema in the shape of apimachinery's `MergeItem`.
const ITEM: &[Field] = &[
    merge_by("mergingList", "name", &[]),
    merge_set("mergingIntList"),
    nested("simpleMap", &[]),
];
const TEST: &[Field] = &[
    merge_by("mergingList", "name", ITEM),
    merge_set("mergingIntList"),
    Field {
        strategy: PatchStrategy::Replace,
        ..nested("replacingItem", &[])
    },
    Field {
        retain_keys: true,
        ..nested("retainKeysMap", ITEM)
    },
];

fn run(schema: &[Field], cases: &[(&str, Value, Value, Value)]) {
    for (name, original, patch, want) in cases {
        let mut doc = original.clone();
        match super::apply(&mut doc, patch, schema) {
            Ok(()) => assert_eq!(&doc, want, "{name}"),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn maps_merge_and_null_removes() {
    run(
        TEST,
        &[
            (
                "add, change and remove keys",
                json!({"simpleMap": {"a": "1", "b": "2"}, "keep": 1}),
                json!({"simpleMap": {"b": "3", "a": null, "c": "4"}}),
                json!({"simpleMap": {"b": "3", "c": "4"}, "keep": 1}),
            ),
            (
                "null for a missing key changes nothing",
                json!({"a": 1}),
                json!({"b": null}),
                json!({"a": 1}),
            ),
            (
                "nulls inside a new map are dropped",
                json!({}),
                json!({"simpleMap": {"a": "1", "b": null}}),
                json!({"simpleMap": {"a": "1"}}),
            ),
            (
                "a value of another type replaces",
                json!({"simpleMap": "x"}),
                json!({"simpleMap": {"a": "1"}}),
                json!({"simpleMap": {"a": "1"}}),
            ),
            (
                "lists without a strategy are replaced",
                json!({"nonMergingList": [{"name": "1"}, {"name": "2"}]}),
                json!({"nonMergingList": [{"name": "3"}]}),
                json!({"nonMergingList": [{"name": "3"}]}),
            ),
            (
                "patchStrategy replace replaces a map whole",
                json!({"replacingItem": {"a": 1, "b": 2}}),
                json!({"replacingItem": {"c": 3}}),
                json!({"replacingItem": {"c": 3}}),
            ),
        ],
    );
}

#[test]
fn map_directives() {
    run(
        TEST,
        &[
            (
                "$patch: delete empties a nested map",
                json!({"simpleMap": {"key1": 1, "key2": 1}}),
                json!({"simpleMap": {"$patch": "delete"}}),
                json!({"simpleMap": {}}),
            ),
            (
                "$patch: replace at the top deletes every key",
                json!({"name": 1, "value": 1}),
                json!({"$patch": "replace"}),
                json!({}),
            ),
            (
                "$patch: replace with a key keeps only it",
                json!({"name": 1, "value": 1}),
                json!({"other": "a", "$patch": "replace"}),
                json!({"other": "a"}),
            ),
            (
                "$patch: merge is the default",
                json!({"simpleMap": {"a": "1"}}),
                json!({"simpleMap": {"$patch": "merge", "b": "2"}}),
                json!({"simpleMap": {"a": "1", "b": "2"}}),
            ),
            (
                "$retainKeys clears the keys it does not list",
                json!({"retainKeysMap": {"name": "foo", "value": "a", "other": "o"}}),
                json!({"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "b"}}),
                json!({"retainKeysMap": {"name": "foo", "value": "b"}}),
            ),
            (
                "$retainKeys may list keys the object lacks",
                json!({"retainKeysMap": {"name": "foo"}}),
                json!({"retainKeysMap": {"$retainKeys": ["value"], "value": "v"}}),
                json!({"retainKeysMap": {"value": "v"}}),
            ),
            (
                "a map without $retainKeys merges as usual",
                json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
                json!({"retainKeysMap": {}}),
                json!({"retainKeysMap": {"name": "foo", "value": "a"}}),
            ),
        ],
    );
}

#[test]
fn lists_merged_by_key() {
    run(
        TEST,
        &[
            (
                "an element merges into its match, the others stay",
                json!({"mergingList": [{"name": "1", "value": "a"}, {"name": "2", "value": "b"}]}),
                json!({"mergingList": [{"name": "2", "value": "c", "other": "x"}]}),
                json!({"mergingList": [{"name": "1", "value": "a"}, {"name": "2", "value": "c", "other": "x"}]}),
            ),
            (
                "a new element comes first (the order kubectl patch documents)",
                json!({"mergingList": [{"name": "1"}, {"name": "2"}]}),
                json!({"mergingList": [{"name": "3"}]}),
                json!({"mergingList": [{"name": "3"}, {"name": "1"}, {"name": "2"}]}),
            ),
            (
                "the patch's order wins among its elements",
                json!({"mergingList": [{"name": "1"}, {"name": "2", "value": "b"}, {"name": "3"}]}),
                json!({"mergingList": [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}, {"name": "2", "other": "x"}]}),
                json!({"mergingList": [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}, {"name": "2", "value": "b", "other": "x"}]}),
            ),
            (
                "server-only elements keep their place",
                json!({"mergingList": [{"name": "1"}, {"name": "2", "value": "b"}, {"name": "3"}]}),
                json!({"mergingList": [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}]}),
                json!({"mergingList": [{"name": "2", "value": "b"}, {"name": "3", "value": "c"}, {"name": "1", "value": "a"}]}),
            ),
            (
                "$patch: delete removes every match",
                json!({"mergingList": [{"name": "1"}, {"name": "1"}, {"name": "2", "value": "a"}, {"name": "3"}, {"name": "3"}]}),
                json!({"mergingList": [{"name": "1", "$patch": "delete"}, {"name": "3", "$patch": "delete"}]}),
                json!({"mergingList": [{"name": "2", "value": "a"}]}),
            ),
            (
                "$patch: replace alone empties the list",
                json!({"mergingList": [{"name": "1"}, {"name": "2"}]}),
                json!({"mergingList": [{"$patch": "replace"}]}),
                json!({"mergingList": []}),
            ),
            (
                "$patch: replace with elements makes them the list",
                json!({"mergingList": [{"name": "1", "value": "a"}, {"name": "2"}]}),
                json!({"mergingList": [{"name": "1"}, {"$patch": "replace"}]}),
                json!({"mergingList": [{"name": "1"}]}),
            ),
            (
                "empty lists merge to an empty list",
                json!({"mergingList": []}),
                json!({"mergingList": []}),
                json!({"mergingList": []}),
            ),
            (
                "nested merged lists merge too",
                json!({"mergingList": [{"name": "1", "mergingList": [{"name": "a", "value": "x"}]}]}),
                json!({"mergingList": [{"name": "1", "mergingList": [{"name": "b"}]}]}),
                json!({"mergingList": [{"name": "1", "mergingList": [{"name": "b"}, {"name": "a", "value": "x"}]}]}),
            ),
            (
                "a list the object lacks is taken, its directives resolved",
                json!({}),
                json!({"mergingList": [{"name": "1", "simpleMap": {"a": "1", "b": null}}, {"name": "2", "$patch": "delete"}]}),
                json!({"mergingList": [{"name": "1", "simpleMap": {"a": "1"}}]}),
            ),
        ],
    );
}

#[test]
fn lists_of_primitives_merge_as_sets() {
    run(
        TEST,
        &[
            (
                "unique values when merging",
                json!({"mergingIntList": [1, 2]}),
                json!({"mergingIntList": [2, 3]}),
                json!({"mergingIntList": [1, 2, 3]}),
            ),
            (
                "numbers are compared by value",
                json!({"mergingIntList": [80]}),
                json!({"mergingIntList": [80.0]}),
                json!({"mergingIntList": [80]}),
            ),
            (
                "the patch's order wins",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"mergingIntList": [3, 1, 2]}),
                json!({"mergingIntList": [3, 1, 2]}),
            ),
            (
                "server-only values keep their place",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"mergingIntList": [3, 1]}),
                json!({"mergingIntList": [2, 3, 1]}),
            ),
            (
                "$deleteFromPrimitiveList removes values",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [1, 3, 9]}),
                json!({"mergingIntList": [2]}),
            ),
            (
                "$deleteFromPrimitiveList on a missing list does nothing",
                json!({"a": 1}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [1]}),
                json!({"a": 1}),
            ),
            (
                "delete and add in one patch",
                json!({"mergingIntList": [1, 2]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [1], "mergingIntList": [4]}),
                json!({"mergingIntList": [4, 2]}),
            ),
        ],
    );
}

#[test]
fn set_element_order() {
    run(
        TEST,
        &[
            (
                "reorders without changing contents",
                json!({"mergingList": [{"name": "1"}, {"name": "2"}, {"name": "3"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "3"}, {"name": "1"}, {"name": "2"}]}),
                json!({"mergingList": [{"name": "3"}, {"name": "1"}, {"name": "2"}]}),
            ),
            (
                "names elements absent from the list",
                json!({"mergingList": [{"name": "1"}, {"name": "3"}]}),
                json!({
                    "$setElementOrder/mergingList": [{"name": "3"}, {"name": "2"}, {"name": "1"}],
                    "mergingList": [{"name": "3", "value": "3"}, {"name": "1", "value": "1"}]
                }),
                json!({"mergingList": [{"name": "3", "value": "3"}, {"name": "1", "value": "1"}]}),
            ),
            (
                "orders an added element and keeps server-only ones in place",
                json!({"mergingList": [{"name": "a"}, {"name": "s"}, {"name": "b"}]}),
                json!({
                    "$setElementOrder/mergingList": [{"name": "b"}, {"name": "n"}, {"name": "a"}],
                    "mergingList": [{"name": "n"}]
                }),
                json!({"mergingList": [{"name": "s"}, {"name": "b"}, {"name": "n"}, {"name": "a"}]}),
            ),
            (
                "a deleted element may be left out of the order",
                json!({"mergingList": [{"name": "1"}, {"name": "2"}, {"name": "3"}]}),
                json!({
                    "$setElementOrder/mergingList": [{"name": "3"}, {"name": "1"}],
                    "mergingList": [{"name": "2", "$patch": "delete"}]
                }),
                json!({"mergingList": [{"name": "3"}, {"name": "1"}]}),
            ),
            (
                "orders primitives",
                json!({"mergingIntList": [1, 3]}),
                json!({"$setElementOrder/mergingIntList": [3, 2, 1]}),
                json!({"mergingIntList": [3, 1]}),
            ),
        ],
    );
}

#[test]
fn malformed_patches_are_typed_errors_and_change_nothing() {
    let original = json!({
        "mergingList": [{"name": "1"}, {"name": "3"}, {"name": "2"}],
        "mergingIntList": [1],
        "nonMergingList": [{"name": "1"}],
        "simpleMap": {"a": "1"}
    });
    type Check = fn(&StrategicMergeError) -> bool;
    let cases: [(&str, Value, Check); 14] = [
        ("a patch that is not an object", json!([1]), |e| {
            matches!(e, StrategicMergeError::BadShape { .. })
        }),
        (
            "an unknown $patch",
            json!({"simpleMap": {"$patch": "explode"}}),
            |e| matches!(e, StrategicMergeError::UnknownDirective { path, .. } if path == "simpleMap"),
        ),
        ("an unknown $ key", json!({"$frobnicate": 1}), |e| {
            matches!(e, StrategicMergeError::UnknownDirective { .. })
        }),
        (
            "an unknown $patch in a list",
            json!({"mergingList": [{"name": "1", "$patch": "zap"}]}),
            |e| matches!(e, StrategicMergeError::UnknownDirective { .. }),
        ),
        (
            "an element without its merge key",
            json!({"mergingList": [{"value": "x"}]}),
            |e| matches!(e, StrategicMergeError::MissingMergeKey { key: "name", .. }),
        ),
        (
            "a delete without its merge key",
            json!({"mergingList": [{"$patch": "delete"}]}),
            |e| matches!(e, StrategicMergeError::MissingMergeKey { .. }),
        ),
        ("mixed element types", json!({"mergingList": [1]}), |e| {
            matches!(e, StrategicMergeError::BadShape { .. })
        }),
        ("a list of lists", json!({"mergingIntList": [[1]]}), |e| {
            matches!(e, StrategicMergeError::BadShape { .. })
        }),
        (
            "$retainKeys that is not a list",
            json!({"simpleMap": {"$retainKeys": "a"}}),
            |e| matches!(e, StrategicMergeError::BadShape { .. }),
        ),
        (
            "a key $retainKeys does not list",
            json!({"simpleMap": {"$retainKeys": ["a"], "b": "2"}}),
            |e| matches!(e, StrategicMergeError::NotRetained { key, .. } if key == "b"),
        ),
        (
            "a patch list out of $setElementOrder's order",
            json!({
                "$setElementOrder/mergingList": [{"name": "1"}, {"name": "2"}, {"name": "3"}],
                "mergingList": [{"name": "3", "value": "3"}, {"name": "1", "value": "1"}]
            }),
            |e| matches!(e, StrategicMergeError::OrderMismatch { .. }),
        ),
        (
            "$setElementOrder on a list that is not merged",
            json!({"$setElementOrder/nonMergingList": [{"name": "1"}]}),
            |e| matches!(e, StrategicMergeError::NotAMergedList { .. }),
        ),
        (
            "$deleteFromPrimitiveList on a list merged by key",
            json!({"$deleteFromPrimitiveList/mergingList": ["1"]}),
            |e| matches!(e, StrategicMergeError::NotAMergedList { .. }),
        ),
        (
            "$deleteFromPrimitiveList that is not a list",
            json!({"$deleteFromPrimitiveList/mergingIntList": 1}),
            |e| matches!(e, StrategicMergeError::BadShape { .. }),
        ),
    ];
    for (name, patch, check) in cases {
        let mut doc = original.clone();
        let e = super::apply(&mut doc, &patch, TEST).expect_err(name);
        assert!(check(&e), "{name}: {e:?}");
        assert_eq!(doc, original, "{name} changed the document");
    }
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["a.io/x", "b.io/y"]},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}],
                 "env": [{"name": "A", "value": "1"}]},
                {"name": "side", "image": "busybox"}
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "tolerations": [{"key": "a"}]
        },
        "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}
    })
}

#[test]
fn pods_merge_as_kubernetes_merges_them() {
    let schema = schema_for_kind("Pod");
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "change one container's image, keep the other",
            json!({"spec": {"containers": [{"name": "side", "image": "busybox:1.37"}]}}),
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}], "env": [{"name": "A", "value": "1"}]},
                   {"name": "side", "image": "busybox:1.37"}]),
        ),
        (
            "add a port and an env var by their keys",
            json!({"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 443}], "env": [{"name": "A", "value": "2"}]}]}}),
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 443}, {"containerPort": 80}], "env": [{"name": "A", "value": "2"}]},
                   {"name": "side", "image": "busybox"}]),
        ),
        (
            "delete a container",
            json!({"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}),
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}], "env": [{"name": "A", "value": "1"}]}]),
        ),
        (
            "reorder containers",
            json!({"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "web"}]}}),
            json!([{"name": "side", "image": "busybox"},
                   {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}], "env": [{"name": "A", "value": "1"}]}]),
        ),
    ];
    for (name, patch, want) in cases {
        let mut doc = pod();
        super::apply(&mut doc, &patch, schema).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc["spec"]["containers"], want, "{name}");
        assert_eq!(doc["metadata"], pod()["metadata"], "{name}");
    }

    // Tolerations have no merge key: the list is replaced (kubectl patch's documented example).
    let mut doc = pod();
    let p = json!({"spec": {"tolerations": [{"key": "b"}]}});
    super::apply(&mut doc, &p, schema).unwrap();
    assert_eq!(doc["spec"]["tolerations"], json!([{"key": "b"}]));

    // Finalizers: a set; conditions: by type.
    let mut doc = pod();
    let p = json!({
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"], "finalizers": ["c.io/z"], "labels": {"app": null, "tier": "fe"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}
    });
    super::apply(&mut doc, &p, schema).unwrap();
    assert_eq!(doc["metadata"]["finalizers"], json!(["c.io/z", "b.io/y"]));
    assert_eq!(doc["metadata"]["labels"], json!({"tier": "fe"}));
    assert_eq!(
        doc["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}])
    );
}

#[test]
fn replication_controllers_merge_their_pod_template() {
    let mut rc =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "y"}]}}}});
    super::apply(&mut rc, &p, schema_for_kind("ReplicationController")).unwrap();
    assert_eq!(
        rc["spec"]["template"]["spec"]["containers"],
        json!([{"name": "b", "image": "y"}, {"name": "a", "image": "x"}])
    );
    // The same patch on a kind that does not describe the field replaces the list.
    let mut other = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}});
    super::apply(&mut other, &p, schema_for_kind("Endpoints")).unwrap();
    assert_eq!(
        other["spec"]["template"]["spec"]["containers"],
        json!([{"name": "b", "image": "y"}])
    );
}

#[test]
fn patch_fields_list_merge_keys_by_path() {
    let find = |kind: &str, path: &str| {
        patch_fields(kind)
            .into_iter()
            .find(|f| f.path == path)
            .map(|f| (f.merge_key, f.strategy))
    };
    type Want = Option<(Option<&'static str>, &'static str)>;
    let cases: [(&str, &str, Want); 12] = [
        ("Pod", "spec.containers", Some((Some("name"), "merge"))),
        (
            "Pod",
            "spec.containers.ports",
            Some((Some("containerPort"), "merge")),
        ),
        ("Pod", "spec.containers.env", Some((Some("name"), "merge"))),
        (
            "Pod",
            "spec.containers.volumeMounts",
            Some((Some("mountPath"), "merge")),
        ),
        (
            "Pod",
            "spec.volumes",
            Some((Some("name"), "merge,retainKeys")),
        ),
        ("Pod", "status.conditions", Some((Some("type"), "merge"))),
        ("Pod", "metadata.finalizers", Some((None, "merge"))),
        ("Pod", "spec.tolerations", None),
        (
            "ReplicationController",
            "spec.template.spec.initContainers",
            Some((Some("name"), "merge")),
        ),
        ("Service", "spec.ports", Some((Some("port"), "merge"))),
        ("Node", "status.addresses", Some((Some("type"), "merge"))),
        (
            "Endpoints",
            "metadata.ownerReferences",
            Some((Some("uid"), "merge")),
        ),
    ];
    for (kind, path, want) in cases {
        let got = find(kind, path);
        let got = got.as_ref().map(|(k, s)| (*k, s.as_str()));
        assert_eq!(got, want, "{kind} {path}");
    }
    assert!(find("Endpoints", "subsets").is_none(), "subsets are atomic");
}

#[test]
fn long_lists_merge_in_linear_time() {
    // Quadratic matching would take minutes here; hashing keeps it well under a second.
    let n = 20_000;
    let original: Vec<Value> = (0..n).map(|i| json!({"name": format!("e{i}")})).collect();
    let patch: Vec<Value> = (0..n)
        .rev()
        .map(|i| json!({"name": format!("e{}", i + n / 2), "value": "v"}))
        .collect();
    let deleted: Vec<Value> = (0..n).map(|i| json!(i)).collect();
    let mut doc = json!({"mergingList": original, "mergingIntList": (0..n).collect::<Vec<_>>()});
    let p = json!({"mergingList": patch, "$deleteFromPrimitiveList/mergingIntList": deleted});
    super::apply(&mut doc, &p, TEST).unwrap();
    let list = doc["mergingList"].as_array().unwrap();
    assert_eq!(list.len(), n + n / 2);
    // New elements first (in the patch's order), then the server's, the patched ones last
    // (the patch reversed their order).
    assert_eq!(list[0], json!({"name": "e29999", "value": "v"}));
    assert_eq!(list[n / 2], json!({"name": "e0"}));
    assert_eq!(list[n + n / 2 - 1], json!({"name": "e10000", "value": "v"}));
    assert_eq!(doc["mergingIntList"], json!([]));
}
