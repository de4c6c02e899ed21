//! Pod: a co-located group of containers, the unit of scheduling.

use crate::intstr::IntOrString;
use crate::meta::{is_default, ObjectMeta, StringMap};
use crate::quantity::Quantity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Restart policy `Always`.
pub const RESTART_ALWAYS: &str = "Always";
/// Restart policy `OnFailure`.
pub const RESTART_ON_FAILURE: &str = "OnFailure";
/// Restart policy `Never`.
pub const RESTART_NEVER: &str = "Never";
/// Image pull policy `Always`.
pub const PULL_ALWAYS: &str = "Always";
/// Image pull policy `IfNotPresent`.
pub const PULL_IF_NOT_PRESENT: &str = "IfNotPresent";
/// Image pull policy `Never`.
pub const PULL_NEVER: &str = "Never";
/// Pod phase `Pending`: accepted, not all containers running yet.
pub const PHASE_PENDING: &str = "Pending";
/// Pod phase `Running`: bound and at least one container running.
pub const PHASE_RUNNING: &str = "Running";
/// Pod phase `Succeeded`: all containers exited successfully.
pub const PHASE_SUCCEEDED: &str = "Succeeded";
/// Pod phase `Failed`: all containers terminated, at least one in failure.
pub const PHASE_FAILED: &str = "Failed";
/// Pod phase `Unknown`: the state could not be obtained.
pub const PHASE_UNKNOWN: &str = "Unknown";
/// Condition type `PodScheduled`: whether the pod is bound to a node.
pub const CONDITION_POD_SCHEDULED: &str = "PodScheduled";
/// Condition type `Ready`: whether the pod serves traffic.
pub const CONDITION_READY: &str = "Ready";
/// Condition type `ContainersReady`: whether every container is ready.
pub const CONDITION_CONTAINERS_READY: &str = "ContainersReady";
/// Condition status `True`.
pub const CONDITION_TRUE: &str = "True";
/// Condition status `False`.
pub const CONDITION_FALSE: &str = "False";
/// Reason of a `PodScheduled=False` condition when no node fits.
pub const REASON_UNSCHEDULABLE: &str = "Unschedulable";

/// A pod (core/v1 `Pod`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Pod")]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Pod` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Desired state.
    #[serde(default)]
    pub spec: PodSpec,
    /// Observed state, written by the scheduler and kubelet.
    #[serde(default)]
    pub status: PodStatus,
}

/// A pod template, as embedded in a replication controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.PodTemplateSpec")]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    /// Metadata given to pods made from the template (labels above all).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Spec of pods made from the template.
    #[serde(default)]
    pub spec: PodSpec,
}

/// Desired state of a pod.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.PodSpec")]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// Volumes the containers may mount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Containers of the pod; at least one.
    #[serde(default)]
    pub containers: Vec<Container>,
    /// `Always`, `OnFailure` or `Never`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restart_policy: String,
    /// Node the pod is bound to; empty until scheduled.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_name: String,
    /// Labels a node must carry for the pod to be placed on it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: StringMap,
    /// Seconds given to the pod to stop gracefully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<i64>,
    /// Share the node's network namespace.
    #[serde(default, skip_serializing_if = "is_default")]
    pub host_network: bool,
}

/// A named volume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Volume")]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Name referenced by volume mounts.
    pub name: String,
    /// A directory on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPathVolumeSource>,
    /// A scratch directory that lives as long as the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDirVolumeSource>,
}

/// Host directory volume source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.HostPathVolumeSource")]
#[serde(rename_all = "camelCase")]
pub struct HostPathVolumeSource {
    /// Path on the host.
    pub path: String,
}

/// Empty directory volume source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.EmptyDirVolumeSource")]
#[serde(rename_all = "camelCase")]
pub struct EmptyDirVolumeSource {}

