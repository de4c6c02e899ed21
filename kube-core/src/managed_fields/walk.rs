//! Schema-driven walks over JSON objects: the field set of a value, the comparison of two
//! values, the merge of an applied configuration into a live object, and pruning.
//!
//! The schema is the strategic merge patch's ([`crate::strategic_merge::schema_for_kind`]):
//! a list with a merge key is associative (items are `k:{…}` by that key), a `merge` list of
//! primitives is a set (`v:…`), every other list is atomic (owned and replaced whole); a
//! `replace` object is atomic too; every other object is granular, member by member.

use super::path::PathElement;
use super::set::Set;
use crate::strategic_merge::{Field, PatchStrategy};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// How a value is walked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ty {
    /// The fields of an object at this place (or of each list item).
    fields: &'static [Field],
    /// How a list at this place is keyed.
    pub(super) list: ListKind,
    /// An object owned and replaced whole.
    pub(super) atomic: bool,
}

/// How a list's items are identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// Replaced whole.
    Atomic,
    /// Items are primitives, identified by value.
    Set,
    /// Items are objects, identified by this key.
    Map(&'static str),
}

impl Ty {
    /// The type of an object's root.
    pub(crate) fn root(schema: &'static [Field]) -> Ty {
        Ty {
            fields: schema,
            list: ListKind::Atomic,
            atomic: false,
        }
    }

    /// The type of member `name` of an object of this type.
    pub(crate) fn member(&self, name: &str) -> Ty {
        match self.fields.iter().find(|f| f.name == name) {
            None => Ty {
                fields: &[],
                list: ListKind::Atomic,
                atomic: false,
            },
            Some(f) => Ty {
                fields: f.fields,
                list: match (f.strategy, f.merge_key) {
                    (PatchStrategy::Merge, Some(k)) => ListKind::Map(k),
                    (PatchStrategy::Merge, None) => ListKind::Set,
                    _ => ListKind::Atomic,
                },
                atomic: f.strategy == PatchStrategy::Replace,
            },
        }
    }

    /// The type of an item of a list of this type.
    pub(super) fn item(&self) -> Ty {
        Ty {
            fields: self.fields,
            list: ListKind::Atomic,
            atomic: false,
        }
    }
}

/// Why a value cannot be walked granularly (an associative list item without its key, or two
/// items with the same key or value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WalkError {
    /// Where, as `.spec.containers`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The path element of a list item, or why it has none.
fn item_element(kind: ListKind, item: &Value) -> Result<PathElement, String> {
    match kind {
        ListKind::Map(key) => match item.as_object().and_then(|o| o.get(key)) {
            Some(v) if !v.is_null() => Ok(PathElement::Key(vec![(key.to_string(), v.clone())])),
            _ => Err(format!(
                "associative list with keys has an element that omits key field {key:?}"
            )),
        },
        _ => Ok(PathElement::Value(item.clone())),
    }
}

/// The path elements of a granular list's items, in order, refusing duplicates.
fn elements(kind: ListKind, items: &[Value]) -> Result<Vec<PathElement>, String> {
    let mut out: Vec<PathElement> = Vec::with_capacity(items.len());
    for item in items {
        let pe = item_element(kind, item)?;
        out.push(pe);
    }
    if out.len() > 1 {
        let mut sorted: Vec<&PathElement> = out.iter().collect();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("duplicate entries for key {}", w[0]));
        }
    }
    Ok(out)
}

/// The set of fields `v` (an applied configuration) sets: every scalar, atomic list or map,
/// empty object, null, and list item (structured-merge-diff's `ToFieldSet`). Fails on an
/// associative list item without its key and on duplicate items.
pub(crate) fn field_set(v: &Value, ty: Ty) -> Result<Set, WalkError> {
    let mut path = String::new();
    children_set(v, ty, &mut path)
}

