//! `etcd-bench`: is the API server the bottleneck in front of etcd?
//!
//! In one run against the same etcd (`--etcd-servers URL[,URL...]`, or an etcd this program
//! starts on free loopback ports with a temporary data directory when none is given):
//!
//! 1. **raw**: `--requests` etcd-client puts of a realistic pod document (about 700 bytes)
//!    from `--concurrency` concurrent clients, each with its own etcd-client connection;
//! 2. **api**: `--requests` pod creates over HTTP/1.1 from `--concurrency` concurrent clients
//!    (one keep-alive connection each) to an in-process API server on an `EtcdStore` against
//!    the same etcd: decode, default, validate, encode, and a compare-and-swap transaction.
//!
//! Between the two, unless `--no-breakdown`, three phases show where a difference comes from:
//! the raw puts over one shared etcd-client connection (as `EtcdStore` sends), the create
//! transaction `EtcdStore` sends (put if `mod_revision == 0`) sent raw over one connection,
//! and creates through an in-process `EtcdStore` (no HTTP, no JSON). Each phase reports the CPU cores busy
//! (this program's threads by name, and etcd when this program started it).
//!
//! Each phase is preceded by `--warmup` unmeasured requests. Every key is written under a
//! fresh prefix (`/etcd-bench/<pid>-<time>/`), deleted at the end. Progress goes to stderr;
//! the last line on stdout is one JSON object:
//! `{"raw_puts_per_sec":…, "api_creates_per_sec":…, "ratio":…, "api_p99_ms":…, …}`.

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use kube_benches::{cpu_by_thread_name, cpu_delta, loadavg, percentile_ms, pod_json, round};
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::store::etcd_client::{Client, Compare, CompareOp, DeleteOptions, Txn, TxnOp};
use kube_runtime::store::EtcdStore;
use serde_json::json;
use std::collections::BTreeMap;
use std::error::Error;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn Error + Send + Sync>;

