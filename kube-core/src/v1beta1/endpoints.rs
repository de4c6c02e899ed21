//! v1beta1 `Endpoints` (a flat `["ip:port", ...]` list) ⇄ v1 `Endpoints` (subsets).

use super::de::decode;
use super::meta::{decode_meta, encode};
use super::{ConversionError, V1Beta1};
use crate::endpoints::{EndpointAddress, EndpointPort, EndpointSubset, Endpoints};
use crate::object::Object;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// v1beta1 endpoints body (metadata members are handled by `meta`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct EndpointsBody {
    endpoints: Vec<String>,
}

/// Splits `ip:port` (IPv6 as `[ip]:port`) into its parts.
fn split_endpoint(s: &str) -> Option<(&str, i32)> {
    let (ip, port) = if let Some(rest) = s.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:")?;
        (ip, port)
    } else {
        let (ip, port) = s.rsplit_once(':')?;
        if ip.contains(':') {
            return None; // bare IPv6 is ambiguous
        }
        (ip, port)
    };
    let port: u16 = port.parse().ok()?;
    (!ip.is_empty()).then_some((ip, i32::from(port)))
}

/// Formats `ip:port`, bracketing IPv6 addresses.
fn join_endpoint(ip: &str, port: i32) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

impl V1Beta1 for Endpoints {
    fn from_v1beta1(value: Value) -> Result<Self, ConversionError> {
        let metadata = decode_meta(&value)?;
        let body: EndpointsBody = decode(&value)?;
        // One subset per distinct port, in order of first appearance.
        let mut subsets: Vec<EndpointSubset> = Vec::new();
        for (i, ep) in body.endpoints.iter().enumerate() {
            let (ip, port) = split_endpoint(ep).ok_or_else(|| {
                ConversionError::new(
                    format!("endpoints[{i}]"),
                    format!("expected \"ip:port\" (IPv6 as \"[ip]:port\"), got {ep:?}"),
                )
            })?;
            let idx = match subsets
                .iter()
                .position(|s| s.ports.first().map(|p| p.port) == Some(port))
            {
                Some(idx) => idx,
                None => {
                    subsets.push(EndpointSubset {
                        ports: vec![EndpointPort {
                            port,
                            ..EndpointPort::default()
                        }],
                        ..EndpointSubset::default()
                    });
                    subsets.len() - 1
                }
            };
            let addresses = &mut subsets[idx].addresses;
            if !addresses.iter().any(|a| a.ip == ip) {
                addresses.push(EndpointAddress {
                    ip: ip.to_string(),
                    ..EndpointAddress::default()
                });
            }
        }
        let mut eps = Endpoints {
            metadata,
            subsets,
            ..Endpoints::default()
        };
        eps.set_type_meta();
        Ok(eps)
    }

    fn to_v1beta1(&self) -> Value {
        let endpoints = self
            .subsets
            .iter()
            .flat_map(|s| {
                s.addresses
                    .iter()
                    .flat_map(move |a| s.ports.iter().map(move |p| join_endpoint(&a.ip, p.port)))
            })
            .collect();
        let body = EndpointsBody { endpoints };
        encode(
            Endpoints::RESOURCE.info().v1beta1_kind,
            &self.metadata,
            &body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subset(ips: &[&str], port: i32) -> EndpointSubset {
        EndpointSubset {
            addresses: ips
                .iter()
                .map(|ip| EndpointAddress {
                    ip: ip.to_string(),
                    ..Default::default()
                })
                .collect(),
            ports: vec![EndpointPort {
                port,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn groups_endpoints_by_port() {
        let doc = json!({"kind": "Endpoints", "id": "redis",
                         "endpoints": ["10.10.1.1:1909", "10.10.2.2:8834", "10.10.3.3:1909", "[::1]:80", "10.10.1.1:1909"]});
        let eps = Endpoints::from_v1beta1(doc).expect("converts");
        assert_eq!(eps.metadata.name, "redis");
        assert_eq!(
            eps.subsets,
            vec![
                subset(&["10.10.1.1", "10.10.3.3"], 1909),
                subset(&["10.10.2.2"], 8834),
                subset(&["::1"], 80)
            ]
        );
    }

    #[test]
    fn rejects_malformed_endpoints() {
        let cases = [
            (json!({"endpoints": ["10.0.0.1"]}), "endpoints[0]"),
            (
                json!({"endpoints": ["10.0.0.1:80", "10.0.0.2:http"]}),
                "endpoints[1]",
            ),
            (json!({"endpoints": [":80"]}), "endpoints[0]"),
            (json!({"endpoints": ["::1:80"]}), "endpoints[0]"),
            (json!({"endpoints": ["1.2.3.4:70000"]}), "endpoints[0]"),
            (json!({"endpoints": [5]}), "endpoints[0]"),
            (json!({"endpoints": "10.0.0.1:80"}), "endpoints"),
        ];
        for (doc, field) in cases {
            let err = Endpoints::from_v1beta1(doc.clone()).expect_err("must fail");
            assert_eq!(err.field, field, "{doc}");
        }
    }

    #[test]
    fn output_flattens_subsets() {
        let mut eps = Endpoints::default();
        eps.metadata.name = "web".into();
        eps.subsets = vec![
            EndpointSubset {
                ports: vec![
                    EndpointPort {
                        port: 80,
                        ..Default::default()
                    },
                    EndpointPort {
                        port: 443,
                        ..Default::default()
                    },
                ],
                ..subset(&["10.0.0.1", "fe80::1"], 0)
            },
            subset(&["10.0.0.2"], 8080),
        ];
        assert_eq!(
            eps.to_v1beta1(),
            json!({"kind": "Endpoints", "apiVersion": "v1beta1", "id": "web",
                   "endpoints": ["10.0.0.1:80", "10.0.0.1:443", "[fe80::1]:80", "[fe80::1]:443", "10.0.0.2:8080"]})
        );
    }

    #[test]
    fn endpoints_round_trip() {
        let mut eps = Endpoints::default();
        eps.set_type_meta();
        eps.metadata.name = "redis".into();
        eps.metadata.namespace = "default".into();
        eps.metadata.resource_version = "4".into();
        eps.subsets = vec![
            subset(&["10.0.0.1", "10.0.0.2"], 6379),
            subset(&["::1"], 80),
        ];
        assert_eq!(
            Endpoints::from_v1beta1(eps.to_v1beta1()).expect("back"),
            eps
        );
        let mut empty = Endpoints::default();
        empty.set_type_meta();
        empty.metadata.name = "none".into();
        assert_eq!(
            Endpoints::from_v1beta1(empty.to_v1beta1()).expect("back"),
            empty
        );
    }
}
