//! The control API for QA: `/__wxemu/...` on wxemu's own server
//! (docs/control-api.md, docs/control-api.yaml).
//!
//! Test suites and CI drive the fake person through it: queue decisions,
//! scan QR codes, inject faults, move the clock, read the journal. Because
//! it can approve logins, it is guarded twice: every call (but `health`)
//! needs the bearer token from `<data dir>/control-token`, and any request
//! a browser marks as coming from another site (an `Origin` that is not
//! wxemu's own, or `Sec-Fetch-Site: cross-site`) is refused before the
//! token is even looked at. No CORS headers are ever sent, so a web page
//! cannot read an answer either.

mod decisions;
mod qr;
mod runtime;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::web::guard::parse_origin;
use crate::web::{read_body, BodyError};
use wxemu_core::emulator::{Emulator, UpdateError};

/// Where every control route lives.
pub const PREFIX: &str = "/__wxemu";
/// The token file inside the data directory.
pub const TOKEN_FILE: &str = "control-token";
/// Written by a running server: how `wxemu ctl` finds its port.
pub const SERVE_INFO_FILE: &str = "serve.json";

/// Every control route as (method, path below [`PREFIX`]): what
/// docs/control-api.yaml must document (a test checks both ways). Keep it
/// in step with [`router`].
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/client"),
    ("PATCH", "/client"),
    ("GET", "/accounts"),
    ("POST", "/accounts"),
    ("GET", "/accounts/{id}"),
    ("PATCH", "/accounts/{id}"),
    ("PUT", "/accounts/{id}"),
    ("DELETE", "/accounts/{id}"),
    ("GET", "/apps"),
    ("POST", "/apps"),
    ("GET", "/apps/{appid}"),
    ("PATCH", "/apps/{appid}"),
    ("PUT", "/apps/{appid}"),
    ("DELETE", "/apps/{appid}"),
    ("GET", "/decisions"),
    ("POST", "/decisions"),
    ("DELETE", "/decisions"),
    ("GET", "/policy"),
    ("PUT", "/policy"),
    ("GET", "/authorizations"),
    ("POST", "/authorizations/{id}"),
    ("GET", "/qr"),
    ("POST", "/qr/{uuid}/scan"),
    ("POST", "/qr/{uuid}/confirm"),
    ("POST", "/qr/{uuid}/cancel"),
    ("POST", "/qr/{uuid}/expire"),
    ("GET", "/faults"),
    ("POST", "/faults"),
    ("DELETE", "/faults"),
    ("DELETE", "/faults/{id}"),
    ("GET", "/clock"),
    ("POST", "/clock/advance"),
    ("POST", "/clock/freeze"),
    ("POST", "/clock/unfreeze"),
    ("GET", "/journal"),
    ("DELETE", "/journal"),
    ("GET", "/journal/wait"),
    ("POST", "/reset"),
];

/// The control routes, to be merged into the main router.
pub fn router(emu: Arc<Emulator>) -> Router<Arc<Emulator>> {
    let api = Router::new()
        .route("/health", get(runtime::health))
        .route("/client", get(settings::client).patch(settings::set_client))
        .route(
            "/accounts",
            get(settings::accounts).post(settings::add_account),
        )
        .route(
            "/accounts/{id}",
            get(settings::account)
                .patch(settings::change_account)
                .put(settings::change_account)
                .delete(settings::remove_account),
        )
        .route("/apps", get(settings::apps).post(settings::add_app))
        .route(
            "/apps/{appid}",
            get(settings::app)
                .patch(settings::change_app)
                .put(settings::change_app)
                .delete(settings::remove_app),
        )
        .route(
            "/decisions",
            get(decisions::list)
                .post(decisions::enqueue)
                .delete(decisions::clear),
        )
        .route("/policy", get(decisions::policy).put(decisions::set_policy))
        .route("/authorizations", get(decisions::pending))
        .route("/authorizations/{id}", post(decisions::resolve))
        .route(
            "/faults",
            get(runtime::faults)
                .post(runtime::add_fault)
                .delete(runtime::clear_faults),
        )
        .route("/faults/{id}", delete(runtime::remove_fault))
        .route("/clock", get(runtime::clock))
        .route("/clock/advance", post(runtime::advance_clock))
        .route("/clock/freeze", post(runtime::freeze_clock))
        .route("/clock/unfreeze", post(runtime::unfreeze_clock))
        .route(
            "/journal",
            get(runtime::journal).delete(runtime::clear_journal),
        )
        .route("/journal/wait", get(runtime::wait_journal))
        .route("/qr", get(qr::list))
        .route("/qr/{uuid}/scan", post(qr::scan))
        .route("/qr/{uuid}/confirm", post(qr::confirm))
        .route("/qr/{uuid}/cancel", post(qr::cancel))
        .route("/qr/{uuid}/expire", post(qr::expire))
        .route("/reset", post(runtime::reset))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(emu, guard));
    Router::new().nest(PREFIX, api)
}

