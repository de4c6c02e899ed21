//! v1beta1 `Container` (inside `desiredState.manifest.containers`) ⇄ v1 `Container`.

use super::de::de_int_or_string;
use crate::intstr::IntOrString;
use crate::pod::{
    Container as V1Container, ContainerPort, EnvVar, ExecAction, HttpGetAction, Probe,
    ResourceRequirements, TcpSocketAction, VolumeMount,
};
use crate::pod::{PULL_ALWAYS, PULL_IF_NOT_PRESENT, PULL_NEVER};
use crate::quantity::{Quantity, QuantityError};
use serde::{Deserialize, Serialize};

/// Returns true for zero values (for `skip_serializing_if`).
fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// v1beta1 container.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Container {
    name: String,
    image: String,
    /// Docker's Cmd: v1 `args`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    command: Vec<String>,
    /// Docker's Entrypoint: v1 `command`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entrypoint: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    working_dir: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<Port>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<Env>,
    /// Bytes.
    #[serde(skip_serializing_if = "is_zero")]
    memory: i64,
    /// Milli-CPU.
    #[serde(skip_serializing_if = "is_zero")]
    cpu: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volume_mounts: Vec<Mount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    liveness_probe: Option<LivenessProbe>,
    #[serde(skip_serializing_if = "String::is_empty")]
    image_pull_policy: String,
}

/// v1beta1 container port.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Port {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "is_zero")]
    host_port: i32,
    container_port: i32,
    #[serde(skip_serializing_if = "String::is_empty")]
    protocol: String,
    #[serde(rename = "hostIP", skip_serializing_if = "String::is_empty")]
    host_ip: String,
}

/// v1beta1 environment variable (the deprecated `key` is ignored).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Env {
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
}

/// v1beta1 volume mount (`path` is the deprecated spelling of `mountPath`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Mount {
    name: String,
    #[serde(skip_serializing_if = "is_zero")]
    read_only: bool,
    mount_path: String,
    #[serde(skip_serializing)]
    path: String,
}

/// v1beta1 liveness probe.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct LivenessProbe {
    #[serde(skip_serializing_if = "Option::is_none")]
    http_get: Option<HttpGet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_socket: Option<TcpSocket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<Exec>,
    #[serde(skip_serializing_if = "is_zero")]
    initial_delay_seconds: i32,
    #[serde(skip_serializing_if = "is_zero")]
    timeout_seconds: i32,
}

/// v1beta1 HTTP GET action.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct HttpGet {
    #[serde(skip_serializing_if = "String::is_empty")]
    path: String,
    #[serde(
        deserialize_with = "de_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    port: Option<IntOrString>,
    #[serde(skip_serializing_if = "String::is_empty")]
    host: String,
}

/// v1beta1 TCP socket action.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct TcpSocket {
    #[serde(
        deserialize_with = "de_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    port: Option<IntOrString>,
}

/// v1beta1 exec action.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Exec {
    command: Vec<String>,
}

/// `PullAlways` → `Always` etc.; other strings pass through for validation to judge.
fn pull_policy_from(p: String) -> String {
    match p.as_str() {
        "PullAlways" => PULL_ALWAYS.to_string(),
        "PullNever" => PULL_NEVER.to_string(),
        "PullIfNotPresent" => PULL_IF_NOT_PRESENT.to_string(),
        _ => p,
    }
}

/// `Always` → `PullAlways` etc.; other strings pass through.
fn pull_policy_to(p: &str) -> String {
    match p {
        PULL_ALWAYS => "PullAlways".to_string(),
        PULL_NEVER => "PullNever".to_string(),
        PULL_IF_NOT_PRESENT => "PullIfNotPresent".to_string(),
        _ => p.to_string(),
    }
}

