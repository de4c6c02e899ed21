//! Handlers for resource collections and items, generic over the kind and the API version.

use super::body::ApiBody;
use super::codec::{decode_document, json_response, read_body, status_code};
use super::router::{ResourceRoute, Version};
use super::{watch, ApiServer};
use crate::registry::{ListOptions, DEFAULT_NAMESPACE};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use kube_core::error::ApiError;
use kube_core::fields::FieldSelector;
use kube_core::labels::Selector;
use kube_core::store::Revision;
use kube_core::strategy::Strategy;
use kube_core::v1beta1::{list_to_v1beta1, V1Beta1};
use kube_core::{ResourceKind, Status};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A kind the server can serve in both API versions.
pub trait Served: Strategy + V1Beta1 {}
impl<T: Strategy + V1Beta1> Served for T {}

/// One resource request, already routed.
pub struct ResourceRequest<'a> {
    /// The route.
    pub route: &'a ResourceRoute,
    /// The decoded query.
    pub query: &'a HashMap<String, String>,
}

/// Handles a resource request; returns the verb (for metrics) and the response.
pub async fn handle<T: Served>(
    srv: Arc<ApiServer>,
    rr: ResourceRequest<'_>,
    req: Request<Incoming>,
) -> (&'static str, Response<ApiBody>) {
    let version = rr.route.version;
    let method = req.method().clone();
    let verb = verb_of(&method, rr.route, rr.query);
    let result = match verb {
        "bind" => {
            let ns = rr.route.namespace.clone();
            let pod = rr.route.name.as_deref();
            return (
                verb,
                super::binding::handle(&srv, version, ns, pod, rr.query, req).await,
            );
        }
        "get_status" => get::<T>(&srv, &rr).await,
        "update_status" => update_status::<T>(&srv, &rr, req).await,
        "no_subresource" => Err(ApiError::NotFound {
            resource: format!(
                "{}/{}",
                rr.route.resource.info().plural,
                rr.route.subresource.as_deref().unwrap_or_default()
            ),
            name: rr.route.name.clone().unwrap_or_default(),
        }),
        "list" => list::<T>(&srv, &rr).await,
        "watch" => {
            return (
                verb,
                watch_response::<T>(srv.clone(), &rr)
                    .await
                    .unwrap_or_else(|e| error(version, &e)),
            )
        }
        "get" => get::<T>(&srv, &rr).await,
        "create" => create::<T>(&srv, &rr, req).await,
        "update" => update::<T>(&srv, &rr, req).await,
        "delete" => delete::<T>(&srv, &rr).await,
        _ => Err(ApiError::MethodNotAllowed(format!(
            "method {method} is not supported on {}",
            describe(rr.route)
        ))),
    };
    (verb, result.unwrap_or_else(|e| error(version, &e)))
}

fn describe(r: &ResourceRoute) -> String {
    match &r.name {
        Some(n) => format!("{} {n:?}", r.resource.info().plural),
        None => format!("the {} collection", r.resource.info().plural),
    }
}

fn verb_of(method: &Method, r: &ResourceRoute, q: &HashMap<String, String>) -> &'static str {
    let watch_param = matches!(q.get("watch").map(String::as_str), Some("true") | Some("1"));
    if let Some(sub) = r.subresource.as_deref() {
        let has_status = !matches!(
            r.resource,
            ResourceKind::Endpoints | ResourceKind::Events | ResourceKind::Leases
        );
        return match (sub, method) {
            ("binding", &Method::POST) if r.resource == ResourceKind::Pods => "bind",
            ("binding", _) if r.resource == ResourceKind::Pods => "unsupported",
            ("status", &Method::GET) if has_status => "get_status",
            ("status", &Method::PUT) if has_status => "update_status",
            ("status", _) if has_status => "unsupported",
            _ => "no_subresource",
        };
    }
    match (method, r.name.is_some()) {
        (&Method::GET, false) if r.watch_path || watch_param => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) if r.watch_path => "unsupported",
        (&Method::GET, true) => "get",
        (&Method::POST, false) if !r.watch_path => "create",
        (&Method::PUT, true) if !r.watch_path => "update",
        (&Method::DELETE, true) if !r.watch_path => "delete",
        _ => "unsupported",
    }
}

/// An error response in the route's version.
fn error(version: Version, e: &ApiError) -> Response<ApiBody> {
    match version {
        Version::V1 => json_response(status_code(e), &e.to_status()),
        Version::V1Beta1 => json_response(status_code(e), &e.to_status().to_v1beta1()),
    }
}

