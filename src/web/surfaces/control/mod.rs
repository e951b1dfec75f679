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
//! cannot read an answer either. The front runs that guard
//! ([`crate::web::front::guard::admit_control`]) before any control route.

mod decisions;
mod events;
mod h5;
mod qr;
pub(crate) mod runtime;
mod settings;
mod webwx;

// The bodies and queries the control API parses, for clients (`wxemu ctl`)
// to build instead of spelling JSON by hand. Also parsed here:
// `scenario::DecisionBatch` (POST /decisions) and `faults::FaultSpec`
// (POST /faults).
pub use decisions::{PolicyChange, Resolution};
pub use qr::{ListQuery, Scan};
pub use runtime::{Advance, JournalQuery};
// The interception CA's trust as `GET /intercept` reports it (the desktop
// dashboard shows the same).
pub use settings::ClientChange;

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::web::registry::Binding;
use crate::web::transport::body::{read_body, BodyError};
use wxemu_core::{Emulator, UpdateError};

/// Where every control route lives.
pub use crate::web::registry::CONTROL_PREFIX as PREFIX;
/// The token file inside the data directory.
pub const TOKEN_FILE: &str = "control-token";
/// Written by a running server: how `wxemu ctl` finds its port.
pub const SERVE_INFO_FILE: &str = "serve.json";

/// The control API's handlers, bound to their registry routes.
pub(crate) fn routes() -> Vec<Binding> {
    use crate::web::registry as r;
    vec![
        (&r::HEALTH, get(runtime::health)),
        (
            &r::H5_OUTCOMES,
            get(h5::outcomes)
                .post(h5::add_outcome)
                .delete(h5::clear_outcomes),
        ),
        (&r::H5_PAGES, get(h5::pages)),
        (
            &r::CLIENT,
            get(settings::client).patch(settings::set_client),
        ),
        (
            &r::ACCOUNTS,
            get(settings::accounts).post(settings::add_account),
        ),
        (
            &r::ACCOUNT,
            get(settings::account)
                .patch(settings::change_account)
                .put(settings::change_account)
                .delete(settings::remove_account),
        ),
        (&r::APPS, get(settings::apps).post(settings::add_app)),
        (
            &r::APP,
            get(settings::app)
                .patch(settings::change_app)
                .put(settings::change_app)
                .delete(settings::remove_app),
        ),
        (
            &r::DECISIONS,
            get(decisions::list)
                .post(decisions::enqueue)
                .delete(decisions::clear),
        ),
        (
            &r::POLICY,
            get(decisions::policy).put(decisions::set_policy),
        ),
        (&r::AUTHORIZATIONS, get(decisions::pending)),
        (&r::AUTHORIZATION, post(decisions::resolve)),
        (
            &r::FAULTS,
            get(runtime::faults)
                .post(runtime::add_fault)
                .delete(runtime::clear_faults),
        ),
        (&r::FAULT, delete(runtime::remove_fault)),
        (&r::CLOCK, get(runtime::clock)),
        (&r::CLOCK_ADVANCE, post(runtime::advance_clock)),
        (&r::CLOCK_FREEZE, post(runtime::freeze_clock)),
        (&r::CLOCK_UNFREEZE, post(runtime::unfreeze_clock)),
        (
            &r::JOURNAL,
            get(runtime::journal).delete(runtime::clear_journal),
        ),
        (&r::JOURNAL_WAIT, get(runtime::wait_journal)),
        (&r::QR_LIST, get(qr::list)),
        (&r::QR_SCAN, post(qr::scan)),
        (&r::QR_CONFIRM, post(qr::confirm)),
        (&r::QR_CANCEL, post(qr::cancel)),
        (&r::QR_EXPIRE, post(qr::expire)),
        (&r::RESET, post(runtime::reset)),
        (&r::EVENTS, get(events::stream)),
        (&r::INTERCEPT, get(runtime::intercept)),
        (&r::WEBWX_SESSIONS, get(webwx::sessions)),
        (
            &r::WEBWX_SESSION,
            get(webwx::session).delete(webwx::end_session),
        ),
        (&r::WEBWX_MESSAGES, get(webwx::messages).post(webwx::inject)),
        (&r::CONTROL_UNKNOWN, any(not_found)),
    ]
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no control endpoint at {}; see docs/control-api.md",
            uri.path()
        ),
    )
}

/// A method the control route at `path` does not take.
pub(crate) fn method_not_allowed(method: &Method, path: &str) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {path}"),
    )
    .into_response()
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
    let bytes = read_body(body, emu.limits()).await?;
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad(format!("request body is not JSON: {e}")))?
    };
    from_value(value)
}

pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> ApiResult<T> {
    wxemu_core::from_value(value).map_err(ApiError::bad)
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
    let token = wxemu_core::random_token(43);
    wxemu_core::write_atomic(&path, format!("{token}\n").as_bytes(), 0o600)?;
    Ok(token)
}

/// What `wxemu ctl` reads of a running server's `<data dir>/serve.json`
/// (written whole by [`crate::web::transport::ready::Ready`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServeInfo {
    pub port: u16,
    pub pid: u32,
    pub version: String,
}

pub fn serve_info_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SERVE_INFO_FILE)
}
