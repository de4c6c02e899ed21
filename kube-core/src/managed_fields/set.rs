//! Sets of field paths (structured-merge-diff's `fieldpath.Set`) and their FieldsV1 encoding.

use super::path::{Path, PathElement};
use crate::meta::FieldsV1;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::to_raw_value;
use serde_json::Value;

/// A set of field paths, as a tree: each element is a member of the set (the field itself is
/// owned), the parent of members below it, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    /// The elements at this level, sorted and unique. Most levels hold a few elements, so a
    /// sorted vector (one allocation, binary search) beats a map; a set is built in order.
    nodes: Vec<(PathElement, Node)>,
}

/// One element of a set: whether the path ending here is a member, and the paths below it.
/// A node that is not a member always has children (empty nodes are never kept).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Node {
    member: bool,
    children: Set,
}

impl Set {
    /// The empty set.
    pub fn new() -> Set {
        Set::default()
    }

    /// Whether the set has no path.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Where `pe` is, or where it would go.
    fn find(&self, pe: &PathElement) -> Result<usize, usize> {
        self.nodes.binary_search_by(|(p, _)| p.cmp(pe))
    }

    /// The node of `pe`.
    fn get(&self, pe: &PathElement) -> Option<&Node> {
        self.find(pe).ok().map(|i| &self.nodes[i].1)
    }

    /// The node of `pe`, for changing in place.
    fn get_mut(&mut self, pe: &PathElement) -> Option<&mut Node> {
        self.find(pe).ok().map(|i| &mut self.nodes[i].1)
    }

    /// The node of `pe`, added empty when absent (`pe` cloned only then).
    fn entry(&mut self, pe: &PathElement) -> &mut Node {
        let i = match self.find(pe) {
            Ok(i) => i,
            Err(i) => {
                self.nodes.insert(i, (pe.clone(), Node::default()));
                i
            }
        };
        &mut self.nodes[i].1
    }

