//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a pod's container log, proxied from the
//! kubelet of the pod's node (`GET http://ADDR:PORT/containerLogs/{ns}/{pod}/{container}`).
//!
//! Parameters (each validated, 400 naming a bad one): `container` (required when the pod has
//! several), `follow`, `previous`, `timestamps` (booleans) and `tailLines` (a count). The
//! node's address is its `InternalIP`, else its `Hostname` address, else its name (the seed's
//! nodes were named by their address); the port is `status.daemonEndpoints.kubeletEndpoint`,
//! else the kubelet's default 10250. The answer is `text/plain`, streamed as the kubelet
//! sends it; the upstream request is dropped when the client goes away.

use super::body::ApiBody;
use super::codec::{json_response, status_code};
use super::params::{parse_bool, parse_count};
use super::ApiServer;
use crate::client::encode_component;
use crate::kubelet::server::DEFAULT_PORT;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kube_core::error::ApiError;
use kube_core::status;
use kube_core::{Node, Pod, Status};
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Longest wait for a TCP connection to a kubelet.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a kubelet's response headers.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest kubelet error body relayed.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The API server's HTTP client of kubelets.
#[derive(Clone)]
pub struct KubeletClient {
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Default for KubeletClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        KubeletClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

/// The validated parameters of a log request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogParams {
    /// `container`; `None` when absent or empty.
    pub container: Option<String>,
    /// `follow`.
    pub follow: bool,
    /// `previous`.
    pub previous: bool,
    /// `timestamps`.
    pub timestamps: bool,
    /// `tailLines`.
    pub tail_lines: Option<u64>,
}

impl LogParams {
    /// Parses and validates the log parameters of `query` (others are ignored).
    pub fn parse(query: &HashMap<String, String>) -> Result<LogParams, ApiError> {
        let flag = |name: &str| -> Result<bool, ApiError> {
            query.get(name).map_or(Ok(false), |v| parse_bool(name, v))
        };
        Ok(LogParams {
            container: query.get("container").filter(|c| !c.is_empty()).cloned(),
            follow: flag("follow")?,
            previous: flag("previous")?,
            timestamps: flag("timestamps")?,
            tail_lines: query
                .get("tailLines")
                .map(|v| parse_count("tailLines", v))
                .transpose()?,
        })
    }
}

/// Handles a log request for pod `name` in `namespace`.
pub async fn handle(
    srv: &ApiServer,
    namespace: &str,
    name: &str,
    query: &HashMap<String, String>,
) -> Response<ApiBody> {
    match proxy(srv, namespace, name, query).await {
        Ok(resp) => resp,
        Err(e) => json_response(status_code(&e), &e.to_status()),
    }
}

/// Which container of `pod` the request means.
pub fn pick_container(pod: &Pod, asked: Option<&str>) -> Result<String, ApiError> {
    let name = &pod.metadata.name;
    let names: Vec<&str> = pod
        .spec
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    match (asked, names.as_slice()) {
        (Some(c), _) if names.contains(&c) => Ok(c.to_string()),
        (Some(c), _) => Err(ApiError::BadRequest(format!(
            "container {c} is not valid for pod {name}"
        ))),
        (None, [only]) => Ok(only.to_string()),
        (None, []) => Err(ApiError::BadRequest(format!(
            "pod {name} has no containers"
        ))),
        (None, many) => Err(ApiError::BadRequest(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            many.join(" ")
        ))),
    }
}

/// The host and port of a node's kubelet.
pub fn kubelet_location(node: &Node) -> Result<(String, u16), ApiError> {
    let addresses = &node.status.addresses;
    let host = ["InternalIP", "Hostname"]
        .iter()
        .find_map(|t| {
            addresses
                .iter()
                .find(|a| a.type_ == *t && !a.address.is_empty())
        })
        .map(|a| a.address.as_str())
        .unwrap_or(node.metadata.name.as_str());
    let port = match node.status.daemon_endpoints.kubelet_endpoint.port {
        0 => DEFAULT_PORT,
        p => u16::try_from(p).ok().filter(|p| *p != 0).ok_or_else(|| {
            ApiError::ServiceUnavailable(format!(
                "node {} reports an invalid kubelet port {p}",
                node.metadata.name
            ))
        })?,
    };
    // An IPv6 address goes in brackets in a URL.
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_string(),
    };
    Ok((host, port))
}

async fn proxy(
    srv: &ApiServer,
    namespace: &str,
    name: &str,
    query: &HashMap<String, String>,
) -> Result<Response<ApiBody>, ApiError> {
    let params = LogParams::parse(query)?;
    let pod: Pod = srv.registry.get(namespace, name).await?;
    if pod.spec.node_name.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let container = pick_container(&pod, params.container.as_deref())?;
    let node: Node = srv.registry.get("", &pod.spec.node_name).await?;
    let (host, port) = kubelet_location(&node)?;
    let mut url = format!(
        "http://{host}:{port}/containerLogs/{}/{}/{}?follow={}&previous={}&timestamps={}",
        encode_component(namespace),
        encode_component(name),
        encode_component(&container),
        params.follow,
        params.previous,
        params.timestamps,
    );
    if let Some(n) = params.tail_lines {
        url.push_str(&format!("&tailLines={n}"));
    }
    let unreachable = |reason: String| {
        ApiError::ServiceUnavailable(format!(
            "error trying to reach the kubelet of node {} at {host}:{port}: {reason}",
            node.metadata.name
        ))
    };
    let uri: Uri = url
        .parse()
        .map_err(|e| unreachable(format!("invalid address: {e}")))?;
    let req = Request::get(uri)
        .body(Empty::new())
        .map_err(|e| unreachable(e.to_string()))?;
    let resp = match tokio::time::timeout(RESPONSE_TIMEOUT, srv.kubelets.client.request(req)).await
    {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => return Err(unreachable(describe(&e))),
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {RESPONSE_TIMEOUT:?}"
            )))
        }
    };
    let code = resp.status();
    if !code.is_success() {
        return Err(kubelet_error(code, resp.into_body()).await);
    }
    let mut out = Response::new(ApiBody::from_stream(DataFrames(resp.into_body())));
    out.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(out)
}

