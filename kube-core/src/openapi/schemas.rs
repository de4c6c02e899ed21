//! The definitions of the OpenAPI documents, generated from the Rust wire types with `schemars`
//! and brought to Kubernetes' shape: Kubernetes' definition names (`#[schemars(rename)]` on each
//! type), no `null` types, `x-kubernetes-group-version-kind` on top-level kinds and their lists,
//! the strategic-merge keys of [`crate::strategic_merge::patch_fields`], and the required
//! fields Kubernetes lists.

use crate::intstr::IntOrString;
use crate::object::ResourceKind;
use crate::quantity::Quantity;
use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// `Quantity`'s definition name.
pub const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/// `IntOrString`'s definition name.
pub const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
/// `ListMeta`'s definition name.
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
/// The definition name of a patch body (any object).
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
/// The extension naming the kinds a definition is the schema of.
pub const GVK_EXTENSION: &str = "x-kubernetes-group-version-kind";

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        QUANTITY.into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Kubernetes publishes `type: string`; clients' validators accept numbers for strings.
        json_schema!({
            "description": "Quantity is a fixed-point representation of a number, e.g. `100m`, `1.5`, `128Mi`.",
            "type": "string",
        })
    }
}

impl JsonSchema for IntOrString {
    fn schema_name() -> Cow<'static, str> {
        INT_OR_STRING.into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "IntOrString is a type that can hold an int32 or a string.",
            "type": "string",
            "format": "int-or-string",
            "x-kubernetes-int-or-string": true,
        })
    }
}

/// `meta.v1.Time` in the documents: timestamps are RFC 3339 strings in the Rust types, and
/// this marker (`#[schemars(with = "Time")]` on each) publishes them as Kubernetes does.
pub struct Time;

impl JsonSchema for Time {
    fn schema_name() -> Cow<'static, str> {
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
            "type": "string",
            "format": "date-time",
        })
    }
}

/// `meta.v1.MicroTime`: an RFC 3339 timestamp with microseconds (leases' times).
pub struct MicroTime;

impl JsonSchema for MicroTime {
    fn schema_name() -> Cow<'static, str> {
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "MicroTime is version of Time with microsecond level precision.",
            "type": "string",
            "format": "date-time",
        })
    }
}

/// A top-level definition: its name and the group, version and kind it is the schema of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindDefinition {
    /// Definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub name: String,
    /// API group, empty for core.
    pub group: String,
    /// API version within the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Pod`.
    pub kind: String,
}

