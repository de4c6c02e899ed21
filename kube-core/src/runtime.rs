//! The `ContainerRuntime` trait: what the kubelet needs from a container engine.
//!
//! Implemented by the Docker adapter (`kube_runtime::runtime::DockerRuntime`, bollard) and by
//! the in-memory `kube_runtime::runtime::FakeRuntime`; one contract suite runs against both.
//! Commands are always argv arrays, never shell strings. The kubelet only ever lists with a
//! label filter, so it never sees containers that are not its own.

use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

/// Transport protocol of a published port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Parses the API spelling (`TCP`, `UDP`; empty means TCP).
    pub fn from_api(s: &str) -> Option<Protocol> {
        match s {
            "" | "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            _ => None,
        }
    }

    /// Lower-case name as container engines spell it (`tcp`, `udp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A container port published on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortBinding {
    /// Port inside the container.
    pub container_port: u16,
    /// Port on the host.
    pub host_port: u16,
    /// Host address to bind: the port's `hostIP`, else the kubelet's address (loopback by default).
    pub host_ip: IpAddr,
    /// TCP or UDP.
    pub protocol: Protocol,
}

/// Which network namespace a container gets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// Its own namespace on the runtime's default network (Docker's bridge).
    #[default]
    Bridge,
    /// The namespace of another container (a pod's infra container), by runtime ID.
    Container(String),
    /// The host's namespace.
    Host,
    /// A namespace with loopback only.
    None,
}

/// A host directory bind-mounted into a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Absolute path on the host.
    pub host_path: String,
    /// Absolute path inside the container.
    pub container_path: String,
    /// Mount read-only.
    pub read_only: bool,
}

/// Resource limits of a container; `None` means unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Memory limit in bytes.
    pub memory_bytes: Option<i64>,
    /// CPU limit in millicores (Docker's `NanoCpus` = millis × 10⁶).
    pub cpu_millis: Option<i64>,
    /// Relative CPU weight (Docker's `CpuShares`), from the CPU request.
    pub cpu_shares: Option<i64>,
}

/// Everything needed to create one container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerConfig {
    /// Runtime name of the container (e.g. `k8s_redis_redis_default_<uid>_0`).
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Entrypoint argv override; the image's when empty.
    pub command: Vec<String>,
    /// Arguments override; the image's when empty.
    pub args: Vec<String>,
    /// Environment variables, in order (a later one may refer to an earlier one).
    pub env: Vec<(String, String)>,
    /// Working directory; the image's when `None`.
    pub working_dir: Option<String>,
    /// Labels attached to the container (pod namespace, name and uid, container name, spec hash).
    pub labels: BTreeMap<String, String>,
    /// Host name; only for a container with its own network namespace.
    pub hostname: Option<String>,
    /// Network namespace.
    pub network: NetworkMode,
    /// Published ports; only for a container with its own network namespace.
    pub ports: Vec<PortBinding>,
    /// Bind mounts.
    pub mounts: Vec<Mount>,
    /// Resource limits.
    pub limits: ResourceLimits,
    /// Run an init process as PID 1 that forwards signals, so a bare program stops on SIGTERM.
    pub init: bool,
}

/// State of a container as the runtime reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ContainerRunState {
    /// Created, not started.
    Created,
    /// Running (paused and restarting count as running).
    Running,
    /// Exited (or dead).
    Exited,
    /// Anything else the runtime reports.
    #[default]
    Unknown,
}

/// Which containers a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only containers carrying every one of these labels with exactly these values.
    pub labels: Vec<(String, String)>,
    /// Exited and created containers too, not only running ones.
    pub all: bool,
}

impl ListFilter {
    /// A filter on one label, all states included.
    pub fn label(key: impl Into<String>, value: impl Into<String>) -> ListFilter {
        ListFilter {
            labels: vec![(key.into(), value.into())],
            all: true,
        }
    }

    /// Whether a container with these labels passes the label part of the filter.
    pub fn matches_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|have| have == v))
    }
}

/// A container as listed: cheap to get for every container, every second (the relist).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSummary {
    /// Runtime ID.
    pub id: String,
    /// Runtime name (without Docker's leading `/`).
    pub name: String,
    /// Image reference it was created from.
    pub image: String,
    /// Labels it was created with.
    pub labels: BTreeMap<String, String>,
    /// Current state.
    pub state: ContainerRunState,
}

