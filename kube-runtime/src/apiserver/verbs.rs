//! The one table of what every endpoint serves. The method check of every route (405 with an
//! `Allow` header otherwise) and discovery's verb lists are both derived from [`OPERATIONS`],
//! so they cannot drift: a verb is listed exactly when a method serves it. A [`Scope`] narrows
//! the table for one kind in one API version (`deletecollection`: v1 only, not namespaces).

use hyper::header::{HeaderValue, ALLOW};
use hyper::{Method, Response};
use kube_core::ResourceKind;

/// What a path addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A collection objects can be created in (`/api/v1/namespaces/{ns}/pods`, `/api/v1/nodes`, v1beta1 collections).
    Collection,
    /// A namespaced kind across all namespaces (`/api/v1/pods`): read only.
    AllNamespaces,
    /// A legacy `/watch/` collection path.
    WatchCollection,
    /// One object.
    Item,
    /// An object's `/status` subresource.
    Status,
    /// A replication controller's `/scale` subresource (an `autoscaling/v1` `Scale`).
    Scale,
    /// A pod's `/binding` subresource.
    Binding,
    /// A namespace's `/finalize` subresource (its `spec.finalizers`).
    Finalize,
    /// A pod's `/log` subresource (proxied to the kubelet of the pod's node).
    Log,
    /// The collection-level bindings (`/api/v1beta1/bindings`, `/api/v1/namespaces/{ns}/bindings`).
    Bindings,
    /// Discovery, health and metrics documents.
    NonResource,
}

/// One served operation: an HTTP method on an endpoint, and the Kubernetes verb it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Where.
    pub endpoint: Endpoint,
    /// The HTTP method.
    pub method: &'static str,
    /// The verb discovery lists for it.
    pub verb: &'static str,
}

const fn op(endpoint: Endpoint, method: &'static str, verb: &'static str) -> Operation {
    Operation {
        endpoint,
        method,
        verb,
    }
}

/// Everything the server serves.
pub const OPERATIONS: &[Operation] = &[
    op(Endpoint::Collection, "GET", "list"),
    op(Endpoint::Collection, "GET", "watch"),
    op(Endpoint::Collection, "POST", "create"),
    op(Endpoint::Collection, "DELETE", "deletecollection"),
    op(Endpoint::AllNamespaces, "GET", "list"),
    op(Endpoint::AllNamespaces, "GET", "watch"),
    op(Endpoint::WatchCollection, "GET", "watch"),
    op(Endpoint::Item, "GET", "get"),
    op(Endpoint::Item, "PUT", "update"),
    op(Endpoint::Item, "PATCH", "patch"),
    op(Endpoint::Item, "DELETE", "delete"),
    op(Endpoint::Status, "GET", "get"),
    op(Endpoint::Status, "PUT", "update"),
    op(Endpoint::Status, "PATCH", "patch"),
    op(Endpoint::Scale, "GET", "get"),
    op(Endpoint::Scale, "PUT", "update"),
    op(Endpoint::Scale, "PATCH", "patch"),
    op(Endpoint::Binding, "POST", "create"),
    op(Endpoint::Finalize, "PUT", "update"),
    op(Endpoint::Log, "GET", "get"),
    op(Endpoint::Bindings, "POST", "create"),
    op(Endpoint::NonResource, "GET", "get"),
];

/// Whom the table is read for: one kind in one API version, or (`Scope::ANY`) every route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The kind; `None`: not a resource route.
    pub kind: Option<ResourceKind>,
    /// The seed's legacy API, which serves no `deletecollection`.
    pub v1beta1: bool,
}

impl Scope {
    /// Every operation of the table.
    pub const ANY: Scope = Scope {
        kind: None,
        v1beta1: false,
    };

    /// One kind in one version.
    pub fn of(kind: ResourceKind, v1beta1: bool) -> Scope {
        Scope {
            kind: Some(kind),
            v1beta1,
        }
    }

    /// Whether `op` is served in this scope: Kubernetes serves no `deletecollection` on
    /// namespaces, and the seed's v1beta1 had none.
    fn serves(self, op: &Operation) -> bool {
        op.verb != "deletecollection"
            || (!self.v1beta1 && self.kind != Some(ResourceKind::Namespaces))
    }

    fn operations(self) -> impl Iterator<Item = &'static Operation> {
        OPERATIONS.iter().filter(move |o| self.serves(o))
    }
}

/// The endpoints a resource's own discovery entry covers (not its subresources).
pub const RESOURCE_ENDPOINTS: &[Endpoint] = &[
    Endpoint::Collection,
    Endpoint::AllNamespaces,
    Endpoint::WatchCollection,
    Endpoint::Item,
];

/// The endpoint of a v1 subresource of `kind`, if the kind has it.
pub fn subresource(kind: ResourceKind, name: &str) -> Option<Endpoint> {
    match name {
        "status"
            if !matches!(
                kind,
                ResourceKind::Endpoints | ResourceKind::Events | ResourceKind::Leases
            ) =>
        {
            Some(Endpoint::Status)
        }
        "scale" if kind == ResourceKind::ReplicationControllers => Some(Endpoint::Scale),
        "binding" if kind == ResourceKind::Pods => Some(Endpoint::Binding),
        "log" if kind == ResourceKind::Pods => Some(Endpoint::Log),
        "finalize" if kind == ResourceKind::Namespaces => Some(Endpoint::Finalize),
        _ => None,
    }
}

