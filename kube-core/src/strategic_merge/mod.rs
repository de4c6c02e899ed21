//! Strategic merge patch (`application/strategic-merge-patch+json`), as Kubernetes applies it.
//!
//! A strategic merge patch is a JSON Merge Patch whose lists know how to merge: a field's
//! schema says whether its list is merged (maps matched by a merge key such as a container's
//! `name`, primitives as a set) or replaced whole, the default. Maps merge recursively and
//! `null` removes a member, as in RFC 7386. Directives steer the merge:
//!
//! - `$patch: replace` in a map replaces the map with the rest of the patch map; as a list
//!   element, it replaces the list with the other elements.
//! - `$patch: delete` in a map empties it; as a list element (with its merge key), it removes
//!   the matching elements.
//! - `$patch: merge` is the default, said explicitly.
//! - `$retainKeys: [..]` keeps only the listed keys of the map (every key the patch sets must be
//!   listed).
//! - `$setElementOrder/<field>: [..]` orders the merged list: the listed elements in that
//!   order, the elements only the server has kept where they were relative to them.
//! - `$deleteFromPrimitiveList/<field>: [..]` removes those values from a merged list of
//!   primitives.
//!
//! Per kind, [`schema_for_kind`] gives the merge keys and strategies of the built-in kinds
//! (Kubernetes' `patchMergeKey`/`patchStrategy` tags); [`patch_fields`] lists them by JSON path,
//! the form OpenAPI's `x-kubernetes-patch-merge-key`/`x-kubernetes-patch-strategy` need. The
//! merge itself ([`apply`]) is schema-driven and kind-agnostic, so server-side apply can reuse
//! the schema. Where Kubernetes would copy a patch value verbatim into the object (a field the
//! object lacks), the value is merged into an empty one instead, so its directives and `null`s
//! never reach the stored object.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

mod schema;

use schema::{child, nested};
pub use schema::{patch_fields, schema_for_kind, Field, PatchField, PatchStrategy};

/// The key of the `$patch` directive.
pub const DIRECTIVE: &str = "$patch";
/// The key of the `$retainKeys` directive.
pub const RETAIN_KEYS: &str = "$retainKeys";
/// The prefix of `$setElementOrder/<field>` keys.
pub const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
/// The prefix of `$deleteFromPrimitiveList/<field>` keys.
pub const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Why a strategic merge patch could not be applied (the API server answers 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrategicMergeError {
    /// A `$patch` value other than `replace`, `delete` or `merge`, or an unknown `$` key.
    #[error("{path}: unknown patch directive {directive}")]
    UnknownDirective {
        /// Where in the patch.
        path: String,
        /// The directive as sent.
        directive: String,
    },
    /// A value of the wrong shape (a directive's argument that is not a list, a list element
    /// that is not an object in a list merged by key, mixed element types, lists of lists).
    #[error("{path}: {message}")]
    BadShape {
        /// Where in the patch.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An element of a list merged by key lacks the key.
    #[error("{path}: an element lacks the merge key {key:?}: {element}")]
    MissingMergeKey {
        /// Where in the patch.
        path: String,
        /// The merge key.
        key: &'static str,
        /// The element, as JSON.
        element: String,
    },
    /// The patch sets a key its `$retainKeys` does not list.
    #[error("{path}: the patch sets {key:?}, which $retainKeys does not list")]
    NotRetained {
        /// Where in the patch.
        path: String,
        /// The key.
        key: String,
    },
    /// The patch list's elements are not in the order (or not among) `$setElementOrder`'s.
    #[error("{path}: the order of the patch list does not match its $setElementOrder list")]
    OrderMismatch {
        /// Where in the patch.
        path: String,
    },
    /// A list directive on a field whose list is not merged.
    #[error(
        "{path}: {directive} applies only to a list merged by the patch, which this field is not"
    )]
    NotAMergedList {
        /// Where in the patch.
        path: String,
        /// The directive.
        directive: &'static str,
    },
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn bad_shape(path: &str, message: impl Into<String>) -> StrategicMergeError {
    StrategicMergeError::BadShape {
        path: display_path(path),
        message: message.into(),
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "the patch".to_string()
    } else {
        path.to_string()
    }
}

/// Applies a strategic merge patch to `target` with `schema` (from [`schema_for_kind`]).
/// Atomic: on error `target` is left as it was.
pub fn apply(
    target: &mut Value,
    patch: &Value,
    schema: &[Field],
) -> Result<(), StrategicMergeError> {
    let Value::Object(patch) = patch else {
        return Err(bad_shape(
            "",
            "a strategic merge patch must be a JSON object",
        ));
    };
    let original = match target {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    *target = Value::Object(merge_map(original, patch, schema, "")?);
    Ok(())
}

/// Merges `patch` into `original`, a map whose fields `fields` describes.
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    fields: &[Field],
    path: &str,
) -> Result<Map<String, Value>, StrategicMergeError> {
    if let Some(d) = patch.get(DIRECTIVE) {
        match d.as_str() {
            Some("replace") => {
                let mut rest = patch.clone();
                rest.remove(DIRECTIVE);
                return merge_map(Map::new(), &rest, fields, path);
            }
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => {
                return Err(StrategicMergeError::UnknownDirective {
                    path: display_path(path),
                    directive: format!("$patch: {d}"),
                })
            }
        }
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        retain_keys(&mut original, patch, retain, path)?;
    }
    // Directive keys first, so an unknown one fails before anything else is done.
    let mut ordered = Vec::new();
    let mut deletions = Vec::new();
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(SET_ELEMENT_ORDER) {
            ordered.push((field, v));
        } else if let Some(field) = k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            deletions.push((field, v));
        } else if k.starts_with('$') && k != DIRECTIVE && k != RETAIN_KEYS {
            return Err(StrategicMergeError::UnknownDirective {
                path: display_path(path),
                directive: k.clone(),
            });
        }
    }
    for (field, values) in deletions {
        delete_from_primitive_list(&mut original, field, values, fields, path)?;
    }
    let mut done = Vec::new();
    for (field, order) in ordered {
        set_element_order(&mut original, patch, field, order, fields, path)?;
        done.push(field);
    }
    for (k, v) in patch {
        if k.starts_with('$') || done.contains(&k.as_str()) {
            continue;
        }
        if v.is_null() {
            original.remove(k);
            continue;
        }
        let f = child(fields, k);
        let sub = join(path, k);
        let merged = match (original.remove(k), v) {
            (Some(Value::Object(o)), Value::Object(p)) if f.strategy != PatchStrategy::Replace => {
                Value::Object(merge_map(o, p, f.fields, &sub)?)
            }
            (Some(Value::Array(o)), Value::Array(p)) => Value::Array(merge_list(o, p, f, &sub)?),
            _ => fresh(v, f, &sub)?,
        };
        original.insert(k.clone(), merged);
    }
    Ok(original)
}

