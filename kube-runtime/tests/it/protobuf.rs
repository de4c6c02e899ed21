//! Request bodies in Kubernetes' protobuf encoding (as a current kubectl's typed clientset
//! sends them) take the JSON path: created, defaulted, validated, answered in JSON.

use crate::support::TestServer;
use hyper::Method;
use serde_json::Value;

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
const NAMESPACE: &[u8] =
    include_bytes!("../../../kube-core/src/protobuf/testdata/kubectl-create-namespace.bin");
const SERVICE: &[u8] =
    include_bytes!("../../../kube-core/src/protobuf/testdata/kubectl-create-service-clusterip.bin");

async fn post(s: &TestServer, path: &str, body: &[u8]) -> (u16, Value) {
    let (code, bytes) = s
        .raw(Method::POST, path, Some(PROTOBUF), body.to_vec())
        .await;
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (code, v)
}

#[tokio::test]
async fn kubectl_protobuf_bodies_create_objects() {
    let s = TestServer::start().await;
    let (code, ns) = post(
        &s,
        "/api/v1/namespaces?fieldManager=kubectl-create",
        NAMESPACE,
    )
    .await;
    assert_eq!(code, 201, "{ns}");
    assert_eq!(ns["kind"], "Namespace");
    assert_eq!(ns["metadata"]["name"], "team-a");
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(ns["spec"]["finalizers"][0], "kubernetes");
    let (code, got) = s.call(Method::GET, "/api/v1/namespaces/team-a", None).await;
    assert_eq!(
        (code, &got["metadata"]["uid"]),
        (200, &ns["metadata"]["uid"])
    );

    let (code, svc) = post(&s, "/api/v1/namespaces/default/services", SERVICE).await;
    assert_eq!(code, 201, "{svc}");
    assert_eq!(svc["metadata"]["namespace"], "default");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(svc["spec"]["selector"]["app"], "web");
    assert!(
        svc["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| !ip.is_empty()),
        "a cluster IP is allocated: {svc}"
    );
}

#[tokio::test]
async fn dry_run_applies_to_protobuf_bodies() {
    let s = TestServer::start().await;
    let (code, ns) = post(&s, "/api/v1/namespaces?dryRun=All", NAMESPACE).await;
    assert_eq!(code, 201, "{ns}");
    let (code, _) = s.call(Method::GET, "/api/v1/namespaces/team-a", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn bad_protobuf_bodies_are_refused() {
    let s = TestServer::start().await;
    let mut pod = b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod".to_vec();
    pod.extend_from_slice(b"\x12\x00");
    let mut truncated = NAMESPACE.to_vec();
    truncated.truncate(NAMESPACE.len() - 5);
    // (path, body, code, reason, message fragment)
    let cases: [(&str, Vec<u8>, u16, &str, &str); 5] = [
        (
            "/api/v1/namespaces/default/services",
            NAMESPACE.to_vec(),
            400,
            "BadRequest",
            "does not match the expected kind",
        ),
        (
            "/api/v1/namespaces/default/pods",
            pod,
            415,
            "UnsupportedMediaType",
            "v1/Pod is not supported",
        ),
        (
            "/api/v1/namespaces",
            truncated,
            400,
            "BadRequest",
            "truncated",
        ),
        (
            "/api/v1/namespaces",
            b"{}".to_vec(),
            400,
            "BadRequest",
            "magic",
        ),
        (
            "/api/v1/namespaces",
            vec![
                b'k', b'8', b's', 0, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0x7f,
            ],
            400,
            "BadRequest",
            "varint",
        ),
    ];
    for (path, body, want_code, reason, fragment) in cases {
        let (code, st) = post(&s, path, &body).await;
        assert_eq!(code, want_code, "{path}: {st}");
        assert_eq!(st["reason"], reason, "{st}");
        let msg = st["message"].as_str().unwrap_or_default();
        assert!(msg.contains(fragment), "{fragment:?} in {msg:?}");
    }
    let (_, list) = s.call(Method::GET, "/api/v1/namespaces", None).await;
    let names: Vec<_> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert!(!names.contains(&"team-a"), "{names:?}");
}
