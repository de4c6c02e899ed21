//! The API server: REST CRUD and watch over the registry, in core/v1 and the seed's v1beta1.

mod apply;
mod binding;
mod body;
mod codec;
pub mod decode;
mod discovery;
pub mod logs;
mod metrics;
pub mod openapi;
pub mod params;
mod patch;
mod resource;
pub mod router;
mod scale;
pub mod verbs;
pub mod warning;
mod watch;

pub use body::ApiBody;
pub use codec::MAX_BODY_BYTES;
pub use resource::Served;

use crate::clock::Clock;
use crate::registry::{default_service_ip_range, Registry};
use crate::store::DryRunStore;
use codec::{error_response, json_response, text_response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kube_core::error::ApiError;
use kube_core::ip_allocator::Ipv4Cidr;
use kube_core::{Node, Store};
use metrics::Metrics;
use router::Route;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use verbs::Endpoint;

/// How long open connections may finish their requests once the server stops.
const CONNECTION_DRAIN: Duration = Duration::from_secs(1);

/// Longest the start-up waits for the system namespaces before retrying in the background.
const BOOTSTRAP_ATTEMPT: Duration = Duration::from_secs(2);

/// Settings of the API server.
#[derive(Clone, Debug)]
pub struct ApiServerConfig {
    /// Address to bind; loopback by default.
    pub address: IpAddr,
    /// Port to bind; 8080 by default, 0 for any free port.
    pub port: u16,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// How long a watch lasts when the client sets no `timeoutSeconds`.
    pub default_watch_timeout: Duration,
    /// How often a watch that allows bookmarks (`allowWatchBookmarks=true`) gets one
    /// (Kubernetes: about a minute).
    pub bookmark_interval: Duration,
    /// The clock objects are stamped with (creation, binding); real unless a test injects one.
    pub clock: Clock,
    /// The range service cluster IPs are allocated from (the seed's `--portal-net`);
    /// Kubernetes' default `10.0.0.0/24`.
    pub portal_net: Ipv4Cidr,
    /// Kubernetes' `NamespaceLifecycle`: creates need an existing, active namespace (404 /
    /// 403 otherwise), and the system namespaces are created at start-up. On by default.
    pub namespace_lifecycle: bool,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            max_body_bytes: MAX_BODY_BYTES,
            default_watch_timeout: Duration::from_secs(30 * 60),
            bookmark_interval: Duration::from_secs(60),
            clock: Clock::real(),
            portal_net: default_service_ip_range(),
            namespace_lifecycle: true,
        }
    }
}

/// The API server's shared state.
pub struct ApiServer {
    registry: Registry,
    metrics: Metrics,
    /// The client of kubelets (pod logs).
    kubelets: logs::KubeletClient,
    config: ApiServerConfig,
    /// Set when serving ends: open connections finish and close, watches end cleanly.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// Marks the server as stopping when serving ends, however it ends (returned or dropped).
struct StopOnDrop(Arc<ApiServer>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stopping.send_replace(true);
    }
}

