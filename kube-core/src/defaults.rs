//! Defaulting of API objects, following the core/v1 defaults of Kubernetes.
//!
//! Defaults only fill fields that are empty, so applying them twice gives the same object as
//! applying them once. They never touch `metadata.namespace` (the server sets it from the
//! request) and run before validation.
//!
//! Beyond the obvious ones (protocols `TCP`, restart policy `Always`, service type
//! `ClusterIP`, ...), Kubernetes rules reproduced here are:
//! - a pod's containers get requests equal to their limits for resources with a limit but no
//!   request (pods only, not templates, as in Kubernetes);
//! - a volume with no source becomes an `emptyDir`;
//! - `terminationGracePeriodSeconds` becomes 30;
//! - an HTTP probe gets path `/` and scheme `HTTP`.
//!
//! An event's `count` is left alone (Kubernetes does not default it; recorders set it to 1).
//! A lease's `leaseTransitions` becomes 0 once it has a holder, so take-overs can count from it.

use crate::endpoints::Endpoints;
use crate::event::Event;
use crate::intstr::IntOrString;
use crate::node::Node;
use crate::pod::{
    Container, EmptyDirVolumeSource, Pod, PodSpec, PodTemplateSpec, Probe, PULL_ALWAYS,
    PULL_IF_NOT_PRESENT, RESTART_ALWAYS,
};
use crate::replication_controller::ReplicationController;
use crate::service::Service;

/// Fills in defaults the way Kubernetes does, idempotently.
pub trait Defaults {
    /// Applies defaults in place (never touches `metadata.namespace`).
    fn apply_defaults(&mut self);
}

/// Protocol of ports that do not name one.
pub const DEFAULT_PROTOCOL: &str = "TCP";
/// Service type when none is given.
pub const DEFAULT_SERVICE_TYPE: &str = "ClusterIP";
/// Session affinity when none is given.
pub const DEFAULT_SESSION_AFFINITY: &str = "None";
/// Event type when none is given.
pub const DEFAULT_EVENT_TYPE: &str = "Normal";
/// Seconds a pod is given to stop gracefully when the spec does not say.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// Replicas of a controller that does not say.
pub const DEFAULT_REPLICAS: i32 = 1;

/// Probe timeout when 0.
const DEFAULT_PROBE_TIMEOUT_SECONDS: i32 = 1;
/// Probe period when 0.
const DEFAULT_PROBE_PERIOD_SECONDS: i32 = 10;
/// Probe success threshold when 0.
const DEFAULT_PROBE_SUCCESS_THRESHOLD: i32 = 1;
/// Probe failure threshold when 0.
const DEFAULT_PROBE_FAILURE_THRESHOLD: i32 = 3;

/// The pull policy Kubernetes gives an image: `Always` when its tag is `latest` or it has
/// neither tag nor digest, `IfNotPresent` otherwise.
///
/// `host:5000/img` has a registry port, not a tag (the tag is only looked for after the last
/// `/`); `img@sha256:...` is pinned by digest.
pub fn default_image_pull_policy(image: &str) -> &'static str {
    if image.trim().is_empty() {
        // Unparsable in Kubernetes, which then falls back to IfNotPresent.
        return PULL_IF_NOT_PRESENT;
    }
    let (name, has_digest) = match image.split_once('@') {
        Some((name, _)) => (name, true),
        None => (image, false),
    };
    let last = name.rsplit_once('/').map_or(name, |(_, last)| last);
    match last.split_once(':') {
        Some((_, "latest")) => PULL_ALWAYS,
        Some(_) => PULL_IF_NOT_PRESENT,
        None if has_digest => PULL_IF_NOT_PRESENT,
        None => PULL_ALWAYS,
    }
}

fn fill(field: &mut String, value: &str) {
    if field.is_empty() {
        *field = value.to_string();
    }
}

fn fill_int(field: &mut i32, value: i32) {
    if *field == 0 {
        *field = value;
    }
}

impl Defaults for Probe {
    fn apply_defaults(&mut self) {
        fill_int(&mut self.timeout_seconds, DEFAULT_PROBE_TIMEOUT_SECONDS);
        fill_int(&mut self.period_seconds, DEFAULT_PROBE_PERIOD_SECONDS);
        fill_int(&mut self.success_threshold, DEFAULT_PROBE_SUCCESS_THRESHOLD);
        fill_int(&mut self.failure_threshold, DEFAULT_PROBE_FAILURE_THRESHOLD);
        if let Some(http) = &mut self.http_get {
            fill(&mut http.path, "/");
            fill(&mut http.scheme, "HTTP");
        }
    }
}

