//! The OpenAPI documents the API server publishes, built from the Rust types, pure: the
//! definitions (`schemas`: `schemars` on the wire types, in Kubernetes' names and shape), the
//! operations of every served path (`paths`), the Swagger 2.0 document (`/openapi/v2`) and its
//! protobuf encoding (`protobuf`, gnostic's `openapi.v2.Document`, which kubectl 1.20 asks
//! for), and the OpenAPI 3.0 documents per group-version (`/openapi/v3/{api/v1,…}`).

pub mod paths;
pub mod protobuf;
pub mod schemas;
#[cfg(test)]
mod tests;

use paths::{Op, ServedOperation};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The `info` of every document.
fn info() -> Value {
    json!({"title": "Kubernetes", "version": "v1.20.0"})
}

/// The Swagger 2.0 document (`/openapi/v2`) of the served operations.
pub fn swagger(served: &[ServedOperation]) -> Value {
    let ops = paths::operations(served);
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths::swagger_paths(&ops),
        "definitions": schemas::definitions(),
    })
}

/// The OpenAPI 3.0 documents per group-version path (`api/v1`, `apis/coordination.k8s.io/v1`):
/// that group-version's paths and every schema they reach.
pub fn openapi3_documents(served: &[ServedOperation]) -> BTreeMap<String, Value> {
    let ops = paths::operations(served);
    let defs = openapi3_schemas(schemas::definitions());
    let mut by_gv: BTreeMap<String, Vec<Op>> = BTreeMap::new();
    for op in ops {
        by_gv
            .entry(op.group_version_path.clone())
            .or_default()
            .push(op);
    }
    by_gv
        .into_iter()
        .map(|(gv, ops)| {
            let paths = paths::openapi3_paths(&ops);
            let mut reached = Map::new();
            let mut pending = Vec::new();
            collect_refs(&Value::Object(paths.clone()), &mut pending);
            while let Some(name) = pending.pop() {
                if reached.contains_key(&name) {
                    continue;
                }
                if let Some(def) = defs.get(&name) {
                    collect_refs(def, &mut pending);
                    reached.insert(name, def.clone());
                }
            }
            let doc = json!({
                "openapi": "3.0.0",
                "info": info(),
                "paths": paths,
                "components": {"schemas": reached},
            });
            (gv, doc)
        })
        .collect()
}

/// The `/openapi/v3` index: each group-version's document URL, with its hash (`hashes`:
/// group-version path → hash of its document).
pub fn openapi3_index(hashes: &BTreeMap<String, String>) -> Value {
    let paths: Map<String, Value> = hashes
        .iter()
        .map(|(gv, hash)| {
            (
                gv.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={hash}")}),
            )
        })
        .collect();
    json!({ "paths": paths })
}

/// The names of the schemas `v` refers to (`#/components/schemas/…`).
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.to_string());
            }
            map.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

/// The definitions as OpenAPI 3.0 schemas: refs under `#/components/schemas/`, and a `$ref`
/// with siblings (a description) wrapped in `allOf`, as Kubernetes does (3.0 ignores siblings).
fn openapi3_schemas(defs: Map<String, Value>) -> Map<String, Value> {
    fn rewrite(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("$ref") {
                    if let Some(name) = r.strip_prefix("#/definitions/") {
                        *r = format!("#/components/schemas/{name}");
                    }
                    if map.len() > 1 {
                        if let Some(r) = map.remove("$ref") {
                            map.insert("allOf".into(), json!([{ "$ref": r }]));
                        }
                    }
                }
                map.values_mut().for_each(rewrite);
            }
            Value::Array(items) => items.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    let mut v = Value::Object(defs);
    rewrite(&mut v);
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A stable content hash (FNV-1a, 64 bits) as 16 upper-case hex digits: the documents' ETag
/// and the `hash` of the v3 index's URLs.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016X}")
}
