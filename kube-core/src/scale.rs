//! Scale (`autoscaling/v1`): the `/scale` subresource of replication controllers.
//!
//! Not a stored kind: a `Scale` is a view of a replication controller (its desired and observed
//! replica counts and its selector) computed on every read, and writing one changes only the
//! controller's `spec.replicas`. So it is not a [`crate::ResourceKind`]; the server derives it
//! from, and applies it to, the stored controller.

use crate::labels::Selector;
use crate::meta::{is_default, ObjectMeta};
use crate::replication_controller::ReplicationController;
use serde::{Deserialize, Serialize};

/// The API version a `Scale` is served in.
pub const SCALE_API_VERSION: &str = "autoscaling/v1";

/// The kind of a `Scale`.
pub const SCALE_KIND: &str = "Scale";

/// The group of a `Scale` (discovery names it apart from the version).
pub const SCALE_GROUP: &str = "autoscaling";

/// A scale (`autoscaling/v1` `Scale`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.autoscaling.v1.Scale")]
#[serde(rename_all = "camelCase")]
pub struct Scale {
    /// `autoscaling/v1` when served.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `Scale` when served.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The scaled object's name, namespace, uid, resourceVersion and creation time.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The desired replicas.
    #[serde(default)]
    pub spec: ScaleSpec,
    /// The observed replicas.
    #[serde(default)]
    pub status: ScaleStatus,
}

/// Desired state of a scale.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.autoscaling.v1.ScaleSpec")]
#[serde(rename_all = "camelCase")]
pub struct ScaleSpec {
    /// Desired number of replicas (absent means 0, as in Kubernetes).
    #[serde(default, skip_serializing_if = "is_default")]
    pub replicas: i32,
}

/// Observed state of a scale.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.autoscaling.v1.ScaleStatus")]
#[serde(rename_all = "camelCase")]
pub struct ScaleStatus {
    /// Observed number of replicas.
    #[serde(default)]
    pub replicas: i32,
    /// The label selector of the replicas, in its string form (`k=v,k2=v2`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
}

impl Scale {
    /// The scale of a replication controller (as Kubernetes' `scaleFromRC`).
    pub fn of_replication_controller(rc: &ReplicationController) -> Scale {
        let m = &rc.metadata;
        Scale {
            api_version: SCALE_API_VERSION.into(),
            kind: SCALE_KIND.into(),
            metadata: ObjectMeta {
                name: m.name.clone(),
                namespace: m.namespace.clone(),
                uid: m.uid.clone(),
                resource_version: m.resource_version.clone(),
                creation_timestamp: m.creation_timestamp.clone(),
                ..ObjectMeta::default()
            },
            spec: ScaleSpec {
                replicas: rc
                    .spec
                    .replicas
                    .unwrap_or(crate::defaults::DEFAULT_REPLICAS),
            },
            status: ScaleStatus {
                replicas: rc.status.replicas,
                selector: Selector::from_map(&rc.spec.selector).to_string(),
            },
        }
    }

    /// Applies this scale to `rc`: only `spec.replicas` changes.
    pub fn apply_to(&self, rc: &mut ReplicationController) {
        rc.spec.replicas = Some(self.spec.replicas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ReplicationControllerBuilder;

    #[test]
    fn scale_of_a_controller() {
        let mut rc = ReplicationControllerBuilder::new("web")
            .namespace("ns")
            .replicas(3)
            .selector("b", "2")
            .selector("a", "1")
            .label("not", "copied")
            .status_replicas(2)
            .build();
        rc.metadata.uid = "u1".into();
        rc.metadata.resource_version = "7".into();
        rc.metadata.creation_timestamp = "2014-06-01T00:00:00Z".into();
        let s = Scale::of_replication_controller(&rc);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({
                "apiVersion": "autoscaling/v1",
                "kind": "Scale",
                "metadata": {
                    "name": "web", "namespace": "ns", "uid": "u1",
                    "resourceVersion": "7", "creationTimestamp": "2014-06-01T00:00:00Z"
                },
                "spec": {"replicas": 3},
                "status": {"replicas": 2, "selector": "a=1,b=2"}
            })
        );
    }

    #[test]
    fn unset_replicas_read_as_the_default_and_zero_is_kept() {
        let mut rc = ReplicationControllerBuilder::new("web")
            .selector("app", "web")
            .build();
        assert_eq!(Scale::of_replication_controller(&rc).spec.replicas, 1);
        Scale::default().apply_to(&mut rc);
        assert_eq!(rc.spec.replicas, Some(0));
        assert_eq!(
            serde_json::to_value(Scale::of_replication_controller(&rc)).unwrap()["status"],
            serde_json::json!({"replicas": 0, "selector": "app=web"})
        );
    }

    #[test]
    fn apply_changes_only_the_replicas() {
        let rc = ReplicationControllerBuilder::new("web").replicas(2).build();
        let mut scaled = rc.clone();
        let mut s = Scale::of_replication_controller(&rc);
        s.spec.replicas = 5;
        s.status.replicas = 9;
        s.status.selector = "x=y".into();
        s.metadata.name = "other".into();
        s.apply_to(&mut scaled);
        let mut want = rc.clone();
        want.spec.replicas = Some(5);
        assert_eq!(scaled, want);
    }
}