impl Defaults for Container {
    fn apply_defaults(&mut self) {
        for port in &mut self.ports {
            fill(&mut port.protocol, DEFAULT_PROTOCOL);
        }
        if self.image_pull_policy.is_empty() {
            self.image_pull_policy = default_image_pull_policy(&self.image).to_string();
        }
        if let Some(probe) = &mut self.liveness_probe {
            probe.apply_defaults();
        }
    }
}

impl Defaults for PodSpec {
    fn apply_defaults(&mut self) {
        fill(&mut self.restart_policy, RESTART_ALWAYS);
        if self.termination_grace_period_seconds.is_none() {
            self.termination_grace_period_seconds = Some(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
        }
        for volume in &mut self.volumes {
            if volume.host_path.is_none() && volume.empty_dir.is_none() {
                volume.empty_dir = Some(EmptyDirVolumeSource {});
            }
        }
        for container in &mut self.containers {
            container.apply_defaults();
        }
    }
}

impl Defaults for PodTemplateSpec {
    fn apply_defaults(&mut self) {
        self.spec.apply_defaults();
    }
}

impl Defaults for Pod {
    fn apply_defaults(&mut self) {
        self.spec.apply_defaults();
        // A limit without a request means the request equals the limit (pods only).
        for container in &mut self.spec.containers {
            let resources = &mut container.resources;
            for (name, limit) in &resources.limits {
                resources
                    .requests
                    .entry(name.clone())
                    .or_insert_with(|| limit.clone());
            }
        }
    }
}

impl Defaults for ReplicationController {
    fn apply_defaults(&mut self) {
        if let Some(template) = &mut self.spec.template {
            let labels = &template.metadata.labels;
            if !labels.is_empty() {
                if self.spec.selector.is_empty() {
                    self.spec.selector = labels.clone();
                }
                if self.metadata.labels.is_empty() {
                    self.metadata.labels = labels.clone();
                }
            }
            template.apply_defaults();
        }
        if self.spec.replicas.is_none() {
            self.spec.replicas = Some(DEFAULT_REPLICAS);
        }
    }
}

impl Defaults for Service {
    fn apply_defaults(&mut self) {
        for port in &mut self.spec.ports {
            fill(&mut port.protocol, DEFAULT_PROTOCOL);
            let unset = match &port.target_port {
                None => true,
                Some(IntOrString::Int(n)) => *n == 0,
                Some(IntOrString::String(s)) => s.is_empty(),
            };
            if unset {
                port.target_port = Some(IntOrString::Int(port.port));
            }
        }
        fill(&mut self.spec.type_, DEFAULT_SERVICE_TYPE);
        fill(&mut self.spec.session_affinity, DEFAULT_SESSION_AFFINITY);
    }
}

impl Defaults for Endpoints {
    fn apply_defaults(&mut self) {
        for subset in &mut self.subsets {
            for port in &mut subset.ports {
                fill(&mut port.protocol, DEFAULT_PROTOCOL);
            }
        }
    }
}

impl Defaults for Node {
    fn apply_defaults(&mut self) {
        if self.status.allocatable.is_empty() {
            self.status.allocatable = self.status.capacity.clone();
        }
    }
}

impl Defaults for Event {
    fn apply_defaults(&mut self) {
        fill(&mut self.type_, DEFAULT_EVENT_TYPE);
    }
}

impl Defaults for crate::lease::Lease {
    fn apply_defaults(&mut self) {
        let spec = &mut self.spec;
        if !spec.holder_identity.is_empty() && spec.lease_transitions.is_none() {
            spec.lease_transitions = Some(0);
        }
    }
}

impl Defaults for crate::namespace::Namespace {
    /// Kubernetes' `SetDefaults_NamespaceStatus`: an unset phase is `Active`.
    fn apply_defaults(&mut self) {
        fill(&mut self.status.phase, crate::namespace::PHASE_ACTIVE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::{EndpointPort, EndpointSubset};
    use crate::meta::{ObjectMeta, StringMap};
    use crate::pod::{
        ContainerPort, HostPathVolumeSource, HttpGetAction, ResourceList, TcpSocketAction, Volume,
        PULL_NEVER,
    };
    use crate::quantity::Quantity;
    use crate::replication_controller::ReplicationControllerSpec;
    use crate::service::ServicePort;
    use std::fmt::Debug;

    /// `(description, mutation of the minimal object, mutation of that input giving the result)`.
    type Case<T> = (&'static str, fn(&mut T), fn(&mut T));

    /// Checks each case, and that applying the defaults twice equals applying them once.
    fn check<T: Defaults + Clone + PartialEq + Debug>(minimal: T, cases: &[Case<T>]) {
        for (desc, input, expect) in cases {
            let mut obj = minimal.clone();
            input(&mut obj);
            let mut want = obj.clone();
            expect(&mut want);
            obj.apply_defaults();
            assert_eq!(obj, want, "case {desc:?}");
            let once = obj.clone();
            obj.apply_defaults();
            assert_eq!(obj, once, "case {desc:?} is not idempotent");
        }
    }

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn resources(pairs: &[(&str, &str)]) -> ResourceList {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
            .collect()
    }

    #[test]
    fn image_pull_policies() {
        let cases = [
            ("redis", PULL_ALWAYS),
            ("dockerfile/redis", PULL_ALWAYS),
            ("redis:latest", PULL_ALWAYS),
            ("redis:7.2", PULL_IF_NOT_PRESENT),
            ("localhost:5000/redis", PULL_ALWAYS),
            ("localhost:5000/redis:latest", PULL_ALWAYS),
            ("localhost:5000/team/redis:7", PULL_IF_NOT_PRESENT),
            ("redis@sha256:0123abcd", PULL_IF_NOT_PRESENT),
            ("redis:7@sha256:0123abcd", PULL_IF_NOT_PRESENT),
            ("redis:latest@sha256:0123abcd", PULL_ALWAYS),
            ("localhost:5000/redis@sha256:0123abcd", PULL_IF_NOT_PRESENT),
            ("", PULL_IF_NOT_PRESENT),
        ];
        for (image, want) in cases {
            assert_eq!(default_image_pull_policy(image), want, "{image:?}");
        }
    }

    /// A pod with one container and nothing defaulted.
    fn minimal_pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: "redis".into(),
                ..ObjectMeta::default()
            },
            spec: PodSpec {
                containers: vec![Container {
                    name: "redis".into(),
                    image: "dockerfile/redis".into(),
                    ..Container::default()
                }],
                ..PodSpec::default()
            },
            ..Pod::default()
        }
    }

