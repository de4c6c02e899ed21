use super::paths::{PathKind, ServedOperation};
use super::protobuf::{decode, encode_document, field_bytes, WireValue};
use super::*;
use crate::object::ResourceKind;

/// What the server serves, as its verbs table gives it (a stand-in for the runtime's list).
fn served() -> Vec<ServedOperation> {
    let mut out = Vec::new();
    for resource in ResourceKind::ALL {
        let mut add = |path, methods: &[&'static str]| {
            for method in methods {
                out.push(ServedOperation {
                    resource,
                    path,
                    method,
                });
            }
        };
        add(PathKind::Collection, &["GET", "POST"]);
        if resource != ResourceKind::Namespaces {
            add(PathKind::Collection, &["DELETE"]);
        }
        add(PathKind::AllNamespaces, &["GET"]);
        add(PathKind::Item, &["GET", "PUT", "PATCH", "DELETE"]);
        if resource == ResourceKind::Pods {
            add(PathKind::Status, &["GET", "PUT", "PATCH"]);
            add(PathKind::Binding, &["POST"]);
        }
        if resource == ResourceKind::ReplicationControllers {
            add(PathKind::Scale, &["GET", "PUT", "PATCH"]);
        }
    }
    out
}

#[test]
fn definitions_have_kubernetes_names_and_gvks() {
    let defs = schemas::definitions();
    // (definition, group, version, kind)
    let cases = [
        ("io.k8s.api.core.v1.Pod", "", "v1", "Pod"),
        ("io.k8s.api.core.v1.PodList", "", "v1", "PodList"),
        (
            "io.k8s.api.core.v1.ReplicationController",
            "",
            "v1",
            "ReplicationController",
        ),
        ("io.k8s.api.core.v1.Service", "", "v1", "Service"),
        ("io.k8s.api.core.v1.Endpoints", "", "v1", "Endpoints"),
        ("io.k8s.api.core.v1.Node", "", "v1", "Node"),
        ("io.k8s.api.core.v1.NodeList", "", "v1", "NodeList"),
        ("io.k8s.api.core.v1.Event", "", "v1", "Event"),
        (
            "io.k8s.api.coordination.v1.Lease",
            "coordination.k8s.io",
            "v1",
            "Lease",
        ),
        (
            "io.k8s.api.coordination.v1.LeaseList",
            "coordination.k8s.io",
            "v1",
            "LeaseList",
        ),
        (
            "io.k8s.api.autoscaling.v1.Scale",
            "autoscaling",
            "v1",
            "Scale",
        ),
        ("io.k8s.api.core.v1.Binding", "", "v1", "Binding"),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            "",
            "v1",
            "Status",
        ),
    ];
    for (name, group, version, kind) in cases {
        let gvk = defs
            .get(name)
            .and_then(|d| d.get(schemas::GVK_EXTENSION))
            .unwrap_or_else(|| panic!("{name}: no definition with a GVK"));
        assert_eq!(
            gvk,
            &json!([{"group": group, "version": version, "kind": kind}]),
            "{name}"
        );
    }
    for name in [
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        "io.k8s.api.core.v1.Container",
        "io.k8s.api.core.v1.HTTPGetAction",
        "io.k8s.api.core.v1.PodTemplateSpec",
    ] {
        let def = defs.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(def.get(schemas::GVK_EXTENSION).is_none(), "{name}");
    }
    // Every $ref resolves.
    let mut refs = Vec::new();
    collect_refs(&Value::Object(openapi3_schemas(defs.clone())), &mut refs);
    for r in refs {
        assert!(defs.contains_key(&r), "dangling ref {r}");
    }
}

