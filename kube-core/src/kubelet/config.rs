//! From a pod's spec to the runtime's `ContainerConfig`s: the infra container that owns the
//! pod's network namespace and host ports, and each app container joined to it.

use crate::kubelet::labels;
use crate::pod::{Container, Pod};
use crate::runtime::{ContainerConfig, Mount, NetworkMode, PortBinding, Protocol, ResourceLimits};
use crate::service::Service;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Why a pod's spec could not be turned into a container config.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Node-level settings the configs depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeContext<'a> {
    /// This kubelet's node name (the `NODE_NAME` label).
    pub node_name: &'a str,
    /// Image of the infra container.
    pub infra_image: &'a str,
    /// Address host ports bind to when a port names no `hostIP` (the kubelet's `--address`).
    pub default_host_ip: IpAddr,
    /// Directory under which pods' `emptyDir` volumes live (`{root}/{uid}/volumes/{name}`).
    pub volume_root: &'a str,
    /// Extra labels put on every container (a test run's identity, say).
    pub extra_labels: &'a BTreeMap<String, String>,
}

/// A stable hash of a container's spec (FNV-1a over its JSON), lower-case hex in the label.
pub fn container_hash(c: &Container) -> u64 {
    let bytes = serde_json::to_vec(c).unwrap_or_default();
    fnv1a(&bytes)
}

/// A stable hash of what the infra container is made from: the pod's host ports and network.
pub fn infra_hash(pod: &Pod) -> u64 {
    let ports: Vec<_> = pod.spec.containers.iter().map(|c| &c.ports).collect();
    let bytes = serde_json::to_vec(&(ports, pod.spec.host_network)).unwrap_or_default();
    fnv1a(&bytes)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The runtime name of a container: `k8s_{container}_{pod}_{namespace}_{uid}_{attempt}`, as
/// Kubernetes' Docker integration named them.
pub fn container_name(pod: &Pod, container: &str, attempt: i32) -> String {
    let m = &pod.metadata;
    format!(
        "k8s_{container}_{}_{}_{}_{attempt}",
        m.name, m.namespace, m.uid
    )
}

fn base_labels(
    pod: &Pod,
    node: &NodeContext<'_>,
    container: &str,
    attempt: i32,
    hash: u64,
) -> BTreeMap<String, String> {
    let mut l = node.extra_labels.clone();
    let m = &pod.metadata;
    for (k, v) in [
        (labels::POD_NAMESPACE, m.namespace.as_str()),
        (labels::POD_NAME, m.name.as_str()),
        (labels::POD_UID, m.uid.as_str()),
        (labels::CONTAINER_NAME, container),
        (labels::NODE_NAME, node.node_name),
    ] {
        l.insert(k.to_string(), v.to_string());
    }
    l.insert(labels::RESTART_COUNT.to_string(), attempt.to_string());
    l.insert(labels::CONTAINER_HASH.to_string(), format!("{hash:x}"));
    l
}

/// The infra container of a pod: owns the network namespace and publishes every host port.
pub fn infra_config(
    pod: &Pod,
    node: &NodeContext<'_>,
    attempt: i32,
) -> Result<ContainerConfig, ConfigError> {
    let mut ports = Vec::new();
    for c in &pod.spec.containers {
        for p in c.ports.iter().filter(|p| p.host_port != 0) {
            let protocol = Protocol::from_api(&p.protocol)
                .ok_or_else(|| ConfigError(format!("unsupported protocol {:?}", p.protocol)))?;
            let host_ip = if p.host_ip.is_empty() {
                node.default_host_ip
            } else {
                p.host_ip
                    .parse()
                    .map_err(|_| ConfigError(format!("invalid hostIP {:?}", p.host_ip)))?
            };
            let port = |v: i32, what: &str| {
                u16::try_from(v)
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| ConfigError(format!("invalid {what} {v}")))
            };
            ports.push(PortBinding {
                container_port: port(p.container_port, "containerPort")?,
                host_port: port(p.host_port, "hostPort")?,
                host_ip,
                protocol,
            });
        }
    }
    let host_network = pod.spec.host_network;
    Ok(ContainerConfig {
        name: container_name(pod, labels::INFRA_CONTAINER_NAME, attempt),
        image: node.infra_image.to_string(),
        labels: base_labels(
            pod,
            node,
            labels::INFRA_CONTAINER_NAME,
            attempt,
            infra_hash(pod),
        ),
        hostname: (!host_network).then(|| hostname(&pod.metadata.name)),
        network: if host_network {
            NetworkMode::Host
        } else {
            NetworkMode::Bridge
        },
        ports: if host_network { Vec::new() } else { ports },
        ..ContainerConfig::default()
    })
}

