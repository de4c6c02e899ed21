//! The controller runner on paused time: triggers, actions, error policies, shutdown, and the
//! one-key-one-worker guarantee over randomized event orders.

use kube_core::backoff::Backoff;
use kube_core::labels::Selector;
use kube_core::meta::{controller_reference, OwnerReference};
use kube_core::rand::{uniform, SplitMix64};
use kube_core::{Object, Pod, ReplicationController};
use kube_runtime::clock::Clock;
use kube_runtime::controller::{
    default_error_policy, Action, Controller, ControllerConfig, ControllerStats, QueueConfig,
    Shutdown,
};
use kube_runtime::informer::reflector::{Cache, Writer};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pod(name: &str, rv: u64) -> Pod {
    let mut p = Pod::default();
    p.set_type_meta();
    p.metadata.namespace = "ns".into();
    p.metadata.name = name.into();
    p.metadata.uid = format!("uid-{name}");
    p.metadata.resource_version = rv.to_string();
    p
}

fn rc(name: &str, selector: &[(&str, &str)]) -> ReplicationController {
    let mut rc = ReplicationController::default();
    rc.set_type_meta();
    rc.metadata.namespace = "ns".into();
    rc.metadata.name = name.into();
    rc.metadata.uid = format!("uid-{name}");
    rc.metadata.resource_version = "1".into();
    rc.spec.selector = selector
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    rc
}

/// What a test reconcile returns for a key on its n-th call (0-based).
type Behaviour = dyn Fn(&str, usize) -> Result<Action, String> + Send + Sync;

/// The context of the test reconciles: what they do, and what they saw.
struct Probe {
    start: Instant,
    behaviour: Box<Behaviour>,
    /// How long each reconcile takes.
    work: Duration,
    /// (key, start of the reconcile relative to `start`), in order.
    calls: Mutex<Vec<(String, Duration)>>,
    /// Keys being reconciled right now.
    busy: Mutex<HashSet<String>>,
    /// Times a key was found already being reconciled.
    overlaps: Mutex<usize>,
    /// Reconciles that ran to their end.
    completed: Mutex<usize>,
}

impl Probe {
    fn new(work: Duration, behaviour: Box<Behaviour>) -> Arc<Probe> {
        Arc::new(Probe {
            start: Instant::now(),
            behaviour,
            work,
            calls: Mutex::default(),
            busy: Mutex::default(),
            overlaps: Mutex::default(),
            completed: Mutex::default(),
        })
    }

    fn calls_of(&self, key: &str) -> Vec<Duration> {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, t)| *t)
            .collect()
    }

    fn count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    fn keys(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (k, _) in self.calls.lock().unwrap().iter() {
            *out.entry(k.clone()).or_default() += 1;
        }
        out
    }
}

async fn reconcile<K: Object>(obj: Arc<K>, probe: Arc<Probe>) -> Result<Action, String> {
    let key = format!("{}/{}", obj.meta().namespace, obj.meta().name);
    let n = {
        let mut calls = probe.calls.lock().unwrap();
        let n = calls.iter().filter(|(k, _)| *k == key).count();
        calls.push((key.clone(), probe.start.elapsed()));
        n
    };
    if !probe.busy.lock().unwrap().insert(key.clone()) {
        *probe.overlaps.lock().unwrap() += 1;
    }
    if !probe.work.is_zero() {
        tokio::time::sleep(probe.work).await;
    }
    probe.busy.lock().unwrap().remove(&key);
    *probe.completed.lock().unwrap() += 1;
    (probe.behaviour)(&key, n)
}

fn await_change() -> Box<Behaviour> {
    Box::new(|_, _| Ok(Action::await_change()))
}

fn config(workers: usize) -> ControllerConfig {
    ControllerConfig {
        workers,
        resync: None,
        queue: QueueConfig {
            seed: Some(7),
            ..QueueConfig::default()
        },
    }
}

struct Running {
    shutdown: Shutdown,
    stats: ControllerStats,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap();
    }
}

fn start<K: Object>(controller: Controller<K>, probe: &Arc<Probe>) -> Running {
    let shutdown = Shutdown::new();
    let stats = controller.stats();
    let task = tokio::spawn(controller.run(
        reconcile::<K>,
        default_error_policy,
        probe.clone(),
        shutdown.clone(),
    ));
    Running {
        shutdown,
        stats,
        task,
    }
}