/// Raw etcd puts versus API-server pod creates against the same etcd.
#[derive(Parser, Debug)]
#[command(name = "etcd-bench")]
struct Args {
    /// Comma-separated etcd client URLs; without it an etcd is started on free loopback ports.
    #[arg(long = "etcd-servers", alias = "etcd_servers", value_delimiter = ',')]
    etcd_servers: Vec<String>,
    /// Measured requests per phase.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Unmeasured requests before each phase.
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    /// Concurrent clients in each phase.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Worker threads of the API server's tokio runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the clients' tokio runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// etcd-client connections the raw clients share (default: one per client).
    #[arg(long)]
    raw_connections: Option<usize>,
    /// Skip the breakdown phases (raw create transactions, in-process `EtcdStore` creates).
    #[arg(long)]
    no_breakdown: bool,
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let loadavg_at_start = loadavg();
    if args.concurrency == 0 || args.requests == 0 {
        return Err("--requests and --concurrency must be positive".into());
    }
    let (endpoints, _own_etcd) = if args.etcd_servers.is_empty() {
        let etcd = OwnEtcd::start()?;
        eprintln!(
            "started etcd at {} (data in {})",
            etcd.url,
            etcd.dir.path().display()
        );
        (vec![etcd.url.clone()], Some(etcd))
    } else {
        (args.etcd_servers.clone(), None)
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let root = format!("/etcd-bench/{}-{stamp}", std::process::id());
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .thread_name("apiserver")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..args.warmup + args.requests)
            .map(|i| Bytes::from(pod_json(i)))
            .collect(),
    );
    eprintln!(
        "etcd {}; {} clients; {} warmup + {} measured requests per phase; value {} bytes",
        endpoints.join(","),
        args.concurrency,
        args.warmup,
        args.requests,
        bodies[0].len()
    );

    // 1. Raw etcd-client puts.
    let connections = args.raw_connections.unwrap_or(args.concurrency);
    let raw = client_rt.block_on(raw_phase(
        &args,
        &endpoints,
        &root,
        bodies.clone(),
        RawOp::Put,
        connections,
    ))?;
    report("raw puts", &raw);

    // Where the difference goes: the store's create transaction sent raw, then creates
    // through the `EtcdStore` in-process (no HTTP, no JSON).
    let (one_conn, txn, direct) = if args.no_breakdown {
        (None, None, None)
    } else {
        // The same puts multiplexed over one connection, as `EtcdStore` sends its requests.
        let one_conn = client_rt.block_on(raw_phase(
            &args,
            &endpoints,
            &root,
            bodies.clone(),
            RawOp::Put,
            1,
        ))?;
        report("raw puts, one connection", &one_conn);
        let txn = client_rt.block_on(raw_phase(
            &args,
            &endpoints,
            &root,
            bodies.clone(),
            RawOp::CreateTxn,
            1,
        ))?;
        report("raw create txns, one connection", &txn);
        let direct = server_rt.block_on(store_creates(&args, &endpoints, &root, bodies.clone()))?;
        report("EtcdStore creates", &direct);
        (Some(one_conn), Some(txn), Some(direct))
    };

    // 2. Pod creates through the API server on an EtcdStore.
    let store = server_rt.block_on(EtcdStore::connect(&endpoints, &format!("{root}/registry")))?;
    let server = ApiServer::new(
        Arc::new(store.clone()),
        ApiServerConfig {
            port: 0,
            ..ApiServerConfig::default()
        },
    );
    let running = server_rt.block_on(server.start())?;
    let addr = running.addr;
    eprintln!("api server listening on {addr}");
    let api = client_rt.block_on(api_creates(&args, addr, bodies))?;
    report("api creates", &api);
    client_rt.block_on(running.shutdown());

    // Clean up the bench's keys (a shared etcd keeps only its history).
    let mut client = store.client().clone();
    let cleanup = server_rt.block_on(async {
        let deleted = client
            .delete(format!("{root}/"), Some(DeleteOptions::new().with_prefix()))
            .await;
        deleted.map(|r| r.deleted())
    });
    match cleanup {
        Ok(n) => eprintln!("deleted {n} bench keys under {root}/"),
        Err(e) => eprintln!("cleanup of {root}/ failed: {e}"),
    }
    drop(store);
    server_rt.shutdown_timeout(Duration::from_secs(5));

    let ratio = api.per_sec / raw.per_sec;
    let out = json!({
        "raw_puts_per_sec": round(raw.per_sec, 0),
        "api_creates_per_sec": round(api.per_sec, 0),
        "ratio": round(ratio, 3),
        "api_p99_ms": round(api.p99_ms, 2),
        "api_p50_ms": round(api.p50_ms, 2),
        "raw_p50_ms": round(raw.p50_ms, 2),
        "raw_p99_ms": round(raw.p99_ms, 2),
        "requests": args.requests,
        "concurrency": args.concurrency,
        "value_bytes": bodies_len(),
        "own_etcd": args.etcd_servers.is_empty(),
        "raw_cores": raw.cores,
        "api_cores": api.cores,
        "raw_puts_one_connection_per_sec": one_conn.as_ref().map(|p| round(p.per_sec, 0)),
        "raw_create_txns_one_connection_per_sec": txn.as_ref().map(|p| round(p.per_sec, 0)),
        "store_creates_per_sec": direct.as_ref().map(|p| round(p.per_sec, 0)),
        "store_creates_p99_ms": direct.as_ref().map(|p| round(p.p99_ms, 2)),
        "loadavg_at_start": loadavg_at_start,
        "loadavg_at_end": loadavg(),
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string(&out)?)?;
    stdout.flush()?;
    Ok(())
}

/// The size of the benchmark's pod document.
fn bodies_len() -> usize {
    pod_json(0).len()
}

/// Throughput and latency of one phase.
struct Phase {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU cores busy on average during the phase: this program's threads by name, and
    /// `etcd` when this program started it.
    cores: BTreeMap<String, f64>,
}

impl Phase {
    fn from(mut lat: Vec<Duration>, wall: Duration, cpu: CpuMark) -> Phase {
        lat.sort();
        Phase {
            per_sec: lat.len() as f64 / wall.as_secs_f64(),
            p50_ms: percentile_ms(&lat, 0.50),
            p99_ms: percentile_ms(&lat, 0.99),
            cores: cpu.cores(wall),
        }
    }
}

