//! Tables of cases for the node lifecycle controller's decisions.

use super::*;
use crate::testing::{NodeBuilder, PodBuilder};

const T0: i64 = 1_700_000_000;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix(T0 + secs, 0)
}

fn at(secs: i64) -> String {
    t(secs).to_rfc3339()
}

/// A node created at t(0) with a `Ready` condition of `status`, last heartbeat at
/// `heartbeat` and last transition at `transition` (seconds after t(0); `None`: unset).
fn node(status: &str, heartbeat: Option<i64>, transition: Option<i64>) -> Node {
    let mut n = NodeBuilder::new("n1").condition("Ready", status).build();
    n.metadata.creation_timestamp = at(0);
    let c = &mut n.status.conditions[0];
    c.last_heartbeat_time = heartbeat.map(at).unwrap_or_default();
    c.last_transition_time = transition.map(at).unwrap_or_default();
    n
}

/// A node created at t(0) with conditions but no `Ready` one.
fn no_ready() -> Node {
    let mut n = NodeBuilder::new("n1")
        .condition("MemoryPressure", "False")
        .build();
    n.metadata.creation_timestamp = at(0);
    n
}

fn unmanaged() -> Node {
    let mut n = NodeBuilder::new("n1").build();
    n.metadata.creation_timestamp = at(0);
    n
}

fn timing() -> NodeTiming {
    NodeTiming::default()
}

/// The `Ready` condition a mark writes: (status, reason, heartbeat, transition).
fn marked(h: &NodeHealth) -> Option<(String, String, String, String)> {
    let n = h.mark_unknown.as_ref()?;
    let c = n
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("a Ready condition");
    Some((
        c.status.clone(),
        c.reason.clone(),
        c.last_heartbeat_time.clone(),
        c.last_transition_time.clone(),
    ))
}

fn mark(reason: &str, heartbeat: &str, now: i64) -> Option<(String, String, String, String)> {
    Some(("Unknown".into(), reason.into(), heartbeat.into(), at(now)))
}

