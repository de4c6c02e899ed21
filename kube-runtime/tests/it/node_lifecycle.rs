//! The node lifecycle controller on an in-process cluster, on paused time: a silent node
//! turns `Unknown` after the grace period, its pods are evicted after the eviction timeout
//! (and force-deleted once their grace has passed), evictions are rate limited across nodes,
//! a node that recovers keeps its pods, and nodes without conditions are left alone.
//! Heartbeats are simulated by writing the node's `Ready` condition from the test.

use kube_core::node::NodeCondition;
use kube_core::testing::{NodeBuilder, PodBuilder};
use kube_core::time::Timestamp;
use kube_core::{Node, Pod};
use kube_runtime::client::{ApiClient, InProcessClient};
use kube_runtime::clock::Clock;
use kube_runtime::controller::Shutdown;
use kube_runtime::controllers::node_lifecycle::{self, NodeLifecycleConfig};
use kube_runtime::testing::TestCluster;
use std::time::Duration;
use tokio::time::Instant;

const NS: &str = "default";

fn t0() -> Timestamp {
    Timestamp::from_unix(1_795_842_000, 0)
}

struct Env {
    cluster: TestCluster,
    start: Instant,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl Env {
    async fn start() -> Env {
        let start = Instant::now();
        let clock = Clock::virtual_at(t0());
        let cluster = TestCluster::builder()
            .clock(clock.clone())
            .start()
            .await
            .expect("cluster");
        let config = NodeLifecycleConfig {
            clock,
            ..NodeLifecycleConfig::default()
        };
        let shutdown = Shutdown::new();
        let task = tokio::spawn(node_lifecycle::run(
            cluster.in_process().clone(),
            config,
            shutdown.clone(),
        ));
        Env {
            cluster,
            start,
            shutdown,
            task,
        }
    }

    fn client(&self) -> &InProcessClient {
        self.cluster.in_process()
    }

    /// Seconds of virtual time since the start.
    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Sleeps until `secs` after the start.
    async fn at(&self, secs: u64) {
        tokio::time::sleep_until(self.start + Duration::from_secs(secs)).await;
    }

    /// A node with a fresh `Ready=True` heartbeat (`managed`), or without any condition.
    async fn add_node(&self, name: &str, managed: bool) {
        self.client()
            .create("", &NodeBuilder::new(name).build())
            .await
            .expect("create node");
        if managed {
            heartbeat(self.client(), self.cluster.clock(), name).await;
        }
    }

    async fn add_pod(&self, name: &str, node: &str) {
        let pod = PodBuilder::new(name)
            .node(node)
            .container("c", "img")
            .build();
        self.client().create(NS, &pod).await.expect("create pod");
    }

    async fn pod(&self, name: &str) -> Option<Pod> {
        self.client().get::<Pod>(NS, name).await.ok()
    }

    async fn terminating(&self, name: &str) -> bool {
        self.pod(name)
            .await
            .is_some_and(|p| !p.metadata.deletion_timestamp.is_empty())
    }

    /// The node's `Ready` condition (status, reason).
    async fn ready(&self, name: &str) -> Option<(String, String)> {
        let node: Node = self.client().get("", name).await.expect("get node");
        node.status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| (c.status.clone(), c.reason.clone()))
    }

    /// Heartbeats `name` every 10 s until the returned task is aborted.
    fn heartbeating(&self, name: &str) -> tokio::task::JoinHandle<()> {
        let client = self.client().clone();
        let clock = self.cluster.clock().clone();
        let name = name.to_string();
        tokio::spawn(async move {
            loop {
                heartbeat(&client, &clock, &name).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        })
    }

    async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        self.cluster.shutdown().await;
    }
}

/// Writes `Ready=True` with a heartbeat now, as a kubelet does (transition kept while True).
async fn heartbeat(client: &InProcessClient, clock: &Clock, name: &str) {
    for _ in 0..5 {
        let mut node: Node = client.get("", name).await.expect("get node");
        let now = clock.now().to_rfc3339();
        let conds = &mut node.status.conditions;
        let transition = conds
            .iter()
            .find(|c| c.type_ == "Ready" && c.status == "True")
            .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
        conds.retain(|c| c.type_ != "Ready");
        conds.push(NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            reason: "KubeletReady".into(),
            message: "kubelet is posting ready status".into(),
            last_heartbeat_time: now,
            last_transition_time: transition,
        });
        match client.update_status("", &node).await {
            Err(e) if e.is_conflict() => continue,
            r => {
                r.expect("heartbeat");
                return;
            }
        }
    }
    panic!("heartbeat of {name} kept conflicting");
}

