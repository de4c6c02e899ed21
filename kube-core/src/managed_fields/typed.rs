//! The FieldsV1 of a create, written while the typed object serializes.
//!
//! The same comparison as [`super::created`] (the kind's empty object against the new one),
//! but the new object is never turned into a JSON tree: a serde [`Serializer`] walks it and
//! follows the empty object's JSON alongside. Where the empty object has nothing, an object
//! or an empty list (everywhere, for the built-in kinds), the content of an element depends
//! only on the new value's shape, so no value is built at all; where it holds anything else,
//! that one member is turned into JSON and compared by the JSON walk.
//!
//! Children are written as they serialize (structs in declaration order, list items in list
//! order) and then reordered into the set's order, their keys written then. Anything the walk
//! does not model (enum variants with data, bytes, raw JSON, non-string map keys, a member
//! twice) gives up with [`Fallback`]; the caller then takes the JSON walk.

use super::created::{content, write_key, ElementKey};
use super::path::PathElement;
use super::walk::{ListKind, Ty};
use super::{Scope, STRIPPED_METADATA};
use crate::meta::FieldsV1;
use serde::ser::{self, Impossible, Serialize, Serializer};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// The name serde_json gives the struct a `RawValue` serializes as.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Why the typed walk gave up (the JSON walk gives the answer instead).
#[derive(Debug)]
pub(super) struct Fallback(String);

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fallback {}

impl ser::Error for Fallback {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Fallback(msg.to_string())
    }
}

fn fallback(what: &str) -> Fallback {
    Fallback(format!("the typed walk does not model {what}"))
}

/// The fields `new` adds to or changes in `old` (the kind's empty object), as FieldsV1,
/// both seen stripped for `scope` (the walk skips those members on both sides); `None` when
/// there are none. The same text as [`super::created::created_fields`] of both JSONs,
/// stripped.
pub(super) fn created_fields<T: Serialize + ?Sized>(
    old: &Value,
    new: &T,
    ty: Ty,
    scope: Scope,
) -> Result<Option<FieldsV1>, Fallback> {
    let Value::Object(old) = old else {
        return Err(fallback("an empty object that is not an object"));
    };
    let mut buf = Buf {
        out: Vec::with_capacity(1024),
        children: Vec::with_capacity(32),
    };
    let root = Element {
        buf: &mut buf,
        old: Old::Object(old),
        ty,
        may_own: false,
        level: Level::Root(scope),
        capture: None,
    };
    if !new.serialize(root)? {
        return Ok(None);
    }
    let text = String::from_utf8(buf.out).map_err(|e| Fallback(e.to_string()))?;
    FieldsV1::from_json_string(text)
        .map(Some)
        .map_err(|e| Fallback(e.to_string()))
}

/// Where an object sits, for the members sets never hold.
#[derive(Clone, Copy)]
enum Level {
    /// The object's root: other scopes' members, `apiVersion` and `kind` are left out, and
    /// the `metadata` element itself is never owned.
    Root(Scope),
    /// `metadata`: the server-set members are left out.
    Metadata,
    /// Anywhere else.
    Inner,
}

impl Level {
    fn skips(self, name: &str) -> bool {
        match self {
            Level::Root(scope) => scope.skips(name),
            Level::Metadata => STRIPPED_METADATA.contains(&name),
            Level::Inner => false,
        }
    }
}

/// What the kind's empty object holds where an element is (other values take the JSON walk).
#[derive(Clone, Copy)]
enum Old<'v> {
    /// Nothing: the element is added.
    Absent,
    /// A granular object: members are compared one by one.
    Object(&'v Map<String, Value>),
    /// An empty list: a list's items are all added.
    EmptyList,
}

/// The merge key of a list item being serialized, and its value once seen.
struct Capture {
    key: &'static str,
    value: Option<Value>,
}

