//! The seed's walkthrough through the real binaries: `apiserver` on the embedded store and `kubecfg`.
//!
//! The apiserver binary is found next to this test's own build output (`target/<profile>/apiserver`);
//! the README's test command builds the whole workspace, so it is there.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An apiserver child process on the embedded store, killed (SIGKILL) on drop.
struct Server {
    _proc: KillOnDrop,
    url: String,
}

impl Server {
    fn start(data_dir: &Path, port: u16) -> Server {
        let flags = ["--data-dir".to_string(), data_dir.display().to_string()];
        Server {
            _proc: apiserver(port, &flags),
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `kill -9`: no chance to flush anything.
    fn kill9(self) {
        drop(self);
    }
}

#[test]
fn seed_walkthrough_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let server = Server::start(dir.path(), port);
    let url = server.url.clone();
    let (pods, rcs) = create_seed_documents(&url);
    let pod_uid = uid_of(&url, "pods/redis");
    let rc_uid = uid_of(&url, "replicationControllers/redisController");

    server.kill9();
    let server = Server::start(dir.path(), port);
    assert_eq!(
        ok(&server.url, &["list", "/pods"]),
        pods,
        "pods survive kill -9"
    );
    assert_eq!(ok(&server.url, &["list", "replicationControllers"]), rcs);
    assert_eq!(
        uid_of(&server.url, "pods/redis"),
        pod_uid,
        "same uid after restart"
    );
    assert_eq!(
        uid_of(&server.url, "replicationControllers/redisController"),
        rc_uid
    );
}

#[test]
fn update_delete_selectors_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), free_port());
    let url = server.url.as_str();
    let redis = examples().join("redis.json");
    let rc = examples().join("redisController.json");
    ok(url, &["-c", redis.to_str().unwrap(), "create", "pods"]);
    ok(
        url,
        &[
            "-c",
            rc.to_str().unwrap(),
            "create",
            "replicationControllers",
        ],
    );

    // update reads the current resourceVersion first, so a file without one still applies.
    let scaled = dir.path().join("scaled.yaml");
    std::fs::write(
        &scaled,
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: redisController\nspec:\n  replicas: 3\n  selector:\n    name: redis\n  template:\n    metadata:\n      labels:\n        name: redis\n    spec:\n      containers:\n      - name: redis\n        image: dockerfile/redis\n",
    )
    .unwrap();
    let out = ok(
        url,
        &[
            "-c",
            scaled.to_str().unwrap(),
            "update",
            "replicationControllers/redisController",
        ],
    );
    assert!(
        out.contains("redisController     dockerfile/redis    name=redis          3"),
        "{out}"
    );

    // Label selectors.
    let none = ok(url, &["-l", "name=other", "list", "pods"]);
    assert_eq!(none.lines().count(), 2, "header only: {none}");
    let some = ok(url, &["-l", "name in (redis)", "list", "pods"]);
    assert!(some.contains("redis "), "{some}");

    // YAML output is the v1 object.
    let yaml = ok(url, &["-o", "yaml", "get", "pods/redis"]);
    assert!(
        yaml.contains("kind: Pod") && yaml.contains("name: redis"),
        "{yaml}"
    );

    // Errors print the server's message and exit non-zero.
    let missing = kubecfg(url, &["get", "pods/nope"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("pods \"nope\" not found"),
        "{}",
        stderr(&missing)
    );
    let dup = kubecfg(url, &["-c", redis.to_str().unwrap(), "create", "pods"]);
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already exists"), "{}", stderr(&dup));
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"id": "Bad_Name", "desiredState": {"manifest": {"containers": [{"name": "c"}]}}}"#,
    )
    .unwrap();
    let invalid = kubecfg(url, &["-c", bad.to_str().unwrap(), "create", "pods"]);
    assert!(!invalid.status.success());
    let msg = stderr(&invalid);
    assert!(
        msg.contains("is invalid") && msg.contains("metadata.name") && msg.contains("image"),
        "{msg}"
    );
    let unknown = kubecfg(url, &["list", "widgets"]);
    assert!(!unknown.status.success() && stderr(&unknown).contains("unknown resource"));

    assert_eq!(
        ok(url, &["delete", "pods/redis"]),
        "Status\n----------\nSuccess\n"
    );
    let gone = kubecfg(url, &["get", "/pods/redis"]);
    assert!(!gone.status.success());

    // A server that is not there is a clear error, not a panic.
    let down = kubecfg("http://127.0.0.1:1", &["list", "pods"]);
    assert!(!down.status.success());
    assert!(
        stderr(&down).contains("cannot reach the API server"),
        "{}",
        stderr(&down)
    );
}

/// Polls kubecfg until its output satisfies `pred`, for up to 15 s.
fn wait_for(url: &str, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = ok(url, args);
        if pred(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "timed out; last output of {args:?}:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn scheduler_assigns_hosts_and_explains_what_does_not_fit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), free_port());
    let url = server.url.as_str();
    let minion = dir.path().join("minion.json");
    std::fs::write(
        &minion,
        r#"{"id": "127.0.0.1", "kind": "Minion", "apiVersion": "v1beta1"}"#,
    )
    .unwrap();
    ok(url, &["-c", minion.to_str().unwrap(), "create", "minions"]);
    assert_eq!(
        ok(url, &["list", "minions"]),
        "Minion identifier\n----------\n127.0.0.1\n"
    );

    // The seed's spelling of the flag: -master host:port.
    let _scheduler = KillOnDrop(
        Command::new(workspace_bin("scheduler"))
            .args(["-master", url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn scheduler"),
    );
    let redis = examples().join("redis.json");
    ok(url, &["-c", redis.to_str().unwrap(), "create", "/pods"]);
    let pods = wait_for(url, &["list", "/pods"], |o| o.contains("127.0.0.1/"));
    assert!(
        pods.contains("redis               dockerfile/redis    127.0.0.1/          name=redis"),
        "{pods}"
    );

    // A second pod wanting hostPort 6379 cannot fit on the one node.
    let seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&redis).unwrap()).unwrap();
    let mut second = seed.clone();
    second["id"] = "redis2".into();
    let second_path = dir.path().join("redis2.json");
    std::fs::write(&second_path, second.to_string()).unwrap();
    ok(
        url,
        &["-c", second_path.to_str().unwrap(), "create", "pods"],
    );
    let why = wait_for(url, &["get", "pods/redis2"], |o| {
        o.contains("Unschedulable")
    });
    assert!(
        why.contains("redis2              dockerfile/redis    <unassigned>"),
        "{why}"
    );
    assert!(
        why.contains(
            "PodScheduled=False Unschedulable: 0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
        ),
        "{why}"
    );
}
