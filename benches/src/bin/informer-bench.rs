//! informer-bench: K consumers of one shared pod informer over HTTP, against an in-process API
//! server on the memory store holding N standard 704-byte bench pods.
//!
//! Measures the initial sync (list + first watch) of the shared cache, the resident memory it
//! adds per cached pod (RSS from just before the informers start, store already loaded, to when
//! every consumer is synced, divided by N), and then the modifications streamed to every consumer:
//! throughput (events delivered to each consumer per second) and p99 latency from the write to
//! the delivery. Prints one JSON line last:
//! `{"pods":…, "consumers":…, "watches_opened":…, "initial_sync_ms":…, "bytes_per_cached_pod":…,
//! "events_per_sec":…, "event_p99_ms":…}`.

use clap::Parser;
use kube_benches::{loadavg, percentile_ms, pod_json, round};
use kube_core::Pod;
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::client::{HttpClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::informer::{CacheEvent, SharedInformers};
use kube_runtime::registry::Registry;
use kube_runtime::store::MemoryStore;
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::error::Error;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn Error + Send + Sync>;

/// The system allocator, counting the bytes live on the heap (to tell what the cache holds from
/// what the allocator keeps after transient buffers are freed).
struct Counting;

static LIVE_HEAP: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_HEAP.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_HEAP.fetch_add(new_size, Ordering::Relaxed);
        LIVE_HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes live on the heap.
fn live_heap() -> usize {
    LIVE_HEAP.load(Ordering::Relaxed)
}

/// Flags.
#[derive(Parser, Debug)]
#[command(
    name = "informer-bench",
    about = "Shared informer sync, memory and event fan-out"
)]
struct Args {
    /// Pods in the store before the informers start.
    #[arg(long, default_value_t = 100_000)]
    pods: usize,
    /// Consumers of the one shared pod informer.
    #[arg(long, default_value_t = 10)]
    consumers: usize,
    /// Modifications streamed after the sync.
    #[arg(long, default_value_t = 60_000)]
    events: usize,
    /// Concurrent writers of the modifications.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Most modifications written ahead of the slowest consumer (closed loop: the writers measure
    /// the pipeline's sustained rate instead of overflowing the watch).
    #[arg(long, default_value_t = 2000)]
    window: usize,
    /// Worker threads of the API server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the informers' runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
}

