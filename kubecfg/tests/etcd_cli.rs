//! The seed's walkthrough with the API server on etcd: a real `etcd` process, the real
//! `apiserver` binary with `--etcd-servers`, and `kubecfg`. Built with the `etcd` feature
//! (which also builds the `apiserver` binary with etcd support); etcd must be installed.
#![cfg(feature = "etcd")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn apiserver_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    // target/<profile>/deps/etcd_cli-<hash> -> target/<profile>/apiserver
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("apiserver"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace first (cargo build --workspace --features kube-runtime/etcd)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process killed (SIGKILL) and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A one-member etcd on free loopback ports with its own data directory.
struct Etcd {
    _proc: Proc,
    url: String,
    _dir: tempfile::TempDir,
}

impl Etcd {
    fn start() -> Etcd {
        let dir = tempfile::tempdir().expect("tempdir");
        let (client, peer) = (free_port(), free_port());
        let url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.path().join("etcd.log")).expect("etcd log");
        let child = Command::new("etcd")
            .args(["--name", "walkthrough", "--data-dir"])
            .arg(dir.path().join("data"))
            .args([
                "--listen-client-urls",
                &url,
                "--advertise-client-urls",
                &url,
            ])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("walkthrough={peer_url}")])
            .args(["--heartbeat-interval", "20", "--election-timeout", "200"])
            .args(["--logger", "zap", "--log-level", "warn"])
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("run `etcd` (install Debian's etcd-server; scripts/test.sh does)");
        let etcd = Etcd {
            _proc: Proc(child),
            url,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !http(client, "GET /health HTTP/1.0\r\n\r\n").contains("\"health\":\"true\"") {
            assert!(Instant::now() < deadline, "etcd did not become healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
        etcd
    }

    fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    /// How many keys etcd holds under `prefix` (through etcd's JSON gateway).
    fn count(&self, prefix: &str) -> u64 {
        let end = {
            let mut b = prefix.as_bytes().to_vec();
            if let Some(last) = b.last_mut() {
                *last += 1;
            }
            b
        };
        let body = format!(
            r#"{{"key":"{}","range_end":"{}","count_only":true}}"#,
            base64(prefix.as_bytes()),
            base64(&end)
        );
        let answer = http(
            self.port(),
            &format!(
                "POST /v3/kv/range HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        let json = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(json).expect("etcd JSON answer");
        v["count"].as_str().map_or(0, |c| c.parse().expect("count"))
    }
}

/// Sends a raw HTTP/1.0 request to 127.0.0.1:`port` and returns the whole answer ("" on error).
fn http(port: u16, request: &str) -> String {
    let attempt = || -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(request.as_bytes())?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    };
    attempt().unwrap_or_default()
}

/// Standard base64 with padding (etcd's JSON gateway encodes bytes so).
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Starts the apiserver binary with `flags` and waits until kubecfg can list through it.
fn apiserver(port: u16, flags: &[String]) -> Proc {
    let child = Command::new(apiserver_bin())
        .args(["--port", &port.to_string()])
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apiserver");
    let mut proc = Proc(child);
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

fn kubecfg(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubecfg"))
        .arg("-h")
        .arg(url)
        .args(args)
        .env_remove("KUBERNETES_MASTER")
        .output()
        .expect("run kubecfg")
}

fn ok(url: &str, args: &[&str]) -> String {
    let o = kubecfg(url, args);
    assert!(
        o.status.success(),
        "kubecfg {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn uid_of(url: &str, what: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&ok(url, &["-o", "json", "get", what])).expect("json");
    json["metadata"]["uid"].as_str().expect("uid").to_string()
}

#[test]
fn seed_walkthrough_on_etcd_survives_apiserver_kill_9() {
    let etcd = Etcd::start();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = apiserver(port, &["--etcd-servers".into(), etcd.url.clone()]);
    let redis = examples().join("redis.json");
    let rc = examples().join("redisController.json");

    ok(&url, &["-c", redis.to_str().unwrap(), "create", "/pods"]);
    ok(
        &url,
        &[
            "-c",
            rc.to_str().unwrap(),
            "create",
            "/replicationControllers",
        ],
    );
    let pods = ok(&url, &["list", "/pods"]);
    assert_eq!(
        pods,
        "ID                  Image(s)            Host                Labels              Status\n\
         ----------          ----------          ----------          ----------          ----------\n\
         redis               dockerfile/redis    <unassigned>        name=redis          Pending\n"
    );
    let rcs = ok(&url, &["list", "/replicationControllers"]);
    assert_eq!(
        rcs,
        "ID                  Image(s)            Selector            Replicas\n\
         ----------          ----------          ----------          ----------\n\
         redisController     dockerfile/redis    name=redis          1\n"
    );
    // The seed's key layout in etcd: /registry/{resource}/{namespace}/{name}.
    assert_eq!(etcd.count("/registry/pods/default/redis"), 1);
    assert_eq!(
        etcd.count("/registry/replicationcontrollers/default/redisController"),
        1
    );
    let pod_uid = uid_of(&url, "pods/redis");

    // kill -9 and restart with the seed's flag spelling: everything is in etcd.
    drop(server);
    let server = apiserver(port, &[format!("-etcd_servers={}", etcd.url)]);
    assert_eq!(ok(&url, &["list", "/pods"]), pods);
    assert_eq!(ok(&url, &["list", "replicationControllers"]), rcs);
    assert_eq!(uid_of(&url, "pods/redis"), pod_uid);
    assert_eq!(
        ok(&url, &["delete", "pods/redis"]),
        "Status\n----------\nSuccess\n"
    );
    assert_eq!(etcd.count("/registry/pods/"), 0);
    drop(server);

    // Another prefix keeps a separate key space in the same etcd.
    let server = apiserver(
        port,
        &[
            "--etcd-servers".into(),
            format!("{},", etcd.url),
            "--etcd-prefix".into(),
            "/other".into(),
        ],
    );
    assert_eq!(
        ok(&url, &["list", "replicationControllers"])
            .lines()
            .count(),
        2
    );
    ok(&url, &["-c", redis.to_str().unwrap(), "create", "pods"]);
    assert_eq!(etcd.count("/other/pods/default/redis"), 1);
    assert_eq!(etcd.count("/registry/pods/"), 0);
    drop(server);
}
