//! The controller verbs against an in-process API server (`TestCluster`), with errors injected
//! by `RecordingClient`; no controller runs, so pods only appear when a test creates them.

use super::*;
use crate::controller_specs::{run_controller, TEMPLATE_HASH_ANNOTATION};
use kube_core::error::ApiError;
use kube_core::meta::ObjectMeta;
use kube_core::pod::{Container, PodSpec};
use kube_core::ResourceKind;
use kube_runtime::client::InProcessClient;
use kube_runtime::testing::{RecordingClient, TestCluster, Verb};

/// A 409 Conflict as the HTTP client returns it: the server's `Status`.
fn conflict() -> ApiError {
    ApiError::from_status(
        ApiError::Conflict {
            resource: "replicationcontrollers".into(),
            name: "web".into(),
            message: "the object has been modified".into(),
        }
        .to_status(),
    )
}

async fn cluster_with_web(replicas: i32) -> (TestCluster, RecordingClient<InProcessClient>) {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = RecordingClient::new(cluster.in_process().clone());
    client
        .create("default", &run_controller("img:1", replicas, "web", vec![]))
        .await
        .expect("create rc");
    (cluster, client)
}

async fn create_pod(client: &impl ApiClient, name: &str) {
    let pod = Pod {
        metadata: ObjectMeta {
            name: name.into(),
            labels: [("simpleService".to_string(), "web".to_string())].into(),
            ..ObjectMeta::default()
        },
        spec: PodSpec {
            containers: vec![Container {
                name: "web".into(),
                image: "img:1".into(),
                ..Container::default()
            }],
            ..PodSpec::default()
        },
        ..Pod::default()
    };
    client.create("default", &pod).await.expect("create pod");
}

#[tokio::test(start_paused = true)]
async fn resize_reads_again_after_a_conflict() {
    let (_cluster, client) = cluster_with_web(1).await;
    client.fail_once(
        Verb::Update,
        ResourceKind::ReplicationControllers,
        conflict(),
    );
    let rc = resize(&client, "default", "web", 3).await.expect("resize");
    assert_eq!(rc.spec.replicas, Some(3));
    assert_eq!(
        client.count(Verb::Get, ResourceKind::ReplicationControllers),
        2
    );
    assert_eq!(
        client.count(Verb::Update, ResourceKind::ReplicationControllers),
        2
    );

    // The same count again: nothing to write.
    resize(&client, "default", "web", 3).await.expect("resize");
    assert_eq!(
        client.count(Verb::Update, ResourceKind::ReplicationControllers),
        2
    );

    client.fail_on(
        Verb::Update,
        ResourceKind::ReplicationControllers,
        conflict(),
    );
    let err = resize(&client, "default", "web", 4)
        .await
        .expect_err("gives up");
    assert!(
        err.to_string().contains("Operation cannot be fulfilled"),
        "{err}"
    );
    assert_eq!(
        client.count(Verb::Update, ResourceKind::ReplicationControllers),
        2 + UPDATE_ATTEMPTS
    );
}

#[tokio::test]
async fn rm_refuses_a_controller_with_replicas() {
    let (_cluster, client) = cluster_with_web(2).await;
    let err = rm(&client, "default", "web").await.expect_err("refused");
    assert_eq!(
        err.to_string(),
        "controller has non-zero replicas (2), please stop it first"
    );
    resize(&client, "default", "web", 0).await.expect("resize");
    rm(&client, "default", "web").await.expect("rm");
    let gone = client
        .get::<ReplicationController>("default", "web")
        .await
        .expect_err("deleted");
    assert!(gone.is_not_found(), "{gone}");
    let missing = rm(&client, "default", "web").await.expect_err("not found");
    assert!(missing.to_string().contains("not found"), "{missing}");
}

