//! density-bench: Kubernetes' density test on a `LocalCluster` of hollow nodes.
//!
//! Starts a cluster in this process (memory store, scheduler, controller manager, N hollow
//! nodes: real kubelets on the fake runtime), waits until every node is Ready, then creates the
//! replication controllers (M/30 controllers of 30 replicas by default, as Kubernetes' density
//! test does) and measures, from a watch of every pod:
//! - the time from creating the controllers to all M pods Running, and the rate;
//! - each pod's startup latency, from its creation (first seen) to Running (first seen so);
//! - the peak resident memory of the whole process (`VmHWM`).
//!
//! Prints one JSON line last: `{"nodes":…, "pods":…, "seconds_to_all_running":…,
//! "pods_per_sec":…, "startup_p50_ms":…, "startup_p99_ms":…, "peak_rss_mb":…}`.

use clap::Parser;
use kube_benches::{loadavg, percentile_ms, round};
use kube_core::testing::{PodBuilder, ReplicationControllerBuilder};
use kube_core::watch::WatchEventType;
use kube_core::{Node, Pod, ReplicationController};
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::controllers::garbage_collector::GarbageCollectorConfig;
use kube_runtime::controllers::manager::ControllerManagerConfig;
use kube_runtime::local_cluster::LocalCluster;
use kube_runtime::scheduler::SchedulerConfig;
use kube_runtime::store::MemoryStore;
use serde_json::json;
use std::collections::HashMap;
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn Error + Send + Sync>;

