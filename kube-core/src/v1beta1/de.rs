//! v1beta1 decoding helpers: the strict path-tracking decoder of [`crate::decode`] with the
//! conversion error type, and the int-or-string scalars the seed's documents used.

use super::ConversionError;
use crate::intstr::IntOrString;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, Unexpected, Visitor};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// Deserializes `value` into `T`, reporting failures with their JSON field path.
pub(crate) fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, ConversionError> {
    crate::decode::from_value(value).map_err(|e| ConversionError {
        field: e.field,
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

/// Reads nothing from a member the server owns (`currentState`): skips its value and leaves
/// the default, while the member stays a known name for field validation.
pub(crate) fn ignored<'de, D: Deserializer<'de>, T: Default>(d: D) -> Result<T, D::Error> {
    de::IgnoredAny::deserialize(d)?;
    Ok(T::default())
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
