//! Service cluster IPs: allocated from `--portal-net` through the stored `RangeAllocation`,
//! unique under concurrent creates (also between two registries on one store), freed on
//! removal, explicit requests honoured or refused with 422, a full range refused with 500,
//! kept across restarts, none for headless services, and nothing allocated by a dry run.

use crate::support::TestServer;
use hyper::Method;
use kube_core::ip_allocator::{AllocationMap, Ipv4Cidr, RangeAllocation};
use kube_core::testing::ServiceBuilder;
use kube_core::{Service, Store};
use kube_runtime::apiserver::ApiServerConfig;
use kube_runtime::client::ApiClient;
use kube_runtime::registry::SERVICE_IP_RANGE_KEY;
use kube_runtime::store::MemoryStore;
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

const SERVICES: &str = "/api/v1/namespaces/default/services";

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().unwrap()
}

async fn server_with_range(range: &str) -> TestServer {
    server_on(Arc::new(MemoryStore::new()), range).await
}

async fn server_on(store: Arc<dyn Store>, range: &str) -> TestServer {
    let cluster = TestCluster::builder()
        .store(store)
        .server_config(ApiServerConfig {
            portal_net: cidr(range),
            ..ApiServerConfig::default()
        })
        .start()
        .await
        .expect("start a test cluster");
    TestServer::on(cluster)
}

fn service(name: &str, cluster_ip: &str) -> Value {
    let mut v = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}], "selector": {"app": name}}});
    if !cluster_ip.is_empty() {
        v["spec"]["clusterIP"] = json!(cluster_ip);
    }
    v
}

/// Creates a service over HTTP; its cluster IP, or the failure's code and body.
async fn create(s: &TestServer, name: &str, cluster_ip: &str) -> Result<String, (u16, Value)> {
    let (code, body) = s
        .call(Method::POST, SERVICES, Some(service(name, cluster_ip)))
        .await;
    if code != 201 {
        return Err((code, body));
    }
    Ok(body["spec"]["clusterIP"].as_str().unwrap_or("").to_string())
}

async fn delete(s: &TestServer, name: &str) {
    let (code, body) = s
        .call(Method::DELETE, &format!("{SERVICES}/{name}"), None)
        .await;
    assert_eq!(code, 200, "{body}");
}

/// The stored allocation map.
async fn stored_map(store: &Arc<dyn Store>) -> Option<AllocationMap> {
    let kv = store.get(SERVICE_IP_RANGE_KEY).await.unwrap()?;
    let stored: RangeAllocation = serde_json::from_slice(&kv.value).unwrap();
    Some(AllocationMap::from_range_allocation(&stored).unwrap())
}

fn ips(list: &[&str]) -> Vec<Ipv4Addr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

