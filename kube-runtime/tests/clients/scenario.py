"""The Python `kubernetes` client, unmodified, against the API server at argv[1].

Run by kube-runtime's integration test `clients::python` (PENDING in the environment lists the
server features not there yet, whose steps are skipped). Every step prints `ok: <step>`; the
first failure raises, and the script exits non-zero with the traceback.
"""

import os
import sys
import threading
import time

import yaml
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

HERE = os.path.dirname(os.path.abspath(__file__))
PENDING = set(filter(None, os.environ.get("PENDING", "").split(",")))
NS = "default"


def manifest(name):
    with open(os.path.join(HERE, name)) as f:
        return yaml.safe_load(f)


def ok(step):
    print(f"ok: {step}", flush=True)


def eventually(what, check, secs=30):
    deadline = time.monotonic() + secs
    while True:
        v = check()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {secs} s waiting for {what}")
        time.sleep(0.2)


def expect_status(code, reason, f):
    try:
        f()
    except ApiException as e:
        assert e.status == code, (e.status, e.body)
        assert f'"reason":"{reason}"' in e.body.replace(" ", ""), e.body
        return e
    raise AssertionError(f"expected {code} {reason}, got success")


def main(server):
    cfg = client.Configuration()
    cfg.host = server
    api = client.ApiClient(cfg)
    v1 = client.CoreV1Api(api)

    # version and discovery.
    info = client.VersionApi(api).get_code()
    assert info.git_version.startswith("v"), info
    assert "v1" in client.CoreApi(api).get_api_versions().versions
    names = {r.name for r in v1.get_api_resources().resources}
    assert {"pods", "replicationcontrollers", "services", "replicationcontrollers/scale"} <= names, names
    ok("version and discovery")

    # create: a pod (a dict from YAML), a pod built from the models, a controller, a service.
    pod = v1.create_namespaced_pod(NS, manifest("pod.yaml"))
    assert pod.metadata.name == "web" and pod.metadata.uid, pod.metadata
    model = client.V1Pod(
        metadata=client.V1ObjectMeta(name="model", labels={"app": "model"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )
    assert v1.create_namespaced_pod(NS, model).spec.containers[0].image == "busybox"
    v1.create_namespaced_replication_controller(NS, manifest("rc.yaml"))
    svc = v1.create_namespaced_service(NS, manifest("svc.yaml"))
    assert svc.spec.cluster_ip, svc.spec
    ok("create")

    # get and list (with selectors), nodes and events included.
    eventually("pod web Running", lambda: v1.read_namespaced_pod("web", NS).status.phase == "Running")
    pod = v1.read_namespaced_pod("web", NS)
    assert pod.spec.node_name and pod.status.pod_ip, pod.status
    assert pod.status.container_statuses[0].ready, pod.status
    nodes = sorted(n.metadata.name for n in v1.list_node().items)
    assert len(nodes) == 2, nodes
    assert all(n.status.node_info.kubelet_version for n in v1.list_node().items)
    fe = eventually(
        "two frontend pods",
        lambda: [p.metadata.name for p in v1.list_namespaced_pod(NS, label_selector="app=fe").items]
        if len(v1.list_namespaced_pod(NS, label_selector="app=fe").items) == 2
        else None,
    )
    assert all(n.startswith("frontend-") for n in fe), fe
    front = [p.metadata.name for p in v1.list_namespaced_pod(NS, label_selector="tier in (front)").items]
    assert front == ["web"], front
    assert len(v1.list_pod_for_all_namespaces(label_selector="app!=fe").items) == 2
    assert v1.list_namespaced_service(NS).items[0].metadata.name == "fe-svc"
    assert v1.read_namespaced_replication_controller("frontend", NS).spec.replicas == 2
    v1.list_namespaced_event(NS)
    eventually("endpoints of fe-svc", lambda: v1.read_namespaced_endpoints("fe-svc", NS).subsets)
    ok("get and list")

    # label and annotate (merge patches, as client code does them).
    v1.patch_namespaced_pod("web", NS, {"metadata": {"labels": {"env": "prod"}, "annotations": {"note": "hi"}}})
    pod = v1.read_namespaced_pod("web", NS)
    assert pod.metadata.labels["env"] == "prod" and pod.metadata.annotations["note"] == "hi", pod.metadata
    assert [p.metadata.name for p in v1.list_namespaced_pod(NS, label_selector="env=prod").items] == ["web"]
    ok("label and annotate")

    # patch: merge, JSON (with a failing test: 422, nothing changed), strategic.
    p = v1.patch_namespaced_pod(
        "web", NS, {"metadata": {"labels": {"m": "1"}}}, _content_type="application/merge-patch+json"
    )
    assert p.metadata.labels["m"] == "1"
    p = v1.patch_namespaced_pod("web", NS, [{"op": "add", "path": "/metadata/labels/j", "value": "2"}])
    assert p.metadata.labels["j"] == "2"
    expect_status(
        422,
        "Invalid",
        lambda: v1.patch_namespaced_pod(
            "web",
            NS,
            [
                {"op": "add", "path": "/metadata/labels/k", "value": "3"},
                {"op": "test", "path": "/metadata/name", "value": "other"},
            ],
        ),
    )
    assert "k" not in v1.read_namespaced_pod("web", NS).metadata.labels
    p = v1.patch_namespaced_pod(
        "web",
        NS,
        {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}},
        _content_type="application/strategic-merge-patch+json",
    )
    assert [(c.name, c.image) for c in p.spec.containers] == [("nginx", "nginx:1.25")], p.spec.containers
    assert p.spec.containers[0].ports[0].container_port == 80
    ok("patch")

    # server-side apply.
    if "server-side-apply" not in PENDING:
        body = manifest("svc.yaml")
        body["metadata"]["name"] = "ssa-svc"
        s = v1.patch_namespaced_service(
            "ssa-svc", NS, body, field_manager="python-test", _content_type="application/apply-patch+yaml"
        )
        assert [m.manager for m in s.metadata.managed_fields] == ["python-test"], s.metadata.managed_fields
        assert s.metadata.managed_fields[0].operation == "Apply", s.metadata.managed_fields
        body["spec"]["ports"][0]["targetPort"] = 8080
        try:
            v1.patch_namespaced_service(
                "ssa-svc", NS, body, field_manager="python-other", _content_type="application/apply-patch+yaml"
            )
            raise AssertionError("a conflicting apply succeeded")
        except ApiException as e:
            assert e.status == 409 and "FieldManagerConflict" in e.body, e.body
            assert 'conflict with \\"python-test\\"' in e.body, e.body
        s = v1.patch_namespaced_service(
            "ssa-svc",
            NS,
            body,
            field_manager="python-other",
            force=True,
            _content_type="application/apply-patch+yaml",
        )
        assert s.spec.ports[0].target_port == 8080, s.spec.ports
        assert sorted(m.manager for m in s.metadata.managed_fields) == ["python-other", "python-test"]
        v1.delete_namespaced_service("ssa-svc", NS)
        ok("server-side apply")

    # scale: read, patch, replace; the controller's pods follow.
    scale = v1.read_namespaced_replication_controller_scale("frontend", NS)
    assert scale.spec.replicas == 2 and scale.kind == "Scale", scale
    v1.patch_namespaced_replication_controller_scale("frontend", NS, {"spec": {"replicas": 3}})
    eventually("three frontend pods", lambda: len(v1.list_namespaced_pod(NS, label_selector="app=fe").items) == 3)
    # A read-modify-write, retried on 409 Conflict as clients do (the controller's status
    # updates move the resourceVersion in between).
    for _ in range(20):
        scale = v1.read_namespaced_replication_controller_scale("frontend", NS)
        scale.spec.replicas = 1
        try:
            assert v1.replace_namespaced_replication_controller_scale("frontend", NS, scale).spec.replicas == 1
            break
        except ApiException as e:
            assert e.status == 409 and '"reason":"Conflict"' in e.body, e.body
    else:
        raise AssertionError("replacing the scale kept conflicting")
    eventually("one frontend pod", lambda: len(v1.list_namespaced_pod(NS, label_selector="app=fe").items) == 1)
    ok("scale")

    # watch: the current pods as ADDED, then a new one; the stream ends at timeout_seconds.
    seen = []

    def create_later():
        time.sleep(0.5)
        body = manifest("pod.yaml")
        body["metadata"]["name"] = "watched"
        v1.create_namespaced_pod(NS, body)

    t = threading.Thread(target=create_later)
    t.start()
    w = watch.Watch()
    start = time.monotonic()
    for ev in w.stream(v1.list_namespaced_pod, NS, timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == "watched":
            w.stop()
    t.join()
    assert ("ADDED", "web") in seen and ("ADDED", "watched") in seen, seen
    assert time.monotonic() - start < 5, "the watch did not stop"
    events = list(watch.Watch().stream(v1.list_namespaced_service, NS, timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "fe-svc")], events
    ok("watch")

    # paging.
    if "paging" not in PENDING:
        page = v1.list_namespaced_pod(NS, limit=1)
        token = getattr(page.metadata, "var_continue", None) or getattr(page.metadata, "_continue", None)
        assert len(page.items) == 1 and token, page.metadata
        rest = v1.list_namespaced_pod(NS, limit=100, _continue=token)
        assert len(page.items) + len(rest.items) == len(v1.list_namespaced_pod(NS).items)
        ok("paging")

    # field validation.
    if "field-validation" not in PENDING:
        # The typed methods refuse unknown fields themselves: send it through the REST layer.
        resp = api.rest_client.request(
            "POST",
            f"{server}/api/v1/namespaces/{NS}/pods?fieldValidation=Strict",
            headers={"Content-Type": "application/json"},
            body=manifest("bad-pod.yaml"),
        )
        body = resp.read().decode()
        assert resp.status == 400 and "bogusField" in body, (resp.status, body)
        expect_status(404, "NotFound", lambda: v1.read_namespaced_pod("bad", NS))
        # Warn (the default): accepted (a dry run here), one Warning header per field.
        resp = api.rest_client.request(
            "POST",
            f"{server}/api/v1/namespaces/{NS}/pods?dryRun=All",
            headers={"Content-Type": "application/json"},
            body=manifest("bad-pod.yaml"),
        )
        body = resp.read().decode()
        warning = resp.headers.get("Warning")
        assert resp.status == 201, (resp.status, body)
        assert warning == '299 - "unknown field \\"spec.bogusField\\""', warning
        ok("field validation")

    # namespaces.
    if "namespaces" not in PENDING:
        names = {n.metadata.name for n in v1.list_namespace().items}
        assert {"default", "kube-system"} <= names, names
        v1.create_namespace({"metadata": {"name": "team-py"}})
        v1.create_namespaced_pod("team-py", manifest("pod.yaml"))
        assert [p.metadata.name for p in v1.list_namespaced_pod("team-py").items] == ["web"]
        expect_status(404, "NotFound", lambda: v1.create_namespaced_pod("missing", manifest("pod.yaml")))
        v1.delete_namespace("team-py")
        eventually(
            "namespace team-py gone",
            lambda: "team-py" not in {n.metadata.name for n in v1.list_namespace().items},
            secs=60,
        )
        ok("namespaces")

    # dry run: answered, never stored.
    body = manifest("pod.yaml")
    body["metadata"]["name"] = "dry"
    assert v1.create_namespaced_pod(NS, body, dry_run="All").metadata.name == "dry"
    expect_status(404, "NotFound", lambda: v1.read_namespaced_pod("dry", NS))
    ok("dry run")

    # 404 and 409 (and a stale resourceVersion: 409 Conflict).
    e = expect_status(404, "NotFound", lambda: v1.read_namespaced_pod("nope", NS))
    assert 'pods \\"nope\\" not found' in e.body or 'pods "nope" not found' in e.body, e.body
    expect_status(409, "AlreadyExists", lambda: v1.create_namespaced_pod(NS, manifest("pod.yaml")))
    stale = v1.read_namespaced_pod("web", NS)
    v1.patch_namespaced_pod("web", NS, {"metadata": {"labels": {"bump": "1"}}})
    stale.metadata.labels["late"] = "1"
    expect_status(409, "Conflict", lambda: v1.replace_namespaced_pod("web", NS, stale))
    ok("404 and 409")

    # delete: a collection by selector, pods, the service, the controller (its pods collected).
    for name in ("batch-1", "batch-2"):
        body = manifest("pod.yaml")
        body["metadata"]["name"] = name
        body["metadata"]["labels"] = {"batch": "py"}
        v1.create_namespaced_pod(NS, body)
    v1.delete_collection_namespaced_pod(NS, label_selector="batch=py", grace_period_seconds=0)
    eventually("batch pods gone", lambda: not v1.list_namespaced_pod(NS, label_selector="batch=py").items)
    assert v1.read_namespaced_pod("web", NS).metadata.name == "web"
    v1.delete_namespaced_pod("web", NS)
    eventually("pod web gone", lambda: "web" not in {p.metadata.name for p in v1.list_namespaced_pod(NS).items})
    v1.delete_namespaced_pod("model", NS, grace_period_seconds=0)
    v1.delete_namespaced_service("fe-svc", NS)
    expect_status(404, "NotFound", lambda: v1.read_namespaced_service("fe-svc", NS))
    v1.delete_namespaced_replication_controller("frontend", NS, propagation_policy="Background")
    eventually("frontend pods gone", lambda: not v1.list_namespaced_pod(NS, label_selector="app=fe").items)
    ok("delete")


if __name__ == "__main__":
    main(sys.argv[1])
    print("all scenarios passed")
