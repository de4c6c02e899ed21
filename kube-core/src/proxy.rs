//! The service proxy's pure part: which listeners should exist, and where each new connection
//! goes (the seed's `LoadBalancerRR`).
//!
//! - [`desired_listeners`] turns the services and endpoints a proxy sees into one
//!   [`Listener`] per service port: the service's cluster IP and port, its protocol, and the
//!   ready endpoints (`ip:port`) of the endpoint port with the same name (and protocol).
//!   `notReadyAddresses` are not used. Services without a cluster IP (`None`, empty or not
//!   an IP: headless or not yet allocated) and ports outside 1–65535 are skipped.
//! - [`LoadBalancerRR`] hands out endpoints round-robin per service port; its index resets
//!   when the endpoint list changes, and a caller whose dial failed simply asks again for the
//!   next one.
//!
//! Sans-IO and deterministic: the result is sorted and depends only on the inputs.

use crate::endpoints::Endpoints;
use crate::service::Service;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

/// A transport protocol of a service port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP (the default when unset).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// Parses a `protocol` field: empty means TCP; anything but TCP/UDP is `None`.
    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "" | "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        })
    }
}

/// One port of one service (Kubernetes' `ServicePortName`): the balancer's key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    /// The service's namespace.
    pub namespace: String,
    /// The service's name.
    pub name: String,
    /// The port's name (empty for a single unnamed port).
    pub port: String,
}

impl fmt::Display for ServicePortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if !self.port.is_empty() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// Where a listener accepts: cluster IP, port and protocol (unique per proxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenAddr {
    /// The service's cluster IP.
    pub ip: IpAddr,
    /// The service port.
    pub port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}/{}", self.port, self.protocol),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}/{}", self.port, self.protocol),
        }
    }
}

/// A listener the proxy should have, with the endpoints its connections go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// The service port it serves.
    pub service: ServicePortName,
    /// Where it accepts.
    pub addr: ListenAddr,
    /// Ready endpoints, `ip:port` (`[ip]:port` for IPv6), in the endpoints' order.
    pub endpoints: Vec<String>,
}

/// The listeners for `services`, with endpoints from the `endpoints` object named like each
/// service. Sorted by address; when two service ports claim the same address, the first by
/// (namespace, name, port name) keeps it.
pub fn desired_listeners(services: &[&Service], endpoints: &[&Endpoints]) -> Vec<Listener> {
    let by_name: HashMap<(&str, &str), &Endpoints> = endpoints
        .iter()
        .map(|e| {
            (
                (e.metadata.namespace.as_str(), e.metadata.name.as_str()),
                *e,
            )
        })
        .collect();
    let mut sorted: Vec<&Service> = services.to_vec();
    sorted.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    let mut out: BTreeMap<ListenAddr, Listener> = BTreeMap::new();
    for svc in sorted {
        let Ok(ip) = svc.spec.cluster_ip.parse::<IpAddr>() else {
            continue;
        };
        let eps = by_name
            .get(&(svc.metadata.namespace.as_str(), svc.metadata.name.as_str()))
            .copied();
        for sp in &svc.spec.ports {
            let (Ok(port), Some(protocol)) =
                (u16::try_from(sp.port), Protocol::parse(&sp.protocol))
            else {
                continue;
            };
            if port == 0 {
                continue;
            }
            let addr = ListenAddr { ip, port, protocol };
            let listener = Listener {
                service: ServicePortName {
                    namespace: svc.metadata.namespace.clone(),
                    name: svc.metadata.name.clone(),
                    port: sp.name.clone(),
                },
                addr,
                endpoints: eps
                    .map(|e| endpoints_of(e, &sp.name, protocol))
                    .unwrap_or_default(),
            };
            out.entry(addr).or_insert(listener);
        }
    }
    out.into_values().collect()
}

/// The ready `ip:port` endpoints of `eps` for the endpoint port named `port_name` with
/// `protocol`, in order, without duplicates or unusable entries.
pub fn endpoints_of(eps: &Endpoints, port_name: &str, protocol: Protocol) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for subset in &eps.subsets {
        let Some(port) = subset
            .ports
            .iter()
            .find(|p| p.name == port_name && Protocol::parse(&p.protocol) == Some(protocol))
        else {
            continue;
        };
        let Ok(port) = u16::try_from(port.port) else {
            continue;
        };
        if port == 0 {
            continue;
        }
        for a in &subset.addresses {
            let ep = match a.ip.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => format!("{ip}:{port}"),
                Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
                Err(_) => continue,
            };
            if !out.contains(&ep) {
                out.push(ep);
            }
        }
    }
    out
}

/// Why no endpoint could be chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BalancerError {
    /// The balancer does not know the service port.
    #[error("missing service entry for {0}")]
    MissingService(ServicePortName),
    /// The service port has no endpoints.
    #[error("missing endpoints for {0}")]
    NoEndpoints(ServicePortName),
}

/// Round-robin over each service port's endpoints (the seed's `LoadBalancerRR`).
#[derive(Clone, Debug, Default)]
pub struct LoadBalancerRR {
    services: HashMap<ServicePortName, Balanced>,
}

#[derive(Clone, Debug, Default)]
struct Balanced {
    endpoints: Vec<String>,
    index: usize,
}

impl LoadBalancerRR {
    /// An empty balancer.
    pub fn new() -> LoadBalancerRR {
        LoadBalancerRR::default()
    }

    /// Sets the endpoints of `service`; the round-robin index restarts when they changed.
    pub fn update(&mut self, service: &ServicePortName, endpoints: &[String]) {
        let entry = self.services.entry(service.clone()).or_default();
        if entry.endpoints != endpoints {
            entry.endpoints = endpoints.to_vec();
            entry.index = 0;
        }
    }

    /// Replaces everything: the listed service ports get their endpoints, others are dropped.
    pub fn on_update(&mut self, listeners: &[Listener]) {
        self.services
            .retain(|k, _| listeners.iter().any(|l| &l.service == k));
        for l in listeners {
            self.update(&l.service, &l.endpoints);
        }
    }

    /// Forgets `service`.
    pub fn remove(&mut self, service: &ServicePortName) {
        self.services.remove(service);
    }

    /// The endpoints known for `service`.
    pub fn endpoints(&self, service: &ServicePortName) -> Option<&[String]> {
        self.services.get(service).map(|b| b.endpoints.as_slice())
    }

    /// The next endpoint of `service`, advancing its index. After a failed dial, calling
    /// again gives the following endpoint.
    pub fn next_endpoint(&mut self, service: &ServicePortName) -> Result<String, BalancerError> {
        let entry = self
            .services
            .get_mut(service)
            .ok_or_else(|| BalancerError::MissingService(service.clone()))?;
        if entry.endpoints.is_empty() {
            return Err(BalancerError::NoEndpoints(service.clone()));
        }
        let i = entry.index % entry.endpoints.len();
        entry.index = (i + 1) % entry.endpoints.len();
        Ok(entry.endpoints[i].clone())
    }
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
