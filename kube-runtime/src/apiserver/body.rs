//! Response body: a complete buffer, buffers sent one after another (large lists), or a
//! stream of chunks (watch).

use bytes::Bytes;
use futures_core::Stream;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The body of every API server response.
pub enum ApiBody {
    /// A complete body, taken on first poll.
    Full(Option<Bytes>),
    /// A complete body in parts (no one buffer as large as the body), and its length.
    Parts(VecDeque<Bytes>, u64),
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

    /// A complete body given in parts, sent in order.
    pub fn parts(parts: Vec<Bytes>) -> ApiBody {
        let len = parts.iter().map(|p| p.len() as u64).sum();
        ApiBody::Parts(parts.into_iter().filter(|p| !p.is_empty()).collect(), len)
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
            ApiBody::Parts(parts, left) => Poll::Ready(parts.pop_front().map(|b| {
                *left -= b.len() as u64;
                Ok(Frame::data(b))
            })),
            ApiBody::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ApiBody::Full(b) => b.is_none(),
            ApiBody::Parts(parts, _) => parts.is_empty(),
            ApiBody::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ApiBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ApiBody::Full(None) => SizeHint::with_exact(0),
            ApiBody::Parts(_, left) => SizeHint::with_exact(*left),
            ApiBody::Stream(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_body_in_parts_is_their_concatenation_with_its_exact_length() {
        let cases: [&[&str]; 4] = [&[], &["{}"], &["{\"items\":[", "", "1,2", "]}"], &["", ""]];
        for parts in cases {
            let body = ApiBody::parts(parts.iter().map(|p| Bytes::from(*p)).collect());
            let want = parts.concat();
            assert_eq!(body.size_hint().exact(), Some(want.len() as u64));
            assert_eq!(body.is_end_stream(), want.is_empty(), "{parts:?}");
            let got = body.collect().await.unwrap().to_bytes();
            assert_eq!(got, want.as_bytes(), "{parts:?}");
        }
    }
}
