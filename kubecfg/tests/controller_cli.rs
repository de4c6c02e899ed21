//! The seed's controller walkthrough over separate processes: `apiserver`, `scheduler`,
//! `controller-manager` and three `kubelet --runtime fake` (simulated nodes), driven by
//! `kubecfg`: create `redisController`, its pod runs; delete it, another appears; `resize`,
//! `rm` refused, `stop`, `rm`; `run` with a service; `rollingupdate`; `list events`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

/// A component binary, its output discarded, killed on drop.
fn component(name: &str, args: &[&str]) -> KillOnDrop {
    KillOnDrop(
        Command::new(workspace_bin(name))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}")),
    )
}

/// A `kubelet --runtime fake` registering node `node`.
fn fake_kubelet(url: &str, node: &str, root: &Path) -> KillOnDrop {
    let port = free_port().to_string();
    let root = root.join(node);
    component(
        "kubelet",
        &[
            "--master",
            url,
            "--hostname-override",
            node,
            "--address",
            "127.0.0.1",
            "--port",
            &port,
            "--runtime",
            "fake",
            "--node-status-update-frequency",
            "1",
            "--root-dir",
            root.to_str().expect("utf-8 path"),
        ],
    )
}

/// A pod as listed: name, phase, first image, terminating.
#[derive(Debug, Clone)]
struct PodRow {
    name: String,
    phase: String,
    image: String,
    terminating: bool,
}

