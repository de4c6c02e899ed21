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

#[test]
fn logs_stream_from_the_kubelet_and_bound_pods_delete_gracefully() {
    use common::fake_kubelet::{FakeKubelet, LOG};
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), free_port());
    let url = server.url.as_str();
    let mut kubelet = FakeKubelet::start();
    let write = |name: &str, doc: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    let node = write(
        "node.json",
        serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port}}}}),
    );
    ok(url, &["-c", &node, "create", "nodes"]);
    let pod = |name: &str, node: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "redis", "image": "dockerfile/redis"}]}})
    };
    ok(
        url,
        &[
            "-c",
            &write("bound.json", pod("redis", "n1")),
            "create",
            "pods",
        ],
    );
    ok(
        url,
        &[
            "-c",
            &write("unbound.json", pod("idle", "")),
            "create",
            "pods",
        ],
    );

    // The whole log, then the last lines: the options reach the kubelet.
    assert_eq!(ok(url, &["logs", "redis"]), LOG);
    assert_eq!(
        ok(url, &["logs", "--tail", "5", "pods/redis", "redis"]),
        LOG
    );
    let requests = kubelet.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [
            "GET /containerLogs/default/redis/redis?follow=false&previous=false&timestamps=false HTTP/1.1",
            "GET /containerLogs/default/redis/redis?follow=false&previous=false&timestamps=false&tailLines=5 HTTP/1.1",
        ]
    );

    // -f prints lines as the kubelet sends them, and ends when the kubelet ends the stream.
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_kubecfg"))
            .args(["-h", url, "logs", "-f", "redis"])
            .env_remove("KUBERNETES_MASTER")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kubecfg logs -f"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a line within 10 s")
    };
    assert_eq!(next(), "first");
    let feed = kubelet.feed.take().expect("feed");
    feed.send("second\n".into()).unwrap();
    assert_eq!(next(), "second");
    assert!(child.0.try_wait().unwrap().is_none(), "still following");
    drop(feed);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "kubecfg logs -f did not end");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());

    // Server errors print the server's message; bad arguments a usage line.
    for (args, message) in [
        (&["logs", "nope"][..], "pods \"nope\" not found"),
        (&["logs", "idle"], "pod idle does not have a host assigned"),
        (
            &["logs", "redis", "other"],
            "container other is not valid for pod redis",
        ),
        (&["logs"], "Usage: kubecfg"),
        (&["logs", "redis", "--tail", "x"], "Usage: kubecfg"),
        (&["get", "pods/redis", "-f"], "-f is only valid with logs"),
    ] {
        let o = kubecfg(url, args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }

    // Deleting a bound pod prints what it always did, and leaves it terminating for its
    // kubelet; an unbound pod goes at once.
    assert_eq!(
        ok(url, &["delete", "pods/redis"]),
        "Status\n----------\nSuccess\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(url, &["-o", "json", "get", "pods/redis"])).expect("json");
    assert_eq!(json["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(json["metadata"]["deletionTimestamp"].is_string(), "{json}");
    ok(url, &["delete", "pods/idle"]);
    assert!(!kubecfg(url, &["get", "pods/idle"]).status.success());
}

/// Removes every container of a test run (by its `kube-test.run` label) when dropped.
struct DockerCleanup(String);

impl Drop for DockerCleanup {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker ps -aq --filter label=kube-test.run={} | xargs -r docker rm -f >/dev/null 2>&1",
                self.0
            ))
            .status();
    }
}

/// This run's containers: (id, name), sorted.
fn run_containers(run: &str) -> Vec<(String, String)> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=kube-test.run={run}"),
            "--format",
            "{{.ID}} {{.Names}}",
        ])
        .output()
        .expect("docker ps");
    assert!(out.status.success(), "docker ps: {out:?}");
    let mut v: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

/// Starts the kubelet binary on Docker for node `127.0.0.1`.
fn docker_kubelet(url: &str, port: u16, run: &str) -> KillOnDrop {
    KillOnDrop(
        Command::new(workspace_bin("kubelet"))
            .args(["--master", url, "--hostname-override", "127.0.0.1"])
            .args(["--address", "127.0.0.1", "--port", &port.to_string()])
            .args(["--runtime", "docker", "--node-status-update-frequency", "1"])
            .args(["--container-label", &format!("kube-test.run={run}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kubelet"),
    )
}

/// The seed's walkthrough for real: redis.json runs in a Docker container on the node the
/// scheduler picked, `kubecfg list /pods` shows it Running, redis answers on its host port,
/// `kubecfg logs` shows its output, and a kubelet killed with -9 and restarted adopts the
/// containers instead of duplicating them.
#[test]
fn seed_redis_pod_runs_in_docker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), free_port());
    let url = server.url.as_str();
    let run = format!("kubecfg-redis-{}", std::process::id());
    let _cleanup = DockerCleanup(run.clone());
    let kubelet_port = free_port();
    let kubelet = docker_kubelet(url, kubelet_port, &run);
    let _scheduler = KillOnDrop(
        Command::new(workspace_bin("scheduler"))
            .args(["-master", url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn scheduler"),
    );
    wait_for(url, &["list", "minions"], |o| o.contains("127.0.0.1"));
    let redis = examples().join("redis.json");
    ok(url, &["-c", redis.to_str().unwrap(), "create", "/pods"]);
    let pods = wait_for(url, &["list", "/pods"], |o| o.contains("Running"));
    assert!(
        pods.contains(
            "redis               dockerfile/redis    127.0.0.1/127.0.0.1   name=redis          Running"
        ),
        "{pods}"
    );
    // redis answers on the host port, bound on loopback (Running means started, not yet
    // listening: docker-proxy resets connections until redis is up, so poll).
    let ping = || -> std::io::Result<Vec<u8>> {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", 6379))?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        std::io::Write::write_all(&mut conn, b"PING\r\n")?;
        let mut buf = [0u8; 16];
        let n = std::io::Read::read(&mut conn, &mut buf)?;
        Ok(buf[..n].to_vec())
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let answer = loop {
        match ping() {
            Ok(a) if !a.is_empty() => break a,
            other => assert!(Instant::now() < deadline, "redis never answered: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(answer, b"+PONG\r\n");
    let logs = wait_for(url, &["logs", "redis"], |o| {
        o.contains("Ready to accept connections")
    });
    assert!(logs.contains("Redis"), "{logs}");

    // kill -9 of the kubelet, then a new one: the same two containers, nothing duplicated.
    let before = run_containers(&run);
    assert_eq!(before.len(), 2, "infra and redis: {before:?}");
    drop(kubelet);
    let _kubelet = docker_kubelet(url, kubelet_port, &run);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(run_containers(&run), before, "adopted, not duplicated");
    wait_for(url, &["list", "/pods"], |o| o.contains("Running"));

    // Deleting the pod stops and removes its containers, then the pod object.
    ok(url, &["delete", "pods/redis"]);
    wait_for(url, &["list", "/pods"], |o| !o.contains("redis "));
    assert!(run_containers(&run).is_empty(), "containers removed");
}