/// A host name from a pod name: at most 63 characters, no trailing dot or dash.
fn hostname(pod_name: &str) -> String {
    let mut h: String = pod_name.chars().take(63).collect();
    while h.ends_with(['.', '-']) {
        h.pop();
    }
    h
}

/// An app container of a pod, joined to the infra container `infra_id`.
pub fn app_config(
    pod: &Pod,
    container: &Container,
    node: &NodeContext<'_>,
    infra_id: &str,
    restart_count: i32,
    service_env: &[(String, String)],
) -> Result<ContainerConfig, ConfigError> {
    let mut env: Vec<(String, String)> = service_env.to_vec();
    env.extend(
        container
            .env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone())),
    );
    let mut mounts = Vec::new();
    for vm in &container.volume_mounts {
        let volume = pod
            .spec
            .volumes
            .iter()
            .find(|v| v.name == vm.name)
            .ok_or_else(|| ConfigError(format!("volume {:?} not found", vm.name)))?;
        let host_path = if let Some(hp) = &volume.host_path {
            hp.path.clone()
        } else {
            empty_dir_path(node.volume_root, &pod.metadata.uid, &volume.name)
        };
        mounts.push(Mount {
            host_path,
            container_path: vm.mount_path.clone(),
            read_only: vm.read_only,
        });
    }
    Ok(ContainerConfig {
        name: container_name(pod, &container.name, restart_count),
        image: container.image.clone(),
        command: container.command.clone(),
        args: container.args.clone(),
        env,
        working_dir: (!container.working_dir.is_empty()).then(|| container.working_dir.clone()),
        labels: base_labels(
            pod,
            node,
            &container.name,
            restart_count,
            container_hash(container),
        ),
        hostname: None,
        network: if pod.spec.host_network {
            NetworkMode::Host
        } else {
            NetworkMode::Container(infra_id.to_string())
        },
        ports: Vec::new(),
        mounts,
        limits: limits(container)?,
        // An init process as PID 1, so the program gets SIGTERM's default action.
        init: true,
    })
}

/// Where an `emptyDir` volume of a pod lives on the host.
pub fn empty_dir_path(volume_root: &str, pod_uid: &str, volume: &str) -> String {
    format!(
        "{}/{pod_uid}/volumes/{volume}",
        volume_root.trim_end_matches('/')
    )
}

/// Docker's limits from a container's resources: memory and CPU limits, CPU shares from the
/// CPU request (1024 per core, at least 2, as Kubernetes maps them).
fn limits(c: &Container) -> Result<ResourceLimits, ConfigError> {
    let get = |list: &crate::pod::ResourceList, name: &str, milli: bool| {
        list.get(name)
            .map(|q| if milli { q.milli_value() } else { q.value() })
            .transpose()
            .map_err(|e| ConfigError(format!("resource {name}: {e}")))
    };
    let r = &c.resources;
    Ok(ResourceLimits {
        memory_bytes: get(&r.limits, "memory", false)?.filter(|v| *v > 0),
        cpu_millis: get(&r.limits, "cpu", true)?.filter(|v| *v > 0),
        cpu_shares: get(&r.requests, "cpu", true)?
            .or(get(&r.limits, "cpu", true)?)
            .map(|m| (m.saturating_mul(1024) / 1000).max(2)),
    })
}

/// The seed's service variables, `{NAME}_SERVICE_HOST` and `{NAME}_SERVICE_PORT` (name
/// upper-cased, dashes to underscores), for each service with an address and a port.
pub fn service_env(services: &[&Service]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in services {
        let Some(port) = s.spec.ports.first() else {
            continue;
        };
        if s.spec.cluster_ip.is_empty() || s.spec.cluster_ip == "None" {
            continue;
        }
        let name = s.metadata.name.to_uppercase().replace('-', "_");
        out.push((format!("{name}_SERVICE_HOST"), s.spec.cluster_ip.clone()));
        out.push((format!("{name}_SERVICE_PORT"), port.port.to_string()));
    }
    out
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