/// Resident memory of this process, in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// The sequence number a modification wrote into the pod's `seq` label.
fn seq_of(p: &Pod) -> Option<usize> {
    p.metadata.labels.get("seq")?.parse().ok()
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if args.pods == 0 || args.consumers == 0 || args.writers == 0 {
        return Err("--pods, --consumers and --writers must be positive".into());
    }
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .thread_name("apiserver")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .thread_name("informers")
        .enable_all()
        .build()?;

    let store = Arc::new(MemoryStore::new());
    let server = ApiServer::new(
        store.clone(),
        ApiServerConfig {
            port: 0,
            ..ApiServerConfig::default()
        },
    );
    let registry: Registry = server.registry().clone();
    eprintln!("loading {} pods", args.pods);
    server_rt.block_on(async {
        for i in 0..args.pods {
            let pod: Pod = serde_json::from_str(&pod_json(i))?;
            registry.create("default", pod).await?;
        }
        Ok::<_, BoxError>(())
    })?;
    let running = server_rt.block_on(server.clone().start())?;
    let url = running.url();
    eprintln!("api server listening on {url}");

    let out = client_rt.block_on(run(&args, &url, &registry, &server_rt))?;

    client_rt.block_on(running.shutdown());
    let line = serde_json::to_string(&out)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

async fn run(
    args: &Args,
    url: &str,
    registry: &Registry,
    server_rt: &tokio::runtime::Runtime,
) -> Result<serde_json::Value, BoxError> {
    let informers = SharedInformers::new(HttpClient::new(url)?, Clock::real());
    // What one decoded bench pod holds on the heap, behind an `Arc` as in the cache.
    let heap0 = live_heap();
    let one: Arc<Pod> = Arc::new(serde_json::from_str(&pod_json(1))?);
    let pod_heap = live_heap() - heap0;
    drop(one);
    eprintln!(
        "size_of::<Pod>() = {} bytes; one decoded pod in an Arc: {pod_heap} heap bytes",
        std::mem::size_of::<Pod>()
    );
    let heap_before = live_heap();
    let rss_before = rss_bytes();
    let caches: Vec<_> = (0..args.consumers)
        .map(|_| informers.cache::<Pod>(None, &ListParams::default()))
        .collect();
    let t0 = Instant::now();
    informers.start();
    for c in &caches {
        c.wait_until_synced().await;
    }
    let initial_sync = t0.elapsed();
    let rss_after = rss_bytes();
    let heap_after = live_heap();
    if caches[0].len() != args.pods {
        return Err(format!("cached {} pods, want {}", caches[0].len(), args.pods).into());
    }
    let bytes_per_pod = rss_after.saturating_sub(rss_before) as f64 / args.pods as f64;
    eprintln!(
        "synced {} pods in {initial_sync:?}; RSS {} MB -> {} MB",
        args.pods,
        rss_before >> 20,
        rss_after >> 20
    );

    // Write times of every modification, in ns since `base`, read by the consumers.
    let base = Instant::now();
    let written: Arc<Vec<AtomicU64>> =
        Arc::new((0..args.events).map(|_| AtomicU64::new(0)).collect());
    let seen: Arc<Vec<AtomicUsize>> =
        Arc::new((0..args.consumers).map(|_| AtomicUsize::new(0)).collect());
    let mut consumers = Vec::new();
    for (i, c) in caches.iter().enumerate() {
        let mut rx = c.subscribe();
        let written = written.clone();
        let seen = seen.clone();
        let want = args.events;
        consumers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(want);
            let mut lagged = 0u64;
            while lat.len() + (lagged as usize) < want {
                match rx.recv().await {
                    Ok(CacheEvent::Applied { new, .. }) => {
                        if let Some(seq) = seq_of(&new) {
                            let now = base.elapsed().as_nanos() as u64;
                            let at = written[seq].load(Ordering::Relaxed);
                            lat.push(Duration::from_nanos(now.saturating_sub(at)));
                            seen[i].store(lat.len() + lagged as usize, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        lagged += n;
                        seen[i].store(lat.len() + lagged as usize, Ordering::Relaxed);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
            (lat, lagged, Instant::now())
        }));
    }

    // The modifications: a `seq` label on the pods in turn, from concurrent writers.
    let start = Instant::now();
    let mut writers = Vec::new();
    for w in 0..args.writers {
        let registry = registry.clone();
        let written = written.clone();
        let seen = seen.clone();
        let (events, pods, stride, window) = (args.events, args.pods, args.writers, args.window);
        writers.push(server_rt.spawn(async move {
            let mut seq = w;
            while seq < events {
                while seq
                    >= window
                        + seen
                            .iter()
                            .map(|s| s.load(Ordering::Relaxed))
                            .min()
                            .unwrap_or(0)
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let name = format!("bench-{:06}", seq % pods);
                let mut pod: Pod = registry.get("default", &name).await?;
                pod.metadata.labels.insert("seq".into(), seq.to_string());
                pod.metadata.resource_version.clear();
                written[seq].store(base.elapsed().as_nanos() as u64, Ordering::Relaxed);
                registry.update("default", &name, pod).await?;
                seq += stride;
            }
            Ok::<_, kube_core::error::ApiError>(())
        }));
    }
    for w in writers {
        w.await??;
    }
    let mut all = Vec::new();
    let mut lagged_total = 0;
    let mut last = start;
    for c in consumers {
        let (lat, lagged, done) = c.await?;
        lagged_total += lagged;
        last = last.max(done);
        all.extend(lat);
    }
    let elapsed = last.duration_since(start);
    all.sort();
    let delivered_each = args.events as f64 - lagged_total as f64 / args.consumers as f64;
    Ok(json!({
        "loadavg": loadavg(),
        "events": args.events,
        "events_lagged": lagged_total,
        "rss_before_mb": rss_before >> 20,
        "rss_after_mb": rss_after >> 20,
        "live_heap_bytes_per_cached_pod": round(heap_after.saturating_sub(heap_before) as f64 / args.pods as f64, 0),
        "decoded_pod_heap_bytes": pod_heap,
        "pods": args.pods,
        "consumers": args.consumers,
        "watches_opened": informers.watches_opened(),
        "initial_sync_ms": round(initial_sync.as_secs_f64() * 1000.0, 1),
        "bytes_per_cached_pod": round(bytes_per_pod, 0),
        "events_per_sec": round(delivered_each / elapsed.as_secs_f64(), 0),
        "event_p99_ms": round(percentile_ms(&all, 0.99), 2),
    }))
}
