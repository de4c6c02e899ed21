//! Events are found the way `kubectl describe` looks them up: field selectors on
//! `involvedObject.*`, `reason`, `source` and `type`, in lists and watches; an unknown field
//! is a 400.

use crate::support::TestServer;
use hyper::Method;
use serde_json::{json, Value};

const EVENTS: &str = "/api/v1/namespaces/default/events";

fn event(name: &str, pod: &str, uid: &str, reason: &str, type_: &str, source: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": pod, "uid": uid,
                           "apiVersion": "v1", "fieldPath": "spec.containers{c}"},
        "reason": reason, "message": "m", "type": type_, "source": {"component": source}
    })
}

fn names(list: &Value) -> Vec<String> {
    let mut n: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            i["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn kubectl_describe_finds_the_events_of_an_object() {
    let s = TestServer::start().await;
    for ev in [
        event("web.1", "web", "u-web", "Scheduled", "Normal", "scheduler"),
        event("web.2", "web", "u-web", "BackOff", "Warning", "kubelet"),
        event("old.1", "web", "u-old", "Started", "Normal", "kubelet"),
        event("db.1", "db", "u-db", "Started", "Normal", "kubelet"),
    ] {
        let (code, body) = s.call(Method::POST, EVENTS, Some(ev)).await;
        assert_eq!(code, 201, "{body}");
    }
    // (field selector, events listed)
    let cases: [(&str, &[&str]); 8] = [
        // `kubectl describe pod web`: name, namespace, kind and uid of the pod.
        (
            "involvedObject.name=web,involvedObject.namespace=default,involvedObject.kind=Pod,involvedObject.uid=u-web",
            &["web.1", "web.2"],
        ),
        ("involvedObject.name=web", &["old.1", "web.1", "web.2"]),
        ("involvedObject.kind=Node", &[]),
        ("involvedObject.fieldPath=spec.containers{c},reason=Started", &["db.1", "old.1"]),
        ("type=Warning", &["web.2"]),
        ("type!=Warning,source=kubelet", &["db.1", "old.1"]),
        ("involvedObject.apiVersion=v1,reason=Scheduled", &["web.1"]),
        ("involvedObject.resourceVersion=", &["db.1", "old.1", "web.1", "web.2"]),
    ];
    for (selector, want) in cases {
        let path = format!("{EVENTS}?fieldSelector={}", urlencode(selector));
        let (code, list) = s.call(Method::GET, &path, None).await;
        assert_eq!(code, 200, "{selector}: {list}");
        assert_eq!(names(&list), want, "{selector}");
        // Across namespaces too.
        let path = format!("/api/v1/events?fieldSelector={}", urlencode(selector));
        let (_, list) = s.call(Method::GET, &path, None).await;
        assert_eq!(names(&list), want, "{selector} (all namespaces)");
    }
    // A watch with the selector sees only matching events.
    let sel = urlencode("involvedObject.uid=u-db");
    let mut w = s
        .watch(&format!("{EVENTS}?watch=true&fieldSelector={sel}"))
        .await;
    assert_eq!(
        w.next_summary().await,
        Some(("ADDED".into(), "db.1".into()))
    );
    let (code, _) = s
        .call(
            Method::POST,
            EVENTS,
            Some(event(
                "web.3", "web", "u-web", "Killing", "Normal", "kubelet",
            )),
        )
        .await;
    assert_eq!(code, 201);
    let (code, _) = s
        .call(
            Method::POST,
            EVENTS,
            Some(event("db.2", "db", "u-db", "Killing", "Normal", "kubelet")),
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(
        w.next_summary().await,
        Some(("ADDED".into(), "db.2".into()))
    );
    // Fields events do not have are refused, naming the field.
    let (code, st) = s
        .call(
            Method::GET,
            &format!("{EVENTS}?fieldSelector=involvedObject.host%3Dn1"),
            None,
        )
        .await;
    assert_eq!(code, 400, "{st}");
    assert!(
        st["message"]
            .as_str()
            .is_some_and(|m| m.contains("involvedObject.host")),
        "{st}"
    );
}

/// Percent-encodes a query value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
