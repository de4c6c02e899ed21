//! Tables of cases for the replication controller's plan.

use super::*;
use crate::pod::ContainerStatus;
use crate::rand::SplitMix64;
use crate::testing::{PodBuilder, ReplicationControllerBuilder};
use crate::OwnerReference;

const RC_UID: &str = "rc-uid";

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix(1_700_000_000 + secs, 0)
}

fn rc(replicas: i32) -> ReplicationController {
    let mut rc = ReplicationControllerBuilder::new("Web")
        .replicas(replicas)
        .selector("app", "web")
        .template(
            PodBuilder::new("x")
                .label("app", "web")
                .label("tier", "fe")
                .container("c", "img"),
        )
        .build();
    rc.metadata.uid = RC_UID.into();
    rc.metadata.generation = 7;
    rc
}

/// A running pod matching the RC's selector, owned by nobody.
fn pod(name: &str) -> PodBuilder {
    PodBuilder::new(name).label("app", "web").phase("Running")
}

fn own(mut p: Pod) -> Pod {
    p.metadata.owner_references = vec![controller_reference(&rc(1))];
    p
}

fn owned(name: &str) -> Pod {
    own(pod(name).build())
}

fn terminating(mut p: Pod) -> Pod {
    p.metadata.deletion_timestamp = t(0).to_rfc3339();
    p
}

fn created(mut p: Pod, secs: i64) -> Pod {
    p.metadata.creation_timestamp = t(secs).to_rfc3339();
    p
}

fn restarts(mut p: Pod, n: i32) -> Pod {
    p.status.container_statuses = vec![ContainerStatus {
        name: "c".into(),
        restart_count: n,
        ..ContainerStatus::default()
    }];
    p
}

fn run(rc: &ReplicationController, pods: &[Pod], exp: &Expectations) -> Plan {
    let refs: Vec<&Pod> = pods.iter().collect();
    plan(rc, &refs, exp, t(10), &mut SplitMix64::new(1))
}

#[test]
fn creates_and_deletes_the_difference_of_active_pods() {
    let failed = own(pod("f").phase("Failed").build());
    let succeeded = own(pod("s").phase("Succeeded").build());
    let foreign = {
        let mut p = pod("other").build();
        p.metadata.owner_references = vec![OwnerReference {
            uid: "someone-else".into(),
            controller: Some(true),
            ..OwnerReference::default()
        }];
        p
    };
    let unrelated = PodBuilder::new("u").label("app", "db").build();
    // (case, replicas, pods, creates, deletes)
    let cases: Vec<(&str, i32, Vec<Pod>, usize, usize)> = vec![
        ("none yet", 3, vec![], 3, 0),
        ("enough", 2, vec![owned("a"), owned("b")], 0, 0),
        ("one short", 2, vec![owned("a")], 1, 0),
        (
            "two too many",
            1,
            vec![owned("a"), owned("b"), owned("c")],
            0,
            2,
        ),
        (
            "terminating does not count",
            2,
            vec![owned("a"), terminating(owned("b"))],
            1,
            0,
        ),
        (
            "finished pods do not count",
            2,
            vec![failed, succeeded],
            2,
            0,
        ),
        (
            "another controller's pod does not count",
            1,
            vec![foreign],
            1,
            0,
        ),
        ("unrelated pods do not count", 1, vec![unrelated], 1, 0),
        (
            "zero replicas deletes all",
            0,
            vec![owned("a"), owned("b")],
            0,
            2,
        ),
        ("burst cap", 900, vec![], BURST_REPLICAS, 0),
    ];
    for (case, replicas, pods, creates, deletes) in cases {
        let p = run(&rc(replicas), &pods, &Expectations::new());
        assert_eq!(p.create.len(), creates, "{case}");
        assert_eq!(p.delete.len(), deletes, "{case}");
    }
}

