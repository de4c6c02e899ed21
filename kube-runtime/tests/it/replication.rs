//! The replication controller on an in-process cluster, on paused time: creation with
//! controller references, replacement, scale-down order, adoption, release, status, and the
//! seed's `redisController`.

use crate::support::eventually;
use crate::support::seed_rc;
use kube_core::backoff::Backoff;
use kube_core::error::ApiError;
use kube_core::pod::{PodCondition, CONDITION_READY, CONDITION_TRUE, PHASE_RUNNING};
use kube_core::testing::{PodBuilder, ReplicationControllerBuilder};
use kube_core::time::Timestamp;
use kube_core::v1beta1::V1Beta1;
use kube_core::ResourceKind;
use kube_core::{DeleteOptions, Pod, ReplicationController};
use kube_runtime::client::{ApiClient, InProcessClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::controller::{ControllerConfig, QueueConfig, Shutdown};
use kube_runtime::controllers::replication::{self, ReplicationConfig};
use kube_runtime::testing::recording::{RecordingClient, Verb};
use kube_runtime::testing::TestCluster;
use std::time::Duration;

const NS: &str = "default";

struct Env {
    cluster: TestCluster,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl Env {
    async fn start() -> Env {
        Env::start_with(|c| c.clone(), ReplicationConfig::default()).await
    }

    /// A cluster and the controller on the client `wrap` makes of the in-process one.
    async fn start_with<C: ApiClient>(
        wrap: impl FnOnce(&InProcessClient) -> C,
        config: ReplicationConfig,
    ) -> Env {
        let clock = Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0));
        let cluster = TestCluster::builder()
            .clock(clock.clone())
            .start()
            .await
            .expect("cluster");
        let config = ReplicationConfig { clock, ..config };
        let shutdown = Shutdown::new();
        let task = tokio::spawn(replication::run(
            wrap(cluster.in_process()),
            config,
            shutdown.clone(),
        ));
        Env {
            cluster,
            shutdown,
            task,
        }
    }

    fn client(&self) -> &InProcessClient {
        self.cluster.in_process()
    }

    async fn pods(&self) -> Vec<Pod> {
        let mut pods = self
            .client()
            .list::<Pod>(Some(NS), &ListParams::default())
            .await
            .expect("list pods")
            .items;
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        pods
    }

    async fn rc(&self, name: &str) -> ReplicationController {
        self.client().get(NS, name).await.expect("get rc")
    }

    /// Waits until exactly `n` pods exist and returns them.
    async fn pods_eventually(&self, n: usize) -> Vec<Pod> {
        eventually(&format!("{n} pods"), 10, || async {
            let pods = self.pods().await;
            (pods.len() == n).then_some(pods)
        })
        .await
    }

    async fn set_replicas(&self, name: &str, n: i32) {
        let mut rc = self.rc(name).await;
        rc.spec.replicas = Some(n);
        self.client().update(NS, &rc).await.expect("scale");
    }

    /// Marks a pod Running, ready or not.
    async fn set_running(&self, name: &str, ready: bool) {
        let mut pod: Pod = self.client().get(NS, name).await.expect("get pod");
        pod.status.phase = PHASE_RUNNING.into();
        pod.status.set_condition(PodCondition {
            type_: CONDITION_READY.into(),
            status: if ready { CONDITION_TRUE } else { "False" }.into(),
            ..PodCondition::default()
        });
        self.client()
            .update_status(NS, &pod)
            .await
            .expect("pod status");
    }

    async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        self.cluster.shutdown().await;
    }
}

fn web(replicas: i32) -> ReplicationController {
    ReplicationControllerBuilder::new("Web")
        .replicas(replicas)
        .selector("app", "web")
        .template(
            PodBuilder::new("ignored")
                .label("app", "web")
                .container("c", "img"),
        )
        .build()
}

fn owned_by(pod: &Pod, rc: &ReplicationController) -> bool {
    pod.metadata
        .controller_ref()
        .is_some_and(|r| r.uid == rc.metadata.uid && r.name == rc.metadata.name)
}

fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(|p| p.metadata.name.clone()).collect()
}

