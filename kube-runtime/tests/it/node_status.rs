//! Node registration and heartbeat against a test cluster, on paused time.

use crate::stub_runtime::StubRuntime;
use kube_core::error::ApiError;
use kube_core::kubelet::node_status::{KUBELET_VERSION, LABEL_HOSTNAME};
use kube_core::quantity::Quantity;
use kube_core::runtime::RuntimeError;
use kube_core::time::Timestamp;
use kube_core::{Node, ResourceKind};
use kube_runtime::client::ApiClient;
use kube_runtime::clock::Clock;
use kube_runtime::controller::shutdown::Shutdown;
use kube_runtime::kubelet::node_status::{
    register_node, run_heartbeat, NodeStatusConfig, NodeStatusError,
};
use kube_runtime::testing::{RecordingClient, TestCluster, Verb};
use std::sync::Arc;
use std::time::Duration;

fn start() -> Timestamp {
    Timestamp::from_unix(1_795_842_000, 0)
}

fn t(secs: u64) -> String {
    start()
        .saturating_add(Duration::from_secs(secs))
        .to_rfc3339()
}

async fn cluster() -> TestCluster {
    TestCluster::builder()
        .clock(Clock::virtual_at(start()))
        .start()
        .await
        .expect("cluster")
}

fn config(c: &TestCluster) -> NodeStatusConfig {
    NodeStatusConfig {
        cpu_millis: Some(4000),
        memory_bytes: Some(2 << 30),
        kubelet_port: 10251,
        clock: c.clock().clone(),
        ..NodeStatusConfig::new("n1")
    }
}

fn q(s: &str) -> Quantity {
    Quantity(s.into())
}

/// (status, reason, message, heartbeat, transition) of the Ready condition.
fn ready(node: &Node) -> (String, String, String, String, String) {
    let c = node
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("a Ready condition");
    (
        c.status.clone(),
        c.reason.clone(),
        c.message.clone(),
        c.last_heartbeat_time.clone(),
        c.last_transition_time.clone(),
    )
}

async fn registration_creates_the_node<C: ApiClient>(client: C, c: &TestCluster) {
    let rt = StubRuntime::new();
    let node = register_node(&client, &rt, &config(c), &Shutdown::new())
        .await
        .expect("registered");
    let stored: Node = c.in_process().get("", "n1").await.unwrap();
    assert_eq!(
        stored.metadata.resource_version,
        node.metadata.resource_version
    );
    assert_eq!(stored.metadata.labels.get(LABEL_HOSTNAME).unwrap(), "n1");
    for list in [&stored.status.capacity, &stored.status.allocatable] {
        assert_eq!(list.get("cpu"), Some(&q("4")));
        assert_eq!(list.get("memory"), Some(&q("2Gi")));
        assert_eq!(list.get("pods"), Some(&q("110")));
    }
    let addrs: Vec<(&str, &str)> = stored
        .status
        .addresses
        .iter()
        .map(|a| (a.type_.as_str(), a.address.as_str()))
        .collect();
    assert_eq!(addrs, [("InternalIP", "127.0.0.1"), ("Hostname", "n1")]);
    assert_eq!(stored.status.daemon_endpoints.kubelet_endpoint.port, 10251);
    assert_eq!(stored.status.node_info.kubelet_version, KUBELET_VERSION);
    assert_eq!(
        stored.status.node_info.container_runtime_version,
        "docker://20.10.24"
    );
    assert_eq!(
        ready(&stored),
        (
            "True".into(),
            "KubeletReady".into(),
            "kubelet is posting ready status".into(),
            t(0),
            t(0)
        )
    );
}

#[tokio::test(start_paused = true)]
async fn registration_creates_the_node_in_process() {
    let c = cluster().await;
    registration_creates_the_node(c.in_process().clone(), &c).await;
}

#[tokio::test(start_paused = true)]
async fn registration_creates_the_node_over_http() {
    let c = cluster().await;
    registration_creates_the_node(c.http().clone(), &c).await;
}

#[tokio::test(start_paused = true)]
async fn registration_merges_into_an_existing_node() {
    let c = cluster().await;
    let mut existing = Node::default();
    existing.metadata.name = "n1".into();
    existing.metadata.labels.insert("zone".into(), "a".into());
    existing
        .metadata
        .labels
        .insert(LABEL_HOSTNAME.into(), "wrong".into());
    existing.spec.unschedulable = true;
    existing.status.capacity.insert("cpu".into(), q("64"));
    c.in_process().create("", &existing).await.unwrap();

    tokio::time::sleep(Duration::from_secs(60)).await;
    let rt = StubRuntime::new();
    register_node(c.in_process(), &rt, &config(&c), &Shutdown::new())
        .await
        .expect("registered");
    let stored: Node = c.in_process().get("", "n1").await.unwrap();
    assert_eq!(stored.metadata.labels.get("zone").unwrap(), "a");
    assert_eq!(stored.metadata.labels.get(LABEL_HOSTNAME).unwrap(), "n1");
    assert!(stored.spec.unschedulable, "the spec is not the kubelet's");
    assert_eq!(stored.status.capacity.get("cpu"), Some(&q("4")));
    assert_eq!(stored.status.daemon_endpoints.kubelet_endpoint.port, 10251);
    assert_eq!(ready(&stored).0, "True");
    assert_eq!(ready(&stored).3, t(60));
}

