//! Work-queue tests, all on paused tokio time.

use super::*;
use kube_core::rand::{uniform, SplitMix64};
use std::collections::BTreeMap;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn queue<K: Clone + Eq + Hash + Send + 'static>(config: QueueConfig) -> WorkQueue<K> {
    WorkQueue::new(Clock::real(), config)
}

fn unlimited(per_item: Backoff) -> QueueConfig {
    QueueConfig {
        per_item,
        rate_limit: None,
        seed: Some(1),
    }
}

/// Timers fire at millisecond resolution: `got` is `want` rounded up by at most 1 ms.
fn assert_close(got: Duration, want: Duration, what: &str) {
    assert!(
        got >= want && got <= want + ms(1),
        "{what}: got {got:?}, want {want:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_added_many_times_is_queued_once() {
    let q = queue::<&str>(QueueConfig::default());
    for _ in 0..1000 {
        q.add("a");
    }
    q.add("b");
    assert_eq!(q.len(), 2);
    assert_eq!(q.get().await, Some("a"));
    assert_eq!(q.get().await, Some("b"));
    assert!(q.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_thousand_adds_during_processing_give_one_more_pass() {
    let q = queue::<&str>(QueueConfig::default());
    q.add("a");
    let mut passes = 0;
    let mut first = true;
    while let Ok(Some(key)) = tokio::time::timeout(ms(10), q.get()).await {
        passes += 1;
        if first {
            first = false;
            // Changes while the key is processed: it is not handed out again now...
            for _ in 0..1000 {
                q.add("a");
            }
            assert!(q.is_empty(), "a key in flight must not be queued");
        }
        // ...but exactly once after it is done.
        q.done(&key);
    }
    assert_eq!(passes, 2);
}

#[tokio::test(start_paused = true)]
async fn add_after_fires_at_its_virtual_time_and_the_earliest_deadline_wins() {
    let q = queue::<&str>(QueueConfig::default());
    let start = Instant::now();
    q.add_after("a", Duration::from_secs(3));
    q.add_after("b", Duration::from_secs(1));
    q.add_after("a", Duration::from_secs(2));
    q.add_after("b", Duration::from_secs(5)); // later than the pending deadline: ignored
    q.add("c");
    assert_eq!(q.delayed_len(), 2);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let key = q.get().await.unwrap();
        seen.push((key, start.elapsed()));
        q.done(&key);
    }
    assert_eq!(
        seen.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        ["c", "b", "a"]
    );
    assert_close(seen[0].1, Duration::ZERO, "c");
    assert_close(seen[1].1, Duration::from_secs(1), "b");
    assert_close(seen[2].1, Duration::from_secs(2), "a");
    // Nothing else fires: the 3 s and 5 s deadlines were replaced.
    assert!(tokio::time::timeout(Duration::from_secs(60), q.get())
        .await
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn a_delayed_key_wakes_a_worker_already_waiting() {
    let q = queue::<u32>(QueueConfig::default());
    let worker = tokio::spawn({
        let q = q.clone();
        async move {
            let start = Instant::now();
            let k = q.get().await;
            (k, start.elapsed())
        }
    });
    tokio::task::yield_now().await;
    q.add_after(7, ms(250));
    let (k, waited) = worker.await.unwrap();
    assert_eq!(k, Some(7));
    assert_close(waited, ms(250), "delayed key");
}

#[tokio::test(start_paused = true)]
async fn per_key_backoff_doubles_to_its_cap_and_forget_resets_it() {
    let q = queue::<&str>(unlimited(Backoff::new(ms(5), ms(80))));
    let mut delays = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        q.add_rate_limited("a");
        let key = q.get().await.unwrap();
        delays.push(start.elapsed());
        q.done(&key);
    }
    for (got, want) in delays.iter().zip([5, 10, 20, 40, 80, 80, 80]) {
        assert_close(*got, ms(want), "backoff step");
    }
    assert_eq!(q.num_requeues(&"a"), 7);
    // Another key has its own count.
    assert_eq!(q.num_requeues(&"b"), 0);
    q.forget(&"a");
    assert_eq!(q.num_requeues(&"a"), 0);
    let start = Instant::now();
    q.add_rate_limited("a");
    q.get().await.unwrap();
    assert_close(start.elapsed(), ms(5), "after forget");
}

#[tokio::test(start_paused = true)]
async fn the_overall_rate_limit_follows_the_token_bucket() {
    // client-go's default limiter: max(per key 5 ms → 1000 s, bucket of 100 at 10 qps).
    let q = queue::<u32>(QueueConfig {
        seed: Some(1),
        ..QueueConfig::default()
    });
    let start = Instant::now();
    for k in 0..150 {
        q.add_rate_limited(k);
    }
    let mut at = BTreeMap::new();
    for _ in 0..150 {
        let k = q.get().await.unwrap();
        at.insert(k, start.elapsed());
        q.done(&k);
    }
    for (k, got) in at {
        // The burst passes after the per-key 5 ms; then one token every 100 ms.
        let want = if k < 100 {
            ms(5)
        } else {
            ms(100 * (u64::from(k) - 99))
        };
        assert_close(got, want, &format!("key {k}"));
    }
}

#[tokio::test(start_paused = true)]
async fn the_bucket_refills_over_time() {
    let q = queue::<u32>(QueueConfig {
        per_item: Backoff::new(ms(1), ms(1)),
        rate_limit: Some(RateLimit { qps: 2.0, burst: 2 }),
        seed: Some(1),
    });
    let start = Instant::now();
    for k in 0..3 {
        q.add_rate_limited(k); // 1 ms, 1 ms, then 500 ms for the third token
    }
    for _ in 0..3 {
        let k = q.get().await.unwrap();
        q.done(&k);
    }
    assert_close(start.elapsed(), ms(500), "third token");
    // After two seconds the bucket is full again: two more pass at once.
    tokio::time::advance(Duration::from_secs(2)).await;
    let start = Instant::now();
    q.add_rate_limited(10);
    q.add_rate_limited(11);
    for _ in 0..2 {
        let k = q.get().await.unwrap();
        q.done(&k);
    }
    assert_close(start.elapsed(), ms(1), "refilled burst");
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_drain_waits_for_keys_in_flight() {
    let q = queue::<&str>(QueueConfig::default());
    q.add("a");
    q.add("b");
    let key = q.get().await.unwrap();
    let worker = tokio::spawn({
        let q = q.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            q.done(&key);
        }
    });
    let start = Instant::now();
    q.shutdown_with_drain().await;
    assert_close(start.elapsed(), Duration::from_secs(5), "drain");
    worker.await.unwrap();
    assert_eq!(q.in_flight(), 0);
    // After shutdown: no more keys, and adds are ignored.
    assert_eq!(q.get().await, None);
    q.add("c");
    q.add_after("d", ms(1));
    assert!(q.is_shutting_down());
    assert_eq!(q.get().await, None);
    assert_eq!(q.delayed_len(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_wakes_idle_workers() {
    let q = queue::<u32>(QueueConfig::default());
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.get().await })
        })
        .collect();
    tokio::task::yield_now().await;
    q.shutdown();
    for w in workers {
        assert_eq!(w.await.unwrap(), None);
    }
}

/// Randomized: workers never hold one key twice at once, and every add is eventually processed.
#[tokio::test(start_paused = true)]
async fn no_key_is_processed_twice_at_once_over_random_schedules() {
    const ROUNDS: u64 = 300;
    const WORKERS: usize = 4;
    const KEYS: u64 = 5;
    for seed in 0..ROUNDS {
        let q = queue::<u64>(QueueConfig {
            per_item: Backoff::new(ms(1), ms(50)),
            seed: Some(seed),
            ..QueueConfig::default()
        });
        let busy: Arc<Mutex<HashSet<u64>>> = Arc::default();
        // key → the instants its processing passes started
        let passes: Arc<Mutex<HashMap<u64, Vec<Instant>>>> = Arc::default();
        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let (q, busy, passes) = (q.clone(), busy.clone(), passes.clone());
            let mut rng = SplitMix64::new(seed * 100 + w as u64);
            workers.push(tokio::spawn(async move {
                while let Some(key) = q.get().await {
                    assert!(
                        busy.lock().unwrap().insert(key),
                        "seed {seed}: key {key} twice"
                    );
                    passes
                        .lock()
                        .unwrap()
                        .entry(key)
                        .or_default()
                        .push(Instant::now());
                    tokio::time::sleep(ms(uniform(&mut rng, 20))).await;
                    busy.lock().unwrap().remove(&key);
                    if uniform(&mut rng, 4) == 0 {
                        q.add_rate_limited(key);
                    } else {
                        q.forget(&key);
                    }
                    q.done(&key);
                }
            }));
        }
        let mut rng = SplitMix64::new(seed);
        let mut last_add: HashMap<u64, Instant> = HashMap::new();
        for _ in 0..40 {
            let key = uniform(&mut rng, KEYS);
            match uniform(&mut rng, 3) {
                0 => q.add(key),
                1 => q.add_after(key, ms(uniform(&mut rng, 30))),
                _ => q.add_rate_limited(key),
            }
            last_add.insert(key, Instant::now());
            if uniform(&mut rng, 2) == 0 {
                tokio::time::sleep(ms(uniform(&mut rng, 10))).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
        // Let everything settle: each key's latest add is followed by a processing pass
        // that started no earlier than it (a change is never lost).
        tokio::time::sleep(Duration::from_secs(10)).await;
        let passes = passes.lock().unwrap().clone();
        for (key, added) in &last_add {
            let started = passes.get(key).and_then(|p| p.last().copied());
            assert!(
                started.is_some_and(|s| s >= *added),
                "seed {seed}: key {key} added at {added:?} was not processed after"
            );
        }
        q.shutdown_with_drain().await;
        for w in workers {
            w.await.unwrap();
        }
    }
}
