//! Leader election with two contenders on paused time over one memory store: at most one leads
//! at every virtual step, the second takes over after a clean release, after a crash, and when
//! the leader's renewals fail (it steps down within the renew deadline first).

use kube_core::leader::LeaderTiming;
use kube_core::lease::Lease;
use kube_core::Timestamp;
use kube_runtime::client::{ApiClient, InProcessClient};
use kube_runtime::clock::Clock;
use kube_runtime::leader_election::{LeaderElectionConfig, LeaderElector, Leadership};
use kube_runtime::registry::Registry;
use kube_runtime::store::{MemoryStore, SharedStore};
use kube_runtime::testing::faulty_store::Times;
use kube_runtime::testing::{Fault, FaultyStore, StoreOp, TestCluster};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Virtual time between two checks of the invariant.
const STEP: Duration = Duration::from_millis(100);

fn timing() -> LeaderTiming {
    LeaderTiming::default()
}

fn contender(store: SharedStore, clock: &Clock, identity: &str) -> Leadership {
    let client = InProcessClient::new(Registry::with_clock(store, clock.clone()));
    let config = LeaderElectionConfig {
        namespace: "kube-system".into(),
        name: "scheduler".into(),
        identity: identity.into(),
        timing: timing(),
    };
    LeaderElector::new(client, config, clock.clone())
        .expect("valid config")
        .spawn()
}

fn clock() -> Clock {
    Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0))
}

/// Steps virtual time until `done` holds or `limit` passes, checking at every step that at most
/// one of `all` leads. Returns the virtual time waited.
async fn step_until(
    all: &[&Leadership],
    limit: Duration,
    done: impl Fn(&[&Leadership]) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let leaders = all.iter().filter(|l| l.is_leader()).count();
        assert!(leaders <= 1, "{leaders} leaders at {:?}", start.elapsed());
        if done(all) {
            return start.elapsed();
        }
        assert!(start.elapsed() <= limit, "not done within {limit:?}");
        tokio::time::sleep(STEP).await;
    }
}

/// Steps virtual time for `d`, checking at every step that at most one of `all` leads; returns
/// how many steps had a leader.
async fn hold_for(all: &[&Leadership], d: Duration) -> u32 {
    let start = Instant::now();
    let mut led = 0;
    while start.elapsed() < d {
        let leaders = all.iter().filter(|l| l.is_leader()).count();
        assert!(leaders <= 1, "{leaders} leaders at {:?}", start.elapsed());
        led += u32::from(leaders == 1);
        tokio::time::sleep(STEP).await;
    }
    led
}

async fn lease(store: &SharedStore) -> Lease {
    let client = InProcessClient::new(Registry::new(store.clone()));
    client.get("kube-system", "scheduler").await.expect("lease")
}

/// Starts two contenders and waits until one leads; returns (leader, other).
async fn elected(store: &SharedStore, clock: &Clock) -> (Leadership, Leadership) {
    let a = contender(store.clone(), clock, "a");
    let b = contender(store.clone(), clock, "b");
    step_until(&[&a, &b], STEP, |all| all.iter().any(|l| l.is_leader())).await;
    let a_leads = a.is_leader();
    // A minute of renewals: the same one leads at every step, the other never does.
    let steps = hold_for(&[&a, &b], Duration::from_secs(60)).await;
    assert_eq!(steps, 600, "someone leads at every step");
    assert_eq!(a.is_leader(), a_leads, "no change of leader while renewing");
    if a_leads {
        (a, b)
    } else {
        (b, a)
    }
}

#[tokio::test(start_paused = true)]
async fn one_leads_and_the_other_takes_over_at_once_after_a_release() {
    let cluster = TestCluster::builder()
        .clock(clock())
        .start()
        .await
        .expect("cluster");
    let (store, clock) = (cluster.store().clone(), cluster.clock().clone());
    let (leader, other) = elected(&store, &clock).await;
    let before = lease(&store).await;
    assert_eq!(before.spec.lease_transitions, Some(0));

    leader.release().await;
    assert!(!other.is_leader());
    let freed = lease(&store).await;
    assert_eq!(freed.spec.holder_identity, "", "released");
    let took = step_until(&[&other], timing().lease_duration, |all| all[0].is_leader()).await;
    assert!(
        took <= timing().retry_period + STEP,
        "a released lease is taken at the next try, took {took:?}"
    );
    let after = lease(&store).await;
    assert_eq!(after.spec.lease_transitions, Some(1));
    assert_ne!(after.spec.holder_identity, before.spec.holder_identity);
}

