//! Handlers for resource collections and items, generic over the kind and the API version.

use super::body::ApiBody;
use super::codec::{json_response, raw_json, read_body, status_code, Output};
use super::decode;
use super::params::Params;
use super::router::{ResourceRoute, Version};
use super::verbs::{self, Endpoint};
use super::{watch, ApiServer};
use crate::registry::{FieldManager, Registry, DEFAULT_NAMESPACE};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use kube_core::error::ApiError;
use kube_core::strategy::Strategy;
use kube_core::table::{to_table, Printable};
use kube_core::v1beta1::{list_to_v1beta1, V1Beta1};
use kube_core::{DeleteOptions, Namespace, Status};
use std::collections::HashMap;
use std::sync::Arc;

/// A kind the server can serve in both API versions.
pub trait Served: Strategy + V1Beta1 + Printable + Send + 'static {}
impl<T: Strategy + V1Beta1 + Printable + Send + 'static> Served for T {}

/// One resource request, already routed.
pub struct ResourceRequest<'a> {
    /// The route.
    pub route: &'a ResourceRoute,
    /// The decoded query.
    pub query: &'a HashMap<String, String>,
}

/// A routed request with its endpoint and validated parameters.
struct Ctx<'a> {
    route: &'a ResourceRoute,
    params: Params,
    /// The registry writes go through: the server's, or a dry-run view of it (`dryRun=All`).
    registry: Registry,
    /// The form of the answer of a read (`Accept`): JSON, or a Table.
    output: Output,
    /// The writer `metadata.managedFields` records (`fieldManager`, else the User-Agent's).
    manager: String,
}

/// Handles a resource request; returns the verb (for metrics) and the response.
pub async fn handle<T: Served>(
    srv: Arc<ApiServer>,
    rr: ResourceRequest<'_>,
    req: Request<Incoming>,
) -> (&'static str, Response<ApiBody>) {
    let version = rr.route.version;
    let method = req.method().clone();
    let Some(endpoint) = endpoint_of(rr.route) else {
        let e = ApiError::NotFound {
            resource: match &rr.route.subresource {
                Some(sub) => format!("{}/{sub}", rr.route.resource.info().plural),
                None => rr.route.resource.info().plural.to_string(),
            },
            name: rr.route.name.clone().unwrap_or_default(),
        };
        return ("unknown", error(version, &e));
    };
    let scope = verbs::Scope::of(rr.route.resource, version == Version::V1Beta1);
    if !verbs::is_allowed(scope, endpoint, &method) {
        let e = ApiError::MethodNotAllowed(format!(
            "method {method} is not supported on {}; allowed: {}",
            describe(rr.route),
            verbs::allowed_methods(scope, endpoint).join(", ")
        ));
        return (
            "unsupported",
            verbs::with_allow(error(version, &e), scope, endpoint),
        );
    }
    let params = match Params::parse(rr.query, version) {
        Ok(p) => p,
        Err(e) => return ("invalid", error(version, &e)),
    };
    let verb = verb_of(endpoint, &method, &params);
    let output = match output_of(endpoint, &method, version, verb, &req) {
        Ok(o) => o,
        Err(e) => return (verb, error(version, &e)),
    };
    let registry = srv.registry_for(params.dry_run);
    let user_agent = req
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let manager = super::patch::manager_or_user_agent(params.field_manager.as_deref(), user_agent);
    let c = Ctx {
        route: rr.route,
        params,
        registry,
        output,
        manager,
    };
    let result = match (endpoint, verb) {
        (Endpoint::Binding, _) => {
            let ns = c.route.namespace.clone();
            let pod = c.route.name.as_deref();
            return (
                "bind",
                super::binding::handle(&srv, version, ns, pod, rr.query, req).await,
            );
        }
        (Endpoint::Log, _) => {
            let ns = item_namespace(&c);
            let pod = c.route.name.as_deref().unwrap_or_default();
            return (
                "get_log",
                super::logs::handle(&srv, &ns, pod, rr.query).await,
            );
        }
        (Endpoint::Scale, _) => {
            let ns = item_namespace(&c);
            let rc = c.route.name.as_deref().unwrap_or_default();
            let mode = c.params.field_validation;
            super::scale::handle(&srv, &c.registry, &ns, rc, mode, &c.manager, req).await
        }
        (Endpoint::Finalize, _) => finalize(&srv, &c, req).await,
        (Endpoint::Status, "get") => get::<T>(&srv, &c).await,
        (Endpoint::Status | Endpoint::Item, "patch") => {
            patch::<T>(&srv, &c, endpoint == Endpoint::Status, req).await
        }
        (Endpoint::Status, _) => update_status::<T>(&srv, &c, req).await,
        (_, "list") => list::<T>(&srv, &c).await,
        (_, "watch") => {
            return (
                verb,
                watch_response::<T>(srv.clone(), &c, send_initial_events(rr.query))
                    .await
                    .unwrap_or_else(|e| error(version, &e)),
            )
        }
        (_, "get") => get::<T>(&srv, &c).await,
        (_, "create") => create::<T>(&srv, &c, req).await,
        (_, "update") => update::<T>(&srv, &c, req).await,
        (_, "deletecollection") => delete_collection::<T>(&srv, &c, req).await,
        _ => delete::<T>(&srv, &c, req).await,
    };
    let verb = match endpoint {
        Endpoint::Status => match verb {
            "get" => "get_status",
            "patch" => "patch_status",
            _ => "update_status",
        },
        Endpoint::Scale => match verb {
            "get" => "get_scale",
            "patch" => "patch_scale",
            _ => "update_scale",
        },
        _ => verb,
    };
    (verb, result.unwrap_or_else(|e| error(version, &e)))
}

