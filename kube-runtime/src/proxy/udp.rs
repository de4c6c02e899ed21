//! The UDP side of a service port: one session per client address, each with its own socket
//! connected to an endpoint chosen round-robin when the session starts. Replies go back to the
//! client from the service's address. A session ends after `udp_idle_timeout` without a
//! datagram in either direction, or when its endpoint reports an error (e.g. port
//! unreachable); the client's next datagram then starts a new session.
//!
//! Sessions belong to the listener task: closing the listener ends them and frees the port.

use super::Shared;
use kube_core::proxy::ServicePortName;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// The largest datagram relayed.
const MAX_DATAGRAM: usize = 64 * 1024;
/// Datagrams queued from a client to its session before more are dropped.
const SESSION_QUEUE: usize = 64;

/// Relays datagrams on `socket` for `service` until the task is aborted.
pub(super) async fn serve(socket: UdpSocket, service: ServicePortName, shared: Arc<Shared>) {
    let socket = Arc::new(socket);
    let mut sessions: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut tasks: JoinSet<SocketAddr> = JoinSet::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let (n, client) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(service = %service, error = %e, "proxy: UDP receive failed");
                        continue;
                    }
                };
                let datagram = buf[..n].to_vec();
                let datagram = match sessions.get(&client) {
                    Some(tx) => match tx.try_send(datagram) {
                        Ok(()) => continue,
                        Err(mpsc::error::TrySendError::Full(_)) => continue,
                        Err(mpsc::error::TrySendError::Closed(d)) => d,
                    },
                    None => datagram,
                };
                let Some(backend) = connect(&service, &shared).await else {
                    continue;
                };
                let (tx, rx) = mpsc::channel(SESSION_QUEUE);
                let _ = tx.try_send(datagram);
                sessions.insert(client, tx);
                tasks.spawn(session(socket.clone(), backend, client, rx, shared.clone()));
            }
            Some(done) = tasks.join_next() => {
                if let Ok(client) = done {
                    // A new session may already have replaced the ended one.
                    if sessions.get(&client).is_some_and(|tx| tx.is_closed()) {
                        sessions.remove(&client);
                    }
                }
            }
        }
    }
}

/// A socket connected to the service's next endpoint (the one after on failure).
async fn connect(service: &ServicePortName, shared: &Shared) -> Option<UdpSocket> {
    for _ in 0..shared.endpoint_count(service).max(1) {
        let endpoint = match shared.next_endpoint(service) {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, "proxy: dropping a UDP datagram");
                return None;
            }
        };
        let Ok(addr) = endpoint.parse::<SocketAddr>() else {
            continue;
        };
        let local: IpAddr = if addr.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let socket = match UdpSocket::bind((local, 0)).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "proxy: cannot open a UDP socket");
                return None;
            }
        };
        match socket.connect(addr).await {
            Ok(()) => return Some(socket),
            Err(e) => {
                tracing::debug!(service = %service, endpoint = %addr, error = %e, "proxy: UDP connect failed")
            }
        }
    }
    None
}

/// One client's session: client datagrams arrive on `rx`, replies go back through `listener`.
async fn session(
    listener: Arc<UdpSocket>,
    backend: UdpSocket,
    client: SocketAddr,
    mut rx: mpsc::Receiver<Vec<u8>>,
    shared: Arc<Shared>,
) -> SocketAddr {
    let clock = &shared.config.clock;
    let idle = shared.config.udp_idle_timeout;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut deadline = clock.instant() + idle;
    loop {
        tokio::select! {
            d = rx.recv() => match d {
                Some(d) => {
                    if let Err(e) = backend.send(&d).await {
                        tracing::debug!(client = %client, error = %e, "proxy: UDP send to endpoint failed");
                        break;
                    }
                    deadline = clock.instant() + idle;
                }
                None => break,
            },
            r = backend.recv(&mut buf) => match r {
                Ok(n) => {
                    if let Err(e) = listener.send_to(&buf[..n], client).await {
                        tracing::debug!(client = %client, error = %e, "proxy: UDP reply failed");
                    }
                    deadline = clock.instant() + idle;
                }
                Err(e) => {
                    tracing::debug!(client = %client, error = %e, "proxy: UDP endpoint error; ending the session");
                    break;
                }
            },
            _ = clock.sleep_until(deadline) => break,
        }
    }
    rx.close();
    client
}