impl KindDefinition {
    pub(crate) fn new(name: Cow<'static, str>, api_version: &str, kind: &str) -> Self {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        KindDefinition {
            name: name.into_owned(),
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The definition name of this kind's list (`io.k8s.api.core.v1.PodList`).
    pub fn list_name(&self) -> String {
        format!("{}List", self.name)
    }

    /// The `x-kubernetes-group-version-kind` entry of this kind (or of its list, `list`).
    pub fn gvk(&self, list: bool) -> Value {
        let kind = if list {
            format!("{}List", self.kind)
        } else {
            self.kind.clone()
        };
        json!({"group": self.group, "kind": kind, "version": self.version})
    }
}

/// The definition of a served resource's kind.
pub fn kind_definition(kind: ResourceKind) -> KindDefinition {
    let info = kind.info();
    let name = crate::with_resource_type!(kind, T => T::schema_name());
    KindDefinition::new(name, info.api_version, info.kind)
}

/// The kinds that are not stored resources but have a definition with a GVK.
pub fn other_kinds() -> Vec<KindDefinition> {
    use crate::scale::{Scale, SCALE_API_VERSION, SCALE_KIND};
    vec![
        KindDefinition::new(Scale::schema_name(), SCALE_API_VERSION, SCALE_KIND),
        KindDefinition::new(crate::Binding::schema_name(), "v1", "Binding"),
        KindDefinition::new(crate::status::Status::schema_name(), "v1", "Status"),
        KindDefinition::new(crate::DeleteOptions::schema_name(), "v1", "DeleteOptions"),
    ]
}

/// Required fields Kubernetes lists that our types leave optional (`#[serde(default)]`,
/// enforced by validation): (definition name suffix, fields). A field is only required when
/// the definition has it.
const REQUIRED: &[(&str, &[&str])] = &[
    ("core.v1.PodSpec", &["containers"]),
    ("core.v1.Container", &["name"]),
    ("core.v1.ContainerPort", &["containerPort"]),
    ("core.v1.EnvVar", &["name"]),
    ("core.v1.Volume", &["name"]),
    ("core.v1.VolumeMount", &["name", "mountPath"]),
    ("core.v1.HostPathVolumeSource", &["path"]),
    ("core.v1.HTTPGetAction", &["port"]),
    ("core.v1.TCPSocketAction", &["port"]),
    ("core.v1.ServicePort", &["port"]),
    ("core.v1.EndpointAddress", &["ip"]),
    ("core.v1.EndpointPort", &["port"]),
    ("core.v1.NodeAddress", &["type", "address"]),
    ("core.v1.NodeCondition", &["type", "status"]),
    ("core.v1.PodCondition", &["type", "status"]),
    ("core.v1.Binding", &["target"]),
    (
        "meta.v1.OwnerReference",
        &["apiVersion", "kind", "name", "uid"],
    ),
];

/// Every definition, keyed by name, with `$ref`s of the form `#/definitions/{name}` (Swagger
/// 2.0; the OpenAPI 3 documents rewrite them).
pub fn definitions() -> Map<String, Value> {
    let settings = SchemaSettings::draft07().with(|s| {
        s.definitions_path = "/definitions".into();
        s.meta_schema = None;
        s.transforms = Vec::new();
    });
    let mut generator = settings.into_generator();
    for kind in ResourceKind::ALL {
        crate::with_resource_type!(kind, T => generator.subschema_for::<T>());
    }
    generator.subschema_for::<crate::scale::Scale>();
    generator.subschema_for::<crate::Binding>();
    generator.subschema_for::<crate::status::Status>();
    generator.subschema_for::<crate::DeleteOptions>();
    generator.subschema_for::<crate::ListMeta>();
    let mut defs = generator.take_definitions(true);
    for def in defs.values_mut() {
        normalize(def);
    }
    defs.insert(
        PATCH.to_string(),
        json!({"description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", "type": "object"}),
    );
    for (suffix, fields) in REQUIRED {
        add_required(&mut defs, suffix, fields);
    }
    for kind in ResourceKind::ALL {
        add_patch_extensions(&mut defs, kind);
        let k = kind_definition(kind);
        set_gvk(&mut defs, &k.name, k.gvk(false));
        let list = list_definition(&k);
        defs.insert(k.list_name(), list);
    }
    for k in other_kinds() {
        set_gvk(&mut defs, &k.name, k.gvk(false));
    }
    defs
}

/// The list kind of `k`: `apiVersion`, `items`, `kind`, `metadata`.
fn list_definition(k: &KindDefinition) -> Value {
    json!({
        "description": format!("{}List is a list of {} objects.", k.kind, k.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object.", "type": "string"},
            "items": {"description": format!("List of {} objects.", k.kind), "type": "array", "items": {"$ref": format!("#/definitions/{}", k.name)}},
            "kind": {"description": "Kind is a string value representing the REST resource this object represents.", "type": "string"},
            "metadata": {"$ref": format!("#/definitions/{LIST_META}"), "description": "Standard list metadata."},
        },
        GVK_EXTENSION: [k.gvk(true)],
    })
}

fn set_gvk(defs: &mut Map<String, Value>, name: &str, gvk: Value) {
    if let Some(Value::Object(def)) = defs.get_mut(name) {
        def.insert(GVK_EXTENSION.to_string(), Value::Array(vec![gvk]));
    }
}

fn add_required(defs: &mut Map<String, Value>, suffix: &str, fields: &[&str]) {
    for (name, def) in defs.iter_mut() {
        if !name.ends_with(suffix) {
            continue;
        }
        let Some(def) = def.as_object_mut() else {
            continue;
        };
        let present: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| def.get("properties").and_then(|p| p.get(f)).is_some())
            .collect();
        let required = def
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = required {
            for f in present {
                if !list.iter().any(|v| v == f) {
                    list.push(Value::String(f.to_string()));
                }
            }
        }
        if def
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            def.remove("required");
        }
    }
}

/// The definition a property schema refers to, directly or as its items'.
fn referenced(prop: &Value) -> Option<String> {
    let r = prop
        .get("$ref")
        .or_else(|| prop.get("items").and_then(|i| i.get("$ref")))?;
    r.as_str()?
        .strip_prefix("#/definitions/")
        .map(str::to_string)
}

