//! Table tests of pod validation; `valid_pod_spec` is shared with the controller tests.

use super::super::testutil::{check_create, check_update, pairs, Case};
use super::super::Validate;
use crate::intstr::IntOrString;
use crate::meta::ObjectMeta;
use crate::pod::{
    Container, ContainerPort, EmptyDirVolumeSource, EnvVar, ExecAction, HostPathVolumeSource,
    HttpGetAction, Pod, PodSpec, Probe, ResourceRequirements, TcpSocketAction, Volume, VolumeMount,
};
use crate::quantity::Quantity;
use std::collections::BTreeMap;

const REQ: &str = "FieldValueRequired";
const INV: &str = "FieldValueInvalid";
const DUP: &str = "FieldValueDuplicate";
const UNS: &str = "FieldValueNotSupported";
const FORB: &str = "FieldValueForbidden";
const NF: &str = "FieldValueNotFound";

fn resources(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

/// A container with only a name and an image.
pub(in crate::validation) fn container(name: &str, image: &str) -> Container {
    Container {
        name: name.into(),
        image: image.into(),
        ..Container::default()
    }
}

/// A container port with a container port, host port and protocol.
fn port(container_port: i32, host_port: i32, protocol: &str) -> ContainerPort {
    ContainerPort {
        container_port,
        host_port,
        protocol: protocol.into(),
        ..ContainerPort::default()
    }
}

/// A valid pod spec using most features: a volume, ports, env, resources, a probe.
pub(in crate::validation) fn valid_pod_spec() -> PodSpec {
    PodSpec {
        volumes: vec![Volume {
            name: "data".into(),
            empty_dir: Some(EmptyDirVolumeSource {}),
            ..Volume::default()
        }],
        containers: vec![Container {
            ports: vec![ContainerPort {
                name: "redis".into(),
                ..port(6379, 6379, "TCP")
            }],
            env: vec![EnvVar {
                name: "MODE".into(),
                value: "master".into(),
            }],
            resources: ResourceRequirements {
                limits: resources(&[("cpu", "500m"), ("memory", "128Mi")]),
                requests: resources(&[("cpu", "250m"), ("memory", "64Mi")]),
            },
            volume_mounts: vec![VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                read_only: false,
            }],
            liveness_probe: Some(Probe {
                tcp_socket: Some(TcpSocketAction {
                    port: IntOrString::Int(6379),
                    host: String::new(),
                }),
                timeout_seconds: 1,
                period_seconds: 10,
                success_threshold: 1,
                failure_threshold: 3,
                ..Probe::default()
            }),
            image_pull_policy: "IfNotPresent".into(),
            ..container("redis", "dockerfile/redis")
        }],
        restart_policy: "Always".into(),
        node_selector: [("disk".to_string(), "ssd".to_string())].into(),
        ..PodSpec::default()
    }
}

fn valid_pod() -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: "redis".into(),
            namespace: "default".into(),
            uid: "uid-1".into(),
            labels: [("name".to_string(), "redis".to_string())].into(),
            annotations: [("example.com/owner".to_string(), "team a".to_string())].into(),
            ..ObjectMeta::default()
        },
        spec: valid_pod_spec(),
        ..Pod::default()
    }
}

/// The first container of a pod.
fn c0(p: &mut Pod) -> &mut Container {
    &mut p.spec.containers[0]
}

fn probe(p: &mut Pod) -> &mut Probe {
    c0(p).liveness_probe.get_or_insert_with(Probe::default)
}

const C0: &str = "spec.containers[0]";

