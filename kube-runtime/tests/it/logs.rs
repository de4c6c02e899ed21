//! Pod logs end to end: the API server's `pods/{name}/log` proxied to the kubelet's log server
//! (`kubelet::server::KubeletServer`), which reads a stub `ContainerRuntime`.

use crate::support::TestServer;
use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Method;
use kube_core::kubelet::labels;
use kube_core::runtime::{
    ContainerConfig, ContainerInfo, ContainerRunState, ContainerRuntime, ContainerSummary,
    ExecResult, ImageInfo, ListFilter, LogOptions, LogStream, RuntimeError, RuntimeVersion,
};
use kube_core::Timestamp;
use kube_runtime::kubelet::server::KubeletServer;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const NODE: &str = "n1";
const PODS: &str = "/api/v1/namespaces/default/pods";

/// One stub container: its summary, creation time and log.
struct StubContainer {
    summary: ContainerSummary,
    created: i64,
    log: &'static str,
}

/// A runtime with fixed containers and logs; `follow` reads continue from a live feed.
#[derive(Default)]
struct Stub {
    containers: Vec<StubContainer>,
    /// The live feed of followed logs (one follower at a time).
    feed: Mutex<Option<mpsc::UnboundedReceiver<Vec<u8>>>>,
    /// Set when a followed log stream is dropped.
    follower_dropped: Arc<AtomicBool>,
    /// Every logs call: (container id, options).
    calls: Mutex<Vec<(String, LogOptions)>>,
}

impl Stub {
    fn add(
        &mut self,
        node: &str,
        pod: &str,
        container: &str,
        restarts: u32,
        created: i64,
        log: &'static str,
    ) {
        let id = format!("{pod}-{container}-{restarts}-{created}");
        let labels: BTreeMap<String, String> = [
            (labels::NODE_NAME, node.to_string()),
            (labels::POD_NAMESPACE, "default".to_string()),
            (labels::POD_NAME, pod.to_string()),
            (labels::CONTAINER_NAME, container.to_string()),
            (labels::RESTART_COUNT, restarts.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        self.containers.push(StubContainer {
            summary: ContainerSummary {
                id: id.clone(),
                name: id,
                image: "busybox".into(),
                labels,
                state: ContainerRunState::Exited,
            },
            created,
            log,
        });
    }

    fn find(&self, id: &str) -> Result<&StubContainer, RuntimeError> {
        self.containers
            .iter()
            .find(|c| c.summary.id == id)
            .ok_or_else(|| RuntimeError::NotFound(id.to_string()))
    }
}

/// A log stream: the stored bytes, then (when following) the live feed.
struct FeedStream {
    initial: Option<Vec<u8>>,
    feed: Option<mpsc::UnboundedReceiver<Vec<u8>>>,
    dropped: Arc<AtomicBool>,
}

impl futures_core::Stream for FeedStream {
    type Item = Result<Vec<u8>, RuntimeError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(b) = self.initial.take() {
            return Poll::Ready(Some(Ok(b)));
        }
        match self.feed.as_mut() {
            Some(rx) => rx.poll_recv(cx).map(|o| o.map(Ok)),
            None => Poll::Ready(None),
        }
    }
}

impl Drop for FeedStream {
    fn drop(&mut self) {
        if self.feed.is_some() {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }
}

fn unused<T>() -> Result<T, RuntimeError> {
    Err(RuntimeError::Failed("not used by the log server".into()))
}

#[async_trait]
impl ContainerRuntime for Stub {
    async fn version(&self) -> Result<RuntimeVersion, RuntimeError> {
        unused()
    }
    async fn list_containers(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<ContainerSummary>, RuntimeError> {
        Ok(self
            .containers
            .iter()
            .filter(|c| filter.matches_labels(&c.summary.labels))
            .map(|c| c.summary.clone())
            .collect())
    }
    async fn image_status(&self, _: &str) -> Result<Option<ImageInfo>, RuntimeError> {
        unused()
    }
    async fn pull_image(&self, _: &str) -> Result<ImageInfo, RuntimeError> {
        unused()
    }
    async fn create_container(&self, _: &ContainerConfig) -> Result<String, RuntimeError> {
        unused()
    }
    async fn start_container(&self, _: &str) -> Result<(), RuntimeError> {
        unused()
    }
    async fn stop_container(&self, _: &str, _: Duration) -> Result<(), RuntimeError> {
        unused()
    }
    async fn remove_container(&self, _: &str) -> Result<(), RuntimeError> {
        unused()
    }
    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        let c = self.find(id)?;
        Ok(ContainerInfo {
            id: c.summary.id.clone(),
            name: c.summary.name.clone(),
            image: c.summary.image.clone(),
            image_id: "sha256:stub".into(),
            labels: c.summary.labels.clone(),
            state: c.summary.state,
            exit_code: Some(0),
            oom_killed: false,
            error: String::new(),
            created_at: Some(Timestamp::from_unix(c.created, 0)),
            started_at: None,
            finished_at: None,
            ip_address: None,
        })
    }
    async fn logs(&self, id: &str, options: LogOptions) -> Result<LogStream, RuntimeError> {
        let c = self.find(id)?;
        self.calls.lock().unwrap().push((id.to_string(), options));
        let lines: Vec<&str> = c.log.split_inclusive('\n').collect();
        let skip = match options.tail {
            Some(n) => lines.len().saturating_sub(n as usize),
            None => 0,
        };
        let feed = if options.follow {
            self.feed.lock().unwrap().take()
        } else {
            None
        };
        Ok(Box::pin(FeedStream {
            initial: Some(lines[skip..].concat().into_bytes()),
            feed,
            dropped: self.follower_dropped.clone(),
        }))
    }
    async fn exec(&self, _: &str, _: &[String], _: Duration) -> Result<ExecResult, RuntimeError> {
        unused()
    }
}

/// Reads a response body to the end (within 5 s).
async fn body_text(body: Incoming) -> String {
    let bytes = tokio::time::timeout(Duration::from_secs(5), body.collect())
        .await
        .expect("body within 5 s")
        .expect("body")
        .to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The next data chunk of a streamed body (within 5 s).
async fn next_chunk(body: &mut Incoming) -> Bytes {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("a chunk within 5 s")
            .expect("stream open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            return data;
        }
    }
}

fn pod_doc(name: &str, node: &str, containers: &[&str]) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "busybox"}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": containers}})
}

