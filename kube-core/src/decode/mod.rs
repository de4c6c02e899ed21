//! Strict decoding of a JSON value into a typed object, for every body read from outside.
//!
//! serde's derived deserializers accept a JSON array where a struct belongs (they fill the
//! fields by position), so `serde_json::from_value` would turn `"metadata": ["x"]` into an
//! object named `x`. [`from_value`] goes through a deserializer over the borrowed `Value` that
//! refuses that at every depth and reports every type mismatch with its JSON field path
//! (e.g. `spec.containers[0].ports`). Like Go's `encoding/json`, object members whose value is
//! `null` count as absent, and unknown members are ignored (by the derived structs).
//!
//! Field validation (Kubernetes' `fieldValidation`) asks what strict decoding would refuse:
//! [`unknown_fields`] runs one or more decodes of a document and reports the members no
//! struct field took (an object decoded as a struct knows exactly the names serde gives it;
//! maps know every key), and [`parse_json`] parses JSON text reporting members whose key
//! repeats an earlier one of the same object. Both are reported as [`StrictError`]s.

mod json;

pub use json::{json_depth_exceeds, parse_json};

use crate::v1beta1::{ConversionError, V1Beta1};
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde_json::Value;
use std::cell::RefCell;
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
///
/// Inside [`unknown_fields`], the members no field of `T` takes are also recorded.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    let tracking = TRACKER.with(|t| t.borrow().is_some());
    let local = RefCell::new(Tracker::default());
    let result = T::deserialize(ValueDe {
        value,
        path: &Path::Root,
        track: tracking.then_some(&local),
    })
    .map_err(|e| DecodeError {
        field: e.path.unwrap_or_default(),
        message: e.message,
    });
    if tracking {
        TRACKER.with(|t| {
            if let Some(outer) = t.borrow_mut().as_mut() {
                outer.absorb(local.into_inner());
            }
        });
    }
    result
}

/// Most strict-decoding errors reported for one document; more are counted, not listed.
pub const MAX_STRICT_ERRORS: usize = 100;

/// Longest field path reported, in bytes (longer ones are cut, ending in `...`).
pub const MAX_PATH_BYTES: usize = 1024;

/// What strict decoding refuses about one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictKind {
    /// A member no field of the type takes.
    Unknown,
    /// A member whose key repeats an earlier one of the same object.
    Duplicate,
}

/// One member strict decoding refuses, worded as Kubernetes words it
/// (`unknown field "spec.foo"`, `duplicate field "metadata.name"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrictError {
    /// Unknown or duplicate.
    pub kind: StrictKind,
    /// JSON path of the member, e.g. `spec.containers[0].imagee`.
    pub field: String,
    /// Text put before the message (`json patch ` for a JSON Patch's own members), usually empty.
    pub prefix: &'static str,
}

impl StrictError {
    /// An unknown member at `field`.
    pub fn unknown(field: impl Into<String>) -> StrictError {
        StrictError {
            kind: StrictKind::Unknown,
            field: field.into(),
            prefix: "",
        }
    }

    /// A repeated member at `field`.
    pub fn duplicate(field: impl Into<String>) -> StrictError {
        StrictError {
            kind: StrictKind::Duplicate,
            field: field.into(),
            prefix: "",
        }
    }
}

impl fmt::Display for StrictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            StrictKind::Unknown => "unknown",
            StrictKind::Duplicate => "duplicate",
        };
        write!(f, "{}{what} field {:?}", self.prefix, self.field)
    }
}

/// Every strict-decoding error of a document: at most [`MAX_STRICT_ERRORS`] listed, the rest counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrictErrors {
    /// The errors, in the order found.
    pub errors: Vec<StrictError>,
    /// How many more were found than are listed.
    pub omitted: usize,
}

