//! The service proxy on an in-process cluster, with loopback cluster IPs (127.77.x.y, bound
//! without root) and echo backends on 127.0.0.1 that answer with their own name: round-robin,
//! two services on one port number, refused endpoints skipped, endpoint changes that keep
//! established connections, deleted services, a port already taken, UDP sessions.
//!
//! Sockets need real time; every wait has a deadline (`eventually`).

use crate::support::eventually;
use kube_core::endpoints::{EndpointAddress, EndpointPort, EndpointSubset};
use kube_core::proxy::{ListenAddr, Protocol};
use kube_core::service::ServicePort;
use kube_core::testing::ServiceBuilder;
use kube_core::{Endpoints, Event, Service};
use kube_runtime::apiserver::ApiServerConfig;
use kube_runtime::client::{ApiClient, InProcessClient, ListParams};
use kube_runtime::controller::Shutdown;
use kube_runtime::informer::SharedInformers;
use kube_runtime::proxy::{Proxier, ProxyConfig, REASON_FAILED_TO_BIND};
use kube_runtime::testing::TestCluster;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const NS: &str = "default";
/// One unprivileged port number every test's services share (each test has its own IPs).
const PORT: u16 = 18080;

struct Env {
    cluster: TestCluster,
    shutdown: Shutdown,
    bound: watch::Receiver<BTreeSet<ListenAddr>>,
    task: Option<JoinHandle<()>>,
}

impl Env {
    async fn start() -> Env {
        Env::with_config(ProxyConfig::default()).await
    }

    async fn with_config(config: ProxyConfig) -> Env {
        // Loopback cluster IPs (127.77.x.y): bound at once, no root, no traffic off this host.
        let cluster = TestCluster::builder()
            .server_config(ApiServerConfig {
                portal_net: "127.77.0.0/16".parse().expect("range"),
                ..ApiServerConfig::default()
            })
            .start()
            .await
            .expect("cluster");
        let shutdown = Shutdown::new();
        let proxier = Proxier::new(ProxyConfig {
            bind_interface: Some("lo".into()),
            ..config
        });
        let bound = proxier.listeners();
        let client = cluster.in_process().clone();
        let sd = shutdown.clone();
        let task = tokio::spawn(async move {
            let informers = SharedInformers::new(client.clone(), Default::default());
            proxier
                .run_with(&informers, client, sd)
                .await
                .expect("proxy runs");
            informers.shutdown();
        });
        Env {
            cluster,
            shutdown,
            bound,
            task: Some(task),
        }
    }

    fn client(&self) -> &InProcessClient {
        self.cluster.in_process()
    }

    /// Creates a TCP service `name` on `ip:PORT` with endpoints at `backends`.
    async fn service(&self, name: &str, ip: &str, backends: &[SocketAddr]) {
        let svc = ServiceBuilder::new(name)
            .selector("app", name)
            .port(PORT as i32, 80)
            .cluster_ip(ip)
            .build();
        self.client()
            .create(NS, &svc)
            .await
            .expect("create service");
        self.set_endpoints(name, backends, "TCP").await;
    }

    /// Creates or replaces the endpoints of `name`.
    async fn set_endpoints(&self, name: &str, backends: &[SocketAddr], protocol: &str) {
        let mut eps = Endpoints::default();
        eps.metadata.name = name.into();
        eps.metadata.namespace = NS.into();
        eps.subsets = backends
            .iter()
            .map(|b| EndpointSubset {
                addresses: vec![EndpointAddress {
                    ip: b.ip().to_string(),
                    ..EndpointAddress::default()
                }],
                ports: vec![EndpointPort {
                    name: String::new(),
                    port: b.port() as i32,
                    protocol: protocol.into(),
                }],
                ..EndpointSubset::default()
            })
            .collect();
        match self.client().get::<Endpoints>(NS, name).await {
            Ok(old) => {
                eps.metadata.resource_version = old.metadata.resource_version;
                self.client()
                    .update(NS, &eps)
                    .await
                    .expect("update endpoints");
            }
            Err(_) => {
                self.client()
                    .create(NS, &eps)
                    .await
                    .expect("create endpoints");
            }
        }
    }

