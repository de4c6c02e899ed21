//! The controller-manager binary: runs the cluster's controllers against an API server, behind
//! leader election unless `--leader-elect=false`.

use clap::Parser;
use kube_runtime::cli::{
    init_logging_or_stderr, master_client, normalize_args, parse_duration, wait_for_signal,
    LogFlags,
};
use kube_runtime::controller::Shutdown;
use kube_runtime::controllers::endpoints::EndpointsConfig;
use kube_runtime::controllers::garbage_collector::GarbageCollectorConfig;
use kube_runtime::controllers::manager::{self, ControllerManagerConfig};
use kube_runtime::controllers::node_lifecycle::NodeLifecycleConfig;
use kube_runtime::controllers::replication::ReplicationConfig;
use std::process::ExitCode;
use std::time::Duration;

/// Command-line flags (the seed's single-dash spellings are accepted: `-master 127.0.0.1:8080`).
#[derive(Parser, Debug)]
#[command(
    name = "controller-manager",
    version,
    about = "Keeps the cluster matching what was asked (replication, endpoints, node lifecycle, garbage collection)"
)]
struct Flags {
    /// API server: `http://host:port`, or the seed's `host:port`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    master: String,
    /// Replication controllers synced at once.
    #[arg(long = "concurrent-rc-syncs", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_rc_syncs: u16,
    /// Services whose endpoints are synced at once.
    #[arg(long = "concurrent-endpoint-syncs", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_endpoint_syncs: u16,
    /// How long a node may go without a heartbeat before it is marked Unknown.
    #[arg(long = "node-monitor-grace-period", default_value = "40s", value_parser = parse_duration)]
    node_monitor_grace_period: Duration,
    /// How long a new node has to post its first status.
    #[arg(long = "node-startup-grace-period", default_value = "60s", value_parser = parse_duration)]
    node_startup_grace_period: Duration,
    /// How long a node may be not ready before its pods are evicted.
    #[arg(long = "pod-eviction-timeout", default_value = "5m", value_parser = parse_duration)]
    pod_eviction_timeout: Duration,
    /// Nodes whose pods are evicted per second (0 turns eviction off).
    #[arg(long = "node-eviction-rate", default_value_t = 0.1)]
    node_eviction_rate: f64,
    /// How often every node's health is looked at.
    #[arg(long = "node-monitor-period", default_value = "5s", value_parser = parse_duration)]
    node_monitor_period: Duration,
    /// Run the garbage collector.
    #[arg(long = "enable-garbage-collector", default_value_t = true, action = clap::ArgAction::Set)]
    enable_garbage_collector: bool,
    /// Seed of the random source of pod names (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Elect a leader among the running controller managers; only the leader acts.
    #[arg(long = "leader-elect", default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// How long a leader's lease lasts without renewal (seconds).
    #[arg(long = "leader-elect-lease-duration", default_value_t = 15)]
    lease_duration: u64,
    /// How long a leader keeps acting without renewing (seconds; less than the lease duration).
    #[arg(long = "leader-elect-renew-deadline", default_value_t = 10)]
    renew_deadline: u64,
    /// How often candidates try to acquire or renew the lease (seconds).
    #[arg(long = "leader-elect-retry-period", default_value_t = 2)]
    retry_period: u64,
    /// This candidate's identity in the lease (default: host name and process id).
    #[arg(long = "leader-elect-identity")]
    identity: Option<String>,
    /// The seed's logging flags (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`).
    #[command(flatten)]
    log: LogFlags,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    init_logging_or_stderr(&flags.log, "controller-manager");
    let client = match master_client(&flags.master) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("controller-manager: {e}");
            return ExitCode::FAILURE;
        }
    };
    let seed = flags.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let mut replication = ReplicationConfig {
        seed,
        ..ReplicationConfig::default()
    };
    replication.controller.workers = usize::from(flags.concurrent_rc_syncs);
    let mut endpoints = EndpointsConfig::default();
    endpoints.controller.workers = usize::from(flags.concurrent_endpoint_syncs);
    let node_lifecycle = NodeLifecycleConfig {
        node_monitor_grace_period: flags.node_monitor_grace_period,
        node_startup_grace_period: flags.node_startup_grace_period,
        pod_eviction_timeout: flags.pod_eviction_timeout,
        node_eviction_rate: flags.node_eviction_rate,
        node_monitor_period: flags.node_monitor_period,
        ..NodeLifecycleConfig::default()
    };
    let mut config = ControllerManagerConfig {
        replication: Some(replication),
        endpoints: Some(endpoints),
        node_lifecycle: Some(node_lifecycle),
        garbage_collector: flags
            .enable_garbage_collector
            .then(GarbageCollectorConfig::default),
        ..ControllerManagerConfig::default()
    };
    if flags.leader_elect {
        let identity = flags.identity.clone().unwrap_or_else(default_identity);
        config = config.elected_as(identity);
        if let Some(e) = &mut config.leader_election {
            e.timing.lease_duration = Duration::from_secs(flags.lease_duration);
            e.timing.renew_deadline = Duration::from_secs(flags.renew_deadline);
            e.timing.retry_period = Duration::from_secs(flags.retry_period);
        }
    }
    let shutdown = Shutdown::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        on_signal.trigger();
    });
    tracing::info!("controller-manager watching {}", client.base_url());
    match manager::run(client, config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("controller-manager: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `host_pid`, unique among candidates on different machines and processes.
fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    format!("{host}_{}", std::process::id())
}