fn describe(r: &ResourceRoute) -> String {
    match (&r.name, &r.subresource) {
        (Some(n), Some(sub)) => format!("{}/{sub} of {n:?}", r.resource.info().plural),
        (Some(n), None) => format!("{} {n:?}", r.resource.info().plural),
        (None, _) => format!("the {} collection", r.resource.info().plural),
    }
}

/// What the route addresses; `None` for paths that serve nothing (unknown subresources,
/// subresources of kinds without them, `/watch/` paths of items).
fn endpoint_of(r: &ResourceRoute) -> Option<Endpoint> {
    match (&r.name, &r.subresource, r.watch_path) {
        (Some(_), Some(sub), false) => verbs::subresource(r.resource, sub),
        (_, Some(_), true) | (Some(_), None, true) => None,
        (None, Some(_), false) => None,
        (None, None, true) => Some(Endpoint::WatchCollection),
        (None, None, false)
            if r.version == Version::V1
                && r.resource.info().namespaced
                && r.namespace.is_none() =>
        {
            Some(Endpoint::AllNamespaces)
        }
        (None, None, false) => Some(Endpoint::Collection),
        (Some(_), None, false) => Some(Endpoint::Item),
    }
}

/// The verb of an allowed method on an endpoint (from the table; `watch` when asked for).
fn verb_of(endpoint: Endpoint, method: &Method, params: &Params) -> &'static str {
    let mut candidates = verbs::OPERATIONS
        .iter()
        .filter(|o| o.endpoint == endpoint && o.method == method.as_str())
        .map(|o| o.verb);
    let first = candidates.next().unwrap_or("unknown");
    match endpoint {
        Endpoint::Collection | Endpoint::AllNamespaces if *method == Method::GET => {
            if params.watch {
                "watch"
            } else {
                "list"
            }
        }
        _ => first,
    }
}

