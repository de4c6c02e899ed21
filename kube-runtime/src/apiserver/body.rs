//! Response body: a complete buffer, or a stream of chunks (watch).

use bytes::Bytes;
use futures_core::Stream;
use hyper::body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The body of every API server response.
pub enum ApiBody {
    /// A complete body, taken on first poll.
    Full(Option<Bytes>),
    /// Chunks sent by a background task; the body ends when the sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
}

/// Chunks buffered between a streamed source and a slow client.
const STREAM_BUFFER: usize = 16;

impl ApiBody {
    /// A complete body.
    pub fn full(b: impl Into<Bytes>) -> ApiBody {
        ApiBody::Full(Some(b.into()))
    }

    /// A body fed from `source` as its chunks arrive (logs). A background task forwards the
    /// chunks and ends, dropping `source` (and so any upstream request), when the source
    /// ends or fails or the client goes away.
    pub fn from_stream<S, T, E>(source: S) -> ApiBody
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Bytes> + Send,
        E: std::fmt::Display + Send,
    {
        let (tx, rx) = mpsc::channel::<Bytes>(STREAM_BUFFER);
        tokio::spawn(async move {
            let mut source = std::pin::pin!(source);
            loop {
                let next = tokio::select! {
                    _ = tx.closed() => break,
                    next = std::future::poll_fn(|cx| source.as_mut().poll_next(cx)) => next,
                };
                match next {
                    Some(Ok(chunk)) => {
                        let chunk: Bytes = chunk.into();
                        if !chunk.is_empty() && tx.send(chunk).await.is_err() {
                            break;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!("streamed body ended early: {e}");
                        break;
                    }
                    None => break,
                }
            }
        });
        ApiBody::Stream(rx)
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut *self {
            ApiBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ApiBody::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ApiBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ApiBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ApiBody::Full(None) => SizeHint::with_exact(0),
            ApiBody::Stream(_) => SizeHint::default(),
        }
    }
}
