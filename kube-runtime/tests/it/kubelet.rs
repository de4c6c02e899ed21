//! The kubelet on the fake runtime, on paused time: every case of the pod lifecycle, with
//! restart back-off timings, probes, image pull failures, graceful deletion and adoption after
//! a restart. The same kubelet code runs on Docker in `kubelet_docker.rs`.

use crate::support::eventually;
use kube_core::pod::{ExecAction, Pod, Probe};
use kube_core::runtime::{ContainerRunState, ContainerRuntime, ListFilter};
use kube_core::testing::PodBuilder;
use kube_core::time::Timestamp;
use kube_runtime::client::{ApiClient, InProcessClient};
use kube_runtime::clock::Clock;
use kube_runtime::controller::Shutdown;
use kube_runtime::kubelet::{self, KubeletConfig};
use kube_runtime::runtime::fake::{FakeCall, ImageBehaviour};
use kube_runtime::runtime::FakeRuntime;
use kube_runtime::testing::TestCluster;
use std::sync::Arc;
use std::time::Duration;

const PAUSE: &str = "kube-test/pause:latest";
const APP: &str = "app:1";

struct Env {
    cluster: TestCluster,
    fake: FakeRuntime,
    kubelet: Option<(Shutdown, tokio::task::JoinHandle<()>)>,
}

fn t0() -> Timestamp {
    Timestamp::from_unix(1_795_842_000, 0)
}

impl Env {
    async fn start() -> Env {
        let clock = Clock::virtual_at(t0());
        let cluster = TestCluster::builder()
            .clock(clock.clone())
            .start()
            .await
            .expect("cluster");
        let fake = FakeRuntime::new(clock);
        fake.add_image(PAUSE);
        fake.add_image(APP);
        let mut env = Env {
            cluster,
            fake,
            kubelet: None,
        };
        env.start_kubelet();
        env
    }

    fn start_kubelet(&mut self) {
        let mut config = KubeletConfig::new("n1");
        config.clock = self.cluster.clock().clone();
        config.port = 0;
        config.cpu_millis = Some(4000);
        config.memory_bytes = Some(8 << 30);
        let shutdown = Shutdown::new();
        let task = tokio::spawn(kubelet::run(
            self.client().clone(),
            Arc::new(self.fake.clone()),
            config,
            shutdown.clone(),
        ));
        let task = tokio::spawn(async move {
            if let Ok(Err(e)) = task.await {
                panic!("kubelet failed: {e}");
            }
        });
        self.kubelet = Some((shutdown, task));
    }

    async fn stop_kubelet(&mut self) {
        if let Some((shutdown, task)) = self.kubelet.take() {
            shutdown.trigger();
            let _ = task.await;
        }
    }

    fn client(&self) -> &InProcessClient {
        self.cluster.in_process()
    }

    async fn create(&self, pod: Pod) -> Pod {
        self.client().create("default", &pod).await.expect("create")
    }

    async fn get(&self, name: &str) -> Option<Pod> {
        self.client().get::<Pod>("default", name).await.ok()
    }

    fn now(&self) -> Timestamp {
        self.cluster.clock().now()
    }

    /// Containers of a pod's app container `c`, newest first by restart count.
    async fn app_ids(&self, pod: &str) -> Vec<String> {
        let f = ListFilter {
            labels: vec![
                ("io.kubernetes.pod.name".into(), pod.into()),
                ("io.kubernetes.container.name".into(), "app".into()),
            ],
            all: true,
        };
        let mut found: Vec<(i32, String)> = self
            .fake
            .list_containers(&f)
            .await
            .expect("list")
            .into_iter()
            .map(|c| {
                let rc = c
                    .labels
                    .get("io.kubernetes.container.restartCount")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                (rc, c.id)
            })
            .collect();
        found.sort();
        found.reverse();
        found.into_iter().map(|(_, id)| id).collect()
    }
}

fn pod(name: &str) -> PodBuilder {
    PodBuilder::new(name).node("n1").container("app", APP)
}

