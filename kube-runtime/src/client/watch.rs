//! [`ClientWatch`]: a typed watch stream from either client.

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use kube_core::error::ApiError;
use kube_core::store::Revision;
use kube_core::watch::{WatchEvent, WatchEventType};
use kube_core::Object;
use kube_core::Status;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The body of an HTTP watch, boxed so tests can script one.
pub(crate) type WatchBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Longest watch event line accepted from a server (a line is one object; objects are far
/// smaller than this), so a server that never ends a line cannot grow the client without bound.
pub const MAX_WATCH_LINE_BYTES: usize = 16 * 1024 * 1024;

/// A typed watch stream. `BOOKMARK` events are not returned as events: their
/// `resourceVersion` is kept as [`ClientWatch::bookmark`], a revision to resume from.
pub struct ClientWatch<T> {
    inner: Inner<T>,
    bookmark: Option<Revision>,
}

/// The event source of an in-process watch (a registry watch, typed for the caller).
pub(crate) trait InProcessSource<T>: Send {
    /// The next event, as [`ClientWatch::next`].
    #[allow(clippy::type_complexity)]
    fn next(
        &mut self,
    ) -> Pin<Box<dyn Future<Output = Option<Result<WatchEvent<T>, ApiError>>> + Send + '_>>;
}

enum Inner<T> {
    InProcess(Box<dyn InProcessSource<T>>),
    Http {
        body: WatchBody,
        buf: BytesMut,
        /// Longest silence tolerated before the stream is taken as broken.
        idle: Option<Duration>,
    },
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    type_: String,
    object: serde_json::Value,
}

impl<T: Object> ClientWatch<T> {
    /// A stream over an in-process registry watch.
    pub(crate) fn in_process(w: Box<dyn InProcessSource<T>>) -> ClientWatch<T> {
        ClientWatch {
            inner: Inner::InProcess(w),
            bookmark: None,
        }
    }

    /// A stream over a chunked HTTP watch response, with no silence limit.
    pub fn http(body: Incoming) -> ClientWatch<T> {
        ClientWatch::from_body(body.map_err(Into::into).boxed(), None)
    }

    /// A stream over a watch body; silence longer than `idle` ends it with a transport error.
    pub(crate) fn from_body(body: WatchBody, idle: Option<Duration>) -> ClientWatch<T> {
        ClientWatch {
            inner: Inner::Http {
                body,
                buf: BytesMut::new(),
                idle,
            },
            bookmark: None,
        }
    }

    /// The `resourceVersion` of the last `BOOKMARK` received, if any: every change up to it
    /// has been delivered (or did not match), so a new watch may start after it.
    pub fn bookmark(&self) -> Option<Revision> {
        self.bookmark
    }

    /// The next event; `None` when the server ended the stream; an error (410 = relist) ends it too.
    pub async fn next(&mut self) -> Option<Result<WatchEvent<T>, ApiError>> {
        match &mut self.inner {
            Inner::InProcess(w) => w.next().await,
            Inner::Http { body, buf, idle } => loop {
                if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line = buf.split_to(pos + 1);
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match decode_line(&line) {
                        Ok(WatchLine::Bookmark(rev)) => {
                            self.bookmark = Some(self.bookmark.map_or(rev, |b| b.max(rev)));
                            // More lines may be buffered already.
                            continue;
                        }
                        Ok(WatchLine::Event(ev)) => return Some(Ok(ev)),
                        Err(e) => return Some(Err(e)),
                    }
                }
                if buf.len() > MAX_WATCH_LINE_BYTES {
                    buf.clear();
                    return Some(Err(ApiError::Internal(format!(
                        "watch event from the server is longer than {MAX_WATCH_LINE_BYTES} bytes"
                    ))));
                }
                let frame = match idle {
                    Some(d) => match tokio::time::timeout(*d, body.frame()).await {
                        Ok(f) => f,
                        Err(_) => {
                            return Some(Err(ApiError::Transport(format!(
                                "watch stream silent for more than {d:?}"
                            ))))
                        }
                    },
                    None => body.frame().await,
                };
                match frame? {
                    Ok(frame) => {
                        if let Ok(mut data) = frame.into_data() {
                            while data.has_remaining() {
                                let chunk = data.chunk();
                                buf.extend_from_slice(chunk);
                                let n = chunk.len();
                                data.advance(n);
                            }
                        }
                    }
                    Err(e) => {
                        return Some(Err(ApiError::Transport(format!(
                            "watch stream broken: {e}"
                        ))))
                    }
                }
            },
        }
    }
}

/// One decoded watch line: an event, or a bookmark's revision.
#[derive(Debug, PartialEq)]
pub enum WatchLine<T> {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    Event(WatchEvent<T>),
    /// `BOOKMARK`: the server's progress, a revision to resume from.
    Bookmark(Revision),
}

/// Decodes one watch event line (`{"type":…,"object":…}`) from a server; `ERROR` events
/// become the error they carry, and a `BOOKMARK` is an error too (see [`decode_line`]). The
/// object is decoded strictly (see `kube_core::decode`).
pub fn decode_watch_line<T: Object>(line: &[u8]) -> Result<WatchEvent<T>, ApiError> {
    match decode_line(line)? {
        WatchLine::Event(ev) => Ok(ev),
        WatchLine::Bookmark(_) => Err(ApiError::Internal(
            "a watch bookmark where an event was expected".to_string(),
        )),
    }
}

/// Decodes one watch line: an event, a `BOOKMARK` (only its `metadata.resourceVersion` is
/// read), or the error an `ERROR` line carries.
pub fn decode_line<T: Object>(line: &[u8]) -> Result<WatchLine<T>, ApiError> {
    let raw: RawEvent = serde_json::from_slice(line)
        .map_err(|e| ApiError::Internal(format!("invalid watch event from the server: {e}")))?;
    let type_ = match raw.type_.as_str() {
        "ADDED" => WatchEventType::Added,
        "MODIFIED" => WatchEventType::Modified,
        "DELETED" => WatchEventType::Deleted,
        "ERROR" => {
            let st: Status = serde_json::from_value(raw.object).map_err(|e| {
                ApiError::Internal(format!("invalid watch error from the server: {e}"))
            })?;
            return Err(ApiError::from_status(st));
        }
        "BOOKMARK" => {
            let rv = raw.object["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default();
            return rv
                .parse::<Revision>()
                .map(WatchLine::Bookmark)
                .map_err(|_| {
                    ApiError::Internal(format!(
                        "watch bookmark from the server has an invalid resourceVersion {rv:?}"
                    ))
                });
        }
        other => {
            return Err(ApiError::Internal(format!(
                "unknown watch event type {other:?}"
            )))
        }
    };
    let object = kube_core::decode::from_value(&raw.object)
        .map_err(|e| ApiError::Internal(format!("invalid object in watch event: {e}")))?;
    Ok(WatchLine::Event(WatchEvent { type_, object }))
}