impl StrictErrors {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.omitted == 0
    }

    /// Whether another error would be listed rather than only counted.
    pub fn has_room(&self) -> bool {
        self.errors.len() < MAX_STRICT_ERRORS
    }

    /// Adds an error, or counts it once the list is full.
    pub fn push(&mut self, e: StrictError) {
        if self.errors.len() < MAX_STRICT_ERRORS {
            self.errors.push(e);
        } else {
            self.omitted += 1;
        }
    }

    /// Adds every error of `other`.
    pub fn extend(&mut self, other: StrictErrors) {
        for e in other.errors {
            self.push(e);
        }
        self.omitted += other.omitted;
    }

    /// One text per error (the warnings of `fieldValidation=Warn`), plus a last one counting
    /// the omitted ones.
    pub fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        if self.omitted > 0 {
            out.push(format!("and {} more strict decoding errors", self.omitted));
        }
        out
    }
}

impl fmt::Display for StrictErrors {
    /// `strict decoding error: unknown field "spec.foo", duplicate field "metadata.name"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("strict decoding error: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        if self.omitted > 0 {
            write!(f, ", and {} more", self.omitted)?;
        }
        Ok(())
    }
}

/// Runs `f`, which decodes (with [`from_value`], once or several times) parts of ONE document
/// that stays alive while `f` runs, and returns its result with the members that no decode
/// took: a member is unknown when every struct its object was decoded as lacks the name (so
/// a document decoded in two passes, such as a v1beta1 body's metadata and body, knows the
/// names of both). Objects decoded as maps know every key. Nested calls each see their own.
pub fn unknown_fields<R>(f: impl FnOnce() -> R) -> (R, StrictErrors) {
    /// Restores the enclosing tracker even when `f` unwinds.
    struct Restore(Option<Tracker>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            TRACKER.with(|t| *t.borrow_mut() = previous);
        }
    }
    let previous = TRACKER.with(|t| t.borrow_mut().replace(Tracker::default()));
    let restore = Restore(previous);
    let result = f();
    let tracker = TRACKER.with(|t| t.borrow_mut().take()).unwrap_or_default();
    drop(restore);
    (result, tracker.finish())
}

/// [`from_value`] with [`unknown_fields`]: the object, or why it does not decode, and the
/// members `T` does not know.
pub fn from_value_reporting<T: DeserializeOwned>(
    value: &Value,
) -> (Result<T, DecodeError>, StrictErrors) {
    unknown_fields(|| from_value(value))
}

/// [`V1Beta1::from_v1beta1`] with [`unknown_fields`]: the members neither the v1beta1
/// metadata nor the kind's body take (`kind` and `apiVersion`, which the route checks, are
/// always known).
pub fn from_v1beta1_reporting<T: V1Beta1>(
    value: Value,
) -> (Result<T, ConversionError>, StrictErrors) {
    let (result, mut found) = unknown_fields(|| T::from_v1beta1(value));
    found
        .errors
        .retain(|e| e.field != "kind" && e.field != "apiVersion");
    (result, found)
}

thread_local! {
    /// The tracker of the innermost [`unknown_fields`] running on this thread.
    static TRACKER: RefCell<Option<Tracker>> = const { RefCell::new(None) };
}

/// Most candidate members remembered per document (beyond that they are only counted).
const MAX_CANDIDATES: usize = 1024;

/// Objects seen while decoding and the members their structs did not take.
#[derive(Default)]
struct Tracker {
    /// Every object decoded: its address and the names its struct knows (`None`: a map, every key known).
    visits: Vec<(usize, Option<&'static [&'static str]>)>,
    /// Members a struct did not take: the object's address, the key and the member's path.
    candidates: Vec<(usize, String, String)>,
    /// Candidates beyond [`MAX_CANDIDATES`].
    dropped: usize,
}

impl Tracker {
    fn absorb(&mut self, other: Tracker) {
        self.visits.extend(other.visits);
        for c in other.candidates {
            self.candidate(c);
        }
        self.dropped += other.dropped;
    }

    fn candidate(&mut self, c: (usize, String, String)) {
        if self.candidates.len() < MAX_CANDIDATES {
            self.candidates.push(c);
        } else {
            self.dropped += 1;
        }
    }

