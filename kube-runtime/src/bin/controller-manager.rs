//! The controller-manager binary: runs the replication controller against an API server.

use clap::Parser;
use kube_runtime::cli::{normalize_args, wait_for_signal};
use kube_runtime::client::HttpClient;
use kube_runtime::controller::Shutdown;
use kube_runtime::controllers::replication::{self, ReplicationConfig};
use std::process::ExitCode;

/// Command-line flags (the seed's single-dash spellings are accepted: `-master 127.0.0.1:8080`).
#[derive(Parser, Debug)]
#[command(
    name = "controller-manager",
    version,
    about = "Keeps the cluster matching what was asked (replication controllers)"
)]
struct Flags {
    /// API server URL or host:port.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    master: String,
    /// Replication controllers synced at once.
    #[arg(long = "concurrent-rc-syncs", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_rc_syncs: u16,
    /// Seed of the random source of pod names (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    let client = match HttpClient::new(&flags.master) {
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
    let mut config = ReplicationConfig {
        seed,
        ..ReplicationConfig::default()
    };
    config.controller.workers = usize::from(flags.concurrent_rc_syncs);
    let shutdown = Shutdown::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        on_signal.trigger();
    });
    tracing::info!("controller-manager watching {}", client.base_url());
    replication::run(client, config, shutdown).await;
    ExitCode::SUCCESS
}
