use super::*;
use crate::meta::ObjectMeta;

const T0: i64 = 1_795_842_000;

fn at(secs: i64, millis: u32) -> Timestamp {
    Timestamp::from_unix(T0 + secs, millis * 1_000_000)
}

fn lease(holder: &str, renew: &str, duration: Option<i32>, transitions: Option<i32>) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: "l".into(),
            namespace: "ns".into(),
            ..ObjectMeta::default()
        },
        spec: LeaseSpec {
            holder_identity: holder.into(),
            lease_duration_seconds: duration,
            acquire_time: if holder.is_empty() {
                String::new()
            } else {
                at(-100, 0).to_rfc3339_micros()
            },
            renew_time: renew.into(),
            lease_transitions: transitions,
        },
        ..Lease::default()
    }
}

/// What the decision should be, with the interesting fields only.
#[derive(Debug, PartialEq)]
enum Want {
    /// Acquire with this many transitions.
    Acquire(i32),
    /// Renew with this many transitions, keeping the old acquire time.
    Renew(i32),
    /// Wait for this holder until this instant.
    Wait(&'static str, Timestamp),
    /// Lost to this holder.
    Lost(&'static str),
}

fn summarize(d: &Decision, now: Timestamp, old: Option<&Lease>) -> Want {
    let stamp = now.to_rfc3339_micros();
    match d {
        Decision::Acquire(s) => {
            assert_eq!(s.holder_identity, "me");
            assert_eq!(
                (s.acquire_time.as_str(), s.renew_time.as_str()),
                (stamp.as_str(), stamp.as_str())
            );
            assert_eq!(s.lease_duration_seconds, Some(15));
            Want::Acquire(s.lease_transitions.unwrap_or(-1))
        }
        Decision::Renew(s) => {
            assert_eq!(s.holder_identity, "me");
            assert_eq!(s.renew_time, stamp);
            let old_acquire = old.map(|l| l.spec.acquire_time.clone()).unwrap_or_default();
            assert_eq!(
                s.acquire_time, old_acquire,
                "renewal keeps the acquire time"
            );
            Want::Renew(s.lease_transitions.unwrap_or(-1))
        }
        Decision::Wait { holder, until } => Want::Wait(leak(holder), *until),
        Decision::Lost { holder } => Want::Lost(leak(holder)),
    }
}

fn leak(s: &str) -> &'static str {
    match s {
        "other" => "other",
        _ => "unexpected holder",
    }
}

#[test]
fn decisions() {
    let timing = LeaderTiming::default();
    let renewed_at_0 = at(0, 0).to_rfc3339_micros();
    // (description, lease, leading, now, expected)
    let cases: Vec<(&str, Option<Lease>, bool, Timestamp, Want)> = vec![
        (
            "no lease: create it",
            None,
            false,
            at(0, 0),
            Want::Acquire(0),
        ),
        (
            "held by another, fresh",
            Some(lease("other", &renewed_at_0, Some(15), Some(0))),
            false,
            at(5, 0),
            Want::Wait("other", at(15, 0)),
        ),
        (
            "held by another, one microsecond before expiry",
            Some(lease("other", &renewed_at_0, Some(15), Some(0))),
            false,
            Timestamp::from_unix(T0 + 14, 999_999_000),
            Want::Wait("other", at(15, 0)),
        ),
        (
            "expiry instant itself: free",
            Some(lease("other", &renewed_at_0, Some(15), Some(0))),
            false,
            at(15, 0),
            Want::Acquire(1),
        ),
        (
            "expired long ago, transitions counted on",
            Some(lease("other", &renewed_at_0, Some(15), Some(4))),
            false,
            at(3600, 0),
            Want::Acquire(5),
        ),
        (
            "the lease's own duration wins over the config",
            Some(lease("other", &renewed_at_0, Some(60), Some(0))),
            false,
            at(30, 0),
            Want::Wait("other", at(60, 0)),
        ),
        (
            "no duration on the lease: the config's",
            Some(lease("other", &renewed_at_0, None, None)),
            false,
            at(16, 0),
            Want::Acquire(1),
        ),
        (
            "renewed in the future (clock skew): still held",
            Some(lease(
                "other",
                &at(100, 0).to_rfc3339_micros(),
                Some(15),
                Some(0),
            )),
            false,
            at(0, 0),
            Want::Wait("other", at(115, 0)),
        ),
        (
            "seconds-precision renew time",
            Some(lease("other", &at(0, 0).to_rfc3339(), Some(15), Some(0))),
            false,
            at(14, 999),
            Want::Wait("other", at(15, 0)),
        ),
        (
            "unreadable renew time: free",
            Some(lease("other", "yesterday", Some(15), Some(2))),
            false,
            at(0, 0),
            Want::Acquire(3),
        ),
        (
            "released (no holder): taken at once, a transition",
            Some(lease("", &renewed_at_0, Some(1), Some(2))),
            false,
            at(0, 1),
            Want::Acquire(3),
        ),
        (
            "mine: renew, transitions kept",
            Some(lease("me", &renewed_at_0, Some(15), Some(7))),
            true,
            at(2, 0),
            Want::Renew(7),
        ),
        (
            "mine but expired (I restarted): renew, no transition",
            Some(lease("me", &renewed_at_0, Some(15), Some(7))),
            false,
            at(100, 0),
            Want::Renew(7),
        ),
        (
            "mine without transitions: starts counting at 0",
            Some(lease("me", &renewed_at_0, Some(15), None)),
            true,
            at(2, 0),
            Want::Renew(0),
        ),
        (
            "I led, another holds it now: lost",
            Some(lease("other", &renewed_at_0, Some(15), Some(1))),
            true,
            at(1, 0),
            Want::Lost("other"),
        ),
        (
            "I led, another's lease expired: acquire again",
            Some(lease("other", &renewed_at_0, Some(15), Some(1))),
            true,
            at(20, 0),
            Want::Acquire(2),
        ),
    ];
    for (desc, old, leading, now, want) in cases {
        let d = decide(old.as_ref(), "me", leading, now, &timing);
        assert_eq!(summarize(&d, now, old.as_ref()), want, "{desc}: {d:?}");
    }
}

#[test]
fn release_frees_the_lease_for_the_next_try() {
    let timing = LeaderTiming::default();
    let held = lease("me", &at(0, 0).to_rfc3339_micros(), Some(15), Some(3));
    let mut freed = held.clone();
    freed.spec = released(&held.spec, at(1, 0));
    assert_eq!(freed.spec.holder_identity, "");
    assert_eq!(freed.spec.lease_transitions, Some(3));
    assert_eq!(expiry(&freed.spec, &timing), None);
    let d = decide(Some(&freed), "other", false, at(1, 1), &timing);
    match d {
        Decision::Acquire(s) => assert_eq!(s.lease_transitions, Some(4)),
        d => panic!("expected an acquire, got {d:?}"),
    }
}

#[test]
fn renew_deadline() {
    let timing = LeaderTiming::default();
    let cases = [
        (at(0, 0), at(9, 999), false),
        (at(0, 0), at(10, 0), true),
        (at(0, 0), at(11, 0), true),
        (at(5, 0), at(0, 0), false),
    ];
    for (last, now, want) in cases {
        assert_eq!(
            renew_deadline_passed(last, now, &timing),
            want,
            "{last} {now}"
        );
    }
}

#[test]
fn timing_validation() {
    let s = Duration::from_secs;
    let t = |lease, deadline, retry| LeaderTiming {
        lease_duration: lease,
        renew_deadline: deadline,
        retry_period: retry,
    };
    let cases = [
        (t(s(15), s(10), s(2)), true),
        (t(s(10), s(10), s(2)), false),
        (t(s(15), s(2), s(2)), false),
        (t(s(15), s(10), s(0)), false),
        (t(Duration::from_millis(15_500), s(10), s(2)), false),
        (t(s(0), s(0), s(1)), false),
    ];
    for (timing, ok) in cases {
        assert_eq!(timing.validate().is_ok(), ok, "{timing:?}");
    }
}