fn synced_pods(names: &[&str]) -> (Writer<Pod>, Cache<Pod>) {
    let w = Writer::new();
    w.replace(names.iter().map(|n| pod(n, 1)).collect());
    let c = w.cache();
    (w, c)
}

#[tokio::test(start_paused = true)]
async fn a_thousand_events_for_one_key_give_at_most_two_reconciles() {
    let (w, cache) = synced_pods(&["a"]);
    let probe = Probe::new(ms(100), await_change());
    let run = start(
        Controller::with_config(cache, Clock::real(), config(4)),
        &probe,
    );
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.count(), 1, "the initial sync reconciles once");
    for rv in 2..1002 {
        w.apply(pod("a", rv));
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(secs(10)).await;
    let extra = probe.count() - 1;
    assert!(
        (1..=2).contains(&extra),
        "{extra} reconciles for 1,000 events"
    );
    assert_eq!(*probe.overlaps.lock().unwrap(), 0);
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn no_key_is_reconciled_twice_at_once_over_random_event_orders() {
    const KEYS: [&str; 4] = ["a", "b", "c", "d"];
    for seed in 0..200u64 {
        let (w, cache) = synced_pods(&KEYS);
        let probe = Probe::new(
            ms(seed % 7 * 3),
            Box::new(move |key, n| {
                let mut rng = SplitMix64::new(seed ^ (n as u64) << 8 ^ key.len() as u64);
                match uniform(&mut rng, 4) {
                    0 => Err("boom".to_string()),
                    1 => Ok(Action::requeue(ms(uniform(&mut rng, 50)))),
                    _ => Ok(Action::await_change()),
                }
            }),
        );
        let mut cfg = config(3);
        cfg.queue.per_item = Backoff::new(ms(1), ms(100));
        let run = start(Controller::with_config(cache, Clock::real(), cfg), &probe);
        let mut rng = SplitMix64::new(seed);
        let mut rv = 10;
        for _ in 0..60 {
            let name = KEYS[uniform(&mut rng, KEYS.len() as u64) as usize];
            rv += 1;
            match uniform(&mut rng, 8) {
                0 => {
                    w.delete(&format!("ns/{name}"));
                }
                _ => {
                    w.apply(pod(name, rv));
                }
            }
            match uniform(&mut rng, 3) {
                0 => tokio::task::yield_now().await,
                1 => tokio::time::sleep(ms(uniform(&mut rng, 20))).await,
                _ => {}
            }
        }
        tokio::time::sleep(secs(5)).await;
        run.stop().await;
        assert_eq!(*probe.overlaps.lock().unwrap(), 0, "seed {seed}");
        assert!(probe.busy.lock().unwrap().is_empty(), "seed {seed}");
    }
}

#[tokio::test(start_paused = true)]
async fn requeue_runs_the_key_again_after_the_delay() {
    let (_w, cache) = synced_pods(&["a"]);
    let probe = Probe::new(
        Duration::ZERO,
        Box::new(|_, _| Ok(Action::requeue(secs(30)))),
    );
    let run = start(Controller::new(cache, Clock::real()), &probe);
    tokio::time::sleep(secs(95)).await;
    let times = probe.calls_of("ns/a");
    assert_eq!(times.len(), 4, "{times:?}");
    for (got, want) in times.iter().zip([0, 30, 60, 90]) {
        assert!(
            *got >= secs(want) && *got <= secs(want) + ms(1),
            "{times:?}"
        );
    }
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn errors_back_off_per_key_up_to_the_cap_and_success_resets() {
    let (w, cache) = synced_pods(&["a"]);
    // Fails six times, then succeeds.
    let probe = Probe::new(
        Duration::ZERO,
        Box::new(|_, n| {
            if n < 6 {
                Err(format!("failure {n}"))
            } else {
                Ok(Action::await_change())
            }
        }),
    );
    let mut cfg = config(1);
    cfg.queue.per_item = Backoff::new(secs(1), secs(8));
    cfg.queue.rate_limit = None;
    let controller = Controller::with_config(cache, Clock::real(), cfg);
    let queue = controller.queue();
    let run = start(controller, &probe);
    tokio::time::sleep(secs(60)).await;
    let times = probe.calls_of("ns/a");
    let gaps: Vec<u64> = times
        .windows(2)
        .map(|p| (p[1] - p[0]).as_millis() as u64)
        .collect();
    assert_eq!(times.len(), 7, "{times:?}");
    for (got, want) in gaps.iter().zip([1000, 2000, 4000, 8000, 8000, 8000]) {
        assert!(*got >= want && *got <= want + 1, "{gaps:?}");
    }
    assert_eq!(run.stats.failed(), 6);
    assert_eq!(run.stats.reconciled(), 1);
    assert_eq!(
        queue.num_requeues(&"ns/a".to_string()),
        0,
        "success forgets"
    );
    // A change after success is reconciled at once (no leftover backoff).
    w.apply(pod("a", 99));
    tokio::time::sleep(ms(1)).await;
    assert_eq!(probe.calls_of("ns/a").len(), 8);
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_custom_error_policy_decides_the_retry() {
    let (_w, cache) = synced_pods(&["a"]);
    let probe = Probe::new(Duration::ZERO, Box::new(|_, _| Err("always".to_string())));
    let shutdown = Shutdown::new();
    let policy_calls = Arc::new(Mutex::new(Vec::new()));
    let task = tokio::spawn(Controller::new(cache, Clock::real()).run(
        reconcile::<Pod>,
        {
            let policy_calls = policy_calls.clone();
            move |obj: Arc<Pod>, err: &String, _ctx: Arc<Probe>| {
                policy_calls
                    .lock()
                    .unwrap()
                    .push(format!("{}: {err}", obj.metadata.name));
                Action::requeue(secs(5))
            }
        },
        probe.clone(),
        shutdown.clone(),
    ));
    tokio::time::sleep(secs(12)).await;
    assert_eq!(probe.calls_of("ns/a").len(), 3); // 0, 5, 10 s
    assert_eq!(policy_calls.lock().unwrap()[0], "a: always");
    shutdown.trigger();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_panicking_reconcile_fails_its_key_and_the_worker_goes_on() {
    let (_w, cache) = synced_pods(&["bad", "good"]);
    let probe = Probe::new(
        Duration::ZERO,
        Box::new(|key, _| {
            if key == "ns/bad" {
                panic!("reconcile bug");
            }
            Ok(Action::requeue(secs(1)))
        }),
    );
    let mut cfg = config(1);
    cfg.queue.per_item = Backoff::new(secs(2), secs(2));
    cfg.queue.rate_limit = None;
    let run = start(Controller::with_config(cache, Clock::real(), cfg), &probe);
    tokio::time::sleep(ms(5500)).await;
    // One worker serves both keys: bad is retried every 2 s, good every 1 s.
    assert_eq!(probe.calls_of("ns/bad").len(), 3); // 0, 2, 4 s
    assert_eq!(probe.calls_of("ns/good").len(), 6); // 0 .. 5 s
    assert_eq!(run.stats.failed(), 3);
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_lagged_subscription_requeues_every_key() {
    let (w, cache) = synced_pods(&["a", "b", "c"]);
    let probe = Probe::new(Duration::ZERO, await_change());
    let run = start(Controller::new(cache, Clock::real()), &probe);
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.count(), 3);
    // More changes of `a` than the broadcast buffer holds, with no chance for the trigger to
    // read them: its subscription lags, and every key (b and c too) is reconciled again.
    for rv in 0..(kube_runtime::informer::reflector::EVENT_BUFFER as u64 + 100) {
        w.apply(pod("a", 10 + rv));
    }
    tokio::time::sleep(secs(1)).await;
    let keys = probe.keys();
    assert_eq!(keys.get("ns/b"), Some(&2), "{keys:?}");
    assert_eq!(keys.get("ns/c"), Some(&2), "{keys:?}");
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn without_lag_unchanged_keys_are_left_alone() {
    let (w, cache) = synced_pods(&["a", "b"]);
    let probe = Probe::new(Duration::ZERO, await_change());
    let run = start(Controller::new(cache, Clock::real()), &probe);
    tokio::time::sleep(secs(1)).await;
    for rv in 0..50 {
        w.apply(pod("a", 10 + rv));
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.keys().get("ns/b"), Some(&1));
    run.stop().await;
}

fn owned_pod(name: &str, rv: u64, owners: Vec<OwnerReference>) -> Pod {
    let mut p = pod(name, rv);
    p.metadata.owner_references = owners;
    p
}

#[tokio::test(start_paused = true)]
async fn owned_objects_enqueue_their_controller() {
    let rcs = Writer::new();
    let (rc1, rc2) = (rc("rc1", &[]), rc("rc2", &[]));
    rcs.replace(vec![rc1.clone(), rc2.clone()]);
    let pods = Writer::<Pod>::new();
    let probe = Probe::new(Duration::ZERO, await_change());
    let controller = Controller::new(rcs.cache(), Clock::real()).owns(pods.cache());
    let run = start(controller, &probe);
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.count(), 2);

    let not_controller = OwnerReference {
        controller: Some(false),
        ..controller_reference(&rc2)
    };
    let other_kind = OwnerReference {
        kind: "Node".into(),
        name: "rc2".into(),
        ..controller_reference(&rc2)
    };
    pods.apply(owned_pod("p1", 1, vec![controller_reference(&rc1)]));
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.calls_of("ns/rc1").len(), 2);
    pods.apply(owned_pod("p2", 1, vec![not_controller.clone()]));
    pods.apply(owned_pod("p3", 1, vec![other_kind]));
    pods.apply(pod("p4", 1));
    tokio::time::sleep(secs(1)).await;
    assert_eq!(
        probe.calls_of("ns/rc2").len(),
        1,
        "no controller ref to rc2"
    );
    // A pod adopted by rc2 (controller ref changes from rc1): both owners are told.
    pods.apply(owned_pod("p1", 2, vec![controller_reference(&rc2)]));
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.calls_of("ns/rc1").len(), 3);
    assert_eq!(probe.calls_of("ns/rc2").len(), 2);
    // Deleting an owned pod wakes its owner.
    pods.delete("ns/p1");
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.calls_of("ns/rc2").len(), 3);
    run.stop().await;
}

#[tokio::test]
async fn owner_references_are_stored_and_validated_by_the_registry() {
    use kube_core::error::ApiError;
    use kube_core::pod::Container;
    use kube_runtime::client::{ApiClient, InProcessClient};
    use kube_runtime::registry::Registry;
    use kube_runtime::store::MemoryStore;

    let api = InProcessClient::new(Registry::new(Arc::new(MemoryStore::new())));
    let mut owned = pod("child", 0);
    owned.metadata.resource_version.clear();
    owned.metadata.uid.clear();
    owned.spec.containers.push(Container {
        name: "c".into(),
        image: "busybox".into(),
        ..Container::default()
    });
    owned.metadata.owner_references = vec![controller_reference(&rc("rc1", &[]))];
    let created = api.create("ns", &owned).await.unwrap();
    let read: Pod = api.get("ns", "child").await.unwrap();
    assert_eq!(
        read.metadata.owner_references,
        created.metadata.owner_references
    );
    assert_eq!(read.metadata.controller_ref().unwrap().name, "rc1");

    // Two controllers: rejected, and nothing is stored.
    let mut twice = owned.clone();
    twice.metadata.name = "twice".into();
    twice
        .metadata
        .owner_references
        .push(controller_reference(&rc("rc2", &[])));
    match api.create("ns", &twice).await {
        Err(ApiError::Invalid { errors, .. }) => {
            assert_eq!(errors[0].field, "metadata.ownerReferences")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(api.get::<Pod>("ns", "twice").await.is_err());
}

#[tokio::test(start_paused = true)]
async fn mapped_objects_enqueue_the_keys_the_mapper_returns() {
    let rcs = Writer::new();
    rcs.replace(vec![
        rc("web", &[("app", "web")]),
        rc("db", &[("app", "db")]),
    ]);
    let rc_cache = rcs.cache();
    let pods = Writer::<Pod>::new();
    let probe = Probe::new(Duration::ZERO, await_change());
    // A pod change enqueues every RC whose selector matches the pod's labels.
    let mapper = {
        let rc_cache = rc_cache.clone();
        move |p: &Pod| -> Vec<String> {
            rc_cache
                .list_namespace(&p.metadata.namespace)
                .iter()
                .filter(|rc| Selector::from_map(&rc.spec.selector).matches(&p.metadata.labels))
                .map(|rc| format!("{}/{}", rc.metadata.namespace, rc.metadata.name))
                .collect()
        }
    };
    let controller = Controller::new(rc_cache, Clock::real()).watches(pods.cache(), mapper);
    let run = start(controller, &probe);
    tokio::time::sleep(secs(1)).await;

    let labelled = |rv: u64, app: &str| {
        let mut p = pod("p", rv);
        p.metadata.labels.insert("app".into(), app.into());
        p
    };
    pods.apply(labelled(1, "web"));
    tokio::time::sleep(secs(1)).await;
    assert_eq!(
        (
            probe.calls_of("ns/web").len(),
            probe.calls_of("ns/db").len()
        ),
        (2, 1)
    );
    // Relabelled from web to db: the old and the new match are both reconciled.
    pods.apply(labelled(2, "db"));
    tokio::time::sleep(secs(1)).await;
    assert_eq!(
        (
            probe.calls_of("ns/web").len(),
            probe.calls_of("ns/db").len()
        ),
        (3, 2)
    );
    // Moving away from db wakes db once more; a pod no selector matches wakes nobody after.
    pods.apply(labelled(3, "cache"));
    pods.delete("ns/p");
    tokio::time::sleep(secs(1)).await;
    assert_eq!(
        (
            probe.calls_of("ns/web").len(),
            probe.calls_of("ns/db").len()
        ),
        (3, 3)
    );
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn resync_requeues_every_key_each_period() {
    let (_w, cache) = synced_pods(&["a", "b"]);
    let probe = Probe::new(Duration::ZERO, await_change());
    let mut cfg = config(2);
    cfg.resync = Some(secs(60));
    let run = start(Controller::with_config(cache, Clock::real(), cfg), &probe);
    tokio::time::sleep(secs(150)).await;
    let keys = probe.keys();
    assert_eq!(keys.get("ns/a"), Some(&3), "{keys:?}"); // 0, 60, 120 s
    assert_eq!(keys.get("ns/b"), Some(&3), "{keys:?}");
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_key_whose_object_is_gone_is_dropped_without_reconcile() {
    let (w, cache) = synced_pods(&["a"]);
    let probe = Probe::new(Duration::ZERO, await_change());
    let controller = Controller::new(cache, Clock::real());
    let queue = controller.queue();
    let run = start(controller, &probe);
    tokio::time::sleep(secs(1)).await;
    queue.add("ns/never-existed".into());
    w.delete("ns/a");
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.count(), 1, "only the initial reconcile of a");
    assert_eq!(run.stats.dropped(), 2);
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn workers_wait_for_the_initial_sync() {
    let w = Writer::<Pod>::new();
    w.apply(pod("a", 1));
    let probe = Probe::new(Duration::ZERO, await_change());
    let run = start(Controller::new(w.cache(), Clock::real()), &probe);
    tokio::time::sleep(secs(5)).await;
    assert_eq!(probe.count(), 0, "no reconcile before the cache is synced");
    w.mark_synced();
    tokio::time::sleep(ms(1)).await;
    assert_eq!(probe.count(), 1);
    run.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_reconciles_in_flight() {
    let (w, cache) = synced_pods(&["a", "b"]);
    let probe = Probe::new(secs(10), await_change());
    let run = start(
        Controller::with_config(cache, Clock::real(), config(2)),
        &probe,
    );
    tokio::time::sleep(secs(1)).await;
    assert_eq!(probe.count(), 2);
    w.apply(pod("a", 5)); // queued behind the reconcile in flight: not started after shutdown
    let start = Instant::now();
    run.stop().await;
    let waited = start.elapsed();
    assert!(waited >= secs(9) && waited <= secs(9) + ms(1), "{waited:?}");
    assert_eq!(
        *probe.completed.lock().unwrap(),
        2,
        "both reconciles finished"
    );
    assert_eq!(probe.count(), 2, "nothing new started after shutdown");
}
