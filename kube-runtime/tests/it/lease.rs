//! Leases (`coordination.k8s.io/v1`) served under `/apis`, listed in discovery, never in v1beta1,
//! and reachable through both typed clients.

use crate::support::TestServer;
use hyper::Method;
use kube_core::lease::{Lease, LeaseSpec};
use kube_runtime::client::{ApiClient, ListParams};
use serde_json::{json, Value};

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

fn lease_doc(name: &str, holder: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15,
                 "renewTime": "2026-11-28T05:00:00.000000Z"}
    })
}

#[tokio::test]
async fn discovery_lists_the_coordination_group_and_only_there() {
    let s = TestServer::start().await;
    let (code, groups) = s.call(Method::GET, "/apis", None).await;
    assert_eq!(code, 200);
    assert_eq!(groups["groups"][0]["name"], "coordination.k8s.io");
    assert_eq!(
        groups["groups"][0]["preferredVersion"]["groupVersion"],
        "coordination.k8s.io/v1"
    );
    let (code, res) = s
        .call(Method::GET, "/apis/coordination.k8s.io/v1", None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(res["groupVersion"], "coordination.k8s.io/v1");
    let names: Vec<&str> = res["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["leases"]);
    assert_eq!(res["resources"][0]["kind"], "Lease");
    assert_eq!(res["resources"][0]["namespaced"], true);
    for path in ["/api/v1", "/api/v1beta1"] {
        let (_, core) = s.call(Method::GET, path, None).await;
        let core = core["resources"].to_string();
        assert!(!core.contains("ease"), "{path} lists no leases: {core}");
    }
}

#[tokio::test]
async fn leases_are_served_under_their_group_only() {
    let s = TestServer::start().await;
    let (code, created) = s
        .call(Method::POST, LEASES, Some(lease_doc("scheduler", "a")))
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["apiVersion"], "coordination.k8s.io/v1");
    assert_eq!(created["metadata"]["namespace"], "kube-system");
    assert_eq!(created["spec"]["leaseTransitions"], 0, "defaulted");

    let item = format!("{LEASES}/scheduler");
    let (code, got) = s.call(Method::GET, &item, None).await;
    assert_eq!((code, &got["spec"]["holderIdentity"]), (200, &json!("a")));

    // Lists (namespaced, all namespaces, filtered) carry the group version.
    for path in [
        LEASES.to_string(),
        "/apis/coordination.k8s.io/v1/leases".to_string(),
        format!("{LEASES}?fieldSelector=spec.holderIdentity%3Da"),
    ] {
        let (code, list) = s.call(Method::GET, &path, None).await;
        assert_eq!(code, 200, "{path}: {list}");
        assert_eq!(list["apiVersion"], "coordination.k8s.io/v1", "{path}");
        assert_eq!(list["kind"], "LeaseList", "{path}");
        assert_eq!(list["items"][0]["metadata"]["name"], "scheduler", "{path}");
        assert!(
            list["items"][0]["metadata"]["resourceVersion"].is_string(),
            "{path}"
        );
    }

    // Compare-and-swap: a stale resourceVersion is a conflict.
    let mut take = got.clone();
    take["spec"]["holderIdentity"] = json!("b");
    let (code, updated) = s.call(Method::PUT, &item, Some(take.clone())).await;
    assert_eq!(code, 200, "{updated}");
    let (code, stale) = s.call(Method::PUT, &item, Some(take)).await;
    assert_eq!((code, &stale["reason"]), (409, &json!("Conflict")));

    // A body in the wrong version, and the paths that must not serve leases.
    let mut wrong = lease_doc("other", "a");
    wrong["apiVersion"] = json!("v1");
    let (code, _) = s.call(Method::POST, LEASES, Some(wrong)).await;
    assert_eq!(code, 400);
    for path in [
        "/api/v1/namespaces/kube-system/leases",
        "/api/v1/leases",
        "/api/v1beta1/leases",
        "/api/v1beta1/leases/scheduler",
        "/apis/coordination.k8s.io/v1/leases/scheduler",
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/scheduler/status",
        "/apis/coordination.k8s.io/v2/namespaces/kube-system/leases",
    ] {
        let (code, _) = s.call(Method::GET, path, None).await;
        assert_eq!(code, 404, "{path}");
    }
    let (code, invalid) = s
        .call(
            Method::POST,
            LEASES,
            Some(json!({"metadata": {"name": "x"}, "spec": {"leaseDurationSeconds": 0}})),
        )
        .await;
    assert_eq!(code, 422, "{invalid}");
}

#[tokio::test]
async fn watch_streams_lease_changes_in_the_group_version() {
    let s = TestServer::start().await;
    let mut w = s
        .watch("/apis/coordination.k8s.io/v1/watch/namespaces/kube-system/leases")
        .await;
    let (code, _) = s
        .call(Method::POST, LEASES, Some(lease_doc("l", "a")))
        .await;
    assert_eq!(code, 201);
    let ev = w.next().await.expect("an event");
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["apiVersion"], "coordination.k8s.io/v1");
    assert_eq!(ev["object"]["spec"]["holderIdentity"], "a");
}

async fn typed_round_trip<C: ApiClient>(c: &C) {
    let lease = Lease {
        metadata: kube_core::ObjectMeta {
            name: "ctl".into(),
            ..Default::default()
        },
        spec: LeaseSpec {
            holder_identity: "me".into(),
            lease_duration_seconds: Some(10),
            ..LeaseSpec::default()
        },
        ..Lease::default()
    };
    let created = c.create("ns", &lease).await.expect("create");
    assert_eq!(created.api_version, "coordination.k8s.io/v1");
    let mut next = created.clone();
    next.spec.holder_identity = "you".into();
    let updated = c.update("ns", &next).await.expect("update");
    assert_eq!(updated.spec.holder_identity, "you");
    let err = c.update("ns", &next).await.expect_err("stale update");
    assert!(err.is_conflict(), "{err}");
    let list = c
        .list::<Lease>(None, &ListParams::default())
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    let got: Lease = c.get("ns", "ctl").await.expect("get");
    assert_eq!(got, updated);
    let _: Lease = c.delete("ns", "ctl").await.expect("delete");
}

#[tokio::test]
async fn both_clients_read_and_write_leases() {
    let s = TestServer::start().await;
    s.cluster.create_namespace("ns").await.expect("namespace");
    typed_round_trip(&s.cluster.http().clone()).await;
    typed_round_trip(s.cluster.in_process()).await;
}
