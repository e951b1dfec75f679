//! How the front writes an error in a route's wire format: the one place
//! that matches on [`Wire`], so the front ([`crate::web::front`]), fault
//! injection ([`crate::web::front::faults`]) and the guards (Origin,
//! control token: [`crate::web::front::guard`]) each make one call and
//! import no surface.
//!
//! Each arm calls the encoder the surface's own handlers answer errors
//! with, so what the front writes is byte for byte the surface's own error
//! but for its message (tests/fault_wire.rs compares them). The [`Wire`]
//! itself is declared with the routes, in the registry: the surfaces sit
//! below this module and above the registry.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::web::marks::ReplyErrcode;
use crate::web::registry::{Access, Route, Wire};
use crate::web::surfaces::fastlogin::{self, errcode};
use crate::web::surfaces::openplatform::{page, token};
use crate::web::surfaces::{control, h5, webwx};
use wxemu_core::MAX_QUERY_BYTES;

/// Why the front answers a request instead of the route's handler.
pub(crate) enum Refusal<'a> {
    /// A query string of `len` bytes, over [`MAX_QUERY_BYTES`] (414).
    QueryTooLong { len: usize },
    /// A method the route does not take (405).
    MethodNotAllowed { method: &'a Method, path: &'a str },
    /// A browser request from an Origin that may not call the route (403);
    /// `detail` says which and what is allowed.
    ForeignOrigin { detail: String },
    /// The control API's guard: a cross-site caller (403) or no valid
    /// bearer token (401).
    Control { status: StatusCode, message: String },
}

/// The front's refusal of a request for `route`, in the route's format.
pub(crate) fn refusal(route: &Route, why: Refusal<'_>) -> Response {
    match why {
        Refusal::QueryTooLong { len } => query_too_long(route.wire, len),
        Refusal::MethodNotAllowed { method, path } => method_not_allowed(route, method, path),
        Refusal::ForeignOrigin { detail } => {
            // Only fast login's browser routes have a format for it; the
            // consent page's calls answer in fast login's too.
            let apiname = match route.wire {
                Wire::FastLogin { apiname } => apiname,
                _ => fastlogin::CHECK_LOGIN_API,
            };
            fastlogin::error_reply(
                StatusCode::FORBIDDEN,
                apiname,
                errcode::ORIGIN_NOT_ALLOWED,
                detail,
            )
        }
        Refusal::Control { status, message } => {
            control::ApiError::new(status, message).into_response()
        }
    }
}

/// The message an injected errcode carries where its format has one.
pub fn injected_errmsg(code: i64) -> String {
    format!("wxemu injected errcode {code}")
}

/// An injected errcode `code` as a route of `wire` sends it (`query`: the
/// request's, for the long poll's `f=json`).
pub(crate) fn errcode_reply(wire: Wire, query: Option<&str>, code: i64) -> Response {
    match wire {
        Wire::FastLogin { apiname } => fastlogin::error_reply(
            StatusCode::OK,
            apiname,
            i32::try_from(code).unwrap_or(i32::MAX),
            injected_errmsg(code),
        ),
        Wire::LongPoll => {
            let json_wanted = query.is_some_and(|q| q.split('&').any(|p| p == "f=json"));
            page::poll_reply(code, "", json_wanted)
        }
        Wire::LoginPage => {
            let mut page = page::error_page(
                &injected_errmsg(code),
                "a fault injected through the control API",
            );
            page.extensions_mut().insert(ReplyErrcode(Some(code)));
            page
        }
        Wire::WebwxLogin => webwx::wire::js(format!("window.code={code};")),
        Wire::Webwx => webwx::wire::error_reply(code, &injected_errmsg(code)),
        Wire::Synccheck => webwx::wire::js(format!(
            "window.synccheck={{retcode:\"{code}\",selector:\"0\"}}"
        )),
        // The Open Platform API's format, also used where the real service
        // has no errcode format of its own (the QR image; the control API
        // and plain routes take no faults).
        Wire::OpenApi | Wire::Control | Wire::Plain => {
            token::api_error(code, &injected_errmsg(code))
        }
        Wire::CgiApi => h5::cgi::cgi_error(code, &injected_errmsg(code)),
    }
}

/// A query string over [`MAX_QUERY_BYTES`]: 414, as a front-end proxy
/// answers a URL it will not pass on, with the body in the route's own
/// error format (so a client reads the error it knows).
fn query_too_long(wire: Wire, len: usize) -> Response {
    let message =
        format!("the query string is {len} bytes; at most {MAX_QUERY_BYTES} are accepted");
    let mut response = match wire {
        Wire::FastLogin { apiname } => fastlogin::error_reply(
            StatusCode::URI_TOO_LONG,
            apiname,
            errcode::BAD_REQUEST,
            message,
        ),
        Wire::LoginPage => page::error_page("请求参数错误", &message),
        Wire::Control => control::ApiError::new(StatusCode::URI_TOO_LONG, message).into_response(),
        Wire::Webwx => webwx::wire::bad_request(&message),
        // The Open Platform's "invalid args".
        Wire::OpenApi | Wire::Plain => token::api_error(INVALID_ARGS, &message),
        Wire::CgiApi => h5::cgi::cgi_error(INVALID_ARGS, &message),
        // Formats with no message: their generic error code.
        Wire::LongPoll => page::poll_reply(500, "", false),
        Wire::WebwxLogin => webwx::wire::js("window.code=400;".into()),
        Wire::Synccheck => {
            webwx::wire::js("window.synccheck={retcode:\"1102\",selector:\"0\"}".into())
        }
    };
    *response.status_mut() = StatusCode::URI_TOO_LONG;
    response
}

/// The Open Platform API's errcode for malformed arguments.
const INVALID_ARGS: i64 = 40097;

/// A method `route` does not take: the control API's JSON error there,
/// plain text with `Allow` everywhere else.
fn method_not_allowed(route: &Route, method: &Method, path: &str) -> Response {
    if route.wire == Wire::Control {
        return control::method_not_allowed(method, path);
    }
    let allow = HeaderValue::from_str(&route.allow()).unwrap_or(HeaderValue::from_static(""));
    let text = match route.access {
        // Browser routes take one method; say which.
        Access::Browser => format!(
            "{method} is not allowed here; use {}\n",
            route.methods.first().map_or("POST", Method::as_str)
        ),
        _ => format!("{method} is not allowed on {path}\n"),
    };
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::ALLOW, allow),
        ],
        text,
    )
        .into_response()
}