/// A transport error with its causes (hyper's own message is only "client error (Connect)").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// The kubelet's error answer as a Status with its code and message.
async fn kubelet_error(code: StatusCode, body: Incoming) -> ApiError {
    let text = match Limited::new(body, MAX_ERROR_BYTES).collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
        Err(e) => format!("(error body unreadable: {e})"),
    };
    let reason = match code.as_u16() {
        400 => status::REASON_BAD_REQUEST,
        404 => status::REASON_NOT_FOUND,
        503 => status::REASON_SERVICE_UNAVAILABLE,
        _ => status::REASON_INTERNAL_ERROR,
    };
    ApiError::from_status(Status::failure(code.as_u16(), reason, text))
}

/// The data frames of a response body, as a stream of chunks.
struct DataFrames(Incoming);

impl futures_core::Stream for DataFrames {
    type Item = Result<Bytes, hyper::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match Pin::new(&mut self.0).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    // Trailers carry no log bytes.
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::node::NodeAddress;
    use kube_core::pod::Container;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_are_validated_naming_the_bad_one() {
        let p = LogParams::parse(&q(&[
            ("container", "web"),
            ("follow", "true"),
            ("tailLines", "10"),
            ("previous", "0"),
            ("timestamps", ""),
        ]))
        .expect("valid");
        assert_eq!(
            p,
            LogParams {
                container: Some("web".into()),
                follow: true,
                previous: false,
                timestamps: true,
                tail_lines: Some(10),
            }
        );
        assert_eq!(
            LogParams::parse(&q(&[("container", "")])).expect("valid"),
            LogParams::default()
        );
        for (name, value) in [
            ("follow", "yes"),
            ("previous", "2"),
            ("timestamps", "on"),
            ("tailLines", "-1"),
            ("tailLines", "ten"),
        ] {
            let st = LogParams::parse(&q(&[(name, value)]))
                .expect_err(name)
                .to_status();
            assert_eq!(st.code, 400);
            let field = st.details.map(|d| d.causes[0].field.clone());
            assert_eq!(field.as_deref(), Some(name));
        }
    }

    #[test]
    fn container_choice() {
        let pod = |names: &[&str]| {
            let mut p = Pod::default();
            p.metadata.name = "p".into();
            p.spec.containers = names
                .iter()
                .map(|n| Container {
                    name: n.to_string(),
                    ..Container::default()
                })
                .collect();
            p
        };
        type Case = (
            &'static [&'static str],
            Option<&'static str>,
            Result<&'static str, &'static str>,
        );
        let cases: [Case; 5] = [
            (&["a"], None, Ok("a")),
            (&["a", "b"], Some("b"), Ok("b")),
            (
                &["a", "b"],
                None,
                Err("a container name must be specified for pod p, choose one of: [a b]"),
            ),
            (&["a"], Some("x"), Err("container x is not valid for pod p")),
            (&[], None, Err("pod p has no containers")),
        ];
        for (names, asked, want) in cases {
            let got = pick_container(&pod(names), asked).map_err(|e| e.to_status().message);
            assert_eq!(
                got,
                want.map(String::from).map_err(String::from),
                "{names:?} {asked:?}"
            );
        }
    }

    #[test]
    fn kubelet_address_and_port() {
        let node = |addrs: &[(&str, &str)], port: i32| {
            let mut n = Node::default();
            n.metadata.name = "n1".into();
            n.status.addresses = addrs
                .iter()
                .map(|(t, a)| NodeAddress {
                    type_: t.to_string(),
                    address: a.to_string(),
                })
                .collect();
            n.status.daemon_endpoints.kubelet_endpoint.port = port;
            n
        };
        type Addresses = &'static [(&'static str, &'static str)];
        type Location = Result<(&'static str, u16), ()>;
        let cases: [(Addresses, i32, Location); 6] = [
            (
                &[("Hostname", "h"), ("InternalIP", "10.0.0.1")],
                10255,
                Ok(("10.0.0.1", 10255)),
            ),
            (
                &[("ExternalIP", "1.2.3.4"), ("Hostname", "h")],
                1,
                Ok(("h", 1)),
            ),
            (&[], 0, Ok(("n1", 10250))),
            (&[("InternalIP", "::1")], 7, Ok(("[::1]", 7))),
            (&[], 70000, Err(())),
            (&[], -1, Err(())),
        ];
        for (addrs, port, want) in cases {
            let got = kubelet_location(&node(addrs, port)).map_err(|_| ());
            assert_eq!(
                got,
                want.map(|(h, p)| (h.to_string(), p)),
                "{addrs:?} {port}"
            );
        }
    }
}
