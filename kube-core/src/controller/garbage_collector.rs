//! The garbage collector's decisions, pure (Kubernetes' `attemptToDeleteItem` and
//! `orphanDependents`, reduced to what matters).
//!
//! An object's `ownerReferences` name its owners by kind, name and **uid**: an owner of the same
//! name but another uid is a different object, so the reference dangles. For one dependent:
//! - every owner gone ([`OwnerState::Absent`]) → **delete** it (background propagation);
//! - some owner still there (or unknown) → **keep** it, removing the dangling references;
//! - an owner being deleted with the [`FINALIZER_ORPHAN`] finalizer ([`OwnerState::Orphaning`])
//!   → **release** the dependent: remove the reference to that owner; the owner's finalizer is
//!   removed once it has no dependents left ([`releasing`]);
//! - an owner being deleted in the foreground ([`FINALIZER_FOREGROUND`],
//!   [`OwnerState::Waiting`]) counts as gone for its dependents, which are deleted (in the
//!   background: the owner waits for its direct dependents only); its finalizer is removed
//!   once no dependent blocks it ([`waiting_for_dependents`], [`blocks`]).
//!
//! A dependent that is itself being deleted is only released, never deleted again. Callers must
//! decide with synced caches and confirm an owner's absence by a live read before acting on it:
//! an owner unknown to a cache is never proof that it is gone.

use crate::meta::{ObjectMeta, OwnerReference, FINALIZER_FOREGROUND, FINALIZER_ORPHAN};
use crate::object::ResourceKind;

/// What the collector knows of the object an owner reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    /// An object of that kind, name and uid exists.
    Exists,
    /// It exists, being deleted with the `orphan` finalizer: its dependents are to be released.
    Orphaning,
    /// It exists, being deleted in the foreground: its dependents are to be deleted first.
    Waiting,
    /// No object of that kind and name has that uid.
    Absent,
    /// Cannot be told (a kind the server does not serve, an unresolvable reference): keep.
    Unknown,
}

/// What to do with one dependent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Leave it as it is.
    Keep,
    /// Every owner is gone: delete it.
    Delete,
    /// Remove the owner references with these uids (dangling or released), keep the object.
    RemoveReferences(Vec<String>),
}

/// The state of the owner `reference` names, given the object found under its kind and name
/// (`None`: no such object).
pub fn owner_state(reference: &OwnerReference, found: Option<&ObjectMeta>) -> OwnerState {
    match found {
        Some(owner) if owner.uid == reference.uid => {
            if waiting_for_dependents(owner) {
                OwnerState::Waiting
            } else if releasing(owner) {
                OwnerState::Orphaning
            } else {
                OwnerState::Exists
            }
        }
        _ => OwnerState::Absent,
    }
}

/// The served resource an owner reference names (kind and apiVersion), or `None`.
pub fn owner_kind(reference: &OwnerReference) -> Option<ResourceKind> {
    ResourceKind::ALL.into_iter().find(|r| {
        let info = r.info();
        info.kind == reference.kind && info.api_version == reference.api_version
    })
}

/// Where the owner named by `reference` lives, for a dependent in `namespace`: its kind and
/// namespace (empty when cluster-scoped), or `None` when it cannot be resolved (an unserved
/// kind, or a namespaced owner of a cluster-scoped dependent, which Kubernetes refuses to
/// collect).
pub fn owner_location(
    reference: &OwnerReference,
    namespace: &str,
) -> Option<(ResourceKind, String)> {
    let kind = owner_kind(reference)?;
    if !kind.info().namespaced {
        return Some((kind, String::new()));
    }
    if namespace.is_empty() {
        return None;
    }
    Some((kind, namespace.to_string()))
}

/// Decides what to do with the dependent `meta`, `owner` telling the state of each of its
/// owner references.
pub fn decide(meta: &ObjectMeta, owner: impl Fn(&OwnerReference) -> OwnerState) -> Decision {
    if meta.owner_references.is_empty() {
        return Decision::Keep;
    }
    let states: Vec<(&OwnerReference, OwnerState)> = meta
        .owner_references
        .iter()
        .map(|r| (r, owner(r)))
        .collect();
    let uids_in = |wanted: &[OwnerState]| -> Vec<String> {
        states
            .iter()
            .filter(|(_, s)| wanted.contains(s))
            .map(|(r, _)| r.uid.clone())
            .collect()
    };
    if meta.is_deleting() {
        let released = uids_in(&[OwnerState::Orphaning]);
        return if released.is_empty() {
            Decision::Keep
        } else {
            Decision::RemoveReferences(released)
        };
    }
    let gone = [OwnerState::Absent, OwnerState::Waiting];
    if states.iter().all(|(_, s)| gone.contains(s)) {
        return Decision::Delete;
    }
    // Some owner stays: the references to the others go (Kubernetes removes those to owners
    // waiting in the foreground too, so they need not wait for this object).
    let removed = uids_in(&[
        OwnerState::Orphaning,
        OwnerState::Absent,
        OwnerState::Waiting,
    ]);
    if removed.is_empty() {
        Decision::Keep
    } else {
        Decision::RemoveReferences(removed)
    }
}

/// Whether `owner` waits for the collector to release its dependents: being deleted with the
/// `orphan` finalizer.
pub fn releasing(owner: &ObjectMeta) -> bool {
    owner.is_deleting() && owner.has_finalizer(FINALIZER_ORPHAN)
}

/// Whether `owner` is being deleted in the foreground (the `foregroundDeletion` finalizer): it
/// waits until no dependent [`blocks`] it.
pub fn waiting_for_dependents(owner: &ObjectMeta) -> bool {
    owner.is_deleting() && owner.has_finalizer(FINALIZER_FOREGROUND)
}

/// Whether the dependent `meta` blocks the foreground deletion of the owner with `owner_uid`
/// (its reference to it has `blockOwnerDeletion: true`).
pub fn blocks(meta: &ObjectMeta, owner_uid: &str) -> bool {
    meta.owner_references
        .iter()
        .any(|r| r.uid == owner_uid && r.block_owner_deletion == Some(true))
}

/// Removes the owner references whose uid is in `uids`; whether anything was removed.
pub fn remove_references(meta: &mut ObjectMeta, uids: &[String]) -> bool {
    let before = meta.owner_references.len();
    meta.owner_references.retain(|r| !uids.contains(&r.uid));
    meta.owner_references.len() != before
}

/// Removes the finalizer `name`; whether it was there.
pub fn remove_finalizer(meta: &mut ObjectMeta, name: &str) -> bool {
    let before = meta.finalizers.len();
    meta.finalizers.retain(|f| f != name);
    meta.finalizers.len() != before
}

#[cfg(test)]
#[path = "garbage_collector_tests.rs"]
mod tests;
