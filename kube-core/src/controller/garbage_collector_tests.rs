//! Tables of cases for the garbage collector's decisions.

use super::*;
use crate::meta::FINALIZER_FOREGROUND;

fn reference(kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: None,
        block_owner_deletion: None,
    }
}

fn rc_ref(name: &str) -> OwnerReference {
    reference("ReplicationController", name, &format!("uid-{name}"))
}

fn meta(uid: &str, deleting: bool, finalizers: &[&str]) -> ObjectMeta {
    ObjectMeta {
        name: "owner".into(),
        uid: uid.into(),
        deletion_timestamp: if deleting {
            "2026-01-01T00:00:00Z".into()
        } else {
            String::new()
        },
        finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
        ..ObjectMeta::default()
    }
}

#[test]
fn owner_state_compares_uids_and_sees_orphaning() {
    let r = rc_ref("a");
    // (found object, state)
    let cases = [
        (None, OwnerState::Absent),
        (Some(meta("uid-a", false, &[])), OwnerState::Exists),
        (Some(meta("uid-other", false, &[])), OwnerState::Absent),
        (Some(meta("uid-a", true, &[])), OwnerState::Exists),
        (
            Some(meta("uid-a", true, &["orphan"])),
            OwnerState::Orphaning,
        ),
        (Some(meta("uid-a", false, &["orphan"])), OwnerState::Exists),
        (
            Some(meta("uid-a", true, &[FINALIZER_FOREGROUND])),
            OwnerState::Waiting,
        ),
        (
            Some(meta("uid-a", false, &[FINALIZER_FOREGROUND])),
            OwnerState::Exists,
        ),
        (
            Some(meta("uid-other", true, &["orphan"])),
            OwnerState::Absent,
        ),
    ];
    for (found, want) in cases {
        assert_eq!(owner_state(&r, found.as_ref()), want, "{found:?}");
    }
}

#[test]
fn owner_locations_resolve_served_kinds() {
    // (reference, dependent namespace, location)
    let cases = [
        (
            rc_ref("a"),
            "ns",
            Some((ResourceKind::ReplicationControllers, "ns")),
        ),
        (
            reference("Node", "n1", "u"),
            "ns",
            Some((ResourceKind::Nodes, "")),
        ),
        (
            reference("Node", "n1", "u"),
            "",
            Some((ResourceKind::Nodes, "")),
        ),
        (rc_ref("a"), "", None),
        (reference("ReplicaSet", "a", "u"), "ns", None),
        (
            OwnerReference {
                api_version: "apps/v1".into(),
                ..rc_ref("a")
            },
            "ns",
            None,
        ),
        (
            OwnerReference {
                api_version: "coordination.k8s.io/v1".into(),
                ..reference("Lease", "l", "u")
            },
            "ns",
            Some((ResourceKind::Leases, "ns")),
        ),
    ];
    for (r, ns, want) in cases {
        let got = owner_location(&r, ns);
        let got = got.as_ref().map(|(k, ns)| (*k, ns.as_str()));
        assert_eq!(got, want, "{r:?} in {ns:?}");
    }
}

