//! The API server over HTTP: the seed's v1beta1 documents, core/v1 CRUD, selectors, watch and bad input.

use crate::support::{pod, seed_pod, seed_rc, TestServer};
use hyper::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn seed_documents_are_accepted_and_served_in_both_versions() {
    let s = TestServer::start().await;
    let (code, created) = s
        .call(Method::POST, "/api/v1beta1/pods", Some(seed_pod()))
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["id"], "redis");
    assert!(
        created["resourceVersion"].is_u64(),
        "v1beta1 resourceVersion is numeric: {created}"
    );
    assert_eq!(created["currentState"]["status"], "Waiting");

    let (code, v1) = s
        .call(Method::GET, "/api/v1/namespaces/default/pods/redis", None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(v1["apiVersion"], "v1");
    assert_eq!(v1["kind"], "Pod");
    assert_eq!(v1["metadata"]["namespace"], "default");
    assert!(v1["metadata"]["resourceVersion"].is_string());
    assert_eq!(v1["metadata"]["uid"].as_str().map(str::len), Some(36));
    assert_eq!(v1["metadata"]["labels"]["name"], "redis");
    assert_eq!(v1["spec"]["restartPolicy"], "Always");
    let c = &v1["spec"]["containers"][0];
    assert_eq!(c["image"], "dockerfile/redis");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["ports"][0]["containerPort"], 6379);
    assert_eq!(c["ports"][0]["hostPort"], 6379);
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(v1["status"]["phase"], "Pending");

    let (code, rc) = s
        .call(
            Method::POST,
            "/api/v1beta1/replicationControllers",
            Some(seed_rc()),
        )
        .await;
    assert_eq!(code, 201, "{rc}");
    let (code, rc) = s
        .call(
            Method::GET,
            "/api/v1/namespaces/default/replicationcontrollers/redisController",
            None,
        )
        .await;
    assert_eq!(code, 200, "{rc}");
    assert_eq!(rc["spec"]["replicas"], 1);
    assert_eq!(rc["spec"]["selector"]["name"], "redis");
    assert_eq!(
        rc["spec"]["template"]["metadata"]["labels"]["name"],
        "redis"
    );

    let (code, list) = s.call(Method::GET, "/api/v1beta1/pods", None).await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "PodList");
    assert!(list["resourceVersion"].is_u64());
    assert_eq!(list["items"][0]["id"], "redis");
}