    /// Waits until the proxy reports `addr` bound (or, with `false`, not bound).
    async fn wait_bound(&mut self, addr: ListenAddr, want: bool) {
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            self.bound.wait_for(|b| b.contains(&addr) == want),
        )
        .await;
        assert!(
            matches!(r, Ok(Ok(_))),
            "{addr} never became {}",
            if want { "bound" } else { "unbound" }
        );
    }

    async fn stop(mut self) {
        self.shutdown.trigger();
        if let Some(t) = self.task.take() {
            t.await.expect("proxy task");
        }
        assert!(self.bound.borrow().is_empty(), "listeners left after stop");
    }
}

fn tcp(ip: &str) -> ListenAddr {
    ListenAddr {
        ip: ip.parse().expect("ip"),
        port: PORT,
        protocol: Protocol::Tcp,
    }
}

fn sa(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().expect("ip"), PORT)
}

/// A TCP backend on 127.0.0.1 answering each line `x` with `name:x`, until aborted.
async fn tcp_backend(name: &'static str) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind backend");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if w.write_all(format!("{name}:{line}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (addr, task)
}

/// A loopback address nothing listens on (a listener bound, then closed).
async fn refused_backend() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr")
}

/// An open connection speaking the backends' line protocol.
struct Conn {
    lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        let (r, w) = s.into_split();
        Ok(Conn {
            lines: BufReader::new(r).lines(),
            w,
        })
    }

    /// Sends `msg` and returns the backend's name from its answer.
    async fn ask(&mut self, msg: &str) -> std::io::Result<String> {
        self.w.write_all(format!("{msg}\n").as_bytes()).await?;
        let line = tokio::time::timeout(Duration::from_secs(5), self.lines.next_line())
            .await
            .map_err(|_| std::io::Error::other("no answer within 5 s"))??
            .ok_or_else(|| std::io::Error::other("closed without an answer"))?;
        let (name, echo) = line
            .split_once(':')
            .ok_or_else(|| std::io::Error::other(format!("bad answer {line:?}")))?;
        assert_eq!(echo, msg, "the backend echoes the message");
        Ok(name.to_string())
    }
}

/// One request on a fresh connection.
async fn ask(addr: SocketAddr) -> std::io::Result<String> {
    Conn::open(addr).await?.ask("hi").await
}

#[tokio::test]
async fn round_robin_reaches_every_backend_in_turn() {
    let mut env = Env::start().await;
    let backends = [
        tcp_backend("a").await,
        tcp_backend("b").await,
        tcp_backend("c").await,
    ];
    let addrs: Vec<SocketAddr> = backends.iter().map(|b| b.0).collect();
    env.service("web", "127.77.1.1", &addrs).await;
    env.wait_bound(tcp("127.77.1.1"), true).await;

    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(
            ask(sa("127.77.1.1"))
                .await
                .expect("answer through the proxy"),
        );
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &seen {
        *counts.entry(n.as_str()).or_default() += 1;
    }
    assert_eq!(
        counts,
        BTreeMap::from([("a", 2), ("b", 2), ("c", 2)]),
        "{seen:?}"
    );
    assert_eq!(seen[..3], seen[3..], "the same order every round: {seen:?}");
    env.stop().await;
}

#[tokio::test]
async fn two_services_share_one_port_number_on_their_own_ips() {
    let mut env = Env::start().await;
    let (a, _ta) = tcp_backend("a").await;
    let (b, _tb) = tcp_backend("b").await;
    env.service("first", "127.77.2.1", &[a]).await;
    env.service("second", "127.77.2.2", &[b]).await;
    env.wait_bound(tcp("127.77.2.1"), true).await;
    env.wait_bound(tcp("127.77.2.2"), true).await;
    for _ in 0..3 {
        assert_eq!(ask(sa("127.77.2.1")).await.expect("first"), "a");
        assert_eq!(ask(sa("127.77.2.2")).await.expect("second"), "b");
    }
    env.stop().await;
}

#[tokio::test]
async fn refused_endpoints_are_skipped_so_clients_see_no_error() {
    let mut env = Env::start().await;
    let dead1 = refused_backend().await;
    let (a, _ta) = tcp_backend("a").await;
    let dead2 = refused_backend().await;
    env.service("web", "127.77.3.1", &[dead1, a, dead2]).await;
    env.wait_bound(tcp("127.77.3.1"), true).await;
    for i in 0..9 {
        let got = ask(sa("127.77.3.1")).await;
        assert_eq!(got.ok().as_deref(), Some("a"), "request {i}");
    }
    env.stop().await;
}

