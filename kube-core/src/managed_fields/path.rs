//! Path elements of a field set, ordered and printed as structured-merge-diff does.

use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// One step of a field path.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A member of an object (`f:<name>`).
    Field(String),
    /// An item of an associative list, by its key fields sorted by name (`k:{"name":"a"}`).
    Key(Vec<(String, Value)>),
    /// An item of a set (a list of primitives merged as a set): the value (`v:"x"`).
    Value(Value),
    /// An item of a list by position (`i:0`); never produced for the built-in kinds.
    Index(usize),
}

impl PathElement {
    /// The FieldsV1 key of this element (`f:spec`, `k:{"name":"a"}`, `v:"x"`, `i:0`).
    pub fn to_key(&self) -> String {
        self.key().to_string()
    }

    /// The FieldsV1 key of this element, written where it goes.
    pub(crate) fn key(&self) -> Key<'_> {
        Key(self)
    }

    /// Parses a FieldsV1 key (not `.`).
    pub fn from_key(key: &str) -> Result<PathElement, String> {
        let (kind, rest) = key
            .split_once(':')
            .ok_or_else(|| format!("{key:?}: not a FieldsV1 key"))?;
        match kind {
            "f" => Ok(PathElement::Field(rest.to_string())),
            "k" => match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(m)) if !m.is_empty() => {
                    let mut fields: Vec<(String, Value)> = m.into_iter().collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    Ok(PathElement::Key(fields))
                }
                _ => Err(format!("{key:?}: the key must be a non-empty JSON object")),
            },
            "v" => serde_json::from_str(rest)
                .map(PathElement::Value)
                .map_err(|e| format!("{key:?}: {e}")),
            "i" => rest
                .parse()
                .map(PathElement::Index)
                .map_err(|e| format!("{key:?}: {e}")),
            _ => Err(format!("{key:?}: unknown FieldsV1 key type {kind:?}")),
        }
    }
}

/// A path element's FieldsV1 key, displayed (and serialized) without building a string.
pub(crate) struct Key<'a>(&'a PathElement);

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PathElement::Field(n) => write!(f, "f:{n}"),
            PathElement::Key(fields) => {
                // `{"name":"a"}`: the key fields as a JSON object, in name order.
                f.write_str("k:{")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    let name = serde_json::to_string(name).map_err(|_| fmt::Error)?;
                    write!(f, "{name}:{v}")?;
                }
                f.write_str("}")
            }
            PathElement::Value(v) => write!(f, "v:{v}"),
            PathElement::Index(i) => write!(f, "i:{i}"),
        }
    }
}

impl serde::Serialize for Key<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// structured-merge-diff's `PathElement.String()`: `.name`, `[name="a"]`, `[="x"]`, `[0]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(n) => write!(f, ".{n}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={v}")?;
                }
                f.write_str("]")
            }
            PathElement::Value(v) => write!(f, "[={v}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path from the object's root, printed as `.spec.containers[name="a"].image`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|pe| write!(f, "{pe}"))
    }
}

/// The rank of a value's type in structured-merge-diff's `value.Compare`: numbers, strings,
/// booleans, lists, maps, null.
fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// structured-merge-diff's total order of values (numbers numerically).
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (x, y) in x.iter().zip(y) {
                let c = compare_values(x, y);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(_), Value::Object(_)) => a.to_string().cmp(&b.to_string()),
        (Value::Null, Value::Null) => Ordering::Equal,
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

impl Ord for PathElement {
    /// Fields, then keys, then values, then indexes (structured-merge-diff's order).
    fn cmp(&self, other: &Self) -> Ordering {
        fn rank(pe: &PathElement) -> u8 {
            match pe {
                PathElement::Field(_) => 0,
                PathElement::Key(_) => 1,
                PathElement::Value(_) => 2,
                PathElement::Index(_) => 3,
            }
        }
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for ((an, av), (bn, bv)) in a.iter().zip(b) {
                    let c = an.cmp(bn).then_with(|| compare_values(av, bv));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}
