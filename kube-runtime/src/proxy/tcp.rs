//! The TCP side of a service port: accept, pick an endpoint round-robin, dial it with a short
//! timeout (the next endpoint on refusal or timeout), then copy both ways with half-close.
//!
//! Each connection runs in its own task, independent of the listener: closing a listener (its
//! service deleted or changed) leaves established connections alone; only the proxy's
//! shutdown ends them.

use super::Shared;
use crate::controller::Shutdown;
use kube_core::proxy::ServicePortName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// Size of each direction's copy buffer (without `splice(2)`).
const COPY_BUFFER: usize = 64 * 1024;

/// Accepts connections on `listener` for `service` until the task is aborted.
pub(super) async fn accept_loop(
    listener: TcpListener,
    service: ServicePortName,
    shared: Arc<Shared>,
    shutdown: Shutdown,
) {
    loop {
        match listener.accept().await {
            Ok((inbound, peer)) => {
                tokio::spawn(serve(
                    inbound,
                    peer,
                    service.clone(),
                    shared.clone(),
                    shutdown.clone(),
                ));
            }
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!(service = %service, error = %e, "proxy: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Proxies one accepted connection.
async fn serve(
    mut inbound: TcpStream,
    peer: SocketAddr,
    service: ServicePortName,
    shared: Arc<Shared>,
    shutdown: Shutdown,
) {
    let Some(mut outbound) = dial(&service, &shared).await else {
        tracing::warn!(service = %service, client = %peer, "proxy: no endpoint answered; closing the connection");
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    tokio::select! {
        r = forward(&mut inbound, &mut outbound, shared.config.splice) => {
            if let Err(e) = r {
                tracing::debug!(service = %service, client = %peer, error = %e, "proxy: connection ended");
            }
        }
        _ = shutdown.triggered() => {}
    }
}

/// Copies both ways with half-close: with `splice(2)` when asked for and on Linux (no copy
/// through user space), else with tokio's buffered copy.
async fn forward(
    a: &mut TcpStream,
    b: &mut TcpStream,
    splice: bool,
) -> std::io::Result<(u64, u64)> {
    #[cfg(target_os = "linux")]
    if splice {
        return super::splice::bidirectional(a, b).await;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = splice;
    tokio::io::copy_bidirectional_with_sizes(a, b, COPY_BUFFER, COPY_BUFFER).await
}

/// Connects to the service's next endpoint; on refusal or timeout to the one after, with the
/// configured escalating timeouts, trying at least every endpoint once.
async fn dial(service: &ServicePortName, shared: &Shared) -> Option<TcpStream> {
    let timeouts = &shared.config.dial_timeouts;
    let endpoints = shared.endpoint_count(service);
    let attempts = timeouts.len().max(endpoints);
    for attempt in 0..attempts {
        let endpoint = match shared.next_endpoint(service) {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, "proxy: no endpoint");
                return None;
            }
        };
        let Ok(addr) = endpoint.parse::<SocketAddr>() else {
            continue;
        };
        let limit = timeouts
            .get(attempt)
            .or(timeouts.last())
            .copied()
            .unwrap_or(Duration::from_secs(1));
        match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Some(stream),
            Ok(Err(e)) => {
                tracing::debug!(service = %service, endpoint = %addr, error = %e, "proxy: dial failed; trying the next endpoint");
            }
            Err(_) => {
                tracing::debug!(service = %service, endpoint = %addr, "proxy: dial timed out; trying the next endpoint");
            }
        }
    }
    None
}
