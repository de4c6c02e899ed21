//! The scheduler component against a real registry: in-process and over HTTP.

use crate::support::{seed_pod, TestServer};
use hyper::Method;
use kube_core::testing::{NodeBuilder, PodBuilder};
use kube_core::{DeleteOptions, Event, Node, Pod};
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::scheduler::{self, SchedulerConfig};
use kube_runtime::testing::TestCluster;
use serde_json::json;
use std::future::Future;
use std::time::Duration;
use tokio::sync::oneshot;

fn node(name: &str, cpu: &str, memory: &str) -> Node {
    NodeBuilder::new(name)
        .capacity("cpu", cpu)
        .capacity("memory", memory)
        .capacity("pods", "110")
        .build()
}

fn redis_pod(name: &str, cpu: &str) -> Pod {
    PodBuilder::new(name)
        .label("name", "redis")
        .container("redis", "redis")
        .host_port(6379)
        .request_cpu(cpu)
        .request_memory("64Mi")
        .build()
}

/// A scheduler running in the background; stops when dropped.
struct Running(Option<oneshot::Sender<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

fn start<C: ApiClient>(client: C) -> Running {
    let (tx, rx) = oneshot::channel();
    let config = SchedulerConfig {
        // Long enough that only the "at once" moves (node added, pod left) can explain a quick retry.
        initial_backoff: Duration::from_secs(30),
        ..SchedulerConfig::default()
    };
    tokio::spawn(scheduler::run(client, config, async {
        let _ = rx.await;
    }));
    Running(Some(tx))
}

/// Polls `check` until it returns `Some`, for up to 10 s.
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    for _ in 0..200 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn node_of<C: ApiClient>(c: &C, name: &str) -> String {
    c.get::<Pod>("default", name)
        .await
        .map(|p| p.spec.node_name)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_ports_spread_pods_and_block_the_extra_one() {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.in_process().clone();
    for n in ["n1", "n2", "n3"] {
        client.create("", &node(n, "4", "8Gi")).await.unwrap();
    }
    let _s = start(client.clone());
    for i in 0..3 {
        client
            .create("default", &redis_pod(&format!("r{i}"), "100m"))
            .await
            .unwrap();
    }
    let mut placed = Vec::new();
    for i in 0..3 {
        let name = format!("r{i}");
        placed.push(
            eventually("binding", || async {
                Some(node_of(&client, &name).await).filter(|n| !n.is_empty())
            })
            .await,
        );
    }
    placed.sort();
    assert_eq!(
        placed,
        ["n1", "n2", "n3"],
        "hostPort 6379 allows one such pod per node"
    );

    // A fourth pod cannot fit anywhere: condition, reason and event say why.
    client
        .create("default", &redis_pod("r3", "100m"))
        .await
        .unwrap();
    let cond = eventually("unschedulable condition", || async {
        let p: Pod = client.get("default", "r3").await.ok()?;
        p.status
            .condition("PodScheduled")
            .filter(|c| c.status == "False")
            .cloned()
    })
    .await;
    assert_eq!(cond.reason, "Unschedulable");
    assert_eq!(
        cond.message,
        "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports."
    );
    let events = eventually("FailedScheduling event", || async {
        let evs = client
            .list::<Event>(
                Some("default"),
                &ListParams::fields("involvedObject.name=r3"),
            )
            .await
            .ok()?;
        Some(evs.items).filter(|e| !e.is_empty())
    })
    .await;
    assert_eq!(events[0].reason, "FailedScheduling");
    assert_eq!(events[0].type_, "Warning");
    assert_eq!(events[0].source.component, "scheduler");

    // A new node makes it schedulable at once (backoff is 30 s in this test).
    client.create("", &node("n4", "4", "8Gi")).await.unwrap();
    let n = eventually("placement on the new node", || async {
        Some(node_of(&client, "r3").await).filter(|n| !n.is_empty())
    })
    .await;
    assert_eq!(n, "n4");
    // Scheduled events are recorded in the background after each bind.
    eventually("a Scheduled event per bound pod", || async {
        let evs = client
            .list::<Event>(Some("default"), &ListParams::fields("reason=Scheduled"))
            .await
            .ok()?;
        (evs.items.len() >= 4).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_leaving_frees_room_at_once_and_resources_are_respected() {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.in_process().clone();
    client.create("", &node("small", "1", "1Gi")).await.unwrap();
    let _s = start(client.clone());
    let msg = |name: &'static str| {
        let client = client.clone();
        async move {
            let p: Pod = client.get("default", name).await.ok()?;
            p.status
                .condition("PodScheduled")
                .filter(|c| c.status == "False")
                .map(|c| c.message.clone())
        }
    };
    // Checked before anything holds port 6379: the first failing filter is the reason.
    client
        .create("default", &redis_pod("big", "2"))
        .await
        .unwrap();
    assert_eq!(
        eventually("big unschedulable", || msg("big")).await,
        "0/1 nodes are available: 1 Insufficient cpu."
    );
    client
        .create("default", &redis_pod("a", "500m"))
        .await
        .unwrap();
    eventually("a bound", || async {
        Some(node_of(&client, "a").await).filter(|n| !n.is_empty())
    })
    .await;
    client
        .create("default", &redis_pod("b", "500m"))
        .await
        .unwrap();
    assert!(eventually("b unschedulable", || msg("b"))
        .await
        .contains("free ports"));

    // Removing the pod holding the port (grace 0: a bound pod is otherwise only marked for
    // graceful deletion and keeps its port) lets b in at once.
    client
        .delete_with::<Pod>("default", "a", &DeleteOptions::immediate())
        .await
        .unwrap();
    let n = eventually("b bound", || async {
        Some(node_of(&client, "b").await).filter(|n| !n.is_empty())
    })
    .await;
    assert_eq!(n, "small");
    assert_eq!(node_of(&client, "big").await, "", "big never fits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_the_seed_pod_gets_a_host() {
    let s = TestServer::start().await;
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/nodes",
            Some(json!({"metadata": {"name": "127.0.0.1"}})),
        )
        .await;
    assert_eq!(code, 201);
    let client = s.cluster.http().clone();
    let _sched = start(client);
    s.call(Method::POST, "/api/v1beta1/pods", Some(seed_pod()))
        .await;
    let host = eventually("the seed pod bound", || async {
        let (_, p) = s.call(Method::GET, "/api/v1beta1/pods/redis", None).await;
        p["desiredState"]["host"]
            .as_str()
            .filter(|h| !h.is_empty())
            .map(String::from)
    })
    .await;
    assert_eq!(host, "127.0.0.1");
}
