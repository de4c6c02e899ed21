//! The seed's walkthrough with the API server on etcd: a real `etcd` process, the real
//! `apiserver` binary with `--etcd-servers`, and `kubecfg`. Built with the `etcd` feature
//! (which also builds the `apiserver` binary with etcd support); etcd must be installed.
#![cfg(feature = "etcd")]

mod common;

use common::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A one-member etcd on free loopback ports with its own data directory.
struct Etcd {
    _proc: KillOnDrop,
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
            _proc: KillOnDrop(child),
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

#[test]
fn seed_walkthrough_on_etcd_survives_apiserver_kill_9() {
    let etcd = Etcd::start();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = apiserver(port, &["--etcd-servers".into(), etcd.url.clone()]);
    let (pods, rcs) = create_seed_documents(&url);
    let redis = examples().join("redis.json");
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
