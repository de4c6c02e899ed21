//! A small JSON-over-HTTP client of the API server.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_core::error::ApiError;
use kube_core::Status;

/// Errors of API calls made over HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The server could not be reached.
    #[error("cannot reach the API server at {url}: {source}")]
    Connect {
        /// The server URL.
        url: String,
        /// The transport error.
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    /// The server answered with an error status.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The server's answer could not be read or decoded.
    #[error("invalid response from {url}: {reason}")]
    Response {
        /// The request URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// An HTTP client bound to one API server.
#[derive(Clone)]
pub struct HttpClient {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    /// A client for `server` (`http://host:port`, or `host:port`).
    pub fn new(server: &str) -> Result<HttpClient, ClientError> {
        let trimmed = server.trim_end_matches('/');
        let base = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("http://{trimmed}")
        };
        let invalid = |reason: &str| ClientError::InvalidUrl {
            url: server.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = base
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(invalid(&format!(
                    "scheme {other:?} is not supported; use http"
                )))
            }
            None => return Err(invalid("missing scheme")),
        }
        if uri.authority().is_none() {
            return Err(invalid("missing host"));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpClient { base, client })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Sends a request and returns the raw success body; error statuses become `ClientError::Api`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ClientError> {
        let url = format!("{}{}", self.base, path);
        let uri: Uri =
            url.parse()
                .map_err(|e: hyper::http::uri::InvalidUri| ClientError::InvalidUrl {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let has_body = body.is_some();
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, host);
        if has_body {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let req = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::InvalidUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|source| ClientError::Connect {
                url: self.base.clone(),
                source,
            })?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Response {
                url: url.clone(),
                reason: e.to_string(),
            })?
            .to_bytes();
        if status.is_success() {
            return Ok(bytes);
        }
        let st = match serde_json::from_slice::<Status>(&bytes) {
            Ok(s) if s.kind == "Status" => s,
            _ => Status::failure(
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                String::from_utf8_lossy(&bytes).trim().to_string(),
            ),
        };
        Err(ClientError::Api(ApiError::from_status(st)))
    }

    /// Sends a request with an optional JSON body and decodes a JSON answer.
    pub async fn request_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let body = match body {
            Some(v) => Some(serde_json::to_vec(v).map_err(|e| ClientError::Response {
                url: path.to_string(),
                reason: format!("encoding the request: {e}"),
            })?),
            None => None,
        };
        let bytes = self.request(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Response {
            url: format!("{}{}", self.base, path),
            reason: format!("not JSON: {e}"),
        })
    }
}