#[test]
fn fields_carry_merge_keys_required_and_kubernetes_types() {
    let defs = schemas::definitions();
    let prop = |def: &str, field: &str| -> Value {
        defs.get(def)
            .and_then(|d| d.pointer(&format!("/properties/{field}")))
            .cloned()
            .unwrap_or_else(|| panic!("{def}.{field} missing"))
    };
    // (definition, field, merge key, strategy)
    let merge = [
        (
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            Some("name"),
            "merge",
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "volumes",
            Some("name"),
            "merge,retainKeys",
        ),
        (
            "io.k8s.api.core.v1.Container",
            "ports",
            Some("containerPort"),
            "merge",
        ),
        ("io.k8s.api.core.v1.Container", "env", Some("name"), "merge"),
        (
            "io.k8s.api.core.v1.Container",
            "volumeMounts",
            Some("mountPath"),
            "merge",
        ),
        (
            "io.k8s.api.core.v1.PodStatus",
            "conditions",
            Some("type"),
            "merge",
        ),
        (
            "io.k8s.api.core.v1.NodeStatus",
            "addresses",
            Some("type"),
            "merge",
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
            None,
            "merge",
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "ownerReferences",
            Some("uid"),
            "merge",
        ),
    ];
    for (def, field, key, strategy) in merge {
        let p = prop(def, field);
        assert_eq!(
            p.get("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str),
            key,
            "{def}.{field}"
        );
        assert_eq!(p["x-kubernetes-patch-strategy"], strategy, "{def}.{field}");
    }
    assert!(prop("io.k8s.api.core.v1.Container", "args")
        .get("x-kubernetes-patch-strategy")
        .is_none());
    // (definition, required)
    let required: [(&str, &[&str]); 5] = [
        ("io.k8s.api.core.v1.PodSpec", &["containers"]),
        ("io.k8s.api.core.v1.Container", &["name"]),
        ("io.k8s.api.core.v1.ContainerPort", &["containerPort"]),
        ("io.k8s.api.core.v1.PodList", &["items"]),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
            &["apiVersion", "kind", "name", "uid"],
        ),
    ];
    for (def, want) in required {
        assert_eq!(defs[def]["required"], json!(want), "{def}");
    }
    assert!(defs["io.k8s.api.core.v1.Pod"].get("required").is_none());
    // Custom types and optional fields.
    assert_eq!(
        defs[schemas::INT_OR_STRING],
        json!({"description": "IntOrString is a type that can hold an int32 or a string.",
               "type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true})
    );
    assert_eq!(defs[schemas::QUANTITY]["type"], "string");
    for time in ["Time", "MicroTime"] {
        let def = &defs[&format!("io.k8s.apimachinery.pkg.apis.meta.v1.{time}")];
        assert_eq!(
            (&def["type"], &def["format"]),
            (&json!("string"), &json!("date-time"))
        );
    }
    let cases = [
        (
            "io.k8s.api.core.v1.ServicePort",
            "targetPort",
            json!({"$ref": format!("#/definitions/{}", schemas::INT_OR_STRING)}),
        ),
        (
            "io.k8s.api.core.v1.ServicePort",
            "port",
            json!({"type": "integer", "format": "int32"}),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "deletionGracePeriodSeconds",
            json!({"type": "integer", "format": "int64"}),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "labels",
            json!({"type": "object", "additionalProperties": {"type": "string"}}),
        ),
        (
            "io.k8s.api.core.v1.ResourceRequirements",
            "limits",
            json!({"type": "object", "additionalProperties": {"$ref": format!("#/definitions/{}", schemas::QUANTITY)}}),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "creationTimestamp",
            json!({"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}),
        ),
        (
            "io.k8s.api.core.v1.ContainerStateTerminated",
            "finishedAt",
            json!({"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time"}),
        ),
        (
            "io.k8s.api.coordination.v1.LeaseSpec",
            "renewTime",
            json!({"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"}),
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            "propagationPolicy",
            json!({"type": "string", "enum": ["Orphan", "Background", "Foreground"]}),
        ),
    ];
    for (def, field, want) in cases {
        let mut got = prop(def, field);
        if let Value::Object(m) = &mut got {
            m.remove("description");
        }
        assert_eq!(got, want, "{def}.{field}");
    }
}

#[test]
fn operations_are_named_and_tagged_as_kubernetes_does() {
    let doc = swagger(&served());
    // (path, method, operationId, action, GVK kind, a parameter it must have)
    let cases = [
        (
            "/api/v1/namespaces/{namespace}/pods",
            "get",
            "listCoreV1NamespacedPod",
            "list",
            "Pod",
            "continue",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods",
            "post",
            "createCoreV1NamespacedPod",
            "post",
            "Pod",
            "fieldValidation",
        ),
        (
            "/api/v1/pods",
            "get",
            "listCoreV1PodForAllNamespaces",
            "list",
            "Pod",
            "watch",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}",
            "patch",
            "patchCoreV1NamespacedPod",
            "patch",
            "Pod",
            "force",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}",
            "put",
            "replaceCoreV1NamespacedPod",
            "put",
            "Pod",
            "dryRun",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}",
            "delete",
            "deleteCoreV1NamespacedPod",
            "delete",
            "Pod",
            "propagationPolicy",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods",
            "delete",
            "deleteCoreV1CollectionNamespacedPod",
            "deletecollection",
            "Pod",
            "labelSelector",
        ),
        (
            "/api/v1/nodes",
            "delete",
            "deleteCoreV1CollectionNode",
            "deletecollection",
            "Node",
            "gracePeriodSeconds",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/status",
            "patch",
            "patchCoreV1NamespacedPodStatus",
            "patch",
            "Pod",
            "fieldValidation",
        ),
        (
            "/api/v1/namespaces/{namespace}/pods/{name}/binding",
            "post",
            "createCoreV1NamespacedPodBinding",
            "post",
            "Binding",
            "dryRun",
        ),
        (
            "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale",
            "patch",
            "patchCoreV1NamespacedReplicationControllerScale",
            "patch",
            "Scale",
            "fieldManager",
        ),
        (
            "/api/v1/nodes/{name}",
            "get",
            "readCoreV1Node",
            "get",
            "Node",
            "",
        ),
        (
            "/api/v1/nodes",
            "get",
            "listCoreV1Node",
            "list",
            "Node",
            "labelSelector",
        ),
        (
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
            "patch",
            "patchCoordinationV1NamespacedLease",
            "patch",
            "Lease",
            "fieldValidation",
        ),
    ];
    for (path, method, id, action, kind, param) in cases {
        let op = &doc["paths"][path][method];
        assert_eq!(op["operationId"], id, "{path} {method}");
        assert_eq!(op["x-kubernetes-action"], action, "{path} {method}");
        assert_eq!(op[schemas::GVK_EXTENSION]["kind"], kind, "{path} {method}");
        if !param.is_empty() {
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            assert!(names.contains(&param), "{path} {method}: {names:?}");
        }
    }
    assert!(doc["paths"].get("/api/v1/nodes/{name}/scale").is_none());
    assert_eq!(
        doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["parameters"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn openapi3_documents_per_group_version() {
    let docs = openapi3_documents(&served());
    assert_eq!(
        docs.keys().collect::<Vec<_>>(),
        ["api/v1", "apis/coordination.k8s.io/v1"]
    );
    let core = &docs["api/v1"];
    assert_eq!(core["openapi"], "3.0.0");
    let schemas = &core["components"]["schemas"];
    for name in [
        "io.k8s.api.core.v1.Pod",
        "io.k8s.api.core.v1.PodList",
        "io.k8s.api.autoscaling.v1.Scale",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    ] {
        assert!(schemas.get(name).is_some(), "{name}");
    }
    assert!(schemas.get("io.k8s.api.coordination.v1.Lease").is_none());
    // A $ref with a description is wrapped in allOf.
    assert_eq!(
        schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["allOf"],
        json!([{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}])
    );
    let patch = &core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert_eq!(
        patch[schemas::GVK_EXTENSION],
        json!({"group": "", "version": "v1", "kind": "Pod"})
    );
    assert!(patch["requestBody"]["content"]
        .get("application/apply-patch+yaml")
        .is_some());
    let lease = &docs["apis/coordination.k8s.io/v1"]["components"]["schemas"];
    assert!(lease.get("io.k8s.api.coordination.v1.LeaseList").is_some());
    let mut refs = Vec::new();
    for doc in docs.values() {
        collect_refs(doc, &mut refs);
        for r in &refs {
            assert!(
                doc["components"]["schemas"].get(r).is_some(),
                "dangling {r}"
            );
        }
        refs.clear();
    }
    let with_hashes: BTreeMap<String, String> =
        docs.into_keys().map(|k| (k, "AB".to_string())).collect();
    assert_eq!(
        openapi3_index(&with_hashes)["paths"]["api/v1"]["serverRelativeURL"],
        "/openapi/v3/api/v1?hash=AB"
    );
}

fn decoded_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("<not utf-8>")
}

/// The `value` (field 2) of the `Named…` entry called `name` among the `field` entries.
fn named<'a>(msg: &'a [u8], field: u32, name: &str) -> Option<&'a [u8]> {
    let fields = decode(msg).ok()?;
    field_bytes(&fields, field).into_iter().find_map(|entry| {
        let e = decode(entry).ok()?;
        let n = field_bytes(&e, 1);
        (n.first().map(|b| decoded_str(b)) == Some(name))
            .then(|| field_bytes(&e, 2).first().copied())
            .flatten()
    })
}

#[test]
fn protobuf_encoding_of_a_small_document_is_exact() {
    let doc = json!({"swagger": "2.0", "info": {"title": "T", "version": "1"}});
    let got = encode_document(&doc).expect("encodes");
    // field 1 "2.0"; field 2 Info {1 "T", 2 "1"}
    let want = [
        0x0a, 3, b'2', b'.', b'0', 0x12, 6, 0x0a, 1, b'T', 0x12, 1, b'1',
    ];
    assert_eq!(got, want);
    let schema = json!({"type": "integer", "format": "int32", "minimum": 1.5, "additionalProperties": false, "x-a": [1]});
    let got = protobuf::encode_schema(schema.as_object().expect("object")).expect("encodes");
    let fields = decode(&got).expect("decodes");
    assert!(fields.contains(&(9, WireValue::Fixed64(1.5f64.to_bits()))));
    assert_eq!(field_bytes(&fields, 2), [b"int32".as_slice()]);
    assert_eq!(field_bytes(&fields, 21), [[0x10, 0].as_slice()]);
    assert_eq!(
        field_bytes(&fields, 22),
        [[0x0a, 7, b'i', b'n', b't', b'e', b'g', b'e', b'r'].as_slice()]
    );
    // NamedAny { name "x-a", Any { yaml "[1]" } }
    assert_eq!(
        field_bytes(&fields, 31),
        [[0x0a, 3, b'x', b'-', b'a', 0x12, 5, 0x12, 3, b'[', b'1', b']'].as_slice()]
    );
    let bad = json!({"swagger": "2.0", "bogus": 1});
    assert_eq!(
        encode_document(&bad).map_err(|e| e.path),
        Err("$.bogus".to_string())
    );
}

#[test]
fn protobuf_document_decodes_to_the_json_one() {
    let doc = swagger(&served());
    let bytes = encode_document(&doc).expect("the whole document encodes");
    let defs = decode(&bytes)
        .ok()
        .and_then(|f| field_bytes(&f, 9).first().copied())
        .expect("definitions");
    // Every definition is there, by name.
    let names: Vec<String> = decode(defs)
        .map(|f| {
            field_bytes(&f, 1)
                .into_iter()
                .filter_map(|e| decode(e).ok())
                .filter_map(|e| {
                    field_bytes(&e, 1)
                        .first()
                        .map(|b| decoded_str(b).to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<String> = doc["definitions"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(names, want);
    // Pod's GVK extension: Schema.vendor_extension (31) NamedAny, Any.yaml (2) is the JSON.
    let pod = named(defs, 1, "io.k8s.api.core.v1.Pod").expect("Pod");
    let ext = named(pod, 31, schemas::GVK_EXTENSION).expect("GVK");
    let yaml = decode(ext)
        .ok()
        .and_then(|f| field_bytes(&f, 2).first().copied())
        .map(decoded_str)
        .map(str::to_string);
    assert_eq!(
        yaml.and_then(|y| serde_json::from_str::<Value>(&y).ok()),
        Some(json!([{"group": "", "kind": "Pod", "version": "v1"}]))
    );
    // PodSpec.properties (25) → containers → items (23) → schema (1) → $ref (1).
    let spec = named(defs, 1, "io.k8s.api.core.v1.PodSpec").expect("PodSpec");
    let props = decode(spec)
        .ok()
        .and_then(|f| field_bytes(&f, 25).first().copied())
        .expect("properties");
    let containers = named(props, 1, "containers").expect("containers");
    let items = decode(containers)
        .ok()
        .and_then(|f| field_bytes(&f, 23).first().copied())
        .expect("items");
    let item = decode(items)
        .ok()
        .and_then(|f| field_bytes(&f, 1).first().copied())
        .expect("item schema");
    let r = decode(item).ok().and_then(|f| {
        field_bytes(&f, 1)
            .first()
            .map(|b| decoded_str(b).to_string())
    });
    assert_eq!(
        r.as_deref(),
        Some("#/definitions/io.k8s.api.core.v1.Container")
    );
    // Paths (8) hold the patch operation (8) of a pod with its operationId (5).
    let paths = decode(&bytes)
        .ok()
        .and_then(|f| field_bytes(&f, 8).first().copied())
        .expect("paths");
    let item = named(paths, 2, "/api/v1/namespaces/{namespace}/pods/{name}").expect("path");
    let patch = decode(item)
        .ok()
        .and_then(|f| field_bytes(&f, 8).first().copied())
        .expect("patch");
    let id = decode(patch).ok().and_then(|f| {
        field_bytes(&f, 5)
            .first()
            .map(|b| decoded_str(b).to_string())
    });
    assert_eq!(id.as_deref(), Some("patchCoreV1NamespacedPod"));
}

#[test]
fn content_hash_is_stable_and_discriminating() {
    assert_eq!(content_hash(b""), "CBF29CE484222325");
    assert_eq!(content_hash(b"a"), "AF63DC4C8601EC8C");
    assert_ne!(content_hash(b"ab"), content_hash(b"ba"));
}

/// A wire type of shapes the served kinds do not have yet: any JSON, a field called `default`,
/// an untagged enum of two shapes, an unsigned integer.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Odd {
    /// Any JSON.
    fields_v1: Option<serde_json::Value>,
    /// A field named like a keyword.
    default: String,
    /// Two shapes.
    either: Option<Either>,
    /// Unsigned.
    count: u32,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Either {
    Number(i64),
    Words(Vec<String>),
}

#[test]
fn new_shapes_normalize_to_what_the_encoding_takes() {
    let mut generator = schemars::generate::SchemaSettings::draft07()
        .with(|s| {
            s.meta_schema = None;
            s.transforms = Vec::new();
        })
        .into_generator();
    let mut schema = generator.root_schema_for::<Odd>().to_value();
    let mut either = schema
        .as_object_mut()
        .and_then(|m| m.remove("definitions"))
        .and_then(|mut d| d.get_mut("Either").map(Value::take))
        .expect("Either's definition");
    schemas::normalize(&mut schema);
    schemas::normalize(&mut either);
    if let Value::Object(m) = &mut either {
        m.remove("description");
    }
    // Several shapes: any value.
    assert_eq!(either, json!({}));
    let props = &schema["properties"];
    // (field, normalized schema without its description)
    let cases = [
        ("fieldsV1", json!({})),
        ("default", json!({"type": "string"})),
        ("either", json!({"$ref": "#/definitions/Either"})),
        ("count", json!({"type": "integer", "format": "int32"})),
    ];
    for (field, want) in cases {
        let mut got = props[field].clone();
        if let Value::Object(m) = &mut got {
            m.remove("description");
        }
        assert_eq!(got, want, "{field}");
    }
    assert!(schema.get("title").is_none());
    let encoded = protobuf::encode_schema(schema.as_object().expect("object"));
    assert!(encoded.is_ok(), "{encoded:?}");
}
