//! YAML to JSON with hard limits: nesting depth, alias expansion, one document.
//!
//! Built on saphyr-parser's pull parser (pure Rust, no unsafe in our code). Its scanner keeps
//! flow nesting below 256 levels by construction, so the per-token work is bounded and
//! scanning is linear in the body; events are pulled one at a time, so a document is refused
//! as soon as it nests deeper than the limit or its aliases expand past the budget, before
//! anything more is built. The value is built iteratively (no recursion on the input's shape).
//!
//! Aliases are expanded by copying the anchored value, and every copy is charged with the
//! anchored node's expanded size: the length of its source text plus what the aliases inside
//! it expanded to (so is the copy kept for the anchor). A body may
//! grow through aliases by at most its own length (plus [`ALIAS_ALLOWANCE`] characters): the
//! decoded value is then never larger than that of an alias-free document twice the body's
//! size, which bounds memory and time to a small multiple of the body.

use kube_core::decode::{StrictError, StrictErrors, MAX_PATH_BYTES};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Characters of expansion through aliases allowed beyond the body's own length (small documents).
pub const ALIAS_ALLOWANCE: usize = 4096;

/// Why a YAML body was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum YamlError {
    /// Not YAML.
    #[error("line {line} column {col}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The parser's message.
        message: String,
    },
    /// Collections nested deeper than the limit.
    #[error("the document nests deeper than {0} levels")]
    TooDeep(usize),
    /// Aliases expand the document past the budget.
    #[error("aliases expand the document by more than {0} characters")]
    AliasBudget(usize),
    /// More than one document in the stream.
    #[error("more than one YAML document in the body")]
    MultipleDocuments,
    /// A mapping key that is a sequence or a mapping.
    #[error("mapping keys must be scalars")]
    ComplexKey,
    /// A tag other than the core schema's.
    #[error("unsupported tag {0}")]
    UnsupportedTag(String),
    /// A scalar that does not fit its tag, or a number JSON cannot hold.
    #[error("invalid scalar {0:?}: {1}")]
    InvalidScalar(String, &'static str),
}

/// A collection being built.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        start: Start,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        start: Start,
    },
}

/// Where a collection started: its source position and the expansion charged before it.
#[derive(Clone, Copy)]
struct Start {
    index: usize,
    charged: usize,
}

/// The builder's state: open collections, anchors and the expansion charged so far.
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    root: Option<Value>,
    charged: usize,
    budget: usize,
    max_depth: usize,
    /// Keys repeated in one mapping (the last value wins).
    duplicates: StrictErrors,
}

/// Decodes one YAML document into a JSON value, refusing nesting deeper than `max_depth`
/// collections and alias expansion beyond the body's length plus [`ALIAS_ALLOWANCE`].
/// An empty stream decodes to `null`.
pub fn to_json(text: &str, max_depth: usize) -> Result<Value, YamlError> {
    to_json_checked(text, max_depth).map(|(v, _)| v)
}

/// [`to_json`], also reporting every key repeated in one mapping (`duplicate field "a.b"`;
/// the last value wins).
pub fn to_json_checked(text: &str, max_depth: usize) -> Result<(Value, StrictErrors), YamlError> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        charged: 0,
        budget: text.chars().count().saturating_add(ALIAS_ALLOWANCE),
        max_depth,
        duplicates: StrictErrors::default(),
    };
    let mut documents = 0usize;
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            if e.info() == "recursion limit exceeded" {
                // The scanner's own bound on flow nesting (255), met before any event of a
                // deeply nested flow collection reaches us.
                YamlError::TooDeep(max_depth)
            } else {
                YamlError::Syntax {
                    line: e.marker().line(),
                    col: e.marker().col() + 1,
                    message: e.info().to_string(),
                }
            }
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::MultipleDocuments);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve(&text, style, tag.as_deref())?;
                b.emit(value, anchor, span.len())?;
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq")?;
                b.open(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    start: Start {
                        index: span.start.index(),
                        charged: b.charged,
                    },
                })?;
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map")?;
                b.open(Frame::Map {
                    map: Map::new(),
                    key: None,
                    anchor,
                    start: Start {
                        index: span.start.index(),
                        charged: b.charged,
                    },
                })?;
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(&span)?,
            Event::Alias(id) => b.alias(id)?,
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
    }
    Ok((b.root.unwrap_or(Value::Null), b.duplicates))
}

impl Builder {
    fn charge(&mut self, n: usize) -> Result<(), YamlError> {
        self.charged = self.charged.saturating_add(n);
        if self.charged > self.budget {
            return Err(YamlError::AliasBudget(self.budget));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= self.max_depth {
            return Err(YamlError::TooDeep(self.max_depth));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, span: &Span) -> Result<(), YamlError> {
        let (value, anchor, start) = match self.stack.pop() {
            Some(Frame::Seq {
                items,
                anchor,
                start,
            }) => (Value::Array(items), anchor, start),
            Some(Frame::Map {
                map, anchor, start, ..
            }) => (Value::Object(map), anchor, start),
            None => return Ok(()),
        };
        // A node's expanded size: its source text plus what the aliases inside it expanded to.
        let len = span
            .end
            .index()
            .saturating_sub(start.index)
            .saturating_add(self.charged - start.charged)
            .max(1);
        self.emit(value, anchor, len)
    }

    fn alias(&mut self, id: usize) -> Result<(), YamlError> {
        // The parser refuses unknown anchors, so a miss cannot happen; null is harmless if it does.
        let (value, len) = match self.anchors.get(&id) {
            Some((v, len)) => (v, *len),
            None => return self.emit(Value::Null, 0, 0),
        };
        self.charged = self.charged.saturating_add(len);
        if self.charged > self.budget {
            return Err(YamlError::AliasBudget(self.budget));
        }
        let value = value.clone();
        self.emit(value, 0, len)
    }

    /// Places a finished node in its parent (or as the root), keeping a copy for its anchor.
    fn emit(&mut self, value: Value, anchor: usize, len: usize) -> Result<(), YamlError> {
        if anchor > 0 {
            self.charge(len)?;
            self.anchors.insert(anchor, (value.clone(), len.max(1)));
        }
        let depth = self.stack.len();
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                None => *key = Some(key_string(value)?),
                Some(k) => match map.entry(k) {
                    Entry::Vacant(slot) => {
                        slot.insert(value);
                    }
                    Entry::Occupied(mut slot) => {
                        slot.insert(value);
                        let last = slot.key().clone();
                        self.duplicate(depth, &last);
                    }
                },
            },
        }
        Ok(())
    }

