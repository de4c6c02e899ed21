//! [`LocalCluster`]: a whole cluster in one process, for programs that embed the library and
//! for their tests: a store, the API server (in-process, and on HTTP on request), the
//! scheduler, the controller manager and N simulated ("hollow") nodes, each a real kubelet on
//! a [`FakeRuntime`], all on one [`Clock`].
//!
//! On a paused tokio runtime with `Clock::virtual_at`, time is virtual: a test stops a node's
//! kubelet, sleeps six minutes (which tokio skips through at once) and finds the node's pods
//! recreated elsewhere. Hollow nodes share one pod cache ([`SharedPods`]) and one service
//! cache, so a node costs its kubelet's state and a few tasks, not a watch.

mod hollow;

pub use hollow::HollowNode;

use crate::apiserver::{ApiServer, ApiServerConfig, RunningServer};
use crate::client::{ClientError, HttpClient, InProcessClient};
use crate::clock::Clock;
use crate::controller::Shutdown;
use crate::controllers::manager::{self, ControllerManagerConfig};
use crate::informer::SharedInformers;
use crate::kubelet::{KubeletConfig, SharedPods};
use crate::registry::Registry;
use crate::runtime::fake::ImageBehaviour;
use crate::runtime::FakeRuntime;
use crate::scheduler::{self, SchedulerConfig};
use crate::store::{MemoryStore, SharedStore};
use kube_core::error::ApiError;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Why a local cluster could not start or change.
#[derive(Debug, thiserror::Error)]
pub enum LocalClusterError {
    /// The API server could not bind its address.
    #[error("cannot bind the API server: {0}")]
    Bind(#[from] std::io::Error),
    /// The HTTP client could not be made for the bound address.
    #[error("cannot make the HTTP client: {0}")]
    Client(#[from] ClientError),
    /// A node of that name exists already.
    #[error("node {0} exists already")]
    NodeExists(String),
    /// No node of that name.
    #[error("no node {0}")]
    NoNode(String),
    /// The system namespaces could not be created.
    #[error("cannot create the system namespaces: {0}")]
    Namespaces(#[from] ApiError),
}

/// How a hollow node's kubelet is configured, from its name and the cluster's clock.
type KubeletConfigFn = Box<dyn Fn(&str, &Clock) -> KubeletConfig + Send + Sync>;

/// Options of a [`LocalCluster`]; [`LocalCluster::builder`] makes one.
pub struct LocalClusterBuilder {
    store: Option<SharedStore>,
    clock: Option<Clock>,
    nodes: usize,
    http: bool,
    scheduler: bool,
    scheduler_config: Option<SchedulerConfig>,
    controller_managers: usize,
    controller_manager: Option<ControllerManagerConfig>,
    kubelet: KubeletConfigFn,
    images: Vec<(String, ImageBehaviour)>,
}

impl Default for LocalClusterBuilder {
    fn default() -> Self {
        LocalClusterBuilder {
            store: None,
            clock: None,
            nodes: 1,
            http: false,
            scheduler: true,
            scheduler_config: None,
            controller_managers: 1,
            controller_manager: None,
            kubelet: Box::new(hollow::default_kubelet_config),
            images: Vec::new(),
        }
    }
}

impl LocalClusterBuilder {
    /// Runs over `store` instead of a fresh memory store.
    pub fn store(mut self, store: SharedStore) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock of every component (`Clock::virtual_at` on a paused runtime for virtual time).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Starts `n` hollow nodes, named `node-1` … `node-n` (default 1).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }

    /// Also serves the API on HTTP on `127.0.0.1` and a free port (for kubectl, kubecfg, …).
    pub fn http(mut self, on: bool) -> Self {
        self.http = on;
        self
    }

    /// Whether to run the scheduler (default yes; without it, tests bind pods themselves).
    pub fn scheduler(mut self, on: bool) -> Self {
        self.scheduler = on;
        self
    }

    /// Scheduler settings (its clock is the cluster's).
    pub fn scheduler_config(mut self, config: SchedulerConfig) -> Self {
        self.scheduler_config = Some(config);
        self
    }

    /// How many controller managers to run (default 1; 0 runs none). With more than one,
    /// they elect a leader over the lease, as separate processes would.
    pub fn controller_managers(mut self, n: usize) -> Self {
        self.controller_managers = n;
        self
    }

    /// Controller manager settings (the clock and leader election are the cluster's).
    pub fn controller_manager_config(mut self, config: ControllerManagerConfig) -> Self {
        self.controller_manager = Some(config);
        self
    }

    /// How each hollow node's kubelet is configured, from its name and the cluster's clock.
    pub fn kubelet_config(
        mut self,
        f: impl Fn(&str, &Clock) -> KubeletConfig + Send + Sync + 'static,
    ) -> Self {
        self.kubelet = Box::new(f);
        self
    }

    /// How containers of `image` behave on every node (KWOK's stages: start delay, run time,
    /// exit code, crash loop); other images start at once and run until stopped.
    pub fn image(mut self, image: impl Into<String>, behaviour: ImageBehaviour) -> Self {
        self.images.push((image.into(), behaviour));
        self
    }

    /// Starts the cluster. Returns once every component is started (not necessarily synced).
    pub async fn start(self) -> Result<LocalCluster, LocalClusterError> {
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()) as SharedStore);
        let clock = self.clock.unwrap_or_default();
        let server_config = ApiServerConfig {
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            clock: clock.clone(),
            ..ApiServerConfig::default()
        };
        let (server, http) = if self.http {
            let server = ApiServer::new(store.clone(), server_config).start().await?;
            let http = HttpClient::new(&server.url())?;
            (Some(server), Some(http))
        } else {
            (None, None)
        };
        // The cluster's own view of the API server: namespaces checked, system ones created.
        let registry =
            Registry::with_clock(store.clone(), clock.clone()).with_namespace_lifecycle(true);
        registry.ensure_namespaces().await?;
        let client = InProcessClient::new(registry);
        let informers = SharedInformers::new(client.clone(), clock.clone());
        let shutdown = Shutdown::new();
        let pods = SharedPods::new(&informers, shutdown.clone());
        let mut cluster = LocalCluster {
            store,
            clock: clock.clone(),
            client,
            http,
            server,
            informers,
            pods,
            shutdown,
            components: Vec::new(),
            controller_managers: Vec::new(),
            nodes: BTreeMap::new(),
            kubelet: self.kubelet,
            images: self.images,
        };
        if self.scheduler {
            let config = SchedulerConfig {
                clock: clock.clone(),
                ..self.scheduler_config.unwrap_or_default()
            };
            let (informers, client) = (cluster.informers.clone(), cluster.client.clone());
            let stop = cluster.shutdown.clone();
            cluster.components.push(tokio::spawn(async move {
                scheduler::run_with(
                    &informers,
                    client,
                    config,
                    async move { stop.triggered().await },
                )
                .await;
            }));
        }
        let cm = self
            .controller_manager
            .unwrap_or_else(|| ControllerManagerConfig::with_clock(clock.clone()));
        for i in 0..self.controller_managers {
            let mut config = ControllerManagerConfig {
                clock: clock.clone(),
                ..cm.clone()
            };
            if self.controller_managers > 1 && config.leader_election.is_none() {
                config = config.elected_as(format!("controller-manager-{i}"));
            }
            cluster.start_controller_manager(config);
        }
        for i in 1..=self.nodes {
            cluster.add_node(&format!("node-{i}"))?;
        }
        cluster.informers.start();
        Ok(cluster)
    }
}

