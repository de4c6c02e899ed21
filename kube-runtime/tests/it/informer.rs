//! The watcher against a real API server over HTTP that is stopped and restarted.

use kube_core::backoff::Backoff;
use kube_core::rand::SplitMix64;
use kube_core::Pod;
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::client::{HttpClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::informer::{Cache, Watcher, Writer};
use kube_runtime::registry::Registry;
use kube_runtime::store::MemoryStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// An API server on its own runtime and thread: stopping it drops that runtime, so every open
/// connection (the watch included) dies with it, as when a server process exits.
struct ServerProcess {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerProcess {
    fn start(store: Arc<MemoryStore>, port: u16) -> ServerProcess {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .expect("bind loopback");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let config = ApiServerConfig {
                    port,
                    ..ApiServerConfig::default()
                };
                ApiServer::new(store, config)
                    .serve(listener, async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
            // Dropping `rt` here ends every connection task.
        });
        let addr = addr_rx.recv().expect("server address");
        ServerProcess {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread");
        }
    }
}

fn pod(name: &str, image: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": image}]}
    }))
    .expect("pod")
}

/// `name=image@resourceVersion` of every cached pod, sorted.
fn content(cache: &Cache<Pod>) -> Vec<String> {
    let mut v: Vec<String> = cache
        .list()
        .iter()
        .map(|p| format!("{}={}", p.metadata.name, p.spec.containers[0].image))
        .collect();
    v.sort();
    v
}

/// Waits (bounded, so a regression fails instead of hanging) until the cache holds `want`.
async fn converge(cache: &Cache<Pod>, want: &[&str]) {
    let mut rx = cache.subscribe();
    let wait = async {
        while content(cache) != want {
            let _ = rx.recv().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .is_err()
    {
        panic!(
            "cache never converged: have {:?}, want {want:?}",
            content(cache)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_converges_after_the_server_restarts() {
    let store = Arc::new(MemoryStore::new());
    let registry = Registry::new(store.clone());
    registry
        .create("default", pod("a", "a:1"))
        .await
        .expect("create");
    registry
        .create("default", pod("b", "b:1"))
        .await
        .expect("create");

    let server = ServerProcess::start(store.clone(), 0);
    let port = server.addr.port();
    let client = HttpClient::new(&format!("http://{}", server.addr)).expect("client");
    let writer = Writer::<Pod>::new();
    let cache = writer.cache();
    let watcher = Watcher::<_, Pod>::new(client, None, ListParams::default(), Clock::real())
        .with_backoff(
            Backoff::new(Duration::from_millis(20), Duration::from_millis(200)),
            SplitMix64::new(7),
        );
    let task = tokio::spawn(watcher.reflect(writer));
    converge(&cache, &["a=a:1", "b=b:1"]).await;

    server.stop();
    // Changes while the server is down: an add, an update and a delete.
    registry
        .create("default", pod("c", "c:1"))
        .await
        .expect("create");
    let mut b: Pod = registry.get("default", "b").await.expect("get");
    b.spec.containers[0].image = "b:2".into();
    registry.update("default", "b", b).await.expect("update");
    registry
        .delete::<Pod>("default", "a")
        .await
        .expect("delete");

    let server = ServerProcess::start(store.clone(), port);
    converge(&cache, &["b=b:2", "c=c:1"]).await;
    // And the new watch is live.
    registry
        .create("default", pod("d", "d:1"))
        .await
        .expect("create");
    converge(&cache, &["b=b:2", "c=c:1", "d=d:1"]).await;

    task.abort();
    server.stop();
}
