//! Pod validation, and the pod-spec rules replication controller templates reuse.

use super::meta::{
    compare_quantities, validate_labels, validate_object_meta, validate_object_meta_update,
    validate_resource_list, NameRule,
};
use super::names::{
    dns1123_label_error, dns1123_subdomain_error, env_var_name_error, iana_svc_name_error, is_ip,
    is_port, NON_NEGATIVE_MSG, PORT_RANGE_MSG,
};
use super::{FieldError, FieldErrors, FieldPath, Validate};
use crate::intstr::IntOrString;
use crate::pod::{
    Container, ContainerPort, Pod, PodSpec, Probe, ResourceRequirements, Volume, PULL_ALWAYS,
    PULL_IF_NOT_PRESENT, PULL_NEVER, RESTART_ALWAYS, RESTART_NEVER, RESTART_ON_FAILURE,
};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Restart policies a pod may have.
pub(super) const RESTART_POLICIES: &[&str] = &[RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER];
/// Image pull policies a container may have.
const PULL_POLICIES: &[&str] = &[PULL_ALWAYS, PULL_IF_NOT_PRESENT, PULL_NEVER];
/// Protocols of container, service and endpoint ports.
pub(super) const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
/// Schemes of HTTP probes.
const HTTP_SCHEMES: &[&str] = &["HTTP", "HTTPS"];

/// Detail of the error for a pod update that changes more than images.
pub(super) const POD_UPDATE_FORBIDDEN_MSG: &str =
    "pod updates may not change fields other than `spec.containers[*].image`";

impl Validate for Pod {
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1123Subdomain, &mut errs);
        validate_pod_spec(&self.spec, &FieldPath::new("spec"), &mut errs);
        errs
    }

    /// Besides `validate`: name, namespace and uid are immutable, and of the spec only
    /// container images may change.
    fn validate_update(&self, old: &Self) -> FieldErrors {
        let mut errs = self.validate();
        validate_object_meta_update(&self.metadata, &old.metadata, &mut errs);
        if !same_spec_except_images(&self.spec, &old.spec) {
            errs.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN_MSG));
        }
        errs
    }
}

/// Whether two specs are equal once each new container's image is replaced by the old one.
fn same_spec_except_images(new: &PodSpec, old: &PodSpec) -> bool {
    if new.containers.len() != old.containers.len() {
        return false;
    }
    let mut munged = new.clone();
    for (c, o) in munged.containers.iter_mut().zip(&old.containers) {
        c.image.clone_from(&o.image);
    }
    munged == *old
}

/// Checks a pod spec whose path is `path` (`spec`, or `spec.template.spec` in a controller).
pub(super) fn validate_pod_spec(spec: &PodSpec, path: &FieldPath, errs: &mut FieldErrors) {
    let volumes = validate_volumes(&spec.volumes, &path.child("volumes"), errs);
    let containers = path.child("containers");
    if spec.containers.is_empty() {
        errs.push(FieldError::required(&containers, ""));
    }
    let mut names = BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let cpath = containers.index(i);
        if !c.name.is_empty() && !names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(cpath.child("name"), &c.name));
        }
        validate_container(c, &cpath, &volumes, errs);
    }
    validate_host_ports(spec, &containers, errs);
    if !spec.restart_policy.is_empty() && !RESTART_POLICIES.contains(&spec.restart_policy.as_str())
    {
        errs.push(FieldError::not_supported(
            path.child("restartPolicy"),
            &spec.restart_policy,
            RESTART_POLICIES,
        ));
    }
    if !spec.node_name.is_empty() {
        if let Some(msg) = dns1123_subdomain_error(&spec.node_name) {
            errs.push(FieldError::invalid(
                path.child("nodeName"),
                &spec.node_name,
                msg,
            ));
        }
    }
    validate_labels(&spec.node_selector, &path.child("nodeSelector"), errs);
    if let Some(secs) = spec.termination_grace_period_seconds {
        if secs < 0 {
            errs.push(FieldError::invalid(
                path.child("terminationGracePeriodSeconds"),
                secs,
                NON_NEGATIVE_MSG,
            ));
        }
    }
}

