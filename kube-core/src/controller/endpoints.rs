//! The endpoints controller's plan: the addresses of the pods a service selects
//! (Kubernetes' `EndpointController.syncService`, without I/O).
//!
//! [`desired_subsets`] computes what a service's `Endpoints` should hold:
//! - every pod of the service's namespace matching its (non-empty) selector, with a pod IP, not
//!   terminating and neither Succeeded nor Failed ([`is_endpoint`]);
//! - ready pods under `addresses`, the others under `notReadyAddresses`, each with its node and
//!   a `targetRef` to the pod;
//! - ports resolved per pod ([`find_port`]): a numeric `targetPort` as is, a named one looked
//!   up in the pod's container ports (same name and protocol); a pod lacking a named port is
//!   left out for that port;
//! - pods with the same resolved port set share a subset (Kubernetes' `RepackSubsets`).
//!
//! The result is canonical, so it can be compared with what is stored: addresses sorted by IP
//! (numerically) then pod name, ports by name, number and protocol, subsets by their ports.
//! Protocols are spelled out (`TCP` when unset), as the API server's defaulting stores them.
//!
//! [`plan`] compares that with the current `Endpoints` and says whether to create, update,
//! delete or leave it.

use super::replication::{is_active, is_ready};
use crate::endpoints::{EndpointAddress, EndpointPort, EndpointSubset, Endpoints};
use crate::intstr::IntOrString;
use crate::labels::Selector;
use crate::meta::{ObjectMeta, ObjectReference};
use crate::pod::Pod;
use crate::service::{Service, ServicePort};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The protocol of a port whose protocol is unset.
pub const DEFAULT_PROTOCOL: &str = "TCP";

/// `spec.clusterIP` of a headless service.
pub const CLUSTER_IP_NONE: &str = "None";

/// What one sync of a service's endpoints should do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The endpoints are as they should be (or are not the controller's to manage).
    Nothing,
    /// Create these endpoints (none exist).
    Create(Endpoints),
    /// Replace the current endpoints with these (same resourceVersion: a compare-and-swap).
    Update(Endpoints),
    /// Delete the endpoints: their service is gone.
    Delete,
}

/// The selector of a service; `None` when it has none (its endpoints are managed by users).
pub fn selector(service: &Service) -> Option<Selector> {
    (!service.spec.selector.is_empty()).then(|| Selector::from_map(&service.spec.selector))
}

/// Whether `service` selects `pod` (same namespace, non-empty selector matching its labels).
pub fn selects(service: &Service, pod: &Pod) -> bool {
    service.metadata.namespace == pod.metadata.namespace
        && selector(service).is_some_and(|s| s.matches(&pod.metadata.labels))
}

/// Whether a pod can be an endpoint at all: it has an IP, is not terminating and is neither
/// Succeeded nor Failed.
pub fn is_endpoint(pod: &Pod) -> bool {
    !pod.status.pod_ip.is_empty() && is_active(pod)
}

/// A protocol with the default spelled out.
fn protocol(p: &str) -> &str {
    if p.is_empty() {
        DEFAULT_PROTOCOL
    } else {
        p
    }
}

/// The pod's port number for `port` (Kubernetes' `FindPort`): a numeric `targetPort` (the
/// service port itself when unset or 0), or the container port with that name and the service
/// port's protocol; `None` when the pod has no such named port.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(0)) => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) if name.is_empty() => Some(port.port),
        Some(IntOrString::String(name)) => pod
            .spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .find(|p| &p.name == name && protocol(&p.protocol) == protocol(&port.protocol))
            .map(|p| p.container_port),
    }
}

/// An endpoint port as a sortable key: (name, port, protocol).
type PortKey = (String, i32, String);

/// The address of `pod` in an endpoints object.
fn address(pod: &Pod) -> EndpointAddress {
    EndpointAddress {
        ip: pod.status.pod_ip.clone(),
        node_name: pod.spec.node_name.clone(),
        target_ref: Some(ObjectReference {
            kind: "Pod".into(),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
    }
}

/// The sort order of addresses: IP (numerically when it parses), then pod name.
fn address_order(a: &EndpointAddress, b: &EndpointAddress) -> std::cmp::Ordering {
    let ip = |a: &EndpointAddress| a.ip.parse::<IpAddr>().ok();
    let name = |a: &EndpointAddress| a.target_ref.as_ref().map(|r| r.name.clone());
    (ip(a), &a.ip, name(a)).cmp(&(ip(b), &b.ip, name(b)))
}

/// The subsets `service`'s endpoints should hold, given `pods` (any pods; those of other
/// namespaces or not selected are ignored). Empty for a service without a selector.
pub fn desired_subsets(service: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    if selector(service).is_none() {
        return Vec::new();
    }
    // Port set → (ready, not ready) addresses.
    let mut groups: BTreeMap<Vec<PortKey>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    let headless = service.spec.cluster_ip == CLUSTER_IP_NONE;
    for pod in pods
        .iter()
        .filter(|p| selects(service, p) && is_endpoint(p))
    {
        let ports: BTreeSet<PortKey> = service
            .spec
            .ports
            .iter()
            .filter_map(|sp| {
                find_port(pod, sp).map(|n| (sp.name.clone(), n, protocol(&sp.protocol).to_string()))
            })
            .collect();
        // A pod serving none of the ports is left out, except for a headless service without
        // ports (its addresses are all there is).
        if ports.is_empty() && !(headless && service.spec.ports.is_empty()) {
            continue;
        }
        let group = groups.entry(ports.into_iter().collect()).or_default();
        if is_ready(pod) {
            group.0.push(address(pod));
        } else {
            group.1.push(address(pod));
        }
    }
    groups
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(address_order);
            not_ready.sort_by(address_order);
            EndpointSubset {
                addresses: ready,
                not_ready_addresses: not_ready,
                ports: ports
                    .into_iter()
                    .map(|(name, port, protocol)| EndpointPort {
                        name,
                        port,
                        protocol,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The endpoints `service` should have over `pods`, in a new object named like the service
/// and carrying its labels (as Kubernetes does).
pub fn desired_endpoints(service: &Service, pods: &[&Pod]) -> Endpoints {
    Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            labels: service.metadata.labels.clone(),
            ..ObjectMeta::default()
        },
        subsets: desired_subsets(service, pods),
        ..Endpoints::default()
    }
}

/// Plans one sync of the endpoints of a service.
///
/// `service` is the cached service (`None`: it was deleted), `current` its cached endpoints,
/// `pods` the cached pods of its namespace. A deleted service's endpoints are deleted; a
/// service without a selector is left alone; otherwise the endpoints are created when missing
/// and replaced only when their subsets or labels differ from the desired ones.
pub fn plan(service: Option<&Service>, current: Option<&Endpoints>, pods: &[&Pod]) -> Plan {
    let Some(service) = service else {
        return if current.is_some() {
            Plan::Delete
        } else {
            Plan::Nothing
        };
    };
    if selector(service).is_none() {
        return Plan::Nothing;
    }
    let desired = desired_endpoints(service, pods);
    let Some(current) = current else {
        return Plan::Create(desired);
    };
    if current.subsets == desired.subsets && current.metadata.labels == desired.metadata.labels {
        return Plan::Nothing;
    }
    let mut updated = current.clone();
    updated.subsets = desired.subsets;
    updated.metadata.labels = desired.metadata.labels;
    Plan::Update(updated)
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
