//! v1beta1 `Pod` (`desiredState.manifest`, `currentState`) ⇄ v1 `Pod`.

use super::container::Container;
use super::de::{decode, join};
use super::meta::{decode_meta, encode};
use super::{ConversionError, V1Beta1, API_VERSION};
use crate::meta::StringMap;
use crate::object::Object;
use crate::pod::{
    self as v1, ContainerState, EmptyDirVolumeSource, HostPathVolumeSource, Pod, PodSpec,
    RESTART_ALWAYS, RESTART_NEVER, RESTART_ON_FAILURE,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// An empty JSON object (`{}`), as used by restart policies and `emptyDir`.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct Empty {}

/// v1beta1 pod body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct PodBody {
    desired_state: PodState,
    /// Server-owned: never read from input.
    #[serde(
        deserialize_with = "super::de::ignored",
        skip_serializing_if = "Option::is_none"
    )]
    current_state: Option<PodState>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    node_selector: StringMap,
}

/// v1beta1 `PodState`, used for `desiredState`, `currentState` and pod templates.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PodState {
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<Manifest>,
    /// `Waiting`, `Running` or `Terminated`; ignored on input.
    #[serde(skip_serializing_if = "String::is_empty")]
    status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    host: String,
    #[serde(rename = "hostIP", skip_serializing_if = "String::is_empty")]
    host_ip: String,
    #[serde(rename = "podIP", skip_serializing_if = "String::is_empty")]
    pod_ip: String,
    /// Server-owned: never read from input.
    #[serde(
        deserialize_with = "super::de::ignored",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    info: BTreeMap<String, ContainerInfo>,
}

/// v1beta1 `ContainerManifest`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Manifest {
    version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    uuid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Volume>,
    containers: Vec<Container>,
    #[serde(skip_serializing_if = "RestartPolicy::is_unset")]
    restart_policy: RestartPolicy,
}

/// v1beta1 restart policy: exactly one of `always`, `onFailure`, `never` set to `{}`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct RestartPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    always: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_failure: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    never: Option<Empty>,
}

impl RestartPolicy {
    /// True when no policy is set.
    fn is_unset(&self) -> bool {
        self.always.is_none() && self.on_failure.is_none() && self.never.is_none()
    }

    /// The v1 policy string (empty when unset); `path` locates the policy for errors.
    fn into_v1(self, path: &str) -> Result<String, ConversionError> {
        let set = [
            (self.always.is_some(), RESTART_ALWAYS),
            (self.on_failure.is_some(), RESTART_ON_FAILURE),
            (self.never.is_some(), RESTART_NEVER),
        ];
        let mut chosen = set.iter().filter(|(on, _)| *on).map(|(_, p)| *p);
        match (chosen.next(), chosen.next()) {
            (None, _) => Ok(String::new()),
            (Some(p), None) => Ok(p.to_string()),
            (Some(_), Some(_)) => Err(ConversionError::new(
                path,
                "only one of always, onFailure, never may be set",
            )),
        }
    }

    /// The object form of a v1 policy (unset for empty or unknown policies).
    fn from_v1(p: &str) -> RestartPolicy {
        let mut out = RestartPolicy::default();
        match p {
            RESTART_ALWAYS => out.always = Some(Empty {}),
            RESTART_ON_FAILURE => out.on_failure = Some(Empty {}),
            RESTART_NEVER => out.never = Some(Empty {}),
            _ => {}
        }
        out
    }
}

/// v1beta1 volume: `{name, source: {hostDir: {path}} | {emptyDir: {}}}`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Volume {
    name: String,
    source: Option<VolumeSource>,
}

/// v1beta1 volume source (other sources are ignored, leaving the volume without one).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct VolumeSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    host_dir: Option<HostDir>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empty_dir: Option<Empty>,
}

/// v1beta1 `hostDir` source.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct HostDir {
    path: String,
}

/// v1beta1 `currentState.info` entry (output only).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerInfo {
    state: InfoState,
    restart_count: i32,
    image: String,
    ready: bool,
    #[serde(rename = "containerID", skip_serializing_if = "String::is_empty")]
    container_id: String,
    #[serde(rename = "imageID", skip_serializing_if = "String::is_empty")]
    image_id: String,
}