/// One container of a pod.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Container")]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// DNS-1123 label, unique within the pod.
    #[serde(default)]
    pub name: String,
    /// Image reference.
    #[serde(default)]
    pub image: String,
    /// Entrypoint argv; the image's entrypoint when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments to the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Working directory inside the container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// Ports the container exposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Compute resource requests and limits.
    #[serde(default, skip_serializing_if = "ResourceRequirements::is_empty")]
    pub resources: ResourceRequirements,
    /// Volumes mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Probe that restarts the container when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Probe whose result is the container's readiness (the pod's `Ready` condition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// `Always`, `IfNotPresent` or `Never`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_pull_policy: String,
}

/// A port exposed by a container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ContainerPort")]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Optional IANA_SVC_NAME, referable by services.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Port on the pod's IP.
    #[serde(default)]
    pub container_port: i32,
    /// Port on the node; 0 when not exposed on the host.
    #[serde(default, skip_serializing_if = "is_default")]
    pub host_port: i32,
    /// Host IP to bind the host port to.
    #[serde(rename = "hostIP", default, skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
    /// `TCP` or `UDP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}

/// An environment variable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.EnvVar")]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Variable value.
    #[serde(default)]
    pub value: String,
}

/// Compute resources, keyed by resource name (`cpu`, `memory`).
pub type ResourceList = BTreeMap<String, Quantity>;

/// Requests and limits of a container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ResourceRequirements")]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequirements {
    /// Upper bounds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: ResourceList,
    /// Amounts reserved for scheduling.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: ResourceList,
}

impl ResourceRequirements {
    /// True when neither requests nor limits are set.
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty() && self.requests.is_empty()
    }
}

/// A volume mounted into a container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.VolumeMount")]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// Name of the pod volume.
    pub name: String,
    /// Absolute path inside the container.
    pub mount_path: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_default")]
    pub read_only: bool,
}

/// A health check run by the kubelet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Probe")]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// Run a command in the container; exit code 0 is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    /// HTTP GET; a 2xx or 3xx answer is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    /// TCP connect; an accepted connection is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    /// Seconds after start before the first probe.
    #[serde(default, skip_serializing_if = "is_default")]
    pub initial_delay_seconds: i32,
    /// Seconds before a probe times out.
    #[serde(default, skip_serializing_if = "is_default")]
    pub timeout_seconds: i32,
    /// Seconds between probes.
    #[serde(default, skip_serializing_if = "is_default")]
    pub period_seconds: i32,
    /// Consecutive successes to be considered healthy again.
    #[serde(default, skip_serializing_if = "is_default")]
    pub success_threshold: i32,
    /// Consecutive failures before the container is restarted.
    #[serde(default, skip_serializing_if = "is_default")]
    pub failure_threshold: i32,
}

/// Command probe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ExecAction")]
#[serde(rename_all = "camelCase")]
pub struct ExecAction {
    /// Argv to run (no shell).
    #[serde(default)]
    pub command: Vec<String>,
}

/// HTTP GET probe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.HTTPGetAction")]
#[serde(rename_all = "camelCase")]
pub struct HttpGetAction {
    /// Request path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Port number or named container port.
    pub port: IntOrString,
    /// Host to connect to; the pod IP by default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// `HTTP` or `HTTPS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scheme: String,
}

/// TCP probe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.TCPSocketAction")]
#[serde(rename_all = "camelCase")]
pub struct TcpSocketAction {
    /// Port number or named container port.
    pub port: IntOrString,
    /// Host to connect to; the pod IP by default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

/// Observed state of a pod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.PodStatus")]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phase: String,
    /// Conditions such as `PodScheduled` and `Ready`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<PodCondition>,
    /// Human-readable detail about the pod's state.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Machine-readable reason for the pod's state.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// IP of the node the pod runs on.
    #[serde(rename = "hostIP", default, skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
    /// IP of the pod.
    #[serde(rename = "podIP", default, skip_serializing_if = "String::is_empty")]
    pub pod_ip: String,
    /// RFC 3339 time the kubelet accepted the pod.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub start_time: String,
    /// One entry per container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_statuses: Vec<ContainerStatus>,
}

