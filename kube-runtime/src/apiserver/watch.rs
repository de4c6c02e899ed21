//! Watch responses: newline-delimited JSON events over a chunked response.
//!
//! With `allowWatchBookmarks=true`, a `BOOKMARK` event carrying only the kind, apiVersion and a
//! `resourceVersion` comes every `bookmark_interval`: the registry watch's progress, a revision
//! no older than any event sent, with nothing between the last event sent and it left out (it
//! counts the changes the selectors filtered out too), so a client may resume from it. None is
//! sent while the initial events of a list-then-watch are still going out.
//!
//! With `sendInitialEvents=true` (client-go's watch-list, what a current kubectl's
//! `delete --wait` and informers send), the current objects go out as `ADDED` events, then one
//! `BOOKMARK` annotated `k8s.io/initial-events-end: "true"` marks their end.

use super::body::ApiBody;
use super::router::Version;
use super::ApiServer;
use crate::registry::{RegistryWatch, WatchEvent};
use bytes::Bytes;
use hyper::header::CONTENT_TYPE;
use hyper::{Response, StatusCode};
use kube_core::error::ApiError;
use kube_core::store::Revision;
use kube_core::strategy::Strategy;
use kube_core::v1beta1::V1Beta1;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Chunks buffered per watch before the sender waits for the client.
const WATCH_BUFFER: usize = 256;

/// Encodes one event line (`{"type":…,"object":…}\n`) in the route's version.
pub fn encode_event<T: Strategy + V1Beta1>(version: Version, ev: &WatchEvent<T>) -> Bytes {
    let object = match version {
        Version::V1 => serde_json::to_value(&ev.object).unwrap_or_default(),
        Version::V1Beta1 => ev.object.to_v1beta1(),
    };
    line(json!({"type": ev.type_.as_str(), "object": object}))
}

/// Encodes an `ERROR` event carrying a Status.
pub fn encode_error(version: Version, e: &ApiError) -> Bytes {
    let status = e.to_status();
    let object = match version {
        Version::V1 => serde_json::to_value(&status).unwrap_or_default(),
        Version::V1Beta1 => status.to_v1beta1(),
    };
    line(json!({"type": "ERROR", "object": object}))
}

/// Encodes a `BOOKMARK` event: an object of the kind with only `resourceVersion` set.
pub fn encode_bookmark<T: Strategy>(revision: Revision) -> Bytes {
    let info = T::RESOURCE.info();
    line(json!({"type": "BOOKMARK", "object": {
        "kind": info.kind,
        "apiVersion": info.api_version,
        "metadata": {"resourceVersion": revision.to_string()},
    }}))
}

/// The annotation of the `BOOKMARK` that ends the initial events of a watch-list.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// Encodes the `BOOKMARK` ending the initial events (`sendInitialEvents=true`).
pub fn encode_initial_events_end<T: Strategy>(revision: Revision) -> Bytes {
    let info = T::RESOURCE.info();
    line(json!({"type": "BOOKMARK", "object": {
        "kind": info.kind,
        "apiVersion": info.api_version,
        "metadata": {
            "resourceVersion": revision.to_string(),
            "annotations": {INITIAL_EVENTS_END: "true"},
        },
    }}))
}

fn line(v: serde_json::Value) -> Bytes {
    let mut buf = serde_json::to_vec(&v).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

/// Starts streaming `watch` to the client until it disconnects, the watch ends, `timeout`
/// passes or the server stops; with `bookmarks`, a `BOOKMARK` every `bookmark_interval`; with
/// `initial_events_end`, the annotated `BOOKMARK` once the initial events are out.
pub fn stream<T: Strategy + V1Beta1>(
    srv: Arc<ApiServer>,
    mut watch: RegistryWatch<T>,
    version: Version,
    timeout: Duration,
    bookmarks: bool,
    initial_events_end: bool,
) -> Response<ApiBody> {
    let (tx, rx) = mpsc::channel::<Bytes>(WATCH_BUFFER);
    tokio::spawn(async move {
        srv.metrics.watchers_add(1);
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let every = srv.config.bookmark_interval.max(Duration::from_millis(1));
        let mut ticker = bookmarks.then(|| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        let mut stopping = srv.stopping.subscribe();
        let stopped = async move { drop(stopping.wait_for(|s| *s).await) };
        tokio::pin!(stopped);
        let mut end_pending = initial_events_end;
        loop {
            if end_pending {
                if let Some(rev) = watch.progress() {
                    end_pending = false;
                    if tx.send(encode_initial_events_end::<T>(rev)).await.is_err() {
                        break;
                    }
                }
            }
            tokio::select! {
                _ = &mut deadline => break,
                // The server is stopping: end the stream cleanly; the client re-watches.
                _ = &mut stopped => break,
                _ = tx.closed() => break,
                _ = async {
                    match ticker.as_mut() {
                        Some(t) => drop(t.tick().await),
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(rev) = watch.progress() {
                        if tx.send(encode_bookmark::<T>(rev)).await.is_err() {
                            break;
                        }
                    }
                }
                ev = watch.next() => match ev {
                    None => break,
                    Some(Ok(ev)) => {
                        if tx.send(encode_event(version, &ev)).await.is_err() {
                            break;
                        }
                    }
                    Some(Err(e)) => {
                        let _ = tx.send(encode_error(version, &e)).await;
                        break;
                    }
                },
            }
        }
        srv.metrics.watchers_add(-1);
    });
    let mut resp = Response::new(ApiBody::Stream(rx));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}
