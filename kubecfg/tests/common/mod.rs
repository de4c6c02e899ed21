//! Helpers shared by the end-to-end tests of the real binaries (`apiserver`, `scheduler`, `kubecfg`).
#![allow(dead_code)] // each test binary uses a different subset

pub mod fake_kubelet;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository's `examples/` folder (the seed's documents).
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// A workspace binary built next to the running test (`target/<profile>/<name>`).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    // target/<profile>/deps/<test>-<hash> -> target/<profile>/<name>
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(name))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace first (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process killed (SIGKILL, like `kill -9`) and reaped on drop.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `apiserver` binary on `port` with `flags` and waits until kubecfg can list through it.
pub fn apiserver(port: u16, flags: &[String]) -> KillOnDrop {
    let child = Command::new(workspace_bin("apiserver"))
        .args(["--port", &port.to_string()])
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apiserver");
    let mut proc = KillOnDrop(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = proc.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = proc.0.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("apiserver exited with {status}: {err}");
        }
        if kubecfg(&url, &["list", "minions"]).status.success() {
            return proc;
        }
        assert!(Instant::now() < deadline, "apiserver did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs kubecfg against `url`.
pub fn kubecfg(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubecfg"))
        .arg("-h")
        .arg(url)
        .args(args)
        .env_remove("KUBERNETES_MASTER")
        .output()
        .expect("run kubecfg")
}

/// Standard output of a run.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error of a run.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs kubecfg, asserts success and returns its output.
pub fn ok(url: &str, args: &[&str]) -> String {
    let o = kubecfg(url, args);
    assert!(
        o.status.success(),
        "kubecfg {args:?} failed: {}",
        stderr(&o)
    );
    stdout(&o)
}

/// The uid of an object, read with `-o json`.
pub fn uid_of(url: &str, what: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&ok(url, &["-o", "json", "get", what])).expect("json");
    json["metadata"]["uid"].as_str().expect("uid").to_string()
}

/// The seed's first steps: create `redis.json` and `redisController.json`, check both
/// `kubecfg list` tables against the seed's, and return them (pods, controllers).
pub fn create_seed_documents(url: &str) -> (String, String) {
    let redis = examples().join("redis.json");
    let rc = examples().join("redisController.json");
    ok(url, &["-c", redis.to_str().unwrap(), "create", "/pods"]);
    ok(
        url,
        &[
            "-c",
            rc.to_str().unwrap(),
            "create",
            "/replicationControllers",
        ],
    );
    let pods = ok(url, &["list", "/pods"]);
    assert_eq!(
        pods,
        "ID                  Image(s)            Host                Labels              Status\n\
         ----------          ----------          ----------          ----------          ----------\n\
         redis               dockerfile/redis    <unassigned>        name=redis          Pending\n"
    );
    let rcs = ok(url, &["list", "/replicationControllers"]);
    assert_eq!(
        rcs,
        "ID                  Image(s)            Selector            Replicas\n\
         ----------          ----------          ----------          ----------\n\
         redisController     dockerfile/redis    name=redis          1\n"
    );
    (pods, rcs)
}

/// Polls `f` every 100 ms until it returns `Some`, for up to 20 s.
pub fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