    /// The defaults every minimal pod gets.
    fn pod_basics(p: &mut Pod) {
        p.spec.restart_policy = "Always".into();
        p.spec.termination_grace_period_seconds = Some(30);
        p.spec.containers[0].image_pull_policy = PULL_ALWAYS.into();
    }

    fn c0(p: &mut Pod) -> &mut Container {
        &mut p.spec.containers[0]
    }

    #[test]
    fn pod_defaults() {
        let cases: &[Case<Pod>] = &[
            ("minimal", |_| {}, pod_basics),
            (
                "namespace is left alone",
                |p| p.metadata.namespace.clear(),
                pod_basics,
            ),
            (
                "explicit values are kept",
                |p| {
                    p.spec.restart_policy = "Never".into();
                    p.spec.termination_grace_period_seconds = Some(5);
                    c0(p).image_pull_policy = PULL_NEVER.into();
                },
                |_| {},
            ),
            (
                "tagged image",
                |p| c0(p).image = "redis:7".into(),
                |p| {
                    pod_basics(p);
                    c0(p).image_pull_policy = PULL_IF_NOT_PRESENT.into();
                },
            ),
            (
                "port protocols",
                |p| {
                    c0(p).ports = vec![
                        ContainerPort {
                            container_port: 6379,
                            ..ContainerPort::default()
                        },
                        ContainerPort {
                            container_port: 53,
                            protocol: "UDP".into(),
                            ..ContainerPort::default()
                        },
                    ];
                },
                |p| {
                    pod_basics(p);
                    c0(p).ports[0].protocol = "TCP".into();
                },
            ),
            (
                "probe numbers",
                |p| {
                    c0(p).liveness_probe = Some(Probe {
                        tcp_socket: Some(TcpSocketAction {
                            port: IntOrString::Int(6379),
                            host: String::new(),
                        }),
                        period_seconds: 30,
                        ..Probe::default()
                    });
                },
                |p| {
                    pod_basics(p);
                    let probe = c0(p).liveness_probe.get_or_insert_with(Probe::default);
                    probe.timeout_seconds = 1;
                    probe.success_threshold = 1;
                    probe.failure_threshold = 3;
                },
            ),
            (
                "http probe",
                |p| {
                    c0(p).liveness_probe = Some(Probe {
                        http_get: Some(HttpGetAction {
                            port: IntOrString::Int(80),
                            ..HttpGetAction::default()
                        }),
                        ..Probe::default()
                    });
                },
                |p| {
                    pod_basics(p);
                    let probe = c0(p).liveness_probe.get_or_insert_with(Probe::default);
                    *probe = Probe {
                        http_get: Some(HttpGetAction {
                            path: "/".into(),
                            scheme: "HTTP".into(),
                            port: IntOrString::Int(80),
                            host: String::new(),
                        }),
                        timeout_seconds: 1,
                        period_seconds: 10,
                        success_threshold: 1,
                        failure_threshold: 3,
                        ..Probe::default()
                    };
                },
            ),
            (
                "volume without source",
                |p| {
                    p.spec.volumes = vec![
                        Volume {
                            name: "scratch".into(),
                            ..Volume::default()
                        },
                        Volume {
                            name: "logs".into(),
                            host_path: Some(HostPathVolumeSource {
                                path: "/var/log".into(),
                            }),
                            ..Volume::default()
                        },
                    ];
                },
                |p| {
                    pod_basics(p);
                    p.spec.volumes[0].empty_dir = Some(EmptyDirVolumeSource {});
                },
            ),
            (
                "requests default to limits",
                |p| {
                    c0(p).resources.limits = resources(&[("cpu", "500m"), ("memory", "128Mi")]);
                    c0(p).resources.requests = resources(&[("cpu", "250m")]);
                },
                |p| {
                    pod_basics(p);
                    c0(p)
                        .resources
                        .requests
                        .insert("memory".into(), Quantity("128Mi".into()));
                },
            ),
        ];
        check(minimal_pod(), cases);
    }