/// A container as inspected: everything the kubelet reports in a pod's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Runtime ID.
    pub id: String,
    /// Runtime name (without Docker's leading `/`).
    pub name: String,
    /// Image reference it was created from.
    pub image: String,
    /// ID of the image (e.g. `sha256:…`).
    pub image_id: String,
    /// Labels it was created with.
    pub labels: BTreeMap<String, String>,
    /// Current state.
    pub state: ContainerRunState,
    /// Exit code, once exited.
    pub exit_code: Option<i64>,
    /// Killed for running out of memory.
    pub oom_killed: bool,
    /// The runtime's error message when it failed to start the container.
    pub error: String,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// When it last started.
    pub started_at: Option<Timestamp>,
    /// When it last finished.
    pub finished_at: Option<Timestamp>,
    /// Address on the runtime's network, while running with its own namespace.
    pub ip_address: Option<IpAddr>,
}

/// A locally present image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Image ID (e.g. `sha256:…`).
    pub id: String,
}

/// Identity of the runtime, for node status and health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeVersion {
    /// Runtime name, e.g. `docker` or `fake`.
    pub name: String,
    /// Runtime version, e.g. `20.10.24`.
    pub version: String,
    /// API version in use, e.g. `1.41`.
    pub api_version: String,
}

/// What part of a container's log to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Only the last N lines; all when `None`.
    pub tail: Option<u64>,
    /// Keep streaming new output until the container exits or the stream is dropped.
    pub follow: bool,
}

/// Output of a command run inside a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecResult {
    /// Exit code of the command.
    pub exit_code: i64,
    /// Combined standard output and error.
    pub output: Vec<u8>,
}

/// A stream of log chunks (stdout and stderr interleaved as written).
pub type LogStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<Vec<u8>, RuntimeError>> + Send + 'static>>;

/// Errors of container runtime calls.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The container or image does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The call conflicts with the container's state or name (a running container cannot be
    /// removed, a name is taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The runtime cannot be reached.
    #[error("runtime unavailable: {0}")]
    Unavailable(String),
    /// An image could not be pulled; the message is the daemon's.
    #[error("image pull failed: {0}")]
    ImagePull(String),
    /// The call did not finish in time (exec with a timeout).
    #[error("timed out: {0}")]
    Timeout(String),
    /// Any other failure, with the runtime's message.
    #[error("runtime failure: {0}")]
    Failed(String),
}

/// A container engine, seen from the kubelet.
#[async_trait]
pub trait ContainerRuntime: Send + Sync + 'static {
    /// Name and version of the runtime; an error means it is not healthy.
    async fn version(&self) -> Result<RuntimeVersion, RuntimeError>;
    /// Lists the containers that pass the filter.
    async fn list_containers(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<ContainerSummary>, RuntimeError>;
    /// The image, when present locally.
    async fn image_status(&self, image: &str) -> Result<Option<ImageInfo>, RuntimeError>;
    /// Pulls an image; a failure is `ImagePull` with the daemon's message.
    async fn pull_image(&self, image: &str) -> Result<ImageInfo, RuntimeError>;
    /// Creates a container and returns its ID; a missing image is `NotFound`, a taken name
    /// `Conflict`.
    async fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError>;
    /// Starts a created or exited container; starting a running one is a no-op.
    async fn start_container(&self, id: &str) -> Result<(), RuntimeError>;
    /// Stops a container: SIGTERM, then SIGKILL after `grace`. Stopping a stopped one is a no-op.
    async fn stop_container(&self, id: &str, grace: Duration) -> Result<(), RuntimeError>;
    /// Removes a container that is not running (`Conflict` if it is).
    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError>;
    /// Inspects one container.
    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo, RuntimeError>;
    /// The container's log output.
    async fn logs(&self, id: &str, options: LogOptions) -> Result<LogStream, RuntimeError>;
    /// Runs an argv inside a running container, giving up after `timeout` (`Timeout`).
    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecResult, RuntimeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_from_api() {
        let cases = [
            ("", Some(Protocol::Tcp)),
            ("TCP", Some(Protocol::Tcp)),
            ("UDP", Some(Protocol::Udp)),
            ("tcp", None),
            ("SCTP", None),
        ];
        for (input, want) in cases {
            assert_eq!(Protocol::from_api(input), want, "{input:?}");
        }
    }

    #[test]
    fn list_filter_matches_every_label() {
        let labels: BTreeMap<String, String> = [("a", "1"), ("b", "2")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let f = |pairs: &[(&str, &str)]| ListFilter {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            all: true,
        };
        let cases: [(&[(&str, &str)], bool); 5] = [
            (&[], true),
            (&[("a", "1")], true),
            (&[("a", "1"), ("b", "2")], true),
            (&[("a", "2")], false),
            (&[("a", "1"), ("c", "3")], false),
        ];
        for (pairs, want) in cases {
            assert_eq!(f(pairs).matches_labels(&labels), want, "{pairs:?}");
        }
    }
}
