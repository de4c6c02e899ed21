//! The FieldsV1 of a create, written straight from the objects' JSON.
//!
//! A create by an HTTP client is the commonest recorded write, and it starts from no entries:
//! its one entry owns what the comparison of the kind's empty object with the new one finds
//! added or modified, stripped. This walk is that comparison (the same shapes as
//! [`super::walk`], so the same elements and members), but it writes the FieldsV1 text as it
//! goes instead of building sets and encoding them: an element is written, then taken back
//! when it turns out to own nothing.

use super::path::PathElement;
use super::walk::{items, shape, Shape, Ty};
use crate::meta::FieldsV1;
use serde::ser::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// The fields of `new` that `old` (the kind's empty object) lacks or holds with another value,
/// as FieldsV1, both objects already stripped of what sets never hold (`strip_value`);
/// `None` when there are none.
pub(super) fn created_fields(old: &Value, new: &Value, ty: Ty) -> Option<FieldsV1> {
    let mut out = Vec::with_capacity(1024);
    out.push(b'{');
    let mut wrote = false;
    if let Value::Object(m) = new {
        for (k, v) in m {
            // The `metadata` element itself is never owned (only what is in it).
            let root_member = k != "metadata";
            let old = old.get(k);
            wrote |= element(
                &mut out,
                wrote,
                &ElementKey::Field(k),
                old,
                v,
                ty.member(k),
                root_member,
            );
        }
    }
    if !wrote {
        return None;
    }
    out.push(b'}');
    let text = String::from_utf8(out).ok()?;
    FieldsV1::from_json_string(text).ok()
}

/// Writes `"key":{…}` for one element present in the new object (`r`), with `comma` before
/// it when something precedes it; takes it back and answers false when it owns nothing.
/// `may_own` false keeps the element itself from being a member.
fn element(
    out: &mut Vec<u8>,
    comma: bool,
    key: &ElementKey<'_>,
    l: Option<&Value>,
    r: &Value,
    ty: Ty,
    may_own: bool,
) -> bool {
    let mark = out.len();
    if comma {
        out.push(b',');
    }
    if write_key(out, key).is_err() {
        out.truncate(mark);
        return false;
    }
    out.push(b':');
    if content(out, l, r, ty, may_own) {
        return true;
    }
    out.truncate(mark);
    false
}

/// Writes the content (`{…}`) of one element present in the new object (`r`); writes
/// nothing and answers false when it owns nothing.
pub(super) fn content(
    out: &mut Vec<u8>,
    l: Option<&Value>,
    r: &Value,
    ty: Ty,
    may_own: bool,
) -> bool {
    let mark = out.len();
    out.push(b'{');
    let member = may_own && l.is_none();
    if member {
        out.extend_from_slice(b"\".\":{}");
    }
    let children = match shape(l, Some(r), &ty) {
        Shape::Leaf => {
            if !(may_own && l != Some(r)) {
                out.truncate(mark);
                return false;
            }
            out.truncate(mark);
            out.extend_from_slice(b"{}");
            return true;
        }
        Shape::Object => {
            let mut wrote = false;
            if let Value::Object(m) = r {
                for (k, v) in m {
                    let old = l.and_then(|l| l.get(k));
                    wrote |= element(
                        out,
                        member || wrote,
                        &ElementKey::Field(k),
                        old,
                        v,
                        ty.member(k),
                        true,
                    );
                }
            }
            wrote
        }
        Shape::List(lp, rp) => {
            let (la, ra) = (items(l), items(Some(r)));
            // Items in the set's order, each with its old item (by path element).
            let mut order: Vec<usize> = (0..rp.len()).collect();
            order.sort_by(|a, b| rp[*a].cmp(&rp[*b]));
            let mut wrote = false;
            for i in order {
                let old = lp.iter().position(|pe| *pe == rp[i]).map(|j| &la[j]);
                wrote |= element(
                    out,
                    member || wrote,
                    &ElementKey::Item(&rp[i]),
                    old,
                    &ra[i],
                    ty.item(),
                    true,
                );
            }
            wrote
        }
    };
    match (member, children) {
        (false, false) => {
            out.truncate(mark);
            return false;
        }
        // A member owning nothing below is `{}`, not `{".":{}}`.
        (true, false) => {
            out.truncate(mark);
            out.push(b'{');
        }
        _ => {}
    }
    out.push(b'}');
    true
}

/// Writes a FieldsV1 key as a JSON string (a plain field name straight, others through
/// serde_json's escaping).
pub(super) fn write_key(out: &mut Vec<u8>, key: &ElementKey<'_>) -> Result<(), serde_json::Error> {
    match key {
        ElementKey::Field(name)
            if name
                .bytes()
                .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f) =>
        {
            out.extend_from_slice(b"\"f:");
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
            Ok(())
        }
        key => serde_json::to_writer(&mut *out, key),
    }
}

/// A FieldsV1 key: `f:<name>` or a list item's.
pub(super) enum ElementKey<'a> {
    Field(&'a str),
    Item(&'a PathElement),
}

impl fmt::Display for ElementKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElementKey::Field(name) => write!(f, "f:{name}"),
            ElementKey::Item(pe) => pe.key().fmt(f),
        }
    }
}

impl Serialize for ElementKey<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
