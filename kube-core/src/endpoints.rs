//! Endpoints: the pod addresses behind a service, kept by the endpoints controller.

use crate::meta::{ObjectMeta, ObjectReference};
use serde::{Deserialize, Serialize};

/// The endpoints of a service (core/v1 `Endpoints`); named like the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.Endpoints")]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// Always `v1` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Always `Endpoints` once stored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Groups of addresses sharing the same ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<EndpointSubset>,
}

/// Addresses and the ports they all serve.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.EndpointSubset")]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    /// Ready addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<EndpointAddress>,
    /// Addresses not ready yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ready_addresses: Vec<EndpointAddress>,
    /// Ports served by every address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<EndpointPort>,
}

/// One backend address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.EndpointAddress")]
#[serde(rename_all = "camelCase")]
pub struct EndpointAddress {
    /// IP address of the backend.
    pub ip: String,
    /// Node the backend runs on.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_name: String,
    /// The pod behind the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<ObjectReference>,
}

/// One backend port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "io.k8s.api.core.v1.EndpointPort")]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    /// Name matching the service port's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Port number.
    pub port: i32,
    /// `TCP` or `UDP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}
