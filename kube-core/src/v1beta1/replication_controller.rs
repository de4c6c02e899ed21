//! v1beta1 `ReplicationController` (`desiredState.replicas/replicaSelector/podTemplate`) ⇄ v1.

use super::de::decode;
use super::meta::{decode_meta, encode};
use super::pod::PodState;
use super::{ConversionError, V1Beta1};
use crate::meta::{ObjectMeta, StringMap};
use crate::object::Object;
use crate::pod::PodTemplateSpec;
use crate::replication_controller::{ReplicationController, ReplicationControllerSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// v1beta1 controller body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct RcBody {
    desired_state: RcState,
    /// Server-owned: never read from input.
    #[serde(
        deserialize_with = "super::de::ignored",
        skip_serializing_if = "Option::is_none"
    )]
    current_state: Option<RcCurrentState>,
}

/// v1beta1 `ReplicationControllerState` (desired).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct RcState {
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<i32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    replica_selector: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_template: Option<PodTemplate>,
}

/// v1beta1 observed controller state (output only).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct RcCurrentState {
    replicas: i32,
}

/// v1beta1 `PodTemplate`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct PodTemplate {
    desired_state: PodState,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    node_selector: StringMap,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: StringMap,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: StringMap,
}

impl PodTemplate {
    /// Converts to the v1 template; `path` locates the template for errors.
    fn into_v1(self, path: &str) -> Result<PodTemplateSpec, ConversionError> {
        let state_path = super::de::join(path, "desiredState");
        Ok(PodTemplateSpec {
            metadata: ObjectMeta {
                labels: self.labels,
                annotations: self.annotations,
                ..ObjectMeta::default()
            },
            spec: self
                .desired_state
                .into_spec(self.node_selector, &state_path)?,
        })
    }

    /// Converts from the v1 template (the manifest carries no `id`, as the seed cleared it).
    fn from_v1(t: &PodTemplateSpec) -> PodTemplate {
        PodTemplate {
            desired_state: PodState::desired_from_spec(&t.spec, "", ""),
            node_selector: t.spec.node_selector.clone(),
            labels: t.metadata.labels.clone(),
            annotations: t.metadata.annotations.clone(),
        }
    }
}

