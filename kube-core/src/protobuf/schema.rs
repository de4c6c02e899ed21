//! Per-message schema tables (field number → JSON name and kind) and the decoder that walks
//! a message by its table into a `serde_json::Value` in the v1 JSON shape.
//!
//! Semantics follow Kubernetes' gogo-generated proto2 code: a present field is emitted even
//! when empty or zero, a missing one is absent; unknown field numbers are skipped; for a
//! non-repeated field seen twice the last value wins.

use super::wire::{Reader, WireType, WireValue};
use super::{ProtobufError, MAX_DEPTH};
use crate::time::format_rfc3339;
use serde_json::{Map, Value};

/// What a field holds and how it becomes JSON.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `string` → JSON string (UTF-8 checked).
    String,
    /// `bool` → JSON boolean.
    Bool,
    /// `int32` → JSON number.
    Int32,
    /// `int64` → JSON number (Kubernetes writes int64 as a number, not a string).
    Int64,
    /// A nested message.
    Message(&'static Message),
    /// `map<string, string>` (entries are messages {1 key, 2 value}) → JSON object.
    StringMap,
    /// `intstr.IntOrString` {1 type, 2 intVal, 3 strVal} → JSON number or string.
    IntOrString,
    /// `resource.Quantity` {1 string} → JSON string.
    Quantity,
    /// `meta/v1.Time` {1 seconds, 2 nanos} → RFC 3339 string (whole seconds, as Kubernetes);
    /// the empty message is the zero time and leaves the field absent.
    Time,
    /// `meta/v1.FieldsV1` {1 Raw} whose bytes are JSON → that JSON value.
    RawJson,
}

impl Kind {
    fn wire_type(self) -> WireType {
        match self {
            Kind::Bool | Kind::Int32 | Kind::Int64 => WireType::Varint,
            _ => WireType::LengthDelimited,
        }
    }
}

/// One field of a message's schema.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The protobuf field number.
    pub number: u32,
    /// The JSON name of the field.
    pub name: &'static str,
    /// What the field holds.
    pub kind: Kind,
    /// Whether the field is `repeated` (→ JSON array).
    pub repeated: bool,
}

/// One message's schema: its name (for errors) and the fields we map.
#[derive(Debug)]
pub struct Message {
    /// The protobuf message name, e.g. `k8s.io.api.core.v1.Namespace`.
    pub name: &'static str,
    /// The mapped fields; others are skipped.
    pub fields: &'static [Field],
}

/// A singular field.
pub const fn one(number: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: false,
    }
}

/// A repeated field.
pub const fn many(number: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: true,
    }
}

/// Decodes one message's bytes by its schema into a JSON object.
pub fn decode_message(
    bytes: &[u8],
    msg: &'static Message,
    depth: usize,
    path: &str,
) -> Result<Value, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep { max: MAX_DEPTH });
    }
    let mut out = Map::new();
    let mut r = Reader::new(bytes);
    while let Some((number, value)) = r.field()? {
        let Some(field) = msg.fields.iter().find(|f| f.number == number) else {
            continue;
        };
        let fpath = if path.is_empty() {
            field.name.to_string()
        } else {
            format!("{path}.{}", field.name)
        };
        if value.wire_type() != field.kind.wire_type() {
            return Err(ProtobufError::WrongWireType {
                field: fpath,
                expected: field.kind.wire_type(),
                got: value.wire_type(),
            });
        }
        if let Kind::StringMap = field.kind {
            let WireValue::Bytes(entry) = value else {
                continue;
            };
            let (k, v) = map_entry(entry, &fpath)?;
            let slot = out
                .entry(field.name)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = slot {
                m.insert(k, Value::String(v));
            }
            continue;
        }
        let Some(v) = scalar(field.kind, value, depth, &fpath)? else {
            continue;
        };
        if field.repeated {
            let slot = out
                .entry(field.name)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = slot {
                a.push(v);
            }
        } else {
            out.insert(field.name.to_string(), v);
        }
    }
    Ok(Value::Object(out))
}

fn utf8(b: &[u8], path: &str) -> Result<String, ProtobufError> {
    String::from_utf8(b.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
        field: path.to_string(),
    })
}

fn map_entry(entry: &[u8], path: &str) -> Result<(String, String), ProtobufError> {
    let (mut k, mut v) = (String::new(), String::new());
    let mut r = Reader::new(entry);
    while let Some((n, val)) = r.field()? {
        let slot = match n {
            1 => &mut k,
            2 => &mut v,
            _ => continue,
        };
        let WireValue::Bytes(b) = val else {
            return Err(ProtobufError::WrongWireType {
                field: path.to_string(),
                expected: WireType::LengthDelimited,
                got: val.wire_type(),
            });
        };
        *slot = utf8(b, path)?;
    }
    Ok((k, v))
}