    /// Adds `path` (a non-empty path; the empty one is ignored).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let node = self.entry(first);
        if rest.is_empty() {
            node.member = true;
        } else {
            node.children.insert(rest);
        }
    }

    /// Whether `path` is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path.split_first() {
            None => false,
            Some((first, rest)) => self.get(first).is_some_and(|n| {
                if rest.is_empty() {
                    n.member
                } else {
                    n.children.has(rest)
                }
            }),
        }
    }

    /// The paths below `pe` (empty when there are none).
    pub fn child(&self, pe: &PathElement) -> Option<&Set> {
        self.get(pe).map(|n| &n.children)
    }

    /// Whether `pe` is a member or has members below it.
    pub fn touches(&self, pe: &PathElement) -> bool {
        self.find(pe).is_ok()
    }

    /// Whether `pe` is a member at this level.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.get(pe).is_some_and(|n| n.member)
    }

    /// structured-merge-diff's `EnsureNamedFieldsAreMembers`, asked of one element: a member,
    /// or a field with members below it (fields are owned when anything in them is).
    pub fn owns(&self, pe: &PathElement) -> bool {
        self.get(pe)
            .is_some_and(|n| n.member || matches!(pe, PathElement::Field(_)))
    }

    /// Adds the element `pe`, a member or not, with `children` below it (merged with what is
    /// there); nothing is added for a non-member without children.
    pub fn put(&mut self, pe: PathElement, member: bool, children: Set) {
        if !member && children.is_empty() {
            return;
        }
        match self.find(&pe) {
            Ok(i) => {
                let node = &mut self.nodes[i].1;
                node.member |= member;
                if node.children.is_empty() {
                    node.children = children;
                } else {
                    node.children.union_in_place(&children);
                }
            }
            Err(i) => self.nodes.insert(i, (pe, Node { member, children })),
        }
    }

    /// Keeps only the top-level elements `keep` accepts.
    pub fn retain_top(&mut self, mut keep: impl FnMut(&PathElement) -> bool) {
        self.nodes.retain(|(pe, _)| keep(pe));
    }

    /// Removes the member mark of `pe` (what is below it stays).
    pub fn unmark(&mut self, pe: &PathElement) {
        if let Ok(i) = self.find(pe) {
            let node = &mut self.nodes[i].1;
            node.member = false;
            if node.children.is_empty() {
                self.nodes.remove(i);
            }
        }
    }

    /// The set below `pe`, for changing in place (`None` when nothing is there).
    pub fn child_mut(&mut self, pe: &PathElement) -> Option<&mut Set> {
        self.get_mut(pe).map(|n| &mut n.children)
    }

    /// Drops elements left neither members nor parents (after changes through `child_mut`).
    pub fn tidy(&mut self) {
        self.nodes
            .retain(|(_, n)| n.member || !n.children.is_empty());
    }

    /// Removes the element `pe` and everything below it.
    pub fn remove_subtree(&mut self, pe: &PathElement) {
        if let Ok(i) = self.find(pe) {
            self.nodes.remove(i);
        }
    }

    /// Every path in either set.
    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.union_in_place(other);
        out
    }

    /// Adds every path of `other`.
    pub fn union_in_place(&mut self, other: &Set) {
        if self.is_empty() {
            self.clone_from(other);
            return;
        }
        for (pe, on) in &other.nodes {
            let node = self.entry(pe);
            node.member |= on.member;
            node.children.union_in_place(&on.children);
        }
    }

    /// The paths of `self` that are not paths of `other` (members compared path by path, as
    /// structured-merge-diff's `Difference`; a member of `other` does not remove what is below).
    pub fn difference(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.difference_in_place(other);
        out
    }

    /// Removes every path of `other`.
    pub fn difference_in_place(&mut self, other: &Set) {
        if other.is_empty() {
            return;
        }
        self.nodes.retain_mut(|(pe, node)| {
            if let Some(on) = other.get(pe) {
                if on.member {
                    node.member = false;
                }
                node.children.difference_in_place(&on.children);
            }
            node.member || !node.children.is_empty()
        });
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &Set) -> Set {
        let mut out = Set::new();
        for (pe, node) in &self.nodes {
            if let Some(on) = other.get(pe) {
                let n = Node {
                    member: node.member && on.member,
                    children: node.children.intersection(&on.children),
                };
                if n.member || !n.children.is_empty() {
                    out.nodes.push((pe.clone(), n));
                }
            }
        }
        out
    }

    /// Every member path, in order.
    pub fn paths(&self) -> Vec<Path> {
        fn walk(s: &Set, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
            for (pe, node) in &s.nodes {
                prefix.push(pe.clone());
                if node.member {
                    out.push(Path(prefix.clone()));
                }
                walk(&node.children, prefix, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// The FieldsV1 form: `{"f:spec":{"f:replicas":{}}}`, with `".":{}` for an element that is
    /// both a member and the parent of others; elements in the set's order, `.` first.
    pub fn to_fields_v1(&self) -> FieldsV1 {
        // Encoding a set cannot fail (string keys, nested maps); `null` is never reached.
        FieldsV1::from_raw(
            to_raw_value(&Encoded {
                set: self,
                dot: false,
            })
            .unwrap_or_default(),
        )
    }

    /// [`Set::to_fields_v1`] as a JSON value.
    pub fn to_value(&self) -> Value {
        self.to_fields_v1().to_value()
    }

    /// Parses a FieldsV1 document (an object of objects; `{}` marks a member).
    pub fn from_fields_v1(fields: &FieldsV1) -> Result<Set, String> {
        Set::from_value(&fields.to_value())
    }

    /// Parses a FieldsV1 document given as a JSON value.
    pub fn from_value(v: &Value) -> Result<Set, String> {
        let Value::Object(m) = v else {
            return Err("FieldsV1 must be a JSON object".into());
        };
        let mut out = Set::new();
        for (key, inner) in m {
            if key == "." {
                continue;
            }
            let pe = PathElement::from_key(key)?;
            let Value::Object(im) = inner else {
                return Err(format!("{key}: the value must be a JSON object"));
            };
            let children = Set::from_value(inner)?;
            let member = im.is_empty() || im.contains_key(".");
            if member || !children.is_empty() {
                out.put(pe, member, children);
            }
        }
        Ok(out)
    }
}

/// A set encoded as FieldsV1 straight to JSON text, without building a JSON value; `dot`
/// writes `".":{}` first (an element that is a member and the parent of others).
struct Encoded<'a> {
    set: &'a Set,
    dot: bool,
}

impl Serialize for Encoded<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.set.nodes.len() + usize::from(self.dot)))?;
        if self.dot {
            map.serialize_entry(".", &Encoded::EMPTY)?;
        }
        for (pe, node) in &self.set.nodes {
            let inner = Encoded {
                set: &node.children,
                dot: node.member && !node.children.is_empty(),
            };
            map.serialize_entry(&pe.key(), &inner)?;
        }
        map.end()
    }
}

impl Encoded<'static> {
    /// `{}`.
    const EMPTY: Encoded<'static> = Encoded {
        set: &Set { nodes: Vec::new() },
        dot: false,
    };
}