#[tokio::test(start_paused = true)]
async fn stop_waits_for_the_pods_and_says_which_remain() {
    let (_cluster, client) = cluster_with_web(2).await;
    create_pod(&client, "web-a").await;
    let waits = Waits {
        poll: Duration::from_millis(100),
        timeout: Duration::from_secs(2),
    };
    let err = stop(&client, "default", "web", waits)
        .await
        .expect_err("times out");
    let msg = err.to_string();
    assert!(
        msg.starts_with("timed out after 2s waiting for the pods of controller web to stop")
            && msg.contains("web-a"),
        "{msg}"
    );
    let rc: ReplicationController = client.get("default", "web").await.expect("get");
    assert_eq!(rc.spec.replicas, Some(0), "resized before waiting");

    // Once the pod goes, stop returns.
    client
        .delete::<Pod>("default", "web-a")
        .await
        .expect("delete pod");
    stop(&client, "default", "web", waits)
        .await
        .expect("stopped");
}

#[tokio::test]
async fn run_checks_the_service_name_before_creating_anything() {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.in_process().clone();
    let req = |name: &str, service_port| RunRequest {
        image: "nginx".into(),
        replicas: 2,
        name: name.into(),
        ports: "8080:80".into(),
        service_port,
    };
    let err = run(&client, "default", &req("Bad_Name", Some(80)))
        .await
        .expect_err("refused");
    assert!(
        err.to_string()
            .contains("Service names must be valid DNS labels"),
        "{err}"
    );
    let err = run(
        &client,
        "default",
        &RunRequest {
            ports: "80:x".into(),
            ..req("web", None)
        },
    )
    .await
    .expect_err("bad ports");
    assert!(err.to_string().contains("bad port spec"), "{err}");
    let rcs = client
        .list::<ReplicationController>(Some("default"), &ListParams::default())
        .await
        .expect("list");
    assert!(rcs.items.is_empty());

    let (rc, svc) = run(&client, "default", &req("web", Some(8000)))
        .await
        .expect("run");
    assert_eq!(rc.metadata.name, "web");
    let svc = svc.expect("service");
    assert_eq!(svc.spec.ports[0].port, 8000);
}

#[tokio::test]
async fn rolling_update_marks_the_template_and_skips_current_pods() {
    let (_cluster, client) = cluster_with_web(0).await;
    let settings = Rolling {
        period: Duration::ZERO,
        waits: Waits::default(),
        progress: Progress::Lines,
    };
    let mut out = Vec::new();
    let change = TemplateChange::Image("img:2".into());
    let done = rolling_update(&client, "default", "web", &change, settings, &mut out)
        .await
        .expect("update");
    assert_eq!(done, (0, 0));
    assert!(out.is_empty());
    let rc: ReplicationController = client.get("default", "web").await.expect("get");
    let template = rc.spec.template.expect("template");
    assert_eq!(template.spec.containers[0].image, "img:2");
    let hash = template.metadata.annotations[TEMPLATE_HASH_ANNOTATION].clone();

    // A pod made from that template counts as up to date and is left alone.
    let mut pod = Pod {
        metadata: template.metadata.clone(),
        spec: template.spec.clone(),
        ..Pod::default()
    };
    pod.metadata.name = "web-new".into();
    client.create("default", &pod).await.expect("create");
    let done = rolling_update(&client, "default", "web", &change, settings, &mut out)
        .await
        .expect("update");
    assert_eq!(done, (0, 1));
    let rc: ReplicationController = client.get("default", "web").await.expect("get");
    assert_eq!(
        rc.spec.template.expect("template").metadata.annotations[TEMPLATE_HASH_ANNOTATION],
        hash,
        "same change, same hash"
    );

    // An old pod beyond the replicas (here 0) is deleted without waiting for a replacement.
    create_pod(&client, "web-old").await;
    let done = rolling_update(&client, "default", "web", &change, settings, &mut out)
        .await
        .expect("update");
    assert_eq!(done, (1, 1));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "Updating web: pod web-old deleted (1/1)\n"
    );
    let left: Vec<String> = client
        .list::<Pod>(Some("default"), &ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|p| p.metadata.name)
        .collect();
    assert_eq!(left, ["web-new"]);

    let none = rolling_update(&client, "default", "nope", &change, settings, &mut out)
        .await
        .expect_err("not found");
    assert!(none.to_string().contains("not found"), "{none}");
}