/// What the walk writes: the text, and the children of the elements being written (each
/// element's after the ones of the elements it is in).
struct Buf {
    out: Vec<u8>,
    children: Vec<(Child, Range<usize>)>,
}

/// Serializes one element's new value as its FieldsV1 content (`{…}`), answering whether it
/// wrote any (an element that owns nothing writes nothing).
struct Element<'a, 'v> {
    buf: &'a mut Buf,
    /// The empty object's value here.
    old: Old<'v>,
    ty: Ty,
    /// Whether the element itself may be a member.
    may_own: bool,
    level: Level,
    /// Set on an associative list's item: where its merge key goes.
    capture: Option<&'a mut Capture>,
}

impl<'a, 'v> Element<'a, 'v> {
    /// A value compared whole that differs from the empty object's (always so but for an
    /// empty list against an empty list): the element owns it when it may.
    fn leaf(self) -> bool {
        if self.may_own {
            self.buf.out.extend_from_slice(b"{}");
        }
        self.may_own
    }

    /// An object or list walked child by child: `{` and the element's own mark.
    fn open(self) -> Children<'a, 'v> {
        let open = self.buf.out.len();
        let member = self.may_own && matches!(self.old, Old::Absent);
        self.buf.out.push(b'{');
        if member {
            self.buf.out.extend_from_slice(b"\".\":{}");
        }
        Children {
            start: self.buf.out.len(),
            open,
            member,
            base: self.buf.children.len(),
            element: self,
            pending_key: None,
            broken: false,
        }
    }
}

/// The path element of a child: an object's member (by name, its type's field names not
/// copied) or a list's item. Ordered as path elements are.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Child {
    Field(Cow<'static, str>),
    Item(PathElement),
}

/// The children of an object or granular list, written in serialization order.
struct Children<'a, 'v> {
    element: Element<'a, 'v>,
    /// Where the `{` is.
    open: usize,
    /// Where the first child's content starts.
    start: usize,
    member: bool,
    /// Where this element's children start in [`Buf::children`] (each written: its path
    /// element and where its content is).
    base: usize,
    /// A map's key, between `serialize_key` and `serialize_value`.
    pending_key: Option<String>,
    /// A list item without its key (the list is then compared whole).
    broken: bool,
}

impl<'a, 'v> Children<'a, 'v> {
    /// Writes the member `name` (when its level keeps it).
    fn member<T: Serialize + ?Sized>(
        &mut self,
        name: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Fallback> {
        let e = &mut self.element;
        if e.level.skips(&name) {
            return Ok(());
        }
        if let Some(c) = e.capture.as_deref_mut() {
            if c.key == name {
                c.value = Some(serde_json::to_value(value).map_err(|e| Fallback(e.to_string()))?);
            }
        }
        let (level, may_own) = match e.level {
            Level::Root(_) if name == "metadata" => (Level::Metadata, false),
            _ => (Level::Inner, true),
        };
        let ty = e.ty.member(&name);
        let old = match e.old {
            Old::Object(m) => m.get(&*name),
            _ => None,
        };
        let old = match old {
            None => Ok(Old::Absent),
            Some(Value::Object(m)) if !ty.atomic => Ok(Old::Object(m)),
            Some(Value::Array(a)) if a.is_empty() => Ok(Old::EmptyList),
            Some(v) => Err(v),
        };
        let start = e.buf.out.len();
        let wrote = match old {
            // A value to compare with: the JSON walk, for this member.
            Err(old) => {
                let mut new = serde_json::to_value(value).map_err(|e| Fallback(e.to_string()))?;
                if let (Level::Metadata, Value::Object(m)) = (level, &mut new) {
                    m.retain(|k, _| !STRIPPED_METADATA.contains(&k.as_str()));
                }
                content(&mut e.buf.out, Some(old), &new, ty, may_own)
            }
            Ok(old) => value.serialize(Element {
                buf: &mut *e.buf,
                old,
                ty,
                may_own,
                level,
                capture: None,
            })?,
        };
        if wrote {
            let end = e.buf.out.len();
            e.buf.children.push((Child::Field(name), start..end));
        }
        Ok(())
    }

    /// Writes one item of a granular list (the element is absent from the empty object).
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        if self.broken {
            return Ok(());
        }
        let e = &mut self.element;
        let start = e.buf.out.len();
        let pe = match e.ty.list {
            ListKind::Map(key) => {
                let mut capture = Capture { key, value: None };
                value.serialize(Element {
                    buf: &mut *e.buf,
                    old: Old::Absent,
                    ty: e.ty.item(),
                    may_own: true,
                    level: Level::Inner,
                    capture: Some(&mut capture),
                })?;
                match capture.value {
                    Some(v) if !v.is_null() => PathElement::Key(vec![(key.to_string(), v)]),
                    _ => {
                        self.broken = true;
                        return Ok(());
                    }
                }
            }
            _ => {
                let v = serde_json::to_value(value).map_err(|e| Fallback(e.to_string()))?;
                content(&mut e.buf.out, None, &v, e.ty.item(), true);
                PathElement::Value(v)
            }
        };
        let end = e.buf.out.len();
        e.buf.children.push((Child::Item(pe), start..end));
        Ok(())
    }

