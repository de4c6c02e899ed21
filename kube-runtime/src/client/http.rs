//! A small JSON-over-HTTP client of the API server.

use super::{ApiClient, ClientWatch, ListParams};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_core::error::ApiError;
use kube_core::list::List;
use kube_core::store::Revision;
use kube_core::Object;
use kube_core::{Binding, DeleteOptions, Namespace, ResourceKind, Scale, Status};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Timeouts of an [`HttpClient`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// Longest wait for a TCP connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole answer (for a watch: for its response headers).
    pub request_timeout: Duration,
    /// The server-side duration asked of every watch (`timeoutSeconds`, whole seconds, at least 1).
    pub watch_timeout: Duration,
    /// Silence tolerated on a watch beyond `watch_timeout` before it is taken as broken.
    pub watch_idle_margin: Duration,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            // kube-rs's choice: just under the 5 minutes proxies commonly allow.
            watch_timeout: Duration::from_secs(290),
            watch_idle_margin: Duration::from_secs(30),
        }
    }
}

impl HttpClientConfig {
    /// The `timeoutSeconds` sent with watches.
    fn watch_timeout_secs(&self) -> u64 {
        self.watch_timeout.as_secs().max(1)
    }

    /// The longest silence tolerated on a watch: the server ends it by then when healthy.
    pub fn watch_idle_limit(&self) -> Duration {
        Duration::from_secs(self.watch_timeout_secs()) + self.watch_idle_margin
    }
}

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
    /// The connection broke, or the request or answer took longer than its timeout.
    #[error("transport failure talking to {url}: {reason}")]
    Transport {
        /// The request URL.
        url: String,
        /// What went wrong.
        reason: String,
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

/// The API error carried by an error response (a `Status`, or the raw text).
fn error_from_body(status: hyper::StatusCode, bytes: &[u8]) -> ApiError {
    let st = match serde_json::from_slice::<Status>(bytes) {
        Ok(s) if s.kind == "Status" => s,
        _ => Status::failure(
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            String::from_utf8_lossy(bytes).trim().to_string(),
        ),
    };
    ApiError::from_status(st)
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> ApiError {
        match e {
            ClientError::Api(e) => e,
            ClientError::Connect { .. } | ClientError::Transport { .. } => {
                ApiError::Transport(e.to_string())
            }
            ClientError::InvalidUrl { .. } => ApiError::BadRequest(e.to_string()),
            ClientError::Response { .. } => ApiError::Internal(e.to_string()),
        }
    }
}

fn timed_out(url: &str, limit: Duration) -> ClientError {
    ClientError::Transport {
        url: url.to_string(),
        reason: format!("no answer within {limit:?}"),
    }
}

/// Percent-encodes a path segment or query value.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The core/v1 path of a resource collection or object, e.g. `/api/v1/namespaces/ns/pods/p`.
pub fn resource_path(kind: ResourceKind, namespace: Option<&str>, name: Option<&str>) -> String {
    let info = kind.info();
    // core/v1 lives under `/api/v1`, named groups under `/apis/{group}/{version}`.
    let root = match info.api_version {
        "v1" => "/api/v1".to_string(),
        grouped => format!("/apis/{grouped}"),
    };
    let mut p = match (info.namespaced, namespace) {
        (true, Some(ns)) => format!("{root}/namespaces/{}/{}", encode_component(ns), info.plural),
        _ => format!("{root}/{}", info.plural),
    };
    if let Some(n) = name {
        p.push('/');
        p.push_str(&encode_component(n));
    }
    p
}

fn query(params: &ListParams, extra: &[(&str, String)]) -> String {
    let mut parts: Vec<String> = extra
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    if !params.label_selector.is_empty() {
        parts.push(format!(
            "labelSelector={}",
            encode_component(&params.label_selector)
        ));
    }
    if !params.field_selector.is_empty() {
        parts.push(format!(
            "fieldSelector={}",
            encode_component(&params.field_selector)
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

impl HttpClient {
    async fn typed<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let body = match body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| ApiError::Internal(format!("encoding the request: {e}")))?,
            ),
            None => None,
        };
        let bytes = self.request(method, path, body).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Internal(format!("invalid response from {path}: {e}")))
    }
}

