//! The controller on paused time, through the recording client over an in-process API on a
//! memory store.

use super::*;
use kube_core::meta::ObjectReference;
use kube_core::pod::Container;
use kube_core::ResourceKind;
use kube_core::{Binding, Object, ObjectMeta, Timestamp};
use kube_runtime::client::InProcessClient;
use kube_runtime::controller::QueueConfig;
use kube_runtime::registry::Registry;
use kube_runtime::store::MemoryStore;
use kube_runtime::testing::{RecordingClient, Verb};
use std::time::Duration;

fn pod(name: &str, labels: &[(&str, &str)]) -> Pod {
    let mut p = Pod::default();
    p.set_type_meta();
    p.metadata.name = name.into();
    p.metadata.labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    p.spec.containers.push(Container {
        name: "c".into(),
        image: "busybox".into(),
        ..Container::default()
    });
    p
}

fn with_node(name: &str, node: &str, labels: &[(&str, &str)]) -> Pod {
    let mut p = pod(name, labels);
    p.spec.node_name = node.into();
    p
}

#[test]
fn desired_labels_follow_the_node() {
    // (pod, expected `node` label after the change, or None for no change)
    let cases = [
        (pod("unscheduled", &[]), None),
        (pod("unscheduled-labelled", &[("node", "x")]), None),
        (with_node("new", "n1", &[]), Some("n1")),
        (with_node("stale", "n1", &[("node", "n2")]), Some("n1")),
        (with_node("done", "n1", &[("node", "n1")]), None),
    ];
    for (p, want) in cases {
        let got = desired_labels(&p);
        assert_eq!(
            got.as_ref().map(|l| l[NODE_LABEL].as_str()),
            want,
            "{}",
            p.metadata.name
        );
        if let Some(labels) = got {
            // Other labels are kept.
            for (k, v) in &p.metadata.labels {
                if k != NODE_LABEL {
                    assert_eq!(labels.get(k), Some(v));
                }
            }
        }
    }
}

async fn bind(client: &InProcessClient, name: &str, node: &str) {
    let binding = Binding {
        metadata: ObjectMeta {
            name: name.into(),
            ..ObjectMeta::default()
        },
        target: ObjectReference {
            kind: "Node".into(),
            name: node.into(),
            ..ObjectReference::default()
        },
        ..Binding::default()
    };
    client.bind("default", &binding).await.unwrap();
}

async fn label_of(client: &InProcessClient, name: &str) -> Option<String> {
    let p: Pod = client.get("default", name).await.unwrap();
    p.metadata.labels.get(NODE_LABEL).cloned()
}

