//! The kubelet's node: the machine's capacity, registration (create, or merge into the node
//! that exists) and the heartbeat that keeps the `Ready` condition fresh through `/status`.
//! What the node says is kube-core's (`kube_core::kubelet::node_status`).

use crate::client::ApiClient;
use crate::clock::{seeded_rng, Clock};
use crate::controller::shutdown::Shutdown;
use kube_core::backoff::Backoff;
use kube_core::error::ApiError;
use kube_core::kubelet::node_status::{
    build_node, merge_node_labels, update_node_status, NodeStatusInput, DEFAULT_MAX_PODS,
};
use kube_core::runtime::{ContainerRuntime, RuntimeVersion};
use kube_core::Node;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Where the machine's memory size is read from.
const MEMINFO: &str = "/proc/meminfo";
/// How long the runtime may take to say its version before it counts as down.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of one heartbeat write whose compare-and-swap keeps losing (Kubernetes' 5).
const STATUS_UPDATE_RETRIES: usize = 5;

/// Settings of the node registration and heartbeat.
#[derive(Clone, Debug)]
pub struct NodeStatusConfig {
    /// Name of the node object.
    pub node_name: String,
    /// The node's IP (`InternalIP`); none is reported when unspecified (`0.0.0.0`).
    pub address: IpAddr,
    /// Host name reported (`Hostname`); the node name when empty.
    pub hostname: String,
    /// Port of the kubelet's server (`daemonEndpoints.kubeletEndpoint.Port`).
    pub kubelet_port: u16,
    /// CPU capacity in millicores; the machine's when `None`.
    pub cpu_millis: Option<i64>,
    /// Memory capacity in bytes; the machine's when `None`.
    pub memory_bytes: Option<i64>,
    /// Most pods the node accepts.
    pub max_pods: i64,
    /// Labels merged into the node's (besides hostname, OS and architecture).
    pub labels: BTreeMap<String, String>,
    /// Time between heartbeats.
    pub node_status_update_frequency: Duration,
    /// Delays between registration attempts that failed transiently.
    pub backoff: Backoff,
    /// The source of time.
    pub clock: Clock,
}

impl NodeStatusConfig {
    /// Defaults for `node_name`: loopback, port 10250, the machine's capacity, 110 pods, a
    /// heartbeat every 10 s, registration retried from 100 ms up to 7 s (jittered).
    pub fn new(node_name: impl Into<String>) -> NodeStatusConfig {
        NodeStatusConfig {
            node_name: node_name.into(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            hostname: String::new(),
            kubelet_port: 10250,
            cpu_millis: None,
            memory_bytes: None,
            max_pods: DEFAULT_MAX_PODS,
            labels: BTreeMap::new(),
            node_status_update_frequency: Duration::from_secs(10),
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(7))
                .with_jitter(0.2),
            clock: Clock::real(),
        }
    }
}

/// Why the node could not be registered or its status not written.
#[derive(Debug, thiserror::Error)]
pub enum NodeStatusError {
    /// The machine's capacity could not be read.
    #[error("cannot read the machine's capacity: {0}")]
    Machine(String),
    /// The API refused the node for good (not a transient failure).
    #[error("cannot register node {node:?}: {source}")]
    Api {
        /// The node's name.
        node: String,
        /// The API's answer.
        source: ApiError,
    },
    /// Shutdown was signalled before the work was done.
    #[error("shut down before node {0:?} was registered")]
    Shutdown(String),
}

/// CPU and memory of the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineCapacity {
    /// CPU in millicores.
    pub cpu_millis: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
pub fn parse_meminfo(text: &str) -> Option<i64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let value: i64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

/// The machine's capacity: CPUs available to this process × 1000 millicores and
/// `/proc/meminfo`'s `MemTotal`, each replaced by its override when given.
pub fn machine_capacity(
    cpu_millis: Option<i64>,
    memory_bytes: Option<i64>,
) -> Result<MachineCapacity, NodeStatusError> {
    let cpu_millis = match cpu_millis {
        Some(m) => m,
        None => std::thread::available_parallelism()
            .map(|n| i64::try_from(n.get()).unwrap_or(i64::MAX / 1000) * 1000)
            .map_err(|e| NodeStatusError::Machine(format!("CPU count: {e}")))?,
    };
    let memory_bytes = match memory_bytes {
        Some(b) => b,
        None => {
            let text = std::fs::read_to_string(MEMINFO)
                .map_err(|e| NodeStatusError::Machine(format!("{MEMINFO}: {e}")))?;
            parse_meminfo(&text)
                .ok_or_else(|| NodeStatusError::Machine(format!("{MEMINFO}: no MemTotal")))?
        }
    };
    Ok(MachineCapacity {
        cpu_millis,
        memory_bytes,
    })
}

/// The node status input of `config` on this machine, with the runtime not asked yet.
pub fn node_status_input(config: &NodeStatusConfig) -> Result<NodeStatusInput, NodeStatusError> {
    let machine = machine_capacity(config.cpu_millis, config.memory_bytes)?;
    Ok(NodeStatusInput {
        internal_ip: (!config.address.is_unspecified()).then_some(config.address),
        hostname: config.hostname.clone(),
        cpu_millis: machine.cpu_millis,
        memory_bytes: machine.memory_bytes,
        max_pods: config.max_pods,
        kubelet_port: config.kubelet_port,
        labels: config.labels.clone(),
        ..NodeStatusInput::new(config.node_name.clone())
    })
}

