//! Timeouts and error kinds of the HTTP client, against raw loopback sockets.

use super::*;
use crate::client::watch::WatchBody;
use hyper::body::{Body, Frame};
use kube_core::Pod;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn client(addr: std::net::SocketAddr, config: HttpClientConfig) -> HttpClient {
    HttpClient::with_config(&format!("http://{addr}"), config).expect("client")
}

/// Serves one connection: reads the request head, answers `response`, closes; returns the head.
async fn answer_once(
    response: &'static str,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        sock.write_all(response.as_bytes()).await.expect("write");
        sock.shutdown().await.expect("shutdown");
        String::from_utf8_lossy(&head).into_owned()
    });
    (addr, task)
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    }; // closed: nothing listens there now
    let c = client(addr, HttpClientConfig::default());
    let err = c
        .list::<Pod>(None, &ListParams::default())
        .await
        .expect_err("nothing listens");
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(err.code(), 503);
    let err = c
        .watch::<Pod>(None, &ListParams::default(), 0)
        .await
        .err()
        .expect("nothing listens");
    assert!(err.is_transport(), "{err:?}");
}

#[tokio::test]
async fn a_servers_503_status_is_not_a_transport_error() {
    const BODY: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"storage is unavailable","reason":"ServiceUnavailable","code":503}"#;
    let response: &'static str = Box::leak(
        format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_boxed_str(),
    );
    let (addr, server) = answer_once(response).await;
    let err = client(addr, HttpClientConfig::default())
        .list::<Pod>(None, &ListParams::default())
        .await
        .expect_err("503");
    server.await.expect("server");
    assert!(!err.is_transport(), "{err:?}");
    assert_eq!(err.code(), 503);
    assert_eq!(err.reason(), "ServiceUnavailable");
    assert_eq!(err.to_string(), "storage is unavailable");
}

#[tokio::test(start_paused = true)]
async fn a_request_without_answer_times_out() {
    // The kernel accepts the connection into the backlog; nobody ever answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = HttpClientConfig {
        connect_timeout: Duration::from_secs(600),
        request_timeout: Duration::from_secs(10),
        ..HttpClientConfig::default()
    };
    let c = client(listener.local_addr().expect("addr"), config);
    let started = tokio::time::Instant::now();
    let err = c.get::<Pod>("default", "p").await.expect_err("no answer");
    assert!(err.is_transport(), "{err:?}");
    assert!(err.to_string().contains("no answer within 10s"), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    let err = c
        .watch::<Pod>(None, &ListParams::default(), 5)
        .await
        .err()
        .expect("no answer");
    assert!(err.to_string().contains("no answer within 10s"), "{err}");
}

#[tokio::test]
async fn watches_ask_the_server_for_a_timeout() {
    let (addr, server) =
        answer_once("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let config = HttpClientConfig {
        watch_timeout: Duration::from_secs(42),
        ..HttpClientConfig::default()
    };
    let mut w = client(addr, config)
        .watch::<Pod>(None, &ListParams::labels("app=web"), 17)
        .await
        .expect("watch");
    assert!(w.next().await.is_none(), "the server ended the stream");
    let head = server.await.expect("server");
    let line = head.lines().next().unwrap_or_default();
    assert_eq!(
        line,
        "GET /api/v1/pods?watch=true&resourceVersion=17&allowWatchBookmarks=true&timeoutSeconds=42&labelSelector=app%3Dweb HTTP/1.1"
    );
}

/// A watch body fed from a channel.
struct ChannelBody(mpsc::UnboundedReceiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

#[tokio::test(start_paused = true)]
async fn a_silent_watch_ends_with_a_transport_error() {
    let (tx, rx) = mpsc::unbounded_channel();
    let body: WatchBody = ChannelBody(rx).boxed();
    let mut w = ClientWatch::<Pod>::from_body(body, Some(Duration::from_secs(30)));
    let line = |name: &str| {
        Bytes::from(format!(
            "{{\"type\":\"ADDED\",\"object\":{{\"metadata\":{{\"name\":\"{name}\"}}}}}}\n"
        ))
    };
    tx.send(line("a")).expect("send");
    assert_eq!(
        w.next()
            .await
            .expect("event")
            .expect("ok")
            .object
            .metadata
            .name,
        "a"
    );
    // Silence shorter than the limit is fine...
    let feeder = {
        let tx = tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(29)).await;
            tx.send(line("b")).expect("send");
        })
    };
    assert_eq!(
        w.next()
            .await
            .expect("event")
            .expect("ok")
            .object
            .metadata
            .name,
        "b"
    );
    feeder.await.expect("feeder");
    // ...longer is a broken watch, though the connection never closed.
    let started = tokio::time::Instant::now();
    let err = w
        .next()
        .await
        .expect("an error, not the end")
        .expect_err("silent");
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    drop(tx);
}

#[test]
fn the_idle_limit_is_the_server_timeout_plus_a_margin() {
    let cases = [
        (Duration::from_secs(290), Duration::from_secs(30), 320),
        (Duration::from_millis(1500), Duration::from_secs(5), 6),
        (Duration::ZERO, Duration::from_secs(2), 3), // at least 1 s is asked of the server
    ];
    for (timeout, margin, want) in cases {
        let config = HttpClientConfig {
            watch_timeout: timeout,
            watch_idle_margin: margin,
            ..HttpClientConfig::default()
        };
        assert_eq!(
            config.watch_idle_limit(),
            Duration::from_secs(want),
            "{timeout:?}"
        );
    }
}

#[tokio::test]
async fn an_error_event_ends_the_watch_with_its_status() {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut w = ClientWatch::<Pod>::from_body(ChannelBody(rx).boxed(), None);
    tx.send(Bytes::from_static(
        b"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"too old resource version\",\"reason\":\"Expired\",\"code\":410}}\n{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12\"}}}\n{\"type\":\"BOOKMARK\",\"object\":{}}\n{\"type\":\"SURPRISE\",\"object\":{}}\n",
    ))
    .expect("send");
    let ev = w.next().await.expect("event").expect("ok");
    assert_eq!(ev.type_, kube_core::watch::WatchEventType::Modified);
    let err = w.next().await.expect("event").expect_err("error event");
    assert!(err.is_gone(), "{err:?}");
    assert_eq!(err.to_string(), "too old resource version");
    // A bookmark is not an event: its revision is kept; one without a revision is an error.
    assert_eq!(w.bookmark(), None);
    let err = w.next().await.expect("event").expect_err("bad bookmark");
    assert!(err.to_string().contains("resourceVersion"), "{err}");
    assert_eq!(w.bookmark(), Some(12));
    let err = w.next().await.expect("event").expect_err("unknown type");
    assert!(err.to_string().contains("SURPRISE"), "{err}");
}
