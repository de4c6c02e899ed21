//! The `Object` trait every stored kind implements, and the table of served resources.

use crate::meta::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

/// The core/v1 API version string.
pub const API_VERSION_V1: &str = "v1";

/// A persisted API object with metadata.
pub trait Object:
    Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// The resource this kind is served as.
    const RESOURCE: ResourceKind;

    /// Object metadata.
    fn meta(&self) -> &ObjectMeta;
    /// Mutable object metadata.
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    /// Sets `apiVersion` and `kind` to this type's values.
    fn set_type_meta(&mut self);
}

macro_rules! impl_object {
    ($ty:ty, $res:expr) => {
        impl_object!($ty, $res, API_VERSION_V1);
    };
    ($ty:ty, $res:expr, $api_version:expr) => {
        impl Object for $ty {
            const RESOURCE: ResourceKind = $res;
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
            fn set_type_meta(&mut self) {
                self.api_version = $api_version.to_string();
                self.kind = $res.info().kind.to_string();
            }
        }
    };
}

impl_object!(crate::pod::Pod, ResourceKind::Pods);
impl_object!(
    crate::replication_controller::ReplicationController,
    ResourceKind::ReplicationControllers
);
impl_object!(crate::service::Service, ResourceKind::Services);
impl_object!(crate::endpoints::Endpoints, ResourceKind::Endpoints);
impl_object!(crate::node::Node, ResourceKind::Nodes);
impl_object!(crate::event::Event, ResourceKind::Events);
impl_object!(crate::namespace::Namespace, ResourceKind::Namespaces);
impl_object!(
    crate::lease::Lease,
    ResourceKind::Leases,
    crate::lease::LEASE_API_VERSION
);

/// Evaluates `$body` with the type alias `$t` bound to the served type of `$kind` (a
/// [`ResourceKind`] value): the one place that maps every resource to its Rust type, for the
/// server's handlers, the in-process client and the fuzz targets alike.
#[macro_export]
macro_rules! with_resource_type {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            $crate::ResourceKind::Pods => {
                type $t = $crate::Pod;
                $body
            }
            $crate::ResourceKind::ReplicationControllers => {
                type $t = $crate::ReplicationController;
                $body
            }
            $crate::ResourceKind::Services => {
                type $t = $crate::Service;
                $body
            }
            $crate::ResourceKind::Endpoints => {
                type $t = $crate::Endpoints;
                $body
            }
            $crate::ResourceKind::Nodes => {
                type $t = $crate::Node;
                $body
            }
            $crate::ResourceKind::Events => {
                type $t = $crate::Event;
                $body
            }
            $crate::ResourceKind::Leases => {
                type $t = $crate::Lease;
                $body
            }
            $crate::ResourceKind::Namespaces => {
                type $t = $crate::Namespace;
                $body
            }
        }
    };
}

/// The resources the API server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// `pods`
    Pods,
    /// `replicationcontrollers`
    ReplicationControllers,
    /// `services`
    Services,
    /// `endpoints`
    Endpoints,
    /// `nodes` (the seed's `minions`)
    Nodes,
    /// `events`
    Events,
    /// `leases` (`coordination.k8s.io/v1`; not served in v1beta1)
    Leases,
    /// `namespaces` (cluster-scoped; not served in v1beta1)
    Namespaces,
}

/// Static facts about a resource, as served by discovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API version objects are stored and served in, e.g. `v1` or `coordination.k8s.io/v1`.
    pub api_version: &'static str,
    /// Kind of a single object, e.g. `Pod`.
    pub kind: &'static str,
    /// Plural lower-case name used in v1 URLs, e.g. `pods`.
    pub plural: &'static str,
    /// Singular lower-case name, e.g. `pod`.
    pub singular: &'static str,
    /// Short names accepted by clients, e.g. `po`.
    pub short_names: &'static [&'static str],
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Name used in v1beta1 URLs, e.g. `replicationControllers`; empty when not served in v1beta1.
    pub v1beta1_name: &'static str,
    /// Kind used in v1beta1 bodies, e.g. `Minion`; empty when not served in v1beta1.
    pub v1beta1_kind: &'static str,
}

