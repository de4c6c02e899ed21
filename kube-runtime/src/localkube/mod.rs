//! `localkube`: the API server, scheduler, controller manager and a kubelet (and, once wired,
//! the service proxy) in one process, sharing one in-process client and one set of caches.
//!
//! The store is the embedded one (a directory) or etcd; the kubelet runs pods in Docker, or on
//! [`FakeRuntime::simulated`] for a simulated cluster of N nodes, which share one pod cache
//! ([`SharedPods`]) as `LocalCluster`'s hollow nodes do. Unlike `LocalCluster` (a test
//! harness), this is a real cluster: real clock, HTTP on the configured address, the host's
//! node name.

mod flags;

pub use flags::{LocalkubeFlags, RuntimeKind};

use crate::apiserver::{ApiServer, ApiServerConfig, RunningServer};
use crate::client::InProcessClient;
use crate::clock::Clock;
use crate::controller::Shutdown;
use crate::controllers::manager::{self, ControllerManagerConfig};
use crate::informer::SharedInformers;
use crate::kubelet::{self, KubeletConfig, SharedPods};
use crate::proxy::{self, ProxyConfig};
use crate::runtime::{DockerRuntime, FakeRuntime};
use crate::scheduler::{self, SchedulerConfig};
use crate::store::EmbeddedStore;
use kube_core::ip_allocator::Ipv4Cidr;
use kube_core::runtime::ContainerRuntime;
use kube_core::Store;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long the Docker daemon has to answer at start-up.
const DOCKER_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the components have to stop on shutdown before they are aborted.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where objects are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded durable store in this directory (created if missing).
    Embedded(PathBuf),
    /// etcd (needs the `etcd` cargo feature).
    Etcd {
        /// Client URLs.
        servers: Vec<String>,
        /// Key prefix.
        prefix: String,
    },
}

/// What runs the pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// Docker Engine at this endpoint (`unix:///var/run/docker.sock`): one kubelet, the
    /// node named [`KubeletConfig::node_name`].
    Docker {
        /// The daemon's API socket.
        endpoint: String,
    },
    /// A simulated cluster: `nodes` kubelets on in-memory runtimes (nothing really runs).
    Fake {
        /// How many nodes (1: the node name as is; more: `{name}-1` … `{name}-N`).
        nodes: usize,
    },
}

/// Settings of a [`Localkube`].
pub struct LocalkubeConfig {
    /// The API server's address and port (127.0.0.1:8080 by default; port 0 picks one).
    pub address: IpAddr,
    /// The API server's port.
    pub port: u16,
    /// Static nodes registered at start-up (the seed's `-machines`).
    pub machines: Vec<String>,
    /// Where objects are stored.
    pub store: StoreChoice,
    /// What runs the pods.
    pub runtime: RuntimeChoice,
    /// The kubelet's settings (node name, address, port, infra image, …); simulated nodes
    /// copy them with their own name and no server.
    pub kubelet: KubeletConfig,
    /// The scheduler's settings.
    pub scheduler: SchedulerConfig,
    /// The controller manager's settings (leader election off by default: one process).
    pub controller_manager: ControllerManagerConfig,
    /// The service proxy's settings; `None` runs no proxy.
    pub proxy: Option<ProxyConfig>,
    /// The range service cluster IPs are allocated from (the seed's `--portal-net`).
    pub portal_net: Ipv4Cidr,
}

impl LocalkubeConfig {
    /// Defaults: API on 127.0.0.1:8080, the embedded store in `localkube-data`, Docker at its
    /// usual socket, one node named `node_name`, every controller, no leader election.
    pub fn new(node_name: impl Into<String>) -> LocalkubeConfig {
        LocalkubeConfig {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            machines: Vec::new(),
            store: StoreChoice::Embedded(PathBuf::from("localkube-data")),
            runtime: RuntimeChoice::Docker {
                endpoint: "unix:///var/run/docker.sock".to_string(),
            },
            kubelet: KubeletConfig::new(node_name),
            scheduler: SchedulerConfig::default(),
            controller_manager: ControllerManagerConfig::default(),
            proxy: Some(ProxyConfig::default()),
            portal_net: ApiServerConfig::default().portal_net,
        }
    }
}