/// What a patch value becomes where the object has nothing (or something of another type):
/// the value merged into an empty one, so directives and `null`s are resolved.
fn fresh(v: &Value, f: &Field, path: &str) -> Result<Value, StrategicMergeError> {
    Ok(match v {
        Value::Object(p) => Value::Object(merge_map(Map::new(), p, f.fields, path)?),
        Value::Array(p) => Value::Array(merge_list(Vec::new(), p, f, path)?),
        other => other.clone(),
    })
}

/// `$retainKeys`: keys of `original` not listed are cleared; every key the patch sets must be
/// listed.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    retain: &Value,
    path: &str,
) -> Result<(), StrategicMergeError> {
    let Some(list) = retain.as_array() else {
        return Err(bad_shape(path, "$retainKeys must be a list of field names"));
    };
    let keep: HashSet<&str> = list
        .iter()
        .map(|k| {
            k.as_str()
                .ok_or_else(|| bad_shape(path, "$retainKeys must be a list of field names"))
        })
        .collect::<Result<_, _>>()?;
    for (k, v) in patch {
        if v.is_null() || k.starts_with('$') {
            continue;
        }
        if !keep.contains(&k.as_str()) {
            return Err(StrategicMergeError::NotRetained {
                path: display_path(path),
                key: k.clone(),
            });
        }
    }
    original.retain(|k, _| keep.contains(&k.as_str()));
    Ok(())
}

/// `$deleteFromPrimitiveList/<field>`: removes `values` from the merged primitive list.
fn delete_from_primitive_list(
    original: &mut Map<String, Value>,
    field: &str,
    values: &Value,
    fields: &[Field],
    path: &str,
) -> Result<(), StrategicMergeError> {
    let sub = join(path, field);
    let Some(values) = values.as_array() else {
        return Err(bad_shape(
            &sub,
            "$deleteFromPrimitiveList must be a list of values",
        ));
    };
    let f = child(fields, field);
    if field.is_empty() || f.strategy != PatchStrategy::Merge || f.merge_key.is_some() {
        return Err(StrategicMergeError::NotAMergedList {
            path: display_path(&sub),
            directive: "$deleteFromPrimitiveList",
        });
    }
    if let Some(Value::Array(list)) = original.get_mut(field) {
        let gone: HashSet<String> = values.iter().map(ident).collect();
        list.retain(|v| !gone.contains(&ident(v)));
    }
    Ok(())
}