/// (case, dependent deleting?, (reference name, owner state)..., decision)
type Case = (
    &'static str,
    bool,
    Vec<(&'static str, OwnerState)>,
    Decision,
);

#[test]
fn dependents_are_kept_released_or_deleted() {
    use OwnerState::*;
    let remove = |names: &[&str]| {
        Decision::RemoveReferences(names.iter().map(|n| format!("uid-{n}")).collect())
    };
    let cases: Vec<Case> = vec![
        ("no owners", false, vec![], Decision::Keep),
        ("owner exists", false, vec![("a", Exists)], Decision::Keep),
        ("owner gone", false, vec![("a", Absent)], Decision::Delete),
        ("owner unknown", false, vec![("a", Unknown)], Decision::Keep),
        (
            "all of several owners gone",
            false,
            vec![("a", Absent), ("b", Absent)],
            Decision::Delete,
        ),
        (
            "one of two owners gone: its reference removed",
            false,
            vec![("a", Exists), ("b", Absent)],
            remove(&["b"]),
        ),
        (
            "gone next to unknown: the dangling reference removed",
            false,
            vec![("a", Absent), ("b", Unknown)],
            remove(&["a"]),
        ),
        (
            "owner orphaning: released",
            false,
            vec![("a", Orphaning)],
            remove(&["a"]),
        ),
        (
            "orphaning and gone: both removed, the object kept",
            false,
            vec![("a", Orphaning), ("b", Absent)],
            remove(&["a", "b"]),
        ),
        (
            "orphaning next to a live owner",
            false,
            vec![("a", Exists), ("b", Orphaning)],
            remove(&["b"]),
        ),
        (
            "owner waiting in the foreground",
            false,
            vec![("a", Waiting)],
            Decision::Delete,
        ),
        (
            "waiting and gone",
            false,
            vec![("a", Waiting), ("b", Absent)],
            Decision::Delete,
        ),
        (
            "waiting next to a live owner: that reference removed",
            false,
            vec![("a", Waiting), ("b", Exists)],
            remove(&["a"]),
        ),
        (
            "deleting dependent, owner waiting: left to finish",
            true,
            vec![("a", Waiting)],
            Decision::Keep,
        ),
        (
            "deleting dependent, owner gone: not deleted again",
            true,
            vec![("a", Absent)],
            Decision::Keep,
        ),
        (
            "deleting dependent, owner orphaning: still released",
            true,
            vec![("a", Orphaning), ("b", Absent)],
            remove(&["a"]),
        ),
    ];
    for (name, deleting, owners, want) in cases {
        let mut m = meta("dep", deleting, &[]);
        m.owner_references = owners.iter().map(|(n, _)| rc_ref(n)).collect();
        let state_of = |r: &OwnerReference| {
            owners
                .iter()
                .find(|(n, _)| r.name == *n)
                .map(|(_, s)| *s)
                .unwrap_or(Unknown)
        };
        assert_eq!(decide(&m, state_of), want, "{name}");
    }
}

#[test]
fn releasing_needs_the_mark_and_the_orphan_finalizer() {
    let cases = [
        (meta("u", true, &["orphan"]), true),
        (meta("u", true, &["example.com/x", "orphan"]), true),
        (meta("u", false, &["orphan"]), false),
        (meta("u", true, &["example.com/x"]), false),
    ];
    for (m, want) in cases {
        assert_eq!(releasing(&m), want, "{m:?}");
    }
}

#[test]
fn foreground_owners_wait_for_blocking_dependents() {
    assert!(waiting_for_dependents(&meta(
        "u",
        true,
        &[FINALIZER_FOREGROUND]
    )));
    assert!(!waiting_for_dependents(&meta(
        "u",
        false,
        &[FINALIZER_FOREGROUND]
    )));
    assert!(!waiting_for_dependents(&meta("u", true, &["orphan"])));
    // (blockOwnerDeletion of the reference to uid-a, blocks)
    let cases = [(Some(true), true), (Some(false), false), (None, false)];
    for (block, want) in cases {
        let mut m = meta("dep", false, &[]);
        m.owner_references = vec![
            OwnerReference {
                block_owner_deletion: block,
                ..rc_ref("a")
            },
            OwnerReference {
                block_owner_deletion: Some(true),
                ..rc_ref("b")
            },
        ];
        assert_eq!(blocks(&m, "uid-a"), want, "{block:?}");
    }
}

#[test]
fn removals_report_whether_anything_changed() {
    let mut m = meta("dep", false, &["orphan", "example.com/x"]);
    m.owner_references = vec![rc_ref("a"), rc_ref("b")];
    assert!(remove_references(&mut m, &["uid-b".into()]));
    assert_eq!(m.owner_references, vec![rc_ref("a")]);
    assert!(!remove_references(&mut m, &["uid-b".into()]));
    assert!(remove_finalizer(&mut m, "orphan"));
    assert!(!remove_finalizer(&mut m, "orphan"));
    assert_eq!(m.finalizers, vec!["example.com/x".to_string()]);
}
