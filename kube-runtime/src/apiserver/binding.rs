//! Binding: the scheduler's `POST .../pods/{name}/binding` (v1) and `POST /api/v1beta1/bindings`.

use super::body::ApiBody;
use super::codec::{json_response, read_body, status_code};
use super::decode;
use super::params::Params;
use super::router::Version;
use super::ApiServer;
use crate::registry::DEFAULT_NAMESPACE;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use kube_core::error::ApiError;
use kube_core::v1beta1::V1Beta1;
use kube_core::Status;
use std::collections::HashMap;

/// Handles a binding request. `pod` is the pod named by a v1 subresource path, if any.
pub async fn handle(
    srv: &ApiServer,
    version: Version,
    namespace: Option<String>,
    pod: Option<&str>,
    query: &HashMap<String, String>,
    req: Request<Incoming>,
) -> Response<ApiBody> {
    match bind(srv, version, namespace, pod, query, req).await {
        Ok(()) => {
            let mut st = Status::success();
            st.code = 201;
            match version {
                Version::V1 => json_response(StatusCode::CREATED, &st),
                Version::V1Beta1 => json_response(StatusCode::CREATED, &st.to_v1beta1()),
            }
        }
        Err(e) => match version {
            Version::V1 => json_response(status_code(&e), &e.to_status()),
            Version::V1Beta1 => json_response(status_code(&e), &e.to_status().to_v1beta1()),
        },
    }
}

async fn bind(
    srv: &ApiServer,
    version: Version,
    namespace: Option<String>,
    pod: Option<&str>,
    query: &HashMap<String, String>,
    req: Request<Incoming>,
) -> Result<(), ApiError> {
    // The method was checked against the verbs table by the caller; parameters are checked here.
    let params = Params::parse(query, version)?;
    let (body, yaml) = read_body(req, srv.config.max_body_bytes).await?;
    let mode = params.field_validation;
    let (mut binding, warnings) = decode::off_runtime(body, move |b| {
        decode::decode_binding(b, yaml, version, mode)
    })
    .await?;
    super::warning::add_all(warnings);
    if let Some(pod) = pod {
        if binding.metadata.name.is_empty() {
            binding.metadata.name = pod.to_string();
        } else if binding.metadata.name != pod {
            return Err(ApiError::BadRequest(format!(
                "the binding names pod {:?} but the URL names pod {pod:?}",
                binding.metadata.name
            )));
        }
    }
    let ns = namespace
        .or(params.namespace)
        .or_else(|| Some(binding.metadata.namespace.clone()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    srv.registry_for(params.dry_run)
        .bind(&ns, &binding)
        .await
        .map(|_| ())
}
