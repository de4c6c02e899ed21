//! The endpoints controller on an in-process cluster, on paused time: ready and not-ready
//! addresses, named target ports, pods leaving (deleted, relabelled), service deletion, writes
//! only on change, services without a selector, leftovers at start-up.

use kube_core::endpoints::{EndpointAddress, EndpointSubset};
use kube_core::error::ApiError;
use kube_core::intstr::IntOrString;
use kube_core::pod::{ContainerPort, PodCondition, CONDITION_READY, CONDITION_TRUE, PHASE_RUNNING};
use kube_core::service::ServicePort;
use kube_core::testing::{PodBuilder, ServiceBuilder};
use kube_core::time::Timestamp;
use kube_core::{DeleteOptions, Endpoints, Pod, ResourceKind, Service};
use kube_runtime::client::{ApiClient, InProcessClient};
use kube_runtime::clock::Clock;
use kube_runtime::controller::{ControllerConfig, Shutdown};
use kube_runtime::controllers::endpoints::{self, EndpointsConfig};
use kube_runtime::testing::recording::{RecordingClient, Verb};
use kube_runtime::testing::TestCluster;
use std::future::Future;
use std::time::Duration;

const NS: &str = "default";

struct Env {
    cluster: TestCluster,
    clock: Clock,
    shutdown: Shutdown,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Env {
    /// A cluster with the controller running.
    async fn start() -> Env {
        let mut env = Env::cluster().await;
        let client = env.client().clone();
        env.run(client, EndpointsConfig::default());
        env
    }

    /// A cluster without the controller (see [`Env::run`]).
    async fn cluster() -> Env {
        let clock = Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0));
        let cluster = TestCluster::builder()
            .clock(clock.clone())
            .start()
            .await
            .expect("cluster");
        Env {
            cluster,
            clock,
            shutdown: Shutdown::new(),
            task: None,
        }
    }

    /// Starts the controller on `client`.
    fn run<C: ApiClient>(&mut self, client: C, config: EndpointsConfig) {
        let config = EndpointsConfig {
            clock: self.clock.clone(),
            ..config
        };
        self.task = Some(tokio::spawn(endpoints::run(
            client,
            config,
            self.shutdown.clone(),
        )));
    }

    fn client(&self) -> &InProcessClient {
        self.cluster.in_process()
    }

    async fn endpoints(&self, name: &str) -> Option<Endpoints> {
        match self.client().get::<Endpoints>(NS, name).await {
            Ok(e) => Some(e),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("get endpoints {name}: {e}"),
        }
    }

    /// Waits until endpoints `name` render as `want` (see [`render`]) and returns them.
    async fn endpoints_eventually(&self, name: &str, want: &[&str]) -> Endpoints {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let e = self.endpoints(name).await;
            let got = e.as_ref().map(|e| render(&e.subsets));
            if let Some(e) = e.filter(|_| got.as_ref().is_some_and(|g| g == want)) {
                return e;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "endpoints {name}: want {want:?}, last seen {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates a pod `name` labelled `app=web` with the named container ports.
    async fn create_pod(&self, name: &str, ports: &[(&str, i32)]) {
        let mut pod = PodBuilder::new(name)
            .label("app", "web")
            .container("c", "img")
            .build();
        pod.spec.containers[0].ports = ports
            .iter()
            .map(|(n, p)| ContainerPort {
                name: n.to_string(),
                container_port: *p,
                ..ContainerPort::default()
            })
            .collect();
        self.client().create(NS, &pod).await.expect("create pod");
    }

    /// Sets pod `name` Running at `ip`, ready or not.
    async fn set_status(&self, name: &str, ip: &str, ready: bool) {
        let mut pod: Pod = self.client().get(NS, name).await.expect("get pod");
        pod.status.phase = PHASE_RUNNING.into();
        pod.status.pod_ip = ip.into();
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

    /// A running pod at `ip` with the named ports.
    async fn running_pod(&self, name: &str, ip: &str, ready: bool, ports: &[(&str, i32)]) {
        self.create_pod(name, ports).await;
        self.set_status(name, ip, ready).await;
    }

    async fn stop(self) {
        self.shutdown.trigger();
        if let Some(task) = self.task {
            let _ = task.await;
        }
        self.cluster.shutdown().await;
    }
}

/// Service `name` selecting `app=web`, port 80 to `target`.
fn service(name: &str, target: IntOrString) -> Service {
    let mut s = ServiceBuilder::new(name).selector("app", "web").build();
    s.spec.ports = vec![ServicePort {
        port: 80,
        target_port: Some(target),
        ..ServicePort::default()
    }];
    s
}

/// One line per subset: `pod@ip` (ready), `!pod@ip` (not ready), then `| port/proto …`.
fn render(subsets: &[EndpointSubset]) -> Vec<String> {
    let addr = |prefix: &str, a: &EndpointAddress| {
        let name = a.target_ref.as_ref().map_or("?", |r| r.name.as_str());
        format!("{prefix}{name}@{}", a.ip)
    };
    subsets
        .iter()
        .map(|s| {
            let mut parts: Vec<String> = s.addresses.iter().map(|a| addr("", a)).collect();
            parts.extend(s.not_ready_addresses.iter().map(|a| addr("!", a)));
            let ports: Vec<String> = s
                .ports
                .iter()
                .map(|p| format!("{}/{}", p.port, p.protocol))
                .collect();
            format!("{} | {}", parts.join(" "), ports.join(" "))
        })
        .collect()
}

/// Polls `check` (on paused time, so simulated seconds pass quickly) for up to `secs`.
async fn eventually_opt<T, F: Future<Output = Option<T>>>(
    secs: u64,
    mut check: impl FnMut() -> F,
) -> Option<T> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn ready_pods_are_addresses_and_a_pod_turning_not_ready_moves() {
    let env = Env::start().await;
    env.running_pod("b", "10.1.0.10", true, &[]).await;
    env.running_pod("a", "10.1.0.9", true, &[]).await;
    // Pending, no IP yet: not an endpoint.
    env.create_pod("pending", &[]).await;
    env.client()
        .create(NS, &service("web", IntOrString::Int(8080)))
        .await
        .expect("create service");
    let ep = env
        .endpoints_eventually("web", &["a@10.1.0.9 b@10.1.0.10 | 8080/TCP"])
        .await;
    let a = &ep.subsets[0].addresses[0];
    let target = a.target_ref.as_ref().expect("targetRef");
    assert_eq!(
        (target.kind.as_str(), target.namespace.as_str()),
        ("Pod", NS)
    );
    assert!(!target.uid.is_empty(), "{target:?}");

    env.set_status("a", "10.1.0.9", false).await;
    env.endpoints_eventually("web", &["b@10.1.0.10 !a@10.1.0.9 | 8080/TCP"])
        .await;
    env.set_status("pending", "10.1.0.1", true).await;
    env.endpoints_eventually(
        "web",
        &["pending@10.1.0.1 b@10.1.0.10 !a@10.1.0.9 | 8080/TCP"],
    )
    .await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_named_target_port_is_resolved_per_pod() {
    let env = Env::start().await;
    env.running_pod("a", "10.1.0.1", true, &[("http", 8080)])
        .await;
    env.running_pod("b", "10.1.0.2", true, &[("http", 9090)])
        .await;
    env.running_pod("c", "10.1.0.3", true, &[("admin", 8080)])
        .await;
    env.client()
        .create(NS, &service("web", IntOrString::String("http".into())))
        .await
        .expect("create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 | 8080/TCP", "b@10.1.0.2 | 9090/TCP"])
        .await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_deleted_pod_is_removed() {
    let env = Env::start().await;
    env.running_pod("a", "10.1.0.1", true, &[]).await;
    env.running_pod("b", "10.1.0.2", true, &[]).await;
    env.client()
        .create(NS, &service("web", IntOrString::Int(80)))
        .await
        .expect("create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 b@10.1.0.2 | 80/TCP"])
        .await;
    env.client()
        .delete_with::<Pod>(NS, "a", &DeleteOptions::immediate())
        .await
        .expect("delete pod");
    env.endpoints_eventually("web", &["b@10.1.0.2 | 80/TCP"])
        .await;
    env.client()
        .delete_with::<Pod>(NS, "b", &DeleteOptions::immediate())
        .await
        .expect("delete pod");
    let ep = env.endpoints_eventually("web", &[]).await;
    assert!(ep.subsets.is_empty(), "the object stays, empty: {ep:?}");
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_pod_relabelled_away_is_removed() {
    let env = Env::start().await;
    env.running_pod("a", "10.1.0.1", true, &[]).await;
    env.running_pod("b", "10.1.0.2", true, &[]).await;
    env.client()
        .create(NS, &service("web", IntOrString::Int(80)))
        .await
        .expect("create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 b@10.1.0.2 | 80/TCP"])
        .await;
    let mut a: Pod = env.client().get(NS, "a").await.expect("get pod");
    a.metadata.labels.insert("app".into(), "debug".into());
    env.client().update(NS, &a).await.expect("relabel");
    env.endpoints_eventually("web", &["b@10.1.0.2 | 80/TCP"])
        .await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_the_service_deletes_its_endpoints() {
    let env = Env::start().await;
    env.running_pod("a", "10.1.0.1", true, &[]).await;
    env.client()
        .create(NS, &service("web", IntOrString::Int(80)))
        .await
        .expect("create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 | 80/TCP"])
        .await;
    env.client()
        .delete::<Service>(NS, "web")
        .await
        .expect("delete service");
    let gone = eventually_opt(10, || async {
        env.endpoints("web").await.is_none().then_some(())
    })
    .await;
    assert!(gone.is_some(), "endpoints still there");
    // Re-created, the service gets endpoints again.
    env.client()
        .create(NS, &service("web", IntOrString::Int(81)))
        .await
        .expect("re-create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 | 81/TCP"])
        .await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn endpoints_are_written_only_when_their_content_changes() {
    let mut env = Env::cluster().await;
    let rec = RecordingClient::new(env.client().clone());
    // A resync every second: many reconciles, all finding nothing to do.
    let config = EndpointsConfig {
        controller: ControllerConfig {
            resync: Some(Duration::from_secs(1)),
            ..EndpointsConfig::default().controller
        },
        ..EndpointsConfig::default()
    };
    env.run(rec.clone(), config);
    env.running_pod("a", "10.1.0.1", true, &[]).await;
    env.client()
        .create(NS, &service("web", IntOrString::Int(80)))
        .await
        .expect("create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 | 80/TCP"])
        .await;
    let endpoint_writes = || {
        rec.calls()
            .iter()
            .filter(|c| c.verb.is_write() && c.resource == ResourceKind::Endpoints)
            .filter(|c| c.error.is_none())
            .count()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(endpoint_writes(), 1, "one create: {:?}", rec.writes());

    // Pod changes that do not change the endpoints: an annotation, a status rewrite.
    let mut a: Pod = env.client().get(NS, "a").await.expect("get pod");
    a.metadata.annotations.insert("note".into(), "x".into());
    env.client().update(NS, &a).await.expect("annotate");
    env.set_status("a", "10.1.0.1", true).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(endpoint_writes(), 1, "no rewrite: {:?}", rec.writes());
    assert_eq!(rec.count(Verb::Delete, ResourceKind::Endpoints), 0);

    // A real change: exactly one update.
    env.set_status("a", "10.1.0.1", false).await;
    env.endpoints_eventually("web", &["!a@10.1.0.1 | 80/TCP"])
        .await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(endpoint_writes(), 2, "one update: {:?}", rec.writes());
    assert_eq!(rec.count(Verb::Update, ResourceKind::Endpoints), 1);
    env.stop().await;
}

/// Endpoints as a user writes them for a service without a selector.
fn manual_endpoints(name: &str, ip: &str) -> Endpoints {
    Endpoints {
        metadata: kube_core::ObjectMeta {
            name: name.into(),
            namespace: NS.into(),
            ..kube_core::ObjectMeta::default()
        },
        subsets: vec![EndpointSubset {
            addresses: vec![EndpointAddress {
                ip: ip.into(),
                ..EndpointAddress::default()
            }],
            ports: vec![kube_core::endpoints::EndpointPort {
                port: 5432,
                ..Default::default()
            }],
            ..EndpointSubset::default()
        }],
        ..Endpoints::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_service_without_a_selector_is_left_alone() {
    let env = Env::start().await;
    env.running_pod("a", "10.1.0.1", true, &[]).await;
    // Once the controller runs (endpoints without a service at start-up are leftovers),
    // endpoints first, then their service: allowed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let created = env
        .client()
        .create(NS, &manual_endpoints("db", "192.0.2.7"))
        .await
        .expect("create endpoints");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let db = ServiceBuilder::new("db").port(5432, 5432).build();
    env.client().create(NS, &db).await.expect("create service");
    let bare = ServiceBuilder::new("bare").port(80, 80).build();
    env.client()
        .create(NS, &bare)
        .await
        .expect("create service");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let ep = env.endpoints("db").await.expect("user endpoints kept");
    assert_eq!(
        ep.metadata.resource_version, created.metadata.resource_version,
        "untouched"
    );
    assert_eq!(render(&ep.subsets), vec!["?@192.0.2.7 | 5432/TCP"]);
    assert!(
        env.endpoints("bare").await.is_none(),
        "none created for a service without a selector"
    );
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn endpoints_without_a_service_are_deleted_at_start_up() {
    let mut env = Env::cluster().await;
    env.client()
        .create(NS, &manual_endpoints("leftover", "192.0.2.8"))
        .await
        .expect("create endpoints");
    let kept = ServiceBuilder::new("kept").port(80, 80).build();
    env.client().create(NS, &kept).await.expect("service");
    env.client()
        .create(NS, &manual_endpoints("kept", "192.0.2.9"))
        .await
        .expect("create endpoints");
    let client = env.client().clone();
    env.run(client, EndpointsConfig::default());
    let gone = eventually_opt(10, || async {
        env.endpoints("leftover").await.is_none().then_some(())
    })
    .await;
    assert!(gone.is_some(), "leftover endpoints still there");
    assert!(env.endpoints("kept").await.is_some());
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn failed_writes_are_retried() {
    let mut env = Env::cluster().await;
    let rec = RecordingClient::new(env.client().clone());
    rec.fail_once(
        Verb::Create,
        ResourceKind::Endpoints,
        ApiError::Internal("injected".into()),
    );
    rec.fail_once(
        Verb::Update,
        ResourceKind::Endpoints,
        ApiError::Conflict {
            resource: "endpoints".into(),
            name: "web".into(),
            message: "injected".into(),
        },
    );
    rec.fail_once(
        Verb::Delete,
        ResourceKind::Endpoints,
        ApiError::Internal("injected".into()),
    );
    env.run(rec.clone(), EndpointsConfig::default());
    env.running_pod("a", "10.1.0.1", true, &[]).await;
    env.client()
        .create(NS, &service("web", IntOrString::Int(80)))
        .await
        .expect("create service");
    env.endpoints_eventually("web", &["a@10.1.0.1 | 80/TCP"])
        .await;
    env.set_status("a", "10.1.0.1", false).await;
    env.endpoints_eventually("web", &["!a@10.1.0.1 | 80/TCP"])
        .await;
    env.client()
        .delete::<Service>(NS, "web")
        .await
        .expect("delete service");
    let gone = eventually_opt(10, || async {
        env.endpoints("web").await.is_none().then_some(())
    })
    .await;
    assert!(gone.is_some(), "endpoints still there");
    let failed: Vec<String> = rec
        .calls()
        .iter()
        .filter(|c| c.resource == ResourceKind::Endpoints && c.error.is_some())
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        failed,
        vec![
            "create endpoints default/web",
            "update endpoints default/web",
            "delete endpoints default/web"
        ],
        "each write failed once, then succeeded"
    );
    env.stop().await;
}