impl ApiClient for HttpClient {
    async fn list<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<List<T>, ApiError> {
        let path = resource_path(T::RESOURCE, namespace, None) + &query(params, &[]);
        self.typed::<List<T>, ()>(Method::GET, &path, None).await
    }

    async fn list_page<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        limit: u64,
        continue_token: &str,
    ) -> Result<List<T>, ApiError> {
        let mut extra = Vec::new();
        if limit > 0 {
            extra.push(("limit", limit.to_string()));
        }
        if !continue_token.is_empty() {
            extra.push(("continue", continue_token.to_owned()));
        }
        let path = resource_path(T::RESOURCE, namespace, None) + &query(params, &extra);
        self.typed::<List<T>, ()>(Method::GET, &path, None).await
    }

    async fn get<T: Object>(&self, namespace: &str, name: &str) -> Result<T, ApiError> {
        self.typed::<T, ()>(
            Method::GET,
            &resource_path(T::RESOURCE, Some(namespace), Some(name)),
            None,
        )
        .await
    }

    async fn create<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        self.typed(
            Method::POST,
            &resource_path(T::RESOURCE, Some(namespace), None),
            Some(obj),
        )
        .await
    }

    async fn update<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        let path = resource_path(T::RESOURCE, Some(namespace), Some(&obj.meta().name));
        self.typed(Method::PUT, &path, Some(obj)).await
    }

    async fn update_status<T: Object>(&self, namespace: &str, obj: &T) -> Result<T, ApiError> {
        let path = resource_path(T::RESOURCE, Some(namespace), Some(&obj.meta().name)) + "/status";
        self.typed(Method::PUT, &path, Some(obj)).await
    }

    async fn delete_with<T: Object>(
        &self,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<T, ApiError> {
        let mut path = resource_path(T::RESOURCE, Some(namespace), Some(name));
        // The grace period alone goes in the query (as the kubelet's frequent final delete
        // does); anything more is sent as a `DeleteOptions` body.
        if options.preconditions.is_some() || options.propagation_policy.is_some() {
            return self.typed(Method::DELETE, &path, Some(options)).await;
        }
        if let Some(g) = options.grace_period_seconds {
            path.push_str(&format!("?gracePeriodSeconds={g}"));
        }
        self.typed::<T, ()>(Method::DELETE, &path, None).await
    }

    async fn watch<T: Object>(
        &self,
        namespace: Option<&str>,
        params: &ListParams,
        resource_version: Revision,
    ) -> Result<ClientWatch<T>, ApiError> {
        let extra = [
            ("watch", "true".to_string()),
            ("resourceVersion", resource_version.to_string()),
            // Bookmarks advance the resume point past changes the selectors filter out.
            ("allowWatchBookmarks", "true".to_string()),
            (
                "timeoutSeconds",
                self.config.watch_timeout_secs().to_string(),
            ),
        ];
        let path = resource_path(T::RESOURCE, namespace, None) + &query(params, &extra);
        let body = self.request_streaming(Method::GET, &path).await?;
        Ok(ClientWatch::from_body(
            body.map_err(Into::into).boxed(),
            Some(self.config.watch_idle_limit()),
        ))
    }

    async fn bind(&self, namespace: &str, binding: &Binding) -> Result<(), ApiError> {
        let path = resource_path(
            ResourceKind::Pods,
            Some(namespace),
            Some(&binding.metadata.name),
        ) + "/binding";
        self.typed::<serde_json::Value, Binding>(Method::POST, &path, Some(binding))
            .await
            .map(|_| ())
    }

    async fn get_scale(&self, namespace: &str, name: &str) -> Result<Scale, ApiError> {
        let path = scale_path(namespace, name);
        self.typed::<Scale, ()>(Method::GET, &path, None).await
    }

    async fn update_scale(
        &self,
        namespace: &str,
        name: &str,
        scale: &Scale,
    ) -> Result<Scale, ApiError> {
        self.typed(Method::PUT, &scale_path(namespace, name), Some(scale))
            .await
    }

    async fn finalize_namespace(&self, ns: &Namespace) -> Result<Namespace, ApiError> {
        let item = resource_path(ResourceKind::Namespaces, None, Some(&ns.metadata.name));
        self.typed(Method::PUT, &format!("{item}/finalize"), Some(ns))
            .await
    }
}