/// `$setElementOrder/<field>`: merges the field's patch list (if any), then orders the result.
fn set_element_order(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    field: &str,
    order: &Value,
    fields: &[Field],
    path: &str,
) -> Result<(), StrategicMergeError> {
    let sub = join(path, field);
    let Some(order) = order.as_array() else {
        return Err(bad_shape(&sub, "$setElementOrder must be a list"));
    };
    let f = child(fields, field);
    if field.is_empty() || f.strategy != PatchStrategy::Merge {
        return Err(StrategicMergeError::NotAMergedList {
            path: display_path(&sub),
            directive: "$setElementOrder",
        });
    }
    let server = match original.remove(field) {
        Some(Value::Array(l)) => Some(l),
        None | Some(Value::Null) => None,
        Some(_) => return Err(bad_shape(&sub, "the object's value is not a list")),
    };
    let patch_list = match patch.get(field) {
        Some(Value::Array(l)) => Some(l),
        None | Some(Value::Null) => None,
        Some(_) => return Err(bad_shape(&sub, "the patch value is not a list")),
    };
    if let Some(key) = f.merge_key {
        for o in order {
            key_of(o, key, &sub)?;
        }
    }
    if let Some(p) = patch_list {
        check_order(p, order, f.merge_key, &sub)?;
    }
    let server_order = server.clone().unwrap_or_default();
    let merged = match (server, patch_list) {
        (Some(s), None) => s,
        (s, Some(p)) => merge_list(s.unwrap_or_default(), p, f, &sub)?,
        (None, None) => return Ok(()),
    };
    let sorted = normalize_order(merged, order, &server_order, f.merge_key);
    original.insert(field.to_string(), Value::Array(sorted));
    Ok(())
}

/// Every element of the patch list (but deletions and other directives) must appear in
/// `order`, in the same relative order.
fn check_order(
    patch: &[Value],
    order: &[Value],
    key: Option<&'static str>,
    path: &str,
) -> Result<(), StrategicMergeError> {
    let items: Vec<&Value> = patch
        .iter()
        .filter(|v| !(key.is_some() && v.get(DIRECTIVE).is_some()))
        .collect();
    let (mut pi, mut oi) = (0, 0);
    while pi < items.len() && oi < order.len() {
        if items[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        let equal = match key {
            Some(k) => same(key_of(items[pi], k, path)?, key_of(&order[oi], k, path)?),
            None => same(items[pi], &order[oi]),
        };
        if equal {
            pi += 1;
        }
        oi += 1;
    }
    if pi < items.len() && !items.is_empty() && !order.is_empty() {
        return Err(StrategicMergeError::OrderMismatch {
            path: display_path(path),
        });
    }
    Ok(())
}

/// Merges a patch list into the object's list per the field's strategy.
fn merge_list(
    original: Vec<Value>,
    patch: &[Value],
    f: &Field,
    path: &str,
) -> Result<Vec<Value>, StrategicMergeError> {
    if f.strategy != PatchStrategy::Merge {
        return Ok(patch.to_vec());
    }
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let objects = element_kind(&original, patch, path)?;
    match (objects, f.merge_key) {
        (false, _) => {
            let mut merged = original.clone();
            let mut present: HashSet<String> = merged.iter().map(ident).collect();
            for p in patch {
                if present.insert(ident(p)) {
                    merged.push(p.clone());
                }
            }
            Ok(normalize_order(merged, patch, &original, None))
        }
        (true, None) => Err(bad_shape(
            path,
            "a list of objects cannot be merged without a merge key",
        )),
        (true, Some(key)) => merge_keyed_list(original, patch, f, key, path),
    }
}

/// Whether the elements of both lists are objects (`true`) or primitives of one type
/// (`false`); anything else is a bad shape.
fn element_kind(
    original: &[Value],
    patch: &[Value],
    path: &str,
) -> Result<bool, StrategicMergeError> {
    fn tag(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    let mut seen = None;
    for v in original.iter().chain(patch) {
        let t = tag(v);
        if t == 4 {
            return Err(bad_shape(path, "lists of lists cannot be merged"));
        }
        match seen {
            None => seen = Some(t),
            Some(s) if s != t => {
                return Err(bad_shape(
                    path,
                    "the list's elements are not all of one type",
                ))
            }
            Some(_) => {}
        }
    }
    Ok(seen == Some(5))
}

/// Merges a list of objects by `key`: `$patch: delete` elements remove their match, a
/// `$patch: replace` element makes the other elements the whole list, the rest merge into
/// their match or are added.
fn merge_keyed_list(
    mut original: Vec<Value>,
    patch: &[Value],
    f: &Field,
    key: &'static str,
    path: &str,
) -> Result<Vec<Value>, StrategicMergeError> {
    let mut items = Vec::new();
    let mut replace = false;
    let mut deleted = HashSet::new();
    for p in patch {
        match p.get(DIRECTIVE) {
            None => items.push(p),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    deleted.insert(ident(key_of(p, key, path)?));
                }
                Some("replace") => replace = true,
                Some("merge") => items.push(p),
                _ => {
                    return Err(StrategicMergeError::UnknownDirective {
                        path: display_path(path),
                        directive: format!("$patch: {d}"),
                    })
                }
            },
        }
    }
    if !deleted.is_empty() {
        original.retain(|o| o.get(key).is_none_or(|k| !deleted.contains(&ident(k))));
    }
    if replace {
        let mut out = Vec::with_capacity(items.len());
        for p in items {
            key_of(p, key, path)?;
            out.push(fresh(p, &nested("", f.fields), path)?);
        }
        return Ok(out);
    }
    let server_order = original.clone();
    // Each key's first element, as Kubernetes finds it.
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, o) in original.iter().enumerate() {
        if let Some(k) = o.get(key) {
            at.entry(ident(k)).or_insert(i);
        }
    }
    for p in &items {
        let k = key_of(p, key, path)?;
        let sub = format!("{path}[{key}={k}]");
        let Value::Object(pm) = p else {
            return Err(bad_shape(path, "a list element is not an object"));
        };
        match at.get(&ident(k)).and_then(|&i| original.get_mut(i)) {
            Some(o) => {
                let om = match std::mem::take(o) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                *o = Value::Object(merge_map(om, pm, f.fields, &sub)?);
            }
            None => {
                at.insert(ident(k), original.len());
                original.push(Value::Object(merge_map(Map::new(), pm, f.fields, &sub)?));
            }
        }
    }
    let order: Vec<Value> = items.into_iter().cloned().collect();
    Ok(normalize_order(original, &order, &server_order, Some(key)))
}

