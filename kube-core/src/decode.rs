//! Strict decoding of a JSON value into a typed object, for every body read from outside.
//!
//! serde's derived deserializers accept a JSON array where a struct belongs (they fill the
//! fields by position), so `serde_json::from_value` would turn `"metadata": ["x"]` into an
//! object named `x`. [`from_value`] goes through a deserializer over the borrowed `Value` that
//! refuses that at every depth and reports every type mismatch with its JSON field path
//! (e.g. `spec.containers[0].ports`). Like Go's `encoding/json`, object members whose value is
//! `null` count as absent, and unknown members are ignored (by the derived structs).

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde_json::Value;
use std::fmt;

/// A value that does not fit the target type, located by its JSON field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DecodeError {
    /// JSON path of the offending member, e.g. `spec.containers[0].ports`; empty for the document itself.
    pub field: String,
    /// What is wrong, e.g. `expected an object, got an array`.
    pub message: String,
}

/// Deserializes `value` into `T` strictly (no array for a struct), reporting failures with their JSON field path.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    T::deserialize(ValueDe {
        value,
        path: &Path::Root,
    })
    .map_err(|e| DecodeError {
        field: e.path.unwrap_or_default(),
        message: e.message,
    })
}

/// Where the decoder is, as a chain of borrowed segments on the stack: nothing is allocated
/// while decoding succeeds; the text form is built only for an error.
#[derive(Clone, Copy)]
enum Path<'p> {
    /// The document itself.
    Root,
    /// A member of an object.
    Key(&'p Path<'p>, &'p str),
    /// An element of an array.
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Error of the path-tracking deserializer.
#[derive(Debug)]
struct DeError {
    path: Option<String>,
    message: String,
}

impl DeError {
    /// Records `path` as the error's location unless a deeper one is already known.
    fn at(mut self, path: &Path<'_>) -> DeError {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// Describes what was expected in JSON terms ("an array" rather than "a sequence").
fn json_expected(exp: &dyn Expected) -> String {
    let s = exp.to_string();
    match s.as_str() {
        "a sequence" => "an array".to_string(),
        "a map" => "an object".to_string(),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => format!("an integer ({s})"),
        _ if s.starts_with("struct ") => "an object".to_string(),
        _ => s,
    }
}

/// Describes what was found in JSON terms.
fn json_unexpected(unexp: &Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Unit => "null".to_string(),
        Unexpected::Map => "an object".to_string(),
        Unexpected::Seq => "an array".to_string(),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            path: None,
            message: msg.to_string(),
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        DeError::custom(format_args!(
            "expected {}, got {}",
            json_expected(exp),
            json_unexpected(&unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        DeError::custom(format_args!(
            "invalid value {}, expected {}",
            json_unexpected(&unexp),
            json_expected(exp)
        ))
    }
}

/// Deserializer over a borrowed `Value` at a known path.
struct ValueDe<'a, 'p> {
    value: &'a Value,
    path: &'p Path<'p>,
}

impl<'de> Deserializer<'de> for ValueDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(SeqDe {
                iter: items.iter().enumerate(),
                path: self.path,
            }),
            Value::Object(map) => visitor.visit_map(MapDe {
                iter: map.iter(),
                pending: None,
                path: self.path,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        // Go's encoding/json never decoded an array into a struct; serde's derive would.
        match self.value {
            Value::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        enum identifier
    }
}

/// Array access that extends the path with `[i]`.
struct SeqDe<'a, 'p> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: &'p Path<'p>,
}

impl<'de> SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, value)) => {
                let path = Path::Index(self.path, i);
                seed.deserialize(ValueDe { value, path: &path })
                    .map(Some)
                    .map_err(|e| e.at(&path))
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Object access that skips `null` members and extends the path with `.key`.
struct MapDe<'a, 'p> {
    iter: serde_json::map::Iter<'a>,
    pending: Option<(&'a str, &'a Value)>,
    path: &'p Path<'p>,
}

impl<'de> MapAccess<'de> for MapDe<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (key, value) in self.iter.by_ref() {
            if value.is_null() {
                continue;
            }
            self.pending = Some((key.as_str(), value));
            let key_de = BorrowedStrDeserializer::<DeError>::new(key.as_str());
            return seed
                .deserialize(key_de)
                .map(Some)
                .map_err(|e| e.at(&Path::Key(self.path, key)));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        let path = Path::Key(self.path, key);
        seed.deserialize(ValueDe { value, path: &path })
            .map_err(|e| e.at(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Node, Pod, ReplicationController, Service};
    use serde_json::json;

    fn pod_error(v: Value) -> DecodeError {
        from_value::<Pod>(&v).expect_err("must fail")
    }

    #[test]
    fn type_mismatches_are_refused_at_every_depth() {
        let cases = [
            (
                json!({"metadata": []}),
                "metadata",
                "expected an object, got an array",
            ),
            (
                json!({"metadata": ["x"]}),
                "metadata",
                "expected an object, got an array",
            ),
            (
                json!({"status": []}),
                "status",
                "expected an object, got an array",
            ),
            (
                json!({"spec": {"containers": [["c", "i"]]}}),
                "spec.containers[0]",
                "expected an object, got an array",
            ),
            (
                json!({"spec": {"containers": [{"name": "c", "ports": [[80]]}]}}),
                "spec.containers[0].ports[0]",
                "expected an object, got an array",
            ),
            (
                json!({"metadata": {"name": {}}}),
                "metadata.name",
                "expected a string, got an object",
            ),
            (
                json!({"metadata": {"labels": ["a"]}}),
                "metadata.labels",
                "expected an object, got an array",
            ),
            (
                json!({"spec": {"containers": [{"ports": [{"containerPort": 4294967296u64}]}]}}),
                "spec.containers[0].ports[0].containerPort",
                "invalid value integer `4294967296`, expected an integer (i32)",
            ),
            (
                json!({"spec": {"containers": [{"ports": [{"containerPort": 1.5}]}]}}),
                "spec.containers[0].ports[0].containerPort",
                "expected an integer (i32), got floating point `1.5`",
            ),
            (json!([]), "", "expected an object, got an array"),
            (json!("pod"), "", "expected an object, got string \"pod\""),
        ];
        for (input, field, message) in cases {
            let err = pod_error(input.clone());
            assert_eq!(
                (err.field.as_str(), err.message.as_str()),
                (field, message),
                "{input}"
            );
        }
    }

    #[test]
    fn every_kind_refuses_arrays_for_objects() {
        let v = json!({"spec": []});
        assert_eq!(
            from_value::<ReplicationController>(&v).map_err(|e| e.field),
            Err("spec".into())
        );
        assert_eq!(
            from_value::<Service>(&v).map_err(|e| e.field),
            Err("spec".into())
        );
        assert_eq!(
            from_value::<Node>(&v).map_err(|e| e.field),
            Err("spec".into())
        );
    }

    #[test]
    fn nulls_count_as_absent_and_unknown_members_are_ignored() {
        let v =
            json!({"metadata": {"name": "p", "labels": null, "x": [1]}, "spec": null, "extra": {}});
        let pod: Pod = from_value(&v).expect("decodes");
        assert_eq!(pod.metadata.name, "p");
        assert!(pod.metadata.labels.is_empty());
    }
}
