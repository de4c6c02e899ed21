//! The proxy binary: serves every service on its cluster IP and forwards to its endpoints.

use clap::Parser;
use kube_runtime::cli::{
    init_logging_or_stderr, master_client, normalize_args, wait_for_signal, LogFlags,
};
use kube_runtime::controller::Shutdown;
use kube_runtime::proxy::{self, ProxyConfig};
use std::process::ExitCode;

/// Command-line flags (the seed's single-dash spellings are accepted: `-master 127.0.0.1:8080`).
#[derive(Parser, Debug)]
#[command(
    name = "proxy",
    version,
    about = "Serves each service on its cluster IP, balancing connections over its endpoints"
)]
struct Flags {
    /// API server: `http://host:port`, or the seed's `host:port`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    master: String,
    /// Interface non-loopback cluster IPs are added to (default: docker0 when it exists, else lo).
    #[arg(long = "bind-interface")]
    bind_interface: Option<String>,
    /// The seed's logging flags (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`).
    #[command(flatten)]
    log: LogFlags,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    init_logging_or_stderr(&flags.log, "proxy");
    let client = match master_client(&flags.master) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ProxyConfig {
        bind_interface: flags.bind_interface.clone(),
        ..ProxyConfig::default()
    };
    tracing::info!("proxy watching {}", client.base_url());
    match proxy::run(client, config, Shutdown::on(wait_for_signal())).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("proxy: {e}");
            ExitCode::FAILURE
        }
    }
}
