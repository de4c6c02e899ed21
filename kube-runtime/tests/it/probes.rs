//! `run_probe` against real listeners on 127.0.0.1 and an exec stub runtime.

use crate::stub_runtime::StubRuntime;
use kube_core::intstr::IntOrString;
use kube_core::pod::{Container, ContainerPort, ExecAction, HttpGetAction, Probe, TcpSocketAction};
use kube_core::runtime::{ExecResult, RuntimeError};
use kube_runtime::kubelet::probes::{run_probe, ProbeResult, ProbeTarget};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn target() -> ProbeTarget {
    ProbeTarget {
        pod_ip: Some(LOOPBACK),
        container_id: "c1".into(),
    }
}

/// A container declaring `port` under the name `http`.
fn container(port: u16) -> Container {
    Container {
        name: "web".into(),
        ports: vec![ContainerPort {
            name: "http".into(),
            container_port: i32::from(port),
            ..ContainerPort::default()
        }],
        ..Container::default()
    }
}

fn http_probe(port: IntOrString, path: &str, timeout_seconds: i32) -> Probe {
    Probe {
        http_get: Some(HttpGetAction {
            path: path.into(),
            port,
            ..HttpGetAction::default()
        }),
        timeout_seconds,
        ..Probe::default()
    }
}

/// An HTTP server answering every request with `status`; returns its port and the request
/// heads it received.
async fn http_server(status: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let heads = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                heads
                    .lock()
                    .await
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let answer = format!(
                    "HTTP/1.1 {status} Whatever\r\nLocation: /elsewhere\r\nContent-Length: 5\r\n\r\nhello"
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    (port, seen)
}

/// A port nothing listens on (bound, then closed).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

fn failure(r: &ProbeResult) -> &str {
    match r {
        ProbeResult::Failure(m) => m,
        ProbeResult::Success => panic!("expected a failure"),
    }
}

#[tokio::test]
async fn http_status_codes_decide() {
    let cases = [
        (200, true),
        (204, true),
        (302, true),
        (399, true),
        (404, false),
        (500, false),
    ];
    for (status, ok) in cases {
        let (port, heads) = http_server(status).await;
        let probe = http_probe(IntOrString::Int(i32::from(port)), "/healthz", 10);
        let r = run_probe(&StubRuntime::new(), &probe, &container(port), target()).await;
        assert_eq!(r.is_success(), ok, "{status}: {r:?}");
        if !ok {
            assert!(failure(&r).contains(&status.to_string()), "{r:?}");
        }
        let heads = heads.lock().await;
        assert_eq!(heads.len(), 1, "one request per probe");
        assert!(
            heads[0].starts_with("GET /healthz HTTP/1.1\r\n"),
            "{:?}",
            heads[0]
        );
        assert!(
            heads[0].contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{:?}",
            heads[0]
        );
    }
}

#[tokio::test]
async fn http_by_port_name_and_explicit_host() {
    let (port, heads) = http_server(200).await;
    // Named port, empty path, no pod IP but an explicit host.
    let mut probe = http_probe(IntOrString::String("http".into()), "", 10);
    if let Some(h) = &mut probe.http_get {
        h.host = "127.0.0.1".into();
    }
    let no_ip = ProbeTarget {
        pod_ip: None,
        container_id: "c1".into(),
    };
    let r = run_probe(&StubRuntime::new(), &probe, &container(port), no_ip.clone()).await;
    assert_eq!(r, ProbeResult::Success);
    assert!(heads.lock().await[0].starts_with("GET / HTTP/1.1\r\n"));

    // Without a host and without a pod IP there is nothing to probe.
    let probe = http_probe(IntOrString::Int(i32::from(port)), "/", 10);
    let r = run_probe(&StubRuntime::new(), &probe, &container(port), no_ip).await;
    assert!(failure(&r).contains("no IP"), "{r:?}");
}

#[tokio::test]
async fn bad_input_fails_without_panicking() {
    let port = closed_port().await;
    let with_scheme = |scheme: &str| {
        let mut p = http_probe(IntOrString::Int(i32::from(port)), "/", 10);
        if let Some(h) = &mut p.http_get {
            h.scheme = scheme.into();
        }
        p
    };
    let cases: Vec<(&str, Probe, &str)> = vec![
        ("no handler", Probe::default(), "no handler"),
        (
            "https",
            with_scheme("HTTPS"),
            "https probes are not supported",
        ),
        (
            "odd scheme",
            with_scheme("gopher"),
            "unsupported probe scheme",
        ),
        (
            "unknown port name",
            http_probe(IntOrString::String("nope".into()), "/", 10),
            "not a port of the container",
        ),
        (
            "port out of range",
            http_probe(IntOrString::Int(70000), "/", 10),
            "invalid port number",
        ),
        (
            "path with a line break",
            http_probe(IntOrString::Int(i32::from(port)), "/x\r\nEvil: 1", 10),
            "invalid HTTP probe path",
        ),
        (
            "closed port",
            http_probe(IntOrString::Int(i32::from(port)), "/", 10),
            "dial tcp",
        ),
        (
            "tcp to a closed port",
            Probe {
                tcp_socket: Some(TcpSocketAction {
                    port: IntOrString::Int(i32::from(port)),
                    host: String::new(),
                }),
                ..Probe::default()
            },
            "dial tcp",
        ),
        (
            "empty exec command",
            Probe {
                exec: Some(ExecAction { command: vec![] }),
                ..Probe::default()
            },
            "empty command",
        ),
    ];
    for (name, probe, want) in cases {
        let r = run_probe(&StubRuntime::new(), &probe, &container(port), target()).await;
        assert!(failure(&r).contains(want), "{name}: {r:?}");
    }
}

#[tokio::test]
async fn tcp_connect_succeeds_on_a_listener() {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let probe = Probe {
        tcp_socket: Some(TcpSocketAction {
            port: IntOrString::String("http".into()),
            host: String::new(),
        }),
        timeout_seconds: 10,
        ..Probe::default()
    };
    let r = run_probe(&StubRuntime::new(), &probe, &container(port), target()).await;
    assert_eq!(r, ProbeResult::Success);
}

/// A server that accepts and reads but never answers: the probe ends at its timeout.
#[tokio::test(start_paused = true)]
async fn http_server_that_never_answers_times_out() {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let probe = http_probe(IntOrString::Int(i32::from(port)), "/", 3);
    let start = tokio::time::Instant::now();
    let r = run_probe(&StubRuntime::new(), &probe, &container(port), target()).await;
    assert!(failure(&r).contains("timed out after 3s"), "{r:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn exec_exit_code_decides() {
    let argv = vec!["cat".to_string(), "/tmp/healthy".to_string()];
    let probe = Probe {
        exec: Some(ExecAction {
            command: argv.clone(),
        }),
        timeout_seconds: 4,
        ..Probe::default()
    };
    let c = container(80);
    let rt = StubRuntime::new();
    assert_eq!(
        run_probe(&rt, &probe, &c, target()).await,
        ProbeResult::Success
    );
    let calls = rt.exec_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].id.as_str(), &calls[0].argv, calls[0].timeout),
        ("c1", &argv, Duration::from_secs(4))
    );

    rt.set_exec(Ok(ExecResult {
        exit_code: 1,
        output: b"cat: can't open '/tmp/healthy'\n".to_vec(),
    }));
    let r = run_probe(&rt, &probe, &c, target()).await;
    let m = failure(&r);
    assert!(
        m.contains("exited with 1") && m.contains("can't open"),
        "{m}"
    );

    rt.set_exec(Err(RuntimeError::NotFound("container c1".into())));
    let r = run_probe(&rt, &probe, &c, target()).await;
    assert!(failure(&r).contains("not found: container c1"), "{r:?}");

    let hanging = StubRuntime::with_hanging_exec();
    let start = tokio::time::Instant::now();
    let r = run_probe(&hanging, &probe, &c, target()).await;
    assert!(failure(&r).contains("timed out"), "{r:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}
