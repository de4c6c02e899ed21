//! The kubelet's HTTP server: `/healthz` and container logs, which the API server proxies
//! (`GET /api/v1/namespaces/{ns}/pods/{name}/log`).
//!
//! `GET /containerLogs/{namespace}/{pod}/{container}?tailLines=N&follow=BOOL&previous=BOOL`
//! streams the log of the pod's container as `text/plain`, read through the
//! [`ContainerRuntime`]. The container is found by the kubelet's labels
//! (`kube_core::kubelet::labels`: this node, the pod's namespace and name, the container
//! name); the current one is the one with the highest restart count (ties: the newest), and
//! `previous=true` reads the one before it. `timestamps` is accepted (and validated) but
//! ignored. Errors are plain text with the status code: 400 for a bad parameter (naming it),
//! 404 for an unknown path or container, 503 when the runtime is unreachable.

use crate::apiserver::params::{parse_bool, parse_count};
use crate::apiserver::router::{parse_query, percent_decode};
use crate::apiserver::ApiBody;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kube_core::kubelet::labels;
use kube_core::runtime::{ContainerRuntime, ListFilter, LogOptions, RuntimeError};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// The kubelet's default port (`--port`).
pub const DEFAULT_PORT: u16 = 10250;

/// The kubelet's default listen address: loopback (`--address 127.0.0.1`), port 10250.
pub fn default_address() -> SocketAddr {
    SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, DEFAULT_PORT))
}

/// How long open connections may finish once the server stops (followed logs are cut).
const CONNECTION_DRAIN: Duration = Duration::from_secs(1);

/// Errors of starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
}

/// A running kubelet server; stops when [`KubeletServer::shutdown`] is called or it is dropped.
pub struct KubeletServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// What the request handlers share.
struct Shared {
    runtime: Arc<dyn ContainerRuntime>,
    node_name: String,
}

impl KubeletServer {
    /// Binds `addr` (port 0: any free port) and serves logs of the containers `runtime` runs
    /// for the node `node_name`, in the background.
    pub async fn bind(
        addr: SocketAddr,
        runtime: Arc<dyn ContainerRuntime>,
        node_name: impl Into<String>,
    ) -> Result<KubeletServer, ServerError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let shared = Arc::new(Shared {
            runtime,
            node_name: node_name.into(),
        });
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, shared, rx));
        Ok(KubeletServer {
            addr: bound,
            shutdown: Some(tx),
            task,
        })
    }

    /// The bound address (the port to publish in the node's `daemonEndpoints`).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections; open ones finish within a short drain period.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for KubeletServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: oneshot::Receiver<()>) {
    let (stopping, _) = watch::channel(false);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("kubelet server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = stopping.subscribe();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(shared.clone(), req));
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                _ = async { drop(stop.wait_for(|s| *s).await) } => {
                    conn.as_mut().graceful_shutdown();
                    tokio::time::timeout(CONNECTION_DRAIN, conn.as_mut()).await.unwrap_or(Ok(()))
                }
            };
            if let Err(e) = ended {
                tracing::debug!("kubelet server: connection ended: {e}");
            }
        });
    }
    stopping.send_replace(true);
}

/// A plain-text response.
fn text(code: StatusCode, body: impl Into<bytes::Bytes>) -> Response<ApiBody> {
    let mut resp = Response::new(ApiBody::full(body));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, Infallible> {
    let segs: Vec<String> = req
        .uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let known = matches!(segs.as_slice(), ["healthz"] | ["containerLogs", _, _, _]);
    if !known {
        return Ok(text(StatusCode::NOT_FOUND, "404 page not found\n"));
    }
    if req.method() != Method::GET {
        let mut resp = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {} is not allowed; use GET\n", req.method()),
        );
        resp.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET"),
        );
        return Ok(resp);
    }
    Ok(match segs.as_slice() {
        ["containerLogs", ns, pod, container] => {
            let query = parse_query(req.uri().query());
            match container_logs(&shared, ns, pod, container, &query).await {
                Ok(resp) => resp,
                Err(e) => text(e.code, format!("{}\n", e.message)),
            }
        }
        _ => text(StatusCode::OK, "ok"),
    })
}

/// A failed log request: status code and message.
#[derive(Debug)]
struct LogError {
    code: StatusCode,
    message: String,
}

impl LogError {
    fn new(code: StatusCode, message: impl Into<String>) -> LogError {
        LogError {
            code,
            message: message.into(),
        }
    }
}

