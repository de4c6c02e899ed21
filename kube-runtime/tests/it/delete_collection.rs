//! `DELETE` on a collection (`deletecollection`): every object the selectors pick in the
//! namespace is deleted with the request's options and the answer is the list of them, as
//! Kubernetes answers; not served on namespaces nor in v1beta1.

use crate::support::{pod, TestServer};
use hyper::Method;
use serde_json::{json, Value};

fn names(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn deletecollection_deletes_what_the_selectors_pick_in_the_namespace() {
    let s = TestServer::start().await;
    let (code, ns) = s
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})),
        )
        .await;
    assert_eq!(code, 201, "{ns}");
    for (ns, name, app) in [
        ("default", "a1", "a"),
        ("default", "a2", "a"),
        ("default", "b1", "b"),
        ("other", "a3", "a"),
    ] {
        let path = format!("/api/v1/namespaces/{ns}/pods");
        let (code, body) = s
            .call(Method::POST, &path, Some(pod(name, json!({"app": app}))))
            .await;
        assert_eq!(code, 201, "{body}");
    }
    const PODS: &str = "/api/v1/namespaces/default/pods";

    // A dry run answers what would go and removes nothing.
    let before = s.snapshot().await;
    let (code, list) = s
        .call(
            Method::DELETE,
            &format!("{PODS}?labelSelector=app%3Da&dryRun=All"),
            None,
        )
        .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(names(&list), ["a1", "a2"]);
    assert_eq!(s.snapshot().await, before);

    // The real one: the list of the deleted pods, only in this namespace.
    let (code, list) = s
        .call(
            Method::DELETE,
            &format!("{PODS}?labelSelector=app%3Da"),
            Some(json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})),
        )
        .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["kind"], "PodList");
    assert_eq!(names(&list), ["a1", "a2"]);
    let (_, left) = s.call(Method::GET, PODS, None).await;
    assert_eq!(names(&left), ["b1"]);
    let (_, other) = s
        .call(Method::GET, "/api/v1/namespaces/other/pods", None)
        .await;
    assert_eq!(names(&other), ["a3"]);

    // A field selector, and nothing left to pick: an empty list.
    let (code, list) = s
        .call(
            Method::DELETE,
            &format!("{PODS}?fieldSelector=metadata.name%3Db1"),
            None,
        )
        .await;
    assert_eq!((code, names(&list)), (200, vec!["b1".to_string()]));
    let (code, list) = s.call(Method::DELETE, PODS, None).await;
    assert_eq!((code, names(&list)), (200, Vec::<String>::new()));
    // A bad selector changes nothing.
    let (code, status) = s
        .call(
            Method::DELETE,
            "/api/v1/namespaces/other/pods?labelSelector=a%20in%20(",
            None,
        )
        .await;
    assert_eq!(code, 400, "{status}");
    let (_, other) = s
        .call(Method::GET, "/api/v1/namespaces/other/pods", None)
        .await;
    assert_eq!(names(&other), ["a3"]);
}

#[tokio::test]
async fn deletecollection_is_not_served_on_namespaces_nor_in_v1beta1() {
    let s = TestServer::start().await;
    for path in ["/api/v1/namespaces", "/api/v1beta1/pods", "/api/v1/pods"] {
        let resp = s.send(Method::DELETE, path, None, Vec::new()).await;
        assert_eq!(resp.status().as_u16(), 405, "{path}");
        let allow = resp.headers().get("allow").and_then(|v| v.to_str().ok());
        assert!(
            !allow.unwrap_or("DELETE").contains("DELETE"),
            "{path}: {allow:?}"
        );
    }
    // Discovery lists the verb exactly where it is served.
    let (_, v1) = s.call(Method::GET, "/api/v1", None).await;
    let verbs = |name: &str| -> Vec<Value> {
        v1["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == name))
            .and_then(|r| r["verbs"].as_array().cloned())
            .unwrap_or_default()
    };
    assert!(verbs("pods").contains(&json!("deletecollection")));
    assert!(verbs("nodes").contains(&json!("deletecollection")));
    assert!(!verbs("namespaces").contains(&json!("deletecollection")));
    let (_, legacy) = s.call(Method::GET, "/api/v1beta1", None).await;
    assert!(!legacy.to_string().contains("deletecollection"), "{legacy}");
}
