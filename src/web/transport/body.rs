//! Request bodies: read whole within the size and time limits, read ahead
//! by the front, and bodies sent in static chunks.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use http_body_util::BodyExt;

use wxemu_core::Limits;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request body was not received within {0:?}")]
    Timeout(Duration),
    #[error("request body could not be read: {0}")]
    Broken(String),
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::Broken(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a whole request body within the size and time [`Limits`].
pub async fn read_body(body: Body, limits: &Limits) -> Result<Bytes, BodyError> {
    let gathering = gather(http_body_util::Limited::new(body, limits.max_body_bytes));
    let mut gathering = std::pin::pin!(gathering);
    // A body already in memory (the front reads every body ahead) is whole
    // on the first poll: no timer is armed for it.
    let first = std::future::poll_fn(|cx| Poll::Ready(gathering.as_mut().poll(cx))).await;
    let collected = match first {
        Poll::Ready(collected) => collected,
        Poll::Pending => match tokio::time::timeout(limits.body_read_timeout, gathering).await {
            Err(_) => return Err(BodyError::Timeout(limits.body_read_timeout)),
            Ok(collected) => collected,
        },
    };
    match collected {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge {
            limit: limits.max_body_bytes,
        }),
        Err(e) => Err(match e.downcast::<PreReadFailed>() {
            // The front already met the error: hand it on as it was.
            Ok(failed) => failed.0,
            Err(other) => match other.downcast::<axum::Error>() {
                Ok(e) => match e.into_inner().downcast::<PreReadFailed>() {
                    Ok(failed) => failed.0,
                    Err(other) => BodyError::Broken(other.to_string()),
                },
                Err(other) => BodyError::Broken(other.to_string()),
            },
        }),
    }
}

/// All of `body`'s data. A body of one frame (every body the front read
/// ahead) is handed on as it is: no list of chunks, no copy.
async fn gather<B: http_body::Body<Data = Bytes>>(body: B) -> Result<Bytes, B::Error> {
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        // Trailers carry no data.
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        match &first {
            None => first = Some(data),
            Some(first) => {
                if joined.is_empty() {
                    joined.extend_from_slice(first);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(first) if joined.is_empty() => first,
        _ => joined.into(),
    })
}

/// Reads a request's body (bounded by [`Limits`]) before anything may
/// answer it. An early answer (a foreign Host or Origin, an injected fault,
/// a refused control call) sent while the client is still sending its body
/// makes HTTP/2 reset the stream, and clients such as curl then report a
/// framing error instead of the reply. A body whose Content-Length is over
/// the limit is not waited for: whoever reads the body meets "too large"
/// at once and answers 413 in its own wire format, as for any body error.
pub(crate) async fn read_ahead(
    req: axum::http::Request<Body>,
    limits: &Limits,
) -> axum::http::Request<Body> {
    if http_body::Body::is_end_stream(req.body()) {
        return req;
    }
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let result = if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        Err(BodyError::TooLarge {
            limit: limits.max_body_bytes,
        })
    } else {
        read_body(body, limits).await
    };
    let body = match result {
        Ok(bytes) => Body::from(bytes),
        Err(e) => Body::new(FailedBody(Some(PreReadFailed(e)))),
    };
    axum::http::Request::from_parts(parts, body)
}

/// A body sent as these chunks, with an exact Content-Length; static parts
/// stay where they are in the binary instead of being copied per request.
pub fn chunks(parts: Vec<Bytes>) -> Body {
    Body::new(Chunks(parts.into()))
}

struct Chunks(std::collections::VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

/// The error [`read_ahead`] met, carried to whoever reads the body.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PreReadFailed(BodyError);

/// A body that fails with the pre-read error on first poll.
struct FailedBody(Option<PreReadFailed>);

impl http_body::Body for FailedBody {
    type Data = Bytes;
    type Error = PreReadFailed;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, PreReadFailed>>> {
        std::task::Poll::Ready(self.0.take().map(Err))
    }
}

#[cfg(test)]
mod tests {
    /// A body in several frames (with empty ones and trailers) is joined
    /// in order; one frame is handed on as it is.
    #[tokio::test]
    async fn bodies_are_gathered_whole() {
        use axum::body::Bytes;
        use http_body::Frame;

        struct Frames(std::collections::VecDeque<Frame<Bytes>>);
        impl http_body::Body for Frames {
            type Data = Bytes;
            type Error = std::convert::Infallible;
            fn poll_frame(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
                std::task::Poll::Ready(self.0.pop_front().map(Ok))
            }
        }
        async fn gathered(frames: Vec<Frame<Bytes>>) -> Bytes {
            super::gather(Frames(frames.into())).await.unwrap()
        }
        let data = |s: &'static str| Frame::data(Bytes::from_static(s.as_bytes()));
        let one = Bytes::from_static(b"whole");
        let got = gathered(vec![Frame::data(one.clone())]).await;
        assert_eq!(got.as_ptr(), one.as_ptr(), "one frame is not copied");
        assert_eq!(gathered(vec![]).await, "");
        assert_eq!(
            gathered(vec![data(""), data("ab"), data(""), data("cd")]).await,
            "abcd"
        );
        assert_eq!(
            gathered(vec![
                data("ab"),
                data("c"),
                Frame::trailers(Default::default())
            ])
            .await,
            "abc"
        );
    }
}