#[tokio::test(start_paused = true)]
async fn registration_retries_transient_failures_and_stops_on_shutdown() {
    let c = cluster().await;
    let client = RecordingClient::new(c.in_process().clone());
    client.fail_once(
        Verb::Create,
        ResourceKind::Nodes,
        ApiError::Transport("connection refused".into()),
    );
    client.fail_once(
        Verb::Create,
        ResourceKind::Nodes,
        ApiError::ServiceUnavailable("etcd down".into()),
    );
    let rt = StubRuntime::new();
    let begin = tokio::time::Instant::now();
    register_node(&client, &rt, &config(&c), &Shutdown::new())
        .await
        .expect("registered after retries");
    assert_eq!(client.count(Verb::Create, ResourceKind::Nodes), 3);
    // Two backoff delays: ~100 ms and ~200 ms (±20 %).
    let waited = begin.elapsed();
    assert!(
        waited >= Duration::from_millis(240) && waited <= Duration::from_millis(360),
        "{waited:?}"
    );

    // A refusal that no retry fixes ends the registration.
    client.fail_on(
        Verb::Create,
        ResourceKind::Nodes,
        ApiError::BadRequest("no".into()),
    );
    let err = register_node(&client, &rt, &config(&c), &Shutdown::new())
        .await
        .unwrap_err();
    assert!(matches!(err, NodeStatusError::Api { .. }), "{err:?}");

    // Retrying forever ends on shutdown.
    client.clear_failures();
    client.fail_on(
        Verb::Create,
        ResourceKind::Nodes,
        ApiError::Transport("refused".into()),
    );
    let shutdown = Shutdown::new();
    let stopper = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        stopper.trigger();
    });
    let err = register_node(&client, &rt, &config(&c), &shutdown)
        .await
        .unwrap_err();
    assert!(matches!(err, NodeStatusError::Shutdown(_)), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn heartbeat_refreshes_ready_and_reports_the_runtime_down() {
    let c = cluster().await;
    let rt = Arc::new(StubRuntime::new());
    let cfg = config(&c);
    register_node(c.in_process(), &*rt, &cfg, &Shutdown::new())
        .await
        .expect("registered");
    let shutdown = Shutdown::new();
    let beat = tokio::spawn({
        let (client, rt, cfg, shutdown) = (
            c.in_process().clone(),
            rt.clone(),
            cfg.clone(),
            shutdown.clone(),
        );
        async move { run_heartbeat(&client, &*rt, &cfg, shutdown).await }
    });
    let read = || async {
        let n: Node = c.in_process().get("", "n1").await.unwrap();
        ready(&n)
    };

    // Between beats: read at 5, 15, 25, ... s, beats at 10, 20, 30, ... s.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(read().await.3, t(0), "no beat before the first period");
    // (at, runtime up?, status, heartbeat, transition)
    let steps: [(u64, bool, &str, u64, u64); 5] = [
        (15, true, "True", 10, 0),
        (25, false, "False", 20, 20),
        (35, false, "False", 30, 20),
        (45, true, "True", 40, 40),
        (55, true, "True", 50, 40),
    ];
    for (at, up, status, heartbeat, transition) in steps {
        if up {
            rt.set_version(Ok(StubRuntime::docker_version()));
        } else {
            rt.set_version(Err(RuntimeError::Unavailable(
                "Cannot connect to the Docker daemon".into(),
            )));
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
        let (s, reason, message, hb, tr) = read().await;
        assert_eq!(
            (s.as_str(), hb, tr),
            (status, t(heartbeat), t(transition)),
            "at {at}"
        );
        if up {
            assert_eq!(reason, "KubeletReady", "at {at}");
        } else {
            assert_eq!(reason, "KubeletNotReady", "at {at}");
            assert!(
                message.contains("Cannot connect to the Docker daemon"),
                "{message}"
            );
        }
    }

    shutdown.trigger();
    beat.await.unwrap().expect("heartbeat ends cleanly");
}

#[tokio::test(start_paused = true)]
async fn heartbeat_recreates_a_deleted_node_and_survives_api_errors() {
    let c = cluster().await;
    let client = RecordingClient::new(c.in_process().clone());
    let rt = Arc::new(StubRuntime::new());
    let cfg = config(&c);
    let shutdown = Shutdown::new();
    let beat = tokio::spawn({
        let (client, rt, cfg, shutdown) =
            (client.clone(), rt.clone(), cfg.clone(), shutdown.clone());
        async move { run_heartbeat(&client, &*rt, &cfg, shutdown).await }
    });
    // No node yet: the first beat creates it.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let n: Node = c.in_process().get("", "n1").await.unwrap();
    assert_eq!(ready(&n).3, t(10));

    // A conflicting write is retried at once by re-reading.
    client.fail_once(
        Verb::UpdateStatus,
        ResourceKind::Nodes,
        ApiError::Conflict {
            resource: "nodes".into(),
            name: "n1".into(),
            message: "stale".into(),
        },
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let n: Node = c.in_process().get("", "n1").await.unwrap();
    assert_eq!(ready(&n).3, t(20));
    assert_eq!(client.count(Verb::UpdateStatus, ResourceKind::Nodes), 2);

    // A failed beat is logged; the next one writes.
    client.fail_once(
        Verb::Get,
        ResourceKind::Nodes,
        ApiError::Transport("refused".into()),
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let n: Node = c.in_process().get("", "n1").await.unwrap();
    assert_eq!(ready(&n).3, t(20), "the beat at 30 s failed");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let n: Node = c.in_process().get("", "n1").await.unwrap();
    assert_eq!(ready(&n).3, t(40));

    shutdown.trigger();
    beat.await.unwrap().expect("heartbeat ends cleanly");
}
