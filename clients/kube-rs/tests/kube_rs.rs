//! The kube-rs `kube` crate (client and runtime watcher), unmodified, against the project's
//! `localkube` binary (simulated nodes, HTTP on 127.0.0.1): create, get, list with selectors,
//! patch (merge, JSON, strategic, server-side apply), scale, watch, delete, 404 and 409.
//!
//! `LOCALKUBE_BIN` names the binary (scripts/test.sh passes the workspace's
//! `target/debug/localkube`). Without it the test fails when `CLIENT_TESTS_REQUIRED=1` or
//! `CI=true`, and otherwise says how to run it and passes without running.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod, ReplicationController, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, Config};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The server features still being built (kube-runtime/tests/clients/pending.txt, the one list
/// every client test reads): a step needing one is skipped while it is listed.
const PENDING_FILE: &str = include_str!("../../../kube-runtime/tests/clients/pending.txt");

fn pending(feature: &str) -> bool {
    PENDING_FILE.lines().map(str::trim).any(|l| l == feature)
}

/// The localkube process, killed (by its own handle) when dropped.
struct Localkube {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Localkube {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn localkube_bin() -> Option<PathBuf> {
    match std::env::var_os("LOCALKUBE_BIN") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            let required = std::env::var("CLIENT_TESTS_REQUIRED").is_ok_and(|v| v == "1")
                || std::env::var("CI").is_ok_and(|v| v == "true");
            let msg = "LOCALKUBE_BIN is not set: build the workspace (cargo build --bins) and run \
                       LOCALKUBE_BIN=$PWD/target/debug/localkube cargo test --manifest-path \
                       clients/kube-rs/Cargo.toml (scripts/test.sh does)";
            assert!(!required, "{msg}");
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

/// Starts localkube on a free loopback port with two simulated nodes and no proxy.
fn start(bin: PathBuf) -> Localkube {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let child = Command::new(bin)
        .args(["--runtime", "fake", "--fake-nodes", "2", "--proxy=false"])
        .args(["--address", "127.0.0.1", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start localkube");
    Localkube {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The API error's code and reason.
fn api_error(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn pod(name: &str, labels: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]},
    }))
    .expect("pod")
}

fn names(pods: &[Pod]) -> Vec<String> {
    let mut n: Vec<String> = pods
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    n.sort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_client_and_watcher() {
    let Some(bin) = localkube_bin() else {
        return;
    };
    let lk = start(bin);
    let config = Config::new(lk.url.parse().expect("url"));
    let client = Client::try_from(config).expect("client");
    // Up when the version answers.
    let version = eventually("localkube up", 30, || {
        let c = client.clone();
        async move { c.apiserver_version().await.ok() }
    })
    .await;
    assert!(version.git_version.starts_with('v'), "{version:?}");

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rcs: Api<ReplicationController> = Api::namespaced(client.clone(), "default");
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();

    // create and get: the pod Running on a simulated node.
    let created = pods
        .create(&pp, &pod("web", json!({"app": "web", "tier": "front"})))
        .await
        .expect("create pod");
    assert!(created.metadata.uid.is_some());
    let running = eventually("pod web Running", 30, || async {
        let p = pods.get("web").await.ok()?;
        (p.status.as_ref()?.phase.as_deref() == Some("Running")).then_some(p)
    })
    .await;
    assert!(running.spec.and_then(|s| s.node_name).is_some());

    // A controller and a service.
    let rc: ReplicationController = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "frontend"},
        "spec": {"replicas": 2, "selector": {"app": "fe"}, "template": {
            "metadata": {"labels": {"app": "fe"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
    }))
    .expect("rc");
    rcs.create(&pp, &rc).await.expect("create rc");
    let svc: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "fe-svc"},
        "spec": {"selector": {"app": "fe"}, "ports": [{"port": 80}]},
    }))
    .expect("service");
    let svc = services.create(&pp, &svc).await.expect("create service");
    assert!(svc.spec.and_then(|s| s.cluster_ip).is_some());

