//! `apiserver-bench`: durable pod creates and large lists through the HTTP API server.
//!
//! Starts the API server in-process on an [`EmbeddedStore`] in a temporary directory (every
//! acknowledged create is fsynced, group-committed), then:
//!
//! 1. creates `--warmup` pods (not measured) and `--pods` pods (measured) over HTTP from
//!    `--concurrency` clients, each with its own keep-alive HTTP/1.1 connection, recording
//!    the latency of every request;
//! 2. makes sure `--list-size` pods exist in namespace `default` and times
//!    `GET /api/v1/namespaces/default/pods` until the whole body is received (median of
//!    `--list-runs`);
//! 3. measures baselines in the same process: `GET /healthz` at the same concurrency (raw
//!    HTTP), creates straight into a fresh `EmbeddedStore` through the `Store` trait (no
//!    HTTP, no JSON, no validation), creates through the `Registry` (defaulting, validation
//!    and encoding, no HTTP), a single-task commit latency, a raw `fdatasync` latency and an
//!    in-process breakdown of the list path.
//!
//! Server and clients run on separate tokio runtimes (threads named `apiserver` and
//! `bench-client`) so the CPU each side uses can be reported; both share the machine's cores.
//! Progress goes to stderr; the last line on stdout is one JSON object with the figures.

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use kube_benches::{
    cpu_by_thread_name, cpu_delta, loadavg, median_ms, percentile_ms, pod_json, round,
    runqueue_wait_secs,
};
use kube_core::{Pod, ResourceKind, Store};
use kube_runtime::apiserver::{ApiServer, ApiServerConfig};
use kube_runtime::registry::{ListOptions, Registry};
use kube_runtime::store::EmbeddedStore;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn Error + Send + Sync>;
type Conn<B> = SendRequest<B>;

/// Durable pod creates and 10k-pod lists through the HTTP API server on the embedded store.
#[derive(Parser, Debug)]
#[command(name = "apiserver-bench")]
struct Args {
    /// Measured pod creates.
    #[arg(long, default_value_t = 20_000)]
    pods: usize,
    /// Concurrent clients, each with its own keep-alive HTTP/1.1 connection.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Pods in the listed namespace (`default`); created unmeasured if the creates fall short.
    #[arg(long, default_value_t = 10_000)]
    list_size: usize,
    /// Unmeasured creates before the measured ones.
    #[arg(long, default_value_t = 1_000)]
    warmup: usize,
    /// Timed list requests; the median is reported.
    #[arg(long, default_value_t = 7)]
    list_runs: usize,
    /// Worker threads of the server's tokio runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the clients' tokio runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Requests of the raw HTTP baseline (`GET /healthz`).
    #[arg(long, default_value_t = 50_000)]
    http_baseline_requests: usize,
    /// Skip the in-process baselines (store, registry, fsync).
    #[arg(long)]
    no_baselines: bool,
    /// Run only one part, e.g. to count syscalls or profile it with `perf`: `http` (creates,
    /// list, healthz), `store` (store-only creates), `registry` (registry creates), `all`.
    #[arg(long, default_value = "all", value_parser = ["all", "http", "store", "registry"])]
    only: String,
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if args.concurrency == 0 || args.pods == 0 {
        return Err("--pods and --concurrency must be positive".into());
    }
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

    let mut out = BTreeMap::new();
    out.insert("loadavg_at_start".into(), json!(loadavg()));
    if matches!(args.only.as_str(), "all" | "http") {
        let dir = tempfile::tempdir()?;
        eprintln!("opening embedded store in {}", dir.path().display());
        let store = Arc::new(server_rt.block_on(EmbeddedStore::open(dir.path()))?);
        // Creates need their namespace (the API server creates `default` itself).
        let registry = kube_runtime::registry::Registry::new(store.clone());
        server_rt.block_on(registry.create("", kube_core::Namespace::named("bench")))?;
        let server = ApiServer::new(
            store.clone(),
            ApiServerConfig {
                port: 0,
                ..ApiServerConfig::default()
            },
        );
        let running = server_rt.block_on(server.clone().start())?;
        let addr = running.addr;
        eprintln!("api server listening on {addr}");
        out.extend(client_rt.block_on(api_benchmarks(&args, addr, &server, store.as_ref()))?);
        client_rt.block_on(running.shutdown());
        drop(server);
        drop(store);
    }
    server_rt.shutdown_timeout(Duration::from_secs(5));