/// v1beta1 container state: `waiting`, `running` or `termination`.
#[derive(Debug, Default, Serialize)]
struct InfoState {
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<v1::ContainerStateWaiting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<v1::ContainerStateRunning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    termination: Option<v1::ContainerStateTerminated>,
}

impl InfoState {
    /// Converts from the v1 container state.
    fn from_v1(s: &ContainerState) -> InfoState {
        InfoState {
            waiting: s.waiting.clone(),
            running: s.running.clone(),
            termination: s.terminated.clone(),
        }
    }
}

/// Maps a v1 phase to the v1beta1 pod status.
fn status_to_v1beta1(phase: &str) -> &'static str {
    match phase {
        v1::PHASE_RUNNING => "Running",
        v1::PHASE_SUCCEEDED | v1::PHASE_FAILED => "Terminated",
        _ => "Waiting",
    }
}

impl PodState {
    /// Converts `desiredState` (or a template's) to a v1 spec; `path` locates the state for errors.
    pub(crate) fn into_spec(
        self,
        node_selector: StringMap,
        path: &str,
    ) -> Result<PodSpec, ConversionError> {
        let manifest = self.manifest.unwrap_or_default();
        let policy_path = join(&join(path, "manifest"), "restartPolicy");
        Ok(PodSpec {
            volumes: manifest.volumes.into_iter().map(Volume::into_v1).collect(),
            containers: manifest
                .containers
                .into_iter()
                .map(Container::into_v1)
                .collect(),
            restart_policy: manifest.restart_policy.into_v1(&policy_path)?,
            node_name: self.host,
            node_selector,
            ..PodSpec::default()
        })
    }

    /// The desired state of `spec`: manifest (`id`, `uuid` given), `status: Running`, `host`.
    pub(crate) fn desired_from_spec(spec: &PodSpec, id: &str, uuid: &str) -> PodState {
        PodState {
            manifest: Some(Manifest {
                version: API_VERSION.to_string(),
                id: id.to_string(),
                uuid: uuid.to_string(),
                volumes: spec.volumes.iter().map(Volume::from_v1).collect(),
                containers: spec.containers.iter().map(Container::from_v1).collect(),
                restart_policy: RestartPolicy::from_v1(&spec.restart_policy),
            }),
            status: "Running".to_string(),
            host: spec.node_name.clone(),
            ..PodState::default()
        }
    }

    /// The current state of a pod: status, host, IPs and per-container info.
    fn current_from(pod: &Pod) -> PodState {
        PodState {
            manifest: None,
            status: status_to_v1beta1(&pod.status.phase).to_string(),
            message: pod.status.message.clone(),
            host: pod.spec.node_name.clone(),
            host_ip: pod.status.host_ip.clone(),
            pod_ip: pod.status.pod_ip.clone(),
            info: pod
                .status
                .container_statuses
                .iter()
                .map(|cs| {
                    let info = ContainerInfo {
                        state: InfoState::from_v1(&cs.state),
                        restart_count: cs.restart_count,
                        image: cs.image.clone(),
                        ready: cs.ready,
                        container_id: cs.container_id.clone(),
                        image_id: cs.image_id.clone(),
                    };
                    (cs.name.clone(), info)
                })
                .collect(),
        }
    }

    /// The manifest's `uuid`, if any.
    fn manifest_uuid(&self) -> Option<&str> {
        self.manifest
            .as_ref()
            .map(|m| m.uuid.as_str())
            .filter(|u| !u.is_empty())
    }
}

impl Volume {
    /// Converts to the v1 volume.
    fn into_v1(self) -> v1::Volume {
        let source = self.source.unwrap_or_default();
        v1::Volume {
            name: self.name,
            host_path: source
                .host_dir
                .map(|h| HostPathVolumeSource { path: h.path }),
            empty_dir: source.empty_dir.map(|_| EmptyDirVolumeSource {}),
        }
    }

    /// Converts from the v1 volume.
    fn from_v1(v: &v1::Volume) -> Volume {
        Volume {
            name: v.name.clone(),
            source: Some(VolumeSource {
                host_dir: v.host_path.as_ref().map(|h| HostDir {
                    path: h.path.clone(),
                }),
                empty_dir: v.empty_dir.as_ref().map(|_| Empty {}),
            }),
        }
    }
}

