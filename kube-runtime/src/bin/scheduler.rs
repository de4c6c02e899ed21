//! The scheduler binary: assigns pending pods to nodes through the API server.

use clap::Parser;
use kube_core::scheduler::Framework;
use kube_runtime::cli::{
    init_logging_or_stderr, master_client, normalize_args, wait_for_signal, LogFlags,
};
use kube_runtime::scheduler::{self, SchedulerConfig};
use std::process::ExitCode;

/// Command-line flags (the seed's single-dash spellings are accepted: `-master 127.0.0.1:8080`).
#[derive(Parser, Debug)]
#[command(name = "scheduler", version, about = "Assigns new pods to nodes")]
struct Flags {
    /// API server: `http://host:port`, or the seed's `host:port`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    master: String,
    /// Share of feasible nodes to find before scoring (0 = adaptive, as kube-scheduler).
    #[arg(long = "percentage-of-nodes-to-score", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    percentage_of_nodes_to_score: u8,
    /// Seed of the tie-breaking random source (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// The seed's logging flags (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`).
    #[command(flatten)]
    log: LogFlags,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    init_logging_or_stderr(&flags.log, "scheduler");
    let client = match master_client(&flags.master) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scheduler: {e}");
            return ExitCode::FAILURE;
        }
    };
    let seed = flags.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let config = SchedulerConfig {
        framework: Framework::new()
            .with_percentage_of_nodes_to_score(flags.percentage_of_nodes_to_score),
        seed,
        ..SchedulerConfig::default()
    };
    tracing::info!("scheduler watching {}", client.base_url());
    scheduler::run(client, config, wait_for_signal()).await;
    ExitCode::SUCCESS
}
