//! The operations of the OpenAPI documents: one per served path and method, named as
//! Kubernetes names them (`listCoreV1NamespacedPod`, `patchCoreV1NamespacedPodStatus`, …),
//! with `x-kubernetes-group-version-kind`, `x-kubernetes-action` and the query parameters the
//! server accepts. The served paths come in as [`ServedOperation`]s (the server derives them
//! from its verbs table), so a new kind or verb appears here by itself.

use super::schemas::{kind_definition, KindDefinition, GVK_EXTENSION, PATCH};
use crate::object::ResourceKind;
use serde_json::{json, Map, Value};

/// What a served path addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// The collection (`/api/v1/namespaces/{namespace}/pods`, `/api/v1/nodes`).
    Collection,
    /// A namespaced kind across namespaces (`/api/v1/pods`).
    AllNamespaces,
    /// One object.
    Item,
    /// The `/status` subresource.
    Status,
    /// The `/scale` subresource (an `autoscaling/v1` `Scale`).
    Scale,
    /// A pod's `/binding` subresource.
    Binding,
    /// A namespace's `/finalize` subresource.
    Finalize,
}

/// One served HTTP method on a path of a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedOperation {
    /// The resource.
    pub resource: ResourceKind,
    /// Which of its paths.
    pub path: PathKind,
    /// The HTTP method, upper case.
    pub method: &'static str,
}

/// A query or path parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// Name.
    pub name: &'static str,
    /// `query` or `path`.
    pub location: &'static str,
    /// `string`, `integer` or `boolean`.
    pub kind: &'static str,
    /// What it does.
    pub description: &'static str,
}

const fn query(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "query",
        kind,
        description,
    }
}

const LIST_PARAMS: &[Param] = &[
    query(
        "allowWatchBookmarks",
        "boolean",
        "Requests watch events of type BOOKMARK.",
    ),
    query(
        "continue",
        "string",
        "The continue token of the previous page.",
    ),
    query("fieldSelector", "string", "Restricts the list by fields."),
    query("labelSelector", "string", "Restricts the list by labels."),
    query("limit", "integer", "The maximum number of items to return."),
    query(
        "resourceVersion",
        "string",
        "The resource version to list or watch from.",
    ),
    query(
        "resourceVersionMatch",
        "string",
        "How resourceVersion applies to the list.",
    ),
    query(
        "timeoutSeconds",
        "integer",
        "Timeout of the list or watch call.",
    ),
    query("watch", "boolean", "Watch for changes instead of listing."),
];
const DRY_RUN: Param = query("dryRun", "string", "`All`: answer without storing.");
const FIELD_MANAGER: Param = query("fieldManager", "string", "Name of the writer.");
const FIELD_VALIDATION: Param = query(
    "fieldValidation",
    "string",
    "`Ignore`, `Warn` or `Strict`: what to do with unknown or duplicated fields.",
);
const WRITE_PARAMS: &[Param] = &[DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const PATCH_PARAMS: &[Param] = &[
    DRY_RUN,
    FIELD_MANAGER,
    FIELD_VALIDATION,
    query(
        "force",
        "boolean",
        "Take over conflicting fields of an apply.",
    ),
];
const DELETE_PARAMS: &[Param] = &[
    DRY_RUN,
    query(
        "gracePeriodSeconds",
        "integer",
        "Seconds before the object is deleted.",
    ),
    query(
        "propagationPolicy",
        "string",
        "`Orphan`, `Background` or `Foreground`.",
    ),
];
const DELETE_COLLECTION_PARAMS: &[Param] = &[
    DRY_RUN,
    query("fieldSelector", "string", "Restricts the list by fields."),
    query(
        "gracePeriodSeconds",
        "integer",
        "Seconds before the object is deleted.",
    ),
    query("labelSelector", "string", "Restricts the list by labels."),
    query(
        "propagationPolicy",
        "string",
        "`Orphan`, `Background` or `Foreground`.",
    ),
];
/// The patch content types the server accepts.
pub const PATCH_CONTENT_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// One operation, before it is rendered as Swagger 2.0 or OpenAPI 3.0.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// The URL path with `{namespace}`/`{name}` placeholders.
    pub path: String,
    /// The `api/v1` or `apis/{group}/{version}` the path is under.
    pub group_version_path: String,
    /// Lower-case method (`get`, `patch`, …).
    pub method: String,
    /// `operationId`.
    pub id: String,
    /// `x-kubernetes-action` (`list`, `post`, `get`, `put`, `patch`, `delete`).
    pub action: &'static str,
    /// `x-kubernetes-group-version-kind`.
    pub gvk: Value,
    /// Definition name of the body, if it takes one.
    pub body: Option<String>,
    /// Whether the body is required.
    pub body_required: bool,
    /// Content types of the body.
    pub consumes: Vec<&'static str>,
    /// Definition name of the 200 answer.
    pub response: String,
    /// Query parameters.
    pub params: &'static [Param],
    /// Path parameters (`namespace`, `name`).
    pub path_params: Vec<&'static str>,
}