async fn running(env: &Env, name: &str) -> Pod {
    running_within(env, name, 10).await
}

async fn running_within(env: &Env, name: &str, secs: u64) -> Pod {
    eventually(&format!("{name} Running"), secs, || async {
        env.get(name).await.filter(|p| {
            p.status.phase == "Running"
                && p.status
                    .container_statuses
                    .iter()
                    .all(|c| c.state.running.is_some())
        })
    })
    .await
}

fn restarts(p: &Pod) -> i32 {
    p.status
        .container_statuses
        .first()
        .map_or(0, |c| c.restart_count)
}

#[tokio::test(start_paused = true)]
async fn a_new_pod_runs_and_reports_its_status() {
    let env = Env::start().await;
    env.create(pod("web").build()).await;
    let p = running(&env, "web").await;
    let s = &p.status;
    assert_eq!(s.host_ip, "127.0.0.1");
    assert!(
        s.pod_ip.starts_with("127."),
        "fake pod IPs are loopback: {}",
        s.pod_ip
    );
    assert!(!s.start_time.is_empty());
    let c = &s.container_statuses[0];
    assert_eq!(
        (c.name.as_str(), c.image.as_str(), c.ready),
        ("app", APP, true)
    );
    assert!(c.container_id.starts_with("fake://"), "{}", c.container_id);
    for cond in ["Ready", "ContainersReady"] {
        assert_eq!(
            s.condition(cond).map(|c| c.status.as_str()),
            Some("True"),
            "{cond}"
        );
    }
    // The infra container first, then the app container joined to it.
    let creates: Vec<String> = env
        .fake
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            FakeCall::Create { image, .. } => Some(image),
            _ => None,
        })
        .collect();
    assert_eq!(creates, vec![PAUSE.to_string(), APP.to_string()]);
    // The node registered itself, Ready.
    let node = env
        .client()
        .get::<kube_core::Node>("", "n1")
        .await
        .expect("node");
    assert!(node
        .status
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True"));
}