#[test]
fn created_pods_come_from_the_template_with_unique_lowercase_names() {
    let rc = rc(20);
    let p = run(&rc, &[], &Expectations::new());
    let names: BTreeSet<&str> = p.create.iter().map(|p| p.metadata.name.as_str()).collect();
    assert_eq!(names.len(), 20, "names are unique");
    for pod in &p.create {
        let suffix = pod.metadata.name.strip_prefix("web-").expect("prefix web-");
        assert_eq!(suffix.len(), 5);
        assert!(
            suffix.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)),
            "{suffix}"
        );
        assert_eq!(pod.metadata.namespace, "default");
        assert_eq!(
            pod.metadata.labels.get("tier").map(String::as_str),
            Some("fe")
        );
        assert_eq!(pod.spec.containers[0].image, "img");
        assert_eq!(
            pod.metadata.owner_references,
            vec![controller_reference(&rc)]
        );
        assert!(is_owned_by(pod, &rc));
    }
}

#[test]
fn unique_names_avoid_taken_ones_and_stay_dns_labels() {
    let mut rng = SplitMix64::new(9);
    let first = unique_name("redisController", &BTreeSet::new(), &mut rng);
    assert!(first.starts_with("rediscontroller-"), "{first}");
    let taken: BTreeSet<String> = [first.clone()].into();
    // The same seed draws `first` again first, so it must be skipped.
    let second = unique_name("redisController", &taken, &mut SplitMix64::new(9));
    assert_ne!(first, second);
    let long = unique_name(&"a".repeat(100), &BTreeSet::new(), &mut rng);
    assert_eq!(long.len(), 63);
    assert!(crate::labels::is_dns1123_label(&long), "{long}");
}

#[test]
fn deletes_in_kubernetes_order() {
    let scheduled = |p: PodBuilder| own(p.node("n1").build());
    // Each pod is more expendable than every later one.
    let ranked = [
        own(pod("unscheduled")
            .phase("Running")
            .condition("Ready", "True")
            .build()),
        scheduled(pod("pending").phase("Pending")),
        scheduled(pod("unknown").phase("Unknown")),
        scheduled(pod("running-not-ready").condition("Ready", "False")),
        restarts(
            scheduled(pod("ready-5-restarts").condition("Ready", "True")),
            5,
        ),
        created(
            restarts(
                scheduled(pod("ready-1-restart-new").condition("Ready", "True")),
                1,
            ),
            5,
        ),
        created(
            restarts(
                scheduled(pod("ready-1-restart-old").condition("Ready", "True")),
                1,
            ),
            1,
        ),
    ];
    for keep in 0..ranked.len() {
        // Shuffled input: reversed.
        let pods: Vec<Pod> = ranked.iter().rev().cloned().collect();
        let p = run(&rc(keep as i32), &pods, &Expectations::new());
        let want: Vec<String> = ranked[..ranked.len() - keep]
            .iter()
            .map(|p| p.metadata.name.clone())
            .collect();
        assert_eq!(p.delete, want, "keeping {keep}");
    }
}

#[test]
fn adopts_matching_orphans_and_releases_pods_that_stop_matching() {
    let relabelled = own(PodBuilder::new("moved").label("app", "other").build());
    let orphan = pod("orphan").build();
    let terminating_orphan = terminating(pod("dying-orphan").build());
    let non_matching_orphan = PodBuilder::new("stray").label("app", "db").build();
    let pods = vec![
        relabelled,
        orphan,
        terminating_orphan,
        non_matching_orphan,
        owned("a"),
    ];
    let p = run(&rc(2), &pods, &Expectations::new());
    assert_eq!(p.adopt, vec!["orphan".to_string()]);
    assert_eq!(p.release, vec!["moved".to_string()]);
    // The adopted pod counts; the released one does not.
    assert_eq!(p.status.replicas, 2);
    assert!(p.create.is_empty() && p.delete.is_empty(), "{p:?}");

    let mut dying = rc(2);
    dying.metadata.deletion_timestamp = t(0).to_rfc3339();
    let p = run(&dying, &pods, &Expectations::new());
    assert!(p.adopt.is_empty(), "an RC being deleted adopts nothing");
    assert!(p.create.is_empty(), "an RC being deleted creates nothing");
}

