//! Garbage collection on an in-process cluster, on paused time: finalizers, deletion options
//! (`propagationPolicy`, `preconditions`) over HTTP, and the collector with the replication
//! controller (an RC's pods collected, or orphaned and released).

use crate::support::eventually;
use crate::support::TestServer;
use hyper::Method;
use kube_core::error::ApiError;
use kube_core::meta::OwnerReference;
use kube_core::testing::{PodBuilder, ReplicationControllerBuilder, ServiceBuilder};
use kube_core::time::Timestamp;
use kube_core::ResourceKind;
use kube_core::{DeleteOptions, Object, Pod, ReplicationController, Service};
use kube_runtime::client::{ApiClient, InProcessClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::controller::Shutdown;
use kube_runtime::controllers::garbage_collector::{self, GarbageCollectorConfig};
use kube_runtime::controllers::replication::{self, ReplicationConfig};
use kube_runtime::testing::recording::{RecordingClient, Verb};
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::time::Duration;

const NS: &str = "default";
const RCS: &str = "/api/v1/namespaces/default/replicationcontrollers";
const SERVICES: &str = "/api/v1/namespaces/default/services";
const PODS: &str = "/api/v1/namespaces/default/pods";

struct Env {
    server: TestServer,
    shutdown: Shutdown,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Env {
    /// A cluster on a virtual clock, with nothing running on it yet.
    async fn new() -> Env {
        let clock = Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0));
        let cluster = TestCluster::builder()
            .clock(clock)
            .start()
            .await
            .expect("cluster");
        Env {
            server: TestServer::on(cluster),
            shutdown: Shutdown::new(),
            tasks: Vec::new(),
        }
    }

    /// A cluster running the garbage collector (and the replication controller if `rc`).
    async fn start(rc: bool) -> Env {
        let mut env = Env::new().await;
        if rc {
            env.start_replication();
        }
        env.start_gc();
        env
    }

    fn start_gc(&mut self) {
        let client = self.client().clone();
        self.start_gc_on(client);
    }

    /// Runs the garbage collector on `client`.
    fn start_gc_on<C: ApiClient>(&mut self, client: C) {
        let config = GarbageCollectorConfig {
            clock: self.server.cluster.clock().clone(),
            ..GarbageCollectorConfig::default()
        };
        self.tasks.push(tokio::spawn(garbage_collector::run(
            client,
            config,
            self.shutdown.clone(),
        )));
    }

    fn start_replication(&mut self) {
        let config = ReplicationConfig {
            clock: self.server.cluster.clock().clone(),
            ..ReplicationConfig::default()
        };
        self.tasks.push(tokio::spawn(replication::run(
            self.client().clone(),
            config,
            self.shutdown.clone(),
        )));
    }

    fn client(&self) -> &InProcessClient {
        self.server.cluster.in_process()
    }

    async fn pods(&self) -> Vec<Pod> {
        self.client()
            .list::<Pod>(Some(NS), &ListParams::default())
            .await
            .expect("list pods")
            .items
    }

    async fn pods_eventually(&self, n: usize) -> Vec<Pod> {
        eventually(&format!("{n} pods"), 30, || async {
            let pods = self.pods().await;
            (pods.len() == n).then_some(pods)
        })
        .await
    }

    /// Waits until `name` of kind `T` is gone.
    async fn gone_eventually<T: Object>(&self, name: &str) {
        eventually(&format!("{name} gone"), 30, || async {
            match self.client().get::<T>(NS, name).await {
                Err(e) if e.is_not_found() => Some(()),
                _ => None,
            }
        })
        .await
    }

    async fn stop(self) {
        self.shutdown.trigger();
        for t in self.tasks {
            let _ = t.await;
        }
        self.server.cluster.shutdown().await;
    }
}