impl ResourceKind {
    /// Every served resource, in discovery order.
    pub const ALL: [ResourceKind; 8] = [
        ResourceKind::Pods,
        ResourceKind::ReplicationControllers,
        ResourceKind::Services,
        ResourceKind::Endpoints,
        ResourceKind::Nodes,
        ResourceKind::Events,
        ResourceKind::Leases,
        ResourceKind::Namespaces,
    ];

    /// Static facts about this resource.
    pub const fn info(self) -> ResourceInfo {
        match self {
            ResourceKind::Pods => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "Pod",
                plural: "pods",
                singular: "pod",
                short_names: &["po"],
                namespaced: true,
                v1beta1_name: "pods",
                v1beta1_kind: "Pod",
            },
            ResourceKind::ReplicationControllers => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "ReplicationController",
                plural: "replicationcontrollers",
                singular: "replicationcontroller",
                short_names: &["rc"],
                namespaced: true,
                v1beta1_name: "replicationControllers",
                v1beta1_kind: "ReplicationController",
            },
            ResourceKind::Services => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "Service",
                plural: "services",
                singular: "service",
                short_names: &["svc"],
                namespaced: true,
                v1beta1_name: "services",
                v1beta1_kind: "Service",
            },
            ResourceKind::Endpoints => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "Endpoints",
                plural: "endpoints",
                singular: "endpoints",
                short_names: &["ep"],
                namespaced: true,
                v1beta1_name: "endpoints",
                v1beta1_kind: "Endpoints",
            },
            ResourceKind::Nodes => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "Node",
                plural: "nodes",
                singular: "node",
                short_names: &["no", "minions", "minion"],
                namespaced: false,
                v1beta1_name: "minions",
                v1beta1_kind: "Minion",
            },
            ResourceKind::Events => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "Event",
                plural: "events",
                singular: "event",
                short_names: &["ev"],
                namespaced: true,
                v1beta1_name: "events",
                v1beta1_kind: "Event",
            },
            ResourceKind::Leases => ResourceInfo {
                api_version: crate::lease::LEASE_API_VERSION,
                kind: "Lease",
                plural: "leases",
                singular: "lease",
                short_names: &[],
                namespaced: true,
                v1beta1_name: "",
                v1beta1_kind: "",
            },
            ResourceKind::Namespaces => ResourceInfo {
                api_version: API_VERSION_V1,
                kind: "Namespace",
                plural: "namespaces",
                singular: "namespace",
                short_names: &["ns"],
                namespaced: false,
                v1beta1_name: "",
                v1beta1_kind: "",
            },
        }
    }

    /// Finds a resource by any of its names (plural, singular, short, v1beta1, kind), case-insensitively.
    pub fn from_name(name: &str) -> Option<ResourceKind> {
        let n = name.trim_start_matches('/').to_ascii_lowercase();
        ResourceKind::ALL.into_iter().find(|r| {
            let i = r.info();
            i.plural == n
                || i.singular == n
                || i.kind.eq_ignore_ascii_case(&n)
                || (!i.v1beta1_name.is_empty() && i.v1beta1_name.eq_ignore_ascii_case(&n))
                || (!i.v1beta1_kind.is_empty() && i.v1beta1_kind.eq_ignore_ascii_case(&n))
                || i.short_names.contains(&n.as_str())
        })
    }

    /// Finds a resource by its exact plural name, in any API group.
    pub fn from_plural(plural: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|r| r.info().plural == plural)
    }

    /// Finds a resource by its exact plural name within one API version (`v1`, `coordination.k8s.io/v1`).
    pub fn from_api_plural(api_version: &str, plural: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|r| r.info().api_version == api_version && r.info().plural == plural)
    }

    /// Finds a resource by its exact v1beta1 URL name (never one that v1beta1 does not serve).
    pub fn from_v1beta1_name(name: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|r| !r.info().v1beta1_name.is_empty() && r.info().v1beta1_name == name)
    }

    /// The resources of one API version, in discovery order.
    pub fn of_api_version(api_version: &str) -> impl Iterator<Item = ResourceKind> + '_ {
        ResourceKind::ALL
            .into_iter()
            .filter(move |r| r.info().api_version == api_version)
    }

    /// Whether the seed's v1beta1 API serves this resource.
    pub fn in_v1beta1(self) -> bool {
        !self.info().v1beta1_name.is_empty()
    }

    /// Store key prefix of all objects of this resource, e.g. `/registry/pods/`.
    pub fn key_prefix(self) -> String {
        format!("/registry/{}/", self.info().plural)
    }

    /// Store key prefix of the objects of this resource in one namespace.
    pub fn namespace_prefix(self, namespace: &str) -> String {
        if self.info().namespaced {
            format!("/registry/{}/{}/", self.info().plural, namespace)
        } else {
            self.key_prefix()
        }
    }

    /// Store key of one object: `/registry/{plural}/{namespace}/{name}`, or without namespace when cluster-scoped.
    pub fn key(self, namespace: &str, name: &str) -> String {
        if self.info().namespaced {
            format!("/registry/{}/{}/{}", self.info().plural, namespace, name)
        } else {
            format!("/registry/{}/{}", self.info().plural, name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_resolve() {
        let cases = [
            ("pods", Some(ResourceKind::Pods)),
            ("/pods", Some(ResourceKind::Pods)),
            ("po", Some(ResourceKind::Pods)),
            ("Pod", Some(ResourceKind::Pods)),
            (
                "replicationControllers",
                Some(ResourceKind::ReplicationControllers),
            ),
            ("rc", Some(ResourceKind::ReplicationControllers)),
            ("minions", Some(ResourceKind::Nodes)),
            ("nodes", Some(ResourceKind::Nodes)),
            ("svc", Some(ResourceKind::Services)),
            ("endpoints", Some(ResourceKind::Endpoints)),
            ("events", Some(ResourceKind::Events)),
            ("leases", Some(ResourceKind::Leases)),
            ("Lease", Some(ResourceKind::Leases)),
            ("ns", Some(ResourceKind::Namespaces)),
            ("namespaces", Some(ResourceKind::Namespaces)),
            ("", None),
            ("widgets", None),
        ];
        for (name, want) in cases {
            assert_eq!(ResourceKind::from_name(name), want, "{name}");
        }
    }

    #[test]
    fn leases_live_in_their_group_only() {
        let cases = [
            ("v1", "leases", None),
            (
                "coordination.k8s.io/v1",
                "leases",
                Some(ResourceKind::Leases),
            ),
            ("coordination.k8s.io/v1", "pods", None),
            ("v1", "pods", Some(ResourceKind::Pods)),
        ];
        for (av, plural, want) in cases {
            assert_eq!(
                ResourceKind::from_api_plural(av, plural),
                want,
                "{av} {plural}"
            );
        }
        assert_eq!(ResourceKind::from_v1beta1_name(""), None);
        assert_eq!(ResourceKind::from_v1beta1_name("leases"), None);
        assert!(!ResourceKind::Leases.in_v1beta1());
        let grouped: Vec<_> = ResourceKind::of_api_version("coordination.k8s.io/v1").collect();
        assert_eq!(grouped, [ResourceKind::Leases]);
        assert_eq!(ResourceKind::of_api_version("v1").count(), 7);
        assert_eq!(
            ResourceKind::Leases.key("kube-system", "scheduler"),
            "/registry/leases/kube-system/scheduler"
        );
    }

    #[test]
    fn keys_follow_the_registry_layout() {
        assert_eq!(
            ResourceKind::Pods.key("default", "redis"),
            "/registry/pods/default/redis"
        );
        assert_eq!(
            ResourceKind::Nodes.key("ignored", "n1"),
            "/registry/nodes/n1"
        );
        assert_eq!(
            ResourceKind::Pods.namespace_prefix("ns"),
            "/registry/pods/ns/"
        );
        assert_eq!(
            ResourceKind::Namespaces.key("", "team-a"),
            "/registry/namespaces/team-a"
        );
        assert_eq!(ResourceKind::from_v1beta1_name("namespaces"), None);
        assert_eq!(
            ResourceKind::Nodes.namespace_prefix("ns"),
            "/registry/nodes/"
        );
    }
}
