//! Running one probe against a container: HTTP GET, TCP connect, or a command through the
//! runtime, bounded by the probe's `timeoutSeconds`. When probes are due and what their
//! results mean is kube-core's `ProbeTracker` (`kube_core::kubelet::probe`).

use kube_core::kubelet::probe::{resolve_port, ProbeKind, ProbeParams};
use kube_core::pod::{Container, ExecAction, HttpGetAction, Probe, TcpSocketAction};
use kube_core::runtime::ContainerRuntime;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub use kube_core::kubelet::probe::ProbeResult;

/// Longest HTTP status line read from a probed server.
const MAX_STATUS_LINE: u64 = 4096;
/// Longest command output quoted in a failure message.
const MAX_OUTPUT_QUOTED: usize = 1024;

/// What a probe is run against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTarget {
    /// The pod's IP: the host of HTTP and TCP probes that name none.
    pub pod_ip: Option<IpAddr>,
    /// The runtime ID of the container (exec probes run in it).
    pub container_id: String,
}

/// Runs `probe` of `container` once, within its `timeoutSeconds`. Never panics: every problem
/// (no handler, a bad port, an unsupported scheme, no address, a refused connection, a
/// timeout, a runtime error) is a `Failure` saying what went wrong.
pub async fn run_probe<R: ContainerRuntime + ?Sized>(
    runtime: &R,
    probe: &Probe,
    container: &Container,
    target: ProbeTarget,
) -> ProbeResult {
    // The timeout is the same for both kinds.
    let timeout = ProbeParams::new(ProbeKind::Readiness, probe).timeout;
    let run = async {
        if let Some(exec) = &probe.exec {
            probe_exec(runtime, exec, &target.container_id, timeout).await
        } else if let Some(http) = &probe.http_get {
            probe_http(http, container, target.pod_ip).await
        } else if let Some(tcp) = &probe.tcp_socket {
            probe_tcp(tcp, container, target.pod_ip).await
        } else {
            ProbeResult::Failure("probe has no handler (exec, httpGet or tcpSocket)".into())
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => ProbeResult::Failure(format!("probe timed out after {timeout:?}")),
    }
}

async fn probe_exec<R: ContainerRuntime + ?Sized>(
    runtime: &R,
    exec: &ExecAction,
    container_id: &str,
    timeout: Duration,
) -> ProbeResult {
    if exec.command.is_empty() {
        return ProbeResult::Failure("exec probe has an empty command".into());
    }
    match runtime.exec(container_id, &exec.command, timeout).await {
        Ok(r) if r.exit_code == 0 => ProbeResult::Success,
        Ok(r) => {
            let mut output = String::from_utf8_lossy(&r.output).into_owned();
            if output.len() > MAX_OUTPUT_QUOTED {
                let mut cut = MAX_OUTPUT_QUOTED;
                while !output.is_char_boundary(cut) {
                    cut -= 1;
                }
                output.truncate(cut);
            }
            ProbeResult::Failure(format!(
                "command {:?} exited with {}: {}",
                exec.command,
                r.exit_code,
                output.trim_end()
            ))
        }
        Err(e) => ProbeResult::Failure(format!("exec {:?}: {e}", exec.command)),
    }
}

/// The address a network probe connects to: `host` (an IP or a name) or the pod's IP.
async fn probe_addr(host: &str, port: u16, pod_ip: Option<IpAddr>) -> Result<SocketAddr, String> {
    if host.is_empty() {
        return pod_ip
            .map(|ip| SocketAddr::new(ip, port))
            .ok_or_else(|| "the pod has no IP to probe".to_string());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("host {host:?} has no address")),
        Err(e) => Err(format!("cannot resolve host {host:?}: {e}")),
    }
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    TcpStream::connect(addr)
        .await
        .map_err(|e| format!("dial tcp {addr}: {e}"))
}

