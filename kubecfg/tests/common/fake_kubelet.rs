//! A stand-in kubelet for the log tests: a plain thread answering `/containerLogs/...` with a
//! fixed log, or (for `follow=true`) a chunked stream fed line by line by the test.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// The fixed log of non-followed requests.
pub const LOG: &str = "hello\nworld\n";

/// A fake kubelet on a loopback port; its thread ends with the test process.
pub struct FakeKubelet {
    /// The bound port.
    pub port: u16,
    /// Request lines received (`GET /containerLogs/... HTTP/1.1`).
    pub requests: Arc<Mutex<Vec<String>>>,
    /// Lines to write to the followed stream; dropping it ends that stream.
    pub feed: Option<Sender<String>>,
}

impl FakeKubelet {
    pub fn start() -> FakeKubelet {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake kubelet");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel::<String>();
        let feed = Arc::new(Mutex::new(rx));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let seen = seen.clone();
                let feed = feed.clone();
                std::thread::spawn(move || serve(conn, &seen, &feed));
            }
        });
        FakeKubelet {
            port,
            requests,
            feed: Some(tx),
        }
    }
}

fn serve(conn: TcpStream, seen: &Mutex<Vec<String>>, feed: &Mutex<Receiver<String>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip the headers.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let request_line = request_line.trim_end().to_string();
    let follow = request_line.contains("follow=true");
    seen.lock().expect("lock").push(request_line);
    let mut out = conn;
    if !follow {
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{LOG}",
            LOG.len()
        );
        return;
    }
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunk = |out: &mut TcpStream, s: &str| {
        write!(out, "{:x}\r\n{s}\r\n", s.len()).and_then(|()| out.flush())
    };
    if chunk(&mut out, "first\n").is_err() {
        return;
    }
    let rx = feed.lock().expect("lock");
    while let Ok(line) = rx.recv() {
        if chunk(&mut out, &line).is_err() {
            return;
        }
    }
    let _ = write!(out, "0\r\n\r\n");
}
