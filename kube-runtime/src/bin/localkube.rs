//! `localkube`: a whole cluster in one process (API server, scheduler, controller manager, a
//! kubelet on Docker or N simulated nodes); see `kube_runtime::localkube`.

use clap::Parser;
use kube_runtime::cli::{hostname, init_logging_or_stderr, normalize_args, wait_for_signal};
use kube_runtime::localkube::{Localkube, LocalkubeFlags};
use std::process::ExitCode;
use std::time::Instant;

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let flags = LocalkubeFlags::parse_from(normalize_args(std::env::args()));
    init_logging_or_stderr(&flags.log, "localkube");
    let host = match flags
        .hostname_override
        .clone()
        .map(Ok)
        .unwrap_or_else(hostname)
    {
        Ok(h) => h,
        Err(e) => {
            eprintln!("localkube: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = flags.config(&host);
    let cluster = match Localkube::start(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("localkube: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "localkube ready at {} in {} ms (nodes: {})",
        cluster.url(),
        started.elapsed().as_millis(),
        cluster.nodes().join(", ")
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    cluster.shutdown().await;
    ExitCode::SUCCESS
}
