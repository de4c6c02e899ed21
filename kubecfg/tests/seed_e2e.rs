//! The seed's walkthrough end to end, the seed's way: real etcd on port 4001 and our binaries
//! started with the seed's own command lines (apiserver, scheduler, controller-manager, kubelet on
//! real Docker, proxy), driven by `kubecfg` without `-h` (the seed's default master). Then the
//! same walkthrough on the all-in-one `localkube`.
//!
//! Beyond the seed: a service over two busybox httpd pods that each answer with their own name,
//! reached through the proxy at its cluster IP from the host and, through the seed's
//! `{NAME}_SERVICE_HOST`/`_PORT` variables, from inside a third pod; one backend's container is
//! killed and the service keeps answering.
//!
//! Both tests use the seed's fixed ports (etcd 4001, apiserver 8080, kubelet 10250), so they run
//! one at a time (`.config/nextest.toml`, group `seed-ports`). They need Docker, etcd and the test
//! images, which `scripts/test.sh` provides. Every process is stopped and every container removed
//! at the end, even when an assertion fails.

mod common;

use common::{examples, free_port, workspace_bin};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// How long a step may take (image work is local, so this is generous).
const STEP: Duration = Duration::from_secs(90);

/// A component process: SIGTERM on drop (so the proxy removes its addresses), SIGKILL after 10 s.
struct Component {
    name: String,
    child: Child,
}

impl Component {
    fn start(name: &str, bin: &Path, args: &[&str], cwd: &Path) -> Component {
        let log = std::fs::File::create(cwd.join(format!("{name}.out"))).expect("log file");
        let err = log.try_clone().expect("log file");
        let child = Command::new(bin)
            .args(args)
            .current_dir(cwd)
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Component {
            name: name.to_string(),
            child,
        }
    }

    /// Panics (with its output) if the process has exited.
    fn assert_running(&mut self, cwd: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let out =
                std::fs::read_to_string(cwd.join(format!("{}.out", self.name))).unwrap_or_default();
            panic!("{} exited with {status}:\n{out}", self.name);
        }
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes, at the end, every container the kubelet started for this test's pods: they carry
/// the label `kube-test.run=<id>` (the kubelet's `--container-label`).
struct Containers(String);

impl Drop for Containers {
    fn drop(&mut self) {
        let filter = format!("label=kube-test.run={}", self.0);
        if let Ok(out) = Command::new("docker")
            .args(["ps", "-aq", "--filter", &filter])
            .output()
        {
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rm", "-f"])
                    .args(&ids)
                    .output();
            }
        }
    }
}

/// Runs `kubecfg` the seed's way: no `-h`, so the default master `localhost:8080`.
fn kubecfg(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubecfg"))
        .args(args)
        .current_dir(cwd)
        .env_remove("KUBERNETES_MASTER")
        .output()
        .expect("run kubecfg")
}

/// Runs `kubecfg`, asserts success and returns its standard output.
fn ok(cwd: &Path, args: &[&str]) -> String {
    let o = kubecfg(cwd, args);
    assert!(
        o.status.success(),
        "kubecfg {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `kubecfg -o json ...` parsed, or `None` when it fails (e.g. not found yet).
fn json(cwd: &Path, args: &[&str]) -> Option<Value> {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let o = kubecfg(cwd, &all);
    o.status
        .success()
        .then(|| serde_json::from_slice(&o.stdout).ok())
        .flatten()
}

/// Polls `f` every 250 ms until it returns `Some`, for up to [`STEP`]; panics with `what`.
fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Polls until TCP `addr` accepts connections.
fn wait_port(addr: &str, procs: &mut [&mut Component], cwd: &Path) {
    let addr: SocketAddr = addr.parse().expect("address");
    wait(&format!("{addr} to accept"), || {
        for p in procs.iter_mut() {
            p.assert_running(cwd);
        }
        TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            .ok()
            .map(|_| ())
    });
}

/// One `GET path` over HTTP/1.0 to `addr`; the body when the status is 200.
fn http_get(addr: &SocketAddr, path: &str) -> Result<String, String> {
    let mut s =
        TcpStream::connect_timeout(addr, Duration::from_secs(3)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).map_err(|e| e.to_string())?;
    let (head, body) = buf.split_once("\r\n\r\n").ok_or("no header end")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(format!("status line {:?}", head.lines().next()));
    }
    Ok(body.trim().to_string())
}

/// The pods labelled `selector` as (name, phase, terminating).
fn pods(cwd: &Path, selector: &str) -> Vec<(String, String, bool)> {
    let Some(list) = json(cwd, &["-l", selector, "list", "pods"]) else {
        return Vec::new();
    };
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                p["status"]["phase"].as_str().unwrap_or("").to_string(),
                p["metadata"]["deletionTimestamp"].is_string(),
            )
        })
        .collect()
}

/// Waits for exactly `n` Running, non-terminating pods labelled `selector`; their names.
fn running(cwd: &Path, selector: &str, n: usize) -> BTreeSet<String> {
    wait(&format!("{n} running pods {selector}"), || {
        let p = pods(cwd, selector);
        (p.len() == n && p.iter().all(|(_, phase, t)| phase == "Running" && !t))
            .then(|| p.into_iter().map(|(name, _, _)| name).collect())
    })
}