    if !args.no_baselines && args.only != "http" {
        out.extend(client_rt.block_on(baselines(&args))?);
    }
    out.insert("loadavg_at_end".into(), json!(loadavg()));

    let line = serde_json::to_string(&Value::Object(out.into_iter().collect()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// Namespace of the `i`-th created pod: the first `list_size` go to `default` (the listed
/// namespace), the rest to `bench`, so the list returns exactly `list_size` pods.
fn namespace_of(i: usize, list_size: usize) -> &'static str {
    if i < list_size {
        "default"
    } else {
        "bench"
    }
}

/// The HTTP measurements: creates, list, healthz.
async fn api_benchmarks(
    args: &Args,
    addr: SocketAddr,
    server: &ApiServer,
    store: &EmbeddedStore,
) -> Result<BTreeMap<String, Value>, BoxError> {
    let mut out = BTreeMap::new();
    let measured_end = args.warmup + args.pods;
    let total = measured_end.max(args.list_size);
    let bodies: Arc<Vec<Bytes>> = Arc::new((0..total).map(|i| Bytes::from(pod_json(i))).collect());
    eprintln!(
        "pod body: {} bytes; {} connections; {} warmup + {} measured creates",
        bodies[0].len(),
        args.concurrency,
        args.warmup,
        args.pods
    );

    let mut conns = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        conns.push(connect::<Full<Bytes>>(addr).await?);
    }

    if args.warmup > 0 {
        let (c, lat, wall) =
            run_http_creates(conns, bodies.clone(), 0..args.warmup, args.list_size, addr).await?;
        conns = c;
        eprintln!(
            "warmup: {} creates in {:.2}s ({:.0}/s)",
            lat.len(),
            wall.as_secs_f64(),
            lat.len() as f64 / wall.as_secs_f64()
        );
    }

    let (cpu_before, wait_before) = (cpu_by_thread_name(), runqueue_wait_secs());
    let (c, mut lat, wall) = run_http_creates(
        conns,
        bodies.clone(),
        args.warmup..measured_end,
        args.list_size,
        addr,
    )
    .await?;
    let cpu = cpu_delta(&cpu_before, &cpu_by_thread_name());
    let wait = runqueue_wait_secs() - wait_before;
    conns = c;
    lat.sort();
    let creates_per_sec = lat.len() as f64 / wall.as_secs_f64();
    let (p50, p99) = (percentile_ms(&lat, 0.50), percentile_ms(&lat, 0.99));
    eprintln!(
        "creates: {} in {:.2}s = {:.0}/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        wall.as_secs_f64(),
        creates_per_sec,
        p50,
        percentile_ms(&lat, 0.90),
        p99,
        percentile_ms(&lat, 1.0)
    );
    let cores: BTreeMap<String, Value> = cpu
        .iter()
        .map(|(k, v)| (k.clone(), json!(round(v / wall.as_secs_f64(), 2))))
        .collect();
    eprintln!(
        "CPU cores busy during creates, by thread: {cores:?}; waiting for a CPU {:.2} threads on average",
        wait / wall.as_secs_f64()
    );
    let cpu_total: f64 = cpu.values().sum();
    out.insert(
        "cpu_us_per_create".into(),
        json!(round(cpu_total * 1e6 / lat.len() as f64, 1)),
    );
    out.insert(
        "runqueue_wait_threads_during_creates".into(),
        json!(round(wait / wall.as_secs_f64(), 2)),
    );
    out.insert("creates_per_sec".into(), json!(round(creates_per_sec, 0)));
    out.insert("p50_ms".into(), json!(round(p50, 3)));
    out.insert("p90_ms".into(), json!(round(percentile_ms(&lat, 0.90), 3)));
    out.insert("p99_ms".into(), json!(round(p99, 3)));
    out.insert("max_ms".into(), json!(round(percentile_ms(&lat, 1.0), 3)));
    out.insert("pods".into(), json!(args.pods));
    out.insert("warmup".into(), json!(args.warmup));
    out.insert("concurrency".into(), json!(args.concurrency));
    out.insert("pod_body_bytes".into(), json!(bodies[0].len()));
    out.insert(
        "cpu_cores_during_creates".into(),
        Value::Object(cores.into_iter().collect()),
    );

    if total > measured_end {
        let (c, lat, _) = run_http_creates(
            conns,
            bodies.clone(),
            measured_end..total,
            args.list_size,
            addr,
        )
        .await?;
        conns = c;
        eprintln!(
            "created {} more pods (unmeasured) so that {} can be listed",
            lat.len(),
            args.list_size
        );
    }
    drop(conns);

    // The list.
    let mut list_conn = connect::<Empty<Bytes>>(addr).await?;
    let path = "/api/v1/namespaces/default/pods";
    let (body, _, _) = get(&mut list_conn, addr, path).await?;
    let parsed: Value = serde_json::from_slice(&body)?;
    let n = parsed["items"].as_array().map_or(0, Vec::len);
    if n != args.list_size {
        return Err(format!("the list returned {n} pods, expected {}", args.list_size).into());
    }
    drop(parsed);
    let mut samples = Vec::with_capacity(args.list_runs);
    let (mut until_headers, mut transfer) = (Vec::new(), Vec::new());
    for _ in 0..args.list_runs.max(1) {
        let (_, headers_at, took) = get(&mut list_conn, addr, path).await?;
        samples.push(took);
        until_headers.push(headers_at);
        transfer.push(took - headers_at);
    }
    let list_ms = median_ms(&samples);
    let (headers_ms, transfer_ms) = (median_ms(&until_headers), median_ms(&transfer));
    eprintln!(
        "list of {n} pods ({:.1} MB): median {list_ms:.1} ms over {} runs ({:?}); \
         until response headers {headers_ms:.1} ms, body transfer {transfer_ms:.1} ms",
        body.len() as f64 / 1e6,
        samples.len(),
        samples
            .iter()
            .map(|d| round(d.as_secs_f64() * 1e3, 1))
            .collect::<Vec<_>>()
    );
    out.insert("list_10k_ms".into(), json!(round(list_ms, 2)));
    out.insert("list_size".into(), json!(n));
    out.insert("list_bytes".into(), json!(body.len()));

    // Where the list time goes, in-process on the server's own store and registry.
    let prefix = ResourceKind::Pods.namespace_prefix("default");
    let mut store_list = Vec::new();
    let mut registry_list = Vec::new();
    let mut encode = Vec::new();
    let mut drop_list = Vec::new();
    for _ in 0..args.list_runs.max(1) {
        let t = Instant::now();
        let raw = store.list(&prefix).await?;
        store_list.push(t.elapsed());
        drop(raw);
        let t = Instant::now();
        let list = server
            .registry()
            .list::<Pod>(Some("default"), &ListOptions::default())
            .await?;
        registry_list.push(t.elapsed());
        let t = Instant::now();
        let bytes = serde_json::to_vec(&list)?;
        encode.push(t.elapsed());
        let t = Instant::now();
        drop(list);
        drop_list.push(t.elapsed());
        drop(bytes);
    }
    let d = median_ms(&drop_list);
    let (s, r, e) = (
        median_ms(&store_list),
        median_ms(&registry_list),
        median_ms(&encode),
    );
    eprintln!(
        "list breakdown: in-process store.list {s:.2} ms, registry.list (store + JSON decode of every item) {r:.2} ms, \
         JSON encode of the list {e:.2} ms, dropping the decoded list {d:.2} ms; over HTTP: until headers {headers_ms:.2} ms, body transfer {transfer_ms:.2} ms"
    );
    out.insert(
        "list_breakdown_ms".into(),
        json!({
            "store_list": round(s, 2),
            "registry_list_decode": round(r - s, 2),
            "encode": round(e, 2),
            "drop_decoded": round(d, 2),
            "http_until_headers": round(headers_ms, 2),
            "http_body_transfer": round(transfer_ms, 2),
        }),
    );

    // Raw HTTP baseline: GET /healthz at the same concurrency.
    if args.http_baseline_requests > 0 {
        let mut conns = Vec::with_capacity(args.concurrency);
        for _ in 0..args.concurrency {
            conns.push(connect::<Empty<Bytes>>(addr).await?);
        }
        let next = Arc::new(AtomicUsize::new(0));
        let n = args.http_baseline_requests;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for mut conn in conns {
            let next = next.clone();
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    get(&mut conn, addr, "/healthz").await?;
                }
                Ok::<_, BoxError>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let rps = n as f64 / start.elapsed().as_secs_f64();
        eprintln!(
            "raw HTTP baseline: GET /healthz x{n} at {} connections = {rps:.0} req/s",
            args.concurrency
        );
        out.insert("baseline_http_rps".into(), json!(round(rps, 0)));
    }
    Ok(out)
}

/// Opens one keep-alive HTTP/1.1 connection.
async fn connect<B>(addr: SocketAddr) -> Result<Conn<B>, BoxError>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
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

/// A GET that waits for the whole body; returns it, the time from send until the response
/// headers arrived (the server sends them once the whole body is encoded) and until the last byte.
async fn get(
    conn: &mut Conn<Empty<Bytes>>,
    addr: SocketAddr,
    path: &str,
) -> Result<(Bytes, Duration, Duration), BoxError> {
    let req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(HOST, addr.to_string())
        .body(Empty::new())?;
    conn.ready().await?;
    let start = Instant::now();
    let resp = conn.send_request(req).await?;
    let headers_at = start.elapsed();
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    let took = start.elapsed();
    if status != StatusCode::OK {
        return Err(format!("GET {path}: {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok((body, headers_at, took))
}

/// Creates the pods with indices in `range` over `conns` (one task per connection, each
/// taking the next index); returns the connections, every request's latency and the wall time.
async fn run_http_creates(
    conns: Vec<Conn<Full<Bytes>>>,
    bodies: Arc<Vec<Bytes>>,
    range: Range<usize>,
    list_size: usize,
    addr: SocketAddr,
) -> Result<(Vec<Conn<Full<Bytes>>>, Vec<Duration>, Duration), BoxError> {
    let next = Arc::new(AtomicUsize::new(range.start));
    let end = range.end;
    let host = addr.to_string();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(conns.len());
    for mut conn in conns {
        let (next, bodies, host) = (next.clone(), bodies.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity((end - next.load(Ordering::Relaxed)) / 32 + 16);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let uri = format!("/api/v1/namespaces/{}/pods", namespace_of(i, list_size));
                let req = Request::builder()
                    .method(Method::POST)
                    .uri(uri)
                    .header(HOST, host.as_str())
                    .header(CONTENT_TYPE, "application/json")
                    .body(Full::new(bodies[i].clone()))?;
                conn.ready().await?;
                let t = Instant::now();
                let resp = conn.send_request(req).await?;
                let status = resp.status();
                let body = resp.into_body().collect().await?.to_bytes();
                lat.push(t.elapsed());
                if status != StatusCode::CREATED {
                    return Err::<_, BoxError>(
                        format!("create #{i}: {status}: {}", String::from_utf8_lossy(&body)).into(),
                    );
                }
            }
            Ok((conn, lat))
        }));
    }
    let mut conns = Vec::with_capacity(tasks.len());
    let mut all = Vec::with_capacity(range.len());
    for t in tasks {
        let (conn, lat) = t.await??;
        conns.push(conn);
        all.extend(lat);
    }
    Ok((conns, all, start.elapsed()))
}

/// Results of one concurrent create run against an in-process target.
struct RunStats {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Runs `n` creates from `concurrency` tasks; `op(i)` performs the `i`-th.
async fn run_concurrent<F, Fut>(
    n: Range<usize>,
    concurrency: usize,
    op: F,
) -> Result<RunStats, BoxError>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(n.start));
    let end = n.end;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let t = Instant::now();
                op(i).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, BoxError>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let wall = start.elapsed();
    all.sort();
    Ok(RunStats {
        per_sec: all.len() as f64 / wall.as_secs_f64(),
        p50_ms: percentile_ms(&all, 0.5),
        p99_ms: percentile_ms(&all, 0.99),
    })
}