impl V1Beta1 for ReplicationController {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let metadata = decode_meta(&value)?;
        let body: RcBody = decode(&value)?;
        let state = body.desired_state;
        let template = match state.pod_template {
            Some(t) => Some(t.into_v1("desiredState.podTemplate")?),
            None => None,
        };
        let mut rc = ReplicationController {
            metadata,
            spec: ReplicationControllerSpec {
                replicas: state.replicas,
                selector: state.replica_selector,
                template,
            },
            ..ReplicationController::default()
        };
        rc.set_type_meta();
        Ok(rc)
    }

    fn to_v1beta1(&self) -> Value {
        let body = RcBody {
            desired_state: RcState {
                replicas: self.spec.replicas,
                replica_selector: self.spec.selector.clone(),
                pod_template: self.spec.template.as_ref().map(PodTemplate::from_v1),
            },
            current_state: Some(RcCurrentState {
                replicas: self.status.replicas,
            }),
        };
        encode(
            ReplicationController::RESOURCE.info().v1beta1_kind,
            &self.metadata,
            &body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod::{Container, ContainerPort, EmptyDirVolumeSource, PodSpec, Volume};
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn seed_redis_controller_converts() {
        let value: Value =
            serde_json::from_str(include_str!("../../../examples/redisController.json"))
                .expect("valid JSON");
        let rc = ReplicationController::from_v1beta1(value).expect("converts");
        assert_eq!(
            (rc.api_version.as_str(), rc.kind.as_str()),
            ("v1", "ReplicationController")
        );
        assert_eq!(rc.metadata.name, "redisController");
        assert_eq!(rc.metadata.labels, labels(&[("name", "redis")]));
        assert_eq!(rc.spec.replicas, Some(1));
        assert_eq!(rc.spec.selector, labels(&[("name", "redis")]));
        let t = rc.spec.template.expect("template");
        assert_eq!(t.metadata.labels, labels(&[("name", "redis")]));
        assert_eq!(t.spec.containers.len(), 1);
        let c = &t.spec.containers[0];
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
    }

    fn controller() -> ReplicationController {
        let mut rc = ReplicationController::default();
        rc.set_type_meta();
        rc.metadata.name = "nginx".into();
        rc.metadata.namespace = "default".into();
        rc.metadata.resource_version = "3".into();
        rc.metadata.labels = labels(&[("name", "nginx")]);
        rc.spec = ReplicationControllerSpec {
            replicas: Some(2),
            selector: labels(&[("name", "nginx")]),
            template: Some(PodTemplateSpec {
                metadata: ObjectMeta {
                    labels: labels(&[("name", "nginx")]),
                    annotations: labels(&[("a", "b")]),
                    ..ObjectMeta::default()
                },
                spec: PodSpec {
                    volumes: vec![Volume {
                        name: "tmp".into(),
                        host_path: None,
                        empty_dir: Some(EmptyDirVolumeSource {}),
                    }],
                    containers: vec![Container {
                        name: "nginx".into(),
                        image: "dockerfile/nginx".into(),
                        ports: vec![ContainerPort {
                            container_port: 80,
                            host_port: 8080,
                            ..ContainerPort::default()
                        }],
                        ..Container::default()
                    }],
                    restart_policy: "OnFailure".into(),
                    node_selector: labels(&[("zone", "a")]),
                    ..PodSpec::default()
                },
            }),
        };
        rc
    }

    #[test]
    fn controllers_round_trip() {
        let rc = controller();
        assert_eq!(
            ReplicationController::from_v1beta1(rc.to_v1beta1()).expect("back"),
            rc
        );
        let mut bare = ReplicationController::default();
        bare.set_type_meta();
        bare.metadata.name = "bare".into();
        assert_eq!(
            ReplicationController::from_v1beta1(bare.to_v1beta1()).expect("back"),
            bare
        );
    }

    #[test]
    fn output_shape() {
        let mut rc = controller();
        rc.status.replicas = 1;
        rc.spec.template = Some(PodTemplateSpec {
            metadata: ObjectMeta {
                labels: labels(&[("name", "nginx")]),
                ..ObjectMeta::default()
            },
            spec: PodSpec {
                containers: vec![Container {
                    name: "n".into(),
                    image: "i".into(),
                    ..Container::default()
                }],
                ..PodSpec::default()
            },
        });
        let want = json!({
            "kind": "ReplicationController", "apiVersion": "v1beta1", "id": "nginx",
            "namespace": "default", "resourceVersion": 3, "labels": {"name": "nginx"},
            "desiredState": {
                "replicas": 2, "replicaSelector": {"name": "nginx"},
                "podTemplate": {
                    "desiredState": {"manifest": {"version": "v1beta1", "containers": [{"name": "n", "image": "i"}]},
                                     "status": "Running"},
                    "labels": {"name": "nginx"}}},
            "currentState": {"replicas": 1}
        });
        assert_eq!(rc.to_v1beta1(), want);
    }

    #[test]
    fn missing_parts_are_tolerated_and_errors_located() {
        let rc = ReplicationController::from_v1beta1(json!({"id": "x"})).expect("converts");
        assert_eq!(rc.spec, ReplicationControllerSpec::default());
        let err = ReplicationController::from_v1beta1(json!({"desiredState": {"podTemplate": {
            "desiredState": {"manifest": {"restartPolicy": {"always": {}, "onFailure": {}}}}}}}))
        .expect_err("must fail");
        assert_eq!(
            err.field,
            "desiredState.podTemplate.desiredState.manifest.restartPolicy"
        );
        let err = ReplicationController::from_v1beta1(json!({"desiredState": {"replicas": "two"}}))
            .expect_err("must fail");
        assert_eq!(err.field, "desiredState.replicas");
    }
}
