//! Generic list wrapper (`PodList`, `NodeList`, ...).

use crate::meta::ListMeta;
use serde::{Deserialize, Serialize};

/// A list of objects of one kind, as served by list calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    /// `v1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `<Kind>List`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The revision the list was read at.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The objects; serialized as `[]` when empty.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

/// A list of pods.
pub type PodList = List<crate::pod::Pod>;
/// A list of replication controllers.
pub type ReplicationControllerList = List<crate::replication_controller::ReplicationController>;
/// A list of services.
pub type ServiceList = List<crate::service::Service>;
/// A list of endpoints.
pub type EndpointsList = List<crate::endpoints::Endpoints>;
/// A list of nodes.
pub type NodeList = List<crate::node::Node>;
/// A list of events.
pub type EventList = List<crate::event::Event>;