/// Why localkube could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalkubeError {
    /// Docker did not answer at start-up.
    #[error(
        "Docker is not reachable at {endpoint} ({reason}): start dockerd (e.g. `sudo dockerd &`) \
         or run with --runtime fake"
    )]
    DockerUnreachable {
        /// The endpoint tried.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// The store could not be opened.
    #[error("cannot open the store {what}: {reason}")]
    Store {
        /// The directory or etcd servers.
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// The API server could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The static nodes could not be registered.
    #[error("cannot register --machines: {0}")]
    Machines(String),
    /// `--runtime fake` with no nodes.
    #[error("--fake-nodes must be at least 1")]
    NoNodes,
}

/// A running localkube; [`Localkube::shutdown`] stops it.
pub struct Localkube {
    server: Option<RunningServer>,
    informers: SharedInformers<InProcessClient>,
    shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
    nodes: Vec<String>,
}

impl Localkube {
    /// Starts every component; returns once the API server listens (components sync in the
    /// background).
    pub async fn start(config: LocalkubeConfig) -> Result<Localkube, LocalkubeError> {
        // The runtime first: without Docker there is nothing to run pods on, so say so before
        // anything else is opened or bound.
        let runtimes = runtimes(&config).await?;
        let store = open_store(&config.store).await?;
        let clock = Clock::real();
        let server = ApiServer::new(
            store,
            ApiServerConfig {
                address: config.address,
                port: config.port,
                clock: clock.clone(),
                portal_net: config.portal_net,
                ..ApiServerConfig::default()
            },
        );
        server
            .register_static_nodes(&config.machines)
            .await
            .map_err(|e| LocalkubeError::Machines(e.to_string()))?;
        let client = InProcessClient::new(server.registry().clone());
        let running = server
            .start()
            .await
            .map_err(|source| LocalkubeError::Bind {
                addr: SocketAddr::new(config.address, config.port),
                source,
            })?;
        let informers = SharedInformers::new(client.clone(), clock.clone());
        let shutdown = Shutdown::new();
        let pods = SharedPods::new(&informers, shutdown.clone());
        let mut tasks = Vec::new();

        let scheduler_config = SchedulerConfig {
            clock: clock.clone(),
            ..config.scheduler
        };
        {
            let (informers, client, stop) = (informers.clone(), client.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                scheduler::run_with(&informers, client, scheduler_config, async move {
                    stop.triggered().await
                })
                .await;
            }));
        }
        {
            let cm = ControllerManagerConfig {
                clock: clock.clone(),
                ..config.controller_manager
            };
            let (informers, client, stop) = (informers.clone(), client.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = manager::run_with(&informers, client, cm, stop).await {
                    tracing::error!(error = %e, "controller manager stopped");
                }
            }));
        }
        let mut nodes = Vec::new();
        for (kubelet_config, runtime) in runtimes {
            let source = pods.source(&kubelet_config.node_name);
            let (informers, client, stop) = (informers.clone(), client.clone(), shutdown.clone());
            let name = kubelet_config.node_name.clone();
            nodes.push(name.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) =
                    kubelet::run_with(&informers, source, client, runtime, kubelet_config, stop)
                        .await
                {
                    tracing::error!(node = %name, error = %e, "kubelet stopped");
                }
            }));
        }
        if let Some(proxy_config) = config.proxy {
            let proxy_config = ProxyConfig {
                clock: clock.clone(),
                ..proxy_config
            };
            let (informers, client, stop) = (informers.clone(), client.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                if let Err(e) = proxy::run_with(&informers, client, proxy_config, stop).await {
                    tracing::error!(error = %e, "proxy stopped");
                }
            }));
        }
        informers.start();
        Ok(Localkube {
            server: Some(running),
            informers,
            shutdown,
            tasks,
            nodes,
        })
    }

    /// The API server's base URL (`http://127.0.0.1:8080`).
    pub fn url(&self) -> String {
        self.server
            .as_ref()
            .map(RunningServer::url)
            .unwrap_or_default()
    }

    /// The names of the nodes whose kubelets run here.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// Stops every component (kubelets leave their containers running, as a stopped kubelet
    /// does), then the API server; components that take longer than a grace period are
    /// aborted.
    pub async fn shutdown(mut self) {
        self.shutdown.trigger();
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        for task in self.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                abort.abort();
            }
        }
        self.informers.shutdown();
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

impl Drop for Localkube {
    fn drop(&mut self) {
        self.shutdown.trigger();
        for task in &self.tasks {
            task.abort();
        }
        self.informers.shutdown();
    }
}

/// The kubelets to run, each with its runtime: one on Docker, or N simulated nodes.
async fn runtimes(
    config: &LocalkubeConfig,
) -> Result<Vec<(KubeletConfig, Arc<dyn ContainerRuntime>)>, LocalkubeError> {
    match &config.runtime {
        RuntimeChoice::Docker { endpoint } => {
            let unreachable = |reason: String| LocalkubeError::DockerUnreachable {
                endpoint: endpoint.clone(),
                reason,
            };
            let docker =
                tokio::time::timeout(DOCKER_CONNECT_TIMEOUT, DockerRuntime::connect(endpoint))
                    .await
                    .map_err(|_| {
                        unreachable(format!("no answer within {DOCKER_CONNECT_TIMEOUT:?}"))
                    })?
                    .map_err(|e| unreachable(docker_failure(endpoint, &e)))?;
            Ok(vec![(config.kubelet.clone(), Arc::new(docker))])
        }
        RuntimeChoice::Fake { nodes: 0 } => Err(LocalkubeError::NoNodes),
        RuntimeChoice::Fake { nodes } => {
            Ok(simulated_node_names(&config.kubelet.node_name, *nodes)
                .into_iter()
                .map(|name| {
                    let kubelet = simulated_kubelet(&config.kubelet, name);
                    let runtime: Arc<dyn ContainerRuntime> =
                        Arc::new(FakeRuntime::simulated(kubelet.clock.clone()));
                    (kubelet, runtime)
                })
                .collect())
        }
    }
}

