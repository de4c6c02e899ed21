//! scheduler-bench: the real scheduler component against an in-memory cluster, in-process.
//!
//! Modelled on kube-scheduler's scheduler_perf: N nodes and M pending pods (CPU/memory
//! requests; a share with a host port; a share owned by replication controllers, so
//! spreading matters) are created in a memory store; then the scheduler starts and the run
//! is timed from its first bind to its last. The client is wrapped to time every bind call.
//! Prints one JSON line last:
//! `{"nodes":…, "pods":…, "pods_per_sec":…, "p99_bind_ms":…, "peak_rss_mb":…}`.

use clap::Parser;
use kube_core::error::ApiError;
use kube_core::list::List;
use kube_core::store::Revision;
use kube_core::Object;
use kube_core::{Binding, Node, Pod, ReplicationController};
use kube_runtime::client::{ApiClient, ClientWatch, InProcessClient, ListParams};
use kube_runtime::registry::Registry;
use kube_runtime::scheduler::{self, SchedulerConfig};
use kube_runtime::store::MemoryStore;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Flags.
#[derive(Parser, Debug)]
#[command(
    name = "scheduler-bench",
    about = "Scheduler throughput at scale, in-process"
)]
struct Flags {
    /// Nodes in the cluster.
    #[arg(long, default_value_t = 5000)]
    nodes: usize,
    /// Pending pods to schedule.
    #[arg(long, default_value_t = 10000)]
    pods: usize,
    /// Percentage of pods with a host port (each port value is used by 1/50 of those).
    #[arg(long = "host-port-percent", default_value_t = 10)]
    host_port_percent: usize,
    /// Replication controllers the pods are spread over.
    #[arg(long, default_value_t = 100)]
    controllers: usize,
}

/// Bind timings: (start, duration) of every successful bind.
#[derive(Default)]
struct Timings {
    binds: Vec<(Instant, Duration)>,
}

/// An in-process client that times `bind`.
#[derive(Clone)]
struct TimedClient {
    inner: InProcessClient,
    timings: Arc<Mutex<Timings>>,
}

impl ApiClient for TimedClient {
    async fn list<T: Object>(&self, ns: Option<&str>, p: &ListParams) -> Result<List<T>, ApiError> {
        self.inner.list(ns, p).await
    }
    async fn get<T: Object>(&self, ns: &str, name: &str) -> Result<T, ApiError> {
        self.inner.get(ns, name).await
    }
    async fn create<T: Object>(&self, ns: &str, obj: &T) -> Result<T, ApiError> {
        self.inner.create(ns, obj).await
    }
    async fn update<T: Object>(&self, ns: &str, obj: &T) -> Result<T, ApiError> {
        self.inner.update(ns, obj).await
    }
    async fn update_status<T: Object>(&self, ns: &str, obj: &T) -> Result<T, ApiError> {
        self.inner.update_status(ns, obj).await
    }
    async fn delete_with<T: Object>(
        &self,
        ns: &str,
        name: &str,
        options: &kube_core::DeleteOptions,
    ) -> Result<T, ApiError> {
        self.inner.delete_with(ns, name, options).await
    }
    async fn watch<T: Object>(
        &self,
        ns: Option<&str>,
        p: &ListParams,
        rv: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        self.inner.watch(ns, p, rv).await
    }
    async fn bind(&self, ns: &str, b: &Binding) -> Result<(), ApiError> {
        let start = Instant::now();
        let r = self.inner.bind(ns, b).await;
        if r.is_ok() {
            let elapsed = start.elapsed();
            self.timings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .binds
                .push((start, elapsed));
        }
        r
    }
}

fn node(i: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("node-{i}"), "labels": {"zone": format!("zone-{}", i % 3)}},
        "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True"}]}
    }))
    .expect("node json")
}

fn pod(i: usize, flags: &Flags) -> Pod {
    let rc = i % flags.controllers.max(1);
    let mut container = json!({
        "name": "app", "image": "busybox:1.36",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}
    });
    if flags.host_port_percent > 0 && i % 100 < flags.host_port_percent {
        container["ports"] = json!([{"containerPort": 8080, "hostPort": 20000 + (i % 50)}]);
    }
    serde_json::from_value(json!({
        "metadata": {"name": format!("pod-{i}"), "labels": {"app": format!("rc-{rc}")}},
        "spec": {"containers": [container]}
    }))
    .expect("pod json")
}

fn rc(i: usize) -> ReplicationController {
    serde_json::from_value(json!({
        "metadata": {"name": format!("rc-{i}")},
        "spec": {"replicas": 0, "selector": {"app": format!("rc-{i}")},
                 "template": {"metadata": {"labels": {"app": format!("rc-{i}")}},
                              "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]}}}
    }))
    .expect("rc json")
}

/// Peak resident set size of this process, from /proc (0 when unavailable).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let flags = Flags::parse();
    let registry = Registry::new(Arc::new(MemoryStore::new()));
    let inner = InProcessClient::new(registry);
    eprintln!(
        "creating {} nodes, {} controllers, {} pods ...",
        flags.nodes, flags.controllers, flags.pods
    );
    for i in 0..flags.nodes {
        inner.create("", &node(i)).await?;
    }
    for i in 0..flags.controllers {
        inner.create("default", &rc(i)).await?;
    }
    for i in 0..flags.pods {
        inner.create("default", &pod(i, &flags)).await?;
    }
    let timings = Arc::new(Mutex::new(Timings::default()));
    let client = TimedClient {
        inner: inner.clone(),
        timings: timings.clone(),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = SchedulerConfig {
        record_scheduled_events: false,
        ..SchedulerConfig::default()
    };
    let sched = tokio::spawn(scheduler::run(client, config, async {
        let _ = stop_rx.await;
    }));
    eprintln!("scheduling ...");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = timings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .binds
            .len();
        if done >= flags.pods || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    let _ = sched.await;
    let binds = std::mem::take(&mut timings.lock().unwrap_or_else(|e| e.into_inner()).binds);
    let t = Timings { binds };
    let bound = t.binds.len();
    let first = t.binds.iter().map(|(s, _)| *s).min();
    let last = t.binds.iter().map(|(s, d)| *s + *d).max();
    let span = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f),
        _ => Duration::ZERO,
    };
    let mut lat: Vec<Duration> = t.binds.iter().map(|(_, d)| *d).collect();
    lat.sort();
    let pods_per_sec = if span.is_zero() {
        0.0
    } else {
        bound as f64 / span.as_secs_f64()
    };
    // Verify: every pod bound, and no node holds more pods than fit (spot check of the API view).
    let listed = inner
        .list::<Pod>(Some("default"), &ListParams::fields("spec.nodeName="))
        .await?;
    eprintln!(
        "bound {bound}/{} in {:.3}s; {} left unbound per the API",
        flags.pods,
        span.as_secs_f64(),
        listed.items.len()
    );
    println!(
        "{}",
        json!({
            "nodes": flags.nodes,
            "pods": flags.pods,
            "bound": bound,
            "pods_per_sec": (pods_per_sec * 10.0).round() / 10.0,
            "p50_bind_ms": percentile(&lat, 0.50).as_secs_f64() * 1000.0,
            "p99_bind_ms": percentile(&lat, 0.99).as_secs_f64() * 1000.0,
            "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