/// The form of the answer: reads of objects and lists in v1 may be Tables (not watches:
/// a watch asking only for a Table is refused); v1beta1 and everything else answer JSON.
fn output_of<B>(
    endpoint: Endpoint,
    method: &Method,
    version: Version,
    verb: &str,
    req: &Request<B>,
) -> Result<Output, ApiError> {
    let reads = matches!(
        endpoint,
        Endpoint::Item | Endpoint::Collection | Endpoint::AllNamespaces | Endpoint::Status
    );
    if *method != Method::GET || version != Version::V1 || !(reads || verb == "watch") {
        return Ok(Output::Json);
    }
    super::codec::negotiate(super::codec::accept(req), verb != "watch")
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
fn scope_namespace(c: &Ctx<'_>) -> Option<String> {
    if !c.route.resource.info().namespaced {
        return None;
    }
    match c.route.version {
        Version::V1 => c.route.namespace.clone(),
        Version::V1Beta1 => c.params.namespace.clone(),
    }
}

/// Namespace for single-object calls; `default` when none is given.
fn item_namespace(c: &Ctx<'_>) -> String {
    scope_namespace(c).unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

async fn list<T: Served>(srv: &ApiServer, c: &Ctx<'_>) -> Result<Response<ApiBody>, ApiError> {
    let opts = c.params.list.clone();
    // The seed's v1beta1 lists cannot carry a continue token: they are never paged.
    let paging = match c.route.version {
        Version::V1 => c.params.paging(),
        Version::V1Beta1 => kube_core::paging::PagingParams::default(),
    };
    let ns = scope_namespace(c);
    if let Output::Table(tv) = c.output {
        let list = srv
            .registry
            .list_page::<T>(ns.as_deref(), &opts, &paging)
            .await?;
        let rv = &list.metadata.resource_version;
        let now = srv.config.clock.now();
        let mut table = to_table(&list.items, rv, tv, c.params.include_object, now);
        table.metadata.continue_ = list.metadata.continue_;
        table.metadata.remaining_item_count = list.metadata.remaining_item_count;
        return Ok(json_response(StatusCode::OK, &table));
    }
    if c.route.version == Version::V1
        && opts.label_selector.is_empty()
        && opts.field_selector.is_empty()
    {
        // Unfiltered v1 lists are served from the stored bytes without decoding them.
        let body = srv
            .registry
            .list_encoded::<T>(ns.as_deref(), &paging)
            .await?;
        return Ok(super::codec::json_parts(StatusCode::OK, body));
    }
    let list = srv
        .registry
        .list_page::<T>(ns.as_deref(), &opts, &paging)
        .await?;
    Ok(match c.route.version {
        Version::V1 => json_response(StatusCode::OK, &list),
        Version::V1Beta1 => {
            let rv = list.metadata.resource_version.parse().unwrap_or(0);
            let link = format!("/api/v1beta1/{}", c.route.resource.info().v1beta1_name);
            json_response(StatusCode::OK, &list_to_v1beta1(&list.items, rv, &link))
        }
    })
}

/// `sendInitialEvents`, when given (already validated as a boolean by `Params::parse`).
fn send_initial_events(query: &HashMap<String, String>) -> Option<bool> {
    query.get("sendInitialEvents").map(|v| v == "true")
}

/// A watch; with `sendInitialEvents=true`, a watch-list: the current objects (read now, so no older than
/// any `resourceVersion` asked for) as `ADDED`, then the bookmark that ends them.
async fn watch_response<T: Served>(
    srv: Arc<ApiServer>,
    c: &Ctx<'_>,
    send_initial_events: Option<bool>,
) -> Result<Response<ApiBody>, ApiError> {
    kube_core::paging::check_watch(
        c.params.resource_version_match.as_ref(),
        send_initial_events,
        c.params.allow_watch_bookmarks,
    )?;
    let send_initial = send_initial_events == Some(true);
    let opts = c.params.list.clone();
    let rv = if send_initial {
        None
    } else {
        c.params.resource_version
    };
    let timeout = c.params.timeout.unwrap_or(srv.config.default_watch_timeout);
    let ns = scope_namespace(c);
    let w = srv.registry.watch::<T>(ns.as_deref(), opts, rv).await?;
    // The seed's v1beta1 has no bookmarks.
    let bookmarks = c.params.allow_watch_bookmarks && c.route.version == Version::V1;
    let end = send_initial && c.route.version == Version::V1;
    Ok(watch::stream(
        srv,
        w,
        c.route.version,
        timeout,
        bookmarks,
        end,
    ))
}

async fn get<T: Served>(srv: &ApiServer, c: &Ctx<'_>) -> Result<Response<ApiBody>, ApiError> {
    let name = c.route.name.as_deref().unwrap_or_default();
    let obj: T = srv.registry.get(&item_namespace(c), name).await?;
    if let Output::Table(tv) = c.output {
        let rv = obj.meta().resource_version.clone();
        let now = srv.config.clock.now();
        let table = to_table(
            std::slice::from_ref(&obj),
            &rv,
            tv,
            c.params.include_object,
            now,
        );
        return Ok(json_response(StatusCode::OK, &table));
    }
    Ok(object_response(c.route.version, StatusCode::OK, &obj))
}

/// Reads and decodes a request body into `T` (strictly, off the I/O threads when large),
/// checking `kind` and `apiVersion` against the route, under the request's field validation
/// (warnings recorded for the response; `Strict` refusals returned).
async fn decode_body<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<T, ApiError> {
    let (body, yaml) = read_body(req, srv.config.max_body_bytes).await?;
    let (version, resource) = (c.route.version, c.route.resource);
    let mode = c.params.field_validation;
    let (obj, warnings) = decode::off_runtime(body, move |b| {
        decode::decode_object_checked::<T>(b, yaml, version, resource, mode)
    })
    .await?;
    super::warning::add_all(warnings);
    Ok(obj)
}

async fn create<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let info = c.route.resource.info();
    let obj: T = decode_body(srv, c, req).await?;
    let ns = match (c.route.version, scope_namespace(c)) {
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
    let mut created = c
        .registry
        .create_stored(&ns, obj, FieldManager::Update(&c.manager))
        .await?;
    if c.params.dry_run {
        // Never stored: no revision, as Kubernetes answers a dry-run create.
        created.object.meta_mut().resource_version.clear();
    } else if c.route.version == Version::V1 {
        // The stored JSON with its revision, rather than encoding the object again.
        return Ok(raw_json(StatusCode::CREATED, created.to_json()?));
    }
    Ok(object_response(
        c.route.version,
        StatusCode::CREATED,
        &created.object,
    ))
}

async fn update<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = c.route.name.as_deref().unwrap_or_default();
    let mut obj: T = decode_body(srv, c, req).await?;
    let ns = match c.route.version {
        Version::V1Beta1 if scope_namespace(c).is_none() && !obj.meta().namespace.is_empty() => {
            obj.meta().namespace.clone()
        }
        _ => item_namespace(c),
    };
    if c.route.version == Version::V1Beta1 {
        // v1beta1 cannot carry owner references or finalizers: keep the stored ones. The
        // update's compare-and-swap still guards the read (a stale resourceVersion is a 409).
        match c.registry.get::<T>(&ns, name).await {
            Ok(stored) => kube_core::v1beta1::keep_v1_only_metadata(stored.meta(), obj.meta_mut()),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    let updated = c
        .registry
        .update_as(&ns, name, obj, FieldManager::Update(&c.manager))
        .await?;
    Ok(object_response(c.route.version, StatusCode::OK, &updated))
}

/// `PUT /api/v1/namespaces/{name}/finalize`: writes the namespace's `spec.finalizers` (the
/// only way to change them, as in Kubernetes); a terminating namespace left without any is
/// removed.
async fn finalize(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = c.route.name.as_deref().unwrap_or_default();
    let ns: Namespace = decode_body(srv, c, req).await?;
    let written = c
        .registry
        .finalize_namespace(name, ns, FieldManager::Update(&c.manager))
        .await?;
    Ok(json_response(StatusCode::OK, &written))
}

async fn patch<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    status: bool,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let ns = item_namespace(c);
    let target = super::patch::Target {
        version: c.route.version,
        resource: c.route.resource,
        namespace: &ns,
        name: c.route.name.as_deref().unwrap_or_default(),
        status,
        registry: &c.registry,
        field_validation: c.params.field_validation,
        manager: &c.manager,
        explicit_manager: c.params.field_manager.is_some(),
    };
    let (mut patched, created): (T, bool) = super::patch::patch(srv, &target, req).await?;
    if created && c.params.dry_run {
        // Never stored: no revision, as for a dry-run create.
        patched.meta_mut().resource_version.clear();
    }
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(object_response(c.route.version, code, &patched))
}

async fn update_status<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = c.route.name.as_deref().unwrap_or_default();
    let obj: T = decode_body(srv, c, req).await?;
    if !obj.meta().name.is_empty() && obj.meta().name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            obj.meta().name
        )));
    }
    let updated = c
        .registry
        .update_status_as(
            &item_namespace(c),
            name,
            obj,
            FieldManager::Update(&c.manager),
        )
        .await?;
    Ok(object_response(c.route.version, StatusCode::OK, &updated))
}