#[tokio::test(start_paused = true)]
async fn scheduled_pods_get_their_node_label_through_conflicts() {
    let api = InProcessClient::new(Registry::new(Arc::new(MemoryStore::new())));
    api.create("default", &pod("p1", &[("app", "web")]))
        .await
        .unwrap();
    api.create("default", &pod("p2", &[("node", "n2")]))
        .await
        .unwrap();
    api.create("default", &pod("p3", &[])).await.unwrap();
    bind(&api, "p1", "n1").await;
    bind(&api, "p2", "n2").await;

    let client = RecordingClient::new(api.clone());
    let clock = Clock::virtual_at(Timestamp::parse("2014-10-30T15:57:02Z").unwrap());
    let config = ControllerConfig {
        workers: 2,
        resync: None,
        queue: QueueConfig {
            seed: Some(1),
            ..QueueConfig::default()
        },
    };
    let shutdown = Shutdown::new();
    let task = tokio::spawn(run(client.clone(), clock, config, shutdown.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Only the scheduled pod without its label is written; p2 already has it, p3 has no node.
    assert_eq!(client.writes(), ["update pods default/p1"]);
    assert_eq!(label_of(&api, "p1").await.as_deref(), Some("n1"));
    assert_eq!(label_of(&api, "p3").await, None);
    let p1: Pod = api.get("default", "p1").await.unwrap();
    assert_eq!(p1.metadata.labels["app"], "web", "other labels are kept");

    // A pod scheduled later is labelled as soon as the binding is seen.
    client.take_calls();
    bind(&api, "p3", "n1").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(client.writes(), ["update pods default/p3"]);
    assert_eq!(label_of(&api, "p3").await.as_deref(), Some("n1"));

    // Someone sets a wrong label; the first fix hits a conflict, the retry (after the
    // per-key backoff) succeeds, and the controller's own write causes no further one.
    client.take_calls();
    client.fail_once(
        Verb::Update,
        ResourceKind::Pods,
        ApiError::Conflict {
            resource: "pods".into(),
            name: "p1".into(),
            message: "injected".into(),
        },
    );
    let mut wrong: Pod = api.get("default", "p1").await.unwrap();
    wrong
        .metadata
        .labels
        .insert(NODE_LABEL.into(), "elsewhere".into());
    api.update("default", &wrong).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let calls = client.calls();
    let updates: Vec<_> = calls.iter().filter(|c| c.verb == Verb::Update).collect();
    assert_eq!(updates.len(), 2, "{:?}", client.summary());
    assert!(matches!(updates[0].error, Some(ApiError::Conflict { .. })));
    assert!(updates[1].error.is_none());
    assert_eq!(
        updates[1].object.as_ref().unwrap()["metadata"]["labels"][NODE_LABEL],
        "n1"
    );
    assert_eq!(label_of(&api, "p1").await.as_deref(), Some("n1"));

    // A deleted pod is simply forgotten.
    client.take_calls();
    api.delete::<Pod>("default", "p3").await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(client.writes().is_empty(), "{:?}", client.summary());

    shutdown.trigger();
    task.await.unwrap();
}

/// The controller against a whole in-process cluster on virtual time: a replication controller
/// makes pods, the scheduler places them on hollow nodes, and this controller labels each with
/// its node, also after a node dies and its pods are recreated elsewhere.
#[tokio::test(start_paused = true)]
async fn labels_the_pods_of_a_local_cluster_as_they_move() {
    use kube_core::testing::{PodBuilder, ReplicationControllerBuilder};
    use kube_runtime::local_cluster::LocalCluster;

    let clock = Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0));
    let mut cluster = LocalCluster::builder()
        .clock(clock.clone())
        .nodes(2)
        .start()
        .await
        .expect("cluster");
    let shutdown = Shutdown::new();
    let controller = tokio::spawn(run(
        cluster.client().clone(),
        clock,
        ControllerConfig::default(),
        shutdown.clone(),
    ));
    let rc = ReplicationControllerBuilder::new("web")
        .replicas(4)
        .selector("app", "web")
        .template(
            PodBuilder::new("ignored")
                .label("app", "web")
                .container("c", "nginx"),
        )
        .build();
    cluster.client().create("default", &rc).await.expect("rc");
    let labelled = |cluster: &LocalCluster| {
        let client = cluster.client().clone();
        async move {
            let pods = client
                .list::<Pod>(Some("default"), &ListParams::default())
                .await
                .expect("pods")
                .items;
            let live: Vec<Pod> = pods
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_empty())
                .collect();
            let all = live.len() == 4
                && live.iter().all(|p| {
                    !p.spec.node_name.is_empty()
                        && p.metadata.labels.get("node") == Some(&p.spec.node_name)
                });
            all.then_some(live)
        }
    };
    let mut pods = None;
    for _ in 0..600 {
        pods = labelled(&cluster).await;
        if pods.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pods.is_some(), "four pods labelled with their node");
    // node-2 dies; six minutes later its pods run on node-1, labelled so.
    cluster.stop_node("node-2").await.expect("stop node-2");
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    let mut moved = None;
    for _ in 0..600 {
        moved = labelled(&cluster)
            .await
            .filter(|pods| pods.iter().all(|p| p.spec.node_name == "node-1"));
        if moved.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        moved.is_some(),
        "every pod on node-1 and labelled node=node-1"
    );
    shutdown.trigger();
    let _ = controller.await;
    cluster.shutdown().await;
}