/// Writes `doc` as `name` in `dir` and returns its path as text.
fn write_doc(dir: &Path, name: &str, doc: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, doc.to_string()).expect("write document");
    path.to_str().expect("utf-8 path").to_string()
}

/// The seed's pod and controller: `redis.json` Running (on `host`), then `redisController.json`
/// keeps one `name=redis` pod: deleting it brings another.
fn seed_pod_and_controller(cwd: &Path, host: &str) {
    let redis = examples().join("redis.json");
    let rc = examples().join("redisController.json");
    ok(
        cwd,
        &["-c", redis.to_str().expect("utf-8"), "create", "/pods"],
    );
    let table = wait("redis Running in `kubecfg list /pods`", || {
        let out = ok(cwd, &["list", "/pods"]);
        out.lines()
            .any(|l| l.starts_with("redis ") && l.trim_end().ends_with("Running"))
            .then_some(out)
    });
    let row = table
        .lines()
        .find(|l| l.starts_with("redis "))
        .expect("redis row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], "dockerfile/redis", "{table}");
    assert!(cols[2].starts_with(&format!("{host}/")), "{table}");
    assert_eq!(cols[3], "name=redis", "{table}");

    ok(
        cwd,
        &[
            "-c",
            rc.to_str().expect("utf-8"),
            "create",
            "/replicationControllers",
        ],
    );
    let rcs = ok(cwd, &["list", "/replicationControllers"]);
    assert!(
        rcs.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["redisController", "dockerfile/redis", "name=redis", "1"]),
        "{rcs}"
    );
    let first = running(cwd, "name=redis", 1);
    let victim = first.iter().next().expect("one pod").clone();
    ok(cwd, &["delete", &format!("pods/{victim}")]);
    let replaced = running(cwd, "name=redis", 1);
    assert!(
        !replaced.contains(&victim),
        "the deleted pod {victim} was not replaced: {replaced:?}"
    );
    ok(cwd, &["stop", "redisController"]);
    ok(cwd, &["rm", "redisController"]);
    for (name, _, _) in pods(cwd, "name=redis") {
        let _ = kubecfg(cwd, &["delete", &format!("pods/{name}")]);
    }
}

/// A two-replica controller of busybox httpd pods answering with their own name, a service over
/// them, reached through the proxy from the host and from a third pod; one backend killed.
fn service_through_the_proxy(cwd: &Path) {
    let rc = json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"app": "web"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": "kube-test/busybox:latest",
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c",
                        "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www"],
                    "ports": [{"containerPort": 8000, "name": "http"}]
                }]}
            }
        }
    });
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}
    });
    ok(
        cwd,
        &[
            "-c",
            &write_doc(cwd, "web-rc.json", &rc),
            "create",
            "replicationControllers",
        ],
    );
    ok(
        cwd,
        &[
            "-c",
            &write_doc(cwd, "web-svc.json", &svc),
            "create",
            "services",
        ],
    );
    let services = ok(cwd, &["list", "services"]);
    let backends = running(cwd, "app=web", 2);

    let service = json(cwd, &["get", "services/web"]).expect("service web");
    let ip = service["spec"]["clusterIP"]
        .as_str()
        .expect("cluster IP")
        .to_string();
    assert!(
        services
            .lines()
            .any(|l| l.contains("web") && l.contains(&ip)),
        "`kubecfg list services` shows the IP:\n{services}"
    );
    wait("2 ready endpoints for web", || {
        let ep = json(cwd, &["get", "endpoints/web"])?;
        let n = ep["subsets"]
            .as_array()?
            .iter()
            .map(|s| s["addresses"].as_array().map_or(0, Vec::len))
            .sum::<usize>();
        (n == 2).then_some(())
    });
    // Traffic only to an address of this machine: the proxy puts the cluster IP on the bridge.
    wait(&format!("{ip} to be an address of this machine"), || {
        let out = Command::new("ip")
            .args(["-o", "addr", "show"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("inet {ip}/32"))
            .then_some(())
    });
    let addr: SocketAddr = format!("{ip}:80").parse().expect("service address");
    let mut seen = BTreeSet::new();
    wait("answers from both backends through the proxy", || {
        if let Ok(body) = http_get(&addr, "/") {
            seen.insert(body);
        }
        (seen == backends).then_some(())
    });

    // A third pod reaches the service through the seed's variables (with nc: Debian's static
    // busybox wget crashes in these images).
    let client = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "client", "labels": {"app": "client"}},
        "spec": {"containers": [{
            "name": "client",
            "image": "kube-test/busybox:latest",
            "imagePullPolicy": "Never",
            "command": ["sh", "-c",
                "echo host=$WEB_SERVICE_HOST port=$WEB_SERVICE_PORT; \
                 while true; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $WEB_SERVICE_HOST $WEB_SERVICE_PORT; echo; sleep 1; done"]
        }]}
    });
    ok(
        cwd,
        &[
            "-c",
            &write_doc(cwd, "client.json", &client),
            "create",
            "pods",
        ],
    );
    running(cwd, "app=client", 1);
    let logs = wait("the client pod to reach the service", || {
        let o = kubecfg(cwd, &["logs", "client"]);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        backends
            .iter()
            .any(|b| out.lines().any(|l| l.trim() == b))
            .then_some(out)
    });
    assert!(
        logs.contains(&format!("host={ip} port=80")),
        "the client saw other variables:\n{logs}"
    );

    // Kill one backend's container: the proxy keeps answering from the other.
    let victim = backends.iter().next().expect("a backend").clone();
    let out = Command::new("docker")
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("label=io.kubernetes.pod.name={victim}"),
            "--filter",
            "label=io.kubernetes.container.name=web",
        ])
        .output()
        .expect("docker ps");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!id.is_empty(), "no container for {victim}");
    let killed = Command::new("docker")
        .args(["kill", &id])
        .output()
        .expect("docker kill");
    assert!(killed.status.success(), "docker kill {id}");
    for i in 0..20 {
        let body = http_get(&addr, "/")
            .unwrap_or_else(|e| panic!("request {i} through the proxy after the kill failed: {e}"));
        assert!(backends.contains(&body), "unexpected answer {body:?}");
    }

    ok(cwd, &["delete", "pods/client"]);
    ok(cwd, &["delete", "services/web"]);
    ok(cwd, &["stop", "web"]);
    ok(cwd, &["rm", "web"]);
}