/// The etcd this program started, whose CPU time it reports.
static ETCD_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// CPU seconds used so far by this program's threads (by name) and the etcd it started.
struct CpuMark(BTreeMap<String, f64>);

impl CpuMark {
    fn now() -> CpuMark {
        let mut m = cpu_by_thread_name();
        if let Some(secs) = ETCD_PID.get().and_then(|pid| process_cpu_secs(*pid)) {
            m.insert("etcd".into(), secs);
        }
        CpuMark(m)
    }

    /// Average cores busy since this mark, over `wall`.
    fn cores(&self, wall: Duration) -> BTreeMap<String, f64> {
        cpu_delta(&self.0, &CpuMark::now().0)
            .into_iter()
            .map(|(k, v)| (k, round(v / wall.as_secs_f64(), 2)))
            .filter(|(_, v)| *v >= 0.01)
            .collect()
    }
}

/// CPU seconds (user + system) used by process `pid`, from `/proc/<pid>/stat`.
fn process_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Runs `body(client, i)` for every `i` in `range` from one task per client, each taking the
/// next index (the client is handed back by every request); returns the clients, every
/// request's latency and the wall time.
async fn drive<C, F, Fut>(
    clients: Vec<C>,
    range: Range<usize>,
    body: F,
) -> Result<(Vec<C>, Vec<Duration>, Duration), BoxError>
where
    C: Send + 'static,
    F: Fn(C, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<C, BoxError>> + Send,
{
    let next = Arc::new(AtomicUsize::new(range.start));
    let end = range.end;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients.len());
    for client in clients {
        let (next, body) = (next.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut client = client;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let t = Instant::now();
                client = body(client, i).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, BoxError>((client, lat))
        }));
    }
    let mut clients = Vec::with_capacity(tasks.len());
    let mut all = Vec::with_capacity(range.len());
    for t in tasks {
        let (c, lat) = t.await??;
        clients.push(c);
        all.extend(lat);
    }
    Ok((clients, all, start.elapsed()))
}

/// What a raw phase sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RawOp {
    /// A plain put.
    Put,
    /// The transaction `EtcdStore::create` sends: put if `mod_revision == 0`.
    CreateTxn,
}

/// Raw etcd-client requests (`op`) from `--concurrency` clients over `connections` etcd-client
/// connections.
async fn raw_phase(
    args: &Args,
    endpoints: &[String],
    root: &str,
    bodies: Arc<Vec<Bytes>>,
    op: RawOp,
    connections: usize,
) -> Result<Phase, BoxError> {
    let connections = connections.max(1);
    let mut shared = Vec::with_capacity(connections);
    for _ in 0..connections {
        // Each `EtcdStore` owns its own etcd-client `Client` (its own connection); the puts
        // below go straight through that client, not through the store.
        let store = EtcdStore::connect(endpoints, root).await?;
        let mut client = store.client().clone();
        client.status().await?;
        shared.push(client);
    }
    let clients: Vec<Client> = (0..args.concurrency)
        .map(|i| shared[i % connections].clone())
        .collect();
    let root = Arc::new(root.to_owned());
    let put = move |mut client: Client, i: usize| {
        let key = format!("{root}/raw-{op:?}-{connections}/{i:08}");
        let value = bodies[i].to_vec();
        async move {
            match op {
                RawOp::Put => {
                    client.put(key, value, None).await?;
                }
                RawOp::CreateTxn => {
                    let txn = Txn::new()
                        .when([Compare::mod_revision(key.clone(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(key, value, None)]);
                    if !client.txn(txn).await?.succeeded() {
                        return Err::<_, BoxError>("create transaction failed".into());
                    }
                }
            }
            Ok(client)
        }
    };
    let (clients, _, _) = drive(clients, 0..args.warmup, put.clone()).await?;
    let total = args.warmup + args.requests;
    let cpu = CpuMark::now();
    let (_, lat, wall) = drive(clients, args.warmup..total, put).await?;
    Ok(Phase::from(lat, wall, cpu))
}

/// Prints a phase's figures to stderr.
fn report(what: &str, p: &Phase) {
    eprintln!(
        "{what}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms; cores busy {:?}",
        p.per_sec, p.p50_ms, p.p99_ms, p.cores
    );
}

/// Creates through one in-process `EtcdStore` (what the API server does, minus HTTP and JSON).
async fn store_creates(
    args: &Args,
    endpoints: &[String],
    root: &str,
    bodies: Arc<Vec<Bytes>>,
) -> Result<Phase, BoxError> {
    use kube_core::Store;
    let store = Arc::new(EtcdStore::connect(endpoints, &format!("{root}/direct")).await?);
    store.current_revision().await?;
    let create = move |store: Arc<EtcdStore>, i: usize| {
        let value = bodies[i].to_vec();
        async move {
            store
                .create(&format!("/registry/pods/default/p{i:08}"), value)
                .await?;
            Ok(store)
        }
    };
    let clients: Vec<Arc<EtcdStore>> = (0..args.concurrency).map(|_| store.clone()).collect();
    let (clients, _, _) = drive(clients, 0..args.warmup, create.clone()).await?;
    let total = args.warmup + args.requests;
    let cpu = CpuMark::now();
    let (_, lat, wall) = drive(clients, args.warmup..total, create).await?;
    Ok(Phase::from(lat, wall, cpu))
}

/// One HTTP/1.1 keep-alive connection to the API server.
async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("client connection error: {e}");
        }
    });
    Ok(sender)
}

