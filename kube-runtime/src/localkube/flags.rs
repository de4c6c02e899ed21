//! The `localkube` binary's flags: those of the components it runs that matter in one process.

use super::{LocalkubeConfig, RuntimeChoice, StoreChoice};
use crate::cli::{parse_duration, parse_go_bool, parse_label, LogFlags};
use crate::controllers::garbage_collector::GarbageCollectorConfig;
use crate::controllers::manager::ControllerManagerConfig;
use crate::kubelet::config::{DEFAULT_INFRA_IMAGE, DEFAULT_PORT};
use crate::proxy::ProxyConfig;
use clap::{ArgAction, ValueEnum};
use kube_core::ip_allocator::Ipv4Cidr;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which container runtime runs the pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuntimeKind {
    /// Docker Engine through its API socket.
    Docker,
    /// In-memory simulated nodes (nothing really runs).
    Fake,
}

/// Command-line flags of `localkube` (the seed's single-dash and underscore spellings work).
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "localkube",
    version,
    about = "A whole cluster in one process: API server, scheduler, controller manager and a kubelet"
)]
pub struct LocalkubeFlags {
    /// The API server's address.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: IpAddr,
    /// The API server's port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory of the embedded store.
    #[arg(
        long = "data-dir",
        alias = "data_dir",
        default_value = "localkube-data"
    )]
    pub data_dir: PathBuf,
    /// Comma-separated etcd client URLs; when given, objects are stored in etcd instead.
    #[arg(
        long = "etcd-servers",
        alias = "etcd_servers",
        value_delimiter = ',',
        value_name = "URLS"
    )]
    pub etcd_servers: Vec<String>,
    /// The etcd key prefix.
    #[arg(
        long = "etcd-prefix",
        alias = "etcd_prefix",
        default_value = "/registry"
    )]
    pub etcd_prefix: String,
    /// Comma-separated names of static nodes to register at start-up.
    #[arg(long, value_delimiter = ',')]
    pub machines: Vec<String>,
    /// Container runtime.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Docker)]
    pub runtime: RuntimeKind,
    /// With `--runtime fake`: how many simulated nodes.
    #[arg(long = "fake-nodes", alias = "fake_nodes", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub fake_nodes: u16,
    /// Docker's API endpoint.
    #[arg(
        long = "docker-endpoint",
        alias = "docker_endpoint",
        default_value = "unix:///var/run/docker.sock"
    )]
    pub docker_endpoint: String,
    /// Node name (default: the host name).
    #[arg(long = "hostname-override", alias = "hostname_override")]
    pub hostname_override: Option<String>,
    /// The kubelet's address: it serves there, reports it as the node's address and binds
    /// host ports to it by default.
    #[arg(
        long = "kubelet-address",
        alias = "kubelet_address",
        default_value = "127.0.0.1"
    )]
    pub kubelet_address: IpAddr,
    /// The kubelet's port (logs, health).
    #[arg(long = "kubelet-port", alias = "kubelet_port", default_value_t = DEFAULT_PORT)]
    pub kubelet_port: u16,
    /// Image of each pod's infra container.
    #[arg(long = "pod-infra-container-image", alias = "pod_infra_container_image", default_value = DEFAULT_INFRA_IMAGE)]
    pub pod_infra_container_image: String,
    /// Directory for pods' emptyDir volumes.
    #[arg(
        long = "root-dir",
        alias = "root_dir",
        default_value = "/var/lib/kubelet"
    )]
    pub root_dir: String,
    /// Labels (`KEY=VALUE`) put on every container the kubelet starts, besides its own.
    #[arg(long = "container-label", alias = "container_label", value_parser = parse_label)]
    pub container_labels: Vec<(String, String)>,
    /// The IPv4 range services get their cluster IPs from (the seed's `-portal_net`).
    #[arg(
        long = "portal-net",
        aliases = ["portal_net", "service-cluster-ip-range", "service_cluster_ip_range"],
        value_name = "CIDR",
        default_value = "10.0.0.0/24"
    )]
    pub portal_net: Ipv4Cidr,
    /// Run the service proxy.
    #[arg(long = "proxy", default_value = "true", value_parser = parse_go_bool, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub proxy: bool,
    /// Interface the proxy adds non-loopback cluster IPs to (default: docker0 when it exists,
    /// else lo).
    #[arg(long = "bind-interface", alias = "bind_interface")]
    pub bind_interface: Option<String>,
    /// How long a node may go without a heartbeat before it is marked Unknown.
    #[arg(long = "node-monitor-grace-period", alias = "node_monitor_grace_period", default_value = "40s", value_parser = parse_duration)]
    pub node_monitor_grace_period: Duration,
    /// How long a new node has to post its first status.
    #[arg(long = "node-startup-grace-period", alias = "node_startup_grace_period", default_value = "60s", value_parser = parse_duration)]
    pub node_startup_grace_period: Duration,
    /// How long a node may be not ready before its pods are evicted.
    #[arg(long = "pod-eviction-timeout", alias = "pod_eviction_timeout", default_value = "5m", value_parser = parse_duration)]
    pub pod_eviction_timeout: Duration,
    /// Nodes whose pods are evicted per second (0 turns eviction off).
    #[arg(
        long = "node-eviction-rate",
        alias = "node_eviction_rate",
        default_value_t = 0.1
    )]
    pub node_eviction_rate: f64,
    /// How often every node's health is looked at.
    #[arg(long = "node-monitor-period", alias = "node_monitor_period", default_value = "5s", value_parser = parse_duration)]
    pub node_monitor_period: Duration,
    /// Run the garbage collector.
    #[arg(long = "enable-garbage-collector", alias = "enable_garbage_collector", default_value = "true", value_parser = parse_go_bool, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_garbage_collector: bool,
    /// Elect the controller manager over a lease (off: one process is the only candidate).
    #[arg(long = "leader-elect", alias = "leader_elect", default_value = "false", value_parser = parse_go_bool, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub leader_elect: bool,
    /// The logging flags (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`).
    #[command(flatten)]
    pub log: LogFlags,
}

