//! v1beta1 `Minion` (`hostIP`, `resources.capacity`, `status.conditions`) ⇄ v1 `Node`.

use super::de::{decode, Scalar};
use super::meta::{decode_meta, encode};
use super::{ConversionError, V1Beta1};
use crate::node::{Node, NodeAddress, NodeCondition};
use crate::object::Object;
use crate::pod::ResourceList;
use crate::quantity::Quantity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// v1 address type `hostIP` maps to.
const INTERNAL_IP: &str = "InternalIP";

/// Returns true for `false` (for `skip_serializing_if`).
fn is_false(b: &bool) -> bool {
    !*b
}

/// v1beta1 minion body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct MinionBody {
    #[serde(rename = "hostIP", skip_serializing_if = "String::is_empty")]
    host_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<NodeResources>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<MinionStatus>,
    #[serde(skip_serializing_if = "is_false")]
    unschedulable: bool,
    #[serde(rename = "podCIDR", skip_serializing_if = "String::is_empty")]
    pod_cidr: String,
}

/// v1beta1 `NodeResources`: capacity values are integers (milli-CPU, bytes) or quantity strings.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct NodeResources {
    capacity: BTreeMap<String, Scalar>,
}

/// v1beta1 (v0.5) minion status.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct MinionStatus {
    conditions: Vec<Condition>,
}

/// v1beta1 node condition: `kind` is the v1 type; status `Full`/`None`/`Unknown`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Condition {
    kind: String,
    status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    last_probe_time: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    last_transition_time: String,
}

/// v1beta1 condition status → v1 (`Full` → `True`, `None` → `False`; others pass through).
fn condition_status_from(s: String) -> String {
    match s.as_str() {
        "Full" => "True".to_string(),
        "None" => "False".to_string(),
        _ => s,
    }
}

/// v1 condition status → v1beta1 (`True` → `Full`, `False` → `None`; others pass through).
fn condition_status_to(s: &str) -> String {
    match s {
        "True" => "Full".to_string(),
        "False" => "None".to_string(),
        _ => s.to_string(),
    }
}

/// v1beta1 capacity → v1: integer `cpu` is milli-CPU, other integers are plain units.
fn capacity_from(capacity: BTreeMap<String, Scalar>) -> ResourceList {
    capacity
        .into_iter()
        .map(|(name, v)| {
            let q = match v {
                Scalar::Str(s) => Quantity(s),
                Scalar::Int(n) if name == "cpu" => Quantity::from_milli(n),
                Scalar::Int(n) => Quantity::from_value(n),
            };
            (name, q)
        })
        .collect()
}

/// v1 capacity → v1beta1 integers (`cpu` in milli-CPU); unparseable quantities stay strings.
fn capacity_to(capacity: &ResourceList) -> BTreeMap<String, Scalar> {
    capacity
        .iter()
        .map(|(name, q)| {
            let n = if name == "cpu" {
                q.milli_value().ok()
            } else {
                // Only whole numbers have an integer form.
                let milli = q.milli_value().ok();
                q.value().ok().filter(|v| milli == v.checked_mul(1000))
            };
            let v = n.map_or_else(|| Scalar::Str(q.0.clone()), Scalar::Int);
            (name.clone(), v)
        })
        .collect()
}

