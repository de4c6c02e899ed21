//! The Swagger 2.0 document in protobuf: gnostic's `openapi.v2.Document` (`openapiv2/
//! OpenAPIv2.proto`), served for `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
//! as kubectl 1.20 asks. A small encoder from the JSON document, message by message, with the
//! proto's field numbers; vendor extensions (`x-…`) and `enum` values go as `Any { yaml }` (JSON
//! is YAML). A key the proto has no field for is an error, so nothing is dropped silently.
//! [`decode`] reads the wire format back (for tests and debugging).

use serde_json::Value;

/// A JSON document the encoder cannot express.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("openapi protobuf: {path}: {reason}")]
pub struct ProtoError {
    /// JSON path of the offending value.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

type Result<T> = std::result::Result<T, ProtoError>;

fn err<T>(path: &str, reason: impl Into<String>) -> Result<T> {
    Err(ProtoError {
        path: path.to_string(),
        reason: reason.into(),
    })
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

fn bytes(buf: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(buf, field, LEN);
    varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// Field kinds of the messages.
#[derive(Clone, Copy)]
enum F {
    Str(u32),
    Strs(u32),
    Bool(u32),
    Double(u32),
    Int(u32),
    /// A message encoded by the function.
    Msg(u32, fn(&Value, &str) -> Result<Vec<u8>>),
    /// A repeated message: every element of an array.
    Msgs(u32, fn(&Value, &str) -> Result<Vec<u8>>),
    /// `Any` values (`enum`, `default`, `example`).
    Anys(u32),
}

/// Encodes the JSON object `v` as a message whose fields `fields` names; `x-…` keys go to the
/// vendor extension field `ext` (0: none).
fn message(v: &Value, path: &str, ext: u32, fields: &[(&str, F)]) -> Result<Vec<u8>> {
    let Some(map) = v.as_object() else {
        return err(path, "expected an object");
    };
    if let Some(k) = map
        .keys()
        .find(|k| !(fields.iter().any(|(n, _)| n == k) || ext != 0 && k.starts_with("x-")))
    {
        return err(&format!("{path}.{k}"), "no protobuf field");
    }
    // In field order, extensions last, as protoc-generated encoders write them.
    let mut buf = Vec::new();
    for (name, f) in fields {
        if let Some(val) = map.get(*name) {
            field(&mut buf, *f, val, &format!("{path}.{name}"))?;
        }
    }
    for (k, val) in map.iter().filter(|(k, _)| ext != 0 && k.starts_with("x-")) {
        bytes(&mut buf, ext, &named_any(k, val)?);
    }
    Ok(buf)
}

fn field(buf: &mut Vec<u8>, f: F, val: &Value, p: &str) -> Result<()> {
    match f {
        F::Str(n) => match val.as_str() {
            Some("") => {}
            Some(s) => bytes(buf, n, s.as_bytes()),
            None => return err(p, "expected a string"),
        },
        F::Strs(n) => {
            let items = match val {
                Value::String(_) => std::slice::from_ref(val),
                Value::Array(items) => items.as_slice(),
                _ => return err(p, "expected strings"),
            };
            for s in items {
                match s.as_str() {
                    Some(s) => bytes(buf, n, s.as_bytes()),
                    None => return err(p, "expected a string"),
                }
            }
        }
        F::Bool(n) => match val.as_bool() {
            Some(false) => {}
            Some(true) => {
                key(buf, n, VARINT);
                varint(buf, 1);
            }
            None => return err(p, "expected a boolean"),
        },
        F::Double(n) => match val.as_f64() {
            Some(d) => {
                key(buf, n, FIXED64);
                buf.extend_from_slice(&d.to_le_bytes());
            }
            None => return err(p, "expected a number"),
        },
        F::Int(n) => match val.as_i64() {
            Some(0) => {}
            Some(i) => {
                key(buf, n, VARINT);
                varint(buf, i as u64);
            }
            None => return err(p, "expected an integer"),
        },
        F::Msg(n, enc) => bytes(buf, n, &enc(val, p)?),
        F::Msgs(n, enc) => match val {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    bytes(buf, n, &enc(item, &format!("{p}[{i}]"))?);
                }
            }
            other => bytes(buf, n, &enc(other, p)?),
        },
        F::Anys(n) => match val {
            Value::Array(items) => {
                for item in items {
                    bytes(buf, n, &any(item));
                }
            }
            other => bytes(buf, n, &any(other)),
        },
    }
    Ok(())
}

/// `Any { yaml = 2 }`.
fn any(v: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    bytes(&mut buf, 2, v.to_string().as_bytes());
    buf
}

/// `NamedAny { name = 1; Any value = 2 }`.
fn named_any(name: &str, v: &Value) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    bytes(&mut buf, 1, name.as_bytes());
    bytes(&mut buf, 2, &any(v));
    Ok(buf)
}