#[test]
fn node_health_table() {
    type Case = (
        &'static str,
        Node,
        i64,
        Option<(String, String, String, String)>,
        Readiness,
        Option<Timestamp>,
        Option<Timestamp>,
    );
    let five_min = 300;
    let cases: Vec<Case> = vec![
        // (name, node, now, mark, readiness, evict_after, next_check)
        (
            "no conditions: unmanaged",
            unmanaged(),
            10_000,
            None,
            Readiness::Unmanaged,
            None,
            None,
        ),
        (
            "fresh heartbeat: ready, look again when it goes stale",
            node("True", Some(100), Some(0)),
            130,
            None,
            Readiness::Ready,
            None,
            Some(t(140)),
        ),
        (
            "heartbeat 39 s old: still ready",
            node("True", Some(100), Some(0)),
            139,
            None,
            Readiness::Ready,
            None,
            Some(t(140)),
        ),
        (
            "heartbeat 40 s old: marked Unknown now, heartbeat kept",
            node("True", Some(100), Some(0)),
            140,
            mark(REASON_NODE_STATUS_UNKNOWN, &at(100), 140),
            Readiness::Unknown(t(140)),
            Some(t(140 + five_min)),
            Some(t(140 + five_min)),
        ),
        (
            "False with a fresh heartbeat: not ready since its transition",
            node("False", Some(100), Some(90)),
            110,
            None,
            Readiness::NotReady(t(90)),
            Some(t(90 + five_min)),
            Some(t(140)),
        ),
        (
            "False for 5 min with fresh heartbeats: evict, look again when stale",
            node("False", Some(400), Some(90)),
            90 + five_min,
            None,
            Readiness::NotReady(t(90)),
            Some(t(90 + five_min)),
            Some(t(440)),
        ),
        (
            "False and stale: marked Unknown, eviction counted from now",
            node("False", Some(100), Some(90)),
            200,
            mark(REASON_NODE_STATUS_UNKNOWN, &at(100), 200),
            Readiness::Unknown(t(200)),
            Some(t(200 + five_min)),
            Some(t(200 + five_min)),
        ),
        (
            "already Unknown: left so, evicted from its transition",
            node("Unknown", Some(100), Some(140)),
            200,
            None,
            Readiness::Unknown(t(140)),
            Some(t(140 + five_min)),
            Some(t(140 + five_min)),
        ),
        (
            "Unknown past the eviction timeout: nothing more to wait for",
            node("Unknown", Some(100), Some(140)),
            10_000,
            None,
            Readiness::Unknown(t(140)),
            Some(t(140 + five_min)),
            None,
        ),
        (
            "Unknown without a transition time: since its heartbeat",
            node("Unknown", Some(100), None),
            200,
            None,
            Readiness::Unknown(t(100)),
            Some(t(100 + five_min)),
            Some(t(100 + five_min)),
        ),
        (
            "a status nobody posts counts as Unknown",
            node("Maybe", Some(100), Some(100)),
            120,
            None,
            Readiness::Unknown(t(100)),
            Some(t(100 + five_min)),
            Some(t(100 + five_min)),
        ),
        (
            "Ready without a heartbeat: startup grace from creation",
            node("True", None, None),
            59,
            None,
            Readiness::Ready,
            None,
            Some(t(60)),
        ),
        (
            "Ready without a heartbeat past the startup grace: never updated",
            node("True", None, None),
            60,
            mark(REASON_NODE_STATUS_NEVER_UPDATED, "", 60),
            Readiness::Unknown(t(60)),
            Some(t(60 + five_min)),
            Some(t(60 + five_min)),
        ),
        (
            "no Ready condition within the startup grace: starting",
            no_ready(),
            30,
            None,
            Readiness::Starting,
            None,
            Some(t(60)),
        ),
        (
            "no Ready condition past the startup grace: never updated",
            no_ready(),
            61,
            mark(REASON_NODE_STATUS_NEVER_UPDATED, "", 61),
            Readiness::Unknown(t(61)),
            Some(t(61 + five_min)),
            Some(t(61 + five_min)),
        ),
        (
            "a heartbeat in the future is fresh",
            node("True", Some(500), Some(0)),
            100,
            None,
            Readiness::Ready,
            None,
            Some(t(540)),
        ),
    ];
    for (name, n, now, want_mark, readiness, evict_after, next_check) in cases {
        let h = node_health(&n, t(now), &timing());
        assert_eq!(marked(&h), want_mark, "{name}: mark");
        assert_eq!(h.readiness, readiness, "{name}: readiness");
        assert_eq!(h.evict_after, evict_after, "{name}: evict_after");
        assert_eq!(h.next_check, next_check, "{name}: next_check");
        if let Some(m) = &h.mark_unknown {
            // Only the Ready condition changes; other conditions and the object stay.
            let mut back = m.clone();
            back.status.conditions.retain(|c| c.type_ != "Ready");
            let mut orig = n.clone();
            orig.status.conditions.retain(|c| c.type_ != "Ready");
            assert_eq!(back, orig, "{name}: only Ready changes");
            let ready = m.status.conditions.iter().find(|c| c.type_ == "Ready");
            let (reason, message) = ready.map_or(("", ""), |c| (&c.reason, &c.message));
            let want = if reason == REASON_NODE_STATUS_UNKNOWN {
                MESSAGE_NODE_STATUS_UNKNOWN
            } else {
                MESSAGE_NODE_STATUS_NEVER_UPDATED
            };
            assert_eq!(message, want, "{name}: message");
        }
    }
}

#[test]
fn timing_is_configurable() {
    let timing = NodeTiming {
        node_monitor_grace_period: Duration::from_secs(10),
        node_startup_grace_period: Duration::from_secs(20),
        pod_eviction_timeout: Duration::from_secs(30),
    };
    let h = node_health(&node("True", Some(100), Some(0)), t(110), &timing);
    assert_eq!(h.readiness, Readiness::Unknown(t(110)));
    assert_eq!(h.evict_after, Some(t(140)));
    let h = node_health(&no_ready(), t(19), &timing);
    assert_eq!(
        (h.readiness, h.next_check),
        (Readiness::Starting, Some(t(20)))
    );
}

fn pod(name: &str, node: &str) -> Pod {
    PodBuilder::new(name).node(node).phase("Running").build()
}

fn terminating(name: &str, deadline: Option<i64>) -> Pod {
    let mut p = pod(name, "n1");
    p.metadata.deletion_timestamp = deadline.map(at).unwrap_or_else(|| "garbage".into());
    p.metadata.deletion_grace_period_seconds = Some(30);
    p
}

fn names(pods: &[&Pod]) -> Vec<String> {
    pods.iter().map(|p| p.metadata.name.clone()).collect()
}