#[tokio::test]
async fn endpoint_changes_keep_established_connections() {
    let mut env = Env::start().await;
    let (a, _ta) = tcp_backend("a").await;
    let (b, _tb) = tcp_backend("b").await;
    env.service("web", "127.77.4.1", &[a]).await;
    env.wait_bound(tcp("127.77.4.1"), true).await;
    let mut established = Conn::open(sa("127.77.4.1")).await.expect("connect");
    assert_eq!(established.ask("one").await.expect("first answer"), "a");

    env.set_endpoints("web", &[b], "TCP").await;
    eventually("new connections to reach b", 10, || async {
        (ask(sa("127.77.4.1")).await.ok()? == "b").then_some(())
    })
    .await;
    assert_eq!(
        established
            .ask("two")
            .await
            .expect("established still answers"),
        "a"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_deleted_service_closes_its_listener_and_a_new_ip_rebinds() {
    let mut env = Env::start().await;
    let (a, _ta) = tcp_backend("a").await;
    env.service("web", "127.77.5.1", &[a]).await;
    env.service("other", "127.77.5.2", &[a]).await;
    env.wait_bound(tcp("127.77.5.1"), true).await;
    assert_eq!(ask(sa("127.77.5.1")).await.expect("before delete"), "a");

    env.client()
        .delete::<Service>(NS, "web")
        .await
        .expect("delete");
    env.wait_bound(tcp("127.77.5.1"), false).await;
    let err = TcpStream::connect(sa("127.77.5.1")).await.err();
    assert_eq!(
        err.map(|e| e.kind()),
        Some(std::io::ErrorKind::ConnectionRefused)
    );

    // A changed port: the old one closes, the new one opens.
    let mut svc = env
        .client()
        .get::<Service>(NS, "other")
        .await
        .expect("get other");
    svc.spec.ports = vec![ServicePort {
        port: PORT as i32 + 1,
        ..ServicePort::default()
    }];
    env.client().update(NS, &svc).await.expect("update");
    let moved = ListenAddr {
        port: PORT + 1,
        ..tcp("127.77.5.2")
    };
    env.wait_bound(moved, true).await;
    env.wait_bound(tcp("127.77.5.2"), false).await;
    let answer = ask(SocketAddr::new(moved.ip, moved.port)).await;
    assert_eq!(answer.ok().as_deref(), Some("a"));
    env.stop().await;
}

#[tokio::test]
async fn a_taken_port_is_reported_on_its_service_retried_and_others_keep_working() {
    let mut env = Env::with_config(ProxyConfig {
        bind_retry: kube_core::backoff::Backoff::new(
            Duration::from_millis(50),
            Duration::from_millis(200),
        ),
        ..ProxyConfig::default()
    })
    .await;
    let squatter = std::net::TcpListener::bind(sa("127.77.6.1")).expect("take the port first");
    let (a, _ta) = tcp_backend("a").await;
    env.service("taken", "127.77.6.1", &[a]).await;
    env.service("free", "127.77.6.2", &[a]).await;
    env.wait_bound(tcp("127.77.6.2"), true).await;
    assert_eq!(ask(sa("127.77.6.2")).await.expect("free service"), "a");

    let event = eventually("a FailedToBind event", 10, || async {
        let events = env
            .client()
            .list::<Event>(Some(NS), &ListParams::default())
            .await
            .ok()?;
        events
            .items
            .into_iter()
            .find(|e| e.reason == REASON_FAILED_TO_BIND)
    })
    .await;
    assert_eq!(event.involved_object.kind, "Service");
    assert_eq!(event.involved_object.name, "taken");
    assert_eq!(event.type_, "Warning");
    assert!(
        event.message.contains("127.77.6.1:18080"),
        "{}",
        event.message
    );
    assert_eq!(event.source.component, "proxy");
    assert!(!env.bound.borrow().contains(&tcp("127.77.6.1")));

    // Once the port is free, a retry binds it.
    drop(squatter);
    env.wait_bound(tcp("127.77.6.1"), true).await;
    assert_eq!(ask(sa("127.77.6.1")).await.expect("taken service"), "a");
    let events = env
        .client()
        .list::<Event>(Some(NS), &ListParams::default())
        .await
        .expect("events");
    let reported = events
        .items
        .iter()
        .filter(|e| e.reason == REASON_FAILED_TO_BIND)
        .count();
    assert_eq!(
        reported, 1,
        "one event per failure streak, not one per retry"
    );
    env.stop().await;
}

/// A UDP backend on 127.0.0.1 answering every datagram with its name.
async fn udp_backend(name: &'static str) -> (SocketAddr, JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let addr = socket.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((_, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(name.as_bytes(), from).await;
        }
    });
    (addr, task)
}