impl PodStatus {
    /// The condition of the given type, if set.
    pub fn condition(&self, type_: &str) -> Option<&PodCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Sets a condition, replacing one of the same type. `last_transition_time` is
    /// taken from `cond` only when the status changes; otherwise the old one is kept.
    /// Returns whether anything changed.
    pub fn set_condition(&mut self, mut cond: PodCondition) -> bool {
        match self.conditions.iter_mut().find(|c| c.type_ == cond.type_) {
            Some(existing) => {
                if existing.status == cond.status {
                    cond.last_transition_time = existing.last_transition_time.clone();
                }
                let changed = *existing != cond;
                *existing = cond;
                changed
            }
            None => {
                self.conditions.push(cond);
                true
            }
        }
    }
}

/// A pod condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.PodCondition")]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    /// Condition type, e.g. `PodScheduled`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason, e.g. `Unschedulable`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// RFC 3339 time of the last probe.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub last_probe_time: String,
    /// RFC 3339 time the status last changed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub last_transition_time: String,
}

/// Status of one container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ContainerStatus")]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// Current state.
    #[serde(default)]
    pub state: ContainerState,
    /// State of the previous run.
    #[serde(default, skip_serializing_if = "ContainerState::is_empty")]
    pub last_state: ContainerState,
    /// Whether the container passes its readiness check.
    #[serde(default)]
    pub ready: bool,
    /// Times the container has been restarted.
    #[serde(default)]
    pub restart_count: i32,
    /// Image the container runs.
    #[serde(default)]
    pub image: String,
    /// Image ID of the runtime.
    #[serde(rename = "imageID", default, skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    /// `docker://<id>` or similar.
    #[serde(
        rename = "containerID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub container_id: String,
}

/// Exactly one of waiting, running or terminated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ContainerState")]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    /// Not yet running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<ContainerStateWaiting>,
    /// Running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<ContainerStateRunning>,
    /// Exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<ContainerStateTerminated>,
}

impl ContainerState {
    /// True when no state is set.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_none() && self.running.is_none() && self.terminated.is_none()
    }
}

/// Waiting container state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ContainerStateWaiting")]
#[serde(rename_all = "camelCase")]
pub struct ContainerStateWaiting {
    /// Why the container is waiting, e.g. `ContainerCreating`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Detail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Running container state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ContainerStateRunning")]
#[serde(rename_all = "camelCase")]
pub struct ContainerStateRunning {
    /// RFC 3339 start time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub started_at: String,
}

/// Terminated container state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.ContainerStateTerminated")]
#[serde(rename_all = "camelCase")]
pub struct ContainerStateTerminated {
    /// Exit code of the container's process.
    #[serde(default)]
    pub exit_code: i32,
    /// Signal that ended it, if any.
    #[serde(default, skip_serializing_if = "is_default")]
    pub signal: i32,
    /// Machine-readable reason, e.g. `Completed` or `Error`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Detail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// RFC 3339 start time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub started_at: String,
    /// RFC 3339 finish time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(with = "crate::openapi::schemas::Time")]
    pub finished_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field names that serde's camelCase would spell wrongly (`podIp`) keep Kubernetes' spelling.
    #[test]
    fn wire_names_match_kubernetes() {
        let mut pod = Pod::default();
        pod.spec.containers.push(Container {
            ports: vec![ContainerPort {
                host_ip: "127.0.0.1".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        pod.status.host_ip = "h".into();
        pod.status.pod_ip = "p".into();
        pod.status.container_statuses.push(ContainerStatus {
            image_id: "i".into(),
            container_id: "c".into(),
            ..Default::default()
        });
        let v = serde_json::to_value(&pod).unwrap();
        let cases = [
            ("/spec/containers/0/ports/0/hostIP", "127.0.0.1"),
            ("/status/hostIP", "h"),
            ("/status/podIP", "p"),
            ("/status/containerStatuses/0/imageID", "i"),
            ("/status/containerStatuses/0/containerID", "c"),
        ];
        for (pointer, want) in cases {
            assert_eq!(
                v.pointer(pointer).and_then(|x| x.as_str()),
                Some(want),
                "{pointer} in {v}"
            );
        }
    }
}
