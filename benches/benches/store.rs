//! Store micro-benchmarks: the in-memory store's create, get and list, and the embedded
//! (redb, fsync per commit) store's durable create from one task and from 64 concurrent
//! tasks (whose writes the store group-commits).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kube_benches::pod_json;
use kube_core::Store;
use kube_runtime::store::{EmbeddedStore, MemoryStore};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

/// A stored pod is about 900 bytes of JSON.
fn value() -> Vec<u8> {
    let mut v = pod_json(0).into_bytes();
    v.resize(900, b' ');
    v
}

fn key(i: usize) -> String {
    format!("/registry/pods/default/pod-{i:08}")
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A memory store holding `n` pods in `default` (plus as many in another namespace, so the
/// list is a true prefix scan).
fn filled_memory_store(rt: &Runtime, n: usize) -> MemoryStore {
    let store = MemoryStore::new();
    let v = value();
    rt.block_on(async {
        for i in 0..n {
            store.create(&key(i), v.clone()).await.unwrap();
            store
                .create(&format!("/registry/pods/other/pod-{i:08}"), v.clone())
                .await
                .unwrap();
        }
    });
    store
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("memory_store");
    let v = value();

    let store = MemoryStore::new();
    let next = AtomicUsize::new(0);
    g.throughput(Throughput::Elements(1));
    g.bench_function("create", |b| {
        b.to_async(&rt).iter(|| {
            let k = key(next.fetch_add(1, Ordering::Relaxed));
            let v = v.clone();
            let store = &store;
            async move { store.create(&k, v).await.unwrap() }
        })
    });
    drop(store);

    let store = filled_memory_store(&rt, 10_000);
    let keys: Vec<String> = (0..10_000).map(|i| key((i * 7919) % 10_000)).collect();
    let next = AtomicUsize::new(0);
    g.bench_function("get_of_20k_keys", |b| {
        b.to_async(&rt).iter(|| {
            let k = &keys[next.fetch_add(1, Ordering::Relaxed) % keys.len()];
            let store = &store;
            async move { store.get(k).await.unwrap().unwrap() }
        })
    });

    for n in [1_000usize, 10_000] {
        let store = filled_memory_store(&rt, n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("list", n), &n, |b, &n| {
            b.to_async(&rt).iter(|| async {
                let l = store.list("/registry/pods/default/").await.unwrap();
                assert_eq!(l.items.len(), n);
                black_box(l)
            })
        });
    }
    g.finish();
}

fn embedded(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(rt.block_on(EmbeddedStore::open(dir.path())).unwrap());
    let v: Arc<[u8]> = value().into();
    let next = Arc::new(AtomicUsize::new(0));

    let mut g = c.benchmark_group("embedded_store");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));

    // One task: every create waits for its own commit and fsync.
    g.throughput(Throughput::Elements(1));
    g.bench_function("durable_create/1_task", |b| {
        b.to_async(&rt).iter(|| {
            let k = key(next.fetch_add(1, Ordering::Relaxed));
            let (store, v) = (store.clone(), v.clone());
            async move { store.create(&k, v.to_vec()).await.unwrap() }
        })
    });

    // 64 tasks at once: the writer commits them in a few batches (one fsync per batch).
    const TASKS: usize = 64;
    g.throughput(Throughput::Elements(TASKS as u64));
    g.bench_function("durable_create/64_tasks_batched", |b| {
        b.to_async(&rt).iter(|| {
            let (store, v, next) = (store.clone(), v.clone(), next.clone());
            async move {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..TASKS {
                    let k = key(next.fetch_add(1, Ordering::Relaxed));
                    let (store, v) = (store.clone(), v.clone());
                    set.spawn(async move { store.create(&k, v.to_vec()).await.unwrap() });
                }
                while let Some(r) = set.join_next().await {
                    r.unwrap();
                }
            }
        })
    });
    g.finish();
    drop(store);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = memory, embedded
}
criterion_main!(benches);