/// A server accepting connections in the background.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ApiServer {
    /// A server over `store`.
    pub fn new(store: Arc<dyn Store>, config: ApiServerConfig) -> Arc<ApiServer> {
        Arc::new(ApiServer {
            registry: Registry::with_clock(store, config.clock.clone())
                .with_service_ip_range(config.portal_net)
                .with_namespace_lifecycle(config.namespace_lifecycle),
            metrics: Metrics::default(),
            kubelets: logs::KubeletClient::default(),
            config,
            stopping: tokio::sync::watch::channel(false).0,
        })
    }

    /// The registry the server writes through (for in-process use).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry a write goes through: the server's, or for `dryRun=All` a view of it over
    /// a [`DryRunStore`] (the same decoding, defaulting, validation and preconditions, and
    /// the answer of a write, but nothing stored).
    pub fn registry_for(&self, dry_run: bool) -> Registry {
        if dry_run {
            let dry = DryRunStore::new(self.registry.store().clone());
            self.registry.with_store(Arc::new(dry))
        } else {
            self.registry.clone()
        }
    }

    /// Registers static nodes (the seed's `--machines a,b,c`), with the seed's default
    /// capacity of 1 CPU and 3 GiB; nodes that exist already are left as they are.
    pub async fn register_static_nodes(&self, names: &[String]) -> Result<(), ApiError> {
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let mut node = Node::default();
            node.metadata.name = name.to_string();
            for (k, v) in [("cpu", "1"), ("memory", "3Gi"), ("pods", "110")] {
                node.status.capacity.insert(k.to_string(), v.into());
            }
            match self.registry.create("", node).await {
                Ok(_) => tracing::info!("registered static node {name}"),
                Err(e) if e.is_already_exists() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Creates the system namespaces that are missing (with the namespace lifecycle on): one
    /// attempt of at most [`BOOTSTRAP_ATTEMPT`]; if the store cannot answer (etcd down), a
    /// background task retries every second until it succeeds or the server stops.
    async fn bootstrap_namespaces(self: &Arc<Self>) {
        if !self.config.namespace_lifecycle || self.ensure_namespaces_once().await {
            return;
        }
        let srv = self.clone();
        let mut stopping = self.stopping.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopping.wait_for(|s| *s) => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                if srv.ensure_namespaces_once().await {
                    return;
                }
            }
        });
    }

    /// One bounded attempt at creating the missing system namespaces; whether it succeeded.
    async fn ensure_namespaces_once(&self) -> bool {
        match tokio::time::timeout(BOOTSTRAP_ATTEMPT, self.registry.ensure_namespaces()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!("creating the system namespaces failed: {e}");
                false
            }
            Err(_) => {
                tracing::warn!("creating the system namespaces timed out");
                false
            }
        }
    }

    /// Binds the configured address and serves in the background (after creating the system
    /// namespaces, see [`ApiServerConfig::namespace_lifecycle`]).
    pub async fn start(self: Arc<Self>) -> std::io::Result<RunningServer> {
        self.bootstrap_namespaces().await;
        let listener = TcpListener::bind((self.config.address, self.config.port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(self.serve(listener, async {
            let _ = rx.await;
        }));
        Ok(RunningServer {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Serves connections from `listener` until `shutdown` completes; then open connections
    /// finish the requests in flight (watches: at most a short grace period) and close.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        // Connections and watches follow this: when serving ends (or this future is dropped),
        // they finish and close.
        let _stop = StopOnDrop(self.clone());
        loop {
            let (stream, _) = tokio::select! {
                _ = &mut shutdown => return,
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let srv = self.clone();
            let mut stopping = self.stopping.subscribe();
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(srv.clone(), req));
                let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                tokio::pin!(conn);
                let ended = tokio::select! {
                    r = conn.as_mut() => r,
                    // Stopping (or the server dropped): finish the requests in flight, then close;
                    // long-running responses (watches) are cut after a short grace period.
                    _ = async { drop(stopping.wait_for(|s| *s).await) } => {
                        conn.as_mut().graceful_shutdown();
                        match tokio::time::timeout(CONNECTION_DRAIN, conn.as_mut()).await {
                            Ok(r) => r,
                            Err(_) => Ok(()),
                        }
                    }
                };
                if let Err(e) = ended {
                    tracing::debug!("connection ended: {e}");
                }
            });
        }
    }
}

/// Handles one HTTP request.
pub async fn handle(
    srv: Arc<ApiServer>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, Infallible> {
    let start = Instant::now();
    let path = req.uri().path().to_string();
    let query = router::parse_query(req.uri().query());
    let route = router::route(&path);
    let endpoint = match &route {
        Route::Resource(_) | Route::NotFound => None,
        Route::Bindings { .. } => Some(Endpoint::Bindings),
        _ => Some(Endpoint::NonResource),
    };
    if let Some(endpoint) =
        endpoint.filter(|e| !verbs::is_allowed(verbs::Scope::ANY, *e, req.method()))
    {
        let e = ApiError::MethodNotAllowed(format!(
            "method {} is not supported on {path}; allowed: {}",
            req.method(),
            verbs::allowed_methods(verbs::Scope::ANY, endpoint).join(", ")
        ));
        let resp = verbs::with_allow(error_response(&e), verbs::Scope::ANY, endpoint);
        srv.metrics
            .observe("unsupported", "unknown", 405, start.elapsed());
        return Ok(resp);
    }
    let (verb, resource, resp) = match route {
        Route::Resource(r) => {
            let rr = resource::ResourceRequest {
                route: &r,
                query: &query,
            };
            let (verb, resp) = kube_core::with_resource_type!(r.resource, T => {
                warning::recorded(resource::handle::<T>(srv.clone(), rr, req)).await
            });
            (verb, r.resource.info().plural, resp)
        }
        Route::Bindings { version, namespace } => (
            "create",
            "bindings",
            warning::recorded(async {
                (
                    (),
                    binding::handle(&srv, version, namespace, None, &query, req).await,
                )
            })
            .await
            .1,
        ),
        Route::Healthz => ("get", "healthz", healthz(&srv).await),
        Route::Metrics => (
            "get",
            "metrics",
            text_response(StatusCode::OK, srv.metrics.render()),
        ),
        Route::Version => (
            "get",
            "version",
            json_response(StatusCode::OK, &discovery::version()),
        ),
        Route::ApiVersions => (
            "get",
            "discovery",
            json_response(StatusCode::OK, &discovery::api_versions()),
        ),
        Route::ApiGroups => (
            "get",
            "discovery",
            json_response(StatusCode::OK, &discovery::api_groups()),
        ),
        Route::GroupResources(gv) => (
            "get",
            "discovery",
            json_response(StatusCode::OK, &discovery::group_resources(gv)),
        ),
        Route::OpenApiV2 => ("get", "openapi", openapi::v2(&req)),
        Route::OpenApiV3(gv) => ("get", "openapi", openapi::v3(&req, &gv)),
        Route::ApiResources(v) => (
            "get",
            "discovery",
            json_response(
                StatusCode::OK,
                &discovery::api_resources(v == router::Version::V1Beta1),
            ),
        ),
        Route::NotFound => (
            "unknown",
            "unknown",
            error_response(&ApiError::Other(Box::new(kube_core::Status::failure(
                404,
                kube_core::status::REASON_NOT_FOUND,
                format!("the server could not find the requested resource: {path}"),
            )))),
        ),
    };
    srv.metrics
        .observe(verb, resource, resp.status().as_u16(), start.elapsed());
    Ok(resp)
}

async fn healthz(srv: &ApiServer) -> Response<ApiBody> {
    match srv.registry.store().current_revision().await {
        Ok(_) => text_response(StatusCode::OK, "ok"),
        Err(e) => text_response(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}")),
    }
}
