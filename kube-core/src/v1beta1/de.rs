//! A `serde_json::Value` deserializer that remembers where it is, so that a type
//! mismatch deep in a v1beta1 document is reported with its JSON field path
//! (e.g. `desiredState.manifest.containers[0].ports`).
//!
//! It behaves like `serde_json::from_value` with two leniencies matching Go's
//! `encoding/json`: object members whose value is `null` are treated as absent, and
//! unknown members are ignored (by the derived structs).

use super::ConversionError;
use crate::intstr::IntOrString;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// Deserializes `value` into `T`, reporting failures with their JSON field path.
pub(crate) fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, ConversionError> {
    T::deserialize(ValueDe {
        value,
        path: String::new(),
    })
    .map_err(|e| ConversionError {
        field: e.path.unwrap_or_default(),
        message: e.message,
    })
}

/// Joins a field name onto a path (`a` + `b` → `a.b`).
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Error of the path-tracking deserializer.
#[derive(Debug)]
pub(crate) struct DeError {
    path: Option<String>,
    message: String,
}

impl DeError {
    /// Records `path` as the error's location unless a deeper one is already known.
    fn at(mut self, path: &str) -> DeError {
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
struct ValueDe<'a> {
    value: &'a Value,
    path: String,
}

impl<'de> Deserializer<'de> for ValueDe<'de> {
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
struct SeqDe<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: String,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, value)) => {
                let path = format!("{}[{i}]", self.path);
                seed.deserialize(ValueDe {
                    value,
                    path: path.clone(),
                })
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
struct MapDe<'a> {
    iter: serde_json::map::Iter<'a>,
    pending: Option<(&'a str, &'a Value)>,
    path: String,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
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
                .map_err(|e| e.at(&join(&self.path, key)));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        let path = join(&self.path, key);
        seed.deserialize(ValueDe {
            value,
            path: path.clone(),
        })
        .map_err(|e| e.at(&path))
    }
}

/// A JSON integer or string, as v1beta1 used for capacities and resource versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// A JSON integer.
    Int(i64),
    /// A JSON string.
    Str(String),
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::Int(i) => s.serialize_i64(*i),
            Scalar::Str(v) => s.serialize_str(v),
        }
    }
}

/// Visitor accepting an integer or a string.
struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        i64::try_from(v)
            .map(Scalar::Int)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Deserializes an optional int-or-string port (`8080` or `"http"`).
pub(crate) fn de_int_or_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<IntOrString>, D::Error> {
    match d.deserialize_any(ScalarVisitor)? {
        Scalar::Str(s) => Ok(Some(IntOrString::String(s))),
        Scalar::Int(i) => i32::try_from(i)
            .map(|i| Some(IntOrString::Int(i)))
            .map_err(|_| de::Error::invalid_value(Unexpected::Signed(i), &"a 32-bit integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, rename_all = "camelCase")]
    struct Inner {
        ports: Vec<i32>,
        name: String,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, rename_all = "camelCase")]
    struct Outer {
        items: Vec<Inner>,
        inner: Option<Inner>,
        #[serde(deserialize_with = "de_int_or_string")]
        port: Option<IntOrString>,
    }

    #[test]
    fn errors_carry_the_field_path() {
        let cases = [
            (
                json!({"items": [{}, {"ports": 5}]}),
                "items[1].ports",
                "expected an array, got integer `5`",
            ),
            (
                json!({"items": {}}),
                "items",
                "expected an array, got an object",
            ),
            (
                json!({"inner": {"name": 1}}),
                "inner.name",
                "expected a string, got integer `1`",
            ),
            (
                json!({"inner": {"ports": ["x"]}}),
                "inner.ports[0]",
                "expected an integer (i32), got string \"x\"",
            ),
            (
                json!({"port": true}),
                "port",
                "expected an integer or a string, got boolean `true`",
            ),
            (json!([1]), "", "expected an object, got an array"),
            (json!(null), "", "expected an object, got null"),
        ];
        for (input, field, message) in cases {
            let err = decode::<Outer>(&input).expect_err("must fail");
            assert_eq!(err.field, field, "{input}");
            assert_eq!(err.message, message, "{input}");
        }
    }

    #[test]
    fn nulls_and_unknown_members_are_ignored() {
        let got: Outer =
            decode(&json!({"items": null, "inner": {"name": null, "x": 1}, "port": "http"}))
                .expect("decodes");
        assert_eq!(
            got,
            Outer {
                items: vec![],
                inner: Some(Inner::default()),
                port: Some(IntOrString::String("http".into())),
            }
        );
    }
}