#[test]
fn pod_create_cases() {
    let cases: &[Case<Pod>] = &[
        (
            "minimal pod",
            |p| {
                p.spec = PodSpec {
                    containers: vec![container("a", "b")],
                    ..PodSpec::default()
                }
            },
            &[],
        ),
        (
            "no name",
            |p| p.metadata.name.clear(),
            &[("metadata.name", REQ)],
        ),
        (
            "uppercase name",
            |p| p.metadata.name = "Foo_bar".into(),
            &[("metadata.name", INV)],
        ),
        (
            "dotted name is a subdomain",
            |p| p.metadata.name = "redis.master-0".into(),
            &[],
        ),
        (
            "bad namespace",
            |p| p.metadata.namespace = "a.b".into(),
            &[("metadata.namespace", INV)],
        ),
        (
            "bad label key",
            |p| {
                p.metadata.labels.insert("-bad".into(), "x".into());
            },
            &[("metadata.labels", INV)],
        ),
        (
            "bad label value",
            |p| {
                p.metadata.labels.insert("ok".into(), "bad value".into());
            },
            &[("metadata.labels", INV)],
        ),
        (
            "bad annotation key",
            |p| {
                p.metadata.annotations.insert("a b".into(), "x".into());
            },
            &[("metadata.annotations", INV)],
        ),
        (
            "no containers",
            |p| p.spec.containers.clear(),
            &[("spec.containers", REQ)],
        ),
        (
            "container without name",
            |p| c0(p).name.clear(),
            &[("spec.containers[0].name", REQ)],
        ),
        (
            "container name not a label",
            |p| c0(p).name = "Redis_1".into(),
            &[("spec.containers[0].name", INV)],
        ),
        (
            "duplicate container names",
            |p| p.spec.containers.push(container("redis", "img")),
            &[("spec.containers[1].name", DUP)],
        ),
        (
            "no image",
            |p| c0(p).image.clear(),
            &[("spec.containers[0].image", REQ)],
        ),
        (
            "image with whitespace",
            |p| c0(p).image = " redis".into(),
            &[("spec.containers[0].image", INV)],
        ),
        (
            "bad pull policy",
            |p| c0(p).image_pull_policy = "PullIfNotPresent".into(),
            &[("spec.containers[0].imagePullPolicy", UNS)],
        ),
        (
            "container port 0",
            |p| c0(p).ports[0].container_port = 0,
            &[("spec.containers[0].ports[0].containerPort", REQ)],
        ),
        (
            "container port too big",
            |p| c0(p).ports[0].container_port = 70000,
            &[("spec.containers[0].ports[0].containerPort", INV)],
        ),
        (
            "negative host port",
            |p| c0(p).ports[0].host_port = -1,
            &[("spec.containers[0].ports[0].hostPort", INV)],
        ),
        (
            "unsupported protocol",
            |p| c0(p).ports[0].protocol = "ICMP".into(),
            &[("spec.containers[0].ports[0].protocol", UNS)],
        ),
        (
            "empty protocol means TCP",
            |p| c0(p).ports[0].protocol.clear(),
            &[],
        ),
        (
            "bad port name",
            |p| c0(p).ports[0].name = "Redis".into(),
            &[("spec.containers[0].ports[0].name", INV)],
        ),
        (
            "port name without letters",
            |p| c0(p).ports[0].name = "6379".into(),
            &[("spec.containers[0].ports[0].name", INV)],
        ),
        (
            "duplicate port names",
            |p| {
                c0(p).ports.push(ContainerPort {
                    name: "redis".into(),
                    ..port(6380, 0, "TCP")
                })
            },
            &[("spec.containers[0].ports[1].name", DUP)],
        ),
        (
            "duplicate host port across containers",
            |p| {
                let mut c = container("sidecar", "busybox");
                c.ports.push(port(8080, 6379, ""));
                p.spec.containers.push(c);
            },
            &[("spec.containers[1].ports[0].hostPort", DUP)],
        ),
        (
            "duplicate host port within a container",
            |p| c0(p).ports.push(port(6380, 6379, "TCP")),
            &[("spec.containers[0].ports[1].hostPort", DUP)],
        ),
        (
            "same host port, other protocol",
            |p| c0(p).ports.push(port(6379, 6379, "UDP")),
            &[],
        ),
        (
            "same host port, other host IP",
            |p| {
                c0(p).ports.push(ContainerPort {
                    host_ip: "10.0.0.1".into(),
                    ..port(6380, 6379, "TCP")
                })
            },
            &[],
        ),
        (
            "bad host IP",
            |p| c0(p).ports[0].host_ip = "10.0.0".into(),
            &[("spec.containers[0].ports[0].hostIP", INV)],
        ),
        (
            "env without name",
            |p| c0(p).env[0].name.clear(),
            &[("spec.containers[0].env[0].name", REQ)],
        ),
        (
            "env name starting with a digit",
            |p| c0(p).env[0].name = "1MODE".into(),
            &[("spec.containers[0].env[0].name", INV)],
        ),
        (
            "unparsable limit",
            |p| {
                c0(p)
                    .resources
                    .limits
                    .insert("cpu".into(), Quantity("lots".into()));
            },
            &[("spec.containers[0].resources.limits[cpu]", INV)],
        ),
        (
            "negative request",
            |p| {
                c0(p)
                    .resources
                    .requests
                    .insert("memory".into(), Quantity("-64Mi".into()));
            },
            &[("spec.containers[0].resources.requests[memory]", INV)],
        ),
        (
            "request above limit",
            |p| {
                c0(p)
                    .resources
                    .requests
                    .insert("cpu".into(), Quantity("1".into()));
            },
            &[("spec.containers[0].resources.requests[cpu]", INV)],
        ),
        (
            "request equal to limit",
            |p| {
                c0(p)
                    .resources
                    .requests
                    .insert("memory".into(), Quantity("128Mi".into()));
            },
            &[],
        ),
        (
            "request without limit",
            |p| {
                c0(p)
                    .resources
                    .requests
                    .insert("example.com/gpu".into(), Quantity("2".into()));
            },
            &[],
        ),
        (
            "bad resource name",
            |p| {
                c0(p)
                    .resources
                    .limits
                    .insert("bad name".into(), Quantity("1".into()));
            },
            &[("spec.containers[0].resources.limits[bad name]", INV)],
        ),
        (
            "unsupported restart policy",
            |p| p.spec.restart_policy = "Sometimes".into(),
            &[("spec.restartPolicy", UNS)],
        ),
        (
            "probe without handler",
            |p| probe(p).tcp_socket = None,
            &[("spec.containers[0].livenessProbe", REQ)],
        ),
        (
            "probe with two handlers",
            |p| {
                probe(p).exec = Some(ExecAction {
                    command: vec!["true".into()],
                })
            },
            &[("spec.containers[0].livenessProbe.tcpSocket", FORB)],
        ),
        (
            "probe with three handlers",
            |p| {
                probe(p).exec = Some(ExecAction {
                    command: vec!["true".into()],
                });
                probe(p).http_get = Some(HttpGetAction {
                    port: IntOrString::Int(80),
                    ..HttpGetAction::default()
                });
            },
            &[
                ("spec.containers[0].livenessProbe.httpGet", FORB),
                ("spec.containers[0].livenessProbe.tcpSocket", FORB),
            ],
        ),
        (
            "exec probe without command",
            |p| {
                probe(p).tcp_socket = None;
                probe(p).exec = Some(ExecAction::default());
            },
            &[("spec.containers[0].livenessProbe.exec.command", REQ)],
        ),
        (
            "probe port 0",
            |p| {
                probe(p).tcp_socket = Some(TcpSocketAction {
                    port: IntOrString::Int(0),
                    host: String::new(),
                })
            },
            &[("spec.containers[0].livenessProbe.tcpSocket.port", INV)],
        ),
        (
            "probe with named port",
            |p| {
                probe(p).tcp_socket = Some(TcpSocketAction {
                    port: IntOrString::String("redis".into()),
                    host: String::new(),
                })
            },
            &[],
        ),
        (
            "probe with bad port name",
            |p| {
                probe(p).tcp_socket = Some(TcpSocketAction {
                    port: IntOrString::String("re--dis".into()),
                    host: String::new(),
                })
            },
            &[("spec.containers[0].livenessProbe.tcpSocket.port", INV)],
        ),
        (
            "http probe with bad scheme",
            |p| {
                probe(p).tcp_socket = None;
                probe(p).http_get = Some(HttpGetAction {
                    port: IntOrString::Int(80),
                    scheme: "FTP".into(),
                    ..HttpGetAction::default()
                });
            },
            &[("spec.containers[0].livenessProbe.httpGet.scheme", UNS)],
        ),
        (
            "negative probe numbers",
            |p| {
                probe(p).timeout_seconds = -1;
                probe(p).initial_delay_seconds = -5;
            },
            &[
                ("spec.containers[0].livenessProbe.timeoutSeconds", INV),
                ("spec.containers[0].livenessProbe.initialDelaySeconds", INV),
            ],
        ),
        (
            "bad volume name",
            |p| p.spec.volumes[0].name = "Data".into(),
            &[
                ("spec.volumes[0].name", INV),
                ("spec.containers[0].volumeMounts[0].name", NF),
            ],
        ),
        (
            "volume without name",
            |p| p.spec.volumes[0].name.clear(),
            &[
                ("spec.volumes[0].name", REQ),
                ("spec.containers[0].volumeMounts[0].name", NF),
            ],
        ),
        (
            "duplicate volume",
            |p| {
                let v = p.spec.volumes[0].clone();
                p.spec.volumes.push(v);
            },
            &[("spec.volumes[1].name", DUP)],
        ),
        (
            "volume without source",
            |p| p.spec.volumes[0].empty_dir = None,
            &[("spec.volumes[0]", REQ)],
        ),
        (
            "volume with two sources",
            |p| {
                p.spec.volumes[0].host_path = Some(HostPathVolumeSource {
                    path: "/srv".into(),
                })
            },
            &[("spec.volumes[0].emptyDir", FORB)],
        ),
        (
            "host path without path",
            |p| {
                p.spec.volumes[0].empty_dir = None;
                p.spec.volumes[0].host_path = Some(HostPathVolumeSource::default());
            },
            &[("spec.volumes[0].hostPath.path", REQ)],
        ),
        (
            "mount of an unknown volume",
            |p| c0(p).volume_mounts[0].name = "logs".into(),
            &[("spec.containers[0].volumeMounts[0].name", NF)],
        ),
        (
            "mount without name",
            |p| c0(p).volume_mounts[0].name.clear(),
            &[("spec.containers[0].volumeMounts[0].name", REQ)],
        ),
        (
            "mount without path",
            |p| c0(p).volume_mounts[0].mount_path.clear(),
            &[("spec.containers[0].volumeMounts[0].mountPath", REQ)],
        ),
        (
            "two mounts on one path",
            |p| {
                let m = c0(p).volume_mounts[0].clone();
                c0(p).volume_mounts.push(m);
            },
            &[("spec.containers[0].volumeMounts[1].mountPath", INV)],
        ),
        (
            "bad node selector",
            |p| {
                p.spec
                    .node_selector
                    .insert("disk".into(), "fast ssd".into());
            },
            &[("spec.nodeSelector", INV)],
        ),
        (
            "bad node name",
            |p| p.spec.node_name = "Node_1".into(),
            &[("spec.nodeName", INV)],
        ),
        (
            "negative grace period",
            |p| p.spec.termination_grace_period_seconds = Some(-1),
            &[("spec.terminationGracePeriodSeconds", INV)],
        ),
        (
            "many errors at once",
            |p| {
                p.metadata.name.clear();
                p.metadata.labels.insert("bad key".into(), "v".into());
                p.spec.restart_policy = "Sometimes".into();
                let c = c0(p);
                c.name = "Bad_Name".into();
                c.image.clear();
                c.ports[0].container_port = 0;
                c.ports[0].protocol = "ICMP".into();
                c.env[0].name = "1X".into();
                c.resources
                    .requests
                    .insert("cpu".into(), Quantity("2".into()));
                c.volume_mounts[0].name = "nope".into();
                let mut other = container("", "");
                other.ports.push(port(80, 6379, "ICMP"));
                p.spec.containers.push(other);
            },
            &[
                ("metadata.name", REQ),
                ("metadata.labels", INV),
                ("spec.restartPolicy", UNS),
                ("spec.containers[0].name", INV),
                ("spec.containers[0].image", REQ),
                ("spec.containers[0].ports[0].containerPort", REQ),
                ("spec.containers[0].ports[0].protocol", UNS),
                ("spec.containers[0].env[0].name", INV),
                ("spec.containers[0].resources.requests[cpu]", INV),
                ("spec.containers[0].volumeMounts[0].name", NF),
                ("spec.containers[1].name", REQ),
                ("spec.containers[1].image", REQ),
                ("spec.containers[1].ports[0].protocol", UNS),
                ("spec.containers[1].ports[0].hostPort", DUP),
            ],
        ),
    ];
    check_create(&valid_pod(), cases);
}

