//! Server-side apply: merging an applied configuration into the live object, with ownership.

use super::path::Path;
use super::set::Set;
use super::walk::{self, Ty};
use super::{decode, encode, strip, strip_value, Manager, Scope};
use crate::meta::{ManagedFieldsEntry, MANAGED_FIELDS_OPERATION_APPLY};
use crate::strategic_merge::Field;
use serde_json::Value;

/// One apply.
#[derive(Clone, Copy, Debug)]
pub struct ApplyRequest<'a> {
    /// The live object's JSON (for a create, an empty object of the kind); its
    /// `metadata.managedFields` is ignored.
    pub live: &'a Value,
    /// The live object's managed fields.
    pub managed: &'a [ManagedFieldsEntry],
    /// The applied configuration (a partial object).
    pub config: &'a Value,
    /// The kind's patch schema.
    pub schema: &'static [Field],
    /// The applier (`fieldManager`).
    pub manager: &'a str,
    /// The object's API version.
    pub api_version: &'a str,
    /// What the apply covers (the object, or `/status`).
    pub scope: Scope,
    /// `force=true`: take conflicting fields over instead of failing.
    pub force: bool,
    /// RFC 3339 time of the apply.
    pub time: &'a str,
}

/// The outcome of a successful apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The object to write (JSON, without `metadata.managedFields`).
    pub object: Value,
    /// The managed fields to write with it.
    pub managed_fields: Vec<ManagedFieldsEntry>,
    /// Whether the object (not counting its managed fields) differs from the live one.
    pub changed: bool,
}

/// A field another manager owns whose value the apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager, as Kubernetes prints it (`"kubectl" using v1`).
    pub manager: String,
    /// The field.
    pub path: Path,
}

/// Why an apply fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The configuration is not acceptable (400).
    #[error("{0}")]
    Invalid(String),
    /// Fields owned by other managers would change (409), in manager then path order.
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
}

/// Kubernetes' message of an apply conflict: `Apply failed with 1 conflict: conflict with
/// "m" using v1: .spec.replicas`, or per manager (sorted) with a line per field.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager, c.path
        );
    }
    let mut lines: Vec<String> = Vec::new();
    let mut last: Option<&str> = None;
    for c in conflicts {
        if last != Some(c.manager.as_str()) {
            lines.push(format!("conflicts with {}:", c.manager));
            last = Some(&c.manager);
        }
        lines.push(format!("- {}", c.path));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Applies `req.config` to `req.live` for `req.manager` (structured-merge-diff's `Apply`):
/// the configuration is merged in, what the applier applied last time and no longer does is
/// pruned unless someone else owns it, the applier's `Apply` entry becomes exactly the
/// configuration's fields, fields it changes leave other managers with `force` (else they
/// are conflicts), removed fields leave every set.
pub fn apply(req: &ApplyRequest<'_>) -> Result<Applied, ApplyError> {
    if req
        .config
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::Invalid(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let root = Ty::root(req.schema);
    let full = walk::field_set(req.config, root)
        .map_err(|e| ApplyError::Invalid(format!("failed to create typed patch object: {e}")))?;
    let mut applied = full.clone();
    strip(&mut applied, req.scope);

    let mut live = req.live.clone();
    if let Some(Value::Object(meta)) = live.get_mut("metadata") {
        meta.remove("managedFields");
    }
    let mut merged = walk::merge(&live, req.config, root);

    let mut managers = decode(req.managed).unwrap_or_default();
    let subresource = req.scope.subresource();
    let mine = managers.iter().position(|m| {
        m.same(
            req.manager,
            MANAGED_FIELDS_OPERATION_APPLY,
            req.api_version,
            subresource,
        )
    });
    let last = mine.map(|i| std::mem::take(&mut managers[i].set));
    let mine = match mine {
        Some(i) => i,
        None => {
            managers.push(Manager {
                manager: req.manager.to_string(),
                operation: MANAGED_FIELDS_OPERATION_APPLY.to_string(),
                api_version: req.api_version.to_string(),
                subresource: subresource.to_string(),
                time: String::new(),
                set: Set::new(),
            });
            managers.len() - 1
        }
    };
    managers[mine].set = applied;
    managers[mine].api_version = req.api_version.to_string();

    if let Some(last) = last.filter(|l| !l.is_empty()) {
        let mut owned = full;
        for m in &managers {
            owned.union_in_place(&m.set);
        }
        walk::prune(&mut merged, &last, Some(&owned), root);
    }

    let mut old = live.clone();
    let mut new = merged.clone();
    strip_value(&mut old, req.scope);
    strip_value(&mut new, req.scope);
    let c = super::compare(&old, &new, req.schema, req.scope);
    let changed_fields = c.added.union(&c.modified);
    let mut conflicts = Vec::new();
    for (i, m) in managers.iter_mut().enumerate() {
        if i == mine {
            continue;
        }
        let clash = m.set.intersection(&changed_fields);
        if !clash.is_empty() {
            let who = m.describe();
            conflicts.extend(clash.paths().into_iter().map(|path| Conflict {
                manager: who.clone(),
                path,
            }));
            if req.force {
                m.set.difference_in_place(&clash);
            }
        }
        m.set.difference_in_place(&c.removed);
    }
    if !req.force && !conflicts.is_empty() {
        conflicts.sort_by(|a, b| (&a.manager, &a.path).cmp(&(&b.manager, &b.path)));
        return Err(ApplyError::Conflicts(conflicts));
    }
    let changed = merged != live;
    if changed || managers[mine].time.is_empty() {
        managers[mine].time = req.time.to_string();
    }
    Ok(Applied {
        object: merged,
        managed_fields: encode(managers),
        changed,
    })
}
