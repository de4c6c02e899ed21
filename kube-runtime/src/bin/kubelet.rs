//! The kubelet binary: runs the pods bound to this node as containers and reports their status.

use clap::{Parser, ValueEnum};
use kube_runtime::cli::{
    hostname, init_logging_or_stderr, master_client, normalize_args, parse_label, wait_for_signal,
    LogFlags,
};
use kube_runtime::clock::Clock;
use kube_runtime::controller::Shutdown;
use kube_runtime::kubelet::{self, KubeletConfig};
use kube_runtime::runtime::{DockerRuntime, FakeRuntime};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Which container runtime runs the pods.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum RuntimeKind {
    /// Docker Engine through its API socket.
    Docker,
    /// The in-memory fake (a simulated node: nothing really runs).
    Fake,
}

/// Command-line flags (the seed's single-dash and underscore spellings are accepted).
#[derive(Parser, Debug)]
#[command(
    name = "kubelet",
    version,
    about = "Runs this node's pods as containers"
)]
struct Flags {
    /// API server: `http://host:port`, or the seed's `host:port`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    master: String,
    /// The seed's etcd addresses: accepted and not used (this kubelet reads and writes
    /// through the API server at `--master`, never etcd).
    #[arg(
        long = "etcd-servers",
        alias = "etcd_servers",
        value_delimiter = ',',
        value_name = "URLS"
    )]
    etcd_servers: Vec<String>,
    /// Node name (default: the host name).
    #[arg(long = "hostname-override", alias = "hostname_override")]
    hostname_override: Option<String>,
    /// Address to serve on, report as the node's address and bind host ports to by default.
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// Port of the kubelet's server (logs, health).
    #[arg(long, default_value_t = kubelet::config::DEFAULT_PORT)]
    port: u16,
    /// Container runtime.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Docker)]
    runtime: RuntimeKind,
    /// Docker's API endpoint.
    #[arg(
        long = "docker-endpoint",
        default_value = "unix:///var/run/docker.sock"
    )]
    docker_endpoint: String,
    /// Image of each pod's infra container.
    #[arg(long = "pod-infra-container-image", alias = "pod_infra_container_image", default_value = kubelet::config::DEFAULT_INFRA_IMAGE)]
    pod_infra_container_image: String,
    /// How often the node's status is posted, in seconds.
    #[arg(long = "node-status-update-frequency", default_value_t = 10)]
    node_status_update_frequency: u64,
    /// CPU capacity to report, in millicores (default: the machine's).
    #[arg(long = "cpu-millis")]
    cpu_millis: Option<i64>,
    /// Memory capacity to report, in bytes (default: the machine's).
    #[arg(long = "memory-bytes")]
    memory_bytes: Option<i64>,
    /// Most pods this node accepts.
    #[arg(long = "max-pods", default_value_t = 110)]
    max_pods: i64,
    /// Directory for pods' emptyDir volumes.
    #[arg(long = "root-dir", default_value = "/var/lib/kubelet")]
    root_dir: String,
    /// Extra label `KEY=VALUE` put on every container (repeatable).
    #[arg(long = "container-label")]
    container_labels: Vec<String>,
    /// The seed's logging flags (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`).
    #[command(flatten)]
    log: LogFlags,
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    init_logging_or_stderr(&flags.log, "kubelet");
    match run(flags).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kubelet: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(flags: Flags) -> Result<(), String> {
    let client = master_client(&flags.master)?;
    if !flags.etcd_servers.is_empty() {
        tracing::info!(
            "-etcd_servers={} is not used: this kubelet talks to the API server at {}, never to etcd",
            flags.etcd_servers.join(","),
            client.base_url()
        );
    }
    let node_name = match flags.hostname_override.clone() {
        Some(n) => n,
        None => hostname()?,
    };
    let runtime: Arc<dyn kube_core::runtime::ContainerRuntime> = match flags.runtime {
        RuntimeKind::Docker => Arc::new(
            DockerRuntime::connect(&flags.docker_endpoint)
                .await
                .map_err(|e| format!("{e} (start dockerd, or run with --runtime fake)"))?,
        ),
        RuntimeKind::Fake => Arc::new(FakeRuntime::simulated(Clock::real())),
    };
    let mut config = KubeletConfig::new(node_name);
    config.address = flags.address;
    config.port = flags.port;
    config.pod_infra_image = flags.pod_infra_container_image;
    config.node_status_update_frequency =
        Duration::from_secs(flags.node_status_update_frequency.max(1));
    config.cpu_millis = flags.cpu_millis;
    config.memory_bytes = flags.memory_bytes;
    config.max_pods = flags.max_pods;
    config.volume_root = format!("{}/pods", flags.root_dir.trim_end_matches('/'));
    for l in &flags.container_labels {
        let (k, v) = parse_label(l).map_err(|e| format!("--container-label {e}"))?;
        config.extra_container_labels.insert(k, v);
    }
    tracing::info!(
        node = %config.node_name,
        master = %client.base_url(),
        "kubelet starting"
    );
    kubelet::run(client, runtime, config, Shutdown::on(wait_for_signal()))
        .await
        .map_err(|e| e.to_string())
}