    /// Ends the element: the children in the set's order, each after its key; `list` says
    /// how two children with one path element are taken (a list compared whole, an object
    /// refused).
    fn close(self, list: bool) -> Result<bool, Fallback> {
        let Buf { out, children } = &mut *self.element.buf;
        let kids = &mut children[self.base..];
        kids.sort_by(|a, b| a.0.cmp(&b.0));
        let dup = kids.windows(2).any(|w| w[0].0 == w[1].0);
        let written = 'written: {
            if dup && !list {
                break 'written Err(fallback("an object with a member twice"));
            }
            if self.broken || dup {
                out.truncate(self.open);
                // Compared whole: it differs (it has items), so owned when it may be.
                if self.element.may_own {
                    out.extend_from_slice(b"{}");
                }
                break 'written Ok(self.element.may_own);
            }
            if kids.is_empty() {
                out.truncate(self.open);
                if !self.member {
                    break 'written Ok(false);
                }
                // A member owning nothing below is `{}`, not `{".":{}}`.
                out.extend_from_slice(b"{}");
                break 'written Ok(true);
            }
            // The children, in order and each after its key, go after what is written; then
            // they take its place.
            let end = out.len();
            for (i, (child, range)) in kids.iter().enumerate() {
                if i > 0 || self.member {
                    out.push(b',');
                }
                let key = match child {
                    Child::Field(name) => ElementKey::Field(name),
                    Child::Item(pe) => ElementKey::Item(pe),
                };
                if let Err(e) = write_key(out, &key) {
                    break 'written Err(Fallback(e.to_string()));
                }
                out.push(b':');
                out.extend_from_within(range.clone());
            }
            out.copy_within(end.., self.start);
            out.truncate(out.len() - (end - self.start));
            out.push(b'}');
            Ok(true)
        };
        children.truncate(self.base);
        written
    }
}

/// A value compared whole whose parts are not looked at, and whether it differs from the
/// empty object's (only an empty list against an empty list does not).
struct Whole<'a, 'v>(Element<'a, 'v>, bool);

impl Whole<'_, '_> {
    fn end(self) -> bool {
        self.1 && self.0.leaf()
    }
}

/// How a list's items are taken.
enum Seq<'a, 'v> {
    Whole(Whole<'a, 'v>),
    Items(Children<'a, 'v>),
}

/// How an object's members are taken.
enum Obj<'a, 'v> {
    Whole(Whole<'a, 'v>),
    Members(Children<'a, 'v>),
}

