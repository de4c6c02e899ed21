use super::*;
use crate::pod::{ContainerPort, ExecAction};

fn t0() -> Timestamp {
    Timestamp::from_unix(1_000_000, 0)
}

fn at(secs: u64) -> Timestamp {
    t0().saturating_add(Duration::from_secs(secs))
}

fn probe(initial: i32, period: i32, timeout: i32, success: i32, failure: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: vec!["true".into()],
        }),
        initial_delay_seconds: initial,
        period_seconds: period,
        timeout_seconds: timeout,
        success_threshold: success,
        failure_threshold: failure,
        ..Probe::default()
    }
}

fn params(initial: u64, period: u64, timeout: u64, success: u32, failure: u32) -> ProbeParams {
    ProbeParams {
        initial_delay: Duration::from_secs(initial),
        period: Duration::from_secs(period),
        timeout: Duration::from_secs(timeout),
        success_threshold: success,
        failure_threshold: failure,
    }
}

#[test]
fn effective_parameters() {
    use ProbeKind::{Liveness, Readiness};
    let cases = [
        (
            "all unset",
            Readiness,
            probe(0, 0, 0, 0, 0),
            params(0, 10, 1, 1, 3),
        ),
        (
            "all set",
            Readiness,
            probe(5, 3, 2, 2, 4),
            params(5, 3, 2, 2, 4),
        ),
        (
            "negatives",
            Readiness,
            probe(-1, -1, -1, -1, -1),
            params(0, 10, 1, 1, 3),
        ),
        (
            "liveness success threshold is 1",
            Liveness,
            probe(0, 0, 0, 5, 0),
            params(0, 10, 1, 1, 3),
        ),
        (
            "liveness keeps the rest",
            Liveness,
            probe(7, 2, 3, 0, 1),
            params(7, 2, 3, 1, 1),
        ),
    ];
    for (name, kind, p, want) in cases {
        assert_eq!(ProbeParams::new(kind, &p), want, "{name}");
    }
}

#[test]
fn ports_resolve_by_number_or_name() {
    let container = Container {
        name: "web".into(),
        ports: vec![
            ContainerPort {
                name: "http".into(),
                container_port: 8080,
                ..ContainerPort::default()
            },
            ContainerPort {
                name: "bad".into(),
                container_port: 70000,
                ..ContainerPort::default()
            },
            ContainerPort {
                container_port: 9090,
                ..ContainerPort::default()
            },
        ],
        ..Container::default()
    };
    let s = |v: &str| IntOrString::String(v.into());
    let cases = [
        (IntOrString::Int(80), Ok(80)),
        (IntOrString::Int(65535), Ok(65535)),
        (IntOrString::Int(0), Err(ProbePortError::OutOfRange(0))),
        (IntOrString::Int(-5), Err(ProbePortError::OutOfRange(-5))),
        (
            IntOrString::Int(65536),
            Err(ProbePortError::OutOfRange(65536)),
        ),
        (s("http"), Ok(8080)),
        (s("bad"), Err(ProbePortError::OutOfRange(70000))),
        (s("8081"), Ok(8081)),
        (
            s("metrics"),
            Err(ProbePortError::UnknownName("metrics".into())),
        ),
        (s(""), Err(ProbePortError::UnknownName(String::new()))),
        (
            s("99999999999"),
            Err(ProbePortError::OutOfRange(99_999_999_999)),
        ),
    ];
    for (port, want) in cases {
        assert_eq!(resolve_port(&port, &container), want, "{port:?}");
    }
}