#[tokio::test(start_paused = true)]
async fn after_a_crash_the_other_waits_out_the_lease_then_takes_over() {
    let cluster = TestCluster::builder()
        .clock(clock())
        .start()
        .await
        .expect("cluster");
    let (store, clock) = (cluster.store().clone(), cluster.clock().clone());
    let (leader, other) = elected(&store, &clock).await;
    let held = lease(&store).await;
    let crashed_at = clock.now();
    leader.abort();
    let took = step_until(&[&other], 2 * timing().lease_duration, |all| {
        all[0].is_leader()
    })
    .await;
    // The lease runs until its last renewal (at most a retry period before the crash) plus the
    // lease duration; the other notices at its next try, at most a retry period later.
    let renewed = held
        .spec
        .renew_timestamp()
        .expect("renew time")
        .expect("set");
    let expiry = renewed.saturating_add(timing().lease_duration);
    let taken_at = clock.now();
    assert!(
        taken_at >= expiry,
        "taken at {taken_at}, before expiry {expiry}"
    );
    assert!(
        took <= timing().lease_duration + timing().retry_period + STEP,
        "took {took:?} after the crash at {crashed_at}"
    );
    let after = lease(&store).await;
    assert_eq!(after.spec.lease_transitions, Some(1));
    // And it keeps leading.
    assert_eq!(hold_for(&[&other], Duration::from_secs(30)).await, 300);
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_renewals_fail_steps_down_within_the_renew_deadline() {
    let memory: SharedStore = Arc::new(MemoryStore::new());
    // The first contender reaches the store through a wrapper that will fail its writes.
    let faulty = FaultyStore::with_clock(memory.clone(), clock());
    let clock = clock();
    let a = contender(Arc::new(faulty.clone()), &clock, "a");
    a.acquired().await.expect("a leads, alone");
    let b = contender(memory.clone(), &clock, "b");
    assert_eq!(hold_for(&[&a, &b], Duration::from_secs(20)).await, 200);
    assert!(a.is_leader());
    // What a controller selects on: resolves exactly when leadership ends.
    let lost = tokio::spawn(a.lost());
    tokio::time::sleep(STEP).await;
    assert!(!lost.is_finished(), "still leading");

    faulty.inject_under(
        &StoreOp::WRITES,
        "/registry/leases/",
        Fault::Unavailable,
        Times::Always,
    );
    let failing_since = Instant::now();
    let stepped_down = step_until(&[&a, &b], timing().lease_duration, |all| {
        !all[0].is_leader()
    })
    .await;
    assert!(
        stepped_down <= timing().renew_deadline,
        "stepped down after {stepped_down:?}"
    );
    assert!(faulty.faults_fired() >= 2, "renewals were tried and failed");
    tokio::time::timeout(STEP, lost)
        .await
        .expect("lost() resolved at the step-down")
        .expect("join");
    // The other takes over once the lease expires, and the failing one never leads again.
    step_until(&[&a, &b], 2 * timing().lease_duration, |all| {
        all[1].is_leader()
    })
    .await;
    assert!(failing_since.elapsed() <= timing().lease_duration + timing().retry_period + STEP);
    assert_eq!(hold_for(&[&a, &b], Duration::from_secs(30)).await, 300);
    assert!(b.is_leader() && !a.is_leader());
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_renewal_hangs_stops_at_the_deadline_not_when_it_returns() {
    let memory: SharedStore = Arc::new(MemoryStore::new());
    let faulty = FaultyStore::with_clock(memory.clone(), clock());
    let clock = clock();
    let a = contender(Arc::new(faulty.clone()), &clock, "a");
    step_until(&[&a], STEP, |all| all[0].is_leader()).await;
    hold_for(&[&a], Duration::from_secs(5)).await;
    // Every renewal now takes a minute.
    faulty.inject(
        StoreOp::Update,
        Fault::Delay(Duration::from_secs(60)),
        Times::Always,
    );
    let stepped_down = step_until(&[&a], timing().lease_duration, |all| !all[0].is_leader()).await;
    assert!(
        stepped_down <= timing().renew_deadline,
        "stepped down after {stepped_down:?}"
    );
}

#[test]
fn unsafe_configs_are_refused() {
    let client = || InProcessClient::new(Registry::new(Arc::new(MemoryStore::new())));
    let good = LeaderElectionConfig {
        namespace: "ns".into(),
        name: "l".into(),
        identity: "me".into(),
        timing: timing(),
    };
    let cases = [
        LeaderElectionConfig {
            identity: String::new(),
            ..good.clone()
        },
        LeaderElectionConfig {
            name: String::new(),
            ..good.clone()
        },
        LeaderElectionConfig {
            timing: LeaderTiming {
                renew_deadline: Duration::from_secs(20),
                ..timing()
            },
            ..good.clone()
        },
    ];
    for config in cases {
        assert!(
            LeaderElector::new(client(), config.clone(), Clock::real()).is_err(),
            "{config:?}"
        );
    }
    assert!(LeaderElector::new(client(), good, Clock::real()).is_ok());
}