async fn setup() -> (
    TestServer,
    KubeletServer,
    Arc<Stub>,
    mpsc::UnboundedSender<Vec<u8>>,
) {
    let s = TestServer::start().await;
    let mut stub = Stub::default();
    stub.add(NODE, "web", "app", 0, 100, "old\n");
    stub.add(NODE, "web", "app", 1, 50, "line1\nline2\nline3\n");
    stub.add(NODE, "two", "a", 0, 100, "from a\n");
    stub.add(NODE, "two", "b", 0, 100, "from b\n");
    // Equal restart counts: the newest is the current one.
    stub.add(NODE, "tie", "c", 2, 300, "newer\n");
    stub.add(NODE, "tie", "c", 2, 200, "older\n");
    // Another node's container of the same pod is never read.
    stub.add("other", "mine", "c", 5, 900, "not mine\n");
    stub.add(NODE, "mine", "c", 0, 100, "mine\n");
    let (tx, rx) = mpsc::unbounded_channel();
    *stub.feed.lock().unwrap() = Some(rx);
    let stub = Arc::new(stub);
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let kubelet = KubeletServer::bind(addr, stub.clone(), NODE)
        .await
        .expect("kubelet server");
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
        "status": {
            "addresses": [{"type": "Hostname", "address": "no-such-host.invalid"},
                          {"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.local_addr().port()}}}});
    let (code, n) = s.call(Method::POST, "/api/v1/nodes", Some(node)).await;
    assert_eq!(code, 201, "{n}");
    for (name, containers) in [
        ("web", &["app"][..]),
        ("two", &["a", "b"][..]),
        ("tie", &["c"][..]),
        ("mine", &["c"][..]),
    ] {
        let (code, p) = s
            .call(Method::POST, PODS, Some(pod_doc(name, NODE, containers)))
            .await;
        assert_eq!(code, 201, "{p}");
    }
    let (code, _) = s
        .call(Method::POST, PODS, Some(pod_doc("unbound", "", &["c"])))
        .await;
    assert_eq!(code, 201);
    (s, kubelet, stub, tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_proxied_from_the_kubelet() {
    let (s, _kubelet, stub, _feed) = setup().await;
    // (query, expected body)
    let cases = [
        ("web/log", "line1\nline2\nline3\n"),
        ("web/log?tailLines=1", "line3\n"),
        ("web/log?tailLines=0", ""),
        ("web/log?container=app&previous=true", "old\n"),
        ("two/log?container=b", "from b\n"),
        ("tie/log", "newer\n"),
        ("tie/log?previous=1", "older\n"),
        ("mine/log", "mine\n"),
    ];
    for (query, want) in cases {
        let resp = s
            .send(Method::GET, &format!("{PODS}/{query}"), None, Vec::new())
            .await;
        assert_eq!(resp.status().as_u16(), 200, "{query}");
        let ctype = resp.headers().get("content-type").cloned();
        assert_eq!(
            ctype.as_ref().and_then(|v| v.to_str().ok()),
            Some("text/plain; charset=utf-8"),
            "{query}"
        );
        assert_eq!(body_text(resp.into_body()).await, want, "{query}");
    }
    // The parameters reached the runtime.
    let calls = stub.calls.lock().unwrap().clone();
    assert_eq!(
        calls[1],
        (
            "web-app-1-50".to_string(),
            LogOptions {
                tail: Some(1),
                follow: false
            }
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_log_requests_explain_themselves() {
    let (s, kubelet, _stub, _feed) = setup().await;
    // (query, code, message fragment)
    let cases = [
        (
            "two/log",
            400,
            "a container name must be specified for pod two, choose one of: [a b]",
        ),
        (
            "web/log?container=nope",
            400,
            "container nope is not valid for pod web",
        ),
        (
            "unbound/log",
            400,
            "pod unbound does not have a host assigned",
        ),
        ("missing/log", 404, "pods \"missing\" not found"),
        ("web/log?follow=yes", 400, "follow"),
        ("web/log?tailLines=-2", 400, "tailLines"),
        (
            "mine/log?previous=true",
            404,
            "previous terminated container",
        ),
    ];
    for (query, code, fragment) in cases {
        let (got, st) = s.call(Method::GET, &format!("{PODS}/{query}"), None).await;
        assert_eq!(got, code, "{query}: {st}");
        assert_eq!(st["kind"], "Status", "{query}");
        let msg = st["message"].as_str().unwrap_or_default();
        assert!(msg.contains(fragment), "{query}: {msg}");
    }
    // Only GET is served on the log subresource.
    let (code, _) = s
        .call(Method::DELETE, &format!("{PODS}/web/log"), None)
        .await;
    assert_eq!(code, 405);

    // The kubelet is down: 503 with the transport error.
    kubelet.shutdown().await;
    let (code, st) = s.call(Method::GET, &format!("{PODS}/web/log"), None).await;
    assert_eq!(code, 503, "{st}");
    let msg = st["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("error trying to reach the kubelet of node n1 at 127.0.0.1:"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_logs_stream_and_stop_when_the_client_leaves() {
    let (s, _kubelet, stub, feed) = setup().await;
    let resp = s
        .send(
            Method::GET,
            &format!("{PODS}/web/log?follow=true&tailLines=1"),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let mut body = resp.into_body();
    assert_eq!(next_chunk(&mut body).await, "line3\n");
    // Bytes reach the client as they are written, while the stream stays open.
    for line in ["live 1\n", "live 2\n"] {
        feed.send(line.as_bytes().to_vec()).expect("feed");
        assert_eq!(next_chunk(&mut body).await, line);
    }
    assert!(!stub.follower_dropped.load(Ordering::SeqCst));
    // The client goes away: the API server drops its request to the kubelet, which drops the
    // runtime's stream.
    drop(body);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !stub.follower_dropped.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the log stream was not dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubelet_server_answers_directly() {
    let (_s, kubelet, _stub, _feed) = setup().await;
    let base = format!("http://{}", kubelet.local_addr());
    let client = kube_runtime::client::HttpClient::new(&base).expect("client");
    let get = |path: &'static str| {
        let client = client.clone();
        async move { client.request(Method::GET, path, None).await }
    };
    assert_eq!(get("/healthz").await.expect("healthz"), "ok");
    assert_eq!(
        get("/containerLogs/default/web/app?tailLines=2")
            .await
            .expect("logs"),
        "line2\nline3\n"
    );
    // (path, code)
    let cases = [
        ("/containerLogs/default/web/nope", 404),
        ("/containerLogs/other-ns/web/app", 404),
        ("/containerLogs/default/web", 404),
        ("/containerLogs/default/web/app?previous=maybe", 400),
        ("/nothing", 404),
    ];
    for (path, code) in cases {
        let err = get(path).await.expect_err(path);
        let kube_runtime::client::ClientError::Api(e) = err else {
            panic!("{path}: {err}");
        };
        assert_eq!(e.code(), code, "{path}: {e}");
    }
    let err = client
        .request(Method::POST, "/healthz", None)
        .await
        .expect_err("POST");
    assert!(err.to_string().contains("not allowed"), "{err}");
}
