//! `localkube`: the whole cluster in one process, through the library entry point (simulated
//! nodes, a temporary store, a free port) and the binary's "Docker unreachable" path.

use crate::support::{eventually, seed_pod, seed_rc};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_runtime::localkube::{Localkube, LocalkubeError, LocalkubeFlags};
use serde_json::Value;
use std::time::Duration;

/// A raw HTTP client for the v1beta1 documents as the seed sent them.
struct Http {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Http {
    fn new(base: String) -> Http {
        Http {
            base,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .expect("request");
        let resp = self.client.request(req).await.expect("send");
        let code = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let v = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
        (code, v)
    }

    /// The seed's pods (`name=redis`) as (name, phase, controller owner or "").
    async fn redis_pods(&self) -> Vec<(String, String, String)> {
        let (code, list) = self
            .call(
                Method::GET,
                "/api/v1/namespaces/default/pods?labelSelector=name%3Dredis",
                None,
            )
            .await;
        assert_eq!(code, 200, "{list}");
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| {
                let owner = p["metadata"]["ownerReferences"]
                    .as_array()
                    .and_then(|o| o.first())
                    .map(|o| o["name"].as_str().unwrap_or_default().to_string())
                    .unwrap_or_default();
                (
                    p["metadata"]["name"].as_str().unwrap_or_default().into(),
                    p["status"]["phase"].as_str().unwrap_or_default().into(),
                    owner,
                )
            })
            .collect()
    }
}

fn flags(args: &[&str]) -> LocalkubeFlags {
    LocalkubeFlags::try_parse_from(std::iter::once("localkube").chain(args.iter().copied()))
        .expect("flags")
}

/// The seed's walkthrough on localkube: the redis pod Running, the controller adopting it, and
/// a deleted pod replaced; then a clean shutdown that frees the port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_walkthrough_on_simulated_nodes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let f = flags(&[
        "--runtime",
        "fake",
        "--fake-nodes",
        "3",
        "--port",
        "0",
        "--data-dir",
        data.to_str().expect("utf-8 path"),
    ]);
    let cluster = Localkube::start(f.config("lk")).await.expect("start");
    assert_eq!(cluster.nodes(), ["lk-1", "lk-2", "lk-3"]);
    let url = cluster.url();
    let http = Http::new(url.clone());
    assert_eq!(http.call(Method::GET, "/healthz", None).await.0, 200);

    // ./kubecfg -c redis.json create /pods; ./kubecfg list /pods → Running on one of the nodes.
    let (code, created) = http
        .call(Method::POST, "/api/v1beta1/pods", Some(&seed_pod()))
        .await;
    assert!(code == 201 || code == 200, "{code} {created}");
    let host = eventually("the redis pod Running", 20, || async {
        let (_, pod) = http
            .call(Method::GET, "/api/v1beta1/pods/redis", None)
            .await;
        (pod["currentState"]["status"] == "Running").then(|| {
            pod["currentState"]["host"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
    })
    .await;
    assert!(host.starts_with("lk-"), "{host}");
    let (_, nodes) = http.call(Method::GET, "/api/v1beta1/minions", None).await;
    assert_eq!(nodes["items"].as_array().map(Vec::len), Some(3), "{nodes}");

    // ./kubecfg -c redisController.json create /replicationControllers: one replica, the
    // seed's redis pod (same labels) adopted.
    let (code, rc) = http
        .call(
            Method::POST,
            "/api/v1beta1/replicationControllers",
            Some(&seed_rc()),
        )
        .await;
    assert!(code == 201 || code == 200, "{code} {rc}");
    let first = eventually("one redis pod owned by the controller", 20, || async {
        match http.redis_pods().await.as_slice() {
            [(name, phase, owner)] if phase == "Running" && owner == "redisController" => {
                Some(name.clone())
            }
            _ => None,
        }
    })
    .await;

    // Delete its pod: another replaces it and runs.
    let (code, deleted) = http
        .call(Method::DELETE, &format!("/api/v1beta1/pods/{first}"), None)
        .await;
    assert_eq!(code, 200, "{deleted}");
    let second = eventually("a replacement redis pod Running", 30, || async {
        http.redis_pods()
            .await
            .into_iter()
            .find(|(name, phase, owner)| {
                *name != first && phase == "Running" && owner == "redisController"
            })
            .map(|(name, _, _)| name)
    })
    .await;
    assert!(second.starts_with("rediscontroller-"), "{second}");

    tokio::time::timeout(Duration::from_secs(20), cluster.shutdown())
        .await
        .expect("shut down within 20 s");
    let addr = url.trim_start_matches("http://").to_string();
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "{addr} still accepts connections after shutdown"
    );
    // The data survives: the store directory holds the database.
    assert!(std::fs::read_dir(&data).expect("data dir").next().is_some());
}

/// Docker not answering: the library says so (and what to do) before opening anything.
#[tokio::test]
async fn docker_unreachable_is_one_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let socket = format!("unix://{}/no-docker.sock", tmp.path().display());
    let data = tmp.path().join("data");
    let f = flags(&[
        "--docker-endpoint",
        &socket,
        "--port",
        "0",
        "--data-dir",
        data.to_str().expect("utf-8 path"),
    ]);
    match Localkube::start(f.config("lk")).await {
        Err(e @ LocalkubeError::DockerUnreachable { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("Docker is not reachable at {socket}")),
                "{msg}"
            );
            assert!(
                msg.contains("start dockerd") && msg.ends_with("--runtime fake"),
                "{msg}"
            );
        }
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("started without Docker"),
    }
    assert!(
        !data.exists(),
        "the store was opened before Docker was checked"
    );
}

/// The binary: one line on stderr saying what to do, and a non-zero exit.
#[test]
fn localkube_binary_without_docker_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let socket = format!("unix://{}/no-docker.sock", tmp.path().display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_localkube"))
        .args(["--docker-endpoint", &socket, "--port", "0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .output()
        .expect("run localkube");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("localkube: Docker is not reachable at")
            && lines[0]
                .contains("start dockerd (e.g. `sudo dockerd &`) or run with --runtime fake"),
        "{stderr}"
    );
}