    /// Records a repeated `key` of the mapping at `depth` (the innermost open collection),
    /// its path rendered only while the report has room, and cut at [`MAX_PATH_BYTES`].
    fn duplicate(&mut self, depth: usize, key: &str) {
        if !self.duplicates.has_room() {
            self.duplicates.omitted += 1;
            return;
        }
        let mut path = String::new();
        let parents = self.stack.iter().take(depth.saturating_sub(1));
        for frame in parents {
            match frame {
                Frame::Seq { items, .. } => path.push_str(&format!("[{}]", items.len())),
                Frame::Map { key: Some(k), .. } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&k[..floor_boundary(k, MAX_PATH_BYTES + 1)]);
                }
                Frame::Map { key: None, .. } => {}
            }
            if path.len() > MAX_PATH_BYTES {
                break;
            }
        }
        if path.len() <= MAX_PATH_BYTES {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key[..floor_boundary(key, MAX_PATH_BYTES + 1)]);
        }
        if path.len() > MAX_PATH_BYTES {
            path.truncate(floor_boundary(&path, MAX_PATH_BYTES));
            path.push_str("...");
        }
        self.duplicates.push(StrictError::duplicate(path));
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn key_string(v: Value) -> Result<String, YamlError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok("null".to_string()),
        Value::Array(_) | Value::Object(_) => Err(YamlError::ComplexKey),
    }
}

fn core_suffix(tag: &Tag) -> Result<&str, YamlError> {
    if tag.is_yaml_core_schema() {
        Ok(tag.suffix.as_str())
    } else {
        Err(YamlError::UnsupportedTag(tag.to_string()))
    }
}

fn check_collection_tag(tag: Option<&Tag>, want: &str) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(t) if core_suffix(t)? == want => Ok(()),
        Some(t) => Err(YamlError::UnsupportedTag(t.to_string())),
    }
}

/// Resolves a scalar by the YAML 1.2 core schema (plain scalars) or its core tag.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, YamlError> {
    let invalid = |why| YamlError::InvalidScalar(text.to_string(), why);
    match tag.map(core_suffix).transpose()? {
        Some("str") => Ok(Value::String(text.to_string())),
        Some("null") => match plain(text)? {
            Value::Null => Ok(Value::Null),
            _ => Err(invalid("not a null")),
        },
        Some("bool") => match plain(text)? {
            v @ Value::Bool(_) => Ok(v),
            _ => Err(invalid("not a boolean")),
        },
        Some("int") => match plain(text)? {
            v @ Value::Number(_) if !text.contains(['.', 'e', 'E']) => Ok(v),
            _ => Err(invalid("not an integer")),
        },
        Some("float") => match plain(text)? {
            Value::Number(n) => Ok(Value::Number(n)),
            _ => Err(invalid("not a number")),
        },
        Some(_) => Err(YamlError::UnsupportedTag(
            tag.map(Tag::to_string).unwrap_or_default(),
        )),
        None if style == ScalarStyle::Plain => plain(text),
        None => Ok(Value::String(text.to_string())),
    }
}

/// The core schema's resolution of a plain scalar.
fn plain(s: &str) -> Result<Value, YamlError> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err(YamlError::InvalidScalar(
                s.to_string(),
                "JSON cannot hold infinities or NaN",
            ))
        }
        _ => {}
    }
    if let Some(n) = integer(s) {
        return Ok(n);
    }
    if is_float(s) {
        return match s.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(YamlError::InvalidScalar(
                s.to_string(),
                "number out of range",
            )),
        };
    }
    Ok(Value::String(s.to_string()))
}

/// A core-schema integer (`[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`) that fits 64 bits.
fn integer(s: &str) -> Option<Value> {
    let parse = |digits: &str, radix: u32, negative: bool| -> Option<Value> {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        if negative {
            let v = i128::from_str_radix(digits, radix).ok()?;
            i64::try_from(-v).ok().map(Value::from)
        } else {
            u64::from_str_radix(digits, radix).ok().map(Value::from)
        }
    };
    if let Some(hex) = s.strip_prefix("0x") {
        return parse(hex, 16, false);
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return parse(oct, 8, false);
    }
    match s.strip_prefix('-') {
        Some(rest) => parse(rest, 10, true),
        None => parse(s.strip_prefix('+').unwrap_or(s), 10, false),
    }
}

/// Whether `s` is a core-schema float: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => digits(e.strip_prefix(['-', '+']).unwrap_or(e)),
    };
    mantissa_ok && exponent_ok
}
