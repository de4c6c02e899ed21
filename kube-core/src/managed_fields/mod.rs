//! Managed fields (`metadata.managedFields`): which manager owns which fields of an object,
//! with structured-merge-diff's semantics, pure.
//!
//! A field set ([`Set`]) is encoded as FieldsV1 (`f:<field>`, `k:{"name":"a"}` for an item of
//! an associative list by its merge key, `v:<value>` for an item of a set, `i:<n>` for a list
//! index, `.` for the element itself when things below it are listed too). Sets are computed
//! from JSON values and the kind's patch schema ([`crate::strategic_merge::schema_for_kind`]).
//!
//! Two operations write entries: [`record_update`] (a create, update or non-apply patch: the
//! manager's `Update` entry comes to own the fields the write added or changed, which no one
//! else owns any more, and removed fields leave every set) and [`apply`] (server-side apply:
//! the applier owns exactly what it applied; its configuration is merged into the object;
//! fields it applied before and no longer does are removed when no one else owns them; a
//! change to a field another manager owns is a conflict unless forced).
//!
//! As in Kubernetes, sets never hold `apiVersion`, `kind` or the server-set metadata (name,
//! namespace, uid, resourceVersion, generation, creationTimestamp, selfLink, managedFields),
//! writes to the object own no `status` fields and writes to `/status` own nothing else.

mod apply;
mod created;
mod path;
mod set;
mod typed;
mod walk;

#[cfg(test)]
mod apply_tests;
#[cfg(test)]
mod tests;

pub use apply::{apply, conflict_message, Applied, ApplyError, ApplyRequest, Conflict};
pub use path::{Path, PathElement};
pub use set::Set;
pub use walk::{Comparison, WalkError};

use crate::meta::{
    FieldsV1, ManagedFieldsEntry, FIELDS_TYPE_V1, MANAGED_FIELDS_OPERATION_APPLY,
    MANAGED_FIELDS_OPERATION_UPDATE,
};
use crate::strategic_merge::Field;
use serde::Serialize;
use serde_json::Value;
use walk::Ty;

/// The manager that the first apply to an untracked object gives the object's fields to
/// (Kubernetes' skipNonAppliedManager), so that the apply conflicts with what it changes.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";
/// Update entries kept before the oldest are merged into [`ANCIENT_CHANGES`] (Kubernetes' cap).
pub const MAX_UPDATE_MANAGERS: usize = 10;
/// The manager the oldest update entries are merged into.
pub const ANCIENT_CHANGES: &str = "ancient-changes";
/// The subresource name of `/status` writes.
pub const SUBRESOURCE_STATUS: &str = "status";

/// Metadata members no set ever holds (structured-merge-diff's strip-meta list).
const STRIPPED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
];

/// One decoded entry of `metadata.managedFields`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manager {
    /// The manager's name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The API version of the fields.
    pub api_version: String,
    /// `status` for `/status` writes, else empty.
    pub subresource: String,
    /// RFC 3339 time of its last change, or empty.
    pub time: String,
    /// The fields it owns.
    pub set: Set,
}

impl Manager {
    /// Whether `self` and `other` are one manager (Kubernetes' manager identifier: name,
    /// operation, subresource, and the API version of updaters).
    fn same(&self, manager: &str, operation: &str, api_version: &str, subresource: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource == subresource
            && (operation == MANAGED_FIELDS_OPERATION_APPLY || self.api_version == api_version)
    }

    /// How a conflict names the manager: `"kubectl"`, `"m" using v1`, `"m" with subresource
    /// "status"` (Kubernetes' `printManager`).
    pub fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == MANAGED_FIELDS_OPERATION_UPDATE {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

/// Decodes `metadata.managedFields` (fails on a `fieldsType` other than FieldsV1, malformed
/// FieldsV1 and two entries of one manager).
pub fn decode(entries: &[ManagedFieldsEntry]) -> Result<Vec<Manager>, String> {
    let mut out: Vec<Manager> = Vec::with_capacity(entries.len());
    for e in entries {
        if !e.fields_type.is_empty() && e.fields_type != FIELDS_TYPE_V1 {
            return Err(format!("unsupported fieldsType {:?}", e.fields_type));
        }
        let set = match &e.fields_v1 {
            Some(fields) => Set::from_fields_v1(fields)?,
            None => Set::new(),
        };
        if out
            .iter()
            .any(|m| m.same(&e.manager, &e.operation, &e.api_version, &e.subresource))
        {
            return Err(format!("duplicate entries for manager {:?}", e.manager));
        }
        out.push(Manager {
            manager: e.manager.clone(),
            operation: e.operation.clone(),
            api_version: e.api_version.clone(),
            subresource: e.subresource.clone(),
            time: e.time.clone(),
            set,
        });
    }
    Ok(out)
}

/// Encodes managers as `metadata.managedFields`: empty sets dropped, sorted as Kubernetes
/// sorts them (operation, time, manager, API version, subresource).
pub fn encode(mut managers: Vec<Manager>) -> Vec<ManagedFieldsEntry> {
    managers.retain(|m| !m.set.is_empty());
    managers.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    managers
        .into_iter()
        .map(|m| ManagedFieldsEntry {
            fields_v1: Some(m.set.to_fields_v1()),
            manager: m.manager,
            operation: m.operation,
            api_version: m.api_version,
            time: m.time,
            fields_type: FIELDS_TYPE_V1.to_string(),
            subresource: m.subresource,
        })
        .collect()
}

/// Which part of an object a write covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The object itself: everything but `status`.
    Main,
    /// The `/status` subresource: only `status`.
    Status,
}

impl Scope {
    /// Whether a top-level member is left out of this scope's sets.
    fn skips(self, top: &str) -> bool {
        match self {
            _ if top == "apiVersion" || top == "kind" => true,
            Scope::Main => top == "status",
            Scope::Status => top != "status",
        }
    }

