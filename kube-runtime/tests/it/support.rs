//! Helpers shared by the integration tests: raw HTTP calls and watch reading on top of the
//! library's `TestCluster` (a server on a memory store with both clients).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_runtime::testing::TestCluster;
use serde_json::Value;
use std::time::Duration;

/// A test cluster plus a raw HTTP client for status codes, bodies and headers as sent.
pub struct TestServer {
    /// The cluster: store, server, typed clients.
    pub cluster: TestCluster,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let cluster = TestCluster::start().await.expect("start a test cluster");
        TestServer::on(cluster)
    }

    /// A raw client on an already started cluster (e.g. one over a wrapped store).
    pub fn on(cluster: TestCluster) -> TestServer {
        let client = Client::builder(TokioExecutor::new()).build_http();
        TestServer { cluster, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.cluster.url(), path)
    }

    /// Sends a request and returns the status and the raw body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        ctype: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Bytes) {
        let resp = self.send(method, path, ctype, body).await;
        let code = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (code, bytes)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        ctype: Option<&str>,
        body: Vec<u8>,
    ) -> Response<Incoming> {
        let mut b = Request::builder().method(method).uri(self.url(path));
        if let Some(ct) = ctype {
            b = b.header("content-type", ct);
        }
        self.client
            .request(b.body(Full::new(Bytes::from(body))).expect("request"))
            .await
            .expect("send")
    }

    /// Sends JSON (or nothing) and decodes a JSON answer.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (ctype, bytes) = match body {
            Some(v) => (
                Some("application/json"),
                serde_json::to_vec(&v).expect("json"),
            ),
            None => (None, Vec::new()),
        };
        let (code, bytes) = self.raw(method, path, ctype, bytes).await;
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (code, v)
    }

    /// Everything in the store: (revision, every key with its mod revision).
    pub async fn snapshot(&self) -> (u64, Vec<(String, u64)>) {
        let list = self.cluster.store().list("/").await.expect("list");
        (
            list.revision,
            list.items
                .iter()
                .map(|kv| (kv.key.clone(), kv.mod_revision))
                .collect(),
        )
    }

    /// Opens a watch and returns a line reader.
    pub async fn watch(&self, path: &str) -> WatchReader {
        let resp = self.send(Method::GET, path, None, Vec::new()).await;
        assert_eq!(resp.status().as_u16(), 200, "watch {path}");
        WatchReader {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }
}

/// Reads newline-delimited JSON events from a watch response.
pub struct WatchReader {
    body: Incoming,
    buf: Vec<u8>,
}

impl WatchReader {
    /// The next event, or `None` when the stream ends or nothing arrives within 5 s.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Some(serde_json::from_slice(&line).expect("event is JSON"));
            }
            let frame = tokio::time::timeout(Duration::from_secs(5), self.body.frame())
                .await
                .ok()??;
            if let Ok(data) = frame.expect("frame").into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
    }

    /// The next event's (type, object name).
    pub async fn next_summary(&mut self) -> Option<(String, String)> {
        let ev = self.next().await?;
        let name = ev["object"]["metadata"]["name"]
            .as_str()
            .or(ev["object"]["id"].as_str())
            .unwrap_or_default()
            .to_string();
        Some((ev["type"].as_str().unwrap_or_default().to_string(), name))
    }

    /// True when no event arrives within `d`.
    pub async fn quiet_for(&mut self, d: Duration) -> bool {
        if self.buf.contains(&b'\n') {
            return false;
        }
        tokio::time::timeout(d, self.body.frame()).await.is_err()
    }
}

/// The seed's pod document.
pub fn seed_pod() -> Value {
    serde_json::from_str(include_str!("../../../examples/redis.json")).expect("seed pod")
}

/// The seed's replication controller document.
pub fn seed_rc() -> Value {
    serde_json::from_str(include_str!("../../../examples/redisController.json")).expect("seed rc")
}

/// A minimal valid v1 pod.
pub fn pod(name: &str, labels: Value) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    })
}

/// Polls `check` every 100 ms (on paused time, simulated seconds pass at once) for up to
/// `secs`, and panics naming `what` when it never answers.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