#[test]
fn seed_walkthrough_with_the_seeds_command_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let run = format!("kube-test.run=seed-e2e-{}", std::process::id());
    let _containers = Containers(run.trim_start_matches("kube-test.run=").to_string());
    let peer = format!("http://127.0.0.1:{}", free_port());
    let mut etcd = Component::start(
        "etcd",
        Path::new("etcd"),
        &[
            "--data-dir",
            "etcd-data",
            "--listen-client-urls",
            "http://127.0.0.1:4001",
            "--advertise-client-urls",
            "http://127.0.0.1:4001",
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
            "--initial-cluster",
            &format!("default={peer}"),
        ],
        cwd,
    );
    wait_port("127.0.0.1:4001", &mut [&mut etcd], cwd);
    let logging = ["-v=3", "-logtostderr=false", "-log_dir=./log"];
    let with_logging = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(logging.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let start = |name: &str, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Component::start(name, &workspace_bin(name), &args, cwd)
    };
    let mut apiserver = start(
        "apiserver",
        with_logging(&[
            "-address=127.0.0.1",
            "-port=8080",
            "-portal_net=172.0.0.0/16",
            "-etcd_servers=http://127.0.0.1:4001",
            "-machines=127.0.0.1",
        ]),
    );
    wait_port("127.0.0.1:8080", &mut [&mut etcd, &mut apiserver], cwd);
    let _scheduler = start("scheduler", with_logging(&["-master", "127.0.0.1:8080"]));
    let _controller_manager = start(
        "controller-manager",
        with_logging(&["-master", "127.0.0.1:8080"]),
    );
    // Beyond the seed's line: a label on the containers (so they are removed at the end) and a
    // scratch root directory.
    let mut kubelet_args = with_logging(&[
        "-address=127.0.0.1",
        "-port=10250",
        "-hostname_override=127.0.0.1",
        "-etcd_servers=http://127.0.0.1:4001",
    ]);
    kubelet_args.extend(["--container-label".to_string(), run.clone()]);
    kubelet_args.extend([
        "--root-dir".to_string(),
        cwd.join("kubelet").display().to_string(),
    ]);
    let _kubelet = start("kubelet", kubelet_args);
    let _proxy = start("proxy", with_logging(&["-master", "127.0.0.1:8080"]));

    seed_pod_and_controller(cwd, "127.0.0.1");
    service_through_the_proxy(cwd);

    // -logtostderr=false -log_dir=./log: each component wrote its log file there.
    let logs: Vec<String> = std::fs::read_dir(cwd.join("log"))
        .expect("./log was created")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    for component in [
        "apiserver",
        "scheduler",
        "controller-manager",
        "kubelet",
        "proxy",
    ] {
        assert!(
            logs.iter().any(|f| f.starts_with(component)),
            "no log file of {component} in ./log: {logs:?}"
        );
    }
}

#[test]
fn seed_walkthrough_on_localkube() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let run = format!("kube-test.run=localkube-e2e-{}", std::process::id());
    let _containers = Containers(run.trim_start_matches("kube-test.run=").to_string());
    let host = "localkube-e2e";
    let mut localkube = Component::start(
        "localkube",
        &workspace_bin("localkube"),
        &[
            "--data-dir",
            "data",
            "--hostname-override",
            host,
            "--portal-net",
            "172.0.0.0/16",
            "--container-label",
            &run,
            "--root-dir",
            "kubelet",
        ],
        cwd,
    );
    wait_port("127.0.0.1:8080", &mut [&mut localkube], cwd);
    seed_pod_and_controller(cwd, host);
    service_through_the_proxy(cwd);
    localkube.assert_running(cwd);
}
