//! `proxy-bench`: TCP through the service proxy against the same backend reached directly.
//!
//! In one process: an API server on a memory store ([`TestCluster`]), two local backends and
//! the proxy (`proxy::run`, in-process) serving two services on loopback cluster IPs. Then:
//!
//! 1. **short connections**: `--concurrency` clients each repeat connect, send a 64-byte
//!    request, read the backend's 64-byte answer to EOF (the backend closes), until
//!    `--connections` are done (after `--warmup` unmeasured ones): requests per second,
//!    first directly, then through the proxy; then `--latency-connections` made one at a
//!    time: the p50/p99 latency of one whole connection without queueing (`added_p99_us` is
//!    the difference of these p99s; the loaded p99s are reported as `loaded_*`);
//! 2. **throughput**: `--streams` long-lived connections read what a backend writes as fast
//!    as it can for `--throughput-secs`; MB/s (10^6 bytes), directly, then through the proxy;
//! 3. **localkube**: the `localkube` binary next to this one started with `--runtime fake`,
//!    timed until `GET /healthz` answers 200, and its resident memory after 2 s idle (null
//!    when the binary is not there; build it with `cargo build --release --bin localkube`).
//!
//! Progress goes to stderr; the last line on stdout is one JSON object with the figures.

use clap::Parser;
use kube_benches::{percentile_ms, round};
use kube_core::endpoints::{EndpointAddress, EndpointPort, EndpointSubset};
use kube_core::proxy::{ListenAddr, Protocol};
use kube_core::testing::ServiceBuilder;
use kube_core::{Endpoints, Service};
use kube_runtime::apiserver::ApiServerConfig;
use kube_runtime::client::ApiClient;
use kube_runtime::controller::Shutdown;
use kube_runtime::informer::SharedInformers;
use kube_runtime::proxy::{Proxier, ProxyConfig};
use kube_runtime::testing::TestCluster;
use serde_json::{json, Value};
use std::error::Error;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn Error + Send + Sync>;

/// Size of a request and of an answer on the short connections.
const MESSAGE: usize = 64;
/// Cluster IP of the request/response service.
const RR_IP: &str = "127.77.200.1";
/// Cluster IP of the streaming service.
const STREAM_IP: &str = "127.77.200.2";

/// Short TCP connections and long-lived throughput, directly and through the service proxy.
#[derive(Parser, Debug)]
#[command(name = "proxy-bench")]
struct Args {
    /// Measured short connections per path.
    #[arg(long, default_value_t = 20_000)]
    connections: usize,
    /// Unmeasured short connections before each measured run.
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    /// Concurrent clients of the rps runs.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Connections of the latency runs, made one at a time (queueing-free latency).
    #[arg(long, default_value_t = 3_000)]
    latency_connections: usize,
    /// Long-lived connections of the throughput runs.
    #[arg(long, default_value_t = 1)]
    streams: usize,
    /// Seconds of each throughput run.
    #[arg(long, default_value_t = 3)]
    throughput_secs: u64,
    /// Worker threads of the tokio runtime (backends, proxy and clients share it).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Forward with tokio's buffered copy instead of `splice(2)`.
    #[arg(long)]
    no_splice: bool,
    /// Port of both services (unprivileged; each has its own loopback IP).
    #[arg(long, default_value_t = 18080)]
    service_port: u16,
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let figures = rt.block_on(bench(&args))?;
    let localkube = localkube_figures();
    println!("{}", json_line(&figures, &localkube));
    Ok(())
}

/// The figures in the documented order, then the extra ones (serde_json sorts map keys).
fn json_line(figures: &Value, localkube: &Value) -> String {
    const ORDER: [&str; 9] = [
        "direct_rps",
        "proxy_rps",
        "ratio",
        "added_p99_us",
        "direct_mbps",
        "proxy_mbps",
        "throughput_ratio",
        "localkube_start_ms",
        "localkube_idle_rss_mb",
    ];
    let get = |k: &str| {
        figures
            .get(k)
            .or_else(|| localkube.get(k))
            .unwrap_or(&Value::Null)
    };
    let mut fields: Vec<String> = ORDER
        .iter()
        .map(|k| format!("{}:{}", json!(k), get(k)))
        .collect();
    if let Value::Object(o) = figures {
        for (k, v) in o.iter().filter(|(k, _)| !ORDER.contains(&k.as_str())) {
            fields.push(format!("{}:{v}", json!(k)));
        }
    }
    format!("{{{}}}", fields.join(","))
}

