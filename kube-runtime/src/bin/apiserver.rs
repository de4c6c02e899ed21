//! The API server binary: REST CRUD and watch over the embedded durable store, or over etcd
//! with `--etcd-servers` (needs the `etcd` cargo feature).

use clap::Parser;
use kube_core::ip_allocator::Ipv4Cidr;
use kube_core::Store;
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::cli::{init_logging_or_stderr, normalize_args, wait_for_signal, LogFlags};
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
    about = "The API server: REST CRUD and watch, persisted in an embedded store or in etcd"
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
    /// Comma-separated etcd client URLs (e.g. `http://127.0.0.1:2379`); when given, objects
    /// are stored in etcd instead of the embedded store.
    #[arg(
        long = "etcd-servers",
        alias = "etcd_servers",
        value_delimiter = ',',
        value_name = "URLS"
    )]
    etcd_servers: Vec<String>,
    /// The etcd key prefix objects are stored under (`{prefix}/{resource}/{namespace}/{name}`).
    #[arg(
        long = "etcd-prefix",
        alias = "etcd_prefix",
        default_value = "/registry"
    )]
    etcd_prefix: String,
    /// Comma-separated names of static nodes to register at start-up (the seed's `-machines`).
    #[arg(long, value_delimiter = ',')]
    machines: Vec<String>,
    /// The seed's logging flags (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`).
    #[command(flatten)]
    log: LogFlags,
    /// The IPv4 range services get their cluster IPs from (the seed's `-portal_net`).
    #[arg(
        long = "portal-net",
        aliases = ["portal_net", "service-cluster-ip-range", "service_cluster_ip_range"],
        value_name = "CIDR",
        default_value = "10.0.0.0/24"
    )]
    portal_net: Ipv4Cidr,
}

/// Connects to etcd (lazily: the server starts, and answers 503, while etcd is down).
#[cfg(feature = "etcd")]
async fn open_etcd(servers: &[String], prefix: &str) -> Result<Arc<dyn Store>, String> {
    kube_runtime::store::EtcdStore::connect(servers, prefix)
        .await
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(|e| format!("cannot set up the etcd store on {}: {e}", servers.join(",")))
}

/// Without the `etcd` feature there is no etcd store: say how to get one.
#[cfg(not(feature = "etcd"))]
async fn open_etcd(servers: &[String], _prefix: &str) -> Result<Arc<dyn Store>, String> {
    Err(format!(
        "--etcd-servers {} given, but this apiserver was built without etcd support; \
         rebuild it with `cargo build --features kube-runtime/etcd` (needs protoc)",
        servers.join(",")
    ))
}

/// Opens the embedded store in `dir`.
async fn open_embedded(dir: &std::path::Path) -> Result<Arc<dyn Store>, String> {
    EmbeddedStore::open(dir)
        .await
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(|e| format!("cannot open the store in {}: {e}", dir.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    init_logging_or_stderr(&flags.log, "apiserver");
    let servers: Vec<String> = flags
        .etcd_servers
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let (store, store_name) = if servers.is_empty() {
        (
            open_embedded(&flags.data_dir).await,
            flags.data_dir.display().to_string(),
        )
    } else {
        (
            open_etcd(&servers, &flags.etcd_prefix).await,
            format!("etcd {} under {}", servers.join(","), flags.etcd_prefix),
        )
    };
    let store = match store {
        Ok(s) => s,
        Err(e) => {
            eprintln!("apiserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ApiServerConfig {
        address: flags.address,
        port: flags.port,
        portal_net: flags.portal_net,
        ..ApiServerConfig::default()
    };
    let server = ApiServer::new(store, config);
    if let Err(e) = server.register_static_nodes(&flags.machines).await {
        eprintln!(
            "apiserver: cannot register --machines {}: {e}",
            flags.machines.join(",")
        );
        return ExitCode::FAILURE;
    }
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
        "apiserver listening on {} (store: {store_name})",
        running.url()
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}