/// A map as repeated `Named… { name = 1; value = 2 }`, in field `n` of the enclosing message.
fn named_map(
    v: &Value,
    path: &str,
    n: u32,
    enc: fn(&Value, &str) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let Some(map) = v.as_object() else {
        return err(path, "expected an object");
    };
    let mut buf = Vec::new();
    for (k, val) in map {
        let mut named = Vec::new();
        bytes(&mut named, 1, k.as_bytes());
        bytes(&mut named, 2, &enc(val, &format!("{path}.{k}"))?);
        bytes(&mut buf, n, &named);
    }
    Ok(buf)
}

/// Encodes a Swagger 2.0 document as gnostic's `openapi.v2.Document`.
pub fn encode_document(doc: &Value) -> Result<Vec<u8>> {
    message(
        doc,
        "$",
        16,
        &[
            ("swagger", F::Str(1)),
            ("info", F::Msg(2, info)),
            ("host", F::Str(3)),
            ("basePath", F::Str(4)),
            ("schemes", F::Strs(5)),
            ("consumes", F::Strs(6)),
            ("produces", F::Strs(7)),
            ("paths", F::Msg(8, paths)),
            ("definitions", F::Msg(9, definitions)),
        ],
    )
}

fn info(v: &Value, p: &str) -> Result<Vec<u8>> {
    message(
        v,
        p,
        7,
        &[
            ("title", F::Str(1)),
            ("version", F::Str(2)),
            ("description", F::Str(3)),
        ],
    )
}

fn definitions(v: &Value, p: &str) -> Result<Vec<u8>> {
    named_map(v, p, 1, schema)
}

fn paths(v: &Value, p: &str) -> Result<Vec<u8>> {
    let Some(map) = v.as_object() else {
        return err(p, "expected an object");
    };
    let mut buf = Vec::new();
    for (k, val) in map {
        if k.starts_with("x-") {
            bytes(&mut buf, 1, &named_any(k, val)?);
            continue;
        }
        let mut named = Vec::new();
        bytes(&mut named, 1, k.as_bytes());
        bytes(&mut named, 2, &path_item(val, &format!("{p}.{k}"))?);
        bytes(&mut buf, 2, &named);
    }
    Ok(buf)
}

fn path_item(v: &Value, p: &str) -> Result<Vec<u8>> {
    message(
        v,
        p,
        10,
        &[
            ("$ref", F::Str(1)),
            ("get", F::Msg(2, operation)),
            ("put", F::Msg(3, operation)),
            ("post", F::Msg(4, operation)),
            ("delete", F::Msg(5, operation)),
            ("options", F::Msg(6, operation)),
            ("head", F::Msg(7, operation)),
            ("patch", F::Msg(8, operation)),
            ("parameters", F::Msgs(9, parameters_item)),
        ],
    )
}

fn operation(v: &Value, p: &str) -> Result<Vec<u8>> {
    message(
        v,
        p,
        13,
        &[
            ("tags", F::Strs(1)),
            ("summary", F::Str(2)),
            ("description", F::Str(3)),
            ("operationId", F::Str(5)),
            ("produces", F::Strs(6)),
            ("consumes", F::Strs(7)),
            ("parameters", F::Msgs(8, parameters_item)),
            ("responses", F::Msg(9, responses)),
            ("schemes", F::Strs(10)),
            ("deprecated", F::Bool(11)),
        ],
    )
}

