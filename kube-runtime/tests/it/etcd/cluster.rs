//! Real etcd processes for the tests: one member or a cluster on free loopback ports, each
//! member with its own data directory, killed (by process id) when the guard is dropped.
//!
//! etcd must be installed (`etcd` on PATH, Debian's etcd-server); the tests fail loudly when
//! it is not, they never skip.

use kube_runtime::store::{EtcdConfig, EtcdStore};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a member may take to report itself healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts at starting a fresh cluster (a port picked as free may be taken meanwhile).
const START_ATTEMPTS: usize = 4;

/// Makes every cluster token unique within the test binary.
static CLUSTERS: AtomicUsize = AtomicUsize::new(0);

/// A free loopback port (the listener is dropped, so another process may take it: see
/// [`START_ATTEMPTS`]).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One etcd member: its ports, data directory and (while running) its process.
struct Member {
    name: String,
    client_port: u16,
    peer_port: u16,
    data_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Member {
    fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }

    /// `kill -9` and reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Election timing: a single member never holds elections after its first, so it can be
/// quick; a cluster gets more slack so a loaded 2-core machine does not cause spurious ones.
fn timing(members: usize) -> (&'static str, &'static str) {
    if members == 1 {
        ("20", "200")
    } else {
        ("50", "500")
    }
}

/// A running etcd cluster (possibly of one member), stopped on drop.
pub struct EtcdCluster {
    members: Vec<Member>,
    initial_cluster: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl EtcdCluster {
    /// Starts a one-member etcd and waits until it serves.
    pub async fn single() -> EtcdCluster {
        Self::start(1).await
    }

    /// Starts an `n`-member cluster and waits until every member is healthy.
    pub async fn start(n: usize) -> EtcdCluster {
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(n).await {
                Ok(cluster) => return cluster,
                Err(e) => last_error = e,
            }
        }
        panic!("could not start a {n}-member etcd cluster: {last_error}");
    }

