use super::*;
use crate::pod::{ContainerPort, EnvVar, HostPathVolumeSource, Volume, VolumeMount};
use crate::quantity::Quantity;
use crate::testing::PodBuilder;

fn ctx<'a>(extra: &'a BTreeMap<String, String>) -> NodeContext<'a> {
    NodeContext {
        node_name: "n1",
        infra_image: "kube-test/pause:latest",
        default_host_ip: "127.0.0.1".parse().unwrap(),
        volume_root: "/var/lib/kubelet/pods/",
        extra_labels: extra,
    }
}

fn port(container: i32, host: i32, ip: &str, proto: &str) -> ContainerPort {
    ContainerPort {
        container_port: container,
        host_port: host,
        host_ip: ip.into(),
        protocol: proto.into(),
        ..ContainerPort::default()
    }
}

#[test]
fn infra_publishes_host_ports_on_loopback_by_default() {
    let extra: BTreeMap<String, String> = [("kube-test.run".to_string(), "r1".to_string())].into();
    let mut pod = PodBuilder::new("web")
        .uid("u1")
        .container("app", "busybox")
        .build();
    pod.spec.containers[0].ports = vec![
        port(80, 8080, "", ""),
        port(53, 5353, "0.0.0.0", "UDP"),
        port(9000, 0, "", ""),
    ];
    let cfg = infra_config(&pod, &ctx(&extra), 2).unwrap();
    assert_eq!(cfg.name, "k8s_POD_web_default_u1_2");
    assert_eq!(cfg.image, "kube-test/pause:latest");
    assert_eq!(cfg.hostname.as_deref(), Some("web"));
    assert_eq!(cfg.network, NetworkMode::Bridge);
    assert_eq!(
        cfg.ports,
        vec![
            PortBinding {
                container_port: 80,
                host_port: 8080,
                host_ip: "127.0.0.1".parse().unwrap(),
                protocol: Protocol::Tcp,
            },
            PortBinding {
                container_port: 53,
                host_port: 5353,
                host_ip: "0.0.0.0".parse().unwrap(),
                protocol: Protocol::Udp,
            },
        ]
    );
    let want_labels = [
        (labels::POD_NAME, "web"),
        (labels::POD_NAMESPACE, "default"),
        (labels::POD_UID, "u1"),
        (labels::CONTAINER_NAME, "POD"),
        (labels::NODE_NAME, "n1"),
        (labels::RESTART_COUNT, "2"),
        ("kube-test.run", "r1"),
    ];
    for (k, v) in want_labels {
        assert_eq!(cfg.labels.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert!(!cfg.init, "the pause image handles SIGTERM itself");
}

#[test]
fn infra_rejects_bad_ports() {
    let extra = BTreeMap::new();
    let cases = [
        port(80, 8080, "not-an-ip", ""),
        port(80, 8080, "", "SCTP"),
        port(80, 70000, "", ""),
        port(0, 8080, "", ""),
    ];
    for p in cases {
        let mut pod = PodBuilder::new("web").container("app", "busybox").build();
        pod.spec.containers[0].ports = vec![p.clone()];
        assert!(infra_config(&pod, &ctx(&extra), 0).is_err(), "{p:?}");
    }
}

#[test]
fn app_container_joins_the_infra_namespace() {
    let extra = BTreeMap::new();
    let mut pod = PodBuilder::new("web")
        .uid("u1")
        .container("app", "busybox")
        .build();
    pod.spec.volumes = vec![
        Volume {
            name: "data".into(),
            host_path: Some(HostPathVolumeSource {
                path: "/srv/data".into(),
            }),
            empty_dir: None,
        },
        Volume {
            name: "scratch".into(),
            host_path: None,
            empty_dir: Some(Default::default()),
        },
    ];
    let c = &mut pod.spec.containers[0];
    c.command = vec!["/bin/sh".into()];
    c.args = vec!["-c".into(), "echo hi".into()];
    c.working_dir = "/tmp".into();
    c.env = vec![EnvVar {
        name: "MODE".into(),
        value: "x".into(),
    }];
    c.volume_mounts = vec![
        VolumeMount {
            name: "data".into(),
            mount_path: "/data".into(),
            read_only: true,
        },
        VolumeMount {
            name: "scratch".into(),
            mount_path: "/scratch".into(),
            read_only: false,
        },
    ];
    c.resources
        .limits
        .insert("memory".into(), Quantity("64Mi".into()));
    c.resources
        .limits
        .insert("cpu".into(), Quantity("500m".into()));
    c.resources
        .requests
        .insert("cpu".into(), Quantity("250m".into()));
    let svc_env = vec![("REDIS_SERVICE_HOST".to_string(), "10.0.0.1".to_string())];
    let container = pod.spec.containers[0].clone();
    let cfg = app_config(&pod, &container, &ctx(&extra), "infra-id", 3, &svc_env).unwrap();
    assert_eq!(cfg.name, "k8s_app_web_default_u1_3");
    assert_eq!(cfg.network, NetworkMode::Container("infra-id".into()));
    assert_eq!(cfg.command, vec!["/bin/sh"]);
    assert_eq!(cfg.args, vec!["-c", "echo hi"]);
    assert_eq!(cfg.working_dir.as_deref(), Some("/tmp"));
    assert_eq!(
        cfg.env,
        vec![
            ("REDIS_SERVICE_HOST".to_string(), "10.0.0.1".to_string()),
            ("MODE".to_string(), "x".to_string())
        ]
    );
    assert_eq!(
        cfg.mounts,
        vec![
            Mount {
                host_path: "/srv/data".into(),
                container_path: "/data".into(),
                read_only: true
            },
            Mount {
                host_path: "/var/lib/kubelet/pods/u1/volumes/scratch".into(),
                container_path: "/scratch".into(),
                read_only: false
            },
        ]
    );
    assert_eq!(
        cfg.limits,
        ResourceLimits {
            memory_bytes: Some(64 << 20),
            cpu_millis: Some(500),
            cpu_shares: Some(256),
        }
    );
    assert!(cfg.init && cfg.ports.is_empty() && cfg.hostname.is_none());
    assert_eq!(
        cfg.labels.get(labels::CONTAINER_HASH),
        Some(&format!("{:x}", container_hash(&container)))
    );
}

#[test]
fn hash_follows_the_spec() {
    let pod = PodBuilder::new("web").container("app", "busybox").build();
    let a = pod.spec.containers[0].clone();
    let mut b = a.clone();
    assert_eq!(container_hash(&a), container_hash(&b));
    b.image = "busybox:2".into();
    assert_ne!(container_hash(&a), container_hash(&b));
}

#[test]
fn service_env_table() {
    let svc = |name: &str, ip: &str, port: Option<i32>| {
        let mut s = Service::default();
        s.metadata.name = name.into();
        s.spec.cluster_ip = ip.into();
        if let Some(p) = port {
            s.spec.ports.push(crate::service::ServicePort {
                port: p,
                ..Default::default()
            });
        }
        s
    };
    let a = svc("redis-master", "10.0.0.5", Some(6379));
    let b = svc("headless", "None", Some(80));
    let c = svc("noport", "10.0.0.6", None);
    let d = svc("pending", "", Some(80));
    let got = service_env(&[&a, &b, &c, &d]);
    assert_eq!(
        got,
        vec![
            (
                "REDIS_MASTER_SERVICE_HOST".to_string(),
                "10.0.0.5".to_string()
            ),
            ("REDIS_MASTER_SERVICE_PORT".to_string(), "6379".to_string()),
        ]
    );
}
