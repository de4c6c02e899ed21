//! Endpoints validation.

use super::meta::{validate_object_meta, validate_object_meta_update, NameRule};
use super::names::{dns1123_label_error, is_ip, is_port, PORT_RANGE_MSG};
use super::pod::validate_protocol;
use super::{FieldError, FieldErrors, FieldPath, Validate};
use crate::endpoints::{EndpointAddress, EndpointPort, Endpoints};
use std::collections::BTreeSet;

impl Validate for Endpoints {
    fn validate(&self) -> FieldErrors {
        let mut errs = Vec::new();
        validate_object_meta(&self.metadata, NameRule::Dns1123Subdomain, &mut errs);
        let subsets = FieldPath::new("subsets");
        for (i, subset) in self.subsets.iter().enumerate() {
            let spath = subsets.index(i);
            validate_addresses(&subset.addresses, &spath.child("addresses"), &mut errs);
            validate_addresses(
                &subset.not_ready_addresses,
                &spath.child("notReadyAddresses"),
                &mut errs,
            );
            validate_ports(&subset.ports, &spath.child("ports"), &mut errs);
        }
        errs
    }

    fn validate_update(&self, old: &Self) -> FieldErrors {
        let mut errs = self.validate();
        validate_object_meta_update(&self.metadata, &old.metadata, &mut errs);
        errs
    }
}

fn validate_addresses(addresses: &[EndpointAddress], path: &FieldPath, errs: &mut FieldErrors) {
    for (j, a) in addresses.iter().enumerate() {
        let ip = path.index(j).child("ip");
        if a.ip.is_empty() {
            errs.push(FieldError::required(ip, ""));
        } else if !is_ip(&a.ip) {
            errs.push(FieldError::invalid(ip, &a.ip, "must be a valid IP address"));
        }
    }
}

/// Ports need names (DNS-1123 labels, unique) when a subset has more than one.
fn validate_ports(ports: &[EndpointPort], path: &FieldPath, errs: &mut FieldErrors) {
    let several = ports.len() > 1;
    let mut names = BTreeSet::new();
    for (j, p) in ports.iter().enumerate() {
        let ppath = path.index(j);
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
        validate_protocol(&p.protocol, &ppath.child("protocol"), errs);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check_create, check_update, Case};
    use super::*;
    use crate::endpoints::EndpointSubset;
    use crate::meta::ObjectMeta;

    const REQ: &str = "FieldValueRequired";
    const INV: &str = "FieldValueInvalid";
    const DUP: &str = "FieldValueDuplicate";
    const UNS: &str = "FieldValueNotSupported";

    fn addr(ip: &str) -> EndpointAddress {
        EndpointAddress {
            ip: ip.into(),
            ..EndpointAddress::default()
        }
    }

    fn eport(name: &str, port: i32) -> EndpointPort {
        EndpointPort {
            name: name.into(),
            port,
            protocol: "TCP".into(),
        }
    }

    fn valid_endpoints() -> Endpoints {
        Endpoints {
            metadata: ObjectMeta {
                name: "redismaster".into(),
                namespace: "default".into(),
                uid: "uid-1".into(),
                ..ObjectMeta::default()
            },
            subsets: vec![EndpointSubset {
                addresses: vec![addr("10.244.1.5"), addr("fd00::5")],
                not_ready_addresses: vec![addr("10.244.2.7")],
                ports: vec![eport("", 6379)],
            }],
            ..Endpoints::default()
        }
    }

    fn subset(e: &mut Endpoints) -> &mut EndpointSubset {
        &mut e.subsets[0]
    }

    #[test]
    fn endpoints_create_cases() {
        let cases: &[Case<Endpoints>] = &[
            ("no subsets", |e| e.subsets.clear(), &[]),
            (
                "no name",
                |e| e.metadata.name.clear(),
                &[("metadata.name", REQ)],
            ),
            (
                "bad name",
                |e| e.metadata.name = "Redis".into(),
                &[("metadata.name", INV)],
            ),
            (
                "address without ip",
                |e| subset(e).addresses[0].ip.clear(),
                &[("subsets[0].addresses[0].ip", REQ)],
            ),
            (
                "bad address",
                |e| subset(e).addresses[1].ip = "pod-a".into(),
                &[("subsets[0].addresses[1].ip", INV)],
            ),
            (
                "bad not-ready address",
                |e| subset(e).not_ready_addresses[0].ip = "1.2.3".into(),
                &[("subsets[0].notReadyAddresses[0].ip", INV)],
            ),
            (
                "port 0",
                |e| subset(e).ports[0].port = 0,
                &[("subsets[0].ports[0].port", INV)],
            ),
            (
                "port too big",
                |e| subset(e).ports[0].port = 100000,
                &[("subsets[0].ports[0].port", INV)],
            ),
            (
                "bad protocol",
                |e| subset(e).ports[0].protocol = "IP".into(),
                &[("subsets[0].ports[0].protocol", UNS)],
            ),
            (
                "two unnamed ports",
                |e| subset(e).ports.push(eport("", 80)),
                &[
                    ("subsets[0].ports[0].name", REQ),
                    ("subsets[0].ports[1].name", REQ),
                ],
            ),
            (
                "two named ports",
                |e| {
                    subset(e).ports[0].name = "redis".into();
                    subset(e).ports.push(eport("metrics", 9121));
                },
                &[],
            ),
            (
                "duplicate port names",
                |e| {
                    subset(e).ports[0].name = "redis".into();
                    subset(e).ports.push(eport("redis", 80));
                },
                &[("subsets[0].ports[1].name", DUP)],
            ),
            (
                "many errors at once",
                |e| {
                    e.metadata.name.clear();
                    subset(e).addresses[0].ip = "x".into();
                    subset(e).ports[0].port = -1;
                    e.subsets.push(EndpointSubset {
                        addresses: vec![addr("")],
                        not_ready_addresses: vec![],
                        ports: vec![eport("Bad", 80)],
                    });
                },
                &[
                    ("metadata.name", REQ),
                    ("subsets[0].addresses[0].ip", INV),
                    ("subsets[0].ports[0].port", INV),
                    ("subsets[1].addresses[0].ip", REQ),
                    ("subsets[1].ports[0].name", INV),
                ],
            ),
        ];
        check_create(&valid_endpoints(), cases);
    }

    #[test]
    fn endpoints_update_cases() {
        let cases: &[Case<Endpoints>] = &[
            (
                "replace addresses",
                |e| subset(e).addresses = vec![addr("10.244.3.3")],
                &[],
            ),
            (
                "rename",
                |e| e.metadata.name = "other".into(),
                &[("metadata.name", INV)],
            ),
            (
                "move namespace",
                |e| e.metadata.namespace = "kube-system".into(),
                &[("metadata.namespace", INV)],
            ),
        ];
        check_update(&valid_endpoints(), cases);
    }
}
