//! The HTTP surface: one axum [`Router`] for every endpoint, wrapped in the
//! Host check, plus the small pieces every handler shares.

pub mod avatar;
pub mod connections;
pub mod control;
pub mod fastlogin;
pub mod faults;
pub mod guard;
pub mod journal;
pub mod openplatform;
pub mod server;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use http_body_util::BodyExt;

use wxemu_core::emulator::Emulator;
use wxemu_core::Limits;

/// Every route. Layers, outermost first: the journal (so it sees even
/// refused requests), the Host check, fault injection (fast-login routes
/// get theirs inside their CORS layer, so a browser can read a faulty
/// reply), then the handlers.
pub fn router(emu: Arc<Emulator>) -> Router {
    let fast_login = Router::new()
        .route("/api/check-login", browser_post(fastlogin::check_login))
        .route("/api/authorize", browser_post(fastlogin::authorize))
        .layer(from_fn_with_state(emu.clone(), faults::inject_fast_login))
        .layer(from_fn_with_state(emu.clone(), guard::fast_login_cors));
    Router::new()
        .merge(fast_login)
        .merge(control::router(emu.clone()))
        .merge(openplatform::routes())
        .route("/avatar/{id}/{size}", get(avatar::serve))
        .route("/", get(index))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(emu.clone(), faults::inject))
        .layer(from_fn(guard::check_host))
        .layer(from_fn_with_state(emu.clone(), buffer_body))
        .layer(from_fn_with_state(emu.clone(), journal::record))
        .with_state(emu)
}

/// Path prefix of the Open Platform token API (`/sns/oauth2/access_token`,
/// `/sns/userinfo`, ...), the only thing the plain-HTTP listener serves.
pub const TOKEN_API_PREFIX: &str = "/sns/";

/// The router of the plain-HTTP listener (`--http-api-port`): the same routes,
/// but everything outside [`TOKEN_API_PREFIX`] is a 404, so no browser-facing
/// endpoint (fast login, login pages) is ever reachable without TLS.
pub fn token_api_router(emu: Arc<Emulator>) -> Router {
    router(emu).layer(from_fn(only_token_api))
}

async fn only_token_api(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.uri().path().starts_with(TOKEN_API_PREFIX) {
        return next.run(req).await;
    }
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "wxemu's plain-HTTP listener serves only the token API ({TOKEN_API_PREFIX}...); {} is served over HTTPS on localhost.weixin.qq.com\n",
            req.uri().path()
        ),
    )
        .into_response()
}

/// A POST endpoint called from browser pages (OPTIONS is answered by the
/// CORS layer); other methods get a 405 that says what to use.
fn browser_post<H, T>(handler: H) -> MethodRouter<Arc<Emulator>>
where
    H: axum::handler::Handler<T, Arc<Emulator>>,
    T: 'static,
{
    post(handler).fallback(|method: Method| async move {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST, OPTIONS")],
            format!("{method} is not allowed here; use POST\n"),
        )
    })
}

async fn index(
    axum::extract::State(emu): axum::extract::State<Arc<Emulator>>,
) -> impl IntoResponse {
    format!(
        "wxemu {} is running: a fake WeChat desktop client on port {}.\n",
        env!("CARGO_PKG_VERSION"),
        emu.port()
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{method} is not allowed on {}\n", uri.path()),
    )
}

async fn not_found(uri: Uri) -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("wxemu has nothing at {}\n", uri.path()),
    )
}

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
    let limited = http_body_util::Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.body_read_timeout, limited.collect()).await {
        Err(_) => Err(BodyError::Timeout(limits.body_read_timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge {
            limit: limits.max_body_bytes,
        }),
        Ok(Err(e)) => Err(match e.downcast::<axum::Error>() {
            Ok(e) => match e.into_inner().downcast::<PreReadFailed>() {
                // buffer_body already met the error: hand it on as it was.
                Ok(failed) => failed.0,
                Err(other) => BodyError::Broken(other.to_string()),
            },
            Err(other) => BodyError::Broken(other.to_string()),
        }),
    }
}

/// Reads every request body (bounded by [`Limits`]) before any layer may
/// answer. An early answer (a foreign Host or Origin, an injected fault, a
/// refused control call) sent while the client is still sending its body
/// makes HTTP/2 reset the stream, and clients such as curl then report a
/// framing error instead of the reply. A body whose Content-Length is over
/// the limit is not waited for: the handler sees "too large" at once and
/// answers 413 in its own wire format, as it does for any body error.
pub async fn buffer_body(
    axum::extract::State(emu): axum::extract::State<Arc<Emulator>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let query_len = req.uri().query().map_or(0, str::len);
    if query_len > wxemu_core::limits::MAX_QUERY_BYTES {
        // As a front-end proxy answers a URL it will not pass on.
        return (
            StatusCode::URI_TOO_LONG,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "the query string is {query_len} bytes; at most {} are accepted\n",
                wxemu_core::limits::MAX_QUERY_BYTES
            ),
        )
            .into_response();
    }
    let (parts, body) = req.into_parts();
    if http_body::Body::is_end_stream(&body) {
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    let limits = emu.limits;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = declared.is_some_and(|n| n > limits.max_body_bytes as u64);
    let result = if too_large {
        Err(BodyError::TooLarge {
            limit: limits.max_body_bytes,
        })
    } else {
        read_body(body, &limits).await
    };
    let body = match result {
        Ok(bytes) => Body::from(bytes),
        Err(e) => Body::new(FailedBody(Some(PreReadFailed(e)))),
    };
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The error [`buffer_body`] met, carried to whoever reads the body.
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

/// `text` cut to at most `max` bytes (on a character boundary) with a marker
/// saying how long it was: for log lines and replies that quote untrusted
/// input (a 100 KB Origin must not become a 100 KB log line).
pub fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}…[truncated, {} bytes in all]",
        &text[..end],
        text.len()
    ))
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
