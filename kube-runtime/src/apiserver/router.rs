//! URL routing: turns a request path and query into a [`Route`].

use kube_core::ResourceKind;
use std::collections::HashMap;

/// Which API version a resource route belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// core/v1, or the one served version of a grouped resource (`/apis/{group}/{version}`):
    /// objects go over the wire as stored, without conversion.
    V1,
    /// The seed's v1beta1.
    V1Beta1,
}

/// A request to a resource collection or item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRoute {
    /// API version of the path.
    pub version: Version,
    /// The resource.
    pub resource: ResourceKind,
    /// Namespace from the path; `None` means all namespaces (or cluster-scoped).
    pub namespace: Option<String>,
    /// Object name, for item routes.
    pub name: Option<String>,
    /// Subresource, e.g. `status`.
    pub subresource: Option<String>,
    /// Whether the path is a legacy `/watch/` path.
    pub watch_path: bool,
}

/// Every route the server knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/healthz`
    Healthz,
    /// `/metrics`
    Metrics,
    /// `/version`
    Version,
    /// `/api`
    ApiVersions,
    /// `/api/v1` or `/api/v1beta1`
    ApiResources(Version),
    /// `/apis`
    ApiGroups,
    /// `/apis/{group}/{version}`, e.g. `coordination.k8s.io/v1`: the group version's resources.
    GroupResources(&'static str),
    /// `/openapi/v2`
    OpenApiV2,
    /// `/openapi/v3` (empty) or `/openapi/v3/{group-version path}`, e.g. `api/v1`.
    OpenApiV3(String),
    /// A resource collection or item.
    Resource(ResourceRoute),
    /// `POST /api/v1beta1/bindings` or `POST /api/v1/namespaces/{ns}/bindings`.
    Bindings {
        /// API version of the path.
        version: Version,
        /// Namespace from the path (v1).
        namespace: Option<String>,
    },
    /// Anything else.
    NotFound,
}

/// Parses a request path.
pub fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["healthz"] | ["livez"] | ["readyz"] => Route::Healthz,
        ["metrics"] => Route::Metrics,
        ["version"] => Route::Version,
        ["api"] => Route::ApiVersions,
        ["apis"] => Route::ApiGroups,
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3(rest.join("/")),
        ["api", "v1"] => Route::ApiResources(Version::V1),
        ["api", "v1beta1"] => Route::ApiResources(Version::V1Beta1),
        ["api", "v1beta1", "bindings"] => Route::Bindings {
            version: Version::V1Beta1,
            namespace: None,
        },
        ["api", "v1", "namespaces", ns, "bindings"] => Route::Bindings {
            version: Version::V1,
            namespace: Some(ns.to_string()),
        },
        ["api", "v1", rest @ ..] => v1_route(rest).map_or(Route::NotFound, Route::Resource),
        ["apis", group, version, rest @ ..] => match served_group_version(group, version) {
            None => Route::NotFound,
            Some(gv) if rest.is_empty() => Route::GroupResources(gv),
            Some(gv) => versioned_route(gv, rest).map_or(Route::NotFound, Route::Resource),
        },
        ["api", "v1beta1", rest @ ..] => {
            v1beta1_route(rest).map_or(Route::NotFound, Route::Resource)
        }
        _ => Route::NotFound,
    }
}

/// The served API version `{group}/{version}` (one of the resources' `api_version`s), if any.
fn served_group_version(group: &str, version: &str) -> Option<&'static str> {
    ResourceKind::ALL.into_iter().find_map(|r| {
        let av = r.info().api_version;
        (av.split_once('/') == Some((group, version))).then_some(av)
    })
}

fn v1_route(segs: &[&str]) -> Option<ResourceRoute> {
    versioned_route("v1", segs)
}

/// A resource route of `api_version` (`v1` under `/api/v1`, `group/version` under `/apis/`).
fn versioned_route(api_version: &str, segs: &[&str]) -> Option<ResourceRoute> {
    let (watch_path, segs) = match segs {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, segs),
    };
    let (namespace, rest) = match segs {
        // A namespace's own subresource (`/api/v1/namespaces/{name}/status`, `/finalize`), not
        // a collection in it: no resource has those names.
        ["namespaces", _, "status" | "finalize"] => (None, segs),
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, segs),
    };
    let (res, name, sub) = match rest {
        [res] => (*res, None, None),
        [res, name] => (*res, Some(name.to_string()), None),
        [res, name, sub] => (*res, Some(name.to_string()), Some(sub.to_string())),
        _ => return None,
    };
    let resource = ResourceKind::from_api_plural(api_version, res)?;
    let namespaced = resource.info().namespaced;
    // Namespaced items need a namespace in the path; cluster-scoped kinds never take one.
    if (namespaced && namespace.is_none() && name.is_some()) || (!namespaced && namespace.is_some())
    {
        return None;
    }
    Some(ResourceRoute {
        version: Version::V1,
        resource,
        namespace,
        name,
        subresource: sub,
        watch_path,
    })
}

fn v1beta1_route(segs: &[&str]) -> Option<ResourceRoute> {
    let (watch_path, segs) = match segs {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, segs),
    };
    let (res, name) = match segs {
        [res] => (*res, None),
        [res, name] => (*res, Some(name.to_string())),
        _ => return None,
    };
    Some(ResourceRoute {
        version: Version::V1Beta1,
        resource: ResourceKind::from_v1beta1_name(res)?,
        namespace: None,
        name,
        subresource: None,
        watch_path,
    })
}