fn unknown() -> Option<(String, String)> {
    Some(("Unknown".into(), "NodeStatusUnknown".into()))
}

fn ready() -> Option<(String, String)> {
    Some(("True".into(), "KubeletReady".into()))
}

#[tokio::test(start_paused = true)]
async fn a_silent_node_turns_unknown_after_the_grace_period_a_heartbeating_one_stays_ready() {
    let env = Env::start().await;
    env.add_node("alive", true).await;
    env.add_node("silent", true).await;
    let beat = env.heartbeating("alive");
    env.at(39).await;
    assert_eq!(env.ready("silent").await, ready(), "39 s: not yet");
    env.at(41).await;
    assert_eq!(env.ready("silent").await, unknown(), "41 s: Unknown");
    let node: Node = env.client().get("", "silent").await.expect("node");
    let c = &node.status.conditions[0];
    assert_eq!(c.message, "Kubelet stopped posting node status.");
    assert_eq!(c.last_heartbeat_time, t0().to_rfc3339(), "heartbeat kept");
    assert_eq!(
        c.last_transition_time,
        t0().saturating_add(Duration::from_secs(40)).to_rfc3339()
    );
    env.at(600).await;
    assert_eq!(
        env.ready("alive").await,
        ready(),
        "heartbeats keep it ready"
    );
    beat.abort();
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_pods_of_a_dead_node_are_evicted_after_the_timeout_then_forced_out() {
    let env = Env::start().await;
    env.add_node("dead", true).await;
    env.add_node("alive", true).await;
    let beat = env.heartbeating("alive");
    env.add_pod("p1", "dead").await;
    env.add_pod("p2", "dead").await;
    env.add_pod("q", "alive").await;
    // Unknown at 40 s, evicted 5 min later.
    env.at(339).await;
    assert_eq!(env.ready("dead").await, unknown());
    for p in ["p1", "p2"] {
        assert!(!env.terminating(p).await, "{p} not evicted before 5 min");
    }
    env.at(341).await;
    for p in ["p1", "p2"] {
        assert!(env.terminating(p).await, "{p} evicted after 5 min");
    }
    // The dead kubelet never finishes the graceful deletion (30 s): forced at its deadline.
    env.at(369).await;
    assert!(env.pod("p1").await.is_some(), "still within its grace");
    env.at(372).await;
    for p in ["p1", "p2"] {
        assert!(env.pod(p).await.is_none(), "{p} force-deleted");
    }
    let q = env.pod("q").await.expect("q stays");
    assert!(q.metadata.deletion_timestamp.is_empty(), "q untouched");
    beat.abort();
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn evictions_are_rate_limited_to_one_node_per_ten_seconds() {
    let env = Env::start().await;
    for n in ["n1", "n2"] {
        env.add_node(n, true).await;
    }
    env.add_pod("a", "n1").await;
    env.add_pod("b", "n2").await;
    env.at(330).await;
    let mut evicted: Vec<(String, f64)> = Vec::new();
    while evicted.len() < 2 && env.elapsed() < 400.0 {
        for p in ["a", "b"] {
            if !evicted.iter().any(|(n, _)| n == p) && env.terminating(p).await {
                evicted.push((p.to_string(), env.elapsed()));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(evicted.len(), 2, "both evicted: {evicted:?}");
    let (first, second) = (evicted[0].1, evicted[1].1);
    assert!(
        (340.0..341.0).contains(&first),
        "first at 340 s: {evicted:?}"
    );
    assert!(
        (9.5..=10.5).contains(&(second - first)),
        "second 10 s later: {evicted:?}"
    );
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_node_that_recovers_before_the_timeout_keeps_its_pods() {
    let env = Env::start().await;
    env.add_node("n1", true).await;
    env.add_pod("p", "n1").await;
    env.at(45).await;
    assert_eq!(env.ready("n1").await, unknown());
    env.at(200).await;
    let beat = env.heartbeating("n1");
    env.at(201).await;
    assert_eq!(env.ready("n1").await, ready());
    env.at(900).await;
    assert!(
        !env.terminating("p").await,
        "a recovered node keeps its pods"
    );
    assert_eq!(env.ready("n1").await, ready());
    beat.abort();
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_node_without_conditions_is_left_alone() {
    let env = Env::start().await;
    env.add_node("static", false).await;
    env.add_pod("p", "static").await;
    env.at(900).await;
    let node: Node = env.client().get("", "static").await.expect("node");
    assert!(node.status.conditions.is_empty(), "{node:?}");
    assert!(!env.terminating("p").await, "its pods stay");
    env.stop().await;
}

/// Polls `check` every 100 ms (of virtual time) for up to `secs`.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole story: a replication controller, the scheduler and two kubelets on the fake
/// runtime; the kubelet running the pod stops, and 6 minutes later the pod runs on the other.
#[tokio::test(start_paused = true)]
async fn a_dead_kubelets_pod_is_recreated_on_the_other_node() {
    use kube_core::testing::ReplicationControllerBuilder;
    use kube_runtime::client::ListParams;
    use kube_runtime::controllers::replication::{self, ReplicationConfig};
    use kube_runtime::kubelet::{self, KubeletConfig};
    use kube_runtime::runtime::FakeRuntime;
    use kube_runtime::scheduler::{self, SchedulerConfig};
    use std::sync::Arc;

    let env = Env::start().await;
    let client = env.client().clone();
    let clock = env.cluster.clock().clone();
    let mut kubelets = Vec::new();
    for n in ["n1", "n2"] {
        let fake = FakeRuntime::new(clock.clone());
        fake.add_image("kube-test/pause:latest");
        fake.add_image("app:1");
        let mut config = KubeletConfig::new(n);
        config.clock = clock.clone();
        config.port = 0;
        config.cpu_millis = Some(4000);
        config.memory_bytes = Some(8 << 30);
        let stop = Shutdown::new();
        let task = tokio::spawn(kubelet::run(
            client.clone(),
            Arc::new(fake),
            config,
            stop.clone(),
        ));
        kubelets.push((n, stop, task));
    }
    let stop_others = Shutdown::new();
    let s = stop_others.clone();
    let sched = tokio::spawn(scheduler::run(
        client.clone(),
        SchedulerConfig {
            clock: clock.clone(),
            ..SchedulerConfig::default()
        },
        async move { s.triggered().await },
    ));
    let rcs = tokio::spawn(replication::run(
        client.clone(),
        ReplicationConfig {
            clock: clock.clone(),
            ..ReplicationConfig::default()
        },
        stop_others.clone(),
    ));
    let rc = ReplicationControllerBuilder::new("web")
        .replicas(1)
        .selector("app", "web")
        .template(
            PodBuilder::new("x")
                .label("app", "web")
                .container("c", "app:1"),
        )
        .build();
    client.create(NS, &rc).await.expect("create rc");
    let running = |avoid: String| {
        let client = client.clone();
        async move {
            let pods = client
                .list::<Pod>(Some(NS), &ListParams::default())
                .await
                .ok()?
                .items;
            match pods.as_slice() {
                [p] if p.status.phase == "Running" && p.spec.node_name != avoid => Some(p.clone()),
                _ => None,
            }
        }
    };
    let first = eventually("one pod Running", 30, || running(String::new())).await;
    let dead = first.spec.node_name.clone();
    let i = kubelets
        .iter()
        .position(|(n, _, _)| *n == dead)
        .expect("a kubelet's node");
    let (_, stop, task) = kubelets.remove(i);
    stop.trigger();
    let _ = task.await;
    let stopped_at = env.elapsed();

    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    let second = eventually("the pod Running on the other node", 60, || {
        running(dead.clone())
    })
    .await;
    assert_ne!(second.metadata.name, first.metadata.name);
    assert_eq!(env.ready(&dead).await, unknown());
    let moved_after = env.elapsed() - stopped_at;
    assert!(
        moved_after < 6.0 * 60.0 + 60.0,
        "moved {moved_after} s after the kubelet stopped"
    );

    stop_others.trigger();
    let _ = sched.await;
    let _ = rcs.await;
    for (_, stop, task) in kubelets {
        stop.trigger();
        let _ = task.await;
    }
    env.stop().await;
}