impl LocalkubeFlags {
    /// The configuration these flags ask for, the node named `hostname` unless
    /// `--hostname-override` names it.
    pub fn config(&self, hostname: &str) -> LocalkubeConfig {
        let node = self
            .hostname_override
            .clone()
            .unwrap_or_else(|| hostname.to_string());
        let mut c = LocalkubeConfig::new(node);
        c.address = self.address;
        c.port = self.port;
        c.machines = self.machines.clone();
        let servers: Vec<String> = self
            .etcd_servers
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        c.store = if servers.is_empty() {
            StoreChoice::Embedded(self.data_dir.clone())
        } else {
            StoreChoice::Etcd {
                servers,
                prefix: self.etcd_prefix.clone(),
            }
        };
        c.runtime = match self.runtime {
            RuntimeKind::Docker => RuntimeChoice::Docker {
                endpoint: self.docker_endpoint.clone(),
            },
            RuntimeKind::Fake => RuntimeChoice::Fake {
                nodes: usize::from(self.fake_nodes),
            },
        };
        c.kubelet.address = self.kubelet_address;
        c.kubelet.port = self.kubelet_port;
        c.kubelet.pod_infra_image = self.pod_infra_container_image.clone();
        c.kubelet.volume_root = format!("{}/pods", self.root_dir.trim_end_matches('/'));
        c.kubelet
            .extra_container_labels
            .extend(self.container_labels.iter().cloned());
        c.portal_net = self.portal_net;
        c.proxy = self.proxy.then(|| ProxyConfig {
            bind_interface: self.bind_interface.clone(),
            ..ProxyConfig::default()
        });
        let mut cm = ControllerManagerConfig::default();
        if let Some(n) = &mut cm.node_lifecycle {
            n.node_monitor_grace_period = self.node_monitor_grace_period;
            n.node_startup_grace_period = self.node_startup_grace_period;
            n.pod_eviction_timeout = self.pod_eviction_timeout;
            n.node_eviction_rate = self.node_eviction_rate;
            n.node_monitor_period = self.node_monitor_period;
        }
        cm.garbage_collector = self
            .enable_garbage_collector
            .then(GarbageCollectorConfig::default);
        if self.leader_elect {
            cm = cm.elected_as(format!("{}_{}", c.kubelet.node_name, std::process::id()));
        }
        c.controller_manager = cm;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::normalize_args;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<LocalkubeFlags, String> {
        let argv = normalize_args(
            std::iter::once("localkube")
                .chain(args.iter().copied())
                .map(str::to_string),
        );
        LocalkubeFlags::try_parse_from(argv).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_one_docker_node_named_after_the_host() {
        let c = parse(&[]).expect("parse").config("box");
        assert_eq!(c.kubelet.node_name, "box");
        assert_eq!((c.address.to_string(), c.port), ("127.0.0.1".into(), 8080));
        assert_eq!(c.store, StoreChoice::Embedded("localkube-data".into()));
        assert_eq!(
            c.runtime,
            RuntimeChoice::Docker {
                endpoint: "unix:///var/run/docker.sock".into()
            }
        );
        assert!(c.controller_manager.leader_election.is_none());
        assert!(c.controller_manager.garbage_collector.is_some());
        assert!(c.proxy.is_some());
    }

    #[test]
    fn flags_reach_the_components() {
        let c = parse(&[
            "-runtime=fake",
            "-fake_nodes=3",
            "-hostname_override=127.0.0.1",
            "-port=0",
            "-data_dir=/tmp/d",
            "-pod-eviction-timeout=30s",
            "-node_monitor_grace_period=8s",
            "-leader-elect",
            "-enable-garbage-collector=false",
            "-pod_infra_container_image=pause:1",
            "-root_dir=/tmp/kl/",
            "-v=3",
        ])
        .expect("parse")
        .config("box");
        assert_eq!(c.runtime, RuntimeChoice::Fake { nodes: 3 });
        assert_eq!(c.kubelet.node_name, "127.0.0.1");
        assert_eq!(c.kubelet.pod_infra_image, "pause:1");
        assert_eq!(c.kubelet.volume_root, "/tmp/kl/pods");
        assert_eq!(c.port, 0);
        assert_eq!(c.store, StoreChoice::Embedded("/tmp/d".into()));
        let n = c.controller_manager.node_lifecycle.expect("node lifecycle");
        assert_eq!(n.pod_eviction_timeout, Duration::from_secs(30));
        assert_eq!(n.node_monitor_grace_period, Duration::from_secs(8));
        assert!(c.controller_manager.leader_election.is_some());
        assert!(c.controller_manager.garbage_collector.is_none());
    }

    #[test]
    fn etcd_servers_choose_etcd() {
        let c = parse(&["-etcd_servers=http://127.0.0.1:4001"])
            .expect("parse")
            .config("box");
        assert_eq!(
            c.store,
            StoreChoice::Etcd {
                servers: vec!["http://127.0.0.1:4001".into()],
                prefix: "/registry".into()
            }
        );
    }

    #[test]
    fn bad_flags_are_refused() {
        for (args, message) in [
            (&["--fake-nodes=0"][..], "--fake-nodes"),
            (&["--runtime=podman"][..], "invalid value 'podman'"),
            (&["--no-such-flag"][..], "unexpected argument"),
            (&["--leader-elect=maybe"][..], "invalid boolean"),
        ] {
            let e = parse(args).expect_err("refused");
            assert!(e.contains(message), "{args:?}: {e}");
        }
    }
}