#[test]
fn status_counts_active_ready_and_fully_labelled_pods() {
    let ready = own(pod("r")
        .label("tier", "fe")
        .condition("Ready", "True")
        .build());
    let not_ready = own(pod("n")
        .label("tier", "fe")
        .condition("Ready", "False")
        .build());
    let partly_labelled = own(pod("p").condition("Ready", "True").build());
    let gone = terminating(own(pod("t").condition("Ready", "True").build()));
    let p = run(
        &rc(4),
        &[ready, not_ready, partly_labelled, gone],
        &Expectations::new(),
    );
    assert_eq!(
        p.status,
        ReplicationControllerStatus {
            replicas: 3,
            fully_labeled_replicas: 2,
            ready_replicas: 2,
            observed_generation: 7,
        }
    );
}

/// (case, replicas, pods, expected creates, expected deletes, now offset, plans writes)
type ExpectationCase = (
    &'static str,
    i32,
    Vec<Pod>,
    Vec<&'static str>,
    Vec<&'static str>,
    i64,
    bool,
);

#[test]
fn pending_expectations_hold_creates_and_deletes() {
    // (case, replicas, pods, expected creates, expected deletes, now offset, plans writes)
    let cases: Vec<ExpectationCase> = vec![
        (
            "create not yet seen",
            2,
            vec![owned("a")],
            vec!["b"],
            vec![],
            10,
            false,
        ),
        (
            "create seen",
            3,
            vec![owned("a"), owned("b")],
            vec!["b"],
            vec![],
            10,
            true,
        ),
        (
            "delete not yet seen",
            1,
            vec![owned("a"), owned("b")],
            vec![],
            vec!["b"],
            10,
            false,
        ),
        (
            "delete seen as terminating",
            2,
            vec![owned("a"), terminating(owned("b"))],
            vec![],
            vec!["b"],
            10,
            true,
        ),
        (
            "delete seen as gone",
            2,
            vec![owned("a")],
            vec![],
            vec!["b"],
            10,
            true,
        ),
        (
            "create timed out",
            2,
            vec![owned("a")],
            vec!["b"],
            vec![],
            400,
            true,
        ),
    ];
    for (case, replicas, pods, creates, deletes, now, writes) in cases {
        let mut exp = Expectations::new();
        exp.expect_creates(creates.iter().copied(), t(0));
        exp.expect_deletes(deletes.iter().copied(), t(0));
        let refs: Vec<&Pod> = pods.iter().collect();
        let p = plan(&rc(replicas), &refs, &exp, t(now), &mut SplitMix64::new(1));
        assert_eq!(
            !p.create.is_empty() || !p.delete.is_empty(),
            writes,
            "{case}: {p:?}"
        );
        exp.observe(&refs, t(now));
        assert_eq!(exp.satisfied(), writes, "{case}: observe agrees with plan");
    }
}

#[test]
fn failed_writes_are_forgotten() {
    let mut exp = Expectations::new();
    exp.expect_creates(["a", "b"], t(0));
    exp.expect_deletes(["c"], t(0));
    assert_eq!((exp.pending_creates(), exp.pending_deletes()), (2, 1));
    exp.create_failed("a");
    exp.create_failed("b");
    exp.delete_failed("c");
    assert!(exp.satisfied());
}

#[test]
fn slow_start_doubles_batches() {
    let cases: [(usize, &[usize]); 6] = [
        (0, &[]),
        (1, &[1]),
        (2, &[1, 1]),
        (3, &[1, 2]),
        (10, &[1, 2, 4, 3]),
        (500, &[1, 2, 4, 8, 16, 32, 64, 128, 245]),
    ];
    for (n, want) in cases {
        assert_eq!(slow_start_batches(n), want, "{n}");
        assert_eq!(slow_start_batches(n).iter().sum::<usize>(), n);
    }
}

#[test]
fn default_replicas_is_one_and_negative_is_zero() {
    let mut r = rc(1);
    r.spec.replicas = None;
    assert_eq!(desired_replicas(&r), 1);
    r.spec.replicas = Some(-3);
    assert_eq!(desired_replicas(&r), 0);
}
