//! The API server binary: REST CRUD and watch over the embedded durable store.

use clap::Parser;
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::store::EmbeddedStore;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Command-line flags (the seed's single-dash spellings are accepted too: `-port=8080`).
#[derive(Parser, Debug)]
#[command(
    name = "apiserver",
    version,
    about = "The API server: REST CRUD and watch, persisted in an embedded store"
)]
struct Flags {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Directory of the embedded store.
    #[arg(
        long = "data-dir",
        alias = "data_dir",
        default_value = "apiserver-data"
    )]
    data_dir: PathBuf,
}

/// Rewrites Go-style single-dash long flags (`-port=8080`) to `--port=8080`.
fn normalize_args(args: impl Iterator<Item = String>) -> Vec<String> {
    args.enumerate()
        .map(|(i, a)| {
            if i > 0 && a.starts_with('-') && !a.starts_with("--") && a.len() > 2 {
                format!("-{a}")
            } else {
                a
            }
        })
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    let store = match EmbeddedStore::open(&flags.data_dir).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "apiserver: cannot open the store in {}: {e}",
                flags.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let config = ApiServerConfig {
        address: flags.address,
        port: flags.port,
        ..ApiServerConfig::default()
    };
    let server = ApiServer::new(Arc::new(store), config);
    let running = match server.start().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "apiserver: cannot listen on {}:{}: {e}",
                flags.address, flags.port
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "apiserver listening on {} (store: {})",
        running.url(),
        flags.data_dir.display()
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}

/// Waits for SIGINT or SIGTERM.
async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