/// Phase 2: pod creates over HTTP, one connection per concurrent client.
async fn api_creates(
    args: &Args,
    addr: SocketAddr,
    bodies: Arc<Vec<Bytes>>,
) -> Result<Phase, BoxError> {
    let mut conns = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        conns.push(connect(addr).await?);
    }
    let host = Arc::new(addr.to_string());
    let create = move |mut conn: SendRequest<Full<Bytes>>, i: usize| {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/namespaces/default/pods")
            .header(HOST, host.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(bodies[i].clone()));
        async move {
            conn.ready().await?;
            let resp = conn.send_request(req?).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            if status != StatusCode::CREATED {
                return Err::<_, BoxError>(
                    format!("create #{i}: {status}: {}", String::from_utf8_lossy(&body)).into(),
                );
            }
            Ok(conn)
        }
    };
    let (conns, _, _) = drive(conns, 0..args.warmup, create.clone()).await?;
    let total = args.warmup + args.requests;
    let cpu = CpuMark::now();
    let (_, lat, wall) = drive(conns, args.warmup..total, create).await?;
    Ok(Phase::from(lat, wall, cpu))
}

/// An etcd this program started (free loopback ports, temporary data directory), killed
/// by process id on drop.
struct OwnEtcd {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl OwnEtcd {
    fn start() -> Result<OwnEtcd, BoxError> {
        let free = || -> Result<u16, BoxError> {
            Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
        };
        let (client_port, peer_port) = (free()?, free()?);
        let dir = tempfile::Builder::new().prefix("etcd-bench-").tempdir()?;
        let url = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let log = std::fs::File::create(dir.path().join("etcd.log"))?;
        let child = Command::new("etcd")
            .args(["--name", "bench", "--data-dir"])
            .arg(dir.path().join("data"))
            .args([
                "--listen-client-urls",
                &url,
                "--advertise-client-urls",
                &url,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &format!("bench={peer}")])
            .args(["--logger", "zap", "--log-level", "warn"])
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| {
                format!("cannot run `etcd` ({e}); install etcd-server or pass --etcd-servers")
            })?;
        let _ = ETCD_PID.set(child.id());
        let mut etcd = OwnEtcd { child, url, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = etcd.child.try_wait()? {
                return Err(format!("etcd exited with {status}").into());
            }
            if health(client_port) {
                return Ok(etcd);
            }
            if Instant::now() > deadline {
                return Err("etcd did not become healthy within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OwnEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the etcd member at `port` reports itself healthy.
fn health(port: u16) -> bool {
    let check = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(b"GET /health HTTP/1.0\r\n\r\n")?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out.contains("\"health\":\"true\""))
    };
    check().unwrap_or(false)
}
