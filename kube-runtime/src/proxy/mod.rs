//! The service proxy: every service port served on the service's own cluster IP, each new
//! connection (UDP: each client) forwarded to the service's endpoints round-robin.
//!
//! Built on the toolkit: shared caches of services and endpoints ([`SharedInformers`]). Every
//! change to either (and every due bind retry) recomputes the wanted listeners with the pure
//! [`desired_listeners`] and reconciles, level-triggered:
//! - the balancer ([`LoadBalancerRR`]) gets the new endpoints; new connections use them,
//!   established ones are left alone;
//! - a listener whose address (cluster IP, port, protocol) is no longer wanted, or now serves
//!   another service port, is closed (a changed IP or port thus rebinds);
//! - a wanted address not yet bound is bound directly on `clusterIP:port`, so two services
//!   can share a port number. An address outside 127/8 that the host lacks is first added as
//!   a host address to [`ProxyConfig::bind_interface`] (see [`addresses`]) and removed again
//!   when no listener needs it or the proxy stops;
//! - a failed bind (not root, port taken) is logged, reported once per failure streak as a
//!   `FailedToBind` warning Event on the service, and retried with backoff; it never stops
//!   the proxy or the other listeners.
//!
//! [`Proxier::listeners`] publishes the bound addresses for tests and embedders.

pub mod addresses;
#[cfg(target_os = "linux")]
mod splice;
mod tcp;
mod udp;

use crate::client::{ApiClient, ListParams};
use crate::clock::Clock;
use crate::controller::Shutdown;
use crate::events::{EventRecorder, WARNING};
use crate::informer::{Cache, CacheEvent, SharedInformers};
use kube_core::backoff::Backoff;
use kube_core::proxy::{
    desired_listeners, BalancerError, ListenAddr, Listener, LoadBalancerRR, Protocol,
    ServicePortName,
};
use kube_core::rand::SplitMix64;
use kube_core::{Endpoints, Service};
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, UdpSocket};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Reason of the Event recorded when a service port cannot be bound.
pub const REASON_FAILED_TO_BIND: &str = "FailedToBind";

/// Settings of the proxy.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Interface non-loopback cluster IPs are added to (default: `docker0` when it exists,
    /// else `lo`).
    pub bind_interface: Option<String>,
    /// The source of time (bind retries, UDP idle expiry, event timestamps).
    pub clock: Clock,
    /// How long a UDP session lives without traffic.
    pub udp_idle_timeout: Duration,
    /// TCP dial timeouts of successive attempts (the last one repeats while endpoints remain
    /// untried); the seed's userspace proxy used 250 ms, 500 ms, 1 s, 2 s.
    pub dial_timeouts: Vec<Duration>,
    /// Delays between attempts to bind an address that failed.
    pub bind_retry: Backoff,
    /// Forward TCP bytes with `splice(2)` (Linux only; no copy through user space) instead
    /// of tokio's buffered copy.
    pub splice: bool,
}

impl Default for ProxyConfig {
    fn default() -> ProxyConfig {
        ProxyConfig {
            bind_interface: None,
            clock: Clock::real(),
            udp_idle_timeout: Duration::from_secs(60),
            dial_timeouts: [250, 500, 1000, 2000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
            bind_retry: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            splice: cfg!(target_os = "linux"),
        }
    }
}

/// Why the proxy could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The configured bind interface does not exist on this host.
    #[error("bind interface {0:?} does not exist")]
    NoSuchInterface(String),
}

/// What listener tasks share: the configuration and the balancer.
pub(crate) struct Shared {
    config: ProxyConfig,
    balancer: Mutex<LoadBalancerRR>,
}

impl Shared {
    fn balancer(&self) -> MutexGuard<'_, LoadBalancerRR> {
        // Short critical sections over plain data: a poisoned lock still holds a usable map.
        self.balancer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_endpoint(&self, service: &ServicePortName) -> Result<String, BalancerError> {
        self.balancer().next_endpoint(service)
    }

    fn endpoint_count(&self, service: &ServicePortName) -> usize {
        self.balancer().endpoints(service).map_or(0, |e| e.len())
    }
}

/// Runs the proxy against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(
    client: C,
    config: ProxyConfig,
    shutdown: Shutdown,
) -> Result<(), ProxyError> {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    let result = run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
    result
}

/// Runs the proxy on the shared caches of `informers` (started here if they are not yet)
/// until `shutdown`; then closes every listener and removes the addresses it added.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    config: ProxyConfig,
    shutdown: Shutdown,
) -> Result<(), ProxyError> {
    Proxier::new(config)
        .run_with(informers, client, shutdown)
        .await
}

/// A proxy before it runs: hands out the watch of bound addresses first.
pub struct Proxier {
    config: ProxyConfig,
    bound: watch::Sender<BTreeSet<ListenAddr>>,
}