async fn bench(args: &Args) -> Result<Value, BoxError> {
    let rr_backend = start_backend(Backend::RequestResponse).await?;
    let stream_backend = start_backend(Backend::Stream).await?;

    // The services' loopback cluster IPs come from a loopback portal net.
    let cluster = TestCluster::builder()
        .server_config(ApiServerConfig {
            portal_net: "127.77.0.0/16".parse()?,
            ..ApiServerConfig::default()
        })
        .start()
        .await?;
    let client = cluster.in_process().clone();
    for (name, ip, backend) in [
        ("rr", RR_IP, rr_backend),
        ("stream", STREAM_IP, stream_backend),
    ] {
        create_service(&client, name, ip, args.service_port, backend).await?;
    }
    let shutdown = Shutdown::new();
    let proxier = Proxier::new(ProxyConfig {
        bind_interface: Some("lo".into()),
        splice: !args.no_splice && cfg!(target_os = "linux"),
        ..ProxyConfig::default()
    });
    let mut bound = proxier.listeners();
    let proxy_task = {
        let (client, shutdown) = (client.clone(), shutdown.clone());
        tokio::spawn(async move {
            let informers = SharedInformers::new(client.clone(), Default::default());
            let r = proxier.run_with(&informers, client, shutdown).await;
            informers.shutdown();
            r
        })
    };
    let wanted: Vec<ListenAddr> = [RR_IP, STREAM_IP]
        .iter()
        .map(|ip| {
            Ok::<_, std::net::AddrParseError>(ListenAddr {
                ip: ip.parse()?,
                port: args.service_port,
                protocol: Protocol::Tcp,
            })
        })
        .collect::<Result<_, _>>()?;
    tokio::time::timeout(
        Duration::from_secs(10),
        bound.wait_for(|b| wanted.iter().all(|w| b.contains(w))),
    )
    .await
    .map_err(|_| "the proxy did not bind its services within 10 s")??;
    let rr_proxy = SocketAddr::new(wanted[0].ip, args.service_port);
    let stream_proxy = SocketAddr::new(wanted[1].ip, args.service_port);

    eprintln!(
        "short connections, direct ({rr_backend}): {} clients",
        args.concurrency
    );
    let direct =
        short_connections(rr_backend, args.connections, args.concurrency, args.warmup).await?;
    eprintln!("  {direct:?}");
    eprintln!(
        "short connections, through the proxy ({rr_proxy}): {} clients",
        args.concurrency
    );
    let proxied =
        short_connections(rr_proxy, args.connections, args.concurrency, args.warmup).await?;
    eprintln!("  {proxied:?}");
    eprintln!("latency, one connection at a time, direct");
    let direct_lat =
        short_connections(rr_backend, args.latency_connections, 1, args.warmup / 10).await?;
    eprintln!("  {direct_lat:?}");
    eprintln!("latency, one connection at a time, through the proxy");
    let proxied_lat =
        short_connections(rr_proxy, args.latency_connections, 1, args.warmup / 10).await?;
    eprintln!("  {proxied_lat:?}");
    eprintln!("throughput, direct");
    let direct_mbps = throughput(stream_backend, args).await?;
    eprintln!("  {direct_mbps:.0} MB/s");
    eprintln!("throughput, through the proxy");
    let proxy_mbps = throughput(stream_proxy, args).await?;
    eprintln!("  {proxy_mbps:.0} MB/s");

    shutdown.trigger();
    proxy_task.await??;
    Ok(json!({
        "direct_rps": round(direct.rps, 0),
        "proxy_rps": round(proxied.rps, 0),
        "ratio": round(proxied.rps / direct.rps, 3),
        "added_p99_us": round(proxied_lat.p99_us - direct_lat.p99_us, 0),
        "direct_p50_us": round(direct_lat.p50_us, 0),
        "direct_p99_us": round(direct_lat.p99_us, 0),
        "proxy_p50_us": round(proxied_lat.p50_us, 0),
        "proxy_p99_us": round(proxied_lat.p99_us, 0),
        "splice": !args.no_splice && cfg!(target_os = "linux"),
        "loaded_direct_p99_us": round(direct.p99_us, 0),
        "loaded_proxy_p99_us": round(proxied.p99_us, 0),
        "direct_mbps": round(direct_mbps, 0),
        "proxy_mbps": round(proxy_mbps, 0),
        "throughput_ratio": round(proxy_mbps / direct_mbps, 3),
    }))
}

/// What a backend does with each connection.
#[derive(Clone, Copy)]
enum Backend {
    /// Reads a request, writes an answer of the same size, closes.
    RequestResponse,
    /// Writes as fast as the reader takes it, until the connection fails.
    Stream,
}

async fn start_backend(kind: Backend) -> Result<SocketAddr, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                match kind {
                    Backend::RequestResponse => {
                        let mut buf = [0u8; MESSAGE];
                        if s.read_exact(&mut buf).await.is_ok() {
                            let _ = s.write_all(&buf).await;
                        }
                    }
                    Backend::Stream => {
                        let chunk = vec![7u8; 256 * 1024];
                        while s.write_all(&chunk).await.is_ok() {}
                    }
                }
            });
        }
    });
    Ok(addr)
}

async fn create_service<C: ApiClient>(
    client: &C,
    name: &str,
    ip: &str,
    port: u16,
    backend: SocketAddr,
) -> Result<(), BoxError> {
    let svc: Service = ServiceBuilder::new(name)
        .selector("app", name)
        .port(i32::from(port), i32::from(backend.port()))
        .cluster_ip(ip)
        .build();
    client.create("default", &svc).await?;
    let mut eps = Endpoints::default();
    eps.metadata.name = name.into();
    eps.metadata.namespace = "default".into();
    eps.subsets = vec![EndpointSubset {
        addresses: vec![EndpointAddress {
            ip: backend.ip().to_string(),
            ..EndpointAddress::default()
        }],
        ports: vec![EndpointPort {
            name: String::new(),
            port: i32::from(backend.port()),
            protocol: "TCP".into(),
        }],
        ..EndpointSubset::default()
    }];
    client.create("default", &eps).await?;
    Ok(())
}

