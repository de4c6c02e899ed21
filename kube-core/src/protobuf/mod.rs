//! Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`),
//! turned into the v1 JSON shape so the API server decodes them by the same path as JSON.
//!
//! A body is the magic `k8s\0`, then a `runtime.Unknown` {1 typeMeta {1 apiVersion, 2 kind},
//! 2 raw, 3 contentEncoding, 4 contentType} whose `raw` is the object as the messages of
//! `k8s.io/api/core/v1/generated.proto` (and apimachinery's `meta/v1`) encode it. [`wire`]
//! reads the wire format, [`schema`] walks a message by its table, and [`meta`] and [`core`]
//! hold the tables of the kinds served. Responses are never protobuf.

pub mod core;
pub mod meta;
pub mod schema;
pub mod wire;

use serde_json::Value;
use wire::{Reader, WireType, WireValue};

/// The media type of Kubernetes' protobuf encoding.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every protobuf-encoded object starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Deepest nesting of messages accepted (Kubernetes objects nest about 10 deep).
pub const MAX_DEPTH: usize = 32;

/// Why a protobuf body could not be turned into JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with `k8s\0`.
    #[error("the body does not start with the protobuf magic number k8s\\0")]
    BadMagic,
    /// A value runs past the end of its message.
    #[error("truncated protobuf at byte {offset}")]
    Truncated {
        /// Offset of the read that ran out, within its message.
        offset: usize,
    },
    /// A varint longer than ten bytes or over 64 bits.
    #[error("malformed varint at byte {offset}")]
    BadVarint {
        /// Offset of the varint within its message.
        offset: usize,
    },
    /// A field number of 0 or beyond 2^29 - 1.
    #[error("invalid field number at byte {offset}")]
    BadFieldNumber {
        /// Offset of the key within its message.
        offset: usize,
    },
    /// Wire types 3, 4 (groups), 6 and 7.
    #[error("unsupported protobuf wire type {0}")]
    UnsupportedWireType(u8),
    /// A known field with a wire type its schema does not allow.
    #[error("field {field}: wire type {got:?}, expected {expected:?}")]
    WrongWireType {
        /// The JSON path of the field.
        field: String,
        /// The wire type the schema wants.
        expected: WireType,
        /// The wire type in the body.
        got: WireType,
    },
    /// Messages nested deeper than [`MAX_DEPTH`].
    #[error("the protobuf body nests deeper than {max} messages")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A string field that is not UTF-8.
    #[error("field {field}: string is not valid UTF-8")]
    InvalidUtf8 {
        /// The JSON path of the field.
        field: String,
    },
    /// A field whose bytes should hold JSON but do not.
    #[error("field {field}: invalid JSON: {reason}")]
    InvalidJson {
        /// The JSON path of the field.
        field: String,
        /// The parser's message.
        reason: String,
    },
    /// A value out of its domain (a time beyond year 9999, an IntOrString type of 7).
    #[error("field {field}: {reason}")]
    InvalidValue {
        /// The JSON path of the field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The envelope is not plain protobuf (a content encoding or another content type).
    #[error("unsupported envelope: {0}")]
    UnsupportedEnvelope(String),
    /// An apiVersion and kind without a schema here (the server answers 415).
    #[error(
        "the protobuf encoding of {api_version}/{kind} is not supported; send application/json"
    )]
    UnsupportedKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
}

/// The schema of the object an envelope names, if this module has one.
pub fn schema_for(api_version: &str, kind: &str) -> Option<&'static schema::Message> {
    match (api_version, kind) {
        ("v1", "Namespace") => Some(&core::NAMESPACE),
        ("v1", "Service") => Some(&core::SERVICE),
        ("v1" | "meta.k8s.io/v1", "DeleteOptions") => Some(&meta::DELETE_OPTIONS),
        _ => None,
    }
}

/// Turns a protobuf request body (magic, `runtime.Unknown` envelope, object) into the object's
/// JSON, with `apiVersion` and `kind` taken from the envelope (the caller checks them against
/// the route, as it does for JSON).
pub fn to_json(body: &[u8]) -> Result<Value, ProtobufError> {
    let Some(rest) = body.strip_prefix(MAGIC.as_slice()) else {
        return Err(ProtobufError::BadMagic);
    };
    let env = Envelope::read(rest)?;
    if !env.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEnvelope(format!(
            "content encoding {:?}",
            env.content_encoding
        )));
    }
    if !env.content_type.is_empty() && env.content_type != MEDIA_TYPE {
        return Err(ProtobufError::UnsupportedEnvelope(format!(
            "content type {:?}",
            env.content_type
        )));
    }
    let msg =
        schema_for(&env.api_version, &env.kind).ok_or_else(|| ProtobufError::UnsupportedKind {
            api_version: env.api_version.clone(),
            kind: env.kind.clone(),
        })?;
    let mut obj = schema::decode_message(env.raw, msg, 1, "")?;
    if let Value::Object(m) = &mut obj {
        m.insert("apiVersion".into(), Value::String(env.api_version));
        m.insert("kind".into(), Value::String(env.kind));
    }
    Ok(obj)
}

/// The fields of a `runtime.Unknown`.
#[derive(Debug, Default)]
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

fn bytes_of<'a>(v: WireValue<'a>, field: &str) -> Result<&'a [u8], ProtobufError> {
    match v {
        WireValue::Bytes(b) => Ok(b),
        other => Err(ProtobufError::WrongWireType {
            field: field.to_string(),
            expected: WireType::LengthDelimited,
            got: other.wire_type(),
        }),
    }
}

fn string_of(v: WireValue<'_>, field: &str) -> Result<String, ProtobufError> {
    String::from_utf8(bytes_of(v, field)?.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
        field: field.to_string(),
    })
}

impl<'a> Envelope<'a> {
    fn read(buf: &'a [u8]) -> Result<Envelope<'a>, ProtobufError> {
        let mut env = Envelope::default();
        let mut r = Reader::new(buf);
        while let Some((n, v)) = r.field()? {
            match n {
                1 => {
                    let mut tm = Reader::new(bytes_of(v, "typeMeta")?);
                    while let Some((n, v)) = tm.field()? {
                        match n {
                            1 => env.api_version = string_of(v, "typeMeta.apiVersion")?,
                            2 => env.kind = string_of(v, "typeMeta.kind")?,
                            _ => {}
                        }
                    }
                }
                2 => env.raw = bytes_of(v, "raw")?,
                3 => env.content_encoding = string_of(v, "contentEncoding")?,
                4 => env.content_type = string_of(v, "contentType")?,
                _ => {}
            }
        }
        Ok(env)
    }
}

#[cfg(test)]
mod tests;