/// Kubernetes' order of a merged list: the elements `order` names, in its order, interleaved
/// with the others (kept in their server order) where the server order places them.
fn normalize_order(
    merged: Vec<Value>,
    order: &[Value],
    server_order: &[Value],
    key: Option<&'static str>,
) -> Vec<Value> {
    let id = |v: &Value| -> Option<String> {
        match key {
            Some(k) => v.get(k).map(ident),
            None => Some(ident(v)),
        }
    };
    // First positions by identity: linear, however long the lists.
    let positions = |list: &[Value]| {
        let mut at: HashMap<String, usize> = HashMap::new();
        for (i, v) in list.iter().enumerate() {
            if let Some(k) = id(v) {
                at.entry(k).or_insert(i);
            }
        }
        at
    };
    let (in_order, in_server) = (positions(order), positions(server_order));
    let pos = |at: &HashMap<String, usize>, v: &Value| id(v).and_then(|k| at.get(&k).copied());
    // Elements with their position in the server's order.
    type Placed = (Option<usize>, Value);
    let (mut listed, mut others): (Vec<Placed>, Vec<Placed>) = (Vec::new(), Vec::new());
    for v in merged {
        let server = pos(&in_server, &v);
        match pos(&in_order, &v) {
            Some(i) => listed.push((Some(i), v)),
            None => others.push((server, v)),
        }
    }
    listed.sort_by_key(|(i, _)| *i);
    others.sort_by_key(|(i, _)| i.unwrap_or(usize::MAX));
    let listed: Vec<Placed> = listed
        .into_iter()
        .map(|(_, v)| (pos(&in_server, &v), v))
        .collect();
    let mut out = Vec::with_capacity(listed.len() + others.len());
    let (mut l, mut r) = (others.into_iter().peekable(), listed.into_iter().peekable());
    loop {
        let take_left = match (l.peek(), r.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((a, _)), Some((b, _))) => matches!((a, b), (Some(i), Some(j)) if i < j),
        };
        let next = if take_left { l.next() } else { r.next() };
        out.extend(next.map(|(_, v)| v));
    }
    out
}

/// The merge key's value of a list element (an error when it is not an object or lacks it).
fn key_of<'v>(
    v: &'v Value,
    key: &'static str,
    path: &str,
) -> Result<&'v Value, StrategicMergeError> {
    match v {
        Value::Object(m) => m
            .get(key)
            .ok_or_else(|| StrategicMergeError::MissingMergeKey {
                path: display_path(path),
                key,
                element: v.to_string(),
            }),
        _ => Err(bad_shape(
            path,
            format!("a list element is not an object: {v}"),
        )),
    }
}

/// A value's identity for matching list elements: its JSON, with numbers by value (`80` and
/// `80.0` are the same port), as [`same`] compares.
fn ident(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) => format!("#{f:?}"),
            None => format!("#{n}"),
        },
        other => other.to_string(),
    }
}

/// JSON equality, with numbers compared by value (`80` and `80.0` are the same port).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