/// What the API server stores for the first benchmark pod (defaulted, with uid and
/// timestamps), so the store baseline writes values of the same size.
async fn stored_pod_value() -> Result<Vec<u8>, BoxError> {
    let store = Arc::new(kube_runtime::store::MemoryStore::new());
    let registry = Registry::new(store.clone());
    let pod: Pod = serde_json::from_str(&pod_json(0))?;
    registry.create("default", pod).await?;
    let kv = store
        .get(&ResourceKind::Pods.key("default", "bench-000000"))
        .await?
        .ok_or("the created pod is missing from the store")?;
    Ok(kv.value.to_vec())
}

/// The in-process baselines: store creates, registry creates, single-task commit, fsync.
async fn baselines(args: &Args) -> Result<BTreeMap<String, Value>, BoxError> {
    let mut out = BTreeMap::new();
    let (warm, end) = (args.warmup, args.warmup + args.pods);
    let value = Arc::new(stored_pod_value().await?);
    out.insert("stored_pod_bytes".into(), json!(value.len()));

    if matches!(args.only.as_str(), "all" | "store") {
        // Store only: the same creates, values of the size the API stores, no HTTP/JSON/validation.
        let dir = tempfile::tempdir()?;
        let store = Arc::new(EmbeddedStore::open(dir.path()).await?);
        let op = {
            let (store, value) = (store.clone(), value.clone());
            move |i: usize| {
                let (store, value) = (store.clone(), value.clone());
                async move {
                    store
                        .create(
                            &ResourceKind::Pods.key("default", &format!("bench-{i:06}")),
                            value.to_vec(),
                        )
                        .await?;
                    Ok(())
                }
            }
        };
        run_concurrent(0..warm, args.concurrency, op.clone()).await?;
        let (cpu_before, wait_before) = (cpu_by_thread_name(), runqueue_wait_secs());
        let t = Instant::now();
        let s = run_concurrent(warm..end, args.concurrency, op).await?;
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_delta(&cpu_before, &cpu_by_thread_name());
        let writer_cpu = cpu.get("store-writer").copied().unwrap_or(0.0);
        let total_cpu: f64 = cpu.values().sum();
        let wait = runqueue_wait_secs() - wait_before;
        eprintln!(
            "baseline: EmbeddedStore::create x{} from {} tasks = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms; \
             CPU {:.2} cores (store-writer {:.2}); waiting for a CPU {:.2} threads on average",
            args.pods,
            args.concurrency,
            s.per_sec,
            s.p50_ms,
            s.p99_ms,
            total_cpu / wall,
            writer_cpu / wall,
            wait / wall
        );
        out.insert(
            "baseline_store_creates_per_sec".into(),
            json!(round(s.per_sec, 0)),
        );
        out.insert("baseline_store_p50_ms".into(), json!(round(s.p50_ms, 3)));
        out.insert("baseline_store_p99_ms".into(), json!(round(s.p99_ms, 3)));
        out.insert(
            "baseline_store_cpu_us_per_create".into(),
            json!(round(total_cpu * 1e6 / args.pods as f64, 1)),
        );
        out.insert(
            "baseline_store_cpu_cores".into(),
            json!(round(total_cpu / wall, 2)),
        );
        drop(store);

        // Single task: every create is its own commit (batch of one).
        let dir = tempfile::tempdir()?;
        let store = Arc::new(EmbeddedStore::open(dir.path()).await?);
        let op = {
            let (store, value) = (store.clone(), value.clone());
            move |i: usize| {
                let (store, value) = (store.clone(), value.clone());
                async move {
                    store
                        .create(
                            &ResourceKind::Pods.key("default", &format!("single-{i:06}")),
                            value.to_vec(),
                        )
                        .await?;
                    Ok(())
                }
            }
        };
        let s = run_concurrent(0..500, 1, op).await?;
        eprintln!(
            "baseline: EmbeddedStore::create from 1 task = {:.0}/s; p50 {:.3} ms (one commit per create)",
            s.per_sec, s.p50_ms
        );
        out.insert(
            "single_task_store_creates_per_sec".into(),
            json!(round(s.per_sec, 0)),
        );
        out.insert(
            "single_task_commit_p50_ms".into(),
            json!(round(s.p50_ms, 3)),
        );
        drop(store);
    }

    if matches!(args.only.as_str(), "all" | "registry") {
        // Registry: defaulting, validation, encoding and the store; pods are decoded beforehand.
        let dir = tempfile::tempdir()?;
        let store: Arc<EmbeddedStore> = Arc::new(EmbeddedStore::open(dir.path()).await?);
        let registry = Arc::new(Registry::new(store.clone()));
        let pods: Arc<Vec<Pod>> = Arc::new(
            (0..end)
                .map(|i| serde_json::from_str::<Pod>(&pod_json(i)))
                .collect::<Result<_, _>>()?,
        );
        let op = move |i: usize| {
            let (registry, pods) = (registry.clone(), pods.clone());
            async move {
                registry.create("default", pods[i].clone()).await?;
                Ok(())
            }
        };
        run_concurrent(0..warm, args.concurrency, op.clone()).await?;
        let (cpu_before, wait_before) = (cpu_by_thread_name(), runqueue_wait_secs());
        let t = Instant::now();
        let s = run_concurrent(warm..end, args.concurrency, op).await?;
        let wall = t.elapsed().as_secs_f64();
        let total_cpu: f64 = cpu_delta(&cpu_before, &cpu_by_thread_name()).values().sum();
        let wait = runqueue_wait_secs() - wait_before;
        eprintln!(
            "baseline: Registry::create<Pod> x{} from {} tasks = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms; \
             CPU {:.2} cores; waiting for a CPU {:.2} threads on average",
            args.pods,
            args.concurrency,
            s.per_sec,
            s.p50_ms,
            s.p99_ms,
            total_cpu / wall,
            wait / wall
        );
        out.insert(
            "baseline_registry_creates_per_sec".into(),
            json!(round(s.per_sec, 0)),
        );
        out.insert("baseline_registry_p99_ms".into(), json!(round(s.p99_ms, 3)));
        out.insert(
            "baseline_registry_cpu_us_per_create".into(),
            json!(round(total_cpu * 1e6 / args.pods as f64, 1)),
        );
        out.insert(
            "baseline_registry_cpu_cores".into(),
            json!(round(total_cpu / wall, 2)),
        );
        drop(store);
    }

    if args.only == "all" {
        // The disk itself: append 4 KiB and fdatasync.
        let dir = tempfile::tempdir()?;
        let fsync =
            tokio::task::spawn_blocking(move || -> Result<Vec<Duration>, std::io::Error> {
                let mut f = std::fs::File::create(dir.path().join("fsync-probe"))?;
                let block = vec![7u8; 4096];
                let mut samples = Vec::new();
                for _ in 0..200 {
                    f.write_all(&block)?;
                    let t = Instant::now();
                    f.sync_data()?;
                    samples.push(t.elapsed());
                }
                Ok(samples)
            })
            .await??;
        let fsync_ms = median_ms(&fsync);
        eprintln!("disk: 4 KiB append + fdatasync median {fsync_ms:.3} ms");
        out.insert("fdatasync_ms".into(), json!(round(fsync_ms, 3)));
    }
    Ok(out)
}