async fn probe_tcp(
    tcp: &TcpSocketAction,
    container: &Container,
    pod_ip: Option<IpAddr>,
) -> ProbeResult {
    let port = match resolve_port(&tcp.port, container) {
        Ok(p) => p,
        Err(e) => return ProbeResult::Failure(e.to_string()),
    };
    let addr = match probe_addr(&tcp.host, port, pod_ip).await {
        Ok(a) => a,
        Err(e) => return ProbeResult::Failure(e),
    };
    match connect(addr).await {
        Ok(_) => ProbeResult::Success,
        Err(e) => ProbeResult::Failure(e),
    }
}

/// The request target of an HTTP probe: `/` when empty, a leading `/` added, and refused when
/// it holds whitespace or control characters (they would break the request line).
fn request_path(path: &str) -> Result<String, String> {
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("invalid HTTP probe path {path:?}"));
    }
    Ok(match path {
        "" => "/".to_string(),
        p if p.starts_with('/') => p.to_string(),
        p => format!("/{p}"),
    })
}

/// The status code of an HTTP/1.x status line (`HTTP/1.1 200 OK`).
fn parse_status_line(line: &str) -> Option<u16> {
    let mut parts = line.trim_end_matches(['\r', '\n']).splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

async fn probe_http(
    http: &HttpGetAction,
    container: &Container,
    pod_ip: Option<IpAddr>,
) -> ProbeResult {
    match http_get(http, container, pod_ip).await {
        Ok(code) if (200..400).contains(&code) => ProbeResult::Success,
        Ok(code) => ProbeResult::Failure(format!("HTTP probe failed with statuscode: {code}")),
        Err(e) => ProbeResult::Failure(e),
    }
}

/// Sends `GET path` and returns the answer's status code (the rest is not read).
async fn http_get(
    http: &HttpGetAction,
    container: &Container,
    pod_ip: Option<IpAddr>,
) -> Result<u16, String> {
    if !(http.scheme.is_empty() || http.scheme.eq_ignore_ascii_case("HTTP")) {
        return Err(if http.scheme.eq_ignore_ascii_case("HTTPS") {
            "https probes are not supported".to_string()
        } else {
            format!("unsupported probe scheme {:?}", http.scheme)
        });
    }
    let port = resolve_port(&http.port, container).map_err(|e| e.to_string())?;
    let path = request_path(&http.path)?;
    let addr = probe_addr(&http.host, port, pod_ip).await?;
    let host = if http.host.is_empty() {
        addr.ip().to_string()
    } else {
        http.host.clone()
    };
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("invalid HTTP probe host {host:?}"));
    }
    let host_header = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    let mut stream = connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: kube-probe/{}\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("GET http://{host_header}{path}: {e}"))?;
    let mut line = Vec::new();
    BufReader::new((&mut stream).take(MAX_STATUS_LINE))
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| format!("GET http://{host_header}{path}: {e}"))?;
    let text = String::from_utf8_lossy(&line);
    parse_status_line(&text).ok_or_else(|| {
        if line.is_empty() {
            format!("GET http://{host_header}{path}: connection closed without an answer")
        } else {
            format!("GET http://{host_header}{path}: malformed status line {text:?}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let cases = [
            ("HTTP/1.1 200 OK\r\n", Some(200)),
            ("HTTP/1.0 302 Found\r\n", Some(302)),
            ("HTTP/1.1 500\r\n", Some(500)),
            ("HTTP/1.1 204 No Content", Some(204)),
            ("HTTP/2 200 OK\r\n", None),
            ("HTTP/1.1 20 OK\r\n", None),
            ("HTTP/1.1 abc OK\r\n", None),
            ("SSH-2.0-OpenSSH\r\n", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_status_line(line), want, "{line:?}");
        }
    }

    #[test]
    fn request_paths() {
        let cases = [
            ("", Ok("/")),
            ("/", Ok("/")),
            ("/healthz?x=1", Ok("/healthz?x=1")),
            ("healthz", Ok("/healthz")),
            ("/a b", Err(())),
            ("/a\r\nX-Evil: 1", Err(())),
        ];
        for (path, want) in cases {
            assert_eq!(
                request_path(path).map_err(|_| ()),
                want.map(str::to_string),
                "{path:?}"
            );
        }
    }
}
