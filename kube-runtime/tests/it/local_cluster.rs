//! `LocalCluster`: the whole cluster in one process on virtual time: the seed's controller
//! walkthrough, resizing, controller managers electing a leader, hollow nodes that crash and
//! come back.

use crate::support::eventually;
use crate::support::seed_rc;
use kube_core::pod::PHASE_RUNNING;
use kube_core::testing::{PodBuilder, ReplicationControllerBuilder};
use kube_core::time::Timestamp;
use kube_core::v1beta1::V1Beta1;
use kube_core::watch::WatchEventType;
use kube_core::{DeleteOptions, Node, Pod, ReplicationController};
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::local_cluster::LocalCluster;
use kube_runtime::runtime::fake::ImageBehaviour;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const NS: &str = "default";

fn virtual_clock() -> Clock {
    Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0))
}

async fn cluster(nodes: usize) -> LocalCluster {
    LocalCluster::builder()
        .clock(virtual_clock())
        .nodes(nodes)
        .start()
        .await
        .expect("local cluster")
}

async fn pods(c: &LocalCluster) -> Vec<Pod> {
    c.client()
        .list::<Pod>(Some(NS), &ListParams::default())
        .await
        .expect("list pods")
        .items
}

fn active(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_empty()
        && p.status.phase != "Succeeded"
        && p.status.phase != "Failed"
}

/// Waits until exactly `n` active pods are Running and returns them.
async fn running(c: &LocalCluster, n: usize) -> Vec<Pod> {
    eventually(&format!("{n} running pods"), 60, || async {
        let all: Vec<Pod> = pods(c).await.into_iter().filter(active).collect();
        let ok = all.len() == n && all.iter().all(|p| p.status.phase == PHASE_RUNNING);
        ok.then_some(all)
    })
    .await
}

fn web(replicas: i32) -> ReplicationController {
    ReplicationControllerBuilder::new("web")
        .replicas(replicas)
        .selector("app", "web")
        .template(
            PodBuilder::new("ignored")
                .label("app", "web")
                .container("c", "nginx"),
        )
        .build()
}

async fn set_replicas(c: &LocalCluster, name: &str, n: i32) {
    let mut rc: ReplicationController = c.client().get(NS, name).await.expect("get rc");
    rc.spec.replicas = Some(n);
    c.client().update(NS, &rc).await.expect("resize");
}

#[tokio::test(start_paused = true)]
async fn three_hollow_nodes_register_and_heartbeat() {
    let c = cluster(3).await;
    let nodes = eventually("3 ready nodes", 10, || async {
        let nodes = c
            .client()
            .list::<Node>(None, &ListParams::default())
            .await
            .expect("nodes")
            .items;
        let ready = nodes.iter().filter(|n| is_ready(n)).count();
        (ready == 3).then_some(nodes)
    })
    .await;
    let names: Vec<&str> = nodes.iter().map(|n| n.metadata.name.as_str()).collect();
    assert_eq!(names, ["node-1", "node-2", "node-3"]);
    let beat = heartbeat(&nodes[0]);
    tokio::time::sleep(Duration::from_secs(25)).await;
    let later: Node = c.client().get("", "node-1").await.expect("node");
    assert!(heartbeat(&later) > beat, "the heartbeat moved on");
    c.shutdown().await;
}

