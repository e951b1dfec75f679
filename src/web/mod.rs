//! The HTTP surface: the front every request passes ([`front`]), routes
//! from one endpoint registry ([`registry`]), one module per wire surface,
//! and the small pieces every handler shares.

pub mod avatar;
pub mod connections;
pub mod control;
pub mod demo;
pub mod fastlogin;
pub mod faults;
pub mod front;
pub mod guard;
pub mod intercept;
pub mod journal;
pub mod marks;
pub mod openplatform;
pub mod proxy;
pub mod registry;
pub mod server;
pub mod tls;
pub mod webwx;

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use http_body_util::BodyExt;

use registry::{HostFamily, Route};
use wxemu_core::emulator::Emulator;
use wxemu_core::Limits;

/// A handler bound to the registry route it serves.
pub(crate) type Binding = (&'static Route, MethodRouter<Arc<Emulator>>);

/// Every handler, bound to its route.
fn bindings() -> Vec<Binding> {
    let mut all: Vec<Binding> = vec![
        (&registry::INDEX, get(index)),
        (&registry::AVATAR, get(avatar::serve)),
        (&registry::CHECK_LOGIN, post(fastlogin::check_login)),
        (&registry::AUTHORIZE, post(fastlogin::authorize)),
    ];
    all.extend(demo::routes());
    all.extend(openplatform::routes());
    all.extend(control::routes());
    all.extend(webwx::routes());
    all
}

/// One axum router per host family (indexed by [`HostFamily::index`]),
/// holding the handlers of that family's routes. The front has already
/// matched the route, checked the method and run every guard; axum only
/// extracts path parameters and calls the handler.
///
/// Panics if a registry route has no handler or two: a programming error
/// every test that starts a server would show (and `every_route_is_bound`
/// names).
pub(crate) fn family_routers(emu: Arc<Emulator>) -> Vec<Router> {
    let mut routers: Vec<Router<Arc<Emulator>>> =
        HostFamily::ALL.iter().map(|_| Router::new()).collect();
    let mut bound: Vec<&'static Route> = Vec::new();
    for (route, handler) in bindings() {
        assert!(
            registry::ALL.iter().any(|r| std::ptr::eq(*r, route)),
            "{} is bound but not in registry::ALL",
            route.path
        );
        assert!(
            !bound.iter().any(|r| std::ptr::eq(*r, route)),
            "{} is bound twice",
            route.path
        );
        bound.push(route);
        for family in route.hosts {
            let router = &mut routers[family.index()];
            *router = std::mem::take(router).route(route.path, handler.clone());
        }
    }
    for route in registry::ALL {
        assert!(
            bound.iter().any(|r| std::ptr::eq(*r, *route)),
            "{} has no handler",
            route.path
        );
    }
    routers
        .into_iter()
        .map(|r| r.with_state(emu.clone()))
        .collect()
}

async fn index(State(emu): State<Arc<Emulator>>) -> impl IntoResponse {
    format!(
        "wxemu {} is running: a fake WeChat desktop client on port {}.\n",
        env!("CARGO_PKG_VERSION"),
        emu.port()
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
        Ok(Err(e)) => Err(match e.downcast::<PreReadFailed>() {
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
    #[test]
    fn every_route_is_bound_once() {
        let emu = std::sync::Arc::new(wxemu_core::emulator::Emulator::new(
            Default::default(),
            "/nonexistent/config.toml".into(),
            0,
            wxemu_core::approval::ApprovalMode::Auto,
        ));
        let routers = super::family_routers(emu);
        assert_eq!(routers.len(), super::HostFamily::ALL.len());
    }
}