#[tokio::test(start_paused = true)]
async fn crashing_container_restarts_with_doubling_back_off() {
    let env = Env::start().await;
    env.create(pod("crash").build()).await;
    running(&env, "crash").await;

    // First exit: restarted at once.
    let id = env.app_ids("crash").await[0].clone();
    env.fake.exit_container(&id, 1);
    eventually("restart 1", 3, || async {
        env.get("crash")
            .await
            .filter(|p| restarts(p) == 1 && p.status.container_statuses[0].state.running.is_some())
    })
    .await;

    // Second exit: CrashLoopBackOff for 10 s, then restart 2.
    let id = env.app_ids("crash").await[0].clone();
    let died = env.now();
    env.fake.exit_container(&id, 1);
    let p = eventually("CrashLoopBackOff", 3, || async {
        env.get("crash").await.filter(|p| {
            p.status.container_statuses[0]
                .state
                .waiting
                .as_ref()
                .is_some_and(|w| w.reason == "CrashLoopBackOff")
        })
    })
    .await;
    let c = &p.status.container_statuses[0];
    assert_eq!(
        c.last_state.terminated.as_ref().map(|t| t.exit_code),
        Some(1)
    );
    assert_eq!(
        p.status.phase, "Running",
        "restartPolicy Always keeps the pod Running"
    );
    eventually("restart 2", 15, || async {
        env.get("crash").await.filter(|p| restarts(p) == 2)
    })
    .await;
    let waited = env.now().saturating_duration_since(died);
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(13),
        "second restart after the 10 s back-off, took {waited:?}"
    );

    // Third exit: 20 s.
    let id = env.app_ids("crash").await[0].clone();
    let died = env.now();
    env.fake.exit_container(&id, 1);
    eventually("restart 3", 30, || async {
        env.get("crash").await.filter(|p| restarts(p) == 3)
    })
    .await;
    let waited = env.now().saturating_duration_since(died);
    assert!(
        waited >= Duration::from_secs(20) && waited < Duration::from_secs(23),
        "third restart after 20 s, took {waited:?}"
    );
    // Old runs beyond the newest two are removed.
    eventually("old runs removed", 5, || async {
        (env.app_ids("crash").await.len() == 2).then_some(())
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn restart_policies_decide_the_final_phase() {
    let env = Env::start().await;
    env.fake.add_image("ok:1");
    env.fake.add_image("bad:1");
    env.fake.set_image_behaviour(
        "ok:1",
        ImageBehaviour {
            run_for: Some(Duration::from_secs(2)),
            exit_code: 0,
            ..ImageBehaviour::default()
        },
    );
    env.fake.set_image_behaviour(
        "bad:1",
        ImageBehaviour {
            run_for: Some(Duration::from_secs(2)),
            exit_code: 2,
            ..ImageBehaviour::default()
        },
    );
    let cases = [
        ("never-ok", "Never", "ok:1", "Succeeded", 0),
        ("never-bad", "Never", "bad:1", "Failed", 2),
        ("onfailure-ok", "OnFailure", "ok:1", "Succeeded", 0),
    ];
    for (name, policy, image, _, _) in cases {
        let p = PodBuilder::new(name)
            .node("n1")
            .restart_policy(policy)
            .container("app", image)
            .build();
        env.create(p).await;
    }
    for (name, _, _, phase, code) in cases {
        let p = eventually(&format!("{name} {phase}"), 20, || async {
            env.get(name).await.filter(|p| p.status.phase == phase)
        })
        .await;
        let c = &p.status.container_statuses[0];
        let t = c.state.terminated.as_ref().expect("terminated");
        assert_eq!((t.exit_code, c.restart_count), (code, 0), "{name}");
        assert_eq!(
            p.status.condition("Ready").map(|c| c.reason.as_str()),
            Some("PodCompleted"),
            "{name}"
        );
    }
    // OnFailure restarts a failure.
    let p = PodBuilder::new("onfailure-bad")
        .node("n1")
        .restart_policy("OnFailure")
        .container("app", "bad:1")
        .build();
    env.create(p).await;
    eventually("OnFailure restart", 20, || async {
        env.get("onfailure-bad").await.filter(|p| restarts(p) >= 1)
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn failing_liveness_probe_restarts_and_readiness_drives_ready() {
    let env = Env::start().await;
    let mut p = pod("probed").build();
    p.spec.containers[0].liveness_probe = Some(Probe {
        exec: Some(ExecAction {
            command: vec!["check-alive".into()],
        }),
        period_seconds: 1,
        failure_threshold: 5,
        ..Probe::default()
    });
    p.spec.containers[0].readiness_probe = Some(Probe {
        exec: Some(ExecAction {
            command: vec!["check-ready".into()],
        }),
        period_seconds: 1,
        failure_threshold: 1,
        ..Probe::default()
    });
    env.create(p).await;
    let ready = |want: &'static str| {
        let env = &env;
        async move {
            env.get("probed")
                .await
                .filter(|p| p.status.condition("Ready").map(|c| c.status.as_str()) == Some(want))
        }
    };
    eventually("Ready after the readiness probe passes", 10, || {
        ready("True")
    })
    .await;

    let id = env.app_ids("probed").await[0].clone();
    env.fake.set_exec_result(&id, 1, b"not ready".to_vec());
    // Readiness gives up after one failure, liveness after five: the pod is not ready for a
    // while, then the container is restarted.
    eventually("Ready=False when the probes fail", 3, || ready("False")).await;
    assert_eq!(restarts(&env.get("probed").await.expect("pod")), 0);
    let p = eventually("a liveness restart", 10, || async {
        env.get("probed").await.filter(|p| restarts(p) == 1)
    })
    .await;
    assert_eq!(
        p.status.container_statuses[0]
            .last_state
            .terminated
            .as_ref()
            .map(|t| t.exit_code),
        Some(143),
        "stopped by SIGTERM"
    );
    // The new container's probes pass again (the fake's default exec result).
    eventually("Ready again", 10, || ready("True")).await;
}

#[tokio::test(start_paused = true)]
async fn missing_image_backs_off_without_affecting_other_pods() {
    let env = Env::start().await;
    env.create(pod("ok").build()).await;
    let ghost = PodBuilder::new("ghost")
        .node("n1")
        .container("app", "ghost:1")
        .build();
    env.create(ghost).await;
    running(&env, "ok").await;
    let p = eventually("ErrImagePull or ImagePullBackOff", 5, || async {
        env.get("ghost").await.filter(|p| {
            p.status
                .container_statuses
                .first()
                .and_then(|c| c.state.waiting.as_ref())
                .is_some_and(|w| w.reason == "ImagePullBackOff")
        })
    })
    .await;
    let w = p.status.container_statuses[0]
        .state
        .waiting
        .clone()
        .expect("waiting");
    assert!(w.message.contains("ghost:1"), "{}", w.message);
    assert_eq!(p.status.phase, "Pending");
    let pulls = || {
        env.fake
            .calls()
            .into_iter()
            .filter(|c| matches!(c, FakeCall::Pull(i) if i == "ghost:1"))
            .count()
    };
    // Retries back off: 10 s after the failure (seen here 1 s after it), then 20 s.
    let first = pulls();
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(pulls(), first, "no retry before 10 s");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(pulls(), first + 1, "one retry after 10 s");
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(pulls(), first + 1, "the next one waits 20 s");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(pulls(), first + 2, "and then retries");
    // The image appears: the pod starts on the next retry (40 s after the last failure).
    env.fake.add_image("ghost:1");
    running_within(&env, "ghost", 45).await;
}

#[tokio::test(start_paused = true)]
async fn deleting_a_pod_stops_its_containers_then_removes_it() {
    let env = Env::start().await;
    env.fake.add_image("stubborn:1");
    env.fake.set_image_behaviour(
        "stubborn:1",
        ImageBehaviour {
            ignores_sigterm: true,
            ..ImageBehaviour::default()
        },
    );
    let mut p = PodBuilder::new("stubborn")
        .node("n1")
        .container("app", "stubborn:1")
        .build();
    p.spec.termination_grace_period_seconds = Some(5);
    env.create(p).await;
    env.create(pod("quick").build()).await;
    running(&env, "stubborn").await;
    running(&env, "quick").await;

    let started = env.now();
    env.client()
        .delete::<Pod>("default", "stubborn")
        .await
        .expect("delete");
    env.client()
        .delete::<Pod>("default", "quick")
        .await
        .expect("delete");
    eventually("quick removed", 5, || async {
        env.get("quick").await.is_none().then_some(())
    })
    .await;
    eventually("stubborn removed", 10, || async {
        env.get("stubborn").await.is_none().then_some(())
    })
    .await;
    let took = env.now().saturating_duration_since(started);
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(8),
        "the stubborn pod had its 5 s grace, took {took:?}"
    );
    let left = env
        .fake
        .list_containers(&ListFilter {
            labels: Vec::new(),
            all: true,
        })
        .await
        .expect("list");
    assert!(left.is_empty(), "every container removed: {left:?}");
}

#[tokio::test(start_paused = true)]
async fn restarted_kubelet_adopts_its_containers_and_removes_orphans() {
    let mut env = Env::start().await;
    env.create(pod("kept").build()).await;
    env.create(pod("orphaned").build()).await;
    running(&env, "kept").await;
    running(&env, "orphaned").await;
    env.stop_kubelet().await;
    let before: Vec<String> = env.app_ids("kept").await;

    // While the kubelet is down, one pod is force-deleted.
    env.client()
        .delete_with::<Pod>(
            "default",
            "orphaned",
            &kube_core::DeleteOptions::immediate(),
        )
        .await
        .expect("force delete");
    env.fake.clear_calls();
    env.start_kubelet();
    eventually("orphan's containers removed", 10, || async {
        env.app_ids("orphaned").await.is_empty().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(env.app_ids("kept").await, before, "same container, adopted");
    let creates = env
        .fake
        .calls()
        .into_iter()
        .filter(|c| matches!(c, FakeCall::Create { .. }))
        .count();
    assert_eq!(creates, 0, "no duplicates created");
    let all = env
        .fake
        .list_containers(&ListFilter {
            labels: Vec::new(),
            all: true,
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 2, "one infra and one app container: {all:?}");
    assert!(all.iter().all(|c| c.state == ContainerRunState::Running));
}

#[tokio::test(start_paused = true)]
async fn containers_get_the_seed_service_variables() {
    let env = Env::start().await;
    let mut svc = kube_core::Service::default();
    svc.metadata.name = "redis-master".into();
    svc.spec.cluster_ip = "10.0.0.11".into();
    svc.spec.ports.push(kube_core::service::ServicePort {
        port: 6379,
        ..Default::default()
    });
    env.client().create("default", &svc).await.expect("service");
    // Let the kubelet's service cache see it before the pod arrives.
    tokio::time::sleep(Duration::from_secs(1)).await;
    env.create(pod("client").build()).await;
    running(&env, "client").await;
    let id = env.app_ids("client").await[0].clone();
    let env_vars = env.fake.container_config(&id).expect("config").env;
    assert!(env_vars.contains(&("REDIS_MASTER_SERVICE_HOST".into(), "10.0.0.11".into())));
    assert!(env_vars.contains(&("REDIS_MASTER_SERVICE_PORT".into(), "6379".into())));
}

#[tokio::test(start_paused = true)]
async fn runtime_outage_is_survived() {
    let env = Env::start().await;
    env.create(pod("a").build()).await;
    running(&env, "a").await;
    env.fake.set_unavailable(true);
    env.create(pod("b").build()).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let b = env.get("b").await.expect("b");
    assert_ne!(b.status.phase, "Running");
    env.fake.set_unavailable(false);
    running(&env, "b").await;
    running(&env, "a").await;
}

#[tokio::test(start_paused = true)]
async fn many_simulated_nodes_run_in_one_process() {
    let clock = Clock::virtual_at(t0());
    let cluster = TestCluster::builder()
        .clock(clock.clone())
        .start()
        .await
        .expect("cluster");
    let client = cluster.in_process().clone();
    let mut stops = Vec::new();
    for n in 0..3 {
        let fake = FakeRuntime::new(clock.clone());
        fake.add_image(PAUSE);
        fake.add_image(APP);
        let mut config = KubeletConfig::new(format!("hollow-{n}"));
        config.clock = clock.clone();
        config.port = 0;
        config.cpu_millis = Some(1000);
        config.memory_bytes = Some(1 << 30);
        let shutdown = Shutdown::new();
        tokio::spawn(kubelet::run(
            client.clone(),
            Arc::new(fake),
            config,
            shutdown.clone(),
        ));
        stops.push(shutdown);
    }
    let scheduler_stop = Shutdown::new();
    {
        let s = scheduler_stop.clone();
        let config = kube_runtime::scheduler::SchedulerConfig {
            clock: clock.clone(),
            ..Default::default()
        };
        tokio::spawn(kube_runtime::scheduler::run(
            client.clone(),
            config,
            async move { s.triggered().await },
        ));
    }
    for i in 0..6 {
        let p = PodBuilder::new(&format!("p{i}"))
            .container("app", APP)
            .request_cpu("300m")
            .build();
        client.create("default", &p).await.expect("create");
    }
    let pods = eventually("six pods Running on three nodes", 30, || async {
        let list = client
            .list::<Pod>(Some("default"), &Default::default())
            .await
            .ok()?;
        (list.items.len() == 6 && list.items.iter().all(|p| p.status.phase == "Running"))
            .then_some(list.items)
    })
    .await;
    let nodes: std::collections::BTreeSet<&str> =
        pods.iter().map(|p| p.spec.node_name.as_str()).collect();
    assert_eq!(nodes.len(), 3, "spread over the simulated nodes: {nodes:?}");
    for s in stops {
        s.trigger();
    }
    scheduler_stop.trigger();
}