fn pascal(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The operations of `served`, sorted by path then method; repeats (list and watch share GET)
/// are dropped.
pub fn operations(served: &[ServedOperation]) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::new();
    for s in served {
        let Some(op) = operation(s) else { continue };
        if !out
            .iter()
            .any(|o| o.path == op.path && o.method == op.method)
        {
            out.push(op);
        }
    }
    out.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    out
}

fn operation(s: &ServedOperation) -> Option<Op> {
    let info = s.resource.info();
    let k = kind_definition(s.resource);
    let gv_path = if k.group.is_empty() {
        format!("api/{}", k.version)
    } else {
        format!("apis/{}/{}", k.group, k.version)
    };
    let group_name = if k.group.is_empty() {
        "Core".to_string()
    } else {
        pascal(k.group.split('.').next().unwrap_or_default())
    };
    let gv_name = format!("{group_name}{}", pascal(&k.version));
    let namespaced = info.namespaced && s.path != PathKind::AllNamespaces;
    if s.path == PathKind::AllNamespaces && !info.namespaced {
        return None;
    }
    let collection = if namespaced {
        format!("/{gv_path}/namespaces/{{namespace}}/{}", info.plural)
    } else {
        format!("/{gv_path}/{}", info.plural)
    };
    let item = format!("{collection}/{{name}}");
    let scale = &other_kind("Scale");
    let binding = &other_kind("Binding");
    let (path, suffix, target): (String, &str, &KindDefinition) = match s.path {
        PathKind::Collection | PathKind::AllNamespaces => (collection, "", &k),
        PathKind::Item => (item, "", &k),
        PathKind::Status => (format!("{item}/status"), "Status", &k),
        PathKind::Scale => (format!("{item}/scale"), "Scale", scale),
        PathKind::Binding => (format!("{item}/binding"), "Binding", binding),
        PathKind::Finalize => (format!("{item}/finalize"), "Finalize", &k),
    };
    let scope = if namespaced { "Namespaced" } else { "" };
    let for_all = if s.path == PathKind::AllNamespaces {
        "ForAllNamespaces"
    } else {
        ""
    };
    let is_collection = matches!(s.path, PathKind::Collection | PathKind::AllNamespaces);
    let (verb, action, body, params, response) = match (s.method, is_collection) {
        ("GET", true) => ("list", "list", None, LIST_PARAMS, k.list_name()),
        ("GET", false) => ("read", "get", None, &[][..], target.name.clone()),
        ("POST", _) => (
            "create",
            "post",
            Some(target.name.clone()),
            WRITE_PARAMS,
            target.name.clone(),
        ),
        ("PUT", false) => (
            "replace",
            "put",
            Some(target.name.clone()),
            WRITE_PARAMS,
            target.name.clone(),
        ),
        ("PATCH", false) => (
            "patch",
            "patch",
            Some(PATCH.to_string()),
            PATCH_PARAMS,
            target.name.clone(),
        ),
        ("DELETE", false) => (
            "delete",
            "delete",
            Some(other_kind_name("DeleteOptions")),
            DELETE_PARAMS,
            other_kind_name("Status"),
        ),
        ("DELETE", true) if s.path == PathKind::Collection => (
            "delete",
            "deletecollection",
            Some(other_kind_name("DeleteOptions")),
            DELETE_COLLECTION_PARAMS,
            other_kind_name("Status"),
        ),
        _ => return None,
    };
    let mut path_params = Vec::new();
    if namespaced {
        path_params.push("namespace");
    }
    if !is_collection {
        path_params.push("name");
    }
    Some(Op {
        path,
        group_version_path: gv_path,
        method: s.method.to_ascii_lowercase(),
        // `deleteCoreV1CollectionNamespacedPod`, as Kubernetes names it.
        id: format!(
            "{verb}{gv_name}{}{scope}{}{suffix}{for_all}",
            if action == "deletecollection" {
                "Collection"
            } else {
                ""
            },
            k.kind
        ),
        action,
        gvk: target.gvk(false),
        body_required: body.is_some() && s.method != "DELETE",
        consumes: if s.method == "PATCH" {
            PATCH_CONTENT_TYPES.to_vec()
        } else {
            vec!["*/*"]
        },
        body,
        response,
        params,
        path_params,
    })
}