/// The JSON of one value (None: the value leaves the field absent, as a zero Time).
fn scalar(
    kind: Kind,
    value: WireValue<'_>,
    depth: usize,
    path: &str,
) -> Result<Option<Value>, ProtobufError> {
    let bytes = match value {
        WireValue::Varint(n) => {
            return Ok(Some(match kind {
                Kind::Bool => Value::Bool(n != 0),
                // int32 is sign-extended to 64 bits on the wire; truncation is protobuf's rule.
                Kind::Int32 => Value::from(n as i64 as i32),
                _ => Value::from(n as i64),
            }));
        }
        WireValue::Bytes(b) => b,
        // Kinds with fixed wire types are not in any table; the wire type was checked.
        WireValue::Fixed32(_) | WireValue::Fixed64(_) => return Ok(None),
    };
    Ok(Some(match kind {
        Kind::String => Value::String(utf8(bytes, path)?),
        Kind::Message(m) => decode_message(bytes, m, depth + 1, path)?,
        Kind::IntOrString => int_or_string(bytes, path)?,
        Kind::Quantity => Value::String(single_string(bytes, path)?),
        Kind::Time => match time(bytes, path)? {
            Some(t) => Value::String(t),
            None => return Ok(None),
        },
        Kind::RawJson => {
            let raw = single_bytes(bytes, path)?;
            if crate::decode::json_depth_exceeds(raw, crate::protobuf::MAX_DEPTH) {
                return Err(ProtobufError::TooDeep { max: MAX_DEPTH });
            }
            serde_json::from_slice(raw).map_err(|e| ProtobufError::InvalidJson {
                field: path.to_string(),
                reason: e.to_string(),
            })?
        }
        Kind::Bool | Kind::Int32 | Kind::Int64 | Kind::StringMap => return Ok(None),
    }))
}

fn single_bytes<'a>(msg: &'a [u8], path: &str) -> Result<&'a [u8], ProtobufError> {
    let mut out: &[u8] = &[];
    let mut r = Reader::new(msg);
    while let Some((n, v)) = r.field()? {
        if n == 1 {
            let WireValue::Bytes(b) = v else {
                return Err(ProtobufError::WrongWireType {
                    field: path.to_string(),
                    expected: WireType::LengthDelimited,
                    got: v.wire_type(),
                });
            };
            out = b;
        }
    }
    Ok(out)
}

fn single_string(msg: &[u8], path: &str) -> Result<String, ProtobufError> {
    utf8(single_bytes(msg, path)?, path)
}

fn varint_of(v: WireValue<'_>, path: &str) -> Result<u64, ProtobufError> {
    match v {
        WireValue::Varint(n) => Ok(n),
        other => Err(ProtobufError::WrongWireType {
            field: path.to_string(),
            expected: WireType::Varint,
            got: other.wire_type(),
        }),
    }
}

fn int_or_string(msg: &[u8], path: &str) -> Result<Value, ProtobufError> {
    let (mut ty, mut int_val, mut str_val) = (0u64, 0i32, String::new());
    let mut r = Reader::new(msg);
    while let Some((n, v)) = r.field()? {
        match n {
            1 => ty = varint_of(v, path)?,
            2 => int_val = varint_of(v, path)? as i64 as i32,
            3 => match v {
                WireValue::Bytes(b) => str_val = utf8(b, path)?,
                other => {
                    return Err(ProtobufError::WrongWireType {
                        field: path.to_string(),
                        expected: WireType::LengthDelimited,
                        got: other.wire_type(),
                    })
                }
            },
            _ => {}
        }
    }
    match ty {
        0 => Ok(Value::from(int_val)),
        1 => Ok(Value::String(str_val)),
        other => Err(ProtobufError::InvalidValue {
            field: path.to_string(),
            reason: format!("IntOrString type {other} is neither 0 (int) nor 1 (string)"),
        }),
    }
}

/// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of a Kubernetes time.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

fn time(msg: &[u8], path: &str) -> Result<Option<String>, ProtobufError> {
    if msg.is_empty() {
        return Ok(None);
    }
    let mut seconds = 0i64;
    let mut r = Reader::new(msg);
    while let Some((n, v)) = r.field()? {
        // Nanos (2) are dropped, as Kubernetes' Time.Unmarshal does.
        if n == 1 {
            seconds = varint_of(v, path)? as i64;
        }
    }
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(ProtobufError::InvalidValue {
            field: path.to_string(),
            reason: format!("time {seconds}s is outside years 0001 to 9999"),
        });
    }
    Ok(Some(format_rfc3339(seconds)))
}