/// Checks the volumes and returns their names.
fn validate_volumes<'a>(
    volumes: &'a [Volume],
    path: &FieldPath,
    errs: &mut FieldErrors,
) -> BTreeSet<&'a str> {
    let mut names = BTreeSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let vpath = path.index(i);
        if v.name.is_empty() {
            errs.push(FieldError::required(vpath.child("name"), ""));
        } else if let Some(msg) = dns1123_label_error(&v.name) {
            errs.push(FieldError::invalid(vpath.child("name"), &v.name, msg));
        } else if !names.insert(v.name.as_str()) {
            errs.push(FieldError::duplicate(vpath.child("name"), &v.name));
        }
        let mut sources = 0;
        if let Some(host_path) = &v.host_path {
            sources += 1;
            if host_path.path.is_empty() {
                errs.push(FieldError::required(
                    vpath.child("hostPath").child("path"),
                    "",
                ));
            }
        }
        if v.empty_dir.is_some() {
            if sources > 0 {
                errs.push(FieldError::forbidden(
                    vpath.child("emptyDir"),
                    "may not specify more than 1 volume type",
                ));
            }
            sources += 1;
        }
        if sources == 0 {
            errs.push(FieldError::required(&vpath, "must specify a volume type"));
        }
    }
    names
}

/// Checks one container (everything but the uniqueness of its name within the pod).
fn validate_container(
    c: &Container,
    path: &FieldPath,
    volumes: &BTreeSet<&str>,
    errs: &mut FieldErrors,
) {
    if c.name.is_empty() {
        errs.push(FieldError::required(path.child("name"), ""));
    } else if let Some(msg) = dns1123_label_error(&c.name) {
        errs.push(FieldError::invalid(path.child("name"), &c.name, msg));
    }
    if c.image.is_empty() {
        errs.push(FieldError::required(path.child("image"), ""));
    } else if c.image.trim() != c.image {
        errs.push(FieldError::invalid(
            path.child("image"),
            &c.image,
            "must not have leading or trailing whitespace",
        ));
    }
    if !c.image_pull_policy.is_empty() && !PULL_POLICIES.contains(&c.image_pull_policy.as_str()) {
        errs.push(FieldError::not_supported(
            path.child("imagePullPolicy"),
            &c.image_pull_policy,
            PULL_POLICIES,
        ));
    }
    validate_container_ports(&c.ports, &path.child("ports"), errs);
    for (k, env) in c.env.iter().enumerate() {
        let name = path.child("env").index(k).child("name");
        if env.name.is_empty() {
            errs.push(FieldError::required(name, ""));
        } else if let Some(msg) = env_var_name_error(&env.name) {
            errs.push(FieldError::invalid(name, &env.name, msg));
        }
    }
    validate_resources(&c.resources, &path.child("resources"), errs);
    let mut mount_paths = BTreeSet::new();
    for (k, m) in c.volume_mounts.iter().enumerate() {
        let mpath = path.child("volumeMounts").index(k);
        if m.name.is_empty() {
            errs.push(FieldError::required(mpath.child("name"), ""));
        } else if !volumes.contains(m.name.as_str()) {
            errs.push(FieldError::not_found(mpath.child("name"), &m.name));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(mpath.child("mountPath"), ""));
        } else if !mount_paths.insert(m.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                mpath.child("mountPath"),
                &m.mount_path,
                "must be unique",
            ));
        }
    }
    if let Some(probe) = &c.liveness_probe {
        validate_probe(probe, &path.child("livenessProbe"), errs);
    }
}

/// Checks the ports of one container; port names must be unique within it.
fn validate_container_ports(ports: &[ContainerPort], path: &FieldPath, errs: &mut FieldErrors) {
    let mut names = BTreeSet::new();
    for (j, p) in ports.iter().enumerate() {
        let ppath = path.index(j);
        if !p.name.is_empty() {
            if let Some(msg) = iana_svc_name_error(&p.name) {
                errs.push(FieldError::invalid(ppath.child("name"), &p.name, msg));
            } else if !names.insert(p.name.as_str()) {
                errs.push(FieldError::duplicate(ppath.child("name"), &p.name));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(ppath.child("containerPort"), ""));
        } else if !is_port(p.container_port) {
            errs.push(FieldError::invalid(
                ppath.child("containerPort"),
                p.container_port,
                PORT_RANGE_MSG,
            ));
        }
        if p.host_port != 0 && !is_port(p.host_port) {
            errs.push(FieldError::invalid(
                ppath.child("hostPort"),
                p.host_port,
                PORT_RANGE_MSG,
            ));
        }
        validate_protocol(&p.protocol, &ppath.child("protocol"), errs);
        if !p.host_ip.is_empty() && !is_ip(&p.host_ip) {
            errs.push(FieldError::invalid(
                ppath.child("hostIP"),
                &p.host_ip,
                "must be a valid IP address",
            ));
        }
    }
}