    /// The subresource recorded in entries.
    pub fn subresource(self) -> &'static str {
        match self {
            Scope::Main => "",
            Scope::Status => SUBRESOURCE_STATUS,
        }
    }
}

/// Removes from `set` what no set holds: other scopes' fields, `apiVersion`, `kind`, the
/// `metadata` element itself and its server-set members.
pub fn strip(set: &mut Set, scope: Scope) {
    set.retain_top(|pe| !matches!(pe, PathElement::Field(f) if scope.skips(f)));
    let meta = PathElement::Field("metadata".into());
    set.unmark(&meta);
    if let Some(m) = set.child_mut(&meta) {
        m.retain_top(
            |pe| !matches!(pe, PathElement::Field(f) if STRIPPED_METADATA.contains(&f.as_str())),
        );
    }
    set.tidy();
}

/// Removes from an object's JSON the members no set covers in `scope` (see [`strip`]), so
/// comparisons skip them.
fn strip_value(v: &mut Value, scope: Scope) {
    if let Value::Object(m) = v {
        m.retain(|k, _| !scope.skips(k));
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            meta.retain(|k, _| !STRIPPED_METADATA.contains(&k.as_str()));
        }
    }
}

/// The set of fields `value` (an applied configuration) sets, per the kind's schema, before
/// stripping.
pub fn field_set(value: &Value, schema: &'static [Field]) -> Result<Set, WalkError> {
    walk::field_set(value, Ty::root(schema))
}

/// What changed between two objects, per the kind's schema, in `scope` (stripped).
pub fn compare(old: &Value, new: &Value, schema: &'static [Field], scope: Scope) -> Comparison {
    let skip = |k: &str| scope.skips(k);
    let mut c = walk::compare(Some(old), Some(new), Ty::root(schema), &skip);
    strip(&mut c.added, scope);
    strip(&mut c.modified, scope);
    strip(&mut c.removed, scope);
    c
}

/// The write being recorded.
#[derive(Clone, Copy, Debug)]
pub struct UpdateOperation<'a> {
    /// The manager (`fieldManager`, or the User-Agent's first part).
    pub manager: &'a str,
    /// The object's API version (`v1`, `coordination.k8s.io/v1`).
    pub api_version: &'a str,
    /// What the write covers.
    pub scope: Scope,
    /// RFC 3339 time of the write.
    pub time: &'a str,
    /// Whether the write creates the object: a create starts tracking, an update of an
    /// object without entries (never tracked, or reset) leaves it untracked.
    pub creating: bool,
}

/// The managed fields after a create, update or non-apply patch from `old` to `new` (full
/// object JSON; for a create, the JSON of an empty object). The entries start from the ones
/// the request carries (`sent`, a client may edit them; ignored on `/status`; a reset,
/// `[{}]`, starts from none) or else the stored ones; then the fields the write added or modified leave every other manager and
/// join the writer's `Update` entry (stamped with the time), removed fields leave every set,
/// empty entries go and the oldest update entries beyond [`MAX_UPDATE_MANAGERS`] merge into
/// [`ANCIENT_CHANGES`]. Entries that do not decode are dropped, as Kubernetes resets them.
/// An update that starts from no entries records none (`op.creating` aside), as Kubernetes'
/// skipNonAppliedManager: a reset clears them, and an apply starts tracking again.
pub fn record_update(
    stored: &[ManagedFieldsEntry],
    sent: &[ManagedFieldsEntry],
    mut old: Value,
    mut new: Value,
    schema: &'static [Field],
    op: &UpdateOperation<'_>,
) -> Vec<ManagedFieldsEntry> {
    let (base, mut managers) = starting_managers(stored, sent, op.scope);
    if managers.is_empty() && !op.creating {
        // Kubernetes' skipNonAppliedManager: an untracked object stays so until an apply.
        return Vec::new();
    }
    strip_value(&mut old, op.scope);
    strip_value(&mut new, op.scope);
    if managers.is_empty() {
        // A create (the only write that records from no entries): one entry, written
        // straight from the objects.
        return created::created_fields(&old, &new, Ty::root(schema))
            .map(|f| created_entry(f, op))
            .into_iter()
            .collect();
    }
    let c = compare(&old, &new, schema, op.scope);
    if c.is_empty() {
        return if std::ptr::eq(base, stored) {
            stored.to_vec()
        } else {
            encode(managers)
        };
    }
    let mut changed = c.added;
    changed.union_in_place(&c.modified);
    for m in managers.iter_mut() {
        m.set.difference_in_place(&changed);
        m.set.difference_in_place(&c.removed);
    }
    let subresource = op.scope.subresource();
    let mine = managers.iter().position(|m| {
        m.same(
            op.manager,
            MANAGED_FIELDS_OPERATION_UPDATE,
            op.api_version,
            subresource,
        )
    });
    if !changed.is_empty() {
        match mine {
            Some(i) => {
                managers[i].set.union_in_place(&changed);
                managers[i].time = op.time.to_string();
            }
            None => managers.push(Manager {
                manager: op.manager.to_string(),
                operation: MANAGED_FIELDS_OPERATION_UPDATE.to_string(),
                api_version: op.api_version.to_string(),
                subresource: subresource.to_string(),
                time: op.time.to_string(),
                set: changed,
            }),
        }
    }
    managers.retain(|m| !m.set.is_empty());
    cap_update_managers(&mut managers);
    encode(managers)
}