    // list with label selectors.
    let fe = eventually("two frontend pods", 30, || async {
        let l = pods
            .list(&ListParams::default().labels("app=fe"))
            .await
            .ok()?;
        (l.items.len() == 2).then_some(l.items)
    })
    .await;
    assert!(names(&fe).iter().all(|n| n.starts_with("frontend-")));
    let front = pods
        .list(&ListParams::default().labels("tier in (front)"))
        .await
        .expect("list");
    assert_eq!(names(&front.items), ["web"]);
    assert!(front.metadata.resource_version.is_some());

    // patch: merge, JSON, strategic (containers merged by name).
    let p = pods
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"m": "1"}, "annotations": {"note": "hi"}}}),
            ),
        )
        .await
        .expect("merge patch");
    let labels = p.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("m").map(String::as_str), Some("1"));
    // (the json-patch crate's `Patch`, through kube's `jsonpatch` feature, by inference)
    let ops = serde_json::from_value(json!([
        {"op": "add", "path": "/metadata/labels/j", "value": "2"},
    ]))
    .expect("json patch");
    let p = pods
        .patch("web", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .expect("json patch");
    assert_eq!(
        p.metadata
            .labels
            .unwrap_or_default()
            .get("j")
            .map(String::as_str),
        Some("2")
    );
    let failing = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/name", "value": "other"},
    ]))
    .expect("json patch");
    let e = pods
        .patch("web", &PatchParams::default(), &Patch::Json::<()>(failing))
        .await
        .expect_err("a failed test");
    assert_eq!(api_error(e).0, 422);
    let p = pods
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}),
            ),
        )
        .await
        .expect("strategic patch");
    let containers = p.spec.expect("spec").containers;
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.25"));
    assert_eq!(containers[0].ports.as_ref().map(Vec::len), Some(1));

    // field validation: a strict patch naming an unknown field is refused (422, nothing
    // written); the default (Warn) accepts it and drops the field.
    if !pending("field-validation") {
        let bogus =
            Patch::Merge(json!({"metadata": {"labels": {"fv": "1"}}, "spec": {"bogusField": 1}}));
        let e = pods
            .patch("web", &PatchParams::default().validation_strict(), &bogus)
            .await
            .expect_err("strict");
        let (code, message) = match e {
            kube::Error::Api(s) => (s.code, s.message),
            other => panic!("expected an API error, got {other:?}"),
        };
        assert_eq!(code, 422, "{message}");
        assert!(
            message.contains(r#"strict decoding error: unknown field "spec.bogusField""#),
            "{message}"
        );
        let p = pods.get("web").await.expect("get");
        assert!(!p.metadata.labels.unwrap_or_default().contains_key("fv"));
        let p = pods
            .patch("web", &PatchParams::default(), &bogus)
            .await
            .expect("warn");
        assert!(p.metadata.labels.unwrap_or_default().contains_key("fv"));
    }

    // server-side apply (how kube-rs controllers write).
    if !pending("server-side-apply") {
        let applied = pods
            .patch(
                "applied",
                &PatchParams::apply("kube-rs-test"),
                &Patch::Apply(json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "applied", "labels": {"app": "applied"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                })),
            )
            .await
            .expect("apply creates");
        let managers: Vec<String> = applied
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.manager)
            .collect();
        assert_eq!(managers, ["kube-rs-test"]);
        pods.delete("applied", &DeleteParams::default())
            .await
            .expect("delete");
    }

    // scale.
    let scale = rcs.get_scale("frontend").await.expect("get scale");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(2));
    rcs.patch_scale(
        "frontend",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .expect("patch scale");
    eventually("three frontend pods", 30, || async {
        let l = pods
            .list(&ListParams::default().labels("app=fe"))
            .await
            .ok()?;
        (l.items.len() == 3).then_some(())
    })
    .await;

    // The runtime watcher: the current pods, then one created while watching.
    let mut stream = watcher(pods.clone(), watcher::Config::default().labels("w=1")).boxed();
    let mut seen = Vec::new();
    let waiting = async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            match ev {
                watcher::Event::InitDone => {
                    pods.create(&pp, &pod("watched", json!({"w": "1"})))
                        .await
                        .expect("create watched");
                }
                watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                    let name = p.metadata.name.unwrap_or_default();
                    seen.push(name.clone());
                    if name == "watched" {
                        return;
                    }
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the watcher saw the new pod");
    assert_eq!(seen.first().map(String::as_str), Some("watched"));

    // The watcher in streaming-list mode (sendInitialEvents): the current pods, then InitDone.
    let streaming = watcher::Config::default().labels("w=1").streaming_lists();
    let mut stream = watcher(pods.clone(), streaming).boxed();
    let mut initial = Vec::new();
    let listing = async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            match ev {
                watcher::Event::InitApply(p) => initial.push(p.metadata.name.unwrap_or_default()),
                watcher::Event::InitDone => return,
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), listing)
        .await
        .expect("the streaming list ended");
    assert_eq!(initial, ["watched"]);

    // namespaces.
    if !pending("namespaces") {
        let nss: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "team-rs"}})).expect("ns");
        nss.create(&pp, &ns).await.expect("create namespace");
        let in_ns: Api<Pod> = Api::namespaced(client.clone(), "team-rs");
        in_ns
            .create(&pp, &pod("web", json!({})))
            .await
            .expect("create in namespace");
        let missing: Api<Pod> = Api::namespaced(client.clone(), "missing");
        let e = missing
            .create(&pp, &pod("web", json!({})))
            .await
            .expect_err("404");
        assert_eq!(api_error(e).0, 404);
        nss.delete("team-rs", &DeleteParams::default())
            .await
            .expect("delete namespace");
    }

    // 404 and 409.
    let e = pods.get("nope").await.expect_err("404");
    assert_eq!(api_error(e), (404, "NotFound".to_string()));
    let e = pods
        .create(&pp, &pod("web", json!({})))
        .await
        .expect_err("409");
    assert_eq!(api_error(e), (409, "AlreadyExists".to_string()));
    assert!(pods.get_opt("nope").await.expect("get_opt").is_none());

    // delete: a collection by selector (the deleted pods are answered), the pod, the
    // service, the controller with its pods.
    for name in ["batch-1", "batch-2"] {
        pods.create(&pp, &pod(name, json!({"batch": "rs"})))
            .await
            .expect("create batch pod");
    }
    let deleted = pods
        .delete_collection(
            &DeleteParams::default().grace_period(0),
            &ListParams::default().labels("batch=rs"),
        )
        .await
        .expect("delete collection");
    let deleted = deleted.left().expect("the list of deleted pods");
    let mut names: Vec<String> = deleted
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["batch-1", "batch-2"]);
    eventually("batch pods gone", 30, || async {
        let l = pods
            .list(&ListParams::default().labels("batch=rs"))
            .await
            .ok()?;
        l.items.is_empty().then_some(())
    })
    .await;
    pods.delete("web", &DeleteParams::default())
        .await
        .expect("delete pod");
    eventually("pod web gone", 30, || async {
        pods.get_opt("web").await.ok()?.is_none().then_some(())
    })
    .await;
    services
        .delete("fe-svc", &DeleteParams::default())
        .await
        .expect("delete service");
    rcs.delete("frontend", &DeleteParams::background())
        .await
        .expect("delete rc");
    eventually("frontend pods gone", 60, || async {
        let l = pods
            .list(&ListParams::default().labels("app=fe"))
            .await
            .ok()?;
        l.items.is_empty().then_some(())
    })
    .await;
    drop(lk);
}
