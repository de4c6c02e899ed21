//! Lists in pages over HTTP, as Kubernetes serves them: `limit` and `continue` (every page at
//! the first page's revision, `remainingItemCount` without selectors), an expired token (410
//! with an inconsistent token that works), bad tokens (400), and `resourceVersion` with
//! `resourceVersionMatch` (unset, `0`, `NotOlderThan`, `Exact`; 410 when compacted, 504 when
//! in the future, 422 for the combinations Kubernetes' validation forbids).

use crate::support::TestServer;
use hyper::Method;
use kube_core::paging::{ContinueToken, EXPIRED_MESSAGE, INCONSISTENT_CONTINUE_MESSAGE};
use kube_core::Pod;
use kube_runtime::client::{ApiClient, ListParams};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const PODS: &str = "/api/v1/namespaces/default/pods";

/// A pod named `name` with label `app`.
fn pod(name: &str, app: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    }))
    .expect("pod")
}

/// Creates `n` pods `p0000`… through the in-process client; every third has `app=web`.
async fn create_pods(s: &TestServer, n: usize) {
    let c = s.cluster.in_process();
    for i in 0..n {
        let app = if i % 3 == 0 { "web" } else { "db" };
        c.create("default", &pod(&format!("p{i:04}"), app))
            .await
            .expect("create");
    }
}

/// GET `path`, expecting `code`.
async fn get(s: &TestServer, path: &str, code: u16) -> Value {
    let (got, body) = s.call(Method::GET, path, None).await;
    assert_eq!(got, code, "GET {path}: {body}");
    body
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name").to_owned())
        .collect()
}

fn rv(list: &Value) -> &str {
    list["metadata"]["resourceVersion"].as_str().expect("rv")
}

fn token(list: &Value) -> Option<&str> {
    list["metadata"]["continue"].as_str()
}

/// The query value of a token.
fn q(token: &str) -> String {
    kube_runtime::client::encode_component(token)
}

#[tokio::test]
async fn three_pages_of_500_share_the_first_pages_revision() {
    let s = TestServer::start().await;
    create_pods(&s, 1200).await;
    let first = get(&s, &format!("{PODS}?limit=500"), 200).await;
    assert_eq!(names(&first).len(), 500);
    assert_eq!(first["metadata"]["remainingItemCount"], 700);
    let at = rv(&first).to_owned();
    let t1 = token(&first).expect("a continue token").to_owned();
    let decoded = ContinueToken::decode(&t1).expect("Kubernetes-shaped token");
    assert_eq!(decoded.revision, Some(at.parse().expect("rv")));
    assert_eq!(
        decoded.start, "p0499\0",
        "relative to the namespace's key prefix"
    );
    // Writes between pages are not seen: a pod in the next page's range, a deleted one, an
    // updated one.
    let c = s.cluster.in_process();
    c.create("default", &pod("p0600x", "web"))
        .await
        .expect("create");
    c.delete_with::<Pod>("default", "p1100", &kube_core::DeleteOptions::immediate())
        .await
        .expect("delete");
    let second = get(&s, &format!("{PODS}?limit=500&continue={}", q(&t1)), 200).await;
    assert_eq!(rv(&second), at);
    assert_eq!(second["metadata"]["remainingItemCount"], 200);
    let t2 = token(&second).expect("a second token").to_owned();
    let third = get(&s, &format!("{PODS}?limit=500&continue={}", q(&t2)), 200).await;
    assert_eq!(rv(&third), at);
    assert_eq!(token(&third), None);
    assert!(third["metadata"].get("remainingItemCount").is_none());
    let all: Vec<String> = [&first, &second, &third]
        .into_iter()
        .flat_map(names)
        .collect();
    let want: Vec<String> = (0..1200).map(|i| format!("p{i:04}")).collect();
    assert_eq!(all, want, "every pod once, in order, as of the first page");
    // A fresh list sees the writes.
    let now = names(&get(&s, PODS, 200).await);
    assert!(now.contains(&"p0600x".to_owned()) && !now.contains(&"p1100".to_owned()));
    // The same over all namespaces, and as a Table (kubectl's chunked `get`).
    let all_ns = get(&s, "/api/v1/pods?limit=1000", 200).await;
    assert_eq!(names(&all_ns).len(), 1000);
    assert!(token(&all_ns).is_some());
    s.cluster.shutdown().await;
}