/// Sets `x-kubernetes-patch-merge-key`/`-strategy` on every field of `kind` that has them.
fn add_patch_extensions(defs: &mut Map<String, Value>, kind: ResourceKind) {
    let root = kind_definition(kind).name;
    for field in crate::strategic_merge::patch_fields(kind.info().kind) {
        let segs: Vec<&str> = field.path.split('.').collect();
        let Some((last, parents)) = segs.split_last() else {
            continue;
        };
        let mut def_name = Some(root.clone());
        for seg in parents {
            def_name = def_name
                .as_ref()
                .and_then(|d| defs.get(d))
                .and_then(|d| d.get("properties"))
                .and_then(|p| p.get(*seg))
                .and_then(referenced);
        }
        let Some(prop) = def_name
            .as_ref()
            .and_then(|d| defs.get_mut(d))
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*last))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(key) = field.merge_key {
            prop.insert("x-kubernetes-patch-merge-key".into(), key.into());
        }
        prop.insert("x-kubernetes-patch-strategy".into(), field.strategy.into());
    }
}

/// The schema keywords the documents keep (Swagger 2.0's; gnostic's `Schema` has a field for
/// each); vendor extensions (`x-…`) are kept too.
const KEPT: &[&str] = &[
    "$ref",
    "format",
    "description",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "additionalProperties",
    "type",
    "items",
    "allOf",
    "properties",
    "readOnly",
];

/// Brings a schemars schema to the subset Kubernetes' documents use: one `type` (no `null`),
/// no `anyOf` for optional values, string `const` alternatives as an `enum`, Kubernetes'
/// integer formats, `true` (any value) as `{}`, and only the keywords Swagger 2.0 has (so a
/// new wire type cannot produce a document the protobuf encoding refuses). Walks schema
/// positions only: a field called `title` or `default` is kept.
pub(crate) fn normalize(v: &mut Value) {
    if let Value::Bool(_) = v {
        *v = json!({});
        return;
    }
    let Value::Object(map) = v else {
        return;
    };
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        match kept.as_slice() {
            [one] => {
                map.insert("type".into(), one.clone());
            }
            _ => {
                map.remove("type");
            }
        }
    }
    if let Some(c) = map.remove("const") {
        map.insert("enum".into(), Value::Array(vec![c]));
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(alts)) = map.remove(key) else {
            continue;
        };
        let mut alts: Vec<Value> = alts
            .into_iter()
            .filter(|a| a.get("type").is_none_or(|t| t != "null"))
            .collect();
        alts.iter_mut().for_each(normalize);
        let enums: Option<Vec<Value>> = alts
            .iter()
            .map(|a| match a.get("enum") {
                Some(Value::Array(e)) if e.len() == 1 && e[0].is_string() => Some(e[0].clone()),
                _ => None,
            })
            .collect();
        match (alts.len(), enums) {
            (1, _) => {
                if let Some(Value::Object(inner)) = alts.pop() {
                    for (k, val) in inner {
                        map.entry(k).or_insert(val);
                    }
                }
            }
            (n, Some(values)) if n > 1 => {
                map.insert("type".into(), "string".into());
                map.insert("enum".into(), Value::Array(values));
            }
            // Several shapes: left untyped (any value), as Kubernetes does for such fields.
            _ => {}
        }
    }
    if let Some(Value::String(f)) = map.get("format") {
        let f = match f.as_str() {
            "uint8" | "uint16" | "int8" | "int16" | "uint32" => Some("int32"),
            "uint" | "uint64" | "uint128" | "int128" => Some("int64"),
            _ => None,
        };
        if let Some(f) = f {
            map.insert("format".into(), f.into());
        }
    }
    if map.get("type").is_some_and(|t| t == "integer") {
        map.remove("minimum");
        map.remove("maximum");
    }
    map.retain(|k, _| k.starts_with("x-") || KEPT.contains(&k.as_str()));
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        props.values_mut().for_each(normalize);
    }
    if let Some(Value::Array(all)) = map.get_mut("allOf") {
        all.iter_mut().for_each(normalize);
    }
    match map.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().for_each(normalize),
        Some(items) => normalize(items),
        None => {}
    }
    if let Some(extra @ Value::Object(_)) = map.get_mut("additionalProperties") {
        normalize(extra);
    }
}
