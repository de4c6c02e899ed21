//! Patch application on JSON values: JSON Merge Patch (RFC 7386) and JSON Patch (RFC 6902).
//!
//! Both work on a [`serde_json::Value`]; the API server turns an object into its JSON form,
//! applies the patch here, and decodes the result through the ordinary update path. A JSON
//! Patch is applied atomically: on any error the target is left exactly as it was.

use serde_json::{Map, Value};

/// Why a patch could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (the API server answers 400).
    #[error("malformed patch: {0}")]
    Malformed(String),
    /// The patch is well formed but does not apply to the target: a failed `test`, or a path
    /// that does not exist (the API server answers 422).
    #[error("the patch does not apply: {0}")]
    NotApplicable(String),
}

/// Applies a JSON Merge Patch (RFC 7386) to `target`: objects merge recursively, `null`
/// removes a member, anything else (arrays included) replaces the target value.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// One JSON Patch operation (RFC 6902 §4).
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// `add`: insert or replace a member, or insert into an array (`-` appends).
    Add {
        /// Target location.
        path: Vec<String>,
        /// The value to add.
        value: Value,
    },
    /// `remove`: remove the value at `path`, which must exist.
    Remove {
        /// Target location.
        path: Vec<String>,
    },
    /// `replace`: replace the value at `path`, which must exist.
    Replace {
        /// Target location.
        path: Vec<String>,
        /// The new value.
        value: Value,
    },
    /// `move`: remove the value at `from` and add it at `path`.
    Move {
        /// Source location.
        from: Vec<String>,
        /// Target location.
        path: Vec<String>,
    },
    /// `copy`: add a copy of the value at `from` at `path`.
    Copy {
        /// Source location.
        from: Vec<String>,
        /// Target location.
        path: Vec<String>,
    },
    /// `test`: the value at `path` must equal `value`.
    Test {
        /// Target location.
        path: Vec<String>,
        /// The expected value.
        value: Value,
    },
}

/// Parses a JSON Pointer (RFC 6901) into its unescaped reference tokens (`~1` is `/`, `~0` is `~`).
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PatchError::Malformed(format!(
            "JSON pointer {pointer:?} must be empty or start with \"/\""
        )));
    };
    rest.split('/')
        .map(|tok| {
            let mut out = String::with_capacity(tok.len());
            let mut chars = tok.chars();
            while let Some(c) = chars.next() {
                match c {
                    '~' => match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(PatchError::Malformed(format!(
                                "JSON pointer {pointer:?} has an invalid escape (only ~0 and ~1 are allowed)"
                            )))
                        }
                    },
                    c => out.push(c),
                }
            }
            Ok(out)
        })
        .collect()
}

/// Renders reference tokens back into a JSON Pointer (for messages).
fn render(path: &[String]) -> String {
    path.iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Parses a JSON Patch document: an array of operation objects.
pub fn parse_json_patch(doc: &Value) -> Result<Vec<Operation>, PatchError> {
    let Value::Array(ops) = doc else {
        return Err(PatchError::Malformed(
            "a JSON patch must be an array of operations".into(),
        ));
    };
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(|e| at_index(i, e)))
        .collect()
}

fn at_index(i: usize, e: PatchError) -> PatchError {
    match e {
        PatchError::Malformed(m) => PatchError::Malformed(format!("operation {i}: {m}")),
        PatchError::NotApplicable(m) => PatchError::NotApplicable(format!("operation {i}: {m}")),
    }
}

fn parse_operation(op: &Value) -> Result<Operation, PatchError> {
    let Value::Object(op) = op else {
        return Err(PatchError::Malformed(
            "an operation must be an object".into(),
        ));
    };
    let pointer = |member: &str| -> Result<Vec<String>, PatchError> {
        match op.get(member) {
            Some(Value::String(p)) => parse_pointer(p),
            Some(_) => Err(PatchError::Malformed(format!(
                "{member:?} must be a string"
            ))),
            None => Err(PatchError::Malformed(format!("{member:?} is missing"))),
        }
    };
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| PatchError::Malformed("\"value\" is missing".into()))
    };
    let name = match op.get("op") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(PatchError::Malformed("\"op\" must be a string".into())),
        None => return Err(PatchError::Malformed("\"op\" is missing".into())),
    };
    Ok(match name {
        "add" => Operation::Add {
            path: pointer("path")?,
            value: value()?,
        },
        "remove" => Operation::Remove {
            path: pointer("path")?,
        },
        "replace" => Operation::Replace {
            path: pointer("path")?,
            value: value()?,
        },
        "move" => Operation::Move {
            from: pointer("from")?,
            path: pointer("path")?,
        },
        "copy" => Operation::Copy {
            from: pointer("from")?,
            path: pointer("path")?,
        },
        "test" => Operation::Test {
            path: pointer("path")?,
            value: value()?,
        },
        other => {
            return Err(PatchError::Malformed(format!(
                "unknown op {other:?} (expected add, remove, replace, move, copy or test)"
            )))
        }
    })
}