#[tokio::test(start_paused = true)]
async fn creates_the_replicas_named_and_owned_and_replaces_a_deleted_one() {
    let env = Env::start().await;
    let rc = env.client().create(NS, &web(3)).await.expect("create rc");
    let pods = env.pods_eventually(3).await;
    for p in &pods {
        let suffix = p.metadata.name.strip_prefix("web-").expect("named web-");
        assert_eq!(suffix.len(), 5, "{}", p.metadata.name);
        assert!(owned_by(p, &rc), "{p:?}");
        assert_eq!(
            p.metadata.labels.get("app").map(String::as_str),
            Some("web")
        );
    }
    let gone = pods[0].metadata.name.clone();
    env.client()
        .delete_with::<Pod>(NS, &gone, &DeleteOptions::immediate())
        .await
        .expect("delete");
    let after = eventually("a replacement", 10, || async {
        let pods = env.pods().await;
        (pods.len() == 3 && !names(&pods).contains(&gone)).then_some(pods)
    })
    .await;
    assert!(after.iter().all(|p| owned_by(p, &rc)));
    // Never more than asked: the count stays at 3.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(env.pods().await.len(), 3);
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn status_reports_replicas_ready_replicas_and_observed_generation() {
    let env = Env::start().await;
    env.client().create(NS, &web(2)).await.expect("create rc");
    let pods = env.pods_eventually(2).await;
    env.set_running(&pods[0].metadata.name, true).await;
    env.set_running(&pods[1].metadata.name, false).await;
    let rc = eventually("status 2/1", 10, || async {
        let rc = env.rc("Web").await;
        (rc.status.replicas == 2 && rc.status.ready_replicas == 1).then_some(rc)
    })
    .await;
    assert_eq!(rc.status.observed_generation, rc.metadata.generation);
    env.set_replicas("Web", 3).await;
    let rc = eventually("generation observed", 10, || async {
        let rc = env.rc("Web").await;
        (rc.status.replicas == 3 && rc.status.observed_generation == rc.metadata.generation)
            .then_some(rc)
    })
    .await;
    assert!(rc.metadata.generation >= 2, "{rc:?}");
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn scaling_down_deletes_pending_then_not_ready_then_ready() {
    let env = Env::start().await;
    env.client().create(NS, &web(3)).await.expect("create rc");
    let pods = env.pods_eventually(3).await;
    let (pending, not_ready, ready) = (
        pods[0].metadata.name.clone(),
        pods[1].metadata.name.clone(),
        pods[2].metadata.name.clone(),
    );
    env.set_running(&not_ready, false).await;
    env.set_running(&ready, true).await;
    eventually("ready counted", 10, || async {
        (env.rc("Web").await.status.ready_replicas == 1).then_some(())
    })
    .await;
    env.set_replicas("Web", 2).await;
    let left = env.pods_eventually(2).await;
    assert!(
        !names(&left).contains(&pending),
        "pending goes first: {left:?}"
    );
    env.set_replicas("Web", 1).await;
    let left = env.pods_eventually(1).await;
    assert_eq!(names(&left), vec![ready], "the ready pod stays");
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn adopts_a_matching_orphan_instead_of_creating() {
    let env = Env::start().await;
    let orphan = PodBuilder::new("orphan")
        .label("app", "web")
        .container("c", "img")
        .build();
    env.client().create(NS, &orphan).await.expect("orphan");
    let rc = env.client().create(NS, &web(1)).await.expect("create rc");
    let adopted = eventually("adoption", 10, || async {
        let pods = env.pods().await;
        pods.into_iter()
            .find(|p| p.metadata.name == "orphan" && owned_by(p, &rc))
    })
    .await;
    assert_eq!(adopted.metadata.owner_references.len(), 1);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(names(&env.pods().await), vec!["orphan".to_string()]);
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn releases_a_pod_relabelled_out_and_replaces_it() {
    let env = Env::start().await;
    let rc = env.client().create(NS, &web(1)).await.expect("create rc");
    let mut pod = env.pods_eventually(1).await.remove(0);
    let name = pod.metadata.name.clone();
    pod.metadata.labels.insert("app".into(), "debug".into());
    env.client().update(NS, &pod).await.expect("relabel");
    let pods = eventually("release and replacement", 10, || async {
        let pods = env.pods().await;
        let released = pods
            .iter()
            .any(|p| p.metadata.name == name && p.metadata.controller_ref().is_none());
        (released && pods.len() == 2).then_some(pods)
    })
    .await;
    let replacement = pods
        .iter()
        .find(|p| p.metadata.name != name)
        .expect("replacement");
    assert!(owned_by(replacement, &rc));
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_seed_redis_controller_gets_a_lower_cased_pod() {
    let env = Env::start().await;
    let rc = ReplicationController::from_v1beta1(seed_rc()).expect("seed rc converts");
    let rc = env.client().create(NS, &rc).await.expect("create seed rc");
    assert_eq!(rc.metadata.name, "redisController");
    let pods = env.pods_eventually(1).await;
    let pod = &pods[0];
    assert!(
        pod.metadata.name.starts_with("rediscontroller-"),
        "{}",
        pod.metadata.name
    );
    assert!(owned_by(pod, &rc));
    assert_eq!(pod.spec.containers[0].image, "dockerfile/redis");
    assert_eq!(
        pod.metadata.labels.get("name").map(String::as_str),
        Some("redis")
    );
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn creation_stops_at_the_first_error_and_resumes_without_overshooting() {
    let mut recorder = None;
    // Retries 10 s apart, so each reconcile can be counted.
    let config = ReplicationConfig {
        controller: ControllerConfig {
            queue: QueueConfig {
                per_item: Backoff::new(Duration::from_secs(10), Duration::from_secs(10)),
                rate_limit: None,
                seed: Some(1),
            },
            ..ControllerConfig::default()
        },
        ..ReplicationConfig::default()
    };
    let env = Env::start_with(
        |c| {
            let r = RecordingClient::new(c.clone());
            r.fail_on(
                Verb::Create,
                ResourceKind::Pods,
                ApiError::Internal("injected".into()),
            );
            recorder = Some(r.clone());
            r
        },
        config,
    )
    .await;
    let rec = recorder.expect("recording client");
    env.client().create(NS, &web(10)).await.expect("create rc");
    tokio::time::sleep(Duration::from_secs(5)).await;
    // Slow start: the first batch is one pod; its failure stops the sync. Two syncs ran: the
    // first, and the one its status write (observedGeneration) triggered; without stopping,
    // each would have tried all ten.
    let failed = rec.count(Verb::Create, ResourceKind::Pods);
    assert!((1..=2).contains(&failed), "{failed} creates tried");
    assert!(env.pods().await.is_empty());
    rec.clear_failures();
    env.pods_eventually(10).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(env.pods().await.len(), 10);
    assert_eq!(
        rec.count(Verb::Create, ResourceKind::Pods),
        failed + 10,
        "the failed creates, then exactly the ten missing"
    );
    env.stop().await;
}