/// Parses a query string (`a=b&c=d`, percent- and plus-decoded); later keys win.
pub fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k), percent_decode(v));
    }
    out
}

/// Decodes `%XX` escapes and `+` as space; invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(
        version: Version,
        r: ResourceKind,
        ns: Option<&str>,
        name: Option<&str>,
        sub: Option<&str>,
        w: bool,
    ) -> Route {
        Route::Resource(ResourceRoute {
            version,
            resource: r,
            namespace: ns.map(String::from),
            name: name.map(String::from),
            subresource: sub.map(String::from),
            watch_path: w,
        })
    }

    #[test]
    fn routes() {
        use ResourceKind::*;
        use Version::*;
        let cases = [
            ("/healthz", Route::Healthz),
            ("/api", Route::ApiVersions),
            ("/openapi/v2", Route::OpenApiV2),
            ("/openapi/v3", Route::OpenApiV3(String::new())),
            ("/openapi/v3/api/v1", Route::OpenApiV3("api/v1".into())),
            (
                "/openapi/v3/apis/coordination.k8s.io/v1",
                Route::OpenApiV3("apis/coordination.k8s.io/v1".into()),
            ),
            ("/api/v1", Route::ApiResources(V1)),
            ("/api/v1/pods", res(V1, Pods, None, None, None, false)),
            (
                "/api/v1/namespaces/default/pods",
                res(V1, Pods, Some("default"), None, None, false),
            ),
            (
                "/api/v1/namespaces/default/pods/redis",
                res(V1, Pods, Some("default"), Some("redis"), None, false),
            ),
            (
                "/api/v1/namespaces/default/pods/redis/binding",
                res(
                    V1,
                    Pods,
                    Some("default"),
                    Some("redis"),
                    Some("binding"),
                    false,
                ),
            ),
            (
                "/api/v1/watch/namespaces/ns/pods",
                res(V1, Pods, Some("ns"), None, None, true),
            ),
            ("/api/v1/nodes", res(V1, Nodes, None, None, None, false)),
            (
                "/api/v1/nodes/n1",
                res(V1, Nodes, None, Some("n1"), None, false),
            ),
            (
                "/api/v1/namespaces",
                res(V1, Namespaces, None, None, None, false),
            ),
            (
                "/api/v1/namespaces/team-a",
                res(V1, Namespaces, None, Some("team-a"), None, false),
            ),
            (
                "/api/v1/namespaces/team-a/status",
                res(V1, Namespaces, None, Some("team-a"), Some("status"), false),
            ),
            (
                "/api/v1/watch/namespaces",
                res(V1, Namespaces, None, None, None, true),
            ),
            ("/api/v1/namespaces/team-a/namespaces", Route::NotFound),
            ("/api/v1beta1/namespaces", Route::NotFound),
            ("/api/v1/pods/redis", Route::NotFound),
            ("/api/v1/namespaces/default/nodes", Route::NotFound),
            ("/api/v1/widgets", Route::NotFound),
            (
                "/api/v1beta1/pods",
                res(V1Beta1, Pods, None, None, None, false),
            ),
            (
                "/api/v1beta1/replicationControllers/rc",
                res(
                    V1Beta1,
                    ReplicationControllers,
                    None,
                    Some("rc"),
                    None,
                    false,
                ),
            ),
            (
                "/api/v1beta1/minions",
                res(V1Beta1, Nodes, None, None, None, false),
            ),
            (
                "/api/v1beta1/watch/pods",
                res(V1Beta1, Pods, None, None, None, true),
            ),
            ("/api/v1beta1/replicationcontrollers", Route::NotFound),
            ("/nope", Route::NotFound),
            (
                "/apis/coordination.k8s.io/v1",
                Route::GroupResources("coordination.k8s.io/v1"),
            ),
            ("/apis/coordination.k8s.io/v2", Route::NotFound),
            ("/apis/apps/v1", Route::NotFound),
            (
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                res(V1, Leases, Some("kube-system"), None, None, false),
            ),
            (
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/scheduler",
                res(
                    V1,
                    Leases,
                    Some("kube-system"),
                    Some("scheduler"),
                    None,
                    false,
                ),
            ),
            (
                "/apis/coordination.k8s.io/v1/leases",
                res(V1, Leases, None, None, None, false),
            ),
            (
                "/apis/coordination.k8s.io/v1/watch/leases",
                res(V1, Leases, None, None, None, true),
            ),
            (
                "/apis/coordination.k8s.io/v1/leases/scheduler",
                Route::NotFound,
            ),
            (
                "/apis/coordination.k8s.io/v1/namespaces/ns/pods",
                Route::NotFound,
            ),
            ("/api/v1/namespaces/ns/leases", Route::NotFound),
            ("/api/v1/leases", Route::NotFound),
            ("/api/v1beta1/leases", Route::NotFound),
            ("/api/v1beta1/", Route::ApiResources(V1Beta1)),
            (
                "/api/v1beta1/bindings",
                Route::Bindings {
                    version: V1Beta1,
                    namespace: None,
                },
            ),
            (
                "/api/v1/namespaces/ns/bindings",
                Route::Bindings {
                    version: V1,
                    namespace: Some("ns".into()),
                },
            ),
        ];
        for (path, want) in cases {
            assert_eq!(route(path), want, "{path}");
        }
    }

    #[test]
    fn query_decoding() {
        let q = parse_query(Some("labelSelector=name%3Dredis%2Capp+in+(a)&watch=true&x"));
        assert_eq!(q["labelSelector"], "name=redis,app in (a)");
        assert_eq!(q["watch"], "true");
        assert_eq!(q["x"], "");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