/// `ParametersItem { oneof { Parameter parameter = 1; JsonReference json_reference = 2 } }`.
fn parameters_item(v: &Value, p: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    if v.get("$ref").is_some() {
        bytes(&mut buf, 2, &json_reference(v, p)?);
        return Ok(buf);
    }
    // Parameter { oneof { BodyParameter = 1; NonBodyParameter = 2 } }
    let mut param = Vec::new();
    match v.get("in").and_then(Value::as_str) {
        Some("body") => {
            let body = message(
                v,
                p,
                6,
                &[
                    ("description", F::Str(1)),
                    ("name", F::Str(2)),
                    ("in", F::Str(3)),
                    ("required", F::Bool(4)),
                    ("schema", F::Msg(5, schema)),
                ],
            )?;
            bytes(&mut param, 1, &body);
        }
        Some(location @ ("query" | "path" | "header")) => {
            // NonBodyParameter { header = 1; formData = 2; query = 3; path = 4 }; query has
            // `allowEmptyValue` at 5, shifting the rest by one.
            let shift = u32::from(location == "query");
            let simple = [
                ("required", F::Bool(1)),
                ("in", F::Str(2)),
                ("description", F::Str(3)),
                ("name", F::Str(4)),
                ("type", F::Str(5 + shift)),
                ("format", F::Str(6 + shift)),
                ("uniqueItems", F::Bool(19 + shift)),
            ];
            let sub = message(v, p, 22 + shift, &simple)?;
            let n = match location {
                "query" => 3,
                "path" => 4,
                _ => 1,
            };
            let mut non_body = Vec::new();
            bytes(&mut non_body, n, &sub);
            bytes(&mut param, 2, &non_body);
        }
        _ => return err(p, "parameter without a known `in`"),
    }
    bytes(&mut buf, 1, &param);
    Ok(buf)
}

fn json_reference(v: &Value, p: &str) -> Result<Vec<u8>> {
    message(v, p, 0, &[("$ref", F::Str(1)), ("description", F::Str(2))])
}

/// `Responses { repeated NamedResponseValue response_code = 1; vendor_extension = 2 }`.
fn responses(v: &Value, p: &str) -> Result<Vec<u8>> {
    let Some(map) = v.as_object() else {
        return err(p, "expected an object");
    };
    let mut buf = Vec::new();
    for (k, val) in map {
        if k.starts_with("x-") {
            bytes(&mut buf, 2, &named_any(k, val)?);
            continue;
        }
        let path = format!("{p}.{k}");
        // ResponseValue { oneof { Response response = 1; JsonReference json_reference = 2 } }
        let mut value = Vec::new();
        if val.get("$ref").is_some() {
            bytes(&mut value, 2, &json_reference(val, &path)?);
        } else {
            let response = message(
                val,
                &path,
                5,
                &[
                    ("description", F::Str(1)),
                    ("schema", F::Msg(2, schema_item)),
                ],
            )?;
            bytes(&mut value, 1, &response);
        }
        let mut named = Vec::new();
        bytes(&mut named, 1, k.as_bytes());
        bytes(&mut named, 2, &value);
        bytes(&mut buf, 1, &named);
    }
    Ok(buf)
}

/// `SchemaItem { oneof { Schema schema = 1; FileSchema file_schema = 2 } }`.
fn schema_item(v: &Value, p: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    bytes(&mut buf, 1, &schema(v, p)?);
    Ok(buf)
}