#[tokio::test]
async fn label_selected_pages_are_full_until_the_last() {
    let s = TestServer::start().await;
    create_pods(&s, 45).await; // 15 with app=web
    let mut pages = Vec::new();
    let mut next = format!("{PODS}?limit=4&labelSelector=app%3Dweb");
    loop {
        let page = get(&s, &next, 200).await;
        assert!(page["metadata"].get("remainingItemCount").is_none());
        let t = token(&page).map(str::to_owned);
        pages.push(page);
        match t {
            Some(t) => next = format!("{PODS}?limit=4&labelSelector=app%3Dweb&continue={}", q(&t)),
            None => break,
        }
        // A write between pages changes nothing.
        s.cluster
            .in_process()
            .create("default", &pod(&format!("z{}", pages.len()), "web"))
            .await
            .expect("create");
    }
    let sizes: Vec<usize> = pages.iter().map(|p| names(p).len()).collect();
    assert_eq!(sizes, [4, 4, 4, 3]);
    let revs: BTreeSet<&str> = pages.iter().map(rv).collect();
    assert_eq!(revs.len(), 1, "every page at one revision");
    let all: Vec<String> = pages.iter().flat_map(names).collect();
    let want: Vec<String> = (0..45).step_by(3).map(|i| format!("p{i:04}")).collect();
    assert_eq!(all, want);
    s.cluster.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_answers_410_with_a_usable_inconsistent_token() {
    let s = TestServer::start().await;
    create_pods(&s, 10).await;
    let first = get(&s, &format!("{PODS}?limit=3"), 200).await;
    let t = token(&first).expect("token").to_owned();
    let c = s.cluster.in_process();
    c.create("default", &pod("p0005x", "db"))
        .await
        .expect("create");
    let store = s.cluster.store();
    store
        .compact(store.current_revision().await.expect("rev"))
        .await
        .expect("compact");
    let gone = get(&s, &format!("{PODS}?limit=3&continue={}", q(&t)), 410).await;
    assert_eq!(gone["kind"], "Status");
    assert_eq!(gone["reason"], "Expired");
    assert_eq!(gone["message"], INCONSISTENT_CONTINUE_MESSAGE);
    let fresh = token(&gone).expect("an inconsistent token").to_owned();
    assert_eq!(
        ContinueToken::decode(&fresh).expect("token"),
        ContinueToken {
            revision: None,
            start: "p0002\0".into()
        }
    );
    // Continuing with it reads the current state from where the first page ended.
    let mut rest = Vec::new();
    let mut next = fresh;
    let mut revs = BTreeSet::new();
    loop {
        let page = get(&s, &format!("{PODS}?limit=3&continue={}", q(&next)), 200).await;
        rest.extend(names(&page));
        revs.insert(rv(&page).to_owned());
        match token(&page) {
            Some(t) => next = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        rest,
        ["p0003", "p0004", "p0005", "p0005x", "p0006", "p0007", "p0008", "p0009"]
    );
    assert_eq!(
        revs.len(),
        1,
        "the rest is consistent at the current revision"
    );
    s.cluster.shutdown().await;
}

#[tokio::test]
async fn bad_tokens_and_conflicting_parameters_are_refused() {
    let s = TestServer::start().await;
    create_pods(&s, 5).await;
    let first = get(&s, &format!("{PODS}?limit=2"), 200).await;
    let t = token(&first).expect("token").to_owned();
    let at = rv(&first).to_owned();
    // (query, code, reason)
    let cases = [
        ("continue=not-a-token".to_owned(), 400, "BadRequest"),
        ("continue=bm90IGpzb24".to_owned(), 400, "BadRequest"),
        (
            // `start` climbing out of the prefix.
            "continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiIuLi9zZWNyZXRzL3gifQ"
                .to_owned(),
            400,
            "BadRequest",
        ),
        (
            format!("continue={}&resourceVersion={at}", q(&t)),
            400,
            "BadRequest",
        ),
        (
            format!(
                "continue={}&resourceVersion={at}&resourceVersionMatch=Exact",
                q(&t)
            ),
            422,
            "Invalid",
        ),
        ("resourceVersionMatch=Exact".to_owned(), 422, "Invalid"),
        (
            "resourceVersionMatch=NotOlderThan".to_owned(),
            422,
            "Invalid",
        ),
        (
            "resourceVersion=0&resourceVersionMatch=Exact".to_owned(),
            422,
            "Invalid",
        ),
        (
            "watch=true&resourceVersion=1&resourceVersionMatch=NotOlderThan".to_owned(),
            422,
            "Invalid",
        ),
        (
            "resourceVersion=1&resourceVersionMatch=Newest".to_owned(),
            422,
            "Invalid",
        ),
        ("limit=-1".to_owned(), 400, "BadRequest"),
    ];
    for (query, code, reason) in cases {
        let body = get(&s, &format!("{PODS}?{query}"), code).await;
        assert_eq!(body["reason"], reason, "{query}: {body}");
    }
    // A resourceVersion of 0 next to a token is allowed, as in Kubernetes.
    let page = get(
        &s,
        &format!("{PODS}?limit=2&resourceVersion=0&continue={}", q(&t)),
        200,
    )
    .await;
    assert_eq!(names(&page), ["p0002", "p0003"]);
    s.cluster.shutdown().await;
}

#[tokio::test]
async fn resource_version_match_reads_as_kubernetes_does() {
    let s = TestServer::start().await;
    create_pods(&s, 3).await;
    let before = rv(&get(&s, PODS, 200).await).to_owned();
    s.cluster
        .in_process()
        .create("default", &pod("p0003", "web"))
        .await
        .expect("create");
    let now = rv(&get(&s, PODS, 200).await).to_owned();
    let future: u64 = now.parse::<u64>().expect("rv") + 1000;
    // (query, names, resourceVersion of the answer)
    let three = ["p0000", "p0001", "p0002"];
    let four = ["p0000", "p0001", "p0002", "p0003"];
    let cases: Vec<(String, &[&str], &str)> = vec![
        (String::new(), &four, &now),
        ("resourceVersion=0".into(), &four, &now),
        (
            format!("resourceVersion={before}&resourceVersionMatch=Exact"),
            &three,
            &before,
        ),
        (
            format!("resourceVersion={before}&resourceVersionMatch=NotOlderThan"),
            &four,
            &now,
        ),
        // Kubernetes' legacy rule: a resourceVersion with a limit is an exact read.
        (
            format!("resourceVersion={before}&limit=10"),
            &three,
            &before,
        ),
        (format!("resourceVersion={before}"), &four, &now),
        // A Table list at an exact revision (and a v1 filtered list) too.
        (
            format!("resourceVersion={before}&resourceVersionMatch=Exact&labelSelector=app"),
            &three,
            &before,
        ),
    ];
    for (query, want, want_rv) in cases {
        let list = get(&s, &format!("{PODS}?{query}"), 200).await;
        assert_eq!(names(&list), want, "{query}");
        assert_eq!(rv(&list), want_rv, "{query}");
    }
    for query in [
        format!("resourceVersion={future}&resourceVersionMatch=NotOlderThan"),
        format!("resourceVersion={future}&resourceVersionMatch=Exact"),
    ] {
        let body = get(&s, &format!("{PODS}?{query}"), 504).await;
        assert_eq!(body["reason"], "Timeout", "{query}");
        assert_eq!(
            body["details"]["causes"][0]["reason"],
            "ResourceVersionTooLarge"
        );
    }
    let store = s.cluster.store();
    store
        .compact(store.current_revision().await.expect("rev"))
        .await
        .expect("compact");
    let body = get(
        &s,
        &format!("{PODS}?resourceVersion={before}&resourceVersionMatch=Exact"),
        410,
    )
    .await;
    assert_eq!(body["reason"], "Expired");
    assert_eq!(body["message"], EXPIRED_MESSAGE);
    s.cluster.shutdown().await;
}

#[tokio::test]
async fn tables_carry_the_continue_token() {
    let s = TestServer::start().await;
    create_pods(&s, 5).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = hyper::Request::builder()
        .uri(s.url(&format!("{PODS}?limit=2")))
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let resp = client.request(req).await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let table: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["rows"].as_array().expect("rows").len(), 2);
    assert!(token(&table).is_some());
    assert_eq!(table["metadata"]["remainingItemCount"], 3);
    s.cluster.shutdown().await;
}

#[tokio::test]
async fn clients_list_in_pages() {
    let s = TestServer::start().await;
    create_pods(&s, 25).await;
    let everything = ListParams::default();
    let web = ListParams::labels("app=web");
    for (params, want) in [(&everything, 25), (&web, 9)] {
        let http: Vec<Pod> = s
            .cluster
            .http()
            .list_paged::<Pod>(Some("default"), params, 4)
            .await
            .expect("http")
            .items;
        let local: Vec<Pod> = s
            .cluster
            .in_process()
            .list_paged::<Pod>(Some("default"), params, 4)
            .await
            .expect("in process")
            .items;
        assert_eq!(http.len(), want);
        assert_eq!(http, local);
    }
    // One page by hand.
    let page = s
        .cluster
        .http()
        .list_page::<Pod>(Some("default"), &everything, 10, "")
        .await
        .expect("page");
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.metadata.remaining_item_count, Some(15));
    let next = s
        .cluster
        .in_process()
        .list_page::<Pod>(Some("default"), &everything, 10, &page.metadata.continue_)
        .await
        .expect("next page");
    assert_eq!(next.items[0].metadata.name, "p0010");
    assert_eq!(
        next.metadata.resource_version,
        page.metadata.resource_version
    );
    s.cluster.shutdown().await;
}