#[tokio::test]
async fn services_get_distinct_addresses_of_the_range() {
    let s = TestServer::start().await;
    let range = cidr("10.0.0.0/24");
    let mut seen = BTreeSet::new();
    for i in 0..30 {
        let ip = create(&s, &format!("svc-{i}"), "").await.unwrap();
        let ip: Ipv4Addr = ip.parse().unwrap();
        assert!(range.contains(ip) && ip != range.network() && ip != range.broadcast());
        assert!(seen.insert(ip), "{ip} handed out twice");
        // The stored object carries it.
        let (_, got) = s
            .call(Method::GET, &format!("{SERVICES}/svc-{i}"), None)
            .await;
        assert_eq!(got["spec"]["clusterIP"], ip.to_string());
    }
    let map = stored_map(s.cluster.store()).await.unwrap();
    assert_eq!(map.allocated().collect::<BTreeSet<_>>(), seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_through_two_registries_get_distinct_addresses() {
    let s = server_with_range("10.1.0.0/22").await;
    let http = s.cluster.http().clone();
    let in_process = s.cluster.in_process().clone();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let svc = ServiceBuilder::new(&format!("svc-{i}"))
            .port(80, 8080)
            .build();
        // Half over HTTP (the server's registry), half in process (another registry on the
        // same store): two API servers racing on one map.
        if i % 2 == 0 {
            let c = http.clone();
            tasks.push(tokio::spawn(async move { c.create("default", &svc).await }));
        } else {
            let c = in_process.clone();
            tasks.push(tokio::spawn(async move { c.create("default", &svc).await }));
        }
    }
    let mut seen = BTreeSet::new();
    for t in tasks {
        let created: Service = t.await.unwrap().unwrap();
        let ip: Ipv4Addr = created.spec.cluster_ip.parse().unwrap();
        assert!(cidr("10.1.0.0/22").contains(ip));
        assert!(seen.insert(ip), "{ip} handed out twice");
    }
    assert_eq!(seen.len(), 50);
    let map = stored_map(s.cluster.store()).await.unwrap();
    assert_eq!(map.allocated().collect::<BTreeSet<_>>(), seen);
}

#[tokio::test]
async fn a_full_range_is_refused_and_a_deleted_service_frees_its_address() {
    // A /29 holds six addresses.
    let s = server_with_range("10.0.0.0/29").await;
    let mut seen = BTreeSet::new();
    for i in 0..6 {
        seen.insert(create(&s, &format!("svc-{i}"), "").await.unwrap());
    }
    assert_eq!(seen.len(), 6);
    let (code, body) = create(&s, "late", "").await.unwrap_err();
    assert_eq!(
        (code, body["reason"].as_str()),
        (500, Some("InternalError"))
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("failed to allocate a serviceIP: range is full"),
        "{body}"
    );
    assert!(message.contains("10.0.0.0/29"), "{body}");
    // The refused service was not stored.
    let (code, _) = s.call(Method::GET, &format!("{SERVICES}/late"), None).await;
    assert_eq!(code, 404);
    // Deleting one frees its address for the next service.
    let (_, svc) = s
        .call(Method::GET, &format!("{SERVICES}/svc-3"), None)
        .await;
    let freed = svc["spec"]["clusterIP"].as_str().unwrap().to_string();
    delete(&s, "svc-3").await;
    assert_eq!(create(&s, "late", "").await.unwrap(), freed);
    // And an explicit request for a freed address is honoured.
    delete(&s, "svc-0").await;
    let (_, svc) = s.call(Method::GET, SERVICES, None).await;
    let taken: BTreeSet<&str> = svc["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["spec"]["clusterIP"].as_str())
        .collect();
    let free = seen.iter().find(|ip| !taken.contains(ip.as_str())).unwrap();
    assert_eq!(create(&s, "explicit", free).await.unwrap(), *free);
}

#[tokio::test]
async fn explicit_addresses_are_honoured_or_refused_with_a_cause() {
    let range_msg = "provided IP is not in the valid range. The range of valid IPs is 10.0.0.0/24";
    // (requested, Ok(assigned) or Err(cause message))
    let cases: [(&str, Result<&str, &str>); 8] = [
        ("10.0.0.77", Ok("10.0.0.77")),
        ("10.0.0.254", Ok("10.0.0.254")),
        ("10.0.0.5", Err("provided IP is already allocated")),
        ("10.0.0.0", Err(range_msg)),
        ("10.0.0.255", Err(range_msg)),
        ("10.0.1.5", Err(range_msg)),
        ("fd00::5", Err(range_msg)),
        ("None", Ok("None")),
    ];
    for (requested, want) in cases {
        let s = TestServer::start().await;
        create(&s, "taken", "10.0.0.5").await.unwrap();
        let got = create(&s, "svc", requested).await;
        match (want, got) {
            (Ok(want), Ok(ip)) => assert_eq!(ip, want, "{requested}"),
            (Err(msg), Err((code, body))) => {
                assert_eq!(code, 422, "{requested}: {body}");
                assert_eq!(body["reason"], "Invalid", "{requested}");
                let causes = &body["details"]["causes"];
                assert_eq!(
                    causes,
                    &json!([{"reason": "FieldValueInvalid", "field": "spec.clusterIP",
                        "message": format!("spec.clusterIP: Invalid value: \"{requested}\": {msg}")}]),
                    "{requested}"
                );
            }
            (want, got) => panic!("{requested}: want {want:?}, got {got:?}"),
        }
        // Only the successful non-headless requests hold an address besides `taken`'s.
        let map = stored_map(s.cluster.store()).await.unwrap();
        let mut want_ips = vec!["10.0.0.5"];
        if want.is_ok() && requested != "None" {
            want_ips.push(requested);
        }
        want_ips.sort_by_key(|ip| ip.parse::<Ipv4Addr>().unwrap());
        assert_eq!(
            map.allocated().collect::<Vec<_>>(),
            ips(&want_ips),
            "{requested}"
        );
    }
}

#[tokio::test]
async fn a_failed_create_releases_its_address() {
    let s = TestServer::start().await;
    create(&s, "a", "10.0.0.10").await.unwrap();
    // AlreadyExists after the claim of 10.0.0.11: released again.
    let (code, _) = create(&s, "a", "10.0.0.11").await.unwrap_err();
    assert_eq!(code, 409);
    // Invalid: refused before any claim.
    let mut bad = service("bad", "10.0.0.12");
    bad["spec"]["ports"][0]["port"] = json!(0);
    let (code, _) = s.call(Method::POST, SERVICES, Some(bad)).await;
    assert_eq!(code, 422);
    let map = stored_map(s.cluster.store()).await.unwrap();
    assert_eq!(map.allocated().collect::<Vec<_>>(), ips(&["10.0.0.10"]));
    assert_eq!(create(&s, "b", "10.0.0.11").await.unwrap(), "10.0.0.11");
    assert_eq!(create(&s, "c", "10.0.0.12").await.unwrap(), "10.0.0.12");
}

#[tokio::test]
async fn headless_services_get_no_address() {
    let s = TestServer::start().await;
    let mut headless = service("h", "None");
    headless["spec"]["ports"] = json!([]);
    let (code, body) = s.call(Method::POST, SERVICES, Some(headless)).await;
    assert_eq!((code, &body["spec"]["clusterIP"]), (201, &json!("None")));
    delete(&s, "h").await;
    // Nothing was ever allocated, so the map was never written.
    assert!(stored_map(s.cluster.store()).await.is_none());
}

#[tokio::test]
async fn allocations_survive_restarts_and_range_changes() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let first = server_on(store.clone(), "10.0.0.0/24").await;
    let a = create(&first, "a", "").await.unwrap();
    let b = create(&first, "b", "10.0.0.200").await.unwrap();
    create(&first, "c", "10.0.0.3").await.unwrap();
    drop(first);
    // A new server on the same store (its cursor starts afresh) knows what is taken.
    let second = server_on(store.clone(), "10.0.0.0/24").await;
    let (code, _) = create(&second, "d", &b).await.unwrap_err();
    assert_eq!(code, 422);
    let d = create(&second, "d", "").await.unwrap();
    assert!(![&a, &b, "10.0.0.3"].contains(&d.as_str()), "{d} reused");
    drop(second);
    // Restarted with a smaller range: the addresses inside it stay allocated.
    let third = server_on(store.clone(), "10.0.0.0/28").await;
    let e = create(&third, "e", "").await.unwrap();
    let map = stored_map(&store).await.unwrap();
    assert_eq!(map.range(), cidr("10.0.0.0/28"));
    let mut want: Vec<Ipv4Addr> = [&a, "10.0.0.3", &d, &e]
        .iter()
        .map(|ip| ip.parse().unwrap())
        .collect();
    want.sort();
    assert_eq!(map.allocated().collect::<Vec<_>>(), want);
    // 10.0.0.200 is outside the new range: its service keeps it, the map forgot it.
    let (_, svc) = third
        .call(Method::GET, &format!("{SERVICES}/b"), None)
        .await;
    assert_eq!(svc["spec"]["clusterIP"], "10.0.0.200");
}

#[tokio::test]
async fn the_first_allocation_marks_services_stored_before_the_map() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let old = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "old", "namespace": "default", "uid": "u1"},
        "spec": {"ports": [{"port": 80}], "clusterIP": "10.0.0.1"}});
    store
        .create(
            "/registry/services/default/old",
            serde_json::to_vec(&old).unwrap(),
        )
        .await
        .unwrap();
    let s = server_on(store, "10.0.0.0/24").await;
    assert_eq!(create(&s, "new", "").await.unwrap(), "10.0.0.2");
    let (code, _) = create(&s, "again", "10.0.0.1").await.unwrap_err();
    assert_eq!(code, 422);
}