/// Lets the controllers run for `secs` simulated seconds.
async fn settle(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

fn rc(name: &str, app: &str, replicas: i32) -> ReplicationController {
    ReplicationControllerBuilder::new(name)
        .replicas(replicas)
        .selector("app", app)
        .template(
            PodBuilder::new("ignored")
                .label("app", app)
                .container("c", "img"),
        )
        .build()
}

fn service(name: &str) -> Service {
    ServiceBuilder::new(name).port(80, 8080).build()
}

fn reference_to<T: Object>(owner: &T) -> OwnerReference {
    OwnerReference {
        api_version: T::RESOURCE.info().api_version.into(),
        kind: T::RESOURCE.info().kind.into(),
        name: owner.meta().name.clone(),
        uid: owner.meta().uid.clone(),
        controller: None,
        block_owner_deletion: None,
    }
}

/// An unbound pod owned by `owners`.
fn dependent(name: &str, owners: Vec<OwnerReference>) -> Pod {
    let mut p = PodBuilder::new(name).container("c", "img").build();
    p.metadata.owner_references = owners;
    p
}

#[tokio::test(start_paused = true)]
async fn an_rc_deleted_has_its_pods_collected() {
    let env = Env::start(true).await;
    // Default, Background and Foreground all collect the pods; Foreground before the RC goes.
    let cases = [
        ("plain", None),
        ("background", Some("Background")),
        ("foreground", Some("Foreground")),
    ];
    for (i, (name, policy)) in cases.into_iter().enumerate() {
        let app = format!("app{i}");
        let owner = env
            .client()
            .create(NS, &rc(name, &app, 3))
            .await
            .expect("create rc");
        env.pods_eventually(3).await;
        let path = match policy {
            Some(p) => format!("{RCS}/{name}?propagationPolicy={p}"),
            None => format!("{RCS}/{name}"),
        };
        let (code, body) = env.server.call(Method::DELETE, &path, None).await;
        assert_eq!(code, 200, "{name}: {body}");
        assert_eq!(body["metadata"]["uid"], owner.metadata.uid.as_str());
        let foreground = policy == Some("Foreground");
        if foreground {
            assert_eq!(
                body["metadata"]["finalizers"],
                json!(["foregroundDeletion"])
            );
        }
        env.gone_eventually::<ReplicationController>(name).await;
        if foreground {
            assert!(env.pods().await.is_empty(), "{name}: pods gone first");
        }
        env.pods_eventually(0).await;
    }
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_rc_deleted_with_orphan_leaves_its_pods_released() {
    let env = Env::start(true).await;
    // (rc name, how the policy is sent: query or body)
    let cases = [
        ("by-query", Some("?propagationPolicy=Orphan"), None),
        (
            "by-body",
            None,
            Some(
                json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}),
            ),
        ),
        ("by-orphan-dependents", Some("?orphanDependents=true"), None),
    ];
    let mut kept = 0;
    for (name, query, body) in cases {
        let owner = env
            .client()
            .create(NS, &rc(name, name, 2))
            .await
            .expect("create rc");
        kept += 2;
        env.pods_eventually(kept).await;
        let path = format!("{RCS}/{name}{}", query.unwrap_or_default());
        let (code, marked) = env.server.call(Method::DELETE, &path, body).await;
        assert_eq!(code, 200, "{name}: {marked}");
        assert_eq!(
            marked["metadata"]["finalizers"],
            json!(["orphan"]),
            "{name}"
        );
        assert!(
            marked["metadata"]["deletionTimestamp"].is_string(),
            "{name}"
        );
        env.gone_eventually::<ReplicationController>(name).await;
        settle(5).await;
        let pods = env.pods().await;
        assert_eq!(pods.len(), kept, "{name}: the pods stay");
        for p in &pods {
            assert!(
                p.metadata
                    .owner_references
                    .iter()
                    .all(|r| r.uid != owner.metadata.uid),
                "{name}: released {p:?}"
            );
            assert!(p.metadata.deletion_timestamp.is_empty(), "{name}: {p:?}");
        }
    }
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_finalizer_keeps_a_deleted_object_until_it_is_removed() {
    let env = Env::new().await;
    let mut svc = service("held");
    svc.metadata.finalizers = vec!["example.com/hold".into()];
    env.client().create(NS, &svc).await.expect("create");
    let mut watch = env
        .server
        .watch(&format!("{SERVICES}?watch=true&resourceVersion=0"))
        .await;
    assert_eq!(
        watch.next_summary().await,
        Some(("ADDED".into(), "held".into()))
    );
    let (code, marked) = env
        .server
        .call(Method::DELETE, &format!("{SERVICES}/held"), None)
        .await;
    assert_eq!(code, 200, "{marked}");
    assert!(
        marked["metadata"]["deletionTimestamp"].is_string(),
        "{marked}"
    );
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(
        watch.next_summary().await,
        Some(("MODIFIED".into(), "held".into()))
    );
    // Still there, and a second delete changes nothing.
    let stored: Service = env.client().get(NS, "held").await.expect("still stored");
    let (code, _) = env
        .server
        .call(Method::DELETE, &format!("{SERVICES}/held"), None)
        .await;
    assert_eq!(code, 200);
    let again: Service = env.client().get(NS, "held").await.expect("still stored");
    assert_eq!(
        again.metadata.resource_version,
        stored.metadata.resource_version
    );

    // While it is being deleted, no finalizer may be added (422), only removed.
    let mut more = stored.clone();
    more.metadata.finalizers.push("example.com/more".into());
    let err = env.client().update(NS, &more).await.expect_err("refused");
    assert_eq!(err.to_status().code, 422, "{err}");
    let (code, body) = env
        .server
        .call(
            Method::PUT,
            &format!("{SERVICES}/held"),
            Some(serde_json::to_value(&more).expect("json")),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["details"]["causes"][0]["field"], "metadata.finalizers",
        "{body}"
    );

    // Removing the last finalizer removes the object.
    let mut released = stored.clone();
    released.metadata.finalizers.clear();
    env.client().update(NS, &released).await.expect("update");
    env.gone_eventually::<Service>("held").await;
    assert_eq!(
        watch.next_summary().await,
        Some(("DELETED".into(), "held".into()))
    );
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_bound_pod_with_a_finalizer_goes_after_the_kubelet_and_the_finalizer() {
    let env = Env::new().await;
    let mut pod = PodBuilder::new("p")
        .container("c", "img")
        .node("n1")
        .build();
    pod.metadata.finalizers = vec!["example.com/hold".into()];
    env.client().create(NS, &pod).await.expect("create");
    // The user's delete: graceful, finalizers kept.
    let marked: Pod = env.client().delete(NS, "p").await.expect("delete");
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(30));
    // The kubelet's final delete cannot remove it while the finalizer is there.
    let done: Pod = env
        .client()
        .delete_with(NS, "p", &DeleteOptions::immediate())
        .await
        .expect("final delete");
    assert_eq!(done.metadata.deletion_grace_period_seconds, Some(0));
    let mut stored: Pod = env.client().get(NS, "p").await.expect("still stored");
    stored.metadata.finalizers.clear();
    env.client()
        .update(NS, &stored)
        .await
        .expect("remove the finalizer");
    env.gone_eventually::<Pod>("p").await;

    // A finalizer removed before the kubelet is done leaves the pod terminating until then.
    let mut pod = PodBuilder::new("q")
        .container("c", "img")
        .node("n1")
        .build();
    pod.metadata.finalizers = vec!["example.com/hold".into()];
    env.client().create(NS, &pod).await.expect("create");
    let mut marked: Pod = env.client().delete(NS, "q").await.expect("delete");
    marked.metadata.finalizers.clear();
    env.client()
        .update(NS, &marked)
        .await
        .expect("remove the finalizer");
    let still: Pod = env.client().get(NS, "q").await.expect("still terminating");
    assert_eq!(still.metadata.deletion_grace_period_seconds, Some(30));
    env.client()
        .delete_with::<Pod>(NS, "q", &DeleteOptions::immediate())
        .await
        .expect("final delete");
    env.gone_eventually::<Pod>("q").await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn failed_preconditions_answer_409_and_change_nothing() {
    let env = Env::new().await;
    let svc = env
        .client()
        .create(NS, &service("s"))
        .await
        .expect("create");
    let rv = svc.metadata.resource_version.clone();
    let uid = svc.metadata.uid.clone();
    // (case, body, status)
    let cases: [(&str, Value, u16); 3] = [
        ("uid", json!({"preconditions": {"uid": "not-the-uid"}}), 409),
        (
            "resourceVersion",
            json!({"preconditions": {"uid": uid, "resourceVersion": "999999"}}),
            409,
        ),
        ("malformed", json!({"preconditions": {"uid": 7}}), 400),
    ];
    for (name, body, want) in cases {
        let (code, st) = env
            .server
            .call(Method::DELETE, &format!("{SERVICES}/s"), Some(body))
            .await;
        assert_eq!(code, want, "{name}: {st}");
        if want == 409 {
            assert_eq!(st["reason"], "Conflict", "{name}: {st}");
            assert!(
                st["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Precondition failed"),
                "{name}: {st}"
            );
        }
        let still: Service = env.client().get(NS, "s").await.expect("unchanged");
        assert_eq!(still.metadata.resource_version, rv, "{name}");
    }
    // An unknown policy in the query is refused too.
    let (code, _) = env
        .server
        .call(
            Method::DELETE,
            &format!("{SERVICES}/s?propagationPolicy=Now"),
            None,
        )
        .await;
    assert_eq!(code, 400);
    // Matching preconditions delete, through the HTTP client's body as well.
    let options = DeleteOptions {
        preconditions: Some(kube_core::deletion::Preconditions {
            uid: Some(uid),
            resource_version: Some(rv),
        }),
        ..DeleteOptions::default()
    };
    env.server
        .cluster
        .http()
        .delete_with::<Service>(NS, "s", &options)
        .await
        .expect("delete");
    env.gone_eventually::<Service>("s").await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_owner_recreated_with_a_new_uid_does_not_save_the_old_dependents() {
    let mut env = Env::new().await;
    let old = env
        .client()
        .create(NS, &service("owner"))
        .await
        .expect("owner");
    env.client()
        .create(NS, &dependent("of-old", vec![reference_to(&old)]))
        .await
        .expect("dependent");
    env.client()
        .delete::<Service>(NS, "owner")
        .await
        .expect("delete owner");
    let new = env
        .client()
        .create(NS, &service("owner"))
        .await
        .expect("again");
    assert_ne!(new.metadata.uid, old.metadata.uid);
    env.client()
        .create(NS, &dependent("of-new", vec![reference_to(&new)]))
        .await
        .expect("dependent");
    // The collector starts on a world where the name exists with another uid.
    env.start_gc();
    env.gone_eventually::<Pod>("of-old").await;
    settle(5).await;
    let left: Vec<String> = env
        .pods()
        .await
        .iter()
        .map(|p| p.metadata.name.clone())
        .collect();
    assert_eq!(left, ["of-new"]);
    // A dependent naming an owner that never existed by that uid goes as well.
    let mut forged = reference_to(&new);
    forged.uid = "never-existed".into();
    env.client()
        .create(NS, &dependent("forged", vec![forged]))
        .await
        .expect("dependent");
    env.gone_eventually::<Pod>("forged").await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_dependent_with_one_of_two_owners_gone_loses_only_that_reference() {
    let env = Env::start(false).await;
    let a = env.client().create(NS, &service("a")).await.expect("a");
    let b = env.client().create(NS, &service("b")).await.expect("b");
    env.client()
        .create(
            NS,
            &dependent("d", vec![reference_to(&a), reference_to(&b)]),
        )
        .await
        .expect("dependent");
    env.client()
        .delete::<Service>(NS, "b")
        .await
        .expect("delete b");
    let kept = eventually("the dangling reference removed", 30, || async {
        let p: Pod = env.client().get(NS, "d").await.ok()?;
        (p.metadata.owner_references.len() == 1).then_some(p)
    })
    .await;
    assert_eq!(kept.metadata.owner_references, vec![reference_to(&a)]);
    assert!(kept.metadata.deletion_timestamp.is_empty());
    // When the last owner goes, so does the dependent.
    env.client()
        .delete::<Service>(NS, "a")
        .await
        .expect("delete a");
    env.gone_eventually::<Pod>("d").await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_orphaning_owner_without_dependents_goes_at_once() {
    let env = Env::start(false).await;
    env.client()
        .create(NS, &service("lonely"))
        .await
        .expect("create");
    let (code, body) = env
        .server
        .call(
            Method::DELETE,
            &format!("{SERVICES}/lonely"),
            Some(json!({"propagationPolicy": "Orphan"})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    env.gone_eventually::<Service>("lonely").await;
    // Deleting a missing object with a policy is still a 404.
    let err: ApiError = env
        .client()
        .get::<Pod>(NS, "none")
        .await
        .expect_err("no such pod");
    assert!(err.is_not_found());
    let (code, _) = env
        .server
        .call(
            Method::DELETE,
            &format!("{PODS}/none?propagationPolicy=Orphan"),
            None,
        )
        .await;
    assert_eq!(code, 404);
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_foreground_owner_waits_for_its_blocking_dependents_to_be_gone() {
    let env = Env::start(false).await;
    let owner = env
        .client()
        .create(NS, &service("fg"))
        .await
        .expect("owner");
    let blocking = OwnerReference {
        block_owner_deletion: Some(true),
        ..reference_to(&owner)
    };
    // A bound pod: its deletion is graceful, so it stays terminating until the kubelet is done.
    let mut bound = dependent("bound", vec![blocking]);
    bound.spec.node_name = "n1".into();
    env.client().create(NS, &bound).await.expect("bound");
    env.client()
        .create(NS, &dependent("loose", vec![reference_to(&owner)]))
        .await
        .expect("loose");
    let (code, body) = env
        .server
        .call(
            Method::DELETE,
            &format!("{SERVICES}/fg?propagationPolicy=Foreground"),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    env.gone_eventually::<Pod>("loose").await;
    let terminating = eventually("the bound pod terminating", 30, || async {
        let p: Pod = env.client().get(NS, "bound").await.ok()?;
        (!p.metadata.deletion_timestamp.is_empty()).then_some(p)
    })
    .await;
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(30));
    settle(10).await;
    let waiting: Service = env.client().get(NS, "fg").await.expect("owner waits");
    assert_eq!(waiting.metadata.finalizers, ["foregroundDeletion"]);
    // The kubelet's final delete removes the pod; then the owner goes.
    env.client()
        .delete_with::<Pod>(NS, "bound", &DeleteOptions::immediate())
        .await
        .expect("final delete");
    env.gone_eventually::<Service>("fg").await;
    env.stop().await;
}

#[tokio::test(start_paused = true)]
async fn nothing_is_collected_before_the_caches_sync_nor_without_a_live_read() {
    let mut env = Env::new().await;
    let rec = RecordingClient::new(env.client().clone());
    let unavailable = || ApiError::ServiceUnavailable("injected".into());
    // The service cache cannot sync: the collector must not decide anything.
    rec.fail_on(Verb::List, ResourceKind::Services, unavailable());
    let owner = env.client().create(NS, &service("o")).await.expect("owner");
    let mut forged = reference_to(&owner);
    forged.uid = "gone-uid".into();
    env.client()
        .create(NS, &dependent("d", vec![forged]))
        .await
        .expect("dependent");
    env.start_gc_on(rec.clone());
    settle(30).await;
    assert!(
        env.client().get::<Pod>(NS, "d").await.is_ok(),
        "kept while unsynced"
    );
    assert_eq!(rec.count(Verb::Get, ResourceKind::Services), 0);
    assert_eq!(rec.count(Verb::Delete, ResourceKind::Pods), 0);
    // Synced, but the live read of the owner fails: still nothing is deleted.
    rec.clear_failures();
    rec.fail_on(Verb::Get, ResourceKind::Services, unavailable());
    eventually("a live read of the owner", 60, || async {
        (rec.count(Verb::Get, ResourceKind::Services) > 0).then_some(())
    })
    .await;
    settle(10).await;
    assert!(
        env.client().get::<Pod>(NS, "d").await.is_ok(),
        "kept without a live read"
    );
    assert_eq!(rec.count(Verb::Delete, ResourceKind::Pods), 0);
    // The read answers: the owner by that uid is gone, and so goes the dependent.
    rec.clear_failures();
    env.gone_eventually::<Pod>("d").await;
    env.stop().await;
}
