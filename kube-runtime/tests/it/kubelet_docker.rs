//! The kubelet on real Docker, end to end: an in-process API server, a kubelet (in-process or
//! the real binary) on Docker, and pods bound to its node. Images come from
//! `scripts/test-images.sh`. Every container carries this test's `kube-test.run` label and is
//! removed at the end, even when a test fails.

use kube_core::pod::{ExecAction, Pod, Probe};
use kube_core::runtime::{ContainerRuntime, ListFilter};
use kube_core::testing::PodBuilder;
use kube_runtime::client::{ApiClient, HttpClient};
use kube_runtime::controller::Shutdown;
use kube_runtime::kubelet::{self, KubeletConfig};
use kube_runtime::runtime::DockerRuntime;
use kube_runtime::testing::TestCluster;
use std::future::Future;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BUSYBOX: &str = "kube-test/busybox:latest";
const DOCKER: &str = "unix:///var/run/docker.sock";

/// A test's cluster: API server, a Docker runtime, a kubelet, and the run label.
struct Env {
    cluster: TestCluster,
    docker: Arc<DockerRuntime>,
    node: String,
    run_id: String,
    kubelet: Option<(Shutdown, tokio::task::JoinHandle<()>)>,
}

impl Env {
    async fn start(name: &str) -> Env {
        let docker = Arc::new(DockerRuntime::connect(DOCKER).await.unwrap_or_else(|e| {
            panic!("Docker is required for these tests ({e}); scripts/test.sh starts dockerd")
        }));
        let cluster = TestCluster::start().await.expect("test cluster");
        let run_id = format!("{name}-{}-{}", std::process::id(), unique());
        let mut env = Env {
            cluster,
            docker,
            node: format!("node-{run_id}"),
            run_id,
            kubelet: None,
        };
        env.start_kubelet();
        env
    }

    fn config(&self) -> KubeletConfig {
        let mut c = KubeletConfig::new(self.node.clone());
        c.port = 0;
        c.node_status_update_frequency = Duration::from_secs(1);
        c.extra_container_labels
            .insert("kube-test.run".into(), self.run_id.clone());
        c
    }

    fn start_kubelet(&mut self) {
        let shutdown = Shutdown::new();
        let client = self.cluster.http().clone();
        let (docker, config, stop) = (self.docker.clone(), self.config(), shutdown.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = kubelet::run(client, docker, config, stop).await {
                panic!("kubelet failed: {e}");
            }
        });
        self.kubelet = Some((shutdown, task));
    }

    fn client(&self) -> &HttpClient {
        self.cluster.http()
    }

    fn pod(&self, name: &str) -> PodBuilder {
        PodBuilder::new(name).node(&self.node)
    }

    async fn create(&self, mut pod: Pod) -> Pod {
        for c in &mut pod.spec.containers {
            if c.image_pull_policy.is_empty() {
                c.image_pull_policy = "IfNotPresent".into();
            }
        }
        self.client()
            .create("default", &pod)
            .await
            .expect("create pod")
    }

    async fn get(&self, name: &str) -> Option<Pod> {
        self.client().get::<Pod>("default", name).await.ok()
    }

    /// This test's containers (all states).
    async fn containers(&self) -> Vec<kube_core::runtime::ContainerSummary> {
        self.docker
            .list_containers(&ListFilter::label("kube-test.run", self.run_id.clone()))
            .await
            .expect("list containers")
    }

    async fn stop(mut self) {
        if let Some((shutdown, task)) = self.kubelet.take() {
            shutdown.trigger();
            let _ = task.await;
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // No kubelet may create anything after the cleanup below.
        if let Some((shutdown, task)) = self.kubelet.take() {
            shutdown.trigger();
            task.abort();
        }
        // Remove every container of this run, even when the test failed.
        let _ = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker ps -aq --filter label=kube-test.run={} | xargs -r docker rm -f >/dev/null 2>&1",
                self.run_id
            ))
            .status();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Polls `check` until it returns `Some`, for up to `secs` seconds.
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn sh(pod: PodBuilder, name: &str, script: &str) -> Pod {
    let mut p = pod.container(name, BUSYBOX).build();
    p.spec.containers[0].command = vec!["/bin/sh".into(), "-c".into(), script.into()];
    p
}

fn httpd(env: &Env, name: &str, host_port: u16) -> Pod {
    let script =
        "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www";
    let mut p = sh(env.pod(name), "web", script);
    p.spec.containers[0]
        .ports
        .push(kube_core::pod::ContainerPort {
            container_port: 8080,
            host_port: i32::from(host_port),
            ..Default::default()
        });
    p
}