/// The path of a replication controller's `/scale` subresource.
fn scale_path(namespace: &str, name: &str) -> String {
    resource_path(
        ResourceKind::ReplicationControllers,
        Some(namespace),
        Some(name),
    ) + "/scale"
}

/// What is done with each `Warning` an API server answers (its text).
pub type WarningHandler = Arc<dyn Fn(&str) + Send + Sync>;

/// An HTTP client bound to one API server.
#[derive(Clone)]
pub struct HttpClient {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    config: HttpClientConfig,
    /// Where the server's warnings go; logged at warn level when unset.
    on_warning: Option<WarningHandler>,
}

impl HttpClient {
    /// A client for `server` (`http://host:port`, or `host:port`) with the default timeouts.
    pub fn new(server: &str) -> Result<HttpClient, ClientError> {
        HttpClient::with_config(server, HttpClientConfig::default())
    }

    /// A client for `server` with the given timeouts.
    pub fn with_config(server: &str, config: HttpClientConfig) -> Result<HttpClient, ClientError> {
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
        connector.set_connect_timeout(Some(config.connect_timeout));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(HttpClient {
            base,
            client,
            config,
            on_warning: None,
        })
    }

    /// Hands every `Warning` the server answers (e.g. `unknown field "spec.foo"` under
    /// `fieldValidation=Warn`) to `handler` instead of logging it; kubecfg prints them as
    /// kubectl does.
    pub fn with_warning_handler(mut self, handler: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_warning = Some(Arc::new(handler));
        self
    }

    /// Surfaces the `Warning` headers of a response (RFC 7234, `299 - "text"`).
    fn warnings(&self, headers: &hyper::HeaderMap) {
        let texts = headers
            .get_all(hyper::header::WARNING)
            .iter()
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .filter_map(crate::apiserver::warning::parse_header);
        for text in texts {
            match &self.on_warning {
                Some(handler) => handler(&text),
                None => tracing::warn!(server = %self.base, "{text}"),
            }
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The client's timeouts.
    pub fn config(&self) -> &HttpClientConfig {
        &self.config
    }

    /// Sends a request and returns the raw success body; error statuses become `ClientError::Api`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ClientError> {
        let url = format!("{}{}", self.base, path);
        let req = self.build(method, &url, body)?;
        let limit = self.config.request_timeout;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|source| ClientError::Connect {
                    url: self.base.clone(),
                    source,
                })?;
            let status = resp.status();
            self.warnings(resp.headers());
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| ClientError::Transport {
                    url: url.clone(),
                    reason: format!("reading the answer: {e}"),
                })?
                .to_bytes();
            if status.is_success() {
                return Ok(bytes);
            }
            Err(ClientError::Api(error_from_body(status, &bytes)))
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) => Err(timed_out(&url, limit)),
        }
    }

    /// Sends a request and returns the response as it arrives (for watches); error statuses become `ClientError::Api`.
    pub async fn request_streaming(
        &self,
        method: Method,
        path: &str,
    ) -> Result<Incoming, ClientError> {
        let url = format!("{}{}", self.base, path);
        let req = self.build(method, &url, None)?;
        let limit = self.config.request_timeout;
        let resp = match tokio::time::timeout(limit, self.client.request(req)).await {
            Ok(r) => r.map_err(|source| ClientError::Connect {
                url: self.base.clone(),
                source,
            })?,
            Err(_) => return Err(timed_out(&url, limit)),
        };
        let status = resp.status();
        self.warnings(resp.headers());
        if status.is_success() {
            return Ok(resp.into_body());
        }
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Err(ClientError::Api(error_from_body(status, &bytes)))
    }

    fn build(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let uri: Uri =
            url.parse()
                .map_err(|e: hyper::http::uri::InvalidUri| ClientError::InvalidUrl {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, host);
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::InvalidUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_escapes() {
        let cases = [
            (
                resource_path(ResourceKind::Pods, Some("default"), Some("redis")),
                "/api/v1/namespaces/default/pods/redis",
            ),
            (
                resource_path(ResourceKind::Pods, None, None),
                "/api/v1/pods",
            ),
            (
                resource_path(ResourceKind::Nodes, Some("ignored"), Some("n1")),
                "/api/v1/nodes/n1",
            ),
            (
                encode_component("name=redis,a in (x)"),
                "name%3Dredis%2Ca%20in%20%28x%29",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod robustness_tests;