impl Container {
    /// Converts to the v1 container.
    pub(crate) fn into_v1(self) -> V1Container {
        let mut resources = ResourceRequirements::default();
        if self.cpu != 0 {
            resources
                .limits
                .insert("cpu".into(), Quantity::from_milli(self.cpu));
        }
        if self.memory != 0 {
            resources
                .limits
                .insert("memory".into(), Quantity::from_value(self.memory));
        }
        V1Container {
            name: self.name,
            image: self.image,
            command: self.entrypoint,
            args: self.command,
            working_dir: self.working_dir,
            ports: self.ports.into_iter().map(Port::into_v1).collect(),
            env: self
                .env
                .into_iter()
                .map(|e| EnvVar {
                    name: e.name,
                    value: e.value,
                })
                .collect(),
            resources,
            volume_mounts: self
                .volume_mounts
                .into_iter()
                .map(|m| VolumeMount {
                    name: m.name,
                    mount_path: if m.mount_path.is_empty() {
                        m.path
                    } else {
                        m.mount_path
                    },
                    read_only: m.read_only,
                })
                .collect(),
            liveness_probe: self.liveness_probe.map(LivenessProbe::into_v1),
            // v1beta1 (v0.5) has no readiness probe.
            readiness_probe: None,
            image_pull_policy: pull_policy_from(self.image_pull_policy),
        }
    }

    /// Converts from the v1 container (CPU and memory from `resources.limits`).
    pub(crate) fn from_v1(c: &V1Container) -> Container {
        let limit = |name: &str, f: fn(&Quantity) -> Result<i64, QuantityError>| {
            c.resources
                .limits
                .get(name)
                .and_then(|q| f(q).ok())
                .unwrap_or(0)
        };
        Container {
            name: c.name.clone(),
            image: c.image.clone(),
            command: c.args.clone(),
            entrypoint: c.command.clone(),
            working_dir: c.working_dir.clone(),
            ports: c.ports.iter().map(Port::from_v1).collect(),
            env: c
                .env
                .iter()
                .map(|e| Env {
                    name: e.name.clone(),
                    value: e.value.clone(),
                })
                .collect(),
            memory: limit("memory", Quantity::value),
            cpu: limit("cpu", Quantity::milli_value),
            volume_mounts: c
                .volume_mounts
                .iter()
                .map(|m| Mount {
                    name: m.name.clone(),
                    read_only: m.read_only,
                    mount_path: m.mount_path.clone(),
                    path: String::new(),
                })
                .collect(),
            liveness_probe: c.liveness_probe.as_ref().map(LivenessProbe::from_v1),
            image_pull_policy: pull_policy_to(&c.image_pull_policy),
        }
    }
}

impl Port {
    /// Converts to the v1 port.
    fn into_v1(self) -> ContainerPort {
        ContainerPort {
            name: self.name,
            container_port: self.container_port,
            host_port: self.host_port,
            host_ip: self.host_ip,
            protocol: self.protocol,
        }
    }

    /// Converts from the v1 port.
    fn from_v1(p: &ContainerPort) -> Port {
        Port {
            name: p.name.clone(),
            host_port: p.host_port,
            container_port: p.container_port,
            protocol: p.protocol.clone(),
            host_ip: p.host_ip.clone(),
        }
    }
}

impl LivenessProbe {
    /// Converts to the v1 probe.
    fn into_v1(self) -> Probe {
        Probe {
            exec: self.exec.map(|e| ExecAction { command: e.command }),
            http_get: self.http_get.map(|h| HttpGetAction {
                path: h.path,
                port: h.port.unwrap_or_default(),
                host: h.host,
                scheme: String::new(),
            }),
            tcp_socket: self.tcp_socket.map(|t| TcpSocketAction {
                port: t.port.unwrap_or_default(),
                host: String::new(),
            }),
            initial_delay_seconds: self.initial_delay_seconds,
            timeout_seconds: self.timeout_seconds,
            ..Probe::default()
        }
    }