impl V1Beta1 for Pod {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let mut metadata = decode_meta(&value)?;
        let body: PodBody = decode(&value)?;
        if metadata.uid.is_empty() {
            if let Some(uuid) = body.desired_state.manifest_uuid() {
                metadata.uid = uuid.to_string();
            }
        }
        let spec = body
            .desired_state
            .into_spec(body.node_selector, "desiredState")?;
        let mut pod = Pod {
            metadata,
            spec,
            ..Pod::default()
        };
        pod.set_type_meta();
        Ok(pod)
    }

    fn to_v1beta1(&self) -> Value {
        let m = &self.metadata;
        let body = PodBody {
            desired_state: PodState::desired_from_spec(&self.spec, &m.name, &m.uid),
            current_state: Some(PodState::current_from(self)),
            node_selector: self.spec.node_selector.clone(),
        };
        encode(Pod::RESOURCE.info().v1beta1_kind, m, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intstr::IntOrString;
    use crate::pod::{
        ContainerPort, ContainerStateRunning, ContainerStatus, EnvVar, ExecAction, HttpGetAction,
        Probe, TcpSocketAction, VolumeMount,
    };
    use crate::quantity::Quantity;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn seed_redis_pod_converts() {
        let value: Value =
            serde_json::from_str(include_str!("../../../examples/redis.json")).expect("valid JSON");
        let pod = Pod::from_v1beta1(value).expect("converts");
        assert_eq!(pod.api_version, "v1");
        assert_eq!(pod.kind, "Pod");
        assert_eq!(pod.metadata.name, "redis");
        assert_eq!(pod.metadata.namespace, "");
        assert_eq!(pod.metadata.labels, labels(&[("name", "redis")]));
        assert_eq!(pod.spec.containers.len(), 1);
        let c = &pod.spec.containers[0];
        assert_eq!(
            (c.name.as_str(), c.image.as_str()),
            ("redis", "dockerfile/redis")
        );
        assert_eq!(c.image_pull_policy, "IfNotPresent");
        assert_eq!(
            c.ports,
            vec![ContainerPort {
                container_port: 6379,
                host_port: 6379,
                ..ContainerPort::default()
            }]
        );
        assert_eq!(pod.spec.restart_policy, "");
        assert_eq!(pod.spec.node_name, "");
    }

    /// A pod using every field v1beta1 can carry (status excluded: it is server-owned).
    fn full_pod(restart_policy: &str) -> Pod {
        let mut pod = Pod::default();
        pod.set_type_meta();
        pod.metadata = crate::meta::ObjectMeta {
            name: "web".into(),
            namespace: "prod".into(),
            uid: "1234-5678".into(),
            resource_version: "17".into(),
            creation_timestamp: "2014-10-30T15:57:02Z".into(),
            self_link: "/api/v1beta1/pods/web".into(),
            labels: labels(&[("app", "web")]),
            annotations: labels(&[("note", "x")]),
            ..Default::default()
        };
        pod.spec = PodSpec {
            volumes: vec![
                v1::Volume {
                    name: "data".into(),
                    host_path: Some(HostPathVolumeSource {
                        path: "/var/data".into(),
                    }),
                    empty_dir: None,
                },
                v1::Volume {
                    name: "scratch".into(),
                    host_path: None,
                    empty_dir: Some(EmptyDirVolumeSource {}),
                },
            ],
            containers: vec![
                v1::Container {
                    name: "web".into(),
                    image: "nginx".into(),
                    command: vec!["nginx".into()],
                    args: vec!["-g".into(), "daemon off;".into()],
                    working_dir: "/srv".into(),
                    ports: vec![ContainerPort {
                        name: "http".into(),
                        container_port: 80,
                        host_port: 8080,
                        host_ip: "0.0.0.0".into(),
                        protocol: "TCP".into(),
                    }],
                    env: vec![EnvVar {
                        name: "MODE".into(),
                        value: "prod".into(),
                    }],
                    resources: v1::ResourceRequirements {
                        limits: [
                            ("cpu".to_string(), Quantity("250m".into())),
                            ("memory".to_string(), Quantity("67108864".into())),
                        ]
                        .into(),
                        requests: Default::default(),
                    },
                    volume_mounts: vec![VolumeMount {
                        name: "data".into(),
                        mount_path: "/data".into(),
                        read_only: true,
                    }],
                    liveness_probe: Some(Probe {
                        http_get: Some(HttpGetAction {
                            path: "/healthz".into(),
                            port: IntOrString::String("http".into()),
                            host: "localhost".into(),
                            scheme: String::new(),
                        }),
                        initial_delay_seconds: 10,
                        timeout_seconds: 3,
                        ..Probe::default()
                    }),
                    readiness_probe: None,
                    image_pull_policy: "Always".into(),
                },
                v1::Container {
                    name: "sidecar".into(),
                    image: "busybox".into(),
                    liveness_probe: Some(Probe {
                        tcp_socket: Some(TcpSocketAction {
                            port: IntOrString::Int(9000),
                            host: String::new(),
                        }),
                        ..Probe::default()
                    }),
                    ..v1::Container::default()
                },
                v1::Container {
                    name: "checker".into(),
                    image: "busybox".into(),
                    resources: v1::ResourceRequirements {
                        limits: [("cpu".to_string(), Quantity("2".into()))].into(),
                        requests: Default::default(),
                    },
                    liveness_probe: Some(Probe {
                        exec: Some(ExecAction {
                            command: vec!["cat".into(), "/tmp/ok".into()],
                        }),
                        ..Probe::default()
                    }),
                    image_pull_policy: "Never".into(),
                    ..v1::Container::default()
                },
            ],
            restart_policy: restart_policy.into(),
            node_name: "minion-1".into(),
            node_selector: labels(&[("disk", "ssd")]),
            ..PodSpec::default()
        };
        pod
    }

    #[test]
    fn pods_round_trip() {
        for policy in ["", "Always", "OnFailure", "Never"] {
            let pod = full_pod(policy);
            let back = Pod::from_v1beta1(pod.to_v1beta1()).expect("converts back");
            assert_eq!(back, pod, "restart policy {policy:?}");
        }
        let mut minimal = Pod::default();
        minimal.set_type_meta();
        minimal.metadata.name = "m".into();
        assert_eq!(
            Pod::from_v1beta1(minimal.to_v1beta1()).expect("converts back"),
            minimal
        );
    }

    #[test]
    fn owner_references_are_dropped_on_the_v1beta1_wire() {
        // v1beta1 had no owner references: encoding leaves them out, and a v1beta1 document
        // that carries them anyway still decodes (the member is ignored).
        let mut pod = full_pod("Always");
        pod.metadata
            .owner_references
            .push(crate::meta::OwnerReference {
                api_version: "v1".into(),
                kind: "ReplicationController".into(),
                name: "rc".into(),
                uid: "u".into(),
                controller: Some(true),
                block_owner_deletion: None,
            });
        let mut wire = pod.to_v1beta1();
        assert!(wire.get("ownerReferences").is_none(), "{wire}");
        let mut without = pod.clone();
        without.metadata.owner_references.clear();
        assert_eq!(Pod::from_v1beta1(wire.clone()).expect("converts"), without);
        wire["ownerReferences"] = json!([{"kind": "ReplicationController", "name": "rc"}]);
        assert_eq!(Pod::from_v1beta1(wire).expect("converts"), without);
    }

    #[test]
    fn restart_policies_map_both_ways() {
        let cases = [
            (json!({"always": {}}), "Always"),
            (json!({"onFailure": {}}), "OnFailure"),
            (json!({"never": {}}), "Never"),
            (json!({}), ""),
            (json!({"always": null}), ""),
        ];
        for (rp, want) in cases {
            let doc =
                json!({"id": "p", "desiredState": {"manifest": {"restartPolicy": rp.clone()}}});
            let pod = Pod::from_v1beta1(doc).expect("converts");
            assert_eq!(pod.spec.restart_policy, want, "{rp}");
            let out = pod.to_v1beta1();
            let back = out["desiredState"]["manifest"]
                .get("restartPolicy")
                .cloned();
            let expect = if want.is_empty() { None } else { Some(rp) };
            assert_eq!(back, expect, "{want}");
        }
    }

    #[test]
    fn rejects_bad_documents() {
        let cases = [
            (
                json!({"desiredState": {"manifest": {"restartPolicy": {"always": {}, "never": {}}}}}),
                "desiredState.manifest.restartPolicy",
                "only one of always, onFailure, never may be set",
            ),
            (
                json!({"desiredState": {"manifest": {"containers": {"name": "a"}}}}),
                "desiredState.manifest.containers",
                "expected an array, got an object",
            ),
            (
                json!({"desiredState": {"manifest": {"containers": [{"name": "a", "ports": {}}]}}}),
                "desiredState.manifest.containers[0].ports",
                "expected an array, got an object",
            ),
            (
                json!({"desiredState": {"manifest": {"containers": [{"cpu": "100m"}]}}}),
                "desiredState.manifest.containers[0].cpu",
                "expected an integer (i64), got string \"100m\"",
            ),
            (json!("pod"), "", "expected an object, got string \"pod\""),
        ];
        for (doc, field, message) in cases {
            let err = Pod::from_v1beta1(doc.clone()).expect_err("must fail");
            assert_eq!(err, ConversionError::new(field, message), "{doc}");
        }
    }

    #[test]
    fn current_state_is_ignored_on_input() {
        let doc = json!({"id": "p", "currentState": {"status": "Running", "host": "h", "info": 5},
                         "desiredState": {"host": "m1", "status": "Bogus", "manifest": {"uuid": "u-1"}}});
        let pod = Pod::from_v1beta1(doc).expect("converts");
        assert_eq!(pod.status, v1::PodStatus::default());
        assert_eq!(pod.spec.node_name, "m1");
        assert_eq!(pod.metadata.uid, "u-1");
    }

    #[test]
    fn current_state_status_mapping() {
        let cases = [
            ("Pending", "Waiting"),
            ("Running", "Running"),
            ("Succeeded", "Terminated"),
            ("Failed", "Terminated"),
            ("Unknown", "Waiting"),
            ("", "Waiting"),
        ];
        for (phase, want) in cases {
            let mut pod = Pod::default();
            pod.status.phase = phase.into();
            assert_eq!(
                pod.to_v1beta1()["currentState"]["status"],
                json!(want),
                "{phase}"
            );
        }
    }

    #[test]
    fn output_shape() {
        let mut pod = Pod::default();
        pod.set_type_meta();
        pod.metadata.name = "redis".into();
        pod.metadata.uid = "u1".into();
        pod.metadata.resource_version = "12".into();
        pod.metadata.labels = labels(&[("name", "redis")]);
        pod.spec.node_name = "m1".into();
        pod.spec.containers = vec![v1::Container {
            name: "redis".into(),
            image: "dockerfile/redis".into(),
            image_pull_policy: "IfNotPresent".into(),
            ..v1::Container::default()
        }];
        pod.status = v1::PodStatus {
            phase: "Running".into(),
            host_ip: "10.0.0.1".into(),
            pod_ip: "172.17.0.2".into(),
            container_statuses: vec![ContainerStatus {
                name: "redis".into(),
                state: ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: "2014-10-30T15:57:02Z".into(),
                    }),
                    ..ContainerState::default()
                },
                ready: true,
                restart_count: 1,
                image: "dockerfile/redis".into(),
                ..ContainerStatus::default()
            }],
            ..v1::PodStatus::default()
        };
        let want = json!({
            "kind": "Pod", "apiVersion": "v1beta1", "id": "redis", "uid": "u1", "resourceVersion": 12,
            "labels": {"name": "redis"},
            "desiredState": {
                "manifest": {"version": "v1beta1", "id": "redis", "uuid": "u1",
                             "containers": [{"name": "redis", "image": "dockerfile/redis",
                                             "imagePullPolicy": "PullIfNotPresent"}]},
                "status": "Running", "host": "m1"},
            "currentState": {
                "status": "Running", "host": "m1", "hostIP": "10.0.0.1", "podIP": "172.17.0.2",
                "info": {"redis": {"state": {"running": {"startedAt": "2014-10-30T15:57:02Z"}},
                                   "restartCount": 1, "image": "dockerfile/redis", "ready": true}}}
        });
        assert_eq!(pod.to_v1beta1(), want);
    }
}
