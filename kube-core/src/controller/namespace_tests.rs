use super::*;
use crate::namespace::{PHASE_ACTIVE, PHASE_TERMINATING};

const NOW: &str = "2026-11-28T12:00:00Z";
const EARLIER: &str = "2026-11-28T11:00:00Z";

fn namespace(deleting: bool, finalizers: &[&str]) -> Namespace {
    let mut ns = Namespace::named("team-a");
    ns.spec.finalizers = finalizers.iter().map(|f| f.to_string()).collect();
    ns.status.phase = PHASE_ACTIVE.into();
    if deleting {
        ns.metadata.deletion_timestamp = EARLIER.into();
        ns.status.phase = PHASE_TERMINATING.into();
    }
    ns
}

fn item(resource: ResourceKind, name: &str, deleting: bool) -> Content {
    Content {
        resource,
        name: name.into(),
        deleting,
    }
}

#[test]
fn plans_per_namespace_state() {
    use ResourceKind::*;
    let content = [
        item(Services, "web", false),
        item(Pods, "web-2", true),
        item(Pods, "web-1", false),
        item(Events, "web-1.1", false),
    ];
    // (case, deleting, finalizers, content, failures) → (delete, finalize, wait)
    #[allow(clippy::type_complexity)]
    let cases: [(
        &str,
        bool,
        &[&str],
        &[Content],
        &[&str],
        &[(ResourceKind, &str)],
        bool,
        bool,
    ); 7] = [
        (
            "active: nothing",
            false,
            &[FINALIZER_KUBERNETES],
            &content,
            &[],
            &[],
            false,
            false,
        ),
        (
            "not ours: nothing",
            true,
            &["example.com/x"],
            &content,
            &[],
            &[],
            false,
            false,
        ),
        (
            "content: delete what is not being deleted, wait",
            true,
            &[FINALIZER_KUBERNETES],
            &content,
            &[],
            &[(Pods, "web-1"), (Services, "web"), (Events, "web-1.1")],
            false,
            true,
        ),
        (
            "only terminating pods left: wait for them",
            true,
            &[FINALIZER_KUBERNETES],
            &content[1..2],
            &[],
            &[],
            false,
            true,
        ),
        (
            "empty: finalize",
            true,
            &[FINALIZER_KUBERNETES, "example.com/x"],
            &[],
            &[],
            &[],
            true,
            false,
        ),
        (
            "empty but a delete failed: wait",
            true,
            &[FINALIZER_KUBERNETES],
            &[],
            &["pods \"x\": storage is unavailable"],
            &[],
            false,
            true,
        ),
        (
            "already finalized: nothing",
            true,
            &[],
            &[],
            &[],
            &[],
            false,
            false,
        ),
    ];
    for (case, deleting, finalizers, content, failures, delete, finalize, wait) in cases {
        let ns = namespace(deleting, finalizers);
        let failures: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
        let p = plan(&ns, content, &failures, NOW);
        let want: Vec<(ResourceKind, String)> =
            delete.iter().map(|(k, n)| (*k, n.to_string())).collect();
        assert_eq!(p.delete, want, "{case}");
        assert_eq!((p.finalize, p.wait), (finalize, wait), "{case}");
        assert_eq!(
            p.status.is_some(),
            deleting && finalizers.contains(&FINALIZER_KUBERNETES),
            "{case}"
        );
    }
}

#[test]
fn conditions_say_what_remains_and_what_failed() {
    use ResourceKind::*;
    let ns = namespace(true, &[FINALIZER_KUBERNETES]);
    let content = [
        item(Pods, "a", true),
        item(Pods, "b", false),
        item(Leases, "l", false),
    ];
    let failures = vec!["leases \"l\": boom".to_string()];
    let status = plan(&ns, &content, &failures, NOW).status.expect("status");
    assert_eq!(status.phase, PHASE_TERMINATING);
    let got: Vec<(&str, &str, &str, &str)> = status
        .conditions
        .iter()
        .map(|c| {
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_str(),
                c.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                CONDITION_DELETION_CONTENT_FAILURE,
                "True",
                "ContentDeletionFailed",
                "Failed to delete all resource types, 1 remaining: leases \"l\": boom"
            ),
            (
                CONDITION_CONTENT_REMAINING,
                "True",
                "SomeResourcesRemain",
                "Some resources are remaining: leases.coordination.k8s.io has 1 resource instances, pods. has 2 resource instances"
            ),
        ]
    );
    assert!(status
        .conditions
        .iter()
        .all(|c| c.last_transition_time == NOW));

    // Written once, the same observation plans no status write; a change keeps the transition
    // time of the conditions whose status did not change.
    let mut written = ns.clone();
    written.status = status;
    assert_eq!(plan(&written, &content, &failures, "later").status, None);
    let next = plan(&written, &content[..1], &[], "later")
        .status
        .expect("changed");
    let times: Vec<(&str, &str)> = next
        .conditions
        .iter()
        .map(|c| (c.status.as_str(), c.last_transition_time.as_str()))
        .collect();
    assert_eq!(times, [("False", "later"), ("True", NOW)]);
    let done = plan(&written, &[], &[], "later").status.expect("changed");
    assert!(
        done.conditions.iter().all(|c| c.status == "False"),
        "{done:?}"
    );
    assert_eq!(done.conditions[1].reason, "ContentRemoved");
}

#[test]
fn finalizing_removes_only_ours_and_kinds_are_the_namespaced_ones() {
    let ns = namespace(true, &["example.com/x", FINALIZER_KUBERNETES]);
    assert_eq!(
        without_kubernetes_finalizer(&ns).spec.finalizers,
        ["example.com/x"]
    );
    let kinds: Vec<ResourceKind> = namespaced_kinds().collect();
    assert!(kinds.contains(&ResourceKind::Pods) && kinds.contains(&ResourceKind::Leases));
    assert!(!kinds.contains(&ResourceKind::Nodes) && !kinds.contains(&ResourceKind::Namespaces));
}