/// The definition of one of [`super::schemas::other_kinds`] (`Scale`, `Binding`, `Status`,
/// `DeleteOptions`).
fn other_kind(kind: &str) -> KindDefinition {
    super::schemas::other_kinds()
        .into_iter()
        .find(|k| k.kind == kind)
        .unwrap_or_else(|| KindDefinition::new(kind.to_string().into(), "v1", kind))
}

fn other_kind_name(kind: &str) -> String {
    other_kind(kind).name
}

/// The description of the path parameter `name` (`namespace` or `name`).
fn path_param_description(name: &str) -> &'static str {
    if name == "namespace" {
        "Object name and auth scope, such as for teams and projects."
    } else {
        "Name of the object."
    }
}

fn ref_to(prefix: &str, name: &str) -> Value {
    json!({ "$ref": format!("{prefix}{name}") })
}

/// The Swagger 2.0 `paths` object of `ops`.
pub fn swagger_paths(ops: &[Op]) -> Map<String, Value> {
    let mut paths = Map::new();
    for op in ops {
        let mut params: Vec<Value> = op
            .params
            .iter()
            .map(|p| {
                json!({"name": p.name, "in": p.location, "type": p.kind, "description": p.description, "uniqueItems": true})
            })
            .collect();
        if let Some(body) = &op.body {
            params.insert(
                0,
                json!({"name": "body", "in": "body", "required": op.body_required, "schema": ref_to("#/definitions/", body)}),
            );
        }
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "OK", "schema": ref_to("#/definitions/", &op.response)}),
        );
        if op.method == "post" {
            responses.insert(
                "201".into(),
                json!({"description": "Created", "schema": ref_to("#/definitions/", &op.response)}),
            );
        }
        responses.insert("401".into(), json!({"description": "Unauthorized"}));
        let mut produces = vec!["application/json", "application/yaml"];
        if op.action == "list" {
            produces.push("application/json;stream=watch");
        }
        let operation = json!({
            "operationId": op.id,
            "consumes": op.consumes,
            "produces": produces,
            "schemes": ["https"],
            "parameters": params,
            "responses": responses,
            "x-kubernetes-action": op.action,
            GVK_EXTENSION: op.gvk,
        });
        let item = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(op.method.clone(), operation);
            item.insert(
                "parameters".into(),
                op.path_params
                    .iter()
                    .map(|n| {
                        json!({"name": n, "in": "path", "required": true, "type": "string", "description": path_param_description(n), "uniqueItems": true})
                    })
                    .collect(),
            );
        }
    }
    paths
}

/// The OpenAPI 3.0 `paths` object of `ops`.
pub fn openapi3_paths(ops: &[Op]) -> Map<String, Value> {
    const SCHEMAS: &str = "#/components/schemas/";
    let mut paths = Map::new();
    for op in ops {
        let params: Vec<Value> = op
            .params
            .iter()
            .map(|p| {
                json!({"name": p.name, "in": p.location, "description": p.description, "schema": {"type": p.kind, "uniqueItems": true}})
            })
            .collect();
        let content = |types: &[&str], name: &str| -> Value {
            Value::Object(
                types
                    .iter()
                    .map(|t| (t.to_string(), json!({"schema": ref_to(SCHEMAS, name)})))
                    .collect(),
            )
        };
        let ok = content(&["application/json", "application/yaml"], &op.response);
        let mut operation = json!({
            "operationId": op.id,
            "parameters": params,
            "responses": {"200": {"description": "OK", "content": ok}, "401": {"description": "Unauthorized"}},
            "x-kubernetes-action": op.action,
            GVK_EXTENSION: op.gvk,
        });
        if let (Some(body), Value::Object(o)) = (&op.body, &mut operation) {
            o.insert(
                "requestBody".into(),
                json!({"content": content(&op.consumes, body), "required": op.body_required}),
            );
        }
        let item = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(op.method.clone(), operation);
            item.insert(
                "parameters".into(),
                op.path_params
                    .iter()
                    .map(|n| {
                        json!({"name": n, "in": "path", "required": true, "description": path_param_description(n), "schema": {"type": "string", "uniqueItems": true}})
                    })
                    .collect(),
            );
        }
    }
    paths
}