impl From<RuntimeError> for LogError {
    fn from(e: RuntimeError) -> LogError {
        let code = match e {
            RuntimeError::NotFound(_) => StatusCode::NOT_FOUND,
            RuntimeError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        LogError::new(code, e.to_string())
    }
}

/// The log parameters of a request, validated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LogQuery {
    tail: Option<u64>,
    follow: bool,
    previous: bool,
}

fn log_query(query: &HashMap<String, String>) -> Result<LogQuery, LogError> {
    let bad = |e: kube_core::error::ApiError| {
        LogError::new(StatusCode::BAD_REQUEST, e.to_status().message)
    };
    let flag = |name: &str| {
        query
            .get(name)
            .map(|v| parse_bool(name, v))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(bad)
    };
    let out = LogQuery {
        tail: query
            .get("tailLines")
            .map(|v| parse_count("tailLines", v))
            .transpose()
            .map_err(bad)?,
        follow: flag("follow")?,
        previous: flag("previous")?,
    };
    flag("timestamps")?;
    Ok(out)
}

async fn container_logs(
    shared: &Shared,
    ns: &str,
    pod: &str,
    container: &str,
    query: &HashMap<String, String>,
) -> Result<Response<ApiBody>, LogError> {
    let q = log_query(query)?;
    let id = find_container(shared, ns, pod, container, q.previous).await?;
    let stream = shared
        .runtime
        .logs(
            &id,
            LogOptions {
                tail: q.tail,
                follow: q.follow,
            },
        )
        .await?;
    let mut resp = Response::new(ApiBody::from_stream(stream));
    resp.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(resp)
}

/// The runtime ID of the pod's container: the current instance, or the one before it.
async fn find_container(
    shared: &Shared,
    ns: &str,
    pod: &str,
    container: &str,
    previous: bool,
) -> Result<String, LogError> {
    let filter = ListFilter {
        labels: [
            (labels::NODE_NAME, shared.node_name.as_str()),
            (labels::POD_NAMESPACE, ns),
            (labels::POD_NAME, pod),
            (labels::CONTAINER_NAME, container),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        all: true,
    };
    let found = shared.runtime.list_containers(&filter).await?;
    // Order by restart count, then creation time (inspected only when counts tie).
    let mut ranked: Vec<(u64, Option<kube_core::Timestamp>, String)> = found
        .iter()
        .map(|c| {
            let restarts = c
                .labels
                .get(labels::RESTART_COUNT)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            (restarts, None, c.id.clone())
        })
        .collect();
    let counts: Vec<u64> = ranked.iter().map(|r| r.0).collect();
    for r in ranked.iter_mut() {
        if counts.iter().filter(|c| **c == r.0).count() > 1 {
            r.1 = match shared.runtime.inspect_container(&r.2).await {
                Ok(info) => info.created_at,
                // Removed meanwhile: it ranks first, so it is never the current one.
                Err(RuntimeError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
        }
    }
    ranked.sort();
    let which = if previous { 2 } else { 1 };
    match ranked.len().checked_sub(which).and_then(|i| ranked.get(i)) {
        Some((_, _, id)) => Ok(id.clone()),
        None if previous => Err(LogError::new(
            StatusCode::NOT_FOUND,
            format!("previous terminated container {container:?} in pod {ns}/{pod} not found"),
        )),
        None => Err(LogError::new(
            StatusCode::NOT_FOUND,
            format!("container {container:?} in pod {ns}/{pod} not found"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn log_parameters_are_validated() {
        let ok = [
            (q(&[]), LogQuery::default()),
            (
                q(&[("tailLines", "5"), ("follow", "true"), ("previous", "0")]),
                LogQuery {
                    tail: Some(5),
                    follow: true,
                    previous: false,
                },
            ),
            (
                q(&[("previous", ""), ("timestamps", "false")]),
                LogQuery {
                    previous: true,
                    ..LogQuery::default()
                },
            ),
        ];
        for (query, want) in ok {
            assert_eq!(log_query(&query).expect("valid"), want, "{query:?}");
        }
        let bad = [
            ("tailLines", "-1"),
            ("tailLines", "x"),
            ("follow", "yes"),
            ("previous", "2"),
            ("timestamps", "maybe"),
        ];
        for (name, value) in bad {
            let e = log_query(&q(&[(name, value)])).expect_err(name);
            assert_eq!(e.code, StatusCode::BAD_REQUEST);
            assert!(e.message.contains(name), "{}", e.message);
        }
    }
}
