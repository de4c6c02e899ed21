//! The patch schema: per kind, which lists merge and by which key (Kubernetes'
//! `patchMergeKey`/`patchStrategy` tags on the built-in types), as a static tree.

/// How a field's value is patched, beyond the default (maps merge, lists replace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchStrategy {
    /// The default: maps merge recursively, lists are replaced.
    Default,
    /// `patchStrategy: merge`: the list is merged (by the merge key, or as a set of primitives).
    Merge,
    /// `patchStrategy: replace`: the value is replaced whole.
    Replace,
}

/// One field's patch metadata, with the fields below it (of the map, or of each list element).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The JSON field name.
    pub name: &'static str,
    /// How the field is patched.
    pub strategy: PatchStrategy,
    /// For lists of objects merged by key: the key (`name`, `containerPort`, …).
    pub merge_key: Option<&'static str>,
    /// Whether the field also carries Kubernetes' `retainKeys` strategy (only a hint for
    /// clients: `$retainKeys` is honoured wherever it is sent).
    pub retain_keys: bool,
    /// The fields below this one.
    pub fields: &'static [Field],
}

/// A field with the default strategy that only leads to fields below it.
pub(super) const fn nested(name: &'static str, fields: &'static [Field]) -> Field {
    Field {
        name,
        strategy: PatchStrategy::Default,
        merge_key: None,
        retain_keys: false,
        fields,
    }
}

/// A list of objects merged by `key`, with `fields` in each element.
pub(super) const fn merge_by(
    name: &'static str,
    key: &'static str,
    fields: &'static [Field],
) -> Field {
    Field {
        name,
        strategy: PatchStrategy::Merge,
        merge_key: Some(key),
        retain_keys: false,
        fields,
    }
}

/// A list of primitives merged as a set.
pub(super) const fn merge_set(name: &'static str) -> Field {
    Field {
        name,
        strategy: PatchStrategy::Merge,
        merge_key: None,
        retain_keys: false,
        fields: &[],
    }
}

/// A field the schema does not describe: default strategy, nothing below.
const UNDESCRIBED: Field = nested("", &[]);

const OBJECT_META: &[Field] = &[
    merge_by("ownerReferences", "uid", &[]),
    merge_set("finalizers"),
];
const METADATA: Field = nested("metadata", OBJECT_META);

const CONTAINER: &[Field] = &[
    merge_by("ports", "containerPort", &[]),
    merge_by("env", "name", &[]),
    merge_by("volumeMounts", "mountPath", &[]),
    merge_by("volumeDevices", "devicePath", &[]),
];

const POD_SPEC: &[Field] = &[
    Field {
        retain_keys: true,
        ..merge_by("volumes", "name", &[])
    },
    merge_by("initContainers", "name", CONTAINER),
    merge_by("containers", "name", CONTAINER),
    merge_by("ephemeralContainers", "name", CONTAINER),
    merge_by("imagePullSecrets", "name", &[]),
    merge_by("hostAliases", "ip", &[]),
    merge_by("topologySpreadConstraints", "topologyKey", &[]),
];

const POD_STATUS: &[Field] = &[
    merge_by("conditions", "type", &[]),
    merge_by("podIPs", "ip", &[]),
    merge_by("hostIPs", "ip", &[]),
];

const POD_TEMPLATE_SPEC: &[Field] = &[METADATA, nested("spec", POD_SPEC)];

const POD_TEMPLATE: &[Field] = &[METADATA, nested("template", POD_TEMPLATE_SPEC)];

const POD: &[Field] = &[
    METADATA,
    nested("spec", POD_SPEC),
    nested("status", POD_STATUS),
];

const REPLICATION_CONTROLLER: &[Field] = &[
    METADATA,
    nested("spec", &[nested("template", POD_TEMPLATE_SPEC)]),
];

const SERVICE: &[Field] = &[
    METADATA,
    nested("spec", &[merge_by("ports", "port", &[])]),
    nested("status", &[merge_by("conditions", "type", &[])]),
];

const NODE: &[Field] = &[
    METADATA,
    nested("spec", &[merge_set("podCIDRs")]),
    nested(
        "status",
        &[
            merge_by("conditions", "type", &[]),
            merge_by("addresses", "type", &[]),
        ],
    ),
];

/// Kinds whose only merged lists are in their metadata (endpoint subsets, node images,
/// tolerations and the like are atomic lists, replaced whole, as in Kubernetes).
const METADATA_ONLY: &[Field] = &[METADATA];

/// The patch schema of a kind (`Pod`, `ReplicationController`, …); kinds without merged lists
/// of their own (`Endpoints`, `Event`, `Lease`, `Scale`, …) get the metadata's.
pub fn schema_for_kind(kind: &str) -> &'static [Field] {
    match kind {
        "Pod" => POD,
        "PodTemplate" => POD_TEMPLATE,
        "ReplicationController" => REPLICATION_CONTROLLER,
        "Service" => SERVICE,
        "Node" => NODE,
        _ => METADATA_ONLY,
    }
}

/// One field with a patch strategy, by JSON path, as OpenAPI publishes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchField {
    /// Dotted JSON path from the object's root (`spec.containers.ports`: list elements are
    /// stepped through).
    pub path: String,
    /// `x-kubernetes-patch-merge-key`, for lists of objects merged by key.
    pub merge_key: Option<&'static str>,
    /// `x-kubernetes-patch-strategy` (`merge`, `replace`, `merge,retainKeys`, `retainKeys`).
    pub strategy: String,
}

/// Every field of `kind` with a patch strategy, depth first in schema order.
pub fn patch_fields(kind: &str) -> Vec<PatchField> {
    fn walk(prefix: &str, fields: &[Field], out: &mut Vec<PatchField>) {
        for f in fields {
            let path = if prefix.is_empty() {
                f.name.to_string()
            } else {
                format!("{prefix}.{}", f.name)
            };
            let mut strategy = match f.strategy {
                PatchStrategy::Default => String::new(),
                PatchStrategy::Merge => "merge".to_string(),
                PatchStrategy::Replace => "replace".to_string(),
            };
            if f.retain_keys {
                if !strategy.is_empty() {
                    strategy.push(',');
                }
                strategy.push_str("retainKeys");
            }
            if !strategy.is_empty() {
                out.push(PatchField {
                    path: path.clone(),
                    merge_key: f.merge_key,
                    strategy,
                });
            }
            walk(&path, f.fields, out);
        }
    }
    let mut out = Vec::new();
    walk("", schema_for_kind(kind), &mut out);
    out
}

pub(super) fn child<'a>(fields: &'a [Field], name: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or(&UNDESCRIBED)
}