/// The pods with `selector`, read with `-o json`.
fn pods(url: &str, selector: &str) -> Vec<PodRow> {
    let list: Value =
        serde_json::from_str(&ok(url, &["-o", "json", "-l", selector, "list", "pods"]))
            .expect("json");
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| PodRow {
                    name: p["metadata"]["name"].as_str().unwrap_or("").into(),
                    phase: p["status"]["phase"].as_str().unwrap_or("").into(),
                    image: p["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap_or("")
                        .into(),
                    terminating: p["metadata"]["deletionTimestamp"].is_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Polls the pods with `selector` until `pred` holds (20 s at most); returns them.
fn wait_pods(url: &str, selector: &str, pred: impl Fn(&[PodRow]) -> bool) -> Vec<PodRow> {
    wait_until(|| {
        let p = pods(url, selector);
        pred(&p).then_some(p)
    })
    .unwrap_or_else(|| panic!("timed out; pods {selector}: {:?}", pods(url, selector)))
}

/// `n` pods, none terminating, all Running.
fn running(n: usize) -> impl Fn(&[PodRow]) -> bool {
    move |p| p.len() == n && p.iter().all(|p| p.phase == "Running" && !p.terminating)
}

fn names(p: &[PodRow]) -> BTreeSet<String> {
    p.iter().map(|p| p.name.clone()).collect()
}

fn json_of(url: &str, what: &str) -> Value {
    serde_json::from_str(&ok(url, &["-o", "json", "get", what])).expect("json")
}

#[test]
fn seed_controller_walkthrough_over_separate_processes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let data = dir.path().join("data");
    let _apiserver = apiserver(port, &["--data-dir".into(), data.display().to_string()]);
    let url = format!("http://127.0.0.1:{port}");
    let url = url.as_str();
    let _scheduler = component("scheduler", &["-master", url]);
    let _controller_manager = component("controller-manager", &["--master", url]);
    let _kubelets: Vec<KillOnDrop> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| fake_kubelet(url, n, dir.path()))
        .collect();
    wait_until(|| {
        let nodes = ok(url, &["list", "minions"]);
        (nodes.lines().count() == 5).then_some(())
    })
    .expect("three nodes registered");

    // The seed: create redisController; its one pod runs, and `kubecfg list /pods` shows it.
    let rc = examples().join("redisController.json");
    ok(
        url,
        &[
            "-c",
            rc.to_str().unwrap(),
            "create",
            "/replicationControllers",
        ],
    );
    let first = wait_pods(url, "name=redis", running(1));
    let table = ok(url, &["list", "/pods"]);
    assert!(
        table.contains(&first[0].name) && table.contains("Running"),
        "{table}"
    );
    assert_eq!(first[0].image, "dockerfile/redis");

    // Delete that pod: another, with another name, takes its place.
    ok(url, &["delete", &format!("pods/{}", first[0].name)]);
    let second = wait_pods(url, "name=redis", |p| {
        running(1)(p) && p[0].name != first[0].name
    });
    assert_ne!(second[0].name, first[0].name);

    // resize to 3: three pods run (one per node: the seed's pod asks for hostPort 6379).
    let out = ok(url, &["resize", "redisController", "3"]);
    assert!(
        out.contains("redisController     dockerfile/redis    name=redis          3"),
        "{out}"
    );
    wait_pods(url, "name=redis", running(3));

    // rm is refused while the controller has replicas.
    let refused = kubecfg(url, &["rm", "redisController"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("controller has non-zero replicas (3), please stop it first"),
        "{}",
        stderr(&refused)
    );

    // stop returns once every pod is gone; then rm deletes the controller.
    let out = ok(url, &["stop", "redisController"]);
    assert!(out.contains("redisController"), "{out}");
    assert!(
        pods(url, "name=redis").is_empty(),
        "stop waited for the pods"
    );
    assert_eq!(
        ok(url, &["rm", "redisController"]),
        "Status\n----------\nSuccess\n"
    );
    let gone = kubecfg(url, &["get", "replicationControllers/redisController"]);
    assert!(!gone.status.success());
    assert!(stderr(&gone).contains("not found"), "{}", stderr(&gone));

    // run with ports and a service.
    let out = ok(
        url,
        &[
            "-p",
            "8080:80",
            "-s",
            "8000",
            "run",
            "dockerfile/nginx",
            "2",
            "web",
        ],
    );
    assert!(out.contains("web") && out.contains("8000"), "{out}");
    let rc = json_of(url, "replicationControllers/web");
    assert_eq!(rc["spec"]["replicas"], 2);
    assert_eq!(
        rc["spec"]["selector"],
        serde_json::json!({"simpleService": "web"})
    );
    let template = &rc["spec"]["template"];
    assert_eq!(
        template["metadata"]["labels"],
        serde_json::json!({"simpleService": "web"})
    );
    let container = &template["spec"]["containers"][0];
    assert_eq!(container["name"], "web");
    assert_eq!(container["image"], "dockerfile/nginx");
    assert_eq!(container["ports"][0]["containerPort"], 80);
    assert_eq!(container["ports"][0]["hostPort"], 8080);
    let svc = json_of(url, "services/web");
    assert_eq!(svc["metadata"]["labels"]["simpleService"], "web");
    assert_eq!(
        svc["spec"]["selector"],
        serde_json::json!({"simpleService": "web"})
    );
    assert_eq!(svc["spec"]["ports"][0]["port"], 8000);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
    let before = wait_pods(url, "simpleService=web", running(2));

    // rollingupdate: every pod replaced, one at a time, by one of the new image.
    let out = ok(
        url,
        &[
            "-image",
            "dockerfile/nginx:v2",
            "-u",
            "0s",
            "rollingupdate",
            "web",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let mut replaced = BTreeSet::new();
    let mut replacements = BTreeSet::new();
    for (i, line) in lines[..2].iter().enumerate() {
        let rest = line
            .strip_prefix("Updating web: pod ")
            .unwrap_or_else(|| panic!("{out}"));
        let (pair, count) = rest.split_once(" (").expect("count");
        assert_eq!(count, format!("{}/2)", i + 1), "{out}");
        let (old, new) = pair.split_once(" replaced by ").expect("pair");
        replaced.insert(old.to_string());
        replacements.insert(new.to_string());
    }
    assert_eq!(replaced, names(&before), "{out}");
    assert_eq!(lines[2], "Updated web: 2 pod(s) replaced, 2 up to date");
    let after = wait_pods(url, "simpleService=web", running(2));
    assert_eq!(names(&after), replacements);
    assert!(
        after.iter().all(|p| p.image == "dockerfile/nginx:v2"),
        "{after:?}"
    );
    assert!(names(&after).is_disjoint(&names(&before)));
    // Done already: a second run finds nothing old.
    let again = ok(
        url,
        &[
            "-image",
            "dockerfile/nginx:v2",
            "-u",
            "0s",
            "rollingupdate",
            "web",
        ],
    );
    assert_eq!(again, "Updated web: 0 pod(s) replaced, 2 up to date\n");

    // rollingupdate -c FILE: the template of the file's controller (here the seed's v1beta1
    // shape, back to the first image), with a progress period in milliseconds.
    let file = dir.path().join("web.json");
    std::fs::write(
        &file,
        serde_json::json!({"id": "web", "kind": "ReplicationController", "apiVersion": "v1beta1",
            "desiredState": {"replicas": 2, "replicaSelector": {"simpleService": "web"},
                "podTemplate": {"labels": {"simpleService": "web"}, "desiredState": {"manifest": {
                    "version": "v1beta1", "id": "web",
                    "containers": [{"name": "web", "image": "dockerfile/nginx",
                        "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}}}})
        .to_string(),
    )
    .unwrap();
    let out = ok(
        url,
        &[
            "-c",
            file.to_str().unwrap(),
            "-u",
            "20ms",
            "rollingupdate",
            "web",
        ],
    );
    assert!(
        out.ends_with("Updated web: 2 pod(s) replaced, 2 up to date\n"),
        "{out}"
    );
    let reverted = wait_pods(url, "simpleService=web", running(2));
    assert!(
        reverted.iter().all(|p| p.image == "dockerfile/nginx"),
        "{reverted:?}"
    );
    assert!(names(&reverted).is_disjoint(&names(&after)));

    // list events: the v0.5 table.
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "ReplicationController", "name": "web", "namespace": "default"},
            "reason": "rollingUpdate", "message": "2 pods replaced", "type": "Normal"})
        .to_string(),
    )
    .unwrap();
    ok(url, &["-c", event.to_str().unwrap(), "create", "events"]);
    for resource in ["events", "/events"] {
        let table = ok(url, &["list", resource]);
        let rows: Vec<Vec<&str>> = table
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows[0],
            ["Name", "Kind", "Status", "Reason", "Message"],
            "{table}"
        );
        assert!(
            rows.contains(&vec![
                "web",
                "ReplicationController",
                "Normal",
                "rollingUpdate",
                "2",
                "pods",
                "replaced"
            ]),
            "{table}"
        );
        // The scheduler's events about the pods it placed.
        assert!(
            rows.iter().any(|r| r.len() > 3
                && r[0].starts_with("web-")
                && r[1] == "Pod"
                && r[3] == "Scheduled"),
            "{table}"
        );
    }

    // Bad arguments: a usage line; server errors: the server's message.
    for (args, message) in [
        (
            &["resize", "web"][..],
            "Usage: kubecfg [OPTIONS] resize <controller> <replicas>",
        ),
        (
            &["resize", "web", "many"],
            "replicas must be a non-negative integer",
        ),
        (
            &["run", "img", "2"],
            "Usage: kubecfg [OPTIONS] [-p <port spec>]",
        ),
        (&["-p", "x:80", "run", "img", "1", "w2"], "bad port spec"),
        (
            &["-s", "80", "run", "img", "1", "Bad_Name"],
            "Service names must be valid DNS labels",
        ),
        (&["stop"], "Usage: kubecfg"),
        (&["-u", "soon", "rollingupdate", "web"], "invalid duration"),
        (
            &["-image", "x", "resize", "web", "1"],
            "-image is only valid with rollingupdate",
        ),
        (&["resize", "nope", "2"], "\"nope\" not found"),
        (
            &["-u", "0s", "-image", "x", "rollingupdate", "nope"],
            "\"nope\" not found",
        ),
    ] {
        let o = kubecfg(url, args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}
