//! Request body reading (size and media type limits) and response encoding; decoding is in `decode`.

use super::body::ApiBody;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use kube_core::error::ApiError;
use serde::Serialize;

/// Largest request body accepted (Kubernetes' limit is 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Reads the whole body, answering 413 past `limit` and 415 for media types other than JSON and YAML.
pub async fn read_body(req: Request<Incoming>, limit: usize) -> Result<(Bytes, bool), ApiError> {
    let ctype = content_type(&req).to_ascii_lowercase();
    let yaml_declared = ctype.contains("yaml");
    if !ctype.is_empty()
        && !yaml_declared
        && !ctype.contains("json")
        && !ctype.starts_with("text/plain")
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ctype:?})"
        )));
    }
    Ok((collect_body(req, limit).await?, yaml_declared))
}

/// The request's `Content-Type` header as written (empty when absent or not text).
pub fn content_type<B>(req: &Request<B>) -> &str {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Reads the whole body whatever its media type, answering 413 past `limit` (at once when
/// the declared `Content-Length` is already too large).
pub async fn collect_body(req: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::RequestEntityTooLarge(format!("the request body is larger than {limit} bytes"))
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    Ok(Limited::new(req.into_body(), limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                ApiError::BadRequest(format!("reading the request body: {e}"))
            }
        })?
        .to_bytes())
}

/// A JSON response with the given status.
pub fn json_response<T: Serialize + ?Sized>(code: StatusCode, value: &T) -> Response<ApiBody> {
    match serde_json::to_vec(value) {
        Ok(body) => raw_json(code, body),
        Err(e) => raw_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"InternalError\",\"code\":500,\"message\":{:?}}}", e.to_string()).into_bytes(),
        ),
    }
}

/// A response with an already-encoded JSON body.
pub fn raw_json(code: StatusCode, body: Vec<u8>) -> Response<ApiBody> {
    let mut resp = Response::new(ApiBody::full(body));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A plain-text response.
pub fn text_response(code: StatusCode, body: impl Into<Bytes>) -> Response<ApiBody> {
    let mut resp = Response::new(ApiBody::full(body));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The status code of an API error.
pub fn status_code(e: &ApiError) -> StatusCode {
    StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A v1 `Status` response for an error.
pub fn error_response(e: &ApiError) -> Response<ApiBody> {
    json_response(status_code(e), &e.to_status())
}
