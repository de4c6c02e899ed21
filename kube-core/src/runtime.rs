//! The `ContainerRuntime` trait: what the kubelet needs from a container engine.
//!
//! Implemented by the Docker adapter (bollard) and by a recording fake in kube-runtime.
//! Commands are always argv arrays, never shell strings.

use async_trait::async_trait;
use std::collections::BTreeMap;

/// How a container port is published on the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortBinding {
    /// Port inside the container.
    pub container_port: u16,
    /// Port on the host.
    pub host_port: u16,
    /// Host address to bind; loopback (`127.0.0.1`) unless told otherwise.
    pub host_ip: String,
    /// `tcp` or `udp`.
    pub protocol: String,
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
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub working_dir: String,
    /// Labels attached to the container (pod name, namespace, uid, container name).
    pub labels: BTreeMap<String, String>,
    /// Published ports.
    pub ports: Vec<PortBinding>,
    /// Network mode, e.g. `container:<id>` to join a pod's infra container.
    pub network_mode: String,
    /// Host directory bind mounts as `host:container[:ro]`.
    pub binds: Vec<String>,
    /// Memory limit in bytes; 0 for none.
    pub memory_limit_bytes: i64,
    /// Relative CPU weight; 0 for the default.
    pub cpu_shares: i64,
}

/// State of a container as reported by the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerRunState {
    /// Created, not started.
    Created,
    /// Running.
    Running,
    /// Exited.
    Exited,
    /// Anything else the runtime reports.
    Unknown,
}

/// A container as listed or inspected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Runtime ID.
    pub id: String,
    /// Runtime name.
    pub name: String,
    /// Image reference it was created from.
    pub image: String,
    /// Labels it was created with.
    pub labels: BTreeMap<String, String>,
    /// Current state.
    pub state: ContainerRunState,
    /// Exit code once exited.
    pub exit_code: Option<i64>,
    /// RFC 3339 start time, when started.
    pub started_at: String,
    /// RFC 3339 finish time, when exited.
    pub finished_at: String,
    /// IP address on the runtime's network, when running.
    pub ip_address: String,
}

/// Output of a command run inside a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecResult {
    /// Exit code of the command.
    pub exit_code: i64,
    /// Combined output.
    pub output: Vec<u8>,
}

/// Errors of container runtime calls.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The container or image does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A container with that name exists already.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The runtime cannot be reached.
    #[error("runtime unavailable: {0}")]
    Unavailable(String),
    /// Any other failure, with the runtime's message.
    #[error("runtime failure: {0}")]
    Failed(String),
}

/// A container engine, seen from the kubelet.
#[async_trait]
pub trait ContainerRuntime: Send + Sync + 'static {
    /// Lists containers; with `all`, exited ones too.
    async fn list_containers(&self, all: bool) -> Result<Vec<ContainerInfo>, RuntimeError>;
    /// Whether the image is present locally.
    async fn image_present(&self, image: &str) -> Result<bool, RuntimeError>;
    /// Pulls an image.
    async fn pull_image(&self, image: &str) -> Result<(), RuntimeError>;
    /// Creates a container and returns its ID.
    async fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError>;
    /// Starts a created container.
    async fn start_container(&self, id: &str) -> Result<(), RuntimeError>;
    /// Stops a container, killing it after `timeout_secs`.
    async fn stop_container(&self, id: &str, timeout_secs: u32) -> Result<(), RuntimeError>;
    /// Removes a stopped container.
    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError>;
    /// Inspects one container.
    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo, RuntimeError>;
    /// Runs an argv inside a running container.
    async fn exec(&self, id: &str, argv: &[String]) -> Result<ExecResult, RuntimeError>;
}