/// One step of a tracker scenario: at `secs`, either ask whether a probe is due, or record a
/// result; then check the verdict and the next due time.
enum Step {
    /// Not due at this time.
    NotDue(u64),
    /// Due at this time; record this result (`true` = success); then expect this verdict and
    /// this next due time.
    Probe(u64, bool, ProbeVerdict, u64),
    /// A new container started at this time.
    Restart(&'static str, u64),
}

#[test]
fn tracker_scenarios() {
    use ProbeVerdict::{Healthy, NotReady, Ready, Unhealthy};
    use Step::{NotDue, Probe as P, Restart};
    let cases: Vec<(&str, ProbeKind, crate::pod::Probe, ProbeVerdict, Vec<Step>)> = vec![
        (
            "liveness: healthy until 3 failures in a row",
            ProbeKind::Liveness,
            probe(5, 10, 1, 0, 3),
            Healthy,
            vec![
                NotDue(4),
                P(5, false, Healthy, 15),
                P(15, false, Healthy, 25),
                P(25, true, Healthy, 35),
                P(35, false, Healthy, 45),
                P(45, false, Healthy, 55),
                NotDue(54),
                P(55, false, Unhealthy, 65),
                P(65, true, Healthy, 75),
            ],
        ),
        (
            "liveness: new container starts over",
            ProbeKind::Liveness,
            probe(0, 2, 1, 0, 1),
            Healthy,
            vec![
                P(0, false, Unhealthy, 2),
                Restart("c2", 10),
                NotDue(9),
                P(10, true, Healthy, 12),
            ],
        ),
        (
            "readiness: not ready until the first success",
            ProbeKind::Readiness,
            probe(3, 5, 1, 0, 2),
            NotReady,
            vec![
                NotDue(2),
                P(3, false, NotReady, 8),
                P(8, true, Ready, 13),
                P(13, false, Ready, 18),
                P(18, false, NotReady, 23),
                P(23, true, Ready, 28),
            ],
        ),
        (
            "readiness: success threshold 2",
            ProbeKind::Readiness,
            probe(0, 1, 1, 2, 1),
            NotReady,
            vec![
                P(0, true, NotReady, 1),
                P(1, true, Ready, 2),
                P(2, false, NotReady, 3),
                P(3, true, NotReady, 4),
                P(4, true, Ready, 5),
            ],
        ),
        (
            "readiness: restart makes it not ready again",
            ProbeKind::Readiness,
            probe(1, 1, 1, 0, 0),
            NotReady,
            vec![
                P(1, true, Ready, 2),
                Restart("c2", 20),
                NotDue(20),
                P(21, true, Ready, 22),
            ],
        ),
        (
            "a late probe schedules the next one a period after it finished",
            ProbeKind::Liveness,
            probe(0, 10, 1, 0, 0),
            Healthy,
            vec![P(0, true, Healthy, 10), P(35, true, Healthy, 45)],
        ),
    ];
    for (name, kind, p, initial, steps) in cases {
        let mut t = ProbeTracker::new(kind, Some(&p), "c1", t0());
        assert_eq!(t.verdict(), initial, "{name}: initial");
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                NotDue(s) => assert!(!t.is_due(at(s)), "{name} step {i}: due at {s}"),
                P(s, ok, verdict, next) => {
                    assert!(t.is_due(at(s)), "{name} step {i}: not due at {s}");
                    let result = if ok {
                        ProbeResult::Success
                    } else {
                        ProbeResult::Failure("boom".into())
                    };
                    let before = t.verdict();
                    let changed = t.record(at(s), &result);
                    assert_eq!(t.verdict(), verdict, "{name} step {i}");
                    assert_eq!(changed, before != verdict, "{name} step {i}: changed");
                    assert_eq!(t.next_due(), Some(at(next)), "{name} step {i}: next");
                    assert_eq!(t.last_failure().is_some(), !ok, "{name} step {i}");
                }
                Restart(id, s) => {
                    assert!(t.observe_container(id, at(s)), "{name} step {i}");
                    assert!(!t.observe_container(id, at(s + 1)), "{name} step {i}");
                    assert_eq!(t.verdict(), initial, "{name} step {i}: reset");
                    assert_eq!(t.container_id(), id);
                }
            }
        }
    }
}

#[test]
fn without_a_probe_the_verdict_passes() {
    let cases = [
        (ProbeKind::Liveness, ProbeVerdict::Healthy),
        (ProbeKind::Readiness, ProbeVerdict::Ready),
    ];
    for (kind, want) in cases {
        let mut t = ProbeTracker::new(kind, None, "c1", t0());
        assert_eq!(t.verdict(), want);
        assert_eq!(t.next_due(), None);
        assert!(!t.is_due(at(1000)));
        assert!(!t.record(at(1), &ProbeResult::Failure("x".into())));
        assert_eq!(t.verdict(), want);
        assert!(t.observe_container("c2", at(5)));
        assert_eq!(t.verdict(), want);
        assert_eq!(t.timeout(), Duration::from_secs(1));
    }
}

#[test]
fn verdicts() {
    let cases = [
        (ProbeKind::Liveness, true, ProbeVerdict::Healthy, true),
        (ProbeKind::Liveness, false, ProbeVerdict::Unhealthy, false),
        (ProbeKind::Readiness, true, ProbeVerdict::Ready, true),
        (ProbeKind::Readiness, false, ProbeVerdict::NotReady, false),
    ];
    for (kind, passing, verdict, is_passing) in cases {
        assert_eq!(ProbeVerdict::of(kind, passing), verdict);
        assert_eq!(verdict.is_passing(), is_passing);
    }
}