/// Checks a port protocol; empty means TCP (defaulting fills it).
pub(super) fn validate_protocol(protocol: &str, path: &FieldPath, errs: &mut FieldErrors) {
    if !protocol.is_empty() && !PROTOCOLS.contains(&protocol) {
        errs.push(FieldError::not_supported(path, protocol, PROTOCOLS));
    }
}

/// Reports a `(hostPort, protocol, hostIP)` used twice anywhere in the pod.
fn validate_host_ports(spec: &PodSpec, containers: &FieldPath, errs: &mut FieldErrors) {
    let mut seen = BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        for (j, p) in c.ports.iter().enumerate() {
            if p.host_port == 0 {
                continue;
            }
            let protocol = if p.protocol.is_empty() {
                "TCP"
            } else {
                p.protocol.as_str()
            };
            let host_ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                p.host_ip.as_str()
            };
            if !seen.insert((p.host_port, protocol, host_ip)) {
                let value = if p.host_ip.is_empty() {
                    format!("{}/{protocol}", p.host_port)
                } else {
                    format!("{}:{}/{protocol}", p.host_ip, p.host_port)
                };
                let field = containers
                    .index(i)
                    .child("ports")
                    .index(j)
                    .child("hostPort");
                errs.push(FieldError::duplicate(field, value));
            }
        }
    }
}

/// Checks limits and requests, and that no request exceeds its limit.
fn validate_resources(r: &ResourceRequirements, path: &FieldPath, errs: &mut FieldErrors) {
    let limits = validate_resource_list(&r.limits, &path.child("limits"), errs);
    let requests_path = path.child("requests");
    let requests = validate_resource_list(&r.requests, &requests_path, errs);
    for (name, request) in &requests {
        let Some(limit) = limits.get(name) else {
            continue;
        };
        if compare_quantities(request, limit) == Ordering::Greater {
            let value = r
                .requests
                .get(*name)
                .map(|q| q.0.as_str())
                .unwrap_or_default();
            errs.push(FieldError::invalid(
                requests_path.key(name),
                value,
                format!("must be less than or equal to {name} limit"),
            ));
        }
    }
}

/// Checks a probe: exactly one handler, valid ports, non-negative numbers.
fn validate_probe(probe: &Probe, path: &FieldPath, errs: &mut FieldErrors) {
    const MORE_THAN_ONE: &str = "may not specify more than 1 handler type";
    let mut handlers = 0;
    if let Some(exec) = &probe.exec {
        handlers += 1;
        if exec.command.is_empty() {
            errs.push(FieldError::required(
                path.child("exec").child("command"),
                "",
            ));
        }
    }
    if let Some(http) = &probe.http_get {
        let hpath = path.child("httpGet");
        if handlers > 0 {
            errs.push(FieldError::forbidden(&hpath, MORE_THAN_ONE));
        } else {
            handlers += 1;
            validate_port_num_or_name(&http.port, &hpath.child("port"), errs);
            if !http.scheme.is_empty() && !HTTP_SCHEMES.contains(&http.scheme.as_str()) {
                errs.push(FieldError::not_supported(
                    hpath.child("scheme"),
                    &http.scheme,
                    HTTP_SCHEMES,
                ));
            }
        }
    }
    if let Some(tcp) = &probe.tcp_socket {
        let tpath = path.child("tcpSocket");
        if handlers > 0 {
            errs.push(FieldError::forbidden(&tpath, MORE_THAN_ONE));
        } else {
            handlers += 1;
            validate_port_num_or_name(&tcp.port, &tpath.child("port"), errs);
        }
    }
    if handlers == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    let numbers = [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (name, value) in numbers {
        if value < 0 {
            errs.push(FieldError::invalid(
                path.child(name),
                value,
                NON_NEGATIVE_MSG,
            ));
        }
    }
}

/// Checks a port given as a number (1..=65535) or as an IANA_SVC_NAME.
pub(super) fn validate_port_num_or_name(
    port: &IntOrString,
    path: &FieldPath,
    errs: &mut FieldErrors,
) {
    match port {
        IntOrString::Int(n) if !is_port(*n) => {
            errs.push(FieldError::invalid(path, n, PORT_RANGE_MSG));
        }
        IntOrString::String(s) => {
            if let Some(msg) = iana_svc_name_error(s) {
                errs.push(FieldError::invalid(path, s, msg));
            }
        }
        IntOrString::Int(_) => {}
    }
}

#[cfg(test)]
#[path = "pod_tests.rs"]
pub(super) mod tests;