/// The managed fields after the create of `new` (typed; `zero` is the JSON of the kind's
/// empty object): [`record_update`] from no stored entries, with the new object's field set
/// computed as it serializes instead of from its JSON (no JSON tree is built) whenever the
/// create starts from no entries, as it does unless the client sent some.
pub fn record_create<T: Serialize + ?Sized>(
    sent: &[ManagedFieldsEntry],
    zero: &Value,
    new: &T,
    schema: &'static [Field],
    op: &UpdateOperation<'_>,
) -> Result<Vec<ManagedFieldsEntry>, serde_json::Error> {
    // Nothing is stored yet: only entries the client sent can be there.
    if starting_managers(&[], sent, op.scope).1.is_empty() {
        // The typed walk never looks at what stripping would remove from `zero`.
        if let Ok(fields) = typed::created_fields(zero, new, Ty::root(schema), op.scope) {
            return Ok(fields.map(|f| created_entry(f, op)).into_iter().collect());
        }
    }
    let new = serde_json::to_value(new)?;
    Ok(record_update(&[], sent, zero.clone(), new, schema, op))
}

/// The entries a write starts from, and the managers they decode to: the ones the request
/// carries (`sent`; ignored on `/status`; a reset, `[{}]`, is none) or else the stored ones;
/// the stored ones again when the sent ones do not decode.
fn starting_managers<'e>(
    stored: &'e [ManagedFieldsEntry],
    sent: &'e [ManagedFieldsEntry],
    scope: Scope,
) -> (&'e [ManagedFieldsEntry], Vec<Manager>) {
    let base = if scope == Scope::Status || sent.is_empty() {
        stored
    } else if crate::meta::is_reset_managed_fields(sent) {
        &[]
    } else {
        sent
    };
    let managers = decode(base).or_else(|_| decode(stored)).unwrap_or_default();
    (base, managers)
}

/// The one entry of a create that starts from no entries, owning `fields` (what the new
/// object adds to or changes in the kind's empty object, both stripped).
fn created_entry(fields: FieldsV1, op: &UpdateOperation<'_>) -> ManagedFieldsEntry {
    ManagedFieldsEntry {
        manager: op.manager.to_string(),
        operation: MANAGED_FIELDS_OPERATION_UPDATE.to_string(),
        api_version: op.api_version.to_string(),
        time: op.time.to_string(),
        fields_type: FIELDS_TYPE_V1.to_string(),
        fields_v1: Some(fields),
        subresource: op.scope.subresource().to_string(),
    }
}

/// Merges the oldest `Update` entries into [`ANCIENT_CHANGES`] until at most
/// [`MAX_UPDATE_MANAGERS`] remain (Kubernetes' `capManagersManager`).
fn cap_update_managers(managers: &mut Vec<Manager>) {
    let updaters = |ms: &[Manager]| {
        ms.iter()
            .filter(|m| m.operation == MANAGED_FIELDS_OPERATION_UPDATE)
            .count()
    };
    while updaters(managers) > MAX_UPDATE_MANAGERS {
        // The oldest updater that is not the bucket itself.
        let Some(oldest) = managers
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.operation == MANAGED_FIELDS_OPERATION_UPDATE && m.manager != ANCIENT_CHANGES
            })
            .min_by(|(_, a), (_, b)| (&a.time, &a.manager).cmp(&(&b.time, &b.manager)))
            .map(|(i, _)| i)
        else {
            return;
        };
        let old = managers.remove(oldest);
        match managers.iter_mut().find(|m| {
            m.same(
                ANCIENT_CHANGES,
                MANAGED_FIELDS_OPERATION_UPDATE,
                &old.api_version,
                "",
            )
        }) {
            Some(bucket) => {
                bucket.set.union_in_place(&old.set);
                bucket.time = bucket.time.clone().max(old.time);
            }
            None => managers.push(Manager {
                manager: ANCIENT_CHANGES.to_string(),
                subresource: String::new(),
                ..old
            }),
        }
    }
}