impl Proxier {
    /// A proxy with `config`.
    pub fn new(config: ProxyConfig) -> Proxier {
        Proxier {
            config,
            bound: watch::channel(BTreeSet::new()).0,
        }
    }

    /// The addresses bound, updated after every reconcile (empty once the proxy stopped).
    pub fn listeners(&self) -> watch::Receiver<BTreeSet<ListenAddr>> {
        self.bound.subscribe()
    }

    /// Runs as [`run_with`].
    pub async fn run_with<C: ApiClient>(
        self,
        informers: &SharedInformers<C>,
        client: C,
        shutdown: Shutdown,
    ) -> Result<(), ProxyError> {
        let iface = match &self.config.bind_interface {
            Some(i) if !addresses::interface_exists(i) => {
                return Err(ProxyError::NoSuchInterface(i.clone()))
            }
            Some(i) => i.clone(),
            None => addresses::default_interface(),
        };
        let all = ListParams::default();
        let services = informers.cache::<Service>(None, &all);
        let endpoints = informers.cache::<Endpoints>(None, &all);
        let mut service_events = services.subscribe();
        let mut endpoint_events = endpoints.subscribe();
        informers.start();
        tokio::select! {
            _ = async { services.wait_until_synced().await; endpoints.wait_until_synced().await } => {}
            _ = shutdown.triggered() => return Ok(()),
        }
        let recorder = EventRecorder::with_clock(client, "proxy", self.config.clock.clone());
        let mut state = State {
            shared: Arc::new(Shared {
                config: self.config,
                balancer: Mutex::new(LoadBalancerRR::new()),
            }),
            iface,
            active: HashMap::new(),
            failed: HashMap::new(),
            added: BTreeSet::new(),
            rng: crate::clock::seeded_rng(),
            shutdown: shutdown.clone(),
        };
        tracing::info!(interface = %state.iface, "proxy: serving services");
        let (mut services_open, mut endpoints_open) = (true, true);
        loop {
            state.reconcile(&services, &endpoints, &recorder).await;
            self.bound
                .send_replace(state.active.keys().copied().collect());
            let retry = state.failed.values().map(|f| f.at).min();
            let clock = state.shared.config.clock.clone();
            tokio::select! {
                r = service_events.recv(), if services_open => services_open = still_open(r),
                r = endpoint_events.recv(), if endpoints_open => endpoints_open = still_open(r),
                _ = clock.sleep_until(retry.unwrap_or_else(Instant::now)), if retry.is_some() => {}
                _ = shutdown.triggered() => break,
            }
            // One reconcile for a burst of changes.
            while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) =
                service_events.try_recv()
            {}
            while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) =
                endpoint_events.try_recv()
            {}
        }
        state.close_all().await;
        self.bound.send_replace(BTreeSet::new());
        Ok(())
    }
}

/// Whether a cache's event stream is still worth waiting on (lagging only means "re-read").
fn still_open<T>(r: Result<CacheEvent<T>, broadcast::error::RecvError>) -> bool {
    !matches!(r, Err(broadcast::error::RecvError::Closed))
}

/// A bound listener: the service port it serves and its task.
struct Active {
    service: ServicePortName,
    task: JoinHandle<()>,
}

/// An address whose bind failed: when to try again, and the last error reported.
struct Failed {
    at: Instant,
    backoff: Backoff,
    error: String,
}

/// The proxy's running state.
struct State {
    shared: Arc<Shared>,
    iface: String,
    active: HashMap<ListenAddr, Active>,
    failed: HashMap<ListenAddr, Failed>,
    /// Host addresses this proxy added to `iface`.
    added: BTreeSet<IpAddr>,
    rng: SplitMix64,
    shutdown: Shutdown,
}

impl State {
    /// Brings the balancer, listeners and host addresses in line with the caches.
    async fn reconcile<C: ApiClient>(
        &mut self,
        services: &Cache<Service>,
        endpoints: &Cache<Endpoints>,
        recorder: &EventRecorder<C>,
    ) {
        let svcs = services.list();
        let eps = endpoints.list();
        let s: Vec<&Service> = svcs.iter().map(|s| s.as_ref()).collect();
        let e: Vec<&Endpoints> = eps.iter().map(|e| e.as_ref()).collect();
        let wanted: Vec<Listener> = desired_listeners(&s, &e);
        self.shared.balancer().on_update(&wanted);

        let keep: HashMap<ListenAddr, &ServicePortName> =
            wanted.iter().map(|l| (l.addr, &l.service)).collect();
        let stale: Vec<ListenAddr> = self
            .active
            .iter()
            .filter(|(addr, a)| keep.get(addr) != Some(&&a.service))
            .map(|(addr, _)| *addr)
            .collect();
        for addr in stale {
            if let Some(a) = self.active.remove(&addr) {
                tracing::info!(service = %a.service, address = %addr, "proxy: closing listener");
                stop(a.task).await;
            }
        }
        self.failed.retain(|addr, _| keep.contains_key(addr));

        let now = self.shared.config.clock.instant();
        for l in &wanted {
            if self.active.contains_key(&l.addr)
                || self.failed.get(&l.addr).is_some_and(|f| f.at > now)
            {
                continue;
            }
            match self.bind(l.addr).await {
                Ok(bound) => {
                    self.failed.remove(&l.addr);
                    tracing::info!(service = %l.service, address = %l.addr, "proxy: listening");
                    let (service, shared) = (l.service.clone(), self.shared.clone());
                    let task = match bound {
                        Bound::Tcp(listener) => tokio::spawn(tcp::accept_loop(
                            listener,
                            service,
                            shared,
                            self.shutdown.clone(),
                        )),
                        Bound::Udp(socket) => tokio::spawn(udp::serve(socket, service, shared)),
                    };
                    self.active.insert(
                        l.addr,
                        Active {
                            service: l.service.clone(),
                            task,
                        },
                    );
                }
                Err(error) => self.bind_failed(l, error, &svcs, recorder),
            }
        }
        self.release_addresses().await;
    }

