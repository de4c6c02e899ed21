//! JSON text to a value, reporting members whose key repeats an earlier one of the same object.
//!
//! `serde_json::Value` keeps the last of two members with one key (as Go's `encoding/json`
//! does), so a repeated key is invisible once parsed. [`parse_json`] builds the same value
//! with its own visitor and records the path of every repeat on the way: one map lookup per
//! member, as building the value costs anyway (the entry API), and a path is rendered only
//! for a repeat. serde_json's own recursion limit still bounds the nesting.

use super::{Path, StrictError, StrictErrors};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Parses one JSON document (the last of repeated members wins) and returns it with a
/// `duplicate field` error per repeated member, e.g. `metadata.name`.
pub fn parse_json(text: &[u8]) -> Result<(Value, StrictErrors), serde_json::Error> {
    let dups = RefCell::new(StrictErrors::default());
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = ValueSeed {
        path: &Path::Root,
        dups: &dups,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((value, dups.into_inner()))
}

/// Builds a value at `path`, recording repeated members in `dups`.
#[derive(Clone, Copy)]
struct ValueSeed<'p> {
    path: &'p Path<'p>,
    dups: &'p RefCell<StrictErrors>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        loop {
            let path = Path::Index(self.path, items.len());
            let seed = ValueSeed {
                path: &path,
                dups: self.dups,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let path = Path::Key(self.path, &key);
            let value = access.next_value_seed(ValueSeed {
                path: &path,
                dups: self.dups,
            })?;
            match map.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(mut slot) => {
                    let mut dups = self.dups.borrow_mut();
                    if dups.has_room() {
                        let field = Path::Key(self.path, slot.key()).render();
                        dups.push(StrictError::duplicate(field));
                    } else {
                        dups.omitted += 1;
                    }
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(map))
    }
}

/// Whether a JSON text nests arrays and objects deeper than `max` (strings are skipped;
/// malformed text is left to the parser).
pub fn json_depth_exceeds(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}
