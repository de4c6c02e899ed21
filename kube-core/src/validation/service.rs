//! Service validation.

use super::meta::{validate_labels, validate_object_meta, validate_object_meta_update, NameRule};
use super::names::{dns1123_label_error, is_ip, is_port, IMMUTABLE_MSG, PORT_RANGE_MSG};
use super::pod::{validate_port_num_or_name, validate_protocol};
use super::{FieldError, FieldErrors, FieldPath, Validate};
use crate::service::Service;
use std::collections::BTreeSet;

/// `clusterIP` value of a headless service.
const CLUSTER_IP_NONE: &str = "None";
/// Service types.
const SERVICE_TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer"];
/// Session affinities.
const SESSION_AFFINITIES: &[&str] = &["None", "ClientIP"];

impl Validate for Service {
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1035Label, &mut errs);
        let spec = FieldPath::new("spec");
        let ports = spec.child("ports");
        // A headless service may have no ports; any other needs at least one.
        if self.spec.ports.is_empty() && self.spec.cluster_ip != CLUSTER_IP_NONE {
            errs.push(FieldError::required(&ports, ""));
        }
        let mut names = BTreeSet::new();
        let several = self.spec.ports.len() > 1;
        for (i, p) in self.spec.ports.iter().enumerate() {
            let ppath = ports.index(i);
            if p.name.is_empty() {
                if several {
                    errs.push(FieldError::required(ppath.child("name"), ""));
                }
            } else if let Some(msg) = dns1123_label_error(&p.name) {
                errs.push(FieldError::invalid(ppath.child("name"), &p.name, msg));
            } else if !names.insert(p.name.as_str()) {
                errs.push(FieldError::duplicate(ppath.child("name"), &p.name));
            }
            if !is_port(p.port) {
                errs.push(FieldError::invalid(
                    ppath.child("port"),
                    p.port,
                    PORT_RANGE_MSG,
                ));
            }
            validate_protocol(&p.protocol, &ppath.child("protocol"), &mut errs);
            if let Some(target) = &p.target_port {
                validate_port_num_or_name(target, &ppath.child("targetPort"), &mut errs);
            }
        }
        validate_labels(&self.spec.selector, &spec.child("selector"), &mut errs);
        let ip = &self.spec.cluster_ip;
        if !ip.is_empty() && ip != CLUSTER_IP_NONE && !is_ip(ip) {
            errs.push(FieldError::invalid(
                spec.child("clusterIP"),
                ip,
                "must be empty, 'None', or a valid IP address",
            ));
        }
        let type_ = self.spec.type_.as_str();
        if !type_.is_empty() && !SERVICE_TYPES.contains(&type_) {
            errs.push(FieldError::not_supported(
                spec.child("type"),
                type_,
                SERVICE_TYPES,
            ));
        }
        let affinity = self.spec.session_affinity.as_str();
        if !affinity.is_empty() && !SESSION_AFFINITIES.contains(&affinity) {
            errs.push(FieldError::not_supported(
                spec.child("sessionAffinity"),
                affinity,
                SESSION_AFFINITIES,
            ));
        }
        errs
    }

    /// Besides `validate` and immutable metadata: `spec.clusterIP` may not change once set.
    /// (The server carries the old address over when an update leaves it empty, before this.)
    fn validate_update(&self, old: &Self) -> FieldErrors {
        let mut errs = self.validate();
        validate_object_meta_update(&self.metadata, &old.metadata, &mut errs);
        if !old.spec.cluster_ip.is_empty() && self.spec.cluster_ip != old.spec.cluster_ip {
            errs.push(FieldError::invalid(
                "spec.clusterIP",
                &self.spec.cluster_ip,
                IMMUTABLE_MSG,
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::intstr::IntOrString;
    use crate::meta::ObjectMeta;
    use crate::service::{ServicePort, ServiceSpec};

    const REQ: &str = "FieldValueRequired";
    const INV: &str = "FieldValueInvalid";
    const DUP: &str = "FieldValueDuplicate";
    const UNS: &str = "FieldValueNotSupported";

    fn sport(name: &str, port: i32, target: Option<IntOrString>) -> ServicePort {
        ServicePort {
            name: name.into(),
            protocol: "TCP".into(),
            port,
            target_port: target,
        }
    }

    fn valid_service() -> Service {
        Service {
            metadata: ObjectMeta {
                name: "redismaster".into(),
                namespace: "default".into(),
                uid: "uid-1".into(),
                ..ObjectMeta::default()
            },
            spec: ServiceSpec {
                ports: vec![sport("", 10000, Some(IntOrString::Int(6379)))],
                selector: [("name".to_string(), "redis".to_string())].into(),
                cluster_ip: "10.0.0.11".into(),
                type_: "ClusterIP".into(),
                session_affinity: "None".into(),
            },
            ..Service::default()
        }
    }

    #[test]
    fn service_create_cases() {
        let cases: &[Case<Service>] = &[
            (
                "no name",
                |s| s.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "name with a dot",
                |s| s.metadata.name = "redis.master".into(),
                &[("metadata.name", INV)],
            ),
            (
                "name starting with a digit",
                |s| s.metadata.name = "1redis".into(),
                &[("metadata.name", INV)],
            ),
            ("no ports", |s| s.spec.ports.clear(), &[("spec.ports", REQ)]),
            (
                "headless without ports",
                |s| {
                    s.spec.ports.clear();
                    s.spec.cluster_ip = "None".into();
                },
                &[],
            ),
            (
                "port 0",
                |s| s.spec.ports[0].port = 0,
                &[("spec.ports[0].port", INV)],
            ),
            (
                "port too big",
                |s| s.spec.ports[0].port = 65536,
                &[("spec.ports[0].port", INV)],
            ),
            (
                "bad protocol",
                |s| s.spec.ports[0].protocol = "HTTP".into(),
                &[("spec.ports[0].protocol", UNS)],
            ),
            (
                "second port without names",
                |s| s.spec.ports.push(sport("", 10001, None)),
                &[("spec.ports[0].name", REQ), ("spec.ports[1].name", REQ)],
            ),
            (
                "two named ports",
                |s| {
                    s.spec.ports[0].name = "redis".into();
                    s.spec.ports.push(sport(
                        "metrics",
                        9121,
                        Some(IntOrString::String("metrics".into())),
                    ));
                },
                &[],
            ),
            (
                "duplicate port names",
                |s| {
                    s.spec.ports[0].name = "redis".into();
                    s.spec.ports.push(sport("redis", 10001, None));
                },
                &[("spec.ports[1].name", DUP)],
            ),
            (
                "bad port name",
                |s| s.spec.ports[0].name = "Redis".into(),
                &[("spec.ports[0].name", INV)],
            ),
            (
                "target port 0",
                |s| s.spec.ports[0].target_port = Some(IntOrString::Int(0)),
                &[("spec.ports[0].targetPort", INV)],
            ),
            (
                "named target port",
                |s| s.spec.ports[0].target_port = Some(IntOrString::String("redis".into())),
                &[],
            ),
            (
                "bad named target port",
                |s| s.spec.ports[0].target_port = Some(IntOrString::String("redis_port".into())),
                &[("spec.ports[0].targetPort", INV)],
            ),
            (
                "bad selector",
                |s| {
                    s.spec.selector.insert("name".into(), "not valid".into());
                },
                &[("spec.selector", INV)],
            ),
            ("no cluster IP yet", |s| s.spec.cluster_ip.clear(), &[]),
            (
                "IPv6 cluster IP",
                |s| s.spec.cluster_ip = "fd00::11".into(),
                &[],
            ),
            (
                "bad cluster IP",
                |s| s.spec.cluster_ip = "10.0.0.300".into(),
                &[("spec.clusterIP", INV)],
            ),
            (
                "unsupported type",
                |s| s.spec.type_ = "ExternalName".into(),
                &[("spec.type", UNS)],
            ),
            (
                "unsupported affinity",
                |s| s.spec.session_affinity = "Sticky".into(),
                &[("spec.sessionAffinity", UNS)],
            ),
            (
                "many errors at once",
                |s| {
                    s.metadata.name = "Redis".into();
                    s.spec.ports[0].port = -1;
                    s.spec.ports[0].protocol = "ICMP".into();
                    s.spec
                        .ports
                        .push(sport("x", 80, Some(IntOrString::Int(70000))));
                    s.spec.cluster_ip = "nope".into();
                    s.spec.type_ = "Magic".into();
                },
                &[
                    ("metadata.name", INV),
                    ("spec.ports[0].name", REQ),
                    ("spec.ports[0].port", INV),
                    ("spec.ports[0].protocol", UNS),
                    ("spec.ports[1].targetPort", INV),
                    ("spec.clusterIP", INV),
                    ("spec.type", UNS),
                ],
            ),
        ];
        check_create(&valid_service(), cases);
    }

    #[test]
    fn service_update_cases() {
        let cases: &[Case<Service>] = &[
            ("change ports", |s| s.spec.ports[0].port = 10001, &[]),
            ("change selector", |s| s.spec.selector.clear(), &[]),
            (
                "change cluster IP",
                |s| s.spec.cluster_ip = "10.0.0.12".into(),
                &[("spec.clusterIP", INV)],
            ),
            (
                "clear cluster IP",
                |s| s.spec.cluster_ip.clear(),
                &[("spec.clusterIP", INV)],
            ),
            (
                "rename",
                |s| s.metadata.name = "other".into(),
                &[("metadata.name", INV)],
            ),
        ];
        check_update(&valid_service(), cases);

        // An address may be assigned to a service that had none.
        let mut old = valid_service();
        old.spec.cluster_ip.clear();
        assert!(valid_service().validate_update(&old).is_empty());
    }
}