#[test]
fn plan_table() {
    let pods = [
        pod("a", "n1"),
        pod("b", "n1"),
        PodBuilder::new("done")
            .node("n1")
            .phase("Succeeded")
            .build(),
        pod("elsewhere", "n2"),
        PodBuilder::new("unbound").build(),
        terminating("old", Some(500)),
        terminating("young", Some(700)),
        terminating("bad", None),
    ];
    let refs: Vec<&Pod> = pods.iter().collect();
    let live = vec!["a", "b", "done"];
    let none: Vec<&str> = vec![];
    // Unknown since t(140): evicting from t(440).
    let unknown = node("Unknown", Some(100), Some(140));
    // False since t(90), heartbeats fresh: evicting from t(390).
    let not_ready = node("False", Some(600), Some(90));
    type Case<'a> = (
        &'a str,
        Node,
        i64,
        Vec<&'a str>,
        Vec<&'a str>,
        Option<Timestamp>,
    );
    let cases: Vec<Case> = vec![
        // (name, node, now, evict, force_delete, next_check)
        (
            "ready: nothing",
            node("True", Some(600), Some(0)),
            610,
            none.clone(),
            none.clone(),
            Some(t(640)),
        ),
        (
            "Unknown before the timeout: nothing yet",
            unknown.clone(),
            439,
            none.clone(),
            none.clone(),
            Some(t(440)),
        ),
        (
            "Unknown at the timeout: evict the live pods, force the overdue terminating ones",
            unknown.clone(),
            600,
            live.clone(),
            vec!["old", "bad"],
            Some(t(700)),
        ),
        (
            "Unknown later: every terminating pod is overdue",
            unknown.clone(),
            700,
            live.clone(),
            vec!["old", "young", "bad"],
            None,
        ),
        (
            "False past the timeout: evict, but the live kubelet finishes deletions",
            not_ready.clone(),
            610,
            live.clone(),
            none.clone(),
            Some(t(640)),
        ),
        (
            "False before the timeout: nothing",
            not_ready.clone(),
            389,
            none.clone(),
            none.clone(),
            Some(t(390)),
        ),
        (
            "unmanaged: nothing ever",
            unmanaged(),
            100_000,
            none.clone(),
            none.clone(),
            None,
        ),
    ];
    for (name, n, now, evict, force, next) in cases {
        let p = plan(&n, &refs, t(now), &timing());
        assert_eq!(names(&p.evict), evict, "{name}: evict");
        assert_eq!(names(&p.force_delete), force, "{name}: force_delete");
        assert_eq!(p.next_check, next, "{name}: next_check");
    }
}

#[test]
fn plan_marks_a_stale_node_and_evicts_nothing_yet() {
    let pods = [pod("a", "n1")];
    let refs: Vec<&Pod> = pods.iter().collect();
    let p = plan(&node("True", Some(0), Some(0)), &refs, t(40), &timing());
    assert!(p.health.mark_unknown.is_some());
    assert!(p.evict.is_empty());
    assert_eq!(p.next_check, Some(t(340)));
}

#[test]
fn eviction_limiter_table() {
    // (name, rate, admissions asked at these seconds, expected answers)
    type Case = (&'static str, f64, Vec<f64>, Vec<Admission>);
    let secs = Duration::from_secs_f64;
    let cases: Vec<Case> = vec![
        (
            "starts full, then one node per 10 s",
            0.1,
            vec![0.0, 0.0, 4.0, 10.0, 10.0, 25.0, 25.0],
            vec![
                Admission::Granted,
                Admission::Wait(secs(10.0)),
                Admission::Wait(secs(6.0)),
                Admission::Granted,
                Admission::Wait(secs(10.0)),
                Admission::Granted,
                Admission::Wait(secs(10.0)),
            ],
        ),
        (
            "a long quiet spell stores one token only (burst 1)",
            0.1,
            vec![0.0, 1000.0, 1000.0],
            vec![
                Admission::Granted,
                Admission::Granted,
                Admission::Wait(secs(10.0)),
            ],
        ),
        (
            "fast rate",
            2.0,
            vec![0.0, 0.5, 0.75, 1.0],
            vec![
                Admission::Granted,
                Admission::Granted,
                Admission::Wait(secs(0.25)),
                Admission::Granted,
            ],
        ),
        (
            "time running backwards refills nothing",
            1.0,
            vec![10.0, 5.0, 10.5],
            vec![
                Admission::Granted,
                Admission::Wait(secs(1.0)),
                Admission::Wait(secs(0.5)),
            ],
        ),
        ("zero rate: never", 0.0, vec![0.0], vec![Admission::Never]),
        (
            "negative rate: never",
            -1.0,
            vec![0.0],
            vec![Admission::Never],
        ),
        (
            "NaN rate: never",
            f64::NAN,
            vec![0.0],
            vec![Admission::Never],
        ),
    ];
    for (name, rate, times, want) in cases {
        let mut limiter = EvictionLimiter::new(rate);
        let got: Vec<Admission> = times
            .iter()
            .map(|s| {
                let at = Timestamp::from_unix(T0 + s.trunc() as i64, (s.fract() * 1e9) as u32);
                limiter.admit(at)
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let close = match (g, w) {
                (Admission::Wait(a), Admission::Wait(b)) => {
                    (a.as_secs_f64() - b.as_secs_f64()).abs() < 1e-6
                }
                _ => g == w,
            };
            assert!(close, "{name}, ask {i}: got {g:?}, want {w:?}");
        }
    }
}