    /// Records a failed bind: log, Event (once per streak or when the error changes), retry.
    fn bind_failed<C: ApiClient>(
        &mut self,
        l: &Listener,
        error: String,
        services: &[Arc<Service>],
        recorder: &EventRecorder<C>,
    ) {
        let now = self.shared.config.clock.instant();
        let initial = self.shared.config.bind_retry.clone();
        let f = self.failed.entry(l.addr).or_insert_with(|| Failed {
            at: now,
            backoff: initial,
            error: String::new(),
        });
        let delay = f.backoff.next_delay(&mut self.rng);
        f.at = now + delay;
        if f.error != error {
            tracing::warn!(service = %l.service, address = %l.addr, %error, "proxy: cannot listen; retrying in {delay:?}");
            let svc = services.iter().find(|s| {
                s.metadata.namespace == l.service.namespace && s.metadata.name == l.service.name
            });
            if let Some(svc) = svc {
                let message = format!("cannot listen on {}: {error}", l.addr);
                recorder.record(svc.as_ref(), WARNING, REASON_FAILED_TO_BIND, &message);
            }
            f.error = error;
        } else {
            tracing::debug!(service = %l.service, address = %l.addr, %error, "proxy: still cannot listen; retrying in {delay:?}");
        }
    }

    /// Binds `addr`, first adding its IP to the interface when the host lacks it.
    async fn bind(&mut self, addr: ListenAddr) -> Result<Bound, String> {
        match bind_socket(addr).await {
            Err(e)
                if e.kind() == io::ErrorKind::AddrNotAvailable
                    && !addresses::needs_no_address(addr.ip)
                    && !self.added.contains(&addr.ip) =>
            {
                addresses::add(addr.ip, &self.iface).await?;
                tracing::info!(ip = %addr.ip, interface = %self.iface, "proxy: added cluster IP");
                self.added.insert(addr.ip);
                bind_socket(addr).await.map_err(|e| e.to_string())
            }
            r => r.map_err(|e| e.to_string()),
        }
    }

    /// Removes the host addresses this proxy added that no listener uses any more.
    async fn release_addresses(&mut self) {
        let used: BTreeSet<IpAddr> = self
            .active
            .keys()
            .chain(self.failed.keys())
            .map(|a| a.ip)
            .collect();
        let unused: Vec<IpAddr> = self.added.difference(&used).copied().collect();
        for ip in unused {
            self.added.remove(&ip);
            match addresses::remove(ip, &self.iface).await {
                Ok(()) => tracing::info!(%ip, interface = %self.iface, "proxy: removed cluster IP"),
                Err(e) => tracing::warn!(%ip, error = %e, "proxy: cannot remove cluster IP"),
            }
        }
    }

    /// Closes every listener and removes every address added.
    async fn close_all(&mut self) {
        for (_, a) in self.active.drain() {
            stop(a.task).await;
        }
        self.failed.clear();
        self.release_addresses().await;
    }
}

/// A bound socket of either protocol.
enum Bound {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

/// Binds one listener socket (TCP with `SO_REUSEADDR`, as Go's listeners, so a restarted
/// proxy can rebind while old connections linger in TIME_WAIT).
async fn bind_socket(addr: ListenAddr) -> io::Result<Bound> {
    let sa = SocketAddr::new(addr.ip, addr.port);
    match addr.protocol {
        Protocol::Tcp => {
            let socket = if sa.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(sa)?;
            Ok(Bound::Tcp(socket.listen(1024)?))
        }
        Protocol::Udp => Ok(Bound::Udp(UdpSocket::bind(sa).await?)),
    }
}

/// Stops a listener task and waits until its socket is closed.
async fn stop(task: JoinHandle<()>) {
    task.abort();
    let _ = task.await;
}