/// A running controller manager of the cluster.
struct RunningManager {
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

/// A cluster in one process; see the module docs.
pub struct LocalCluster {
    store: SharedStore,
    clock: Clock,
    client: InProcessClient,
    http: Option<HttpClient>,
    server: Option<RunningServer>,
    informers: SharedInformers<InProcessClient>,
    pods: SharedPods,
    shutdown: Shutdown,
    components: Vec<JoinHandle<()>>,
    controller_managers: Vec<Option<RunningManager>>,
    nodes: BTreeMap<String, HollowNode>,
    kubelet: KubeletConfigFn,
    images: Vec<(String, ImageBehaviour)>,
}

impl LocalCluster {
    /// A builder with one node, the scheduler and one controller manager, on a memory store.
    pub fn builder() -> LocalClusterBuilder {
        LocalClusterBuilder::default()
    }

    /// The in-process client (straight into the registry, no HTTP).
    pub fn client(&self) -> &InProcessClient {
        &self.client
    }

    /// The HTTP client, when the cluster serves HTTP.
    pub fn http_client(&self) -> Option<&HttpClient> {
        self.http.as_ref()
    }

    /// The API server's base URL, when the cluster serves HTTP.
    pub fn url(&self) -> Option<String> {
        self.server.as_ref().map(RunningServer::url)
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The store everything is kept in.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The shared caches of the cluster's components (embedders may add their own controllers
    /// on them).
    pub fn informers(&self) -> &SharedInformers<InProcessClient> {
        &self.informers
    }

    /// The names of the hollow nodes, running or stopped.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    /// A hollow node.
    pub fn node(&self, name: &str) -> Option<&HollowNode> {
        self.nodes.get(name)
    }

    /// The fake runtime of a node (to make a container exit, inject errors, …).
    pub fn runtime(&self, node: &str) -> Option<&FakeRuntime> {
        self.nodes.get(node).map(HollowNode::runtime)
    }

    /// Adds a hollow node and starts its kubelet (it registers itself).
    pub fn add_node(&mut self, name: &str) -> Result<(), LocalClusterError> {
        if self.nodes.contains_key(name) {
            return Err(LocalClusterError::NodeExists(name.to_string()));
        }
        let runtime = FakeRuntime::simulated(self.clock.clone());
        for (image, behaviour) in &self.images {
            runtime.set_image_behaviour(image, behaviour.clone());
        }
        let config = (self.kubelet)(name, &self.clock);
        let mut node = HollowNode::new(name, runtime, config);
        node.start(&self.informers, &self.pods, &self.client);
        self.nodes.insert(name.to_string(), node);
        Ok(())
    }

    /// Stops a node's kubelet: no more heartbeats or syncs; its containers keep running in its
    /// runtime, and [`LocalCluster::start_node`] adopts them again.
    pub async fn stop_node(&mut self, name: &str) -> Result<(), LocalClusterError> {
        let node = self
            .nodes
            .get_mut(name)
            .ok_or_else(|| LocalClusterError::NoNode(name.to_string()))?;
        node.stop().await;
        Ok(())
    }

    /// Starts a stopped node's kubelet again.
    pub fn start_node(&mut self, name: &str) -> Result<(), LocalClusterError> {
        let node = self
            .nodes
            .get_mut(name)
            .ok_or_else(|| LocalClusterError::NoNode(name.to_string()))?;
        node.start(&self.informers, &self.pods, &self.client);
        Ok(())
    }

    /// Starts one more controller manager; returns its index.
    pub fn start_controller_manager(&mut self, config: ControllerManagerConfig) -> usize {
        let shutdown = Shutdown::new();
        let (informers, client) = (self.informers.clone(), self.client.clone());
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = manager::run_with(&informers, client, config, stop).await {
                tracing::error!(error = %e, "controller manager stopped");
            }
        });
        self.controller_managers
            .push(Some(RunningManager { shutdown, task }));
        self.controller_managers.len() - 1
    }

    /// Kills controller manager `i` at once, as a crash would (its lease is not released).
    /// Returns whether it was running.
    pub fn kill_controller_manager(&mut self, i: usize) -> bool {
        match self.controller_managers.get_mut(i).and_then(Option::take) {
            Some(m) => {
                m.task.abort();
                true
            }
            None => false,
        }
    }

    /// Stops every component and node kubelet, and waits for them.
    pub async fn shutdown(mut self) {
        self.shutdown.trigger();
        for m in self.controller_managers.iter_mut().filter_map(Option::take) {
            m.shutdown.trigger();
            let _ = m.task.await;
        }
        for node in self.nodes.values_mut() {
            node.stop().await;
        }
        for c in self.components.drain(..) {
            let _ = c.await;
        }
        self.informers.shutdown();
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shutdown.trigger();
        for m in self.controller_managers.iter().flatten() {
            m.task.abort();
        }
        for c in &self.components {
            c.abort();
        }
        for node in self.nodes.values_mut() {
            node.abort();
        }
        self.informers.shutdown();
    }
}