// ---- the guard --------------------------------------------------------

async fn guard(State(emu): State<Arc<Emulator>>, req: Request, next: Next) -> Response {
    if let Some(refusal) = cross_site(&emu, &req) {
        tracing::warn!(
            path = req.uri().path(),
            "refused a cross-site control request: {refusal}"
        );
        return ApiError::new(StatusCode::FORBIDDEN, refusal).into_response();
    }
    // Readiness probes may call health without the token; it tells nothing.
    if full_path(&req).trim_start_matches(PREFIX) == "/health" {
        return next.run(req).await;
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let expected = emu.control_token().as_bytes();
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected)) => next.run(req).await,
        presented => {
            let message = if presented.is_some() {
                "wrong control token"
            } else {
                "the control API needs `Authorization: Bearer <token>`; `wxemu ctl token` prints it"
            };
            let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wxemu control\""),
            );
            response
        }
    }
}

/// Why a request looks like a web page calling across sites, if it does.
fn cross_site(emu: &Emulator, req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        if matches!(site.as_bytes(), b"cross-site" | b"same-site") {
            return Some("a web page on another site may not use the control API".into());
        }
    }
    let origin = headers.get(header::ORIGIN)?;
    let own = origin
        .to_str()
        .ok()
        .and_then(parse_origin)
        .is_some_and(|o| emu.own_origins().contains(&o));
    (!own).then(|| {
        format!(
            "origin {} may not use the control API",
            String::from_utf8_lossy(origin.as_bytes())
        )
    })
}

/// The path as the client sent it (`nest` strips the prefix from the URI).
fn full_path(req: &Request) -> String {
    req.extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned())
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no control endpoint at {}; see docs/control-api.md",
            full_path(&req)
        ),
    )
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed on {}", req.method(), full_path(&req)),
    )
}

// ---- errors and bodies ------------------------------------------------

/// `{"error": "..."}` with a status that says whose fault it is.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> ApiError {
        ApiError::new(e.status(), e.to_string())
    }
}

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> ApiError {
        match e {
            UpdateError::NotFound(m) => ApiError::not_found(m),
            UpdateError::Conflict(m) => ApiError::conflict(m),
            UpdateError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            UpdateError::Save(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

/// Reads a JSON body into `T`; an empty body counts as `{}`. Errors name
/// the offending field.
pub async fn json_body<T: DeserializeOwned>(emu: &Emulator, body: Body) -> ApiResult<T> {
    let bytes = read_body(body, &emu.limits).await?;
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad(format!("request body is not JSON: {e}")))?
    };
    from_value(value)
}

pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        ApiError::bad(if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        })
    })
}

/// Parses a query string into `T`, with a clear error.
pub fn query<T: DeserializeOwned>(raw: Option<&str>) -> ApiResult<T> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::bad(format!("bad query string: {e}")))
}

pub fn ok<T: Serialize>(value: T) -> ApiResult {
    Ok(Json(value).into_response())
}

// ---- files in the data directory --------------------------------------

pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// The control token, created (random, 0600, atomically) on first use.
pub fn ensure_token(data_dir: &Path) -> std::io::Result<String> {
    let path = token_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = wxemu_core::store::random_token(43);
    wxemu_core::fsutil::write_atomic(&path, format!("{token}\n").as_bytes(), 0o600)?;
    Ok(token)
}

/// What a running server tells `wxemu ctl` (`<data dir>/serve.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServeInfo {
    pub port: u16,
    pub pid: u32,
    pub version: String,
}

pub fn serve_info_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SERVE_INFO_FILE)
}

pub fn write_serve_info(data_dir: &Path, port: u16) -> std::io::Result<()> {
    let info = ServeInfo {
        port,
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let text = serde_json::to_vec_pretty(&info).map_err(std::io::Error::other)?;
    wxemu_core::fsutil::write_atomic(&serve_info_path(data_dir), &text, 0o644)
}

/// Removes `serve.json` if it is still this process's (another server may
/// have started on the same data directory since).
pub fn remove_serve_info(data_dir: &Path, port: u16) {
    let path = serve_info_path(data_dir);
    let ours = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<ServeInfo>(&b).ok())
        .is_some_and(|i| i.pid == std::process::id() && i.port == port);
    if ours {
        let _ = std::fs::remove_file(path);
    }
}