#[tokio::test]
async fn v1_crud_with_compare_and_swap() {
    let s = TestServer::start().await;
    let (code, empty) = s
        .call(Method::GET, "/api/v1/namespaces/default/pods", None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(empty["items"], json!([]), "empty lists serialize items: []");
    assert!(empty["metadata"]["resourceVersion"].is_string());

    let (code, created) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod("web", json!({"app": "web"}))),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    let rv1 = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // A PUT with the current resourceVersion succeeds and advances it.
    let mut upd = created.clone();
    upd["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    let (code, updated) = s
        .call(
            Method::PUT,
            "/api/v1/namespaces/default/pods/web",
            Some(upd.clone()),
        )
        .await;
    assert_eq!(code, 200, "{updated}");
    let rv2 = updated["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rv1, rv2);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(updated["metadata"]["generation"], 2);

    // The same PUT again carries a stale resourceVersion: 409 Conflict, nothing changes.
    let before = s.snapshot().await;
    let (code, st) = s
        .call(
            Method::PUT,
            "/api/v1/namespaces/default/pods/web",
            Some(upd),
        )
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (409, Some("Conflict")),
        "{st}"
    );
    assert_eq!(s.snapshot().await, before);

    let (code, deleted) = s
        .call(Method::DELETE, "/api/v1/namespaces/default/pods/web", None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(deleted["metadata"]["name"], "web");
    let (code, st) = s
        .call(Method::GET, "/api/v1/namespaces/default/pods/web", None)
        .await;
    assert_eq!((code, st["reason"].as_str()), (404, Some("NotFound")));
}

#[tokio::test]
async fn generate_name_and_namespaces() {
    let s = TestServer::start().await;
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})),
        )
        .await;
    assert_eq!(code, 201);
    let mut p = pod("", json!({}));
    p["metadata"] = json!({"generateName": "web-"});
    let (code, created) = s
        .call(Method::POST, "/api/v1/namespaces/team-a/pods", Some(p))
        .await;
    assert_eq!(code, 201, "{created}");
    let name = created["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    assert_eq!(created["metadata"]["namespace"], "team-a");

    s.call(
        Method::POST,
        "/api/v1/namespaces/default/pods",
        Some(pod("a", json!({}))),
    )
    .await;
    let (_, all) = s.call(Method::GET, "/api/v1/pods", None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (_, team) = s
        .call(Method::GET, "/api/v1/namespaces/team-a/pods", None)
        .await;
    assert_eq!(team["items"].as_array().unwrap().len(), 1);

    // Nodes are cluster-scoped.
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
    let (code, n) = s.call(Method::POST, "/api/v1/nodes", Some(node)).await;
    assert_eq!(code, 201, "{n}");
    assert!(n["metadata"].get("namespace").is_none());
    let (code, minions) = s.call(Method::GET, "/api/v1beta1/minions", None).await;
    assert_eq!(code, 200);
    assert_eq!(minions["kind"], "MinionList");
    assert_eq!(minions["items"][0]["id"], "n1");
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let s = TestServer::start().await;
    for (name, labels) in [
        ("a", json!({"tier": "web", "env": "prod"})),
        ("b", json!({"tier": "db"})),
        ("c", json!({})),
    ] {
        let (code, _) = s
            .call(
                Method::POST,
                "/api/v1/namespaces/default/pods",
                Some(pod(name, labels)),
            )
            .await;
        assert_eq!(code, 201);
    }
    let cases = [
        ("/api/v1/pods?labelSelector=tier%3Dweb", vec!["a"]),
        ("/api/v1/pods?labelSelector=tier%21%3Dweb", vec!["b", "c"]),
        (
            "/api/v1/pods?labelSelector=tier+in+(web,db)",
            vec!["a", "b"],
        ),
        ("/api/v1/pods?labelSelector=!tier", vec!["c"]),
        ("/api/v1/pods?labelSelector=tier,env%3Dprod", vec!["a"]),
        ("/api/v1/pods?fieldSelector=metadata.name%3Db", vec!["b"]),
        (
            "/api/v1/pods?fieldSelector=spec.nodeName%3D",
            vec!["a", "b", "c"],
        ),
        (
            "/api/v1/pods?fieldSelector=status.phase%21%3DPending",
            vec![],
        ),
        ("/api/v1beta1/pods?labels=tier%3Ddb", vec!["b"]),
        (
            "/api/v1beta1/pods?fields=DesiredState.Host%3D",
            vec!["a", "b", "c"],
        ),
    ];
    for (path, want) in cases {
        let (code, list) = s.call(Method::GET, path, None).await;
        assert_eq!(code, 200, "{path}: {list}");
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["metadata"]["name"].as_str().or(p["id"].as_str()).unwrap())
            .collect();
        assert_eq!(names, want, "{path}");
    }
}

/// One bad request: what it is, method, path, content type, body, expected code and reason.
type BadCase<'a> = (
    &'a str,
    Method,
    &'a str,
    Option<&'a str>,
    Vec<u8>,
    u16,
    &'a str,
);