fn is_ready(n: &Node) -> bool {
    n.status
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn heartbeat(n: &Node) -> Timestamp {
    n.status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .and_then(|c| Timestamp::parse(&c.last_heartbeat_time).ok())
        .expect("a Ready heartbeat")
}

#[tokio::test(start_paused = true)]
async fn the_seed_controller_walkthrough() {
    let c = cluster(3).await;
    let rc = ReplicationController::from_v1beta1(seed_rc()).expect("seed rc converts");
    c.client()
        .create(NS, &rc)
        .await
        .expect("create redisController");
    let first = running(&c, 1).await;
    let pod = &first[0];
    assert!(pod.metadata.name.starts_with("rediscontroller-"));
    assert!(!pod.spec.node_name.is_empty(), "scheduled");
    assert!(!pod.status.pod_ip.is_empty(), "has a pod IP");
    // Delete it: another appears and runs.
    c.client()
        .delete_with::<Pod>(NS, &pod.metadata.name, &DeleteOptions::immediate())
        .await
        .expect("delete the pod");
    let second = eventually("a replacement", 60, || async {
        let now = running(&c, 1).await;
        (now[0].metadata.name != pod.metadata.name).then_some(now)
    })
    .await;
    assert_eq!(
        second[0].metadata.labels.get("name").map(String::as_str),
        Some("redis")
    );
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn resize_up_and_down_spreads_over_nodes() {
    let c = cluster(3).await;
    c.client().create(NS, &web(6)).await.expect("create rc");
    let six = running(&c, 6).await;
    let nodes: BTreeSet<&str> = six.iter().map(|p| p.spec.node_name.as_str()).collect();
    assert_eq!(nodes.len(), 3, "spread over every node: {nodes:?}");
    set_replicas(&c, "web", 2).await;
    running(&c, 2).await;
    // Terminated pods are gone from the nodes' runtimes too.
    eventually("containers removed", 60, || async {
        let running_containers: usize = c
            .node_names()
            .iter()
            .filter_map(|n| c.runtime(n))
            .map(|r| {
                r.containers()
                    .iter()
                    .filter(|i| i.state == kube_core::runtime::ContainerRunState::Running)
                    .count()
            })
            .sum();
        // Each pod: one infra and one app container.
        (running_containers == 4).then_some(())
    })
    .await;
    set_replicas(&c, "web", 4).await;
    running(&c, 4).await;
    let rc: ReplicationController = c.client().get(NS, "web").await.expect("rc");
    eventually("status.replicas 4", 30, || async {
        let rc: ReplicationController = c.client().get(NS, "web").await.expect("rc");
        (rc.status.replicas == 4).then_some(())
    })
    .await;
    assert_eq!(rc.spec.replicas, Some(4));
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn crashing_containers_are_restarted_by_the_hollow_kubelet() {
    let c = LocalCluster::builder()
        .clock(virtual_clock())
        .nodes(1)
        .image(
            "crasher",
            ImageBehaviour {
                pullable: true,
                run_for: Some(Duration::from_secs(5)),
                exit_code: 1,
                ..ImageBehaviour::default()
            },
        )
        .start()
        .await
        .expect("cluster");
    let pod = PodBuilder::new("crash").container("c", "crasher").build();
    c.client().create(NS, &pod).await.expect("create");
    let restarted = eventually("two restarts", 120, || async {
        let p: Pod = c.client().get(NS, "crash").await.expect("pod");
        let restarts = p.status.container_statuses.first().map(|s| s.restart_count);
        (restarts >= Some(2)).then_some(p)
    })
    .await;
    assert_eq!(restarted.spec.node_name, "node-1");
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_kubelet_adopts_its_running_pods() {
    let mut c = cluster(1).await;
    c.client().create(NS, &web(2)).await.expect("create rc");
    let before = running(&c, 2).await;
    let ids = |c: &LocalCluster| -> BTreeSet<String> {
        c.runtime("node-1")
            .expect("node")
            .containers()
            .into_iter()
            .map(|i| i.id)
            .collect()
    };
    let containers = ids(&c);
    c.stop_node("node-1").await.expect("stop");
    assert!(!c.node("node-1").expect("node").is_running());
    tokio::time::sleep(Duration::from_secs(20)).await;
    c.start_node("node-1").expect("start");
    tokio::time::sleep(Duration::from_secs(20)).await;
    let after = running(&c, 2).await;
    let names =
        |v: &[Pod]| -> BTreeSet<String> { v.iter().map(|p| p.metadata.name.clone()).collect() };
    assert_eq!(names(&before), names(&after));
    assert_eq!(ids(&c), containers, "no container was recreated");
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn two_controller_managers_never_make_more_pods_than_asked() {
    let mut c = LocalCluster::builder()
        .clock(virtual_clock())
        .nodes(2)
        .controller_managers(2)
        .start()
        .await
        .expect("cluster");
    // Watch every pod change and track the most active pods seen at any moment.
    let watch = c
        .client()
        .watch::<Pod>(Some(NS), &ListParams::default(), 0)
        .await
        .expect("watch pods");
    let most = Arc::new(AtomicUsize::new(0));
    let seen = most.clone();
    let counter = tokio::spawn(async move {
        let mut watch = watch;
        let mut live = BTreeSet::new();
        while let Some(Ok(ev)) = watch.next().await {
            let name = ev.object.metadata.name.clone();
            match ev.type_ {
                WatchEventType::Deleted => {
                    live.remove(&name);
                }
                _ if active(&ev.object) => {
                    live.insert(name);
                }
                _ => {
                    live.remove(&name);
                }
            }
            seen.fetch_max(live.len(), Ordering::SeqCst);
        }
    });
    c.client().create(NS, &web(3)).await.expect("create rc");
    running(&c, 3).await;
    // Find and kill the leader: the other takes over within the lease duration.
    let lease: kube_core::lease::Lease = c
        .client()
        .get("kube-system", "kube-controller-manager")
        .await
        .expect("the lease");
    let holder = lease.spec.holder_identity.clone();
    let leader: usize = holder
        .trim_start_matches("controller-manager-")
        .parse()
        .expect("holder index");
    assert!(c.kill_controller_manager(leader));
    // A pod deleted now is replaced only once the survivor leads.
    let victim = pods(&c).await.remove(0);
    c.client()
        .delete_with::<Pod>(NS, &victim.metadata.name, &DeleteOptions::immediate())
        .await
        .expect("delete");
    running(&c, 3).await;
    let lease: kube_core::lease::Lease = c
        .client()
        .get("kube-system", "kube-controller-manager")
        .await
        .expect("the lease");
    assert_ne!(
        lease.spec.holder_identity, holder,
        "the other manager leads"
    );
    set_replicas(&c, "web", 5).await;
    running(&c, 5).await;
    // Let the managers settle: nothing more may appear.
    tokio::time::sleep(Duration::from_secs(30)).await;
    counter.abort();
    assert_eq!(
        most.load(Ordering::SeqCst),
        5,
        "never more active pods than asked"
    );
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_dead_nodes_pods_are_recreated_elsewhere() {
    let mut c = cluster(2).await;
    c.client().create(NS, &web(4)).await.expect("create rc");
    let before = running(&c, 4).await;
    let on_node_2: BTreeSet<String> = before
        .iter()
        .filter(|p| p.spec.node_name == "node-2")
        .map(|p| p.metadata.name.clone())
        .collect();
    assert!(!on_node_2.is_empty(), "node-2 runs some pods");
    // node-2 stops heartbeating; six minutes later its pods run on node-1.
    c.stop_node("node-2").await.expect("stop node-2");
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    let after = running(&c, 4).await;
    assert!(
        after.iter().all(|p| p.spec.node_name == "node-1"),
        "every active pod on node-1: {:?}",
        after
            .iter()
            .map(|p| (&p.metadata.name, &p.spec.node_name))
            .collect::<Vec<_>>()
    );
    assert!(after.iter().all(|p| !on_node_2.contains(&p.metadata.name)));
    let node: Node = c.client().get("", "node-2").await.expect("node-2");
    let ready = node.status.conditions.iter().find(|c| c.type_ == "Ready");
    assert_eq!(ready.map(|c| c.status.as_str()), Some("Unknown"));
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_a_controller_collects_its_pods_unless_orphaned() {
    let c = cluster(2).await;
    c.client().create(NS, &web(3)).await.expect("create rc");
    running(&c, 3).await;
    c.client()
        .delete::<ReplicationController>(NS, "web")
        .await
        .expect("delete rc");
    eventually("pods collected", 120, || async {
        pods(&c).await.is_empty().then_some(())
    })
    .await;
    // Orphan: the pods stay, released.
    c.client()
        .create(NS, &web(2))
        .await
        .expect("create rc again");
    running(&c, 2).await;
    let orphan = DeleteOptions {
        propagation_policy: Some(kube_core::deletion::PropagationPolicy::Orphan),
        ..DeleteOptions::default()
    };
    c.client()
        .delete_with::<ReplicationController>(NS, "web", &orphan)
        .await
        .expect("orphan delete");
    eventually("controller gone, pods released", 120, || async {
        let gone = c
            .client()
            .get::<ReplicationController>(NS, "web")
            .await
            .is_err();
        let left = pods(&c).await;
        let released =
            left.len() == 2 && left.iter().all(|p| p.metadata.owner_references.is_empty());
        (gone && released).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(running(&c, 2).await.len(), 2, "orphans are not collected");
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn pod_creates_failing_for_a_while_still_end_at_exactly_the_replicas() {
    use kube_runtime::store::{MemoryStore, SharedStore};
    use kube_runtime::testing::faulty_store::Times;
    use kube_runtime::testing::{Fault, FaultyStore, StoreOp};

    let clock = virtual_clock();
    let faulty = Arc::new(FaultyStore::with_clock(
        Arc::new(MemoryStore::new()) as SharedStore,
        clock.clone(),
    ));
    // The first five pod creates fail: slow start stops at each failure and retries later.
    faulty.inject_under(
        &[StoreOp::Create],
        "/registry/pods/",
        Fault::Unavailable,
        Times::N(5),
    );
    let c = LocalCluster::builder()
        .clock(clock)
        .store(faulty.clone() as SharedStore)
        .nodes(2)
        .start()
        .await
        .expect("cluster");
    c.client().create(NS, &web(10)).await.expect("create rc");
    running(&c, 10).await;
    assert_eq!(faulty.faults_fired(), 5, "every injected failure was hit");
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(pods(&c).await.len(), 10, "no more pods than asked");
    c.shutdown().await;
}
