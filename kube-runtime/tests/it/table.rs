//! Table output over HTTP: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (as kubectl
//! sends it, with fallbacks) answers a `meta.k8s.io` `Table` with kubectl's columns, for gets
//! and lists; `includeObject` chooses what rows carry; an Accept naming nothing the server can
//! answer is a 406 Status.

use crate::support::{pod, TestServer};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_core::time::Timestamp;
use kube_runtime::clock::Clock;
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::time::Duration;

/// What kubectl (1.20 and current) sends for `kubectl get`.
const KUBECTL: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const PODS: &str = "/api/v1/namespaces/default/pods";

/// A server whose clock starts at a known time, on paused time.
async fn server() -> TestServer {
    let start = Timestamp::parse("2026-11-28T12:00:00Z").expect("time");
    let cluster = TestCluster::builder()
        .clock(Clock::virtual_at(start))
        .start()
        .await
        .expect("cluster");
    TestServer::on(cluster)
}

/// GET `path` with `accept`; the status and the JSON body.
async fn get(s: &TestServer, path: &str, accept: &str) -> (u16, Value) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = Request::builder()
        .method(Method::GET)
        .uri(s.url(path))
        .header("accept", accept)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let resp = client.request(req).await.expect("send");
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let v = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (code, v)
}

async fn create(s: &TestServer, path: &str, body: Value) -> Value {
    let (code, created) = s.call(Method::POST, path, Some(body)).await;
    assert_eq!(code, 201, "{created}");
    created
}

