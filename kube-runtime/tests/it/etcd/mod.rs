//! The etcd store against real etcd processes (feature `etcd`): the contract suite's fixture
//! ([`EtcdCluster`]), `EtcdStore` specifics, the API server on etcd, and failure tests on a
//! 3-member cluster. etcd must be installed; these tests never skip.

mod apiserver;
mod cluster;
mod failure;
mod store;

pub use cluster::EtcdCluster;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_core::store::{BoxWatchStream, KeyValue, Store, StoreError, StoreEvent};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a test waits for an expected event or for a retried operation.
const PATIENCE: Duration = Duration::from_secs(20);

/// The next event of `w`, failing the test on error, end or timeout.
pub async fn next_event(w: &mut BoxWatchStream) -> StoreEvent {
    match tokio::time::timeout(PATIENCE, w.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(e))) => panic!("watch failed: {e}"),
        Ok(None) => panic!("watch ended"),
        Err(_) => panic!("no event within {PATIENCE:?}"),
    }
}

/// Asserts that `w` yields nothing for a short while.
pub async fn assert_quiet(w: &mut BoxWatchStream) {
    if let Ok(got) = tokio::time::timeout(Duration::from_millis(300), w.next()).await {
        panic!("unexpected watch item: {got:?}");
    }
}

/// Creates `key` (value: the key's bytes), retrying while the store is unavailable. After an
/// unavailable answer the create may have been applied: an `AlreadyExists` then returns the
/// stored value, which must be ours.
pub async fn create_retrying(store: &dyn Store, key: &str) -> KeyValue {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match store.create(key, key.as_bytes().to_vec()).await {
            Ok(kv) => return kv,
            Err(StoreError::Unavailable(e)) => {
                assert!(Instant::now() < deadline, "create {key}: unavailable: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(StoreError::AlreadyExists { .. }) => {
                let kv = store
                    .get(key)
                    .await
                    .expect("get after ambiguous create")
                    .expect("the key exists");
                assert_eq!(&*kv.value, key.as_bytes(), "{key} holds our value");
                return kv;
            }
            Err(e) => panic!("create {key}: {e}"),
        }
    }
}

/// A JSON-over-HTTP caller for an API server.
pub struct Http {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Http {
    /// A caller for the server at `base` (`http://127.0.0.1:port`).
    pub fn new(base: impl Into<String>) -> Http {
        Http {
            base: base.into(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request; `None` when the server cannot be reached.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Option<hyper::Response<Incoming>> {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        let bytes = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                serde_json::to_vec(v).expect("json")
            }
            None => Vec::new(),
        };
        let req = b.body(Full::new(Bytes::from(bytes))).expect("request");
        tokio::time::timeout(PATIENCE, self.client.request(req))
            .await
            .expect("the API server answers (no hang)")
            .ok()
    }

    /// Sends JSON (or nothing) and decodes the answer (text bodies become a JSON string).
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        let resp = self.send(method, path, body).await?;
        let code = resp.status().as_u16();
        let bytes = tokio::time::timeout(PATIENCE, resp.into_body().collect())
            .await
            .expect("body within time")
            .ok()?
            .to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Some((code, v))
    }

    /// Like [`Http::try_call`], failing the test when the server cannot be reached.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.try_call(method.clone(), path, body)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: server unreachable"))
    }

    /// Repeats a call until it answers `want`, accepting only 503 (or no connection) meanwhile.
    pub async fn call_until(
        &self,
        want: u16,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.try_call(method.clone(), path, body).await {
                Some((code, v)) if code == want => return v,
                Some((503, _)) | None => {}
                Some((code, v)) => panic!("{method} {path}: {code} {v}"),
            }
            assert!(
                Instant::now() < deadline,
                "{method} {path}: no {want} within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The resourceVersion of an object or list, as a number.
pub fn rv(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {v}"))
}

/// Asserts a 503 answer carrying a Status that says the store is unavailable.
pub fn assert_store_unavailable(code: u16, body: &Value) {
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["reason"], "ServiceUnavailable", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("storage is unavailable"), "{body}");
}
