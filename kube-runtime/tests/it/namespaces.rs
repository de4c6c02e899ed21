//! Namespaces as objects: the system namespaces exist from the start, creates need an
//! existing, active namespace (404 / 403), and deleting a namespace empties it (the namespace
//! controller, pods finished by their kubelets) before it goes away.

use crate::support::{eventually, pod, TestServer};
use hyper::Method;
use kube_core::namespace::{FINALIZER_KUBERNETES, PHASE_ACTIVE, PHASE_TERMINATING};
use kube_core::testing::{PodBuilder, ReplicationControllerBuilder, ServiceBuilder};
use kube_core::time::Timestamp;
use kube_core::{
    Endpoints, Event, Namespace, ObjectMeta, ObjectReference, Pod, ReplicationController, Service,
};
use kube_runtime::apiserver::ApiServerConfig;
use kube_runtime::client::{ApiClient, ListParams};
use kube_runtime::clock::Clock;
use kube_runtime::local_cluster::LocalCluster;
use kube_runtime::runtime::fake::ImageBehaviour;
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::time::Duration;

fn namespace_doc(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn names(list: &Value) -> Vec<String> {
    let items = list["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn system_namespaces_exist_from_the_start_and_again_after_a_restart() {
    let mut s = TestServer::start().await;
    let (code, list) = s.call(Method::GET, "/api/v1/namespaces", None).await;
    assert_eq!(code, 200, "{list}");
    let mut got = names(&list);
    got.sort();
    assert_eq!(
        got,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let (code, default) = s
        .call(Method::GET, "/api/v1/namespaces/default", None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(default["kind"], "Namespace");
    assert_eq!(default["status"]["phase"], PHASE_ACTIVE);
    assert_eq!(default["spec"]["finalizers"], json!([FINALIZER_KUBERNETES]));
    assert_eq!(default["metadata"].get("namespace"), None);

    // A restart on the same store creates nothing again (same uid, same revision).
    let before = s.snapshot().await;
    s.cluster.restart_server().await.expect("restart");
    assert_eq!(s.snapshot().await, before);
    let (_, again) = s
        .call(Method::GET, "/api/v1/namespaces/default", None)
        .await;
    assert_eq!(again["metadata"]["uid"], default["metadata"]["uid"]);
    // default, kube-system and kube-public may not be deleted (403, nothing changes), in a
    // dry run too; kube-node-lease may.
    for name in ["default", "kube-system", "kube-public"] {
        for query in ["", "?dryRun=All"] {
            let path = format!("/api/v1/namespaces/{name}{query}");
            let (code, status) = s.call(Method::DELETE, &path, None).await;
            assert_eq!(code, 403, "{path}: {status}");
            assert_eq!(status["reason"], "Forbidden");
            assert_eq!(
                status["message"],
                format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted")
            );
        }
    }
    assert_eq!(s.snapshot().await, before);
    let (code, lease_ns) = s
        .call(
            Method::DELETE,
            "/api/v1/namespaces/kube-node-lease?dryRun=All",
            None,
        )
        .await;
    assert_eq!(code, 200, "{lease_ns}");
    // v1beta1 never served namespaces.
    let (code, _) = s.call(Method::GET, "/api/v1beta1/namespaces", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn namespaces_are_created_read_listed_and_validated_over_http() {
    let s = TestServer::start().await;
    let (code, created) = s
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(namespace_doc("team-a")),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["status"]["phase"], PHASE_ACTIVE);
    assert_eq!(created["spec"]["finalizers"], json!([FINALIZER_KUBERNETES]));
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(namespace_doc("team-a")),
        )
        .await;
    assert_eq!(code, 409);
    // (name, code): a namespace name is a DNS-1123 label.
    for (name, want) in [("team.a", 422), ("Team", 422), (&"a".repeat(64), 422)] {
        let (code, st) = s
            .call(
                Method::POST,
                "/api/v1/namespaces",
                Some(namespace_doc(name)),
            )
            .await;
        assert_eq!(code, want, "{name}: {st}");
        assert_eq!(st["details"]["causes"][0]["field"], "metadata.name");
    }
    let (code, list) = s
        .call(
            Method::GET,
            "/api/v1/namespaces?fieldSelector=status.phase%3DActive",
            None,
        )
        .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(names(&list).len(), 5);
    let (code, got) = s.call(Method::GET, "/api/v1/namespaces/team-a", None).await;
    assert_eq!(
        (code, &got["metadata"]["uid"]),
        (200, &created["metadata"]["uid"])
    );
    // The typed clients see them too.
    let typed: Namespace = s.cluster.http().get("", "team-a").await.expect("get");
    assert_eq!(typed.status.phase, PHASE_ACTIVE);
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/team-a/pods",
            Some(pod("web", json!({}))),
        )
        .await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_404_and_stores_nothing() {
    let s = TestServer::start().await;
    let before = s.snapshot().await;
    let (code, st) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/nope/pods",
            Some(pod("web", json!({}))),
        )
        .await;
    assert_eq!(code, 404, "{st}");
    assert_eq!(st["reason"], "NotFound");
    assert_eq!(st["message"], "namespaces \"nope\" not found");
    assert_eq!(st["details"], json!({"name": "nope", "kind": "namespaces"}));
    // The in-process client and the other kinds answer the same.
    let svc = ServiceBuilder::new("web")
        .namespace("nope")
        .port(80, 80)
        .build();
    let err = s
        .cluster
        .in_process()
        .create("nope", &svc)
        .await
        .expect_err("404");
    assert!(err.is_not_found(), "{err}");
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn a_terminating_namespace_refuses_new_content_but_lets_the_old_finish() {
    let s = TestServer::start().await;
    s.cluster
        .create_namespace("team-a")
        .await
        .expect("namespace");
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/team-a/pods",
            Some(pod("old", json!({}))),
        )
        .await;
    assert_eq!(code, 201);
    // No namespace controller runs here: the namespace stays Terminating.
    let (code, deleted) = s
        .call(Method::DELETE, "/api/v1/namespaces/team-a", None)
        .await;
    assert_eq!(code, 200, "{deleted}");
    assert_eq!(deleted["kind"], "Namespace");
    assert_eq!(deleted["status"]["phase"], PHASE_TERMINATING);
    assert!(
        deleted["metadata"]["deletionTimestamp"].is_string(),
        "{deleted}"
    );
    // A second delete changes nothing.
    let (code, again) = s
        .call(Method::DELETE, "/api/v1/namespaces/team-a", None)
        .await;
    assert_eq!((code, &again["metadata"]), (200, &deleted["metadata"]));

    let before = s.snapshot().await;
    let (code, st) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/team-a/pods",
            Some(pod("new", json!({}))),
        )
        .await;
    assert_eq!(code, 403, "{st}");
    assert_eq!(st["reason"], "Forbidden");
    assert_eq!(
        st["message"],
        "pods \"new\" is forbidden: unable to create new content in namespace team-a because it is being terminated"
    );
    assert_eq!(st["details"]["causes"][0]["reason"], "NamespaceTerminating");
    assert_eq!(st["details"]["causes"][0]["field"], "metadata.namespace");
    assert_eq!(s.snapshot().await, before);

    // Updates and deletes of the old content still work.
    let c = s.cluster.in_process();
    let mut old: Pod = c.get("team-a", "old").await.expect("get");
    old.metadata.labels.insert("x".into(), "y".into());
    c.update("team-a", &old)
        .await
        .expect("update in a terminating namespace");
    let (code, _) = s
        .call(Method::DELETE, "/api/v1/namespaces/team-a/pods/old", None)
        .await;
    assert_eq!(code, 200);

    // Removing the kubernetes finalizer (what the namespace controller does) removes it.
    let mut ns: Namespace = c.get("", "team-a").await.expect("get namespace");
    ns.spec.finalizers.clear();
    c.finalize_namespace(&ns).await.expect("finalize");
    let (code, _) = s.call(Method::GET, "/api/v1/namespaces/team-a", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn the_lifecycle_can_be_turned_off() {
    let cluster = TestCluster::builder()
        .server_config(ApiServerConfig {
            namespace_lifecycle: false,
            ..ApiServerConfig::default()
        })
        .start()
        .await
        .expect("cluster");
    let p = PodBuilder::new("web")
        .namespace("anywhere")
        .container("c", "i")
        .build();
    cluster
        .http()
        .create("anywhere", &p)
        .await
        .expect("no check");
    let all = cluster
        .http()
        .list::<Namespace>(None, &ListParams::default())
        .await
        .expect("list");
    assert!(all.items.is_empty(), "no system namespaces either");
}

fn virtual_clock() -> Clock {
    Clock::virtual_at(Timestamp::from_unix(1_795_842_000, 0))
}

/// An RC of two pods whose containers ignore SIGTERM (so stopping takes the whole 10 s
/// grace), a service over them and an event, in namespace `ns`.
async fn populate(c: &LocalCluster, ns: &str) {
    let client = c.client();
    client
        .create("", &Namespace::named(ns))
        .await
        .expect("namespace");
    let mut rc = ReplicationControllerBuilder::new("web")
        .namespace(ns)
        .replicas(2)
        .selector("app", "web")
        .template(
            PodBuilder::new("ignored")
                .label("app", "web")
                .container("c", "stubborn"),
        )
        .build();
    if let Some(t) = rc.spec.template.as_mut() {
        t.spec.termination_grace_period_seconds = Some(10);
    }
    client.create(ns, &rc).await.expect("rc");
    let svc = ServiceBuilder::new("web")
        .namespace(ns)
        .selector("app", "web")
        .port(80, 80)
        .build();
    client.create(ns, &svc).await.expect("service");
    let event = Event {
        metadata: ObjectMeta {
            name: "web.1".into(),
            namespace: ns.into(),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            kind: "ReplicationController".into(),
            namespace: ns.into(),
            name: "web".into(),
            ..ObjectReference::default()
        },
        reason: "Tested".into(),
        message: "an event".into(),
        ..Event::default()
    };
    client.create(ns, &event).await.expect("event");
    eventually(&format!("2 running pods in {ns}"), 60, || async {
        let pods = client
            .list::<Pod>(Some(ns), &ListParams::default())
            .await
            .ok()?;
        let running = pods
            .items
            .iter()
            .filter(|p| p.status.phase == "Running")
            .count();
        (running == 2).then_some(())
    })
    .await;
}

/// How many objects of each kind the namespace holds: pods, rcs, services, endpoints, events.
async fn content(c: &LocalCluster, ns: &str) -> [usize; 5] {
    let client = c.client();
    let all = ListParams::default();
    [
        client
            .list::<Pod>(Some(ns), &all)
            .await
            .expect("pods")
            .items
            .len(),
        client
            .list::<ReplicationController>(Some(ns), &all)
            .await
            .expect("rcs")
            .items
            .len(),
        client
            .list::<Service>(Some(ns), &all)
            .await
            .expect("services")
            .items
            .len(),
        client
            .list::<Endpoints>(Some(ns), &all)
            .await
            .expect("endpoints")
            .items
            .len(),
        client
            .list::<Event>(Some(ns), &all)
            .await
            .expect("events")
            .items
            .len(),
    ]
}

#[tokio::test(start_paused = true)]
async fn deleting_a_namespace_empties_it_then_removes_it_and_leaves_others_alone() {
    let c = LocalCluster::builder()
        .clock(virtual_clock())
        .nodes(2)
        .image(
            "stubborn",
            ImageBehaviour {
                pullable: true,
                ignores_sigterm: true,
                ..ImageBehaviour::default()
            },
        )
        .start()
        .await
        .expect("local cluster");
    populate(&c, "team-a").await;
    populate(&c, "team-b").await;
    eventually("endpoints in team-a", 30, || async {
        (content(&c, "team-a").await[3] == 1).then_some(())
    })
    .await;
    let client = c.client();
    let start = tokio::time::Instant::now();
    let deleted: Namespace = client.delete("", "team-a").await.expect("delete");
    assert_eq!(deleted.status.phase, PHASE_TERMINATING);

    // While the pods take their grace period, the namespace says what remains.
    let remaining = eventually("the content-remaining condition", 30, || async {
        let ns: Namespace = client.get("", "team-a").await.ok()?;
        ns.condition("NamespaceContentRemaining")
            .filter(|c| c.status == "True")
            .map(|c| c.message.clone())
    })
    .await;
    assert!(
        remaining.contains("pods. has 2 resource instances"),
        "{remaining}"
    );

    eventually("team-a gone", 120, || async {
        match client.get::<Namespace>("", "team-a").await {
            Err(e) if e.is_not_found() => Some(()),
            _ => None,
        }
    })
    .await;
    // The pods ignored SIGTERM: they went only after their 10 s grace.
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(content(&c, "team-a").await, [0; 5]);
    // team-b keeps everything: its pods, controller, service, endpoints, our event (and the
    // components' events).
    assert_eq!(content(&c, "team-b").await[..4], [2, 1, 1, 1]);
    let _: Event = client.get("team-b", "web.1").await.expect("team-b's event");
    let b: Namespace = client.get("", "team-b").await.expect("team-b");
    assert_eq!(b.status.phase, PHASE_ACTIVE);
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_delete_is_reported_and_holds_the_namespace_until_it_succeeds() {
    use kube_core::error::ApiError;
    use kube_core::ResourceKind;
    use kube_runtime::controller::Shutdown;
    use kube_runtime::controllers::namespace::{self, NamespaceConfig};
    use kube_runtime::testing::recording::{RecordingClient, Verb};

    let clock = virtual_clock();
    let cluster = TestCluster::builder()
        .clock(clock.clone())
        .start()
        .await
        .expect("cluster");
    let c = cluster.in_process().clone();
    cluster.create_namespace("team-a").await.expect("namespace");
    // An unbound pod goes at once; the service's delete fails until the failures are cleared.
    let p = PodBuilder::new("web")
        .namespace("team-a")
        .container("c", "i")
        .build();
    c.create("team-a", &p).await.expect("pod");
    let svc = ServiceBuilder::new("web")
        .namespace("team-a")
        .port(80, 80)
        .build();
    c.create("team-a", &svc).await.expect("service");
    let rec = RecordingClient::new(c.clone());
    rec.fail_on(
        Verb::Delete,
        ResourceKind::Services,
        ApiError::ServiceUnavailable("storage is unavailable".into()),
    );
    let shutdown = Shutdown::new();
    let config = NamespaceConfig {
        clock: clock.clone(),
        ..NamespaceConfig::default()
    };
    let task = tokio::spawn(namespace::run(rec.clone(), config, shutdown.clone()));
    let _: Namespace = c.delete("", "team-a").await.expect("delete");

    let failure = eventually("the content-failure condition", 30, || async {
        let ns: Namespace = c.get("", "team-a").await.ok()?;
        ns.condition("NamespaceDeletionContentFailure")
            .filter(|c| c.status == "True")
            .map(|c| c.message.clone())
    })
    .await;
    assert!(failure.contains("services \"web\""), "{failure}");
    // Still there after many rounds: the pod is gone, the service is not.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let ns: Namespace = c.get("", "team-a").await.expect("held");
    assert_eq!(ns.spec.finalizers, [FINALIZER_KUBERNETES]);
    assert!(c.get::<Pod>("team-a", "web").await.is_err());
    assert!(rec.count(Verb::Delete, ResourceKind::Services) > 1);

    rec.clear_failures();
    eventually("team-a gone", 30, || async {
        matches!(c.get::<Namespace>("", "team-a").await, Err(e) if e.is_not_found()).then_some(())
    })
    .await;
    // Active namespaces were never written to.
    assert!(
        rec.writes().iter().all(|w| w.contains("team-a")),
        "{:?}",
        rec.writes()
    );
    shutdown.trigger();
    task.await.expect("controller");
}

#[tokio::test]
async fn namespaces_print_as_kubectl_shows_them() {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let s = TestServer::start().await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = hyper::Request::builder()
        .uri(s.url("/api/v1/namespaces"))
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let resp = client.request(req).await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let table: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(columns, ["Name", "Status", "Age"]);
    let rows = table["rows"].as_array().expect("rows");
    let default = rows
        .iter()
        .find(|r| r["cells"][0] == "default")
        .expect("default row");
    assert_eq!(default["cells"][1], PHASE_ACTIVE);
}

#[tokio::test(start_paused = true)]
async fn system_namespaces_are_retried_while_the_store_is_down() {
    use kube_runtime::store::MemoryStore;
    use kube_runtime::testing::faulty_store::Times;
    use kube_runtime::testing::{Fault, FaultyStore, StoreOp};
    use std::sync::Arc;

    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    store.inject_under(
        &[StoreOp::Get, StoreOp::Create],
        "/registry/namespaces/",
        Fault::Unavailable,
        Times::Always,
    );
    // The server starts all the same; creates answer 503 while the namespace cannot be read.
    let cluster = TestCluster::builder()
        .store(Arc::new(store.clone()))
        .clock(virtual_clock())
        .start()
        .await
        .expect("cluster");
    let p = PodBuilder::new("web").container("c", "i").build();
    let err = cluster
        .http()
        .create("default", &p)
        .await
        .expect_err("no namespace yet");
    assert_eq!(err.to_status().code, 503, "{err}");
    store.clear();
    eventually("the system namespaces", 10, || async {
        let all = cluster
            .in_process()
            .list::<Namespace>(None, &ListParams::default())
            .await
            .ok()?;
        (all.items.len() == 4).then_some(())
    })
    .await;
    cluster.http().create("default", &p).await.expect("create");
}

#[tokio::test]
async fn spec_finalizers_change_only_through_finalize_which_removes_a_finished_namespace() {
    let s = TestServer::start().await;
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(namespace_doc("fin")),
        )
        .await;
    assert_eq!(code, 201);
    const NS: &str = "/api/v1/namespaces/fin";
    let with = |finalizers: Value| {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fin"},
               "spec": {"finalizers": finalizers}})
    };
    // A plain update keeps them (and takes the rest).
    let mut doc = with(json!([]));
    doc["metadata"]["labels"] = json!({"team": "a"});
    let (code, ns) = s.call(Method::PUT, NS, Some(doc)).await;
    assert_eq!(code, 200, "{ns}");
    assert_eq!(ns["spec"]["finalizers"], json!([FINALIZER_KUBERNETES]));
    assert_eq!(ns["metadata"]["labels"]["team"], "a");
    // /finalize writes them, validated (422, nothing changes).
    let both = json!([FINALIZER_KUBERNETES, "example.com/x"]);
    let (code, ns) = s
        .call(
            Method::PUT,
            &format!("{NS}/finalize"),
            Some(with(both.clone())),
        )
        .await;
    assert_eq!(code, 200, "{ns}");
    assert_eq!(ns["spec"]["finalizers"], both);
    let before = s.snapshot().await;
    let (code, st) = s
        .call(
            Method::PUT,
            &format!("{NS}/finalize"),
            Some(with(json!(["bad"]))),
        )
        .await;
    assert_eq!((code, &st["reason"]), (422, &json!("Invalid")), "{st}");
    assert_eq!(s.snapshot().await, before);
    let (code, _) = s.call(Method::GET, &format!("{NS}/finalize"), None).await;
    assert_eq!(code, 405);
    // Deleting marks it; the /finalize that empties the list removes it.
    let (code, ns) = s.call(Method::DELETE, NS, None).await;
    assert_eq!(
        (code, &ns["status"]["phase"]),
        (200, &json!(PHASE_TERMINATING))
    );
    let (code, ns) = s
        .call(
            Method::PUT,
            &format!("{NS}/finalize"),
            Some(with(json!([]))),
        )
        .await;
    assert_eq!(code, 200, "{ns}");
    let (code, _) = s.call(Method::GET, NS, None).await;
    assert_eq!(code, 404);
    // Discovery lists the subresource with its one verb.
    let (_, v1) = s.call(Method::GET, "/api/v1", None).await;
    let entry = v1["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "namespaces/finalize"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["verbs"], json!(["update"]), "{v1}");
    assert_eq!(entry["kind"], "Namespace");
}