/// Applies a JSON Patch document (RFC 6902) to `target`, atomically: on error `target` is unchanged.
pub fn json_patch(target: &mut Value, doc: &Value) -> Result<(), PatchError> {
    apply_operations(target, &parse_json_patch(doc)?)
}

/// Applies parsed JSON Patch operations to `target`, atomically: on error `target` is unchanged.
pub fn apply_operations(target: &mut Value, ops: &[Operation]) -> Result<(), PatchError> {
    let mut work = target.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_operation(&mut work, op).map_err(|e| at_index(i, e))?;
    }
    *target = work;
    Ok(())
}

/// Applies one operation in place (may leave `doc` half-changed on error; see [`json_patch`]).
pub fn apply_operation(doc: &mut Value, op: &Operation) -> Result<(), PatchError> {
    match op {
        Operation::Add { path, value } => add(doc, path, value.clone()),
        Operation::Remove { path } => remove(doc, path).map(drop),
        Operation::Replace { path, value } => {
            let slot = get_mut(doc, path)?;
            *slot = value.clone();
            Ok(())
        }
        Operation::Move { from, path } => {
            if path.len() > from.len() && path[..from.len()] == from[..] {
                return Err(PatchError::NotApplicable(format!(
                    "cannot move {} into its own child {}",
                    render(from),
                    render(path)
                )));
            }
            let v = remove(doc, from)?;
            add(doc, path, v)
        }
        Operation::Copy { from, path } => {
            let v = get_mut(doc, from)?.clone();
            add(doc, path, v)
        }
        Operation::Test { path, value } => {
            let actual = get_mut(doc, path)?;
            if actual == value {
                Ok(())
            } else {
                Err(PatchError::NotApplicable(format!(
                    "test failed: the value at {} is {actual}, not {value}",
                    render(path)
                )))
            }
        }
    }
}

fn missing(path: &[String]) -> PatchError {
    PatchError::NotApplicable(format!("the path {} does not exist", render(path)))
}

/// An existing array index: decimal digits, no leading zero, within `len`.
fn array_index(token: &str, len: usize, path: &[String]) -> Result<usize, PatchError> {
    let well_formed = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    match token.parse::<usize>() {
        Ok(i) if well_formed && i < len => Ok(i),
        _ => Err(missing(path)),
    }
}

fn get_mut<'a>(doc: &'a mut Value, path: &[String]) -> Result<&'a mut Value, PatchError> {
    let mut cur = doc;
    for (depth, tok) in path.iter().enumerate() {
        cur = match cur {
            Value::Object(m) => m.get_mut(tok).ok_or_else(|| missing(&path[..=depth]))?,
            Value::Array(a) => {
                let i = array_index(tok, a.len(), &path[..=depth])?;
                &mut a[i]
            }
            _ => return Err(missing(&path[..=depth])),
        };
    }
    Ok(cur)
}

fn add(doc: &mut Value, path: &[String], value: Value) -> Result<(), PatchError> {
    let Some((last, parent)) = path.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) if last == "-" => {
            a.push(value);
            Ok(())
        }
        Value::Array(a) => {
            // Inserting at len (one past the end) is allowed for add.
            let i = array_index(last, a.len() + 1, path)?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

fn remove(doc: &mut Value, path: &[String]) -> Result<Value, PatchError> {
    let Some((last, parent)) = path.split_last() else {
        return Err(PatchError::NotApplicable(
            "cannot remove the whole document".into(),
        ));
    };
    match get_mut(doc, parent)? {
        Value::Object(m) => m.remove(last).ok_or_else(|| missing(path)),
        Value::Array(a) => {
            let i = array_index(last, a.len(), path)?;
            Ok(a.remove(i))
        }
        _ => Err(missing(path)),
    }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