    /// The candidates no visit of their object knows, each reported once.
    fn finish(mut self) -> StrictErrors {
        self.visits.sort_unstable_by_key(|v| v.0);
        let mut out = StrictErrors::default();
        let mut seen = std::collections::HashSet::new();
        for (addr, key, path) in self.candidates {
            let start = self.visits.partition_point(|v| v.0 < addr);
            let known = self.visits[start..]
                .iter()
                .take_while(|v| v.0 == addr)
                .any(|v| v.1.is_none_or(|fields| fields.contains(&key.as_str())));
            if !known && seen.insert((addr, key)) {
                out.push(StrictError::unknown(path));
            }
        }
        out.omitted += self.dropped;
        out
    }
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

impl Path<'_> {
    /// The path's text, cut at [`MAX_PATH_BYTES`].
    fn render(&self) -> String {
        let mut out = Bounded(String::new());
        // Writing stops with an error once the bound is reached; what was written stays.
        let _ = fmt::Write::write_fmt(&mut out, format_args!("{self}"));
        out.0
    }
}

/// A string that refuses to grow past [`MAX_PATH_BYTES`] (ending in `...` when cut).
struct Bounded(String);

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = MAX_PATH_BYTES.saturating_sub(self.0.len());
        if s.len() <= room {
            self.0.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.0.push_str(&s[..cut]);
        self.0.push_str("...");
        Err(fmt::Error)
    }
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
    /// Where objects and unknown members are recorded, when field validation asks.
    track: Option<&'p RefCell<Tracker>>,
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
                track: self.track,
            }),
            Value::Object(map) => visitor.visit_map(MapDe::new(map, self.path, self.track, None)),
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
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        // Go's encoding/json never decoded an array into a struct; serde's derive would.
        match self.value {
            Value::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            Value::Object(map) => {
                visitor.visit_map(MapDe::new(map, self.path, self.track, Some(fields)))
            }
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
    track: Option<&'p RefCell<Tracker>>,
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
                seed.deserialize(ValueDe {
                    value,
                    path: &path,
                    track: self.track,
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
struct MapDe<'a, 'p> {
    iter: serde_json::map::Iter<'a>,
    pending: Option<(&'a str, &'a Value)>,
    path: &'p Path<'p>,
    track: Option<&'p RefCell<Tracker>>,
    /// The address of the object and the names its struct knows (`None` for a map), when tracking.
    fields: Option<&'static [&'static str]>,
    addr: usize,
}

impl<'a, 'p> MapDe<'a, 'p> {
    /// Access to `map` at `path`; records the visit when tracking.
    fn new(
        map: &'a serde_json::Map<String, Value>,
        path: &'p Path<'p>,
        track: Option<&'p RefCell<Tracker>>,
        fields: Option<&'static [&'static str]>,
    ) -> MapDe<'a, 'p> {
        let addr = std::ptr::from_ref(map) as usize;
        if let Some(t) = track {
            t.borrow_mut().visits.push((addr, fields));
        }
        MapDe {
            iter: map.iter(),
            pending: None,
            path,
            track,
            fields,
            addr,
        }
    }

    /// Records `key` as a candidate unknown member when its struct lacks the name.
    fn check(&self, key: &str) {
        if let (Some(t), Some(fields)) = (self.track, self.fields) {
            if !fields.contains(&key) {
                let mut t = t.borrow_mut();
                if t.candidates.len() < MAX_CANDIDATES {
                    let path = Path::Key(self.path, key).render();
                    t.candidates.push((self.addr, key.to_string(), path));
                } else {
                    t.dropped += 1;
                }
            }
        }
    }
}

impl<'de> MapAccess<'de> for MapDe<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some((key, value)) = self.iter.next() {
            self.check(key);
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
        seed.deserialize(ValueDe {
            value,
            path: &path,
            track: self.track,
        })
        .map_err(|e| e.at(&path))
    }
}

#[cfg(test)]
mod strict_tests;

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
