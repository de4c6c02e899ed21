//! v1beta1 `Service` (`port`, `containerPort`, `selector`, `portalIP`) ⇄ v1 `Service`.
//!
//! v1beta1 services have exactly one port; a v1 service with several is served with its first.

use super::de::{de_int_or_string, decode};
use super::meta::{decode_meta, encode};
use super::{ConversionError, V1Beta1};
use crate::intstr::IntOrString;
use crate::meta::StringMap;
use crate::object::Object;
use crate::service::{Service, ServicePort, ServiceSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// v1 service type the seed's `createExternalLoadBalancer: true` maps to.
const TYPE_LOAD_BALANCER: &str = "LoadBalancer";

/// Returns true for `false` (for `skip_serializing_if`).
fn is_false(b: &bool) -> bool {
    !*b
}

/// v1beta1 service body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct ServiceBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<i32>,
    #[serde(skip_serializing_if = "String::is_empty")]
    protocol: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    selector: StringMap,
    #[serde(skip_serializing_if = "is_false")]
    create_external_load_balancer: bool,
    /// Accepted and ignored.
    #[serde(rename = "publicIPs", skip_serializing)]
    public_ips: Vec<String>,
    #[serde(
        deserialize_with = "de_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    container_port: Option<IntOrString>,
    #[serde(rename = "portalIP", skip_serializing_if = "String::is_empty")]
    portal_ip: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    session_affinity: String,
}

impl V1Beta1 for Service {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let metadata = decode_meta(&value)?;
        let body: ServiceBody = decode(&value)?;
        // An unset `containerPort` was the zero IntOrString in Go.
        let target_port = body.container_port.filter(|p| {
            !matches!(p, IntOrString::Int(0))
                && !matches!(p, IntOrString::String(s) if s.is_empty())
        });
        let mut ports = Vec::new();
        if body.port.is_some() || target_port.is_some() || !body.protocol.is_empty() {
            ports.push(ServicePort {
                name: String::new(),
                protocol: body.protocol,
                port: body.port.unwrap_or(0),
                target_port,
            });
        }
        let type_ = if body.create_external_load_balancer {
            TYPE_LOAD_BALANCER.to_string()
        } else {
            String::new()
        };
        let mut svc = Service {
            metadata,
            spec: ServiceSpec {
                ports,
                selector: body.selector,
                cluster_ip: body.portal_ip,
                type_,
                session_affinity: body.session_affinity,
            },
            ..Service::default()
        };
        svc.set_type_meta();
        Ok(svc)
    }

    fn to_v1beta1(&self) -> Value {
        let first = self.spec.ports.first();
        let body = ServiceBody {
            port: first.map(|p| p.port),
            protocol: first.map(|p| p.protocol.clone()).unwrap_or_default(),
            selector: self.spec.selector.clone(),
            create_external_load_balancer: self.spec.type_ == TYPE_LOAD_BALANCER,
            public_ips: Vec::new(),
            container_port: first.and_then(|p| p.target_port.clone()),
            portal_ip: self.spec.cluster_ip.clone(),
            session_affinity: self.spec.session_affinity.clone(),
        };
        encode(Service::RESOURCE.info().v1beta1_kind, &self.metadata, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selector(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn seed_service_converts() {
        let doc = json!({"id": "redisslave", "kind": "Service", "apiVersion": "v1beta1", "port": 10001,
                         "containerPort": 6379, "labels": {"name": "redisslave"},
                         "selector": {"name": "redisslave"}, "publicIPs": ["1.2.3.4"], "proxyPort": 5});
        let svc = Service::from_v1beta1(doc).expect("converts");
        assert_eq!(svc.metadata.name, "redisslave");
        assert_eq!(
            svc.spec.ports,
            vec![ServicePort {
                port: 10001,
                target_port: Some(IntOrString::Int(6379)),
                ..ServicePort::default()
            }]
        );
        assert_eq!(svc.spec.selector, selector(&[("name", "redisslave")]));
        assert_eq!(svc.spec.type_, "");
    }

    #[test]
    fn container_port_forms() {
        let cases = [
            (json!(6379), Some(IntOrString::Int(6379))),
            (json!("redis"), Some(IntOrString::String("redis".into()))),
            (json!(0), None),
            (json!(""), None),
            (json!(null), None),
        ];
        for (cp, want) in cases {
            let svc =
                Service::from_v1beta1(json!({"id": "s", "port": 80, "containerPort": cp.clone()}))
                    .expect("converts");
            assert_eq!(svc.spec.ports[0].target_port, want, "{cp}");
        }
        let err = Service::from_v1beta1(json!({"containerPort": [1]})).expect_err("must fail");
        assert_eq!(err.field, "containerPort");
    }

    #[test]
    fn services_round_trip() {
        let mut svc = Service::default();
        svc.set_type_meta();
        svc.metadata.name = "frontend".into();
        svc.metadata.namespace = "default".into();
        svc.metadata.resource_version = "8".into();
        svc.spec = ServiceSpec {
            ports: vec![ServicePort {
                name: String::new(),
                protocol: "UDP".into(),
                port: 53,
                target_port: Some(IntOrString::String("dns".into())),
            }],
            selector: selector(&[("app", "dns")]),
            cluster_ip: "10.0.0.10".into(),
            type_: "LoadBalancer".into(),
            session_affinity: "ClientIP".into(),
        };
        assert_eq!(Service::from_v1beta1(svc.to_v1beta1()).expect("back"), svc);
        let mut bare = Service::default();
        bare.set_type_meta();
        bare.metadata.name = "bare".into();
        assert_eq!(
            Service::from_v1beta1(bare.to_v1beta1()).expect("back"),
            bare
        );
    }

    #[test]
    fn output_shape_uses_first_port() {
        let mut svc = Service::default();
        svc.metadata.name = "web".into();
        svc.spec.ports = vec![
            ServicePort {
                port: 80,
                protocol: "TCP".into(),
                target_port: Some(IntOrString::Int(8080)),
                ..Default::default()
            },
            ServicePort {
                port: 443,
                ..Default::default()
            },
        ];
        svc.spec.cluster_ip = "10.0.0.1".into();
        assert_eq!(
            svc.to_v1beta1(),
            json!({"kind": "Service", "apiVersion": "v1beta1", "id": "web", "port": 80, "protocol": "TCP",
                   "containerPort": 8080, "portalIP": "10.0.0.1"})
        );
    }
}
