//! The API server on etcd: 503 while etcd is down and recovery when it returns; watchers
//! that resume across restarts of the API server process see every change exactly once.

use super::{assert_store_unavailable, rv, EtcdCluster, Http};
use crate::support::pod;
use hyper::Method;
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::store::EtcdStore;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_answers_503_while_etcd_is_down_and_recovers() {
    let mut etcd = EtcdCluster::single().await;
    etcd.kill(0);
    // The server starts although etcd is down. (Requests give up after 2 s instead of the
    // default 5 s to keep the test quick.)
    let store = EtcdStore::connect_with(etcd.config("/registry", Duration::from_secs(2)))
        .await
        .expect("etcd store");
    let config = ApiServerConfig {
        port: 0,
        ..ApiServerConfig::default()
    };
    let running = ApiServer::new(Arc::new(store), config)
        .start()
        .await
        .expect("bind loopback");
    let api = Http::new(running.url());

    let started = Instant::now();
    let (code, body) = api
        .call(Method::POST, PODS, Some(&pod("a", json!({}))))
        .await;
    assert_store_unavailable(code, &body);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "503 took {:?}",
        started.elapsed()
    );
    let (code, body) = api.call(Method::GET, "/healthz", None).await;
    assert_eq!(code, 503, "healthz reports the store: {body}");
    let (code, body) = api.call(Method::GET, PODS, None).await;
    assert_store_unavailable(code, &body);

    etcd.restart(0).await;
    let created = api
        .call_until(201, Method::POST, PODS, Some(&pod("a", json!({}))))
        .await;
    api.call_until(200, Method::GET, "/healthz", None).await;
    let (code, got) = api.call(Method::GET, &format!("{PODS}/a"), None).await;
    assert_eq!(code, 200);
    assert_eq!(got["metadata"]["uid"], created["metadata"]["uid"]);

    // Down again: reads answer 503 too, and nothing is lost over the outage.
    etcd.kill(0);
    let (code, body) = api.call(Method::GET, &format!("{PODS}/a"), None).await;
    assert_store_unavailable(code, &body);
    etcd.restart(0).await;
    let got = api
        .call_until(200, Method::GET, &format!("{PODS}/a"), None)
        .await;
    assert_eq!(got["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(rv(&got), rv(&created));
    running.shutdown().await;
}

/// The real `apiserver` binary on etcd, killed with SIGKILL on drop.
struct ApiProcess {
    child: Child,
}

impl ApiProcess {
    fn start(etcd: &EtcdCluster, port: u16) -> ApiProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_apiserver"))
            .args(["--port", &port.to_string()])
            .arg("--etcd-servers")
            .arg(etcd.endpoints().join(","))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn apiserver");
        ApiProcess { child }
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One observed watch event: (type, name, resourceVersion).
type Seen = (String, String, u64);

/// A client that watches pods from `from`, and whenever its stream breaks watches again from
/// the last resourceVersion it saw, until it has `want` events.
async fn resuming_watcher(base: String, from: u64, want: usize) -> (Vec<Seen>, usize) {
    let api = Http::new(base);
    let mut seen: Vec<Seen> = Vec::new();
    let mut last = from;
    let mut connects = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < want {
        assert!(
            Instant::now() < deadline,
            "watcher stuck at {} of {want} events",
            seen.len()
        );
        let path = format!("{PODS}?watch=true&resourceVersion={last}");
        let Some(resp) = api.send(Method::GET, &path, None).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        match resp.status().as_u16() {
            200 => connects += 1,
            503 => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            code => panic!("watch from {last}: {code}"),
        }
        let mut body = resp.into_body();
        let mut buf = Vec::new();
        'stream: loop {
            while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let ev: Value = serde_json::from_slice(&line).expect("event is JSON");
                let kind = ev["type"].as_str().unwrap_or_default().to_owned();
                assert_ne!(kind, "ERROR", "watch error: {ev}");
                let version = rv(&ev["object"]);
                let name = ev["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                last = version;
                seen.push((kind, name, version));
                if seen.len() >= want {
                    break 'stream;
                }
            }
            use http_body_util::BodyExt;
            match tokio::time::timeout(Duration::from_secs(30), body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        buf.extend_from_slice(&data);
                    }
                }
                // The server went away (or ended the watch): resume from `last`.
                Ok(Some(Err(_))) | Ok(None) => break 'stream,
                Err(_) => panic!("watch silent for 30 s at {} events", seen.len()),
            }
        }
    }
    (seen, connects)
}

/// Applies a mix of creates, updates and deletes on pods named `{tag}{i}` and returns what
/// each acknowledged change must look like to a watcher.
async fn writes(api: &Http, tag: &str) -> Vec<Seen> {
    let mut out = Vec::new();
    for i in 0..6 {
        let name = format!("{tag}{i}");
        let v = api
            .call_until(
                201,
                Method::POST,
                PODS,
                Some(&pod(&name, json!({"i": "0"}))),
            )
            .await;
        out.push(("ADDED".to_owned(), name, rv(&v)));
    }
    for i in 0..3 {
        let name = format!("{tag}{i}");
        let path = format!("{PODS}/{name}");
        let (_, mut current) = api.call(Method::GET, &path, None).await;
        current["metadata"]["labels"]["i"] = json!("1");
        let v = api
            .call_until(200, Method::PUT, &path, Some(&current))
            .await;
        out.push(("MODIFIED".to_owned(), name, rv(&v)));
    }
    for i in 3..5 {
        let name = format!("{tag}{i}");
        let v = api
            .call_until(200, Method::DELETE, &format!("{PODS}/{name}"), None)
            .await;
        out.push(("DELETED".to_owned(), name, rv(&v)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_resume_exactly_once_across_apiserver_restarts() {
    let etcd = EtcdCluster::single().await;
    let port = super::cluster::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = ApiProcess::start(&etcd, port);
    let api = Http::new(base.clone());
    let list = api.call_until(200, Method::GET, PODS, None).await;
    let from = rv(&list);

    const ROUNDS: usize = 3;
    const PER_ROUND: usize = 11;
    let want = ROUNDS * PER_ROUND;
    let watchers: Vec<_> = (0..3)
        .map(|_| tokio::spawn(resuming_watcher(base.clone(), from, want)))
        .collect();

    let mut expected = Vec::new();
    let mut server = Some(server);
    for round in 0..ROUNDS {
        expected.extend(writes(&api, &format!("r{round}-")).await);
        // Give the watchers a moment to be mid-stream, then kill -9 and restart the server
        // on the same port while they are connected.
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(s) = server.take() {
            s.kill9();
        }
        server = Some(ApiProcess::start(&etcd, port));
        api.call_until(200, Method::GET, "/healthz", None).await;
    }
    assert_eq!(expected.len(), want);
    for w in watchers {
        let (seen, connects) = w.await.expect("watcher");
        assert_eq!(seen, expected, "every change exactly once, in order");
        assert!(connects >= 2, "the watcher resumed at least once");
    }
    drop(server);
}
