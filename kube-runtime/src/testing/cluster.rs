//! [`TestCluster`]: the one harness the integration tests (and embedding programs) start a
//! cluster with: a store (memory unless given), the API server on `127.0.0.1:0`, an
//! [`HttpClient`] and an [`InProcessClient`] over the same store, one [`Clock`], and a clean
//! shutdown.

use crate::apiserver::{ApiServer, ApiServerConfig, RunningServer};
use crate::client::{ApiClient, ClientError, HttpClient, InProcessClient};
use crate::clock::Clock;
use crate::registry::Registry;
use crate::store::{MemoryStore, SharedStore};
use kube_core::error::ApiError;
use kube_core::Namespace;
use std::net::SocketAddr;
use std::sync::Arc;

/// Why a test cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum TestClusterError {
    /// The API server could not bind its address.
    #[error("cannot bind the API server: {0}")]
    Bind(#[from] std::io::Error),
    /// The HTTP client could not be made for the bound address.
    #[error("cannot make the HTTP client: {0}")]
    Client(#[from] ClientError),
}

/// Options of a [`TestCluster`].
#[derive(Default)]
pub struct TestClusterBuilder {
    store: Option<SharedStore>,
    clock: Option<Clock>,
    config: Option<ApiServerConfig>,
}

impl TestClusterBuilder {
    /// Runs over `store` instead of a fresh memory store.
    pub fn store(mut self, store: SharedStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses `clock` (e.g. `Clock::virtual_at(..)` on paused time) for the timestamps of both
    /// clients (the API server stamps with it too) and for the components a test starts.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Server settings; the address is always loopback and the port always a free one.
    pub fn server_config(mut self, config: ApiServerConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Starts the cluster.
    pub async fn start(self) -> Result<TestCluster, TestClusterError> {
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()) as SharedStore);
        let clock = self.clock.unwrap_or_default();
        let config = ApiServerConfig {
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            clock: clock.clone(),
            ..self.config.unwrap_or_default()
        };
        let server = ApiServer::new(store.clone(), config.clone())
            .start()
            .await?;
        let http = HttpClient::new(&server.url())?;
        let in_process = InProcessClient::new(
            Registry::with_clock(store.clone(), clock.clone())
                .with_service_ip_range(config.portal_net)
                .with_namespace_lifecycle(config.namespace_lifecycle),
        );
        Ok(TestCluster {
            store,
            clock,
            config,
            server: Some(server),
            http,
            in_process,
        })
    }
}

/// A running test cluster; dropping it stops the server too (without waiting).
pub struct TestCluster {
    store: SharedStore,
    clock: Clock,
    config: ApiServerConfig,
    server: Option<RunningServer>,
    http: HttpClient,
    in_process: InProcessClient,
}

impl TestCluster {
    /// A cluster on a fresh memory store with the real clock.
    pub async fn start() -> Result<TestCluster, TestClusterError> {
        TestCluster::builder().start().await
    }

    /// Options for a cluster.
    pub fn builder() -> TestClusterBuilder {
        TestClusterBuilder::default()
    }

    /// The store behind the server and both clients.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A client over HTTP to the running server.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A client straight into the registry (same store, no HTTP).
    pub fn in_process(&self) -> &InProcessClient {
        &self.in_process
    }

    /// Creates namespace `name` unless it exists (the API server refuses creates in a missing
    /// namespace, as Kubernetes does).
    pub async fn create_namespace(&self, name: &str) -> Result<(), ApiError> {
        match self.in_process.create("", &Namespace::named(name)).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The registry the in-process client writes through.
    pub fn registry(&self) -> &Registry {
        self.in_process.registry()
    }

    /// The server's address.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.addr)
    }

    /// The server's base URL, e.g. `http://127.0.0.1:41234` (that of the last server run).
    pub fn url(&self) -> &str {
        self.http.base_url()
    }

    /// Stops the API server (its open connections close, watches included); the store is kept.
    /// [`TestCluster::http`] is replaced by a client with an empty connection pool.
    pub async fn stop_server(&mut self) -> Result<(), TestClusterError> {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        self.http = HttpClient::new(self.http.base_url())?;
        Ok(())
    }

    /// Starts the API server again on the address it had, over the same store.
    pub async fn restart_server(&mut self) -> Result<(), TestClusterError> {
        let url = self.http.base_url().to_string();
        self.stop_server().await?;
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let config = ApiServerConfig {
            address: addr.ip(),
            port: addr.port(),
            ..self.config.clone()
        };
        self.server = Some(ApiServer::new(self.store.clone(), config).start().await?);
        Ok(())
    }

    /// Stops the server and waits for its accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}