impl<'a, 'v> Serializer for Element<'a, 'v> {
    type Ok = bool;
    type Error = Fallback;
    type SerializeSeq = Seq<'a, 'v>;
    type SerializeTuple = Seq<'a, 'v>;
    type SerializeTupleStruct = Seq<'a, 'v>;
    type SerializeTupleVariant = Impossible<bool, Fallback>;
    type SerializeMap = Obj<'a, 'v>;
    type SerializeStruct = Obj<'a, 'v>;
    type SerializeStructVariant = Impossible<bool, Fallback>;

    fn serialize_bool(self, _: bool) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_i8(self, _: i8) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_i16(self, _: i16) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_i32(self, _: i32) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_i64(self, _: i64) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_i128(self, _: i128) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_u8(self, _: u8) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_u16(self, _: u16) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_u32(self, _: u32) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_u64(self, _: u64) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_u128(self, _: u128) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_f32(self, _: f32) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_f64(self, _: f64) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_char(self, _: char) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_str(self, _: &str) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<bool, Fallback> {
        Err(fallback("bytes"))
    }
    fn serialize_none(self) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, Fallback> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<bool, Fallback> {
        Ok(self.leaf())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<bool, Fallback> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, Fallback> {
        Err(fallback("an enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a, 'v>, Fallback> {
        // Against an object in the empty object, or atomic: compared whole.
        if matches!(self.old, Old::Object(_)) || self.ty.list == ListKind::Atomic {
            let differs = !matches!(self.old, Old::EmptyList);
            return Ok(Seq::Whole(Whole(self, differs)));
        }
        Ok(Seq::Items(self.open()))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a, 'v>, Fallback> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a, 'v>, Fallback> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Fallback> {
        Err(fallback("an enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Obj<'a, 'v>, Fallback> {
        // Against a list, or atomic (reached only where the empty object has nothing):
        // compared whole, and different.
        if matches!(self.old, Old::EmptyList) || self.ty.atomic {
            return Ok(Obj::Whole(Whole(self, true)));
        }
        Ok(Obj::Members(self.open()))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Obj<'a, 'v>, Fallback> {
        if name == RAW_VALUE_TOKEN {
            return Err(fallback("raw JSON"));
        }
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Fallback> {
        Err(fallback("an enum variant with data"))
    }
}

impl ser::SerializeSeq for Seq<'_, '_> {
    type Ok = bool;
    type Error = Fallback;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        match self {
            Seq::Whole(w) => {
                w.1 = true;
                Ok(())
            }
            Seq::Items(c) => c.item(value),
        }
    }
    fn end(self) -> Result<bool, Fallback> {
        match self {
            Seq::Whole(w) => Ok(w.end()),
            Seq::Items(c) => c.close(true),
        }
    }
}

impl ser::SerializeTuple for Seq<'_, '_> {
    type Ok = bool;
    type Error = Fallback;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<bool, Fallback> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq<'_, '_> {
    type Ok = bool;
    type Error = Fallback;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<bool, Fallback> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for Obj<'_, '_> {
    type Ok = bool;
    type Error = Fallback;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Fallback> {
        let Obj::Members(c) = self else {
            return Ok(());
        };
        match serde_json::to_value(key) {
            Ok(Value::String(k)) => {
                c.pending_key = Some(k);
                Ok(())
            }
            _ => Err(fallback("a map key that is not a string")),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        let Obj::Members(c) = self else {
            return Ok(());
        };
        let key = c
            .pending_key
            .take()
            .ok_or_else(|| fallback("a map value without its key"))?;
        c.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<bool, Fallback> {
        match self {
            Obj::Whole(w) => Ok(w.end()),
            Obj::Members(c) => c.close(false),
        }
    }
}

impl ser::SerializeStruct for Obj<'_, '_> {
    type Ok = bool;
    type Error = Fallback;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        match self {
            Obj::Whole(_) => Ok(()),
            Obj::Members(c) => c.member(Cow::Borrowed(key), value),
        }
    }
    fn end(self) -> Result<bool, Fallback> {
        ser::SerializeMap::end(self)
    }
}
