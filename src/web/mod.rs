//! The HTTP surface: one axum [`Router`] for every endpoint, wrapped in the
//! Host check, plus the small pieces every handler shares.

pub mod avatar;
pub mod control;
pub mod fastlogin;
pub mod faults;
pub mod guard;
pub mod journal;
pub mod openplatform;
pub mod server;
pub mod tls;
pub mod webwx;

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
        .merge(webwx::routes())
        .route("/avatar/{id}/{size}", get(avatar::serve))
        .route("/", get(index))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(emu.clone(), faults::inject))
        .layer(from_fn(guard::check_host))
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
        Ok(Err(e)) => Err(BodyError::Broken(e.to_string())),
    }
}