async fn delete<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let name = c.route.name.as_deref().unwrap_or_default();
    let options = delete_options(srv, c, req).await?;
    let deleted: T = c
        .registry
        .delete_with(&item_namespace(c), name, &options)
        .await?;
    Ok(match c.route.version {
        Version::V1 => json_response(StatusCode::OK, &deleted),
        Version::V1Beta1 => json_response(StatusCode::OK, &Status::success().to_v1beta1()),
    })
}

/// `DELETE` on a collection (v1): deletes every object the selectors pick, each as a delete
/// with the same options would (graceful pods are marked, finalizers hold), and answers the
/// list of what was deleted, as Kubernetes' `DeleteCollection` does. An object gone in the
/// meantime is skipped; any other failure stops the walk and is answered.
async fn delete_collection<T: Served>(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ApiBody>, ApiError> {
    let options = delete_options(srv, c, req).await?;
    let ns = item_namespace(c);
    let mut list = c.registry.list::<T>(Some(&ns), &c.params.list).await?;
    let mut deleted = Vec::with_capacity(list.items.len());
    for obj in &list.items {
        match c
            .registry
            .delete_with::<T>(&ns, &obj.meta().name, &options)
            .await
        {
            Ok(d) => deleted.push(d),
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    list.items = deleted;
    Ok(json_response(StatusCode::OK, &list))
}

/// The options of a delete: a non-empty body (`DeleteOptions`) wins over the query, as in
/// Kubernetes, which reads the query only when the body is empty.
async fn delete_options(
    srv: &ApiServer,
    c: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<DeleteOptions, ApiError> {
    // A request without a body (whatever its content type) uses the query.
    let (body, yaml) = if hyper::body::Body::is_end_stream(req.body()) {
        (bytes::Bytes::new(), false)
    } else {
        read_body(req, srv.config.max_body_bytes).await?
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        let grace = c
            .params
            .grace_period_seconds
            .map(|g| {
                i64::try_from(g).map_err(|_| {
                    decode::bad_field(
                        "gracePeriodSeconds",
                        format!("invalid value \"{g}\": out of range"),
                    )
                })
            })
            .transpose()?;
        return Ok(DeleteOptions {
            grace_period_seconds: grace,
            propagation_policy: c.params.propagation_policy,
            ..DeleteOptions::default()
        });
    }
    decode::off_runtime(body, move |b| decode::decode_delete_options(b, yaml)).await
}