/// Figures of one short-connection run.
#[derive(Debug)]
struct Short {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
}

/// One connection: connect, request, answer to EOF.
async fn one_connection(addr: SocketAddr) -> Result<(), BoxError> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(&[1u8; MESSAGE]).await?;
    let mut buf = Vec::with_capacity(MESSAGE);
    s.read_to_end(&mut buf).await?;
    if buf.len() != MESSAGE {
        return Err(format!("short answer: {} bytes", buf.len()).into());
    }
    Ok(())
}

/// `total` measured connections from `concurrency` clients, after `warmup` unmeasured ones.
async fn short_connections(
    addr: SocketAddr,
    total: usize,
    concurrency: usize,
    warmup: usize,
) -> Result<Short, BoxError> {
    run_connections(addr, warmup, concurrency).await?;
    let start = Instant::now();
    let mut latencies = run_connections(addr, total, concurrency).await?;
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    Ok(Short {
        rps: latencies.len() as f64 / elapsed,
        p50_us: percentile_ms(&latencies, 0.5) * 1e3,
        p99_us: percentile_ms(&latencies, 0.99) * 1e3,
    })
}

/// `total` connections from `concurrency` clients; the latency of each.
async fn run_connections(
    addr: SocketAddr,
    total: usize,
    concurrency: usize,
) -> Result<Vec<Duration>, BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let next = next.clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let t = Instant::now();
                one_connection(addr).await?;
                mine.push(t.elapsed());
            }
            Ok::<_, BoxError>(mine)
        });
    }
    let mut all = Vec::with_capacity(total);
    while let Some(r) = tasks.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

/// MB/s read from `addr` over `args.streams` connections for `args.throughput_secs`.
async fn throughput(addr: SocketAddr, args: &Args) -> Result<f64, BoxError> {
    let bytes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    let mut streams = Vec::new();
    for _ in 0..args.streams.max(1) {
        streams.push(TcpStream::connect(addr).await?);
    }
    // A short unmeasured start, then the measured window.
    let warm = Duration::from_millis(300);
    let start = Instant::now();
    for mut s in streams {
        let (bytes, stop) = (bytes.clone(), stop.clone());
        tasks.spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            while !stop.load(Ordering::Relaxed) {
                let n = s.read(&mut buf).await?;
                if n == 0 {
                    return Err::<(), BoxError>("stream closed early".into());
                }
                if start.elapsed() >= warm {
                    bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            Ok(())
        });
    }
    tokio::time::sleep(warm).await;
    let measured = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.throughput_secs.max(1))).await;
    let total = bytes.load(Ordering::Relaxed);
    let secs = measured.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(total as f64 / secs / 1e6)
}

/// `localkube_start_ms` and `localkube_idle_rss_mb` (nulls when the binary is missing or
/// does not become healthy).
fn localkube_figures() -> Value {
    let nulls = json!({"localkube_start_ms": null, "localkube_idle_rss_mb": null});
    let exe = match std::env::current_exe() {
        Ok(p) => p.with_file_name("localkube"),
        Err(e) => {
            eprintln!("localkube: cannot find this executable: {e}");
            return nulls;
        }
    };
    if !exe.exists() {
        eprintln!(
            "localkube: {} not found (build it: cargo build --release --bin localkube); figures are null",
            exe.display()
        );
        return nulls;
    }
    match measure_localkube(&exe) {
        Ok((start_ms, rss_mb)) => {
            json!({"localkube_start_ms": round(start_ms, 1), "localkube_idle_rss_mb": round(rss_mb, 1)})
        }
        Err(e) => {
            eprintln!("localkube: {e}; figures are null");
            nulls
        }
    }
}

fn measure_localkube(exe: &std::path::Path) -> Result<(f64, f64), BoxError> {
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    eprintln!("localkube: starting {} on port {port}", exe.display());
    let start = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args(["--runtime", "fake", "--data-dir"])
        .arg(dir.path())
        .args(["--port", &port.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let result = (|| {
        let deadline = start + Duration::from_secs(10);
        loop {
            if healthz(port) {
                break;
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("localkube exited early: {status}").into());
            }
            if Instant::now() > deadline {
                return Err("localkube not healthy within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let start_ms = start.elapsed().as_secs_f64() * 1e3;
        std::thread::sleep(Duration::from_secs(2));
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .ok_or("no VmRSS in /proc/<pid>/status")?
            .parse()?;
        Ok::<_, BoxError>((start_ms, kb / 1024.0))
    })();
    // Our own child, stopped by its handle (its pid).
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Whether `GET /healthz` on `127.0.0.1:port` answers 200.
fn healthz(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