/// The subresources `kind` has in v1, with their endpoints (for discovery).
pub fn subresources(kind: ResourceKind) -> Vec<(&'static str, Endpoint)> {
    ["status", "scale", "binding", "log", "finalize"]
        .into_iter()
        .filter_map(|name| subresource(kind, name).map(|e| (name, e)))
        .collect()
}

/// The methods served on `endpoint` in `scope`, in table order, without repeats.
pub fn allowed_methods(scope: Scope, endpoint: Endpoint) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for o in scope.operations().filter(|o| o.endpoint == endpoint) {
        if !out.contains(&o.method) {
            out.push(o.method);
        }
    }
    out
}

/// Whether `method` is served on `endpoint` in `scope`.
pub fn is_allowed(scope: Scope, endpoint: Endpoint, method: &Method) -> bool {
    scope
        .operations()
        .any(|o| o.endpoint == endpoint && o.method == method.as_str())
}

/// The verbs served on any of `endpoints` in `scope`, sorted, without repeats (discovery's
/// `verbs`).
pub fn verbs(scope: Scope, endpoints: &[Endpoint]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = scope
        .operations()
        .filter(|o| endpoints.contains(&o.endpoint))
        .map(|o| o.verb)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Sets the `Allow` header of a 405 response to the methods `endpoint` serves in `scope`.
pub fn with_allow<B>(mut resp: Response<B>, scope: Scope, endpoint: Endpoint) -> Response<B> {
    if let Ok(v) = HeaderValue::from_str(&allowed_methods(scope, endpoint).join(", ")) {
        resp.headers_mut().insert(ALLOW, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_verbs_come_from_one_table() {
        use Endpoint::*;
        let cases: [(Endpoint, &[&str], &[&str]); 10] = [
            (
                Collection,
                &["GET", "POST", "DELETE"],
                &["create", "deletecollection", "list", "watch"],
            ),
            (AllNamespaces, &["GET"], &["list", "watch"]),
            (WatchCollection, &["GET"], &["watch"]),
            (
                Item,
                &["GET", "PUT", "PATCH", "DELETE"],
                &["delete", "get", "patch", "update"],
            ),
            (
                Status,
                &["GET", "PUT", "PATCH"],
                &["get", "patch", "update"],
            ),
            (Scale, &["GET", "PUT", "PATCH"], &["get", "patch", "update"]),
            (Binding, &["POST"], &["create"]),
            (Log, &["GET"], &["get"]),
            (Bindings, &["POST"], &["create"]),
            (NonResource, &["GET"], &["get"]),
        ];
        for (endpoint, methods, want_verbs) in cases {
            assert_eq!(
                allowed_methods(Scope::ANY, endpoint),
                methods,
                "{endpoint:?}"
            );
            assert_eq!(verbs(Scope::ANY, &[endpoint]), want_verbs, "{endpoint:?}");
            let patch = matches!(endpoint, Item | Status | Scale);
            let any = Scope::ANY;
            assert_eq!(
                is_allowed(any, endpoint, &Method::PATCH),
                patch,
                "{endpoint:?}"
            );
            assert!(!is_allowed(any, endpoint, &Method::OPTIONS), "{endpoint:?}");
        }
        let pods = Scope::of(ResourceKind::Pods, false);
        assert_eq!(
            verbs(pods, RESOURCE_ENDPOINTS),
            [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ]
        );
        // No deletecollection on namespaces (as Kubernetes) nor in v1beta1 (as the seed).
        for scope in [
            Scope::of(ResourceKind::Namespaces, false),
            Scope::of(ResourceKind::Pods, true),
        ] {
            assert_eq!(
                verbs(scope, RESOURCE_ENDPOINTS),
                ["create", "delete", "get", "list", "patch", "update", "watch"],
                "{scope:?}"
            );
            assert_eq!(allowed_methods(scope, Collection), ["GET", "POST"]);
            assert!(!is_allowed(scope, Collection, &Method::DELETE));
        }
        assert!(is_allowed(pods, Collection, &Method::DELETE));
        assert_eq!(verbs(pods, &[AllNamespaces]), ["list", "watch"]);
    }

    #[test]
    fn subresources_per_kind() {
        assert_eq!(
            subresources(ResourceKind::Pods),
            [
                ("status", Endpoint::Status),
                ("binding", Endpoint::Binding),
                ("log", Endpoint::Log)
            ]
        );
        assert_eq!(subresources(ResourceKind::Events), []);
        assert_eq!(
            subresources(ResourceKind::Nodes),
            [("status", Endpoint::Status)]
        );
        assert_eq!(
            subresources(ResourceKind::ReplicationControllers),
            [("status", Endpoint::Status), ("scale", Endpoint::Scale)]
        );
    }
}