    async fn try_start(n: usize) -> Result<EtcdCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("etcd-test-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let token = format!(
            "kube-test-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        );
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client_port: free_port(),
                peer_port: free_port(),
                data_dir: dir.path().join(format!("m{i}")),
                log: dir.path().join(format!("m{i}.log")),
                child: None,
            })
            .collect();
        let initial_cluster = members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = EtcdCluster {
            members,
            initial_cluster,
            token,
            _dir: dir,
        };
        for i in 0..n {
            cluster.spawn(i, "new")?;
        }
        for i in 0..n {
            cluster.wait_healthy(i).await?;
        }
        Ok(cluster)
    }

    /// Starts member `i`'s process.
    fn spawn(&mut self, i: usize, state: &str) -> Result<(), String> {
        let (heartbeat, election) = timing(self.members.len());
        let m = &self.members[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&m.log)
            .map_err(|e| format!("etcd log {}: {e}", m.log.display()))?;
        let log2 = log.try_clone().map_err(|e| format!("etcd log: {e}"))?;
        let child = Command::new("etcd")
            .arg("--name")
            .arg(&m.name)
            .arg("--data-dir")
            .arg(&m.data_dir)
            .arg("--listen-client-urls")
            .arg(m.client_url())
            .arg("--advertise-client-urls")
            .arg(m.client_url())
            .arg("--listen-peer-urls")
            .arg(m.peer_url())
            .arg("--initial-advertise-peer-urls")
            .arg(m.peer_url())
            .arg("--initial-cluster")
            .arg(&self.initial_cluster)
            .arg("--initial-cluster-state")
            .arg(state)
            .arg("--initial-cluster-token")
            .arg(&self.token)
            .args(["--heartbeat-interval", heartbeat])
            .args(["--election-timeout", election])
            // The contract suite stores 8 MiB values.
            .args(["--max-request-bytes", "16777216"])
            .args(["--logger", "zap", "--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run `etcd` ({e}): install Debian's etcd-server (scripts/test.sh does)"
                )
            })?;
        self.members[i].child = Some(child);
        Ok(())
    }

    /// Waits until member `i` answers `/health` with a leader.
    async fn wait_healthy(&mut self, i: usize) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let m = &mut self.members[i];
            if let Some(child) = m.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    m.child = None;
                    return Err(format!(
                        "etcd member {} exited with {status}: {}",
                        m.name,
                        log_tail(&m.log)
                    ));
                }
            }
            if healthy(m.client_port).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "etcd member {} not healthy within {READY_TIMEOUT:?}: {}",
                    m.name,
                    log_tail(&m.log)
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every member's client URL.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(Member::client_url).collect()
    }

    /// Member `i`'s client URL.
    pub fn endpoint(&self, i: usize) -> String {
        self.members[i].client_url()
    }

    /// `kill -9` member `i`.
    pub fn kill(&mut self, i: usize) {
        self.members[i].kill();
    }

    /// Restarts member `i` on its data directory and ports, and waits until it is healthy
    /// (which needs a quorum).
    pub async fn restart(&mut self, i: usize) {
        self.restart_no_wait(i);
        self.wait_healthy(i)
            .await
            .unwrap_or_else(|e| panic!("restart member {i}: {e}"));
    }

    /// Restarts member `i` without waiting (for when it cannot be healthy alone).
    pub fn restart_no_wait(&mut self, i: usize) {
        assert!(
            self.members[i].child.is_none(),
            "member {i} is still running"
        );
        let state = if self.members.len() == 1 {
            "new"
        } else {
            "existing"
        };
        self.spawn(i, state)
            .unwrap_or_else(|e| panic!("restart member {i}: {e}"));
    }

    /// Waits until member `i` is healthy.
    pub async fn wait_member(&mut self, i: usize) {
        self.wait_healthy(i)
            .await
            .unwrap_or_else(|e| panic!("member {i}: {e}"));
    }

    /// The index of the current leader, from the members' `/metrics`-free view: each
    /// member's status over the v3 API.
    pub async fn leader(&self) -> usize {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for (i, m) in self.members.iter().enumerate() {
                if m.child.is_none() {
                    continue;
                }
                let Ok(mut client) = etcd_client::Client::connect([m.client_url()], None).await
                else {
                    continue;
                };
                if let Ok(Ok(status)) =
                    tokio::time::timeout(Duration::from_secs(1), client.status()).await
                {
                    if let Some(header) = status.header() {
                        if status.leader() != 0 && status.leader() == header.member_id() {
                            return i;
                        }
                    }
                }
            }
            assert!(Instant::now() < deadline, "no etcd leader");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until member `i` knows it has no leader: from then on it refuses every request
    /// (they carry "require leader") before proposing anything.
    pub async fn wait_no_leader(&self, i: usize) {
        let options = etcd_client::ConnectOptions::new().with_require_leader(true);
        let mut client = etcd_client::Client::connect([self.endpoint(i)], Some(options))
            .await
            .expect("etcd client");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let answer = tokio::time::timeout(Duration::from_secs(1), client.get("/", None)).await;
            if let Ok(Err(e)) = answer {
                if e.to_string().contains("no leader") {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "member {i} still has a leader");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Store settings for every member with the registry's keys under `prefix`, failing
    /// requests after `timeout`.
    pub fn config(&self, prefix: &str, timeout: Duration) -> EtcdConfig {
        let mut config = EtcdConfig::new(&self.endpoints());
        config.prefix = prefix.to_owned();
        config.request_timeout = timeout;
        config
    }

    /// An [`EtcdStore`] over every member with the registry's key layout under `prefix`.
    pub async fn store(&self, prefix: &str) -> EtcdStore {
        EtcdStore::connect(&self.endpoints(), prefix)
            .await
            .expect("etcd store")
    }

    /// An [`EtcdStore`] over every member that stores any key (`/t/a`...) under `prefix`:
    /// the shape the contract suite needs.
    pub async fn raw_store(&self, prefix: &str) -> EtcdStore {
        let mut config = EtcdConfig::new(&self.endpoints());
        config.prefix = prefix.to_owned();
        config.key_root = String::new();
        EtcdStore::connect_with(config).await.expect("etcd store")
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            m.kill();
        }
    }
}

/// Whether the etcd member at `port` answers `GET /health` with `"health":"true"`.
async fn healthy(port: u16) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .ok()?;
        let mut body = Vec::new();
        stream.read_to_end(&mut body).await.ok()?;
        Some(String::from_utf8_lossy(&body).contains("\"health\":\"true\""))
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The last lines of an etcd log, for failure messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