/// Flags.
#[derive(Parser, Debug)]
#[command(
    name = "density-bench",
    about = "Pods per second on a cluster of hollow nodes"
)]
struct Flags {
    /// Hollow nodes.
    #[arg(long, default_value_t = 100)]
    nodes: usize,
    /// Pods in all.
    #[arg(long, default_value_t = 3000)]
    pods: usize,
    /// Replicas per controller (Kubernetes' density test: 30).
    #[arg(long = "pods-per-controller", default_value_t = 30)]
    pods_per_controller: usize,
    /// Store events kept for watches to resume from (the memory store's default: 100000).
    #[arg(long, default_value_t = 25_000)]
    history: usize,
    /// Run without the garbage collector (to see its share of the work).
    #[arg(long = "without-gc")]
    without_gc: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// A line of `/proc/self/status` in MB.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn controller(i: usize, replicas: usize) -> ReplicationController {
    let name = format!("density-{i}");
    ReplicationControllerBuilder::new(&name)
        .replicas(replicas as i32)
        .selector("name", &name)
        .template(
            PodBuilder::new("ignored")
                .label("name", &name)
                .container("pause", "kube-test/pause:latest"),
        )
        .build()
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let flags = Flags::parse();
    let per = flags.pods_per_controller.max(1);
    let start = Instant::now();
    let store = Arc::new(MemoryStore::with_history_capacity(flags.history));
    let cluster = LocalCluster::builder()
        .store(store)
        .nodes(flags.nodes)
        .controller_manager_config(ControllerManagerConfig {
            garbage_collector: (!flags.without_gc).then(GarbageCollectorConfig::default),
            ..ControllerManagerConfig::default()
        })
        .scheduler_config(SchedulerConfig {
            record_scheduled_events: false,
            ..SchedulerConfig::default()
        })
        .start()
        .await?;
    let client = cluster.client().clone();
    // Every node registered and Ready.
    loop {
        let nodes = client.list::<Node>(None, &ListParams::default()).await?;
        let ready = nodes
            .items
            .iter()
            .filter(|n| {
                n.status
                    .conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
            .count();
        if ready == flags.nodes {
            break;
        }
        if start.elapsed() > Duration::from_secs(flags.timeout) {
            return Err(format!("only {ready} of {} nodes Ready", flags.nodes).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cluster_ready = start.elapsed();
    let rss_before = status_mb("VmRSS:");
    eprintln!(
        "{} nodes Ready in {:.2} s, RSS {rss_before:.0} MB",
        flags.nodes,
        cluster_ready.as_secs_f64()
    );

    // Watch every pod: first seen, first seen Running.
    let list = client.list::<Pod>(None, &ListParams::default()).await?;
    let mut watch = client
        .watch::<Pod>(
            None,
            &ListParams::default(),
            list.metadata.resource_version.parse()?,
        )
        .await?;
    let total = flags.pods;
    let running_now = Arc::new(AtomicUsize::new(0));
    let counter = running_now.clone();
    let watch_client = client.clone();
    let watcher = tokio::spawn(async move {
        // First seen, and whether it has been counted Running.
        let mut seen: HashMap<String, (Instant, bool)> = HashMap::with_capacity(total);
        let mut latencies = Vec::with_capacity(total);
        let mut note = |pod: Pod, now: Instant, latencies: &mut Vec<Duration>| {
            let entry = seen.entry(pod.metadata.name).or_insert((now, false));
            if pod.status.phase == "Running" && !entry.1 {
                entry.1 = true;
                latencies.push(now - entry.0);
                counter.fetch_add(1, Ordering::Relaxed);
            }
        };
        loop {
            while let Some(ev) = watch.next().await {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(e) => {
                        eprintln!("watch ended: {e}; relisting");
                        break;
                    }
                };
                if ev.type_ != WatchEventType::Deleted {
                    note(ev.object, Instant::now(), &mut latencies);
                }
                if latencies.len() == total {
                    return Ok::<_, BoxError>(latencies);
                }
            }
            // A watch that fell behind: relist (a pod first seen now counts from now, which
            // can only make latencies look better by the time it was unseen: reported).
            let list = watch_client
                .list::<Pod>(None, &ListParams::default())
                .await?;
            let now = Instant::now();
            for p in list.items {
                note(p, now, &mut latencies);
            }
            if latencies.len() == total {
                return Ok(latencies);
            }
            watch = watch_client
                .watch::<Pod>(
                    None,
                    &ListParams::default(),
                    list.metadata.resource_version.parse()?,
                )
                .await?;
        }
    });

    let t0 = Instant::now();
    let mut created = 0;
    let mut i = 0;
    while created < total {
        let n = per.min(total - created);
        client.create("default", &controller(i, n)).await?;
        created += n;
        i += 1;
    }
    let latencies = match tokio::time::timeout(Duration::from_secs(flags.timeout), watcher).await {
        Ok(r) => r??,
        Err(_) => {
            let n = running_now.load(Ordering::Relaxed);
            println!(
                "{}",
                json!({
                    "nodes": flags.nodes, "pods": total, "running_at_timeout": n,
                    "timeout_s": flags.timeout, "peak_rss_mb": round(status_mb("VmHWM:"), 0),
                })
            );
            return Err(format!(
                "only {n} of {total} pods Running within {} s",
                flags.timeout
            )
            .into());
        }
    };
    let elapsed = t0.elapsed();
    let mut sorted = latencies;
    sorted.sort();
    let peak = status_mb("VmHWM:");
    eprintln!("load average: {}", loadavg());
    let line = json!({
        "nodes": flags.nodes,
        "pods": total,
        "controllers": i,
        "cluster_ready_s": round(cluster_ready.as_secs_f64(), 2),
        "seconds_to_all_running": round(elapsed.as_secs_f64(), 2),
        "pods_per_sec": round(total as f64 / elapsed.as_secs_f64(), 0),
        "startup_p50_ms": round(percentile_ms(&sorted, 0.50), 1),
        "startup_p99_ms": round(percentile_ms(&sorted, 0.99), 1),
        "peak_rss_mb": round(peak, 0),
    });
    println!("{line}");
    // Exit without an orderly teardown of thousands of kubelets: the numbers are in.
    std::process::exit(0);
}