/// Every bad request answers the right code and reason and leaves the store as it was.
#[tokio::test]
async fn bad_input_is_rejected_and_changes_nothing() {
    let s = TestServer::start().await;
    let (code, _) = s
        .call(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some(pod("exists", json!({}))),
        )
        .await;
    assert_eq!(code, 201);

    let mut dup_containers = pod("dup", json!({}));
    dup_containers["spec"]["containers"] = json!([
        {"name": "c", "image": "x", "ports": [{"containerPort": 70000, "hostPort": 80}]},
        {"name": "c", "image": "", "ports": [{"containerPort": 81, "hostPort": 80}]}
    ]);
    let mut bad_rc = seed_rc();
    bad_rc["desiredState"]["replicas"] = json!(-1);
    bad_rc["desiredState"]["replicaSelector"] = json!({"name": "other"});
    let huge = vec![b' '; 3 * 1024 * 1024 + 10];
    let stale = {
        let mut p = pod("exists", json!({}));
        p["metadata"]["resourceVersion"] = json!("1000000");
        p
    };
    let j = |v: Value| serde_json::to_vec(&v).unwrap();
    let json_ct = Some("application/json");
    // (what, method, path, content type, body, expected code, expected reason)
    let cases: Vec<BadCase> = vec![
        (
            "malformed JSON",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            b"{\"metadata\": ".to_vec(),
            400,
            "BadRequest",
        ),
        (
            "malformed YAML",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some("application/yaml"),
            b"metadata: [unclosed".to_vec(),
            400,
            "BadRequest",
        ),
        (
            "YAML scalar",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            None,
            b"just text".to_vec(),
            400,
            "BadRequest",
        ),
        (
            "empty body",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            "wrong field type",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(json!({"metadata": {"name": 5}})),
            400,
            "BadRequest",
        ),
        (
            "mismatched kind",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(json!({"kind": "Service", "metadata": {"name": "s"}})),
            400,
            "BadRequest",
        ),
        (
            "unknown kind",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(json!({"kind": "Widget", "metadata": {"name": "w"}})),
            400,
            "BadRequest",
        ),
        (
            "wrong apiVersion",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(json!({"apiVersion": "v2", "kind": "Pod"})),
            400,
            "BadRequest",
        ),
        (
            "namespace mismatch",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(
                json!({"metadata": {"name": "x", "namespace": "other"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
            ),
            400,
            "BadRequest",
        ),
        (
            "invalid pod",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(dup_containers),
            422,
            "Invalid",
        ),
        (
            "invalid v1beta1 rc",
            Method::POST,
            "/api/v1beta1/replicationControllers",
            json_ct,
            j(bad_rc),
            422,
            "Invalid",
        ),
        (
            "bad restartPolicy shape",
            Method::POST,
            "/api/v1beta1/pods",
            json_ct,
            j(
                json!({"id": "x", "desiredState": {"manifest": {"containers": [], "restartPolicy": {"always": {}, "never": {}}}}}),
            ),
            400,
            "BadRequest",
        ),
        (
            "body over 3 MiB",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            huge,
            413,
            "RequestEntityTooLarge",
        ),
        (
            "protobuf without the magic number",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            Some("application/vnd.kubernetes.protobuf"),
            b"\x00".to_vec(),
            400,
            "BadRequest",
        ),
        (
            "already exists",
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(pod("exists", json!({}))),
            409,
            "AlreadyExists",
        ),
        (
            "stale update",
            Method::PUT,
            "/api/v1/namespaces/default/pods/exists",
            json_ct,
            j(stale),
            409,
            "Conflict",
        ),
        (
            "name mismatch on PUT",
            Method::PUT,
            "/api/v1/namespaces/default/pods/exists",
            json_ct,
            j(pod("other", json!({}))),
            400,
            "BadRequest",
        ),
        (
            "get missing",
            Method::GET,
            "/api/v1/namespaces/default/pods/missing",
            None,
            Vec::new(),
            404,
            "NotFound",
        ),
        (
            "update missing",
            Method::PUT,
            "/api/v1/namespaces/default/pods/missing",
            json_ct,
            j(pod("missing", json!({}))),
            404,
            "NotFound",
        ),
        (
            "delete missing",
            Method::DELETE,
            "/api/v1/namespaces/default/pods/missing",
            None,
            Vec::new(),
            404,
            "NotFound",
        ),
        (
            "v1beta1 delete missing",
            Method::DELETE,
            "/api/v1beta1/pods/missing",
            None,
            Vec::new(),
            404,
            "NotFound",
        ),
        (
            "bad label selector",
            Method::GET,
            "/api/v1/pods?labelSelector=a%20in%20(",
            None,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            "unsupported field",
            Method::GET,
            "/api/v1/pods?fieldSelector=spec.image%3Dx",
            None,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            "bad resourceVersion",
            Method::GET,
            "/api/v1/pods?watch=true&resourceVersion=abc",
            None,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            "unknown resource",
            Method::GET,
            "/api/v1/widgets",
            None,
            Vec::new(),
            404,
            "NotFound",
        ),
        (
            "POST on an item",
            Method::POST,
            "/api/v1/namespaces/default/pods/exists",
            json_ct,
            j(pod("exists", json!({}))),
            405,
            "MethodNotAllowed",
        ),
        (
            "PUT on a collection",
            Method::PUT,
            "/api/v1/namespaces/default/pods",
            json_ct,
            j(pod("x", json!({}))),
            405,
            "MethodNotAllowed",
        ),
    ];
    for (what, method, path, ctype, body, want_code, want_reason) in cases {
        let before = s.snapshot().await;
        let (code, bytes) = s.raw(method, path, ctype, body).await;
        let st: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {bytes:?}"));
        assert_eq!(code, want_code, "{what}: {st}");
        assert_eq!(st["kind"], "Status", "{what}: {st}");
        assert_eq!(st["reason"], want_reason, "{what}: {st}");
        assert_eq!(st["code"], want_code, "{what}: {st}");
        assert!(
            !st["message"].as_str().unwrap_or_default().is_empty(),
            "{what}: a message is given"
        );
        assert_eq!(s.snapshot().await, before, "{what}: the store is unchanged");
    }
}

#[tokio::test]
async fn invalid_objects_report_every_field_at_once() {
    let s = TestServer::start().await;
    let mut p = pod("Bad_Name", json!({"bad key!": "v"}));
    p["spec"]["containers"] = json!([
        {"name": "c", "image": "x", "ports": [{"containerPort": 0, "hostPort": 80}]},
        {"name": "c", "image": "", "ports": [{"containerPort": 81, "hostPort": 80}],
         "resources": {"requests": {"cpu": "lots"}}}
    ]);
    p["spec"]["restartPolicy"] = json!("Sometimes");
    let (code, st) = s
        .call(Method::POST, "/api/v1/namespaces/default/pods", Some(p))
        .await;
    assert_eq!(code, 422, "{st}");
    let fields: Vec<&str> = st["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    for want in [
        "metadata.name",
        "metadata.labels",
        "spec.containers[0].ports[0].containerPort",
        "spec.containers[1].name",
        "spec.containers[1].image",
        "spec.containers[1].ports[0].hostPort",
        "spec.containers[1].resources.requests[cpu]",
        "spec.restartPolicy",
    ] {
        assert!(
            fields.iter().any(|f| f.starts_with(want)),
            "missing cause for {want}: {fields:?}"
        );
    }
    assert_eq!(st["details"]["kind"], "Pod");
    assert!(st["details"]["causes"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("FieldValue"));
}

#[tokio::test]
async fn yaml_bodies_are_accepted() {
    let s = TestServer::start().await;
    let yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: redis\nspec:\n  selector:\n    name: redis\n  ports:\n  - port: 6379\n";
    let (code, body) = s
        .raw(
            Method::POST,
            "/api/v1/namespaces/default/services",
            Some("application/yaml"),
            yaml.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(code, 201, "{}", String::from_utf8_lossy(&body));
    let (_, svc) = s
        .call(
            Method::GET,
            "/api/v1/namespaces/default/services/redis",
            None,
        )
        .await;
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 6379);
}

#[tokio::test]
async fn discovery_health_and_metrics() {
    let s = TestServer::start().await;
    let (code, api) = s.call(Method::GET, "/api", None).await;
    assert_eq!((code, api["versions"].clone()), (200, json!(["v1"])));
    let (_, res) = s.call(Method::GET, "/api/v1", None).await;
    let pods = res["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap()
        .clone();
    assert_eq!(pods["singularName"], "pod");
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["namespaced"], true);
    let nodes = res["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "nodes")
        .unwrap()
        .clone();
    assert_eq!(nodes["namespaced"], false);
    let (code, groups) = s.call(Method::GET, "/apis", None).await;
    assert_eq!((code, groups["kind"].as_str()), (200, Some("APIGroupList")));
    let (code, v) = s.call(Method::GET, "/version", None).await;
    assert_eq!(code, 200);
    assert!(v["gitVersion"].as_str().unwrap().starts_with('v'));
    let (code, body) = s.raw(Method::GET, "/healthz", None, Vec::new()).await;
    assert_eq!((code, &body[..]), (200, &b"ok"[..]));
    s.call(Method::GET, "/api/v1/namespaces/default/pods/missing", None)
        .await;
    let (code, metrics) = s.raw(Method::GET, "/metrics", None, Vec::new()).await;
    assert_eq!(code, 200);
    let text = String::from_utf8_lossy(&metrics);
    assert!(
        text.contains("apiserver_request_total{verb=\"get\",resource=\"pods\",code=\"404\"} 1"),
        "{text}"
    );
    assert!(text.contains("# TYPE apiserver_request_duration_seconds histogram"));
}

#[tokio::test]
async fn static_nodes_are_registered_once() {
    let s = TestServer::start().await;
    let server = kube_runtime::apiserver::ApiServer::new(
        s.cluster.store().clone(),
        kube_runtime::apiserver::ApiServerConfig::default(),
    );
    let names = vec![
        "10.0.0.1".to_string(),
        " ".to_string(),
        "node-b".to_string(),
    ];
    server.register_static_nodes(&names).await.unwrap();
    let before = s.snapshot().await;
    server.register_static_nodes(&names).await.unwrap();
    assert_eq!(
        s.snapshot().await,
        before,
        "a restart registers nothing twice"
    );
    let (_, nodes) = s.call(Method::GET, "/api/v1/nodes", None).await;
    let got: Vec<(&str, &str)> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"].as_str().unwrap(),
                n["status"]["capacity"]["memory"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("10.0.0.1", "3Gi"), ("node-b", "3Gi")]);
}