fn object_response<T: Served>(version: Version, code: StatusCode, obj: &T) -> Response<ApiBody> {
    match version {
        Version::V1 => json_response(code, obj),
        Version::V1Beta1 => json_response(code, &obj.to_v1beta1()),
    }
}

/// Namespace for list and watch: the path's (v1) or the `namespace` query parameter (v1beta1); `None` = all.
fn scope_namespace(rr: &ResourceRequest<'_>) -> Option<String> {
    if !rr.route.resource.info().namespaced {
        return None;
    }
    match rr.route.version {
        Version::V1 => rr.route.namespace.clone(),
        Version::V1Beta1 => rr.query.get("namespace").filter(|s| !s.is_empty()).cloned(),
    }
}

/// Namespace for single-object calls; `default` when none is given.
fn item_namespace(rr: &ResourceRequest<'_>) -> String {
    scope_namespace(rr).unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

fn list_options(rr: &ResourceRequest<'_>) -> Result<ListOptions, ApiError> {
    let (labels_key, fields_key) = match rr.route.version {
        Version::V1 => ("labelSelector", "fieldSelector"),
        Version::V1Beta1 => ("labels", "fields"),
    };
    let label_selector = match rr.query.get(labels_key) {
        Some(s) => Selector::parse(s)
            .map_err(|e| ApiError::BadRequest(format!("invalid {labels_key} {s:?}: {e}")))?,
        None => Selector::everything(),
    };
    let field_selector = match rr.query.get(fields_key) {
        Some(s) => {
            let s = match rr.route.version {
                Version::V1 => s.clone(),
                Version::V1Beta1 => v1beta1_field_names(s),
            };
            FieldSelector::parse(&s)
                .map_err(|e| ApiError::BadRequest(format!("invalid {fields_key} {s:?}: {e}")))?
        }
        None => FieldSelector::default(),
    };
    Ok(ListOptions {
        label_selector,
        field_selector,
    })
}

/// Maps the seed's field names (`ID`, `DesiredState.Host`) to v1 field paths.
fn v1beta1_field_names(s: &str) -> String {
    s.replace("DesiredState.Host", "spec.nodeName")
        .split(',')
        .map(|term| match term.strip_prefix("ID") {
            Some(rest) if rest.starts_with(['=', '!']) => format!("metadata.name{rest}"),
            _ => term.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_resource_version(rr: &ResourceRequest<'_>) -> Result<Option<Revision>, ApiError> {
    match rr.query.get("resourceVersion").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<Revision>().map(Some).map_err(|_| {
            ApiError::BadRequest(format!(
                "invalid resourceVersion {s:?}: must be a decimal revision"
            ))
        }),
    }
}

async fn list<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
) -> Result<Response<ApiBody>, ApiError> {
    let opts = list_options(rr)?;
    let ns = scope_namespace(rr);
    if rr.route.version == Version::V1
        && opts.label_selector.is_empty()
        && opts.field_selector.is_empty()
    {
        // Unfiltered v1 lists are served from the stored bytes without decoding them.
        let body = srv.registry.list_encoded::<T>(ns.as_deref()).await?;
        return Ok(super::codec::raw_json(StatusCode::OK, body));
    }
    let list = srv.registry.list::<T>(ns.as_deref(), &opts).await?;
    Ok(match rr.route.version {
        Version::V1 => json_response(StatusCode::OK, &list),
        Version::V1Beta1 => {
            let rv = list.metadata.resource_version.parse().unwrap_or(0);
            let link = format!("/api/v1beta1/{}", rr.route.resource.info().v1beta1_name);
            json_response(StatusCode::OK, &list_to_v1beta1(&list.items, rv, &link))
        }
    })
}

async fn watch_response<T: Served>(
    srv: Arc<ApiServer>,
    rr: &ResourceRequest<'_>,
) -> Result<Response<ApiBody>, ApiError> {
    let opts = list_options(rr)?;
    let rv = parse_resource_version(rr)?;
    let timeout = match rr.query.get("timeoutSeconds") {
        Some(s) => Duration::from_secs(
            s.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid timeoutSeconds {s:?}")))?,
        ),
        None => srv.config.default_watch_timeout,
    };
    let ns = scope_namespace(rr);
    let w = srv.registry.watch::<T>(ns.as_deref(), opts, rv).await?;
    Ok(watch::stream(srv, w, rr.route.version, timeout))
}

async fn get<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = rr.route.name.as_deref().unwrap_or_default();
    let obj: T = srv.registry.get(&item_namespace(rr), name).await?;
    Ok(object_response(rr.route.version, StatusCode::OK, &obj))
}

/// Decodes a request body into `T`, checking `kind` and `apiVersion` against the route.
async fn decode_body<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
    req: Request<Incoming>,
) -> Result<T, ApiError> {
    let (body, yaml) = read_body(req, srv.config.max_body_bytes).await?;
    let value = decode_document(&body, yaml)?;
    let info = rr.route.resource.info();
    let (want_kind, want_version) = match rr.route.version {
        Version::V1 => (info.kind, info.api_version),
        Version::V1Beta1 => (info.v1beta1_kind, "v1beta1"),
    };
    if let Some(kind) = value.get("kind") {
        let kind = kind.as_str().unwrap_or_default();
        let also_ok = rr.route.version == Version::V1Beta1 && kind == info.kind;
        if kind != want_kind && !also_ok {
            return Err(ApiError::BadRequest(format!(
                "the kind {kind:?} of the body does not match the expected kind {want_kind:?} of {}",
                info.plural
            )));
        }
    }
    if let Some(av) = value.get("apiVersion") {
        let av = av.as_str().unwrap_or_default();
        if av != want_version {
            return Err(ApiError::BadRequest(format!(
                "the apiVersion {av:?} of the body does not match the path's version {want_version:?}"
            )));
        }
    }
    match rr.route.version {
        Version::V1 => serde_json::from_value::<T>(value)
            .map_err(|e| ApiError::BadRequest(format!("the body is not a valid {want_kind}: {e}"))),
        Version::V1Beta1 => T::from_v1beta1(value).map_err(|e| {
            ApiError::BadRequest(format!("the body is not a valid v1beta1 {want_kind}: {e}"))
        }),
    }
}