async fn phase_of(env: &Env, name: &str, want: &str) -> Pod {
    eventually(&format!("pod {name} {want}"), 30, || async {
        env.get(name).await.filter(|p| p.status.phase == want)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httpd_pod_answers_on_its_host_port_and_restarts_when_killed() {
    let env = Env::start("httpd").await;
    let port = free_port();
    env.create(httpd(&env, "web", port)).await;
    let pod = phase_of(&env, "web", "Running").await;
    assert_eq!(pod.status.host_ip, "127.0.0.1");
    assert!(
        !pod.status.pod_ip.is_empty(),
        "pod IP from the infra container"
    );
    let body = eventually("HTTP answer", 10, || async { http_get(port, "/") }).await;
    assert!(body.contains("hello-from-pod"), "{body}");

    // Kill the app container as `docker kill` would: the kubelet restarts it.
    let cid = pod.status.container_statuses[0]
        .container_id
        .trim_start_matches("docker://")
        .to_string();
    let killed = std::process::Command::new("docker")
        .args(["kill", &cid])
        .output()
        .expect("run docker kill");
    assert!(killed.status.success(), "docker kill: {killed:?}");
    let restarted = eventually("restartCount 1", 30, || async {
        env.get("web").await.filter(|p| {
            p.status.container_statuses[0].restart_count == 1
                && p.status.container_statuses[0].state.running.is_some()
        })
    })
    .await;
    let last = restarted.status.container_statuses[0]
        .last_state
        .terminated
        .clone()
        .expect("last state terminated");
    assert_eq!(last.exit_code, 137);
    eventually("HTTP answer after restart", 10, || async {
        http_get(port, "/").filter(|b| b.contains("hello-from-pod"))
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_liveness_probe_restarts_the_container() {
    let env = Env::start("liveness").await;
    let mut p = sh(env.pod("sick"), "app", "exec sleep 3600");
    p.spec.containers[0].liveness_probe = Some(Probe {
        exec: Some(ExecAction {
            command: vec!["/bin/false".into()],
        }),
        period_seconds: 1,
        failure_threshold: 1,
        ..Probe::default()
    });
    env.create(p).await;
    eventually("a liveness restart", 40, || async {
        env.get("sick").await.filter(|p| {
            p.status
                .container_statuses
                .first()
                .is_some_and(|c| c.restart_count >= 1)
        })
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_never_leaves_a_completed_pod_with_its_exit_code() {
    let env = Env::start("never").await;
    let ok = sh(env.pod("done"), "app", "echo done; exit 0");
    let mut bad = sh(env.pod("broken"), "app", "exit 3");
    let mut ok = ok;
    ok.spec.restart_policy = "Never".into();
    bad.spec.restart_policy = "Never".into();
    env.create(ok).await;
    env.create(bad).await;
    let done = phase_of(&env, "done", "Succeeded").await;
    let t = done.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .expect("terminated");
    assert_eq!((t.exit_code, t.reason.as_str()), (0, "Completed"));
    let broken = phase_of(&env, "broken", "Failed").await;
    let t = broken.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .expect("terminated");
    assert_eq!((t.exit_code, t.reason.as_str()), (3, "Error"));
    assert_eq!(broken.status.container_statuses[0].restart_count, 0);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_image_backs_off_and_other_pods_run() {
    let env = Env::start("noimage").await;
    let p = env
        .pod("ghost")
        .container("app", "kube-test/does-not-exist:1")
        .build();
    env.create(p).await;
    env.create(sh(env.pod("fine"), "app", "exec sleep 3600"))
        .await;
    let ghost = eventually("ImagePullBackOff", 30, || async {
        env.get("ghost").await.filter(|p| {
            p.status.container_statuses.first().is_some_and(|c| {
                c.state
                    .waiting
                    .as_ref()
                    .is_some_and(|w| w.reason == "ImagePullBackOff")
            })
        })
    })
    .await;
    let w = ghost.status.container_statuses[0]
        .state
        .waiting
        .clone()
        .expect("waiting");
    assert!(
        w.message.contains("does-not-exist"),
        "the daemon's message: {}",
        w.message
    );
    assert_eq!(ghost.status.phase, "Pending");
    phase_of(&env, "fine", "Running").await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_pod_stops_its_containers_within_the_grace_period() {
    let env = Env::start("delete").await;
    env.create(sh(env.pod("gone"), "app", "exec sleep 3600"))
        .await;
    phase_of(&env, "gone", "Running").await;
    assert_eq!(env.containers().await.len(), 2, "infra + app");
    let started = Instant::now();
    env.client()
        .delete::<Pod>("default", "gone")
        .await
        .expect("delete");
    eventually("pod object removed", 30, || async {
        env.get("gone").await.is_none().then_some(())
    })
    .await;
    assert!(env.containers().await.is_empty(), "containers removed");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "within the default grace period"
    );
    env.stop().await;
}