#[tokio::test]
async fn a_dry_run_allocates_and_frees_nothing() {
    let s = TestServer::start().await;
    create(&s, "a", "10.0.0.10").await.unwrap();
    let before = s.snapshot().await;
    let dry = format!("{SERVICES}?dryRun=All");
    let (code, body) = s.call(Method::POST, &dry, Some(service("b", ""))).await;
    assert_eq!(code, 201, "{body}");
    let ip: Ipv4Addr = body["spec"]["clusterIP"].as_str().unwrap().parse().unwrap();
    assert!(cidr("10.0.0.0/24").contains(ip) && ip.to_string() != "10.0.0.10");
    // A dry run is refused as the real create would be.
    let (code, body) = s
        .call(Method::POST, &dry, Some(service("c", "10.0.0.10")))
        .await;
    assert_eq!(code, 422, "{body}");
    let (code, _) = s
        .call(Method::DELETE, &format!("{SERVICES}/a?dryRun=All"), None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(s.snapshot().await, before, "a dry run wrote to the store");
    // 10.0.0.10 is still taken; the dry-run address was never taken.
    let (code, _) = create(&s, "c", "10.0.0.10").await.unwrap_err();
    assert_eq!(code, 422);
    assert_eq!(
        create(&s, "d", &ip.to_string()).await.unwrap(),
        ip.to_string()
    );
}

#[tokio::test]
async fn a_service_held_by_a_finalizer_keeps_its_address_until_removed() {
    let s = TestServer::start().await;
    let mut held = service("held", "10.0.0.20");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    let (code, _) = s.call(Method::POST, SERVICES, Some(held)).await;
    assert_eq!(code, 201);
    let reg = s.cluster.registry();
    let marked: Service = reg.delete("default", "held").await.unwrap();
    assert!(!marked.metadata.deletion_timestamp.is_empty());
    let (code, _) = create(&s, "other", "10.0.0.20").await.unwrap_err();
    assert_eq!(code, 422, "a service being deleted keeps its address");
    let mut last: Service = reg.get("default", "held").await.unwrap();
    last.metadata.finalizers.clear();
    reg.update("default", "held", last).await.unwrap();
    assert_eq!(create(&s, "other", "10.0.0.20").await.unwrap(), "10.0.0.20");
}

#[tokio::test]
async fn v1beta1_portal_ip_is_the_allocated_address() {
    let s = TestServer::start().await;
    let body = json!({"kind": "Service", "apiVersion": "v1beta1", "id": "redismaster",
        "port": 10000, "selector": {"name": "redis-master"}});
    let (code, created) = s
        .call(Method::POST, "/api/v1beta1/services", Some(body))
        .await;
    assert_eq!(code, 201, "{created}");
    let ip = created["portalIP"].as_str().unwrap().to_string();
    assert!(
        cidr("10.0.0.0/24").contains(ip.parse().unwrap()),
        "{created}"
    );
    let (_, got) = s
        .call(Method::GET, "/api/v1beta1/services/redismaster", None)
        .await;
    assert_eq!(got["portalIP"], ip.as_str());
    let (_, v1) = s
        .call(Method::GET, &format!("{SERVICES}/redismaster"), None)
        .await;
    assert_eq!(v1["spec"]["clusterIP"], ip.as_str());
    // An explicit portalIP is honoured.
    let body = json!({"kind": "Service", "apiVersion": "v1beta1", "id": "fixed",
        "port": 80, "portalIP": "10.0.0.99"});
    let (code, created) = s
        .call(Method::POST, "/api/v1beta1/services", Some(body))
        .await;
    assert_eq!((code, &created["portalIP"]), (201, &json!("10.0.0.99")));
}