#[test]
fn pod_update_cases() {
    let cases: &[Case<Pod>] = &[
        ("change an image", |p| c0(p).image = "redis:7".into(), &[]),
        (
            "change labels and annotations",
            |p| {
                p.metadata.labels.insert("tier".into(), "cache".into());
                p.metadata.annotations.clear();
            },
            &[],
        ),
        ("change status", |p| p.status.phase = "Running".into(), &[]),
        (
            "rename",
            |p| p.metadata.name = "redis2".into(),
            &[("metadata.name", INV)],
        ),
        (
            "move namespace",
            |p| p.metadata.namespace = "other".into(),
            &[("metadata.namespace", INV)],
        ),
        (
            "change uid",
            |p| p.metadata.uid = "uid-2".into(),
            &[("metadata.uid", INV)],
        ),
        (
            "add a container",
            |p| p.spec.containers.push(container("b", "busybox")),
            &[("spec", FORB)],
        ),
        (
            "change restart policy",
            |p| p.spec.restart_policy = "Never".into(),
            &[("spec", FORB)],
        ),
        (
            "change a port",
            |p| c0(p).ports[0].host_port = 6380,
            &[("spec", FORB)],
        ),
        (
            "bind to a node",
            |p| p.spec.node_name = "node-1".into(),
            &[("spec", FORB)],
        ),
        (
            "image change is still validated",
            |p| c0(p).image.clear(),
            &[("spec.containers[0].image", REQ)],
        ),
        (
            "invalid change reports both",
            |p| c0(p).ports[0].container_port = 0,
            &[
                ("spec", FORB),
                ("spec.containers[0].ports[0].containerPort", REQ),
            ],
        ),
    ];
    check_update(&valid_pod(), cases);
}

#[test]
fn pod_messages_read_like_kubernetes() {
    let mut pod = valid_pod();
    pod.metadata.name = "Foo_bar".into();
    pod.spec.restart_policy = "Sometimes".into();
    c0(&mut pod).image.clear();
    let msgs: Vec<String> = pod.validate().iter().map(|e| e.message()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert!(msgs[0].starts_with(
        "metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC 1123 subdomain must consist of"
    ));
    assert!(
        msgs.contains(&format!("{C0}.image: Required value")),
        "{msgs:#?}"
    );
    assert!(msgs.contains(
        &"spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"".to_string()
    ));

    let mut two = valid_pod();
    two.spec.containers.push(container("redis", "img"));
    let errs = two.validate();
    assert_eq!(
        pairs(&errs),
        vec![("spec.containers[1].name".to_string(), DUP.to_string())]
    );
    assert_eq!(
        errs[0].message(),
        "spec.containers[1].name: Duplicate value: \"redis\""
    );
}