    /// Converts from the v1 probe (thresholds, period, scheme and TCP host have no v1beta1 field).
    fn from_v1(p: &Probe) -> LivenessProbe {
        LivenessProbe {
            http_get: p.http_get.as_ref().map(|h| HttpGet {
                path: h.path.clone(),
                port: Some(h.port.clone()),
                host: h.host.clone(),
            }),
            tcp_socket: p.tcp_socket.as_ref().map(|t| TcpSocket {
                port: Some(t.port.clone()),
            }),
            exec: p.exec.as_ref().map(|e| Exec {
                command: e.command.clone(),
            }),
            initial_delay_seconds: p.initial_delay_seconds,
            timeout_seconds: p.timeout_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::de::decode;
    use super::*;
    use serde_json::json;

    fn from(v: serde_json::Value) -> V1Container {
        decode::<Container>(&v).expect("decodes").into_v1()
    }

    #[test]
    fn maps_container_fields() {
        let got = from(json!({
            "name": "web", "image": "nginx", "command": ["-g", "daemon off;"], "entrypoint": ["nginx"],
            "workingDir": "/srv", "cpu": 250, "memory": 67108864,
            "ports": [{"name": "http", "containerPort": 80, "hostPort": 8080, "protocol": "TCP", "hostIP": "1.2.3.4"}],
            "env": [{"name": "A", "value": "1"}, {"key": "OLD", "value": "2"}],
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}, {"name": "old", "path": "/old"}],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5, "timeoutSeconds": 2},
            "imagePullPolicy": "PullAlways", "privileged": true, "lifecycle": {}
        }));
        assert_eq!(got.command, vec!["nginx"]);
        assert_eq!(got.args, vec!["-g", "daemon off;"]);
        assert_eq!(got.working_dir, "/srv");
        assert_eq!(
            got.resources.limits.get("cpu"),
            Some(&Quantity("250m".into()))
        );
        assert_eq!(
            got.resources.limits.get("memory"),
            Some(&Quantity("67108864".into()))
        );
        assert_eq!(got.ports[0].host_ip, "1.2.3.4");
        assert_eq!(got.ports[0].host_port, 8080);
        assert_eq!(
            got.env[1],
            EnvVar {
                name: String::new(),
                value: "2".into()
            }
        );
        assert_eq!(got.volume_mounts[0].mount_path, "/data");
        assert!(got.volume_mounts[0].read_only);
        assert_eq!(got.volume_mounts[1].mount_path, "/old");
        let probe = got.liveness_probe.expect("probe");
        let http = probe.http_get.expect("httpGet");
        assert_eq!(http.port, IntOrString::String("http".into()));
        assert_eq!((probe.initial_delay_seconds, probe.timeout_seconds), (5, 2));
        assert_eq!(got.image_pull_policy, "Always");
    }

    #[test]
    fn maps_pull_policies() {
        let cases = [
            ("PullAlways", "Always"),
            ("PullNever", "Never"),
            ("PullIfNotPresent", "IfNotPresent"),
            ("", ""),
            ("Sometimes", "Sometimes"),
        ];
        for (old, new) in cases {
            assert_eq!(pull_policy_from(old.to_string()), new);
            assert_eq!(pull_policy_to(new), old);
        }
    }

    #[test]
    fn zero_resources_are_absent() {
        let got = from(json!({"name": "a", "image": "b", "cpu": 0}));
        assert!(got.resources.is_empty());
    }

    #[test]
    fn encodes_minimal_container() {
        let c = V1Container {
            name: "a".into(),
            image: "b".into(),
            ports: vec![ContainerPort {
                container_port: 80,
                ..ContainerPort::default()
            }],
            ..V1Container::default()
        };
        let got = serde_json::to_value(Container::from_v1(&c)).expect("serializes");
        assert_eq!(
            got,
            json!({"name": "a", "image": "b", "ports": [{"containerPort": 80}]})
        );
    }
}