    fn minimal_rc() -> ReplicationController {
        let pod = minimal_pod();
        ReplicationController {
            metadata: ObjectMeta {
                name: "redisController".into(),
                ..ObjectMeta::default()
            },
            spec: ReplicationControllerSpec {
                replicas: None,
                selector: StringMap::new(),
                template: Some(PodTemplateSpec {
                    metadata: ObjectMeta {
                        labels: map(&[("name", "redis")]),
                        ..ObjectMeta::default()
                    },
                    spec: pod.spec,
                }),
            },
            ..ReplicationController::default()
        }
    }

    fn template(rc: &mut ReplicationController) -> &mut PodTemplateSpec {
        rc.spec
            .template
            .get_or_insert_with(PodTemplateSpec::default)
    }

    /// The defaults the minimal controller's template gets.
    fn template_basics(rc: &mut ReplicationController) {
        let spec = &mut template(rc).spec;
        spec.restart_policy = "Always".into();
        spec.termination_grace_period_seconds = Some(30);
        spec.containers[0].image_pull_policy = PULL_ALWAYS.into();
    }

    fn rc_basics(rc: &mut ReplicationController) {
        template_basics(rc);
        rc.spec.replicas = Some(1);
        rc.spec.selector = map(&[("name", "redis")]);
        rc.metadata.labels = map(&[("name", "redis")]);
    }

    #[test]
    fn rc_defaults() {
        let cases: &[Case<ReplicationController>] = &[
            ("minimal", |_| {}, rc_basics),
            (
                "explicit replicas are kept, even 0",
                |rc| rc.spec.replicas = Some(0),
                |rc| {
                    rc_basics(rc);
                    rc.spec.replicas = Some(0);
                },
            ),
            (
                "explicit selector and labels are kept",
                |rc| {
                    rc.spec.selector = map(&[("app", "redis")]);
                    rc.metadata.labels = map(&[("team", "a")]);
                },
                |rc| {
                    template_basics(rc);
                    rc.spec.replicas = Some(1);
                },
            ),
            (
                "template without labels",
                |rc| template(rc).metadata.labels.clear(),
                |rc| {
                    template_basics(rc);
                    rc.spec.replicas = Some(1);
                },
            ),
            (
                "no template",
                |rc| rc.spec.template = None,
                |rc| rc.spec.replicas = Some(1),
            ),
            (
                "template limits do not become requests",
                |rc| {
                    template(rc).spec.containers[0].resources.limits = resources(&[("cpu", "1")]);
                },
                rc_basics,
            ),
        ];
        check(minimal_rc(), cases);
    }