/// The names of the columns shown by default (priority 0), upper-cased as kubectl prints them.
fn shown(table: &Value) -> Vec<String> {
    table["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .filter(|c| c["priority"] == 0)
        .map(|c| c["name"].as_str().unwrap_or_default().to_uppercase())
        .collect()
}

fn cells(table: &Value, row: usize) -> Vec<Value> {
    table["rows"][row]["cells"]
        .as_array()
        .expect("cells")
        .clone()
}

#[tokio::test(start_paused = true)]
async fn kubectl_gets_a_table_of_pods_with_its_columns() {
    let s = server().await;
    create(&s, PODS, pod("a", json!({"app": "web"}))).await;
    let created = create(&s, PODS, pod("b", json!({}))).await;
    tokio::time::advance(Duration::from_secs(180)).await;

    let (code, list) = s.call(Method::GET, PODS, None).await;
    assert_eq!(code, 200);
    let (code, t) = get(&s, PODS, KUBECTL).await;
    assert_eq!(code, 200, "{t}");
    assert_eq!(
        (t["kind"].as_str(), t["apiVersion"].as_str()),
        (Some("Table"), Some("meta.k8s.io/v1"))
    );
    assert_eq!(
        t["metadata"]["resourceVersion"],
        list["metadata"]["resourceVersion"]
    );
    assert_eq!(shown(&t), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let defs = t["columnDefinitions"].as_array().expect("columns");
    assert_eq!(defs.len(), 9);
    assert_eq!(
        defs[0],
        json!({"name": "Name", "type": "string", "format": "name",
               "description": "Name must be unique within a namespace.", "priority": 0})
    );
    assert_eq!(
        (&defs[5]["name"], &defs[5]["priority"]),
        (&json!("IP"), &json!(1))
    );
    assert_eq!(t["rows"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        cells(&t, 1),
        [
            json!("b"),
            json!("0/1"),
            json!("Pending"),
            json!("0"),
            json!("3m"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>")
        ]
    );
    // Rows carry the metadata by default.
    let obj = &t["rows"][1]["object"];
    assert_eq!(obj["kind"], "PartialObjectMetadata");
    assert_eq!(obj["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(obj["metadata"], created["metadata"]);
    assert!(obj.get("spec").is_none());

    // One object: a table of one row at the object's revision.
    let (code, one) = get(&s, &format!("{PODS}/b"), KUBECTL).await;
    assert_eq!(code, 200, "{one}");
    assert_eq!(one["kind"], "Table");
    assert_eq!(
        one["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(cells(&one, 0)[0], "b");
    assert_eq!(one["rows"].as_array().map(Vec::len), Some(1));

    // With a selector, and across namespaces.
    let (_, t) = get(&s, &format!("{PODS}?labelSelector=app%3Dweb"), KUBECTL).await;
    assert_eq!(t["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(cells(&t, 0)[0], "a");
    let (code, t) = get(&s, "/api/v1/pods", KUBECTL).await;
    assert_eq!((code, t["rows"].as_array().map(Vec::len)), (200, Some(2)));

    // Without a Table in Accept, or on the seed's API, plain JSON as before.
    let (_, plain) = get(&s, PODS, "application/json").await;
    assert_eq!(plain["kind"], "PodList");
    let (code, seed) = get(&s, "/api/v1beta1/pods", KUBECTL).await;
    assert_eq!(code, 200);
    assert_ne!(seed["kind"], "Table");
}

#[tokio::test(start_paused = true)]
async fn include_object_and_table_versions() {
    let s = server().await;
    let created = create(&s, PODS, pod("a", json!({}))).await;
    let path = format!("{PODS}/a");
    // (query, Accept, apiVersion of the table, the row's object kind or none)
    let cases = [
        ("", KUBECTL, "meta.k8s.io/v1", Some("PartialObjectMetadata")),
        (
            "?includeObject=Metadata",
            KUBECTL,
            "meta.k8s.io/v1",
            Some("PartialObjectMetadata"),
        ),
        (
            "?includeObject=Object",
            KUBECTL,
            "meta.k8s.io/v1",
            Some("Pod"),
        ),
        ("?includeObject=None", KUBECTL, "meta.k8s.io/v1", None),
        (
            "",
            "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
            "meta.k8s.io/v1beta1",
            Some("PartialObjectMetadata"),
        ),
    ];
    for (query, accept, api_version, kind) in cases {
        for p in [path.clone(), PODS.to_string()] {
            let (code, t) = get(&s, &format!("{p}{query}"), accept).await;
            assert_eq!(code, 200, "{p}{query}: {t}");
            assert_eq!(t["apiVersion"], api_version, "{p}{query}");
            let obj = t["rows"][0].get("object");
            assert_eq!(
                obj.map(|o| o["kind"].clone()),
                kind.map(|k| json!(k)),
                "{p}{query}"
            );
            if let Some(o) = obj {
                assert_eq!(o["metadata"]["uid"], created["metadata"]["uid"]);
            }
        }
    }
    let (_, t) = get(&s, &format!("{path}?includeObject=Object"), KUBECTL).await;
    assert_eq!(t["rows"][0]["object"]["spec"]["containers"][0]["name"], "c");
    let (code, st) = get(&s, &format!("{path}?includeObject=Everything"), KUBECTL).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (400, Some("BadRequest")),
        "{st}"
    );
}

#[tokio::test(start_paused = true)]
async fn every_kind_has_kubectls_columns() {
    let s = server().await;
    create(
        &s,
        "/api/v1/nodes",
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
    )
    .await;
    create(
        &s,
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    )
    .await;
    create(
        &s,
        "/api/v1/namespaces/default/replicationcontrollers",
        json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "web"},
               "spec": {"replicas": 2, "selector": {"app": "web"},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
    )
    .await;
    create(
        &s,
        "/api/v1/namespaces/default/endpoints",
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
               "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 8080}]}]}),
    )
    .await;
    create(
        &s,
        "/api/v1/namespaces/default/events",
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
               "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
               "reason": "Scheduled", "message": "assigned", "type": "Normal",
               "firstTimestamp": "2026-11-28T11:59:00Z", "lastTimestamp": "2026-11-28T11:59:30Z"}),
    )
    .await;
    create(
        &s,
        "/apis/coordination.k8s.io/v1/namespaces/default/leases",
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
               "spec": {"holderIdentity": "me"}}),
    )
    .await;
    // (collection, columns shown, cells of the first row shown by default)
    let cases: [(&str, &[&str], Value); 6] = [
        (
            "/api/v1/nodes",
            &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            json!(["n1", "Unknown", "<none>", "0s", ""]),
        ),
        (
            "/api/v1/namespaces/default/services",
            &[
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            json!(["web", "ClusterIP", null, "<none>", "80/TCP", "0s"]),
        ),
        (
            "/api/v1/namespaces/default/replicationcontrollers",
            &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            json!(["web", 2, 0, 0, "0s"]),
        ),
        (
            "/api/v1/namespaces/default/endpoints",
            &["NAME", "ENDPOINTS", "AGE"],
            json!(["web", "10.0.0.1:8080", "0s"]),
        ),
        (
            "/api/v1/namespaces/default/events",
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            json!(["30s", "Normal", "Scheduled", "pod/web", "assigned"]),
        ),
        (
            "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            &["NAME", "HOLDER", "AGE"],
            json!(["l", "me", "0s"]),
        ),
    ];
    for (path, columns, want) in cases {
        let (code, t) = get(&s, path, KUBECTL).await;
        assert_eq!(code, 200, "{path}: {t}");
        assert_eq!(shown(&t), columns, "{path}");
        let defs = t["columnDefinitions"].as_array().expect("columns").clone();
        let row = cells(&t, 0);
        assert_eq!(row.len(), defs.len(), "{path}");
        let got: Vec<Value> = defs
            .iter()
            .zip(row)
            .filter(|(d, _)| d["priority"] == 0)
            .map(|(_, c)| c)
            .collect();
        for (i, (g, w)) in got.iter().zip(want.as_array().expect("want")).enumerate() {
            // null: any (the cluster IP is allocated by the server).
            if !w.is_null() {
                assert_eq!(g, w, "{path} column {i}");
            }
        }
    }
}

#[tokio::test]
async fn an_unacceptable_accept_is_a_406_status() {
    let s = TestServer::start().await;
    create(&s, PODS, pod("a", json!({}))).await;
    let table_only = "application/json;as=Table;v=v1;g=meta.k8s.io";
    // (path, Accept)
    let cases = [
        (PODS.to_string(), "application/yaml"),
        (format!("{PODS}/a"), "application/vnd.kubernetes.protobuf"),
        (
            PODS.to_string(),
            "application/json;as=Table;v=v9;g=meta.k8s.io",
        ),
        // Watches are not served as tables.
        (format!("{PODS}?watch=true"), table_only),
    ];
    for (path, accept) in cases {
        let (code, st) = get(&s, &path, accept).await;
        assert_eq!(code, 406, "{path} {accept}: {st}");
        assert_eq!(st["kind"], "Status");
        assert_eq!(st["reason"], "NotAcceptable");
        assert!(st["message"]
            .as_str()
            .is_some_and(|m| m.contains("application/json")));
    }
    // A watch with kubectl's Accept falls back to JSON events.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = Request::builder()
        .uri(s.url(&format!("{PODS}?watch=true&timeoutSeconds=1")))
        .header("accept", KUBECTL)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let resp = client.request(req).await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let first: Value =
        serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap_or_default())
            .expect("event");
    assert_eq!(
        (first["type"].as_str(), first["object"]["kind"].as_str()),
        (Some("ADDED"), Some("Pod"))
    );
}