fn children_set(v: &Value, ty: Ty, path: &mut String) -> Result<Set, WalkError> {
    let mut out = Set::new();
    match v {
        Value::Object(m) if !ty.atomic => {
            for (k, val) in m {
                let cty = ty.member(k);
                let len = path.len();
                path.push('.');
                path.push_str(k);
                let leaf = match val {
                    Value::Object(o) => o.is_empty() || cty.atomic,
                    Value::Array(_) => cty.list == ListKind::Atomic,
                    _ => true,
                };
                let children = if leaf {
                    Set::new()
                } else {
                    children_set(val, cty, path)?
                };
                out.put(PathElement::Field(k.clone()), leaf, children);
                path.truncate(len);
            }
        }
        Value::Array(items) if ty.list != ListKind::Atomic => {
            let pes = elements(ty.list, items).map_err(|message| WalkError {
                path: path.clone(),
                message,
            })?;
            for (pe, item) in pes.into_iter().zip(items) {
                let children = match ty.list {
                    ListKind::Map(_) => {
                        let len = path.len();
                        path.push_str(&pe.to_string());
                        let c = children_set(item, ty.item(), path)?;
                        path.truncate(len);
                        c
                    }
                    _ => Set::new(),
                };
                out.put(pe, true, children);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// What changed from one value to another (structured-merge-diff's `Comparison`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Present only in the new value.
    pub added: Set,
    /// Present in both, different leaves.
    pub modified: Set,
    /// Present only in the old value.
    pub removed: Set,
}

impl Comparison {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// Compares the members of two objects (or items of two lists) of type `ty`, each side
/// possibly absent; `skip` leaves top-level members out.
pub(crate) fn compare(
    l: Option<&Value>,
    r: Option<&Value>,
    ty: Ty,
    skip: &dyn Fn(&str) -> bool,
) -> Comparison {
    let mut out = Comparison::default();
    compare_children(l, r, ty, skip, &mut out);
    out
}

/// How the pair (old, new) at type `ty` is compared.
pub(super) enum Shape {
    /// As one leaf: scalars, nulls, values of different shapes, atomic objects and lists,
    /// lists that cannot be keyed, and pairs whose sides are both empty or absent (which
    /// keeps the empty/absent distinction).
    Leaf,
    /// Member by member.
    Object,
    /// Item by item, with the items' path elements (old, new).
    List(Vec<PathElement>, Vec<PathElement>),
}

pub(super) fn shape(l: Option<&Value>, r: Option<&Value>, ty: &Ty) -> Shape {
    let empty = |v: Option<&Value>| match v {
        None => true,
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    match (l, r) {
        (Some(Value::Object(_)) | None, Some(Value::Object(_)) | None) => {
            if ty.atomic || (empty(l) && empty(r)) {
                Shape::Leaf
            } else {
                Shape::Object
            }
        }
        (Some(Value::Array(_)) | None, Some(Value::Array(_)) | None) => {
            if ty.list == ListKind::Atomic || (empty(l) && empty(r)) {
                return Shape::Leaf;
            }
            let keyed = |v: Option<&Value>| match v {
                Some(Value::Array(items)) => elements(ty.list, items),
                _ => Ok(Vec::new()),
            };
            match (keyed(l), keyed(r)) {
                (Ok(lp), Ok(rp)) => Shape::List(lp, rp),
                _ => Shape::Leaf,
            }
        }
        _ => Shape::Leaf,
    }
}

fn compare_element(
    pe: PathElement,
    l: Option<&Value>,
    r: Option<&Value>,
    ty: Ty,
    out: &mut Comparison,
) {
    let mut c = Comparison::default();
    match shape(l, r, &ty) {
        Shape::Leaf => {
            match (l, r) {
                (None, Some(_)) => out.added.put(pe, true, Set::new()),
                (Some(_), None) => out.removed.put(pe, true, Set::new()),
                (Some(a), Some(b)) if a != b => out.modified.put(pe, true, Set::new()),
                _ => {}
            }
            return;
        }
        Shape::Object => compare_children(l, r, ty, &|_| false, &mut c),
        Shape::List(lp, rp) => {
            compare_items(lp, items(l), rp, items(r), ty, &mut c);
        }
    }
    // The element goes into the sets it changes (cloned only when it goes into several).
    let removed = r.is_none() || !c.removed.is_empty();
    let modified = !c.modified.is_empty();
    if removed {
        out.removed.put(pe.clone(), r.is_none(), c.removed);
    }
    if modified {
        out.modified.put(pe.clone(), false, c.modified);
    }
    out.added.put(pe, l.is_none(), c.added);
}

/// Compares the members of two objects (either possibly absent); `skip` leaves members out.
fn compare_children(
    l: Option<&Value>,
    r: Option<&Value>,
    ty: Ty,
    skip: &dyn Fn(&str) -> bool,
    out: &mut Comparison,
) {
    let empty = Map::new();
    let lm = l.and_then(Value::as_object).unwrap_or(&empty);
    let rm = r.and_then(Value::as_object).unwrap_or(&empty);
    for (k, lv) in lm {
        if !skip(k) {
            compare_element(
                PathElement::Field(k.clone()),
                Some(lv),
                rm.get(k),
                ty.member(k),
                out,
            );
        }
    }
    for (k, rv) in rm {
        if !lm.contains_key(k) && !skip(k) {
            compare_element(
                PathElement::Field(k.clone()),
                None,
                Some(rv),
                ty.member(k),
                out,
            );
        }
    }
}

/// The items of a list that may be absent.
pub(super) fn items(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Compares the items of two granular lists, matched by their path elements (`lp`, `rp`).
fn compare_items(
    lp: Vec<PathElement>,
    la: &[Value],
    rp: Vec<PathElement>,
    ra: &[Value],
    ty: Ty,
    out: &mut Comparison,
) {
    let index: BTreeMap<&PathElement, usize> =
        rp.iter().enumerate().map(|(i, pe)| (pe, i)).collect();
    let mut seen = vec![false; ra.len()];
    for (pe, lv) in lp.into_iter().zip(la) {
        let ri = index.get(&pe).copied();
        if let Some(i) = ri {
            seen[i] = true;
        }
        compare_element(pe, Some(lv), ri.map(|i| &ra[i]), ty.item(), out);
    }
    for ((pe, rv), seen) in rp.into_iter().zip(ra).zip(seen) {
        if !seen {
            compare_element(pe, None, Some(rv), ty.item(), out);
        }
    }
}

/// Merges the applied configuration `r` into the live value `l` (structured-merge-diff's
/// `Merge`): objects member by member, associative lists and sets item by item (live items
/// keep their place, applied ones come in the applied order), everything else replaced.
pub(crate) fn merge(l: &Value, r: &Value, ty: Ty) -> Value {
    match (l, r) {
        (Value::Object(lm), Value::Object(rm)) if !ty.atomic => {
            let mut out = lm.clone();
            for (k, rv) in rm {
                let merged = match lm.get(k) {
                    Some(lv) => merge(lv, rv, ty.member(k)),
                    None => rv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(la), Value::Array(ra)) if ty.list != ListKind::Atomic => {
            match (elements(ty.list, la), elements(ty.list, ra)) {
                (Ok(lp), Ok(rp)) => Value::Array(merge_lists(la, &lp, ra, &rp, ty)),
                _ => r.clone(),
            }
        }
        _ => r.clone(),
    }
}

/// structured-merge-diff's list merge order: walks both lists, keeping live-only items where
/// they are and placing applied items in their order, shared items in the applied order.
fn merge_lists(
    la: &[Value],
    lp: &[PathElement],
    ra: &[Value],
    rp: &[PathElement],
    ty: Ty,
) -> Vec<Value> {
    let lindex: HashMap<String, usize> = lp
        .iter()
        .enumerate()
        .map(|(i, p)| (p.to_key(), i))
        .collect();
    let rindex: HashMap<String, usize> = rp
        .iter()
        .enumerate()
        .map(|(i, p)| (p.to_key(), i))
        .collect();
    let item = |ri: usize| match lindex.get(&rp[ri].to_key()) {
        Some(&li) => merge(&la[li], &ra[ri], ty.item()),
        None => ra[ri].clone(),
    };
    // The shared items, in the applied order.
    let mut shared = rp
        .iter()
        .filter(|p| lindex.contains_key(&p.to_key()))
        .map(PathElement::to_key)
        .collect::<Vec<_>>()
        .into_iter();
    let mut next_shared = shared.next();
    let mut merged_r = vec![false; ra.len()];
    let mut out = Vec::with_capacity(la.len().max(ra.len()));
    let (mut li, mut ri) = (0, 0);
    while li < la.len() || ri < ra.len() {
        if li < la.len() && ri < ra.len() {
            let lkey = lp[li].to_key();
            if lp[li] == rp[ri] {
                merged_r[ri] = true;
                out.push(item(ri));
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if rindex.contains_key(&lkey) && next_shared.as_ref().is_some_and(|s| *s != lkey) {
                li += 1;
                continue;
            }
        }
        if li < la.len() {
            let lkey = lp[li].to_key();
            match rindex.get(&lkey) {
                None => {
                    out.push(la[li].clone());
                    li += 1;
                    continue;
                }
                Some(&r) if merged_r[r] => {
                    li += 1;
                    continue;
                }
                Some(_) => {}
            }
        }
        if ri < ra.len() {
            merged_r[ri] = true;
            out.push(item(ri));
            if next_shared.as_ref().is_some_and(|s| *s == rp[ri].to_key()) {
                next_shared = shared.next();
            }
            ri += 1;
        }
    }
    out
}

/// Removes from `v` what the applier owned last time (`last`) that nobody owns now (`owned`:
/// every manager's set, the applier's new one included): a field or item is removed whole
/// when it is a member of `last` (or a field with members of `last` below it) and not so of
/// `owned` (structured-merge-diff's prune).
pub(crate) fn prune(v: &mut Value, last: &Set, owned: Option<&Set>, ty: Ty) {
    let empty = Set::new();
    let owned = owned.unwrap_or(&empty);
    match v {
        Value::Object(m) if !ty.atomic => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let pe = PathElement::Field(k.clone());
                if !last.touches(&pe) {
                    continue;
                }
                if last.owns(&pe) && !owned.owns(&pe) {
                    m.remove(&k);
                } else if let (Some(lc), Some(child)) = (last.child(&pe), m.get_mut(&k)) {
                    prune(child, lc, owned.child(&pe), ty.member(&k));
                }
            }
        }
        Value::Array(items) if ty.list != ListKind::Atomic => {
            let Ok(pes) = elements(ty.list, items) else {
                return;
            };
            let mut keep = Vec::with_capacity(items.len());
            for (pe, mut item) in pes.into_iter().zip(std::mem::take(items)) {
                if last.has_member(&pe) && !owned.has_member(&pe) {
                    continue;
                }
                if let Some(lc) = last.child(&pe) {
                    prune(&mut item, lc, owned.child(&pe), ty.item());
                }
                keep.push(item);
            }
            *items = keep;
        }
        _ => {}
    }
}
