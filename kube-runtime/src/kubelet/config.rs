//! Settings of one kubelet.

use crate::clock::Clock;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The kubelet's default port.
pub const DEFAULT_PORT: u16 = 10250;
/// The default infra ("pause") image: the one the test setup builds locally.
pub const DEFAULT_INFRA_IMAGE: &str = "kube-test/pause:latest";

/// Settings of one kubelet; `run` takes it, the binary fills it from flags.
#[derive(Clone, Debug)]
pub struct KubeletConfig {
    /// Name of this kubelet's node.
    pub node_name: String,
    /// Address the kubelet serves on, reports as the node's address, and binds host ports to
    /// when a port names no `hostIP`. Loopback by default.
    pub address: IpAddr,
    /// Port of the kubelet's server (logs, health); 0 picks a free one.
    pub port: u16,
    /// Whether to run the kubelet's server (simulated nodes by the thousand do without).
    pub serve: bool,
    /// Image of each pod's infra container.
    pub pod_infra_image: String,
    /// How often the node's status is written (the heartbeat).
    pub node_status_update_frequency: Duration,
    /// How often the runtime is relisted to notice containers that changed.
    pub relist_period: Duration,
    /// How often every pod is synced even when nothing changed.
    pub sync_period: Duration,
    /// Pods synced at once.
    pub workers: usize,
    /// Directory for pods' `emptyDir` volumes.
    pub volume_root: String,
    /// Labels put on every container this kubelet creates (a test run's identity, say).
    pub extra_container_labels: BTreeMap<String, String>,
    /// CPU capacity in millicores; the machine's when `None`.
    pub cpu_millis: Option<i64>,
    /// Memory capacity in bytes; the machine's when `None`.
    pub memory_bytes: Option<i64>,
    /// Most pods the node accepts.
    pub max_pods: i64,
    /// The source of time.
    pub clock: Clock,
}

impl KubeletConfig {
    /// Defaults for a node named `node_name`.
    pub fn new(node_name: impl Into<String>) -> KubeletConfig {
        KubeletConfig {
            node_name: node_name.into(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            serve: true,
            pod_infra_image: DEFAULT_INFRA_IMAGE.to_string(),
            node_status_update_frequency: Duration::from_secs(10),
            relist_period: Duration::from_secs(1),
            sync_period: Duration::from_secs(10),
            workers: 8,
            volume_root: "/var/lib/kubelet/pods".to_string(),
            extra_container_labels: BTreeMap::new(),
            cpu_millis: None,
            memory_bytes: None,
            max_pods: 110,
            clock: Clock::real(),
        }
    }
}