/// Sends a datagram to `to` and returns the answer, if one comes within 2 s.
async fn udp_ask(client: &UdpSocket, to: SocketAddr) -> Option<String> {
    client.send_to(b"hi", to).await.ok()?;
    let mut buf = [0u8; 1500];
    let (n, from) = tokio::time::timeout(Duration::from_secs(2), client.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    assert_eq!(from, to, "the answer comes from the service address");
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn udp_sessions_stick_to_one_endpoint_until_idle() {
    let idle = Duration::from_millis(300);
    let mut env = Env::with_config(ProxyConfig {
        udp_idle_timeout: idle,
        ..ProxyConfig::default()
    })
    .await;
    let (a, _ta) = udp_backend("a").await;
    let (b, _tb) = udp_backend("b").await;
    let (c, _tc) = udp_backend("c").await;
    let mut svc = ServiceBuilder::new("dns")
        .selector("app", "dns")
        .cluster_ip("127.77.7.1")
        .build();
    svc.spec.ports = vec![ServicePort {
        protocol: "UDP".into(),
        port: PORT as i32,
        ..ServicePort::default()
    }];
    env.client().create(NS, &svc).await.expect("service");
    env.set_endpoints("dns", &[a, b, c], "UDP").await;
    let addr = ListenAddr {
        protocol: Protocol::Udp,
        ..tcp("127.77.7.1")
    };
    env.wait_bound(addr, true).await;

    let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
    let first = udp_ask(&client, sa("127.77.7.1"))
        .await
        .expect("first answer");
    assert_eq!(first, "a", "the first session goes to the first endpoint");
    for _ in 0..3 {
        assert_eq!(
            udp_ask(&client, sa("127.77.7.1")).await.as_deref(),
            Some("a"),
            "same client, same session"
        );
    }
    // Another client gets its own session, on the next endpoint.
    let other = UdpSocket::bind("127.0.0.1:0").await.expect("client 2");
    assert_eq!(
        udp_ask(&other, sa("127.77.7.1")).await.as_deref(),
        Some("b")
    );

    // After the idle timeout the first client's session is gone: a new one starts, on the
    // endpoint after b (waiting is the point here: the sessions expire on real time).
    tokio::time::sleep(idle * 3).await;
    assert_eq!(
        udp_ask(&client, sa("127.77.7.1")).await.as_deref(),
        Some("c"),
        "a fresh session takes the next endpoint in turn"
    );
    env.stop().await;
}

/// A TCP backend that reads to EOF, then answers the byte count and a checksum, and closes.
async fn counting_backend() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind backend");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut data = Vec::new();
                if s.read_to_end(&mut data).await.is_ok() {
                    let answer = format!("{} {}", data.len(), checksum(&data));
                    let _ = s.write_all(answer.as_bytes()).await;
                }
            });
        }
    });
    (addr, task)
}

fn checksum(data: &[u8]) -> u64 {
    data.iter()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)))
}

#[tokio::test]
async fn half_close_and_large_transfers_pass_through_intact_with_splice() {
    half_close_and_large_transfers(true, "127.77.9.1").await;
}

#[tokio::test]
async fn half_close_and_large_transfers_pass_through_intact_with_buffered_copy() {
    half_close_and_large_transfers(false, "127.77.9.2").await;
}

async fn half_close_and_large_transfers(splice: bool, ip: &str) {
    let mut env = Env::with_config(ProxyConfig {
        splice,
        ..ProxyConfig::default()
    })
    .await;
    let (backend, _t) = counting_backend().await;
    env.service("bulk", ip, &[backend]).await;
    env.wait_bound(tcp(ip), true).await;

    for size in [0usize, 1, 100_000, 3 * 1024 * 1024 + 7] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let mut s = TcpStream::connect(sa(ip)).await.expect("connect");
        s.write_all(&data).await.expect("send");
        // Half-close: the backend only answers after reading EOF.
        s.shutdown().await.expect("shutdown write");
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut answer))
            .await
            .expect("answer within 10 s")
            .expect("read answer");
        assert_eq!(
            answer,
            format!("{size} {}", checksum(&data)),
            "{size} bytes"
        );
    }
    env.stop().await;
}