fn schema(v: &Value, p: &str) -> Result<Vec<u8>> {
    message(
        v,
        p,
        31,
        &[
            ("$ref", F::Str(1)),
            ("format", F::Str(2)),
            ("title", F::Str(3)),
            ("description", F::Str(4)),
            ("default", F::Anys(5)),
            ("multipleOf", F::Double(6)),
            ("maximum", F::Double(7)),
            ("exclusiveMaximum", F::Bool(8)),
            ("minimum", F::Double(9)),
            ("exclusiveMinimum", F::Bool(10)),
            ("maxLength", F::Int(11)),
            ("minLength", F::Int(12)),
            ("pattern", F::Str(13)),
            ("maxItems", F::Int(14)),
            ("minItems", F::Int(15)),
            ("uniqueItems", F::Bool(16)),
            ("maxProperties", F::Int(17)),
            ("minProperties", F::Int(18)),
            ("required", F::Strs(19)),
            ("enum", F::Anys(20)),
            ("additionalProperties", F::Msg(21, additional_properties)),
            ("type", F::Msg(22, type_item)),
            ("items", F::Msg(23, items_item)),
            ("allOf", F::Msgs(24, schema)),
            ("properties", F::Msg(25, properties)),
            ("discriminator", F::Str(26)),
            ("readOnly", F::Bool(27)),
            ("example", F::Anys(30)),
        ],
    )
}

/// `AdditionalPropertiesItem { oneof { Schema schema = 1; bool boolean = 2 } }`.
fn additional_properties(v: &Value, p: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    match v {
        Value::Bool(b) => {
            key(&mut buf, 2, VARINT);
            varint(&mut buf, u64::from(*b));
        }
        other => bytes(&mut buf, 1, &schema(other, p)?),
    }
    Ok(buf)
}

/// `TypeItem { repeated string value = 1 }`.
fn type_item(v: &Value, p: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    field(&mut buf, F::Strs(1), v, p)?;
    Ok(buf)
}

/// `ItemsItem { repeated Schema schema = 1 }`.
fn items_item(v: &Value, p: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    field(&mut buf, F::Msgs(1, schema), v, p)?;
    Ok(buf)
}

/// `Properties { repeated NamedSchema additional_properties = 1 }`.
fn properties(v: &Value, p: &str) -> Result<Vec<u8>> {
    named_map(v, p, 1, schema)
}

/// One decoded field of a protobuf message.
#[derive(Clone, Debug, PartialEq)]
pub enum WireValue<'a> {
    /// A varint.
    Varint(u64),
    /// A 64-bit value.
    Fixed64(u64),
    /// A length-delimited value (string, bytes or message).
    Bytes(&'a [u8]),
    /// A 32-bit value.
    Fixed32(u32),
}

/// Reads the top-level fields of a protobuf message: (field number, value), in wire order.
pub fn decode(mut b: &[u8]) -> std::result::Result<Vec<(u32, WireValue<'_>)>, ProtoError> {
    fn read_varint(b: &mut &[u8]) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some((&byte, rest)) = b.split_first() else {
                return err("wire", "truncated varint");
            };
            *b = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
        }
        err("wire", "varint too long")
    }
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if b.len() < n {
            return err("wire", "truncated field");
        }
        let (head, rest) = b.split_at(n);
        *b = rest;
        Ok(head)
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let k = read_varint(&mut b)?;
        let number = u32::try_from(k >> 3).or_else(|_| err("wire", "field number too large"))?;
        let value = match k & 7 {
            0 => WireValue::Varint(read_varint(&mut b)?),
            1 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(take(&mut b, 8)?);
                WireValue::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let n = usize::try_from(read_varint(&mut b)?)
                    .or_else(|_| err("wire", "length too large"))?;
                WireValue::Bytes(take(&mut b, n)?)
            }
            5 => {
                let mut a = [0u8; 4];
                a.copy_from_slice(take(&mut b, 4)?);
                WireValue::Fixed32(u32::from_le_bytes(a))
            }
            w => return err("wire", format!("unsupported wire type {w}")),
        };
        out.push((number, value));
    }
    Ok(out)
}

/// The length-delimited values of field `number` in `fields`.
pub fn field_bytes<'a>(fields: &[(u32, WireValue<'a>)], number: u32) -> Vec<&'a [u8]> {
    fields
        .iter()
        .filter_map(|(n, v)| match v {
            WireValue::Bytes(b) if *n == number => Some(*b),
            _ => None,
        })
        .collect()
}

/// Encodes `v`'s keys as a `Map` for tests of a single schema.
#[cfg(test)]
pub(crate) fn encode_schema(v: &serde_json::Map<String, Value>) -> Result<Vec<u8>> {
    schema(&Value::Object(v.clone()), "$")
}