impl V1Beta1 for Node {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let metadata = decode_meta(&value)?;
        let body: MinionBody = decode(&value)?;
        let mut node = Node {
            metadata,
            ..Node::default()
        };
        node.spec.unschedulable = body.unschedulable;
        node.spec.pod_cidr = body.pod_cidr;
        if !body.host_ip.is_empty() {
            node.status.addresses.push(NodeAddress {
                type_: INTERNAL_IP.to_string(),
                address: body.host_ip,
            });
        }
        node.status.capacity = capacity_from(body.resources.unwrap_or_default().capacity);
        node.status.conditions = body
            .status
            .unwrap_or_default()
            .conditions
            .into_iter()
            .map(|c| NodeCondition {
                type_: c.kind,
                status: condition_status_from(c.status),
                reason: c.reason,
                message: c.message,
                last_heartbeat_time: c.last_probe_time,
                last_transition_time: c.last_transition_time,
            })
            .collect();
        node.set_type_meta();
        Ok(node)
    }

    fn to_v1beta1(&self) -> Value {
        let addresses = &self.status.addresses;
        let host_ip = addresses
            .iter()
            .find(|a| a.type_ == INTERNAL_IP)
            .or_else(|| addresses.first())
            .map(|a| a.address.clone())
            .unwrap_or_default();
        let capacity = &self.status.capacity;
        let conditions = &self.status.conditions;
        let body = MinionBody {
            host_ip,
            resources: (!capacity.is_empty()).then(|| NodeResources {
                capacity: capacity_to(capacity),
            }),
            status: (!conditions.is_empty()).then(|| MinionStatus {
                conditions: conditions
                    .iter()
                    .map(|c| Condition {
                        kind: c.type_.clone(),
                        status: condition_status_to(&c.status),
                        reason: c.reason.clone(),
                        message: c.message.clone(),
                        last_probe_time: c.last_heartbeat_time.clone(),
                        last_transition_time: c.last_transition_time.clone(),
                    })
                    .collect(),
            }),
            unschedulable: self.spec.unschedulable,
            pod_cidr: self.spec.pod_cidr.clone(),
        };
        encode(Node::RESOURCE.info().v1beta1_kind, &self.metadata, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(s: &str) -> Quantity {
        Quantity(s.to_string())
    }

    #[test]
    fn seed_minion_converts() {
        let doc = json!({"kind": "Minion", "id": "10.245.2.2", "hostIP": "10.245.2.2",
                         "resources": {"capacity": {"cpu": 1000, "memory": 3221225472i64}}});
        let node = Node::from_v1beta1(doc).expect("converts");
        assert_eq!(
            (node.api_version.as_str(), node.kind.as_str()),
            ("v1", "Node")
        );
        assert_eq!(node.metadata.name, "10.245.2.2");
        assert_eq!(
            node.status.addresses,
            vec![NodeAddress {
                type_: "InternalIP".into(),
                address: "10.245.2.2".into()
            }]
        );
        let want: ResourceList = [
            ("cpu".to_string(), q("1")),
            ("memory".to_string(), q("3221225472")),
        ]
        .into();
        assert_eq!(node.status.capacity, want);
    }

    #[test]
    fn capacity_accepts_quantity_strings() {
        let doc = json!({"resources": {"capacity": {"cpu": "500m", "memory": "2Gi", "pods": 110}}});
        let node = Node::from_v1beta1(doc).expect("converts");
        let want: ResourceList = [
            ("cpu".to_string(), q("500m")),
            ("memory".to_string(), q("2Gi")),
            ("pods".to_string(), q("110")),
        ]
        .into();
        assert_eq!(node.status.capacity, want);
        let err = Node::from_v1beta1(json!({"resources": {"capacity": {"cpu": [1]}}}))
            .expect_err("fails");
        assert_eq!(err.field, "resources.capacity.cpu");
    }

    #[test]
    fn conditions_map_both_ways() {
        let doc = json!({"id": "n", "status": {"conditions": [
            {"kind": "Ready", "status": "Full"}, {"kind": "Reachable", "status": "None"},
            {"kind": "Ready", "status": "True"}]}});
        let node = Node::from_v1beta1(doc).expect("converts");
        let statuses: Vec<(&str, &str)> = node
            .status
            .conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            vec![("Ready", "True"), ("Reachable", "False"), ("Ready", "True")]
        );
        let out = node.to_v1beta1();
        assert_eq!(
            out["status"]["conditions"][0],
            json!({"kind": "Ready", "status": "Full"})
        );
        assert_eq!(
            out["status"]["conditions"][1],
            json!({"kind": "Reachable", "status": "None"})
        );
    }

    #[test]
    fn nodes_round_trip() {
        let mut node = Node::default();
        node.set_type_meta();
        node.metadata.name = "minion-1".into();
        node.metadata.uid = "u".into();
        node.metadata.resource_version = "99".into();
        node.metadata.labels = [("zone".to_string(), "a".to_string())].into();
        node.spec.unschedulable = true;
        node.spec.pod_cidr = "10.244.1.0/24".into();
        node.status.addresses = vec![NodeAddress {
            type_: "InternalIP".into(),
            address: "10.0.0.5".into(),
        }];
        node.status.capacity = [
            ("cpu".to_string(), q("1500m")),
            ("memory".to_string(), q("3221225472")),
            ("pods".to_string(), q("110")),
        ]
        .into();
        node.status.conditions = vec![NodeCondition {
            type_: "Ready".into(),
            status: "Unknown".into(),
            reason: "NodeStatusUnknown".into(),
            message: "kubelet stopped posting".into(),
            last_heartbeat_time: "2014-10-30T15:57:02Z".into(),
            last_transition_time: "2014-10-30T15:58:02Z".into(),
        }];
        assert_eq!(Node::from_v1beta1(node.to_v1beta1()).expect("back"), node);
    }

    #[test]
    fn output_shape() {
        let mut node = Node::default();
        node.metadata.name = "m1".into();
        node.status.addresses = vec![
            NodeAddress {
                type_: "Hostname".into(),
                address: "m1".into(),
            },
            NodeAddress {
                type_: "InternalIP".into(),
                address: "10.0.0.1".into(),
            },
        ];
        node.status.capacity = [
            ("cpu".to_string(), q("2")),
            ("memory".to_string(), q("1Gi")),
        ]
        .into();
        assert_eq!(
            node.to_v1beta1(),
            json!({"kind": "Minion", "apiVersion": "v1beta1", "id": "m1", "hostIP": "10.0.0.1",
                   "resources": {"capacity": {"cpu": 2000, "memory": 1073741824}}})
        );
    }
}