    fn minimal_service() -> Service {
        let mut s = Service::default();
        s.metadata.name = "redismaster".into();
        s.spec.ports = vec![ServicePort {
            port: 10000,
            ..ServicePort::default()
        }];
        s
    }

    fn service_basics(s: &mut Service) {
        s.spec.ports[0].protocol = "TCP".into();
        s.spec.ports[0].target_port = Some(IntOrString::Int(10000));
        s.spec.type_ = "ClusterIP".into();
        s.spec.session_affinity = "None".into();
    }

    #[test]
    fn service_defaults() {
        let cases: &[Case<Service>] = &[
            ("minimal", |_| {}, service_basics),
            (
                "target port 0",
                |s| s.spec.ports[0].target_port = Some(IntOrString::Int(0)),
                service_basics,
            ),
            (
                "empty named target port",
                |s| s.spec.ports[0].target_port = Some(IntOrString::String(String::new())),
                service_basics,
            ),
            (
                "explicit values are kept",
                |s| {
                    s.spec.ports[0].protocol = "UDP".into();
                    s.spec.ports[0].target_port = Some(IntOrString::String("redis".into()));
                    s.spec.type_ = "NodePort".into();
                    s.spec.session_affinity = "ClientIP".into();
                },
                |_| {},
            ),
            (
                "cluster IP is not invented",
                |s| s.spec.cluster_ip.clear(),
                service_basics,
            ),
        ];
        check(minimal_service(), cases);
    }

    #[test]
    fn endpoints_node_and_event_defaults() {
        let mut ep = Endpoints::default();
        ep.subsets.push(EndpointSubset {
            ports: vec![
                EndpointPort {
                    port: 6379,
                    ..EndpointPort::default()
                },
                EndpointPort {
                    port: 53,
                    protocol: "UDP".into(),
                    ..EndpointPort::default()
                },
            ],
            ..EndpointSubset::default()
        });
        check(
            ep,
            &[(
                "port protocols",
                |_| {},
                |e| e.subsets[0].ports[0].protocol = "TCP".into(),
            )],
        );

        let mut node = Node::default();
        node.status.capacity = resources(&[("cpu", "4"), ("memory", "8Gi")]);
        let node_cases: &[Case<Node>] = &[
            (
                "allocatable from capacity",
                |_| {},
                |n| n.status.allocatable = n.status.capacity.clone(),
            ),
            (
                "explicit allocatable is kept",
                |n| n.status.allocatable = resources(&[("cpu", "3")]),
                |_| {},
            ),
            ("nothing to copy", |n| n.status.capacity.clear(), |_| {}),
        ];
        check(node, node_cases);

        let event_cases: &[Case<Event>] = &[
            ("type", |_| {}, |e| e.type_ = "Normal".into()),
            (
                "explicit type is kept, count is not defaulted",
                |e| e.type_ = "Warning".into(),
                |_| {},
            ),
        ];
        check(Event::default(), event_cases);
    }

    #[test]
    fn lease_defaults_count_transitions_from_zero_once_held() {
        use crate::lease::{Lease, LeaseSpec};
        let cases = [
            ("", None, None),
            ("a", None, Some(0)),
            ("a", Some(3), Some(3)),
            ("", Some(2), Some(2)),
        ];
        for (holder, transitions, want) in cases {
            let mut lease = Lease {
                spec: LeaseSpec {
                    holder_identity: holder.into(),
                    lease_transitions: transitions,
                    ..LeaseSpec::default()
                },
                ..Lease::default()
            };
            lease.apply_defaults();
            assert_eq!(
                lease.spec.lease_transitions, want,
                "{holder:?} {transitions:?}"
            );
            let once = lease.clone();
            lease.apply_defaults();
            assert_eq!(lease, once, "idempotent");
        }
    }
}
