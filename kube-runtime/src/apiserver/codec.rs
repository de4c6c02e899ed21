//! Request body reading (size and media type limits) and response encoding; decoding is in `decode`.

use super::body::ApiBody;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use kube_core::error::ApiError;
use kube_core::protobuf;
use kube_core::table::{TableVersion, TABLE_GROUP};
use serde::Serialize;

/// Largest request body accepted (Kubernetes' limit is 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Reads the whole body, answering 413 past `limit` and 415 for media types other than JSON,
/// YAML and Kubernetes' protobuf (which is turned into JSON here, so every later step is the
/// JSON one).
pub async fn read_body(req: Request<Incoming>, limit: usize) -> Result<(Bytes, bool), ApiError> {
    let ctype = content_type(&req).to_ascii_lowercase();
    if ctype.starts_with(protobuf::MEDIA_TYPE) {
        return Ok((protobuf_to_json(&collect_body(req, limit).await?)?, false));
    }
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

/// The JSON text of a protobuf body: 415 for a kind without a protobuf schema, 400 for a
/// malformed body (the envelope's kind and apiVersion are then checked like a JSON body's).
fn protobuf_to_json(body: &[u8]) -> Result<Bytes, ApiError> {
    let value = protobuf::to_json(body).map_err(|e| match e {
        protobuf::ProtobufError::UnsupportedKind { .. } => {
            ApiError::UnsupportedMediaType(e.to_string())
        }
        _ => ApiError::BadRequest(format!("the protobuf request body is invalid: {e}")),
    })?;
    serde_json::to_vec(&value)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(format!("re-encoding a protobuf body as JSON: {e}")))
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
    json_body(code, ApiBody::full(body))
}

/// A response with an already-encoded JSON body in parts.
pub fn json_parts(code: StatusCode, parts: Vec<Bytes>) -> Response<ApiBody> {
    json_body(code, ApiBody::parts(parts))
}

/// A JSON response.
fn json_body(code: StatusCode, body: ApiBody) -> Response<ApiBody> {
    let mut resp = Response::new(body);
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

/// The form of a response the client accepts (`Accept`), for reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The object or list as JSON.
    Json,
    /// A `meta.k8s.io` `Table` (`application/json;as=Table;v=v1;g=meta.k8s.io`).
    Table(TableVersion),
}

/// The media types a read may be answered in (for the 406 message).
const ACCEPTED_MEDIA_TYPES: &str = "application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1beta1;g=meta.k8s.io";

/// Picks the response form from an `Accept` header: the acceptable media range with the
/// highest `q`, the first listed among equals (kubectl lists Table v1, Table v1beta1, then
/// plain JSON). `tables` says whether a Table may be answered; none acceptable is a 406.
pub fn negotiate(accept: &str, tables: bool) -> Result<Output, ApiError> {
    if accept.trim().is_empty() {
        return Ok(Output::Json);
    }
    let mut ranges: Vec<(f32, Option<Output>)> = accept
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(|r| media_range(r, tables))
        .collect();
    // Stable: equal weights keep the client's order.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges
        .into_iter()
        .filter(|(q, _)| *q > 0.0)
        .find_map(|(_, out)| out)
        .ok_or_else(|| {
            ApiError::Other(Box::new(kube_core::Status::failure(
                406,
                REASON_NOT_ACCEPTABLE,
                format!("only the following media types are accepted: {ACCEPTED_MEDIA_TYPES}"),
            )))
        })
}

/// `Status.reason` of a 406.
const REASON_NOT_ACCEPTABLE: &str = "NotAcceptable";

/// One media range of an `Accept` header: its weight and what it would be answered with.
fn media_range(range: &str, tables: bool) -> (f32, Option<Output>) {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let (mut q, mut as_, mut group, mut version) = (1.0f32, None, None, None);
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "q" => {
                q = v
                    .parse()
                    .ok()
                    .filter(|q: &f32| q.is_finite())
                    .unwrap_or(0.0)
            }
            "as" => as_ = Some(v.to_string()),
            "g" => group = Some(v.to_string()),
            "v" => version = Some(v.to_string()),
            _ => {}
        }
    }
    if !matches!(media.as_str(), "application/json" | "application/*" | "*/*") {
        return (q, None);
    }
    let out = match as_.as_deref() {
        None => Some(Output::Json),
        Some("Table") if tables && group.as_deref() == Some(TABLE_GROUP) => version
            .as_deref()
            .and_then(TableVersion::parse)
            .map(Output::Table),
        Some(_) => None,
    };
    (q, out)
}

/// The request's `Accept` header as written (empty when absent or not text).
pub fn accept<B>(req: &Request<B>) -> &str {
    req.headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        use Output::*;
        use TableVersion::{V1Beta1, V1};
        const KUBECTL: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        // (Accept, tables allowed, answer or the refusal's code)
        let cases: [(&str, bool, Result<Output, u16>); 22] = [
            ("", true, Ok(Json)),
            ("application/json", true, Ok(Json)),
            ("*/*", true, Ok(Json)),
            ("application/*", true, Ok(Json)),
            ("application/json; charset=utf-8", true, Ok(Json)),
            (KUBECTL, true, Ok(Table(V1))),
            (KUBECTL, false, Ok(Json)),
            (
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json",
                true,
                Ok(Table(V1Beta1)),
            ),
            (
                "application/json;as=Table;v=v2;g=meta.k8s.io,application/json",
                true,
                Ok(Json),
            ),
            (
                "application/json;as=Table;v=v1;g=other.io,application/json",
                true,
                Ok(Json),
            ),
            (
                "application/json;as=Table;v=v1;g=meta.k8s.io",
                false,
                Err(406),
            ),
            ("application/json;as=Table;g=meta.k8s.io", true, Err(406)),
            (
                "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
                true,
                Err(406),
            ),
            ("application/yaml", true, Err(406)),
            ("application/vnd.kubernetes.protobuf", true, Err(406)),
            ("application/vnd.kubernetes.protobuf, */*", true, Ok(Json)),
            ("text/html", true, Err(406)),
            ("application/json;q=0", true, Err(406)),
            (
                "application/json;q=0.5, application/json;as=Table;v=v1;g=meta.k8s.io",
                true,
                Ok(Table(V1)),
            ),
            (
                "application/json;as=Table;v=v1;g=meta.k8s.io;q=0.1, application/json",
                true,
                Ok(Json),
            ),
            ("application/json;q=junk", true, Err(406)),
            (
                " APPLICATION/JSON ; as=\"Table\" ; v=v1 ; g=meta.k8s.io ",
                true,
                Ok(Table(V1)),
            ),
        ];
        for (accept, tables, want) in cases {
            let got = negotiate(accept, tables).map_err(|e| {
                assert_eq!(e.reason(), REASON_NOT_ACCEPTABLE, "{accept}");
                e.code()
            });
            assert_eq!(got, want, "{accept:?} tables={tables}");
        }
    }
}