/// The runtime's version, or why it is not healthy (no answer within 5 s included).
pub async fn runtime_health<R: ContainerRuntime + ?Sized>(
    runtime: &R,
) -> Result<RuntimeVersion, String> {
    match tokio::time::timeout(VERSION_TIMEOUT, runtime.version()).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("runtime did not answer within {VERSION_TIMEOUT:?}")),
    }
}

/// Whether a failed API call is worth retrying.
fn is_transient(e: &ApiError) -> bool {
    e.is_transport() || e.is_not_found() || matches!(e.code(), 409 | 429 | 500 | 503 | 504)
}

/// Registers the node: creates it, or when it exists merges the kubelet's labels into it
/// (others' labels and the spec are kept) and writes its status. Transient failures are
/// retried with `config.backoff` until `shutdown`.
pub async fn register_node<C: ApiClient, R: ContainerRuntime + ?Sized>(
    client: &C,
    runtime: &R,
    config: &NodeStatusConfig,
    shutdown: &Shutdown,
) -> Result<Node, NodeStatusError> {
    let mut input = node_status_input(config)?;
    let mut backoff = config.backoff.clone();
    let mut rng = seeded_rng();
    loop {
        if shutdown.is_triggered() {
            return Err(NodeStatusError::Shutdown(config.node_name.clone()));
        }
        input.runtime = runtime_health(runtime).await;
        match try_register(client, &input, &config.clock).await {
            Ok(node) => {
                tracing::info!(node = %config.node_name, "node registered");
                return Ok(node);
            }
            Err(e) if is_transient(&e) => {
                let delay = backoff.next_delay(&mut rng);
                tracing::warn!(node = %config.node_name, "registration failed, retrying in {delay:?}: {e}");
                tokio::select! {
                    _ = config.clock.sleep(delay) => {}
                    _ = shutdown.triggered() => {}
                }
            }
            Err(source) => {
                return Err(NodeStatusError::Api {
                    node: config.node_name.clone(),
                    source,
                })
            }
        }
    }
}

async fn try_register<C: ApiClient>(
    client: &C,
    input: &NodeStatusInput,
    clock: &Clock,
) -> Result<Node, ApiError> {
    match client.create("", &build_node(input, clock.now())).await {
        Err(e) if e.is_already_exists() => {}
        other => return other,
    }
    let mut existing: Node = client.get("", &input.node_name).await?;
    if let Some(merged) = merge_node_labels(&existing, input) {
        existing = client.update("", &merged).await?;
    }
    client
        .update_status("", &update_node_status(&existing, input, clock.now()))
        .await
}

/// Writes the node's status once: reads the node and writes the status through `/status`,
/// re-reading on a conflict (up to 5 attempts); a node that is gone is created again.
pub async fn write_node_status<C: ApiClient>(
    client: &C,
    input: &NodeStatusInput,
    clock: &Clock,
) -> Result<Node, ApiError> {
    let mut last = None;
    for _ in 0..STATUS_UPDATE_RETRIES {
        let existing: Node = match client.get("", &input.node_name).await {
            Ok(n) => n,
            Err(e) if e.is_not_found() => {
                return client.create("", &build_node(input, clock.now())).await
            }
            Err(e) => return Err(e),
        };
        let updated = update_node_status(&existing, input, clock.now());
        match client.update_status("", &updated).await {
            Err(e) if e.is_conflict() => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| ApiError::Internal("no status update attempted".into())))
}

/// The heartbeat: every `node_status_update_frequency` (on the config's clock) asks the
/// runtime for its version and writes the node's status, until `shutdown`. A failed write is
/// logged and tried again at the next beat. Fails only when the machine's capacity cannot
/// be read at the start.
pub async fn run_heartbeat<C: ApiClient, R: ContainerRuntime + ?Sized>(
    client: &C,
    runtime: &R,
    config: &NodeStatusConfig,
    shutdown: Shutdown,
) -> Result<(), NodeStatusError> {
    let mut input = node_status_input(config)?;
    let clock = &config.clock;
    let period = config
        .node_status_update_frequency
        .max(Duration::from_millis(1));
    let mut next = clock.instant() + period;
    loop {
        tokio::select! {
            _ = clock.sleep_until(next) => {}
            _ = shutdown.triggered() => return Ok(()),
        }
        input.runtime = runtime_health(runtime).await;
        if let Err(e) = write_node_status(client, &input, clock).await {
            tracing::warn!(node = %config.node_name, "node status update failed: {e}");
        }
        next += period;
        let now = clock.instant();
        if next <= now {
            next = now + period;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo() {
        let cases = [
            (
                "MemTotal:        8005924 kB\nMemFree: 1 kB\n",
                Some(8_005_924 * 1024),
            ),
            ("MemFree: 1 kB\nMemTotal: 16 kB", Some(16 * 1024)),
            ("MemTotal: 4096", Some(4096)),
            ("MemTotal: 16 MB", None),
            ("MemTotal: lots kB", None),
            ("MemTotal: 99999999999999999 kB", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_meminfo(text), want, "{text:?}");
        }
    }

    #[test]
    fn capacity_overrides_and_machine() {
        assert_eq!(
            machine_capacity(Some(1500), Some(1 << 30)).unwrap(),
            MachineCapacity {
                cpu_millis: 1500,
                memory_bytes: 1 << 30
            }
        );
        let m = machine_capacity(None, None).unwrap();
        assert!(m.cpu_millis >= 1000 && m.cpu_millis % 1000 == 0, "{m:?}");
        assert!(m.memory_bytes > 0, "{m:?}");
    }
}