async fn create<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let info = rr.route.resource.info();
    let obj: T = decode_body(srv, rr, req).await?;
    let ns = match (rr.route.version, scope_namespace(rr)) {
        (_, Some(ns)) => ns,
        (Version::V1, None) if info.namespaced => {
            return Err(ApiError::MethodNotAllowed(format!(
                "create {} in a namespace: POST /api/v1/namespaces/{{namespace}}/{}",
                info.plural, info.plural
            )))
        }
        // v1beta1 took the namespace from the object, else `default`.
        _ if !obj.meta().namespace.is_empty() => obj.meta().namespace.clone(),
        _ => DEFAULT_NAMESPACE.to_string(),
    };
    let created = srv.registry.create(&ns, obj).await?;
    Ok(object_response(
        rr.route.version,
        StatusCode::CREATED,
        &created,
    ))
}

async fn update<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = rr.route.name.as_deref().unwrap_or_default();
    let obj: T = decode_body(srv, rr, req).await?;
    let ns = match rr.route.version {
        Version::V1Beta1 if scope_namespace(rr).is_none() && !obj.meta().namespace.is_empty() => {
            obj.meta().namespace.clone()
        }
        _ => item_namespace(rr),
    };
    let updated = srv.registry.update(&ns, name, obj).await?;
    Ok(object_response(rr.route.version, StatusCode::OK, &updated))
}

async fn update_status<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = rr.route.name.as_deref().unwrap_or_default();
    let obj: T = decode_body(srv, rr, req).await?;
    if !obj.meta().name.is_empty() && obj.meta().name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            obj.meta().name
        )));
    }
    let updated = srv
        .registry
        .update_status(&item_namespace(rr), name, obj)
        .await?;
    Ok(object_response(rr.route.version, StatusCode::OK, &updated))
}

async fn delete<T: Served>(
    srv: &ApiServer,
    rr: &ResourceRequest<'_>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = rr.route.name.as_deref().unwrap_or_default();
    let deleted: T = srv.registry.delete(&item_namespace(rr), name).await?;
    Ok(match rr.route.version {
        Version::V1 => json_response(StatusCode::OK, &deleted),
        Version::V1Beta1 => json_response(StatusCode::OK, &Status::success().to_v1beta1()),
    })
}

#[cfg(test)]
mod tests {
    use super::v1beta1_field_names;

    #[test]
    fn seed_field_names_map_to_v1() {
        let cases = [
            ("DesiredState.Host=", "spec.nodeName="),
            ("DesiredState.Host!=", "spec.nodeName!="),
            ("ID=redis", "metadata.name=redis"),
            (
                "ID=a,DesiredState.Host=n1",
                "metadata.name=a,spec.nodeName=n1",
            ),
            ("IDX=1", "IDX=1"),
            ("metadata.name=x", "metadata.name=x"),
        ];
        for (input, want) in cases {
            assert_eq!(v1beta1_field_names(input), want, "{input}");
        }
    }
}