/// The cause of a failed Docker connection, without the runtime's own "not reachable" wording
/// around it (the error says that once).
fn docker_failure(endpoint: &str, e: &kube_core::runtime::RuntimeError) -> String {
    let text = match e {
        kube_core::runtime::RuntimeError::Unavailable(m) => m.clone(),
        other => other.to_string(),
    };
    let prefix = format!("Docker is not reachable at {endpoint} (");
    text.strip_prefix(&prefix)
        .and_then(|t| t.strip_suffix("); is dockerd running?"))
        .map(str::to_string)
        .unwrap_or(text)
}

/// The names of `n` simulated nodes: `name` alone, or `name-1` … `name-n`.
pub fn simulated_node_names(name: &str, n: usize) -> Vec<String> {
    match n {
        1 => vec![name.to_string()],
        _ => (1..=n).map(|i| format!("{name}-{i}")).collect(),
    }
}

/// A simulated node's kubelet: the template's settings under its own name, without a server
/// (N nodes cannot share a port), with 4 CPUs and 16 GiB unless the template says otherwise.
fn simulated_kubelet(template: &KubeletConfig, name: String) -> KubeletConfig {
    let mut c = template.clone();
    c.node_name = name;
    c.serve = false;
    c.port = 0;
    c.cpu_millis = c.cpu_millis.or(Some(4000));
    c.memory_bytes = c.memory_bytes.or(Some(16 << 30));
    c.workers = c.workers.min(2);
    c
}

/// Opens the configured store.
async fn open_store(choice: &StoreChoice) -> Result<Arc<dyn Store>, LocalkubeError> {
    match choice {
        StoreChoice::Embedded(dir) => EmbeddedStore::open(dir)
            .await
            .map(|s| Arc::new(s) as Arc<dyn Store>)
            .map_err(|e| LocalkubeError::Store {
                what: dir.display().to_string(),
                reason: e.to_string(),
            }),
        StoreChoice::Etcd { servers, prefix } => open_etcd(servers, prefix).await,
    }
}

/// Connects to etcd (lazily: the server starts, and answers 503, while etcd is down).
#[cfg(feature = "etcd")]
async fn open_etcd(servers: &[String], prefix: &str) -> Result<Arc<dyn Store>, LocalkubeError> {
    crate::store::EtcdStore::connect(servers, prefix)
        .await
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(|e| LocalkubeError::Store {
            what: format!("etcd {}", servers.join(",")),
            reason: e.to_string(),
        })
}

/// Without the `etcd` feature there is no etcd store: say how to get one.
#[cfg(not(feature = "etcd"))]
async fn open_etcd(servers: &[String], _prefix: &str) -> Result<Arc<dyn Store>, LocalkubeError> {
    Err(LocalkubeError::Store {
        what: format!("etcd {}", servers.join(",")),
        reason: "this localkube was built without etcd support; rebuild it with \
                 `cargo build --features kube-runtime/etcd` (needs protoc)"
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_failures_are_said_once() {
        use kube_core::runtime::RuntimeError;
        let ep = "unix:///x.sock";
        let cases = [
            (
                RuntimeError::Unavailable(format!(
                    "Docker is not reachable at {ep} (Socket not found: /x.sock); is dockerd running?"
                )),
                "Socket not found: /x.sock",
            ),
            (
                RuntimeError::Unavailable("Docker did not answer in time".into()),
                "Docker did not answer in time",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(docker_failure(ep, &e), want);
        }
        let e = LocalkubeError::DockerUnreachable {
            endpoint: ep.into(),
            reason: "Socket not found: /x.sock".into(),
        };
        assert_eq!(
            e.to_string(),
            "Docker is not reachable at unix:///x.sock (Socket not found: /x.sock): start dockerd \
             (e.g. `sudo dockerd &`) or run with --runtime fake"
        );
    }

    #[test]
    fn simulated_nodes_are_named_after_the_host() {
        let cases: &[(usize, &[&str])] =
            &[(1, &["box"]), (3, &["box-1", "box-2", "box-3"]), (0, &[])];
        for (n, want) in cases {
            assert_eq!(simulated_node_names("box", *n), *want, "{n}");
        }
    }

    #[test]
    fn simulated_kubelets_have_no_server_and_a_capacity() {
        let mut template = KubeletConfig::new("box");
        template.pod_infra_image = "pause:x".into();
        let c = simulated_kubelet(&template, "box-2".into());
        assert_eq!(
            (
                c.node_name.as_str(),
                c.serve,
                c.port,
                c.pod_infra_image.as_str()
            ),
            ("box-2", false, 0, "pause:x")
        );
        assert_eq!((c.cpu_millis, c.memory_bytes), (Some(4000), Some(16 << 30)));
        template.cpu_millis = Some(500);
        assert_eq!(
            simulated_kubelet(&template, "n".into()).cpu_millis,
            Some(500)
        );
    }
}
