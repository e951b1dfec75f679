//! Fault injection: make the fake client misbehave on purpose.
//!
//! A [`wxemu_core::faults::FaultSpec`] names an endpoint ([`Endpoint`]) and what goes wrong
//! there: added latency, an errcode in that endpoint's own wire format, a
//! bare HTTP status, or a dropped connection; for the next request, the next
//! N, or until cleared. [`inject`] is an axum middleware keyed on the path,
//! so the handlers know nothing about it. For the fast-login endpoints it
//! runs inside their CORS layer (a browser must be able to read the faulty
//! reply); everything else gets it from the outer router.
//!
//! A dropped connection is a response carrying [`DropConnection`]; the
//! server's service turns it into a service error, on which hyper closes
//! the connection (HTTP/1.1) or resets the stream (HTTP/2) without a reply.

use std::sync::Arc;

use axum::Extension;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use wxemu_core::emulator::Emulator;
use wxemu_core::endpoint::Endpoint;

use crate::web::fastlogin;
use crate::web::journal::ReplyErrcode;

/// Marks a response whose connection must be dropped instead of answered.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Marks a response shaped by a fault; the journal records it.
#[derive(Debug, Clone)]
pub struct AppliedFault(pub String);

/// The error the server's service returns for a [`DropConnection`].
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
pub struct DroppedByFault;

/// Fault injection for every endpoint but the fast-login ones (which
/// get [`inject_fast_login`], inside their CORS layer).
pub async fn inject(State(emu): State<Arc<Emulator>>, req: Request, next: Next) -> Response {
    match Endpoint::of(req.uri().path()) {
        Endpoint::CheckLogin | Endpoint::Authorize => next.run(req).await,
        endpoint => apply(&emu, endpoint, req, next).await,
    }
}

/// Fault injection for check-login and authorize.
pub async fn inject_fast_login(
    State(emu): State<Arc<Emulator>>,
    req: Request,
    next: Next,
) -> Response {
    let endpoint = Endpoint::of(req.uri().path());
    apply(&emu, endpoint, req, next).await
}

async fn apply(emu: &Emulator, endpoint: Endpoint, req: Request, next: Next) -> Response {
    // A preflight is the browser's, not the page's request: faulting it
    // would only turn every fault into a CORS error.
    if req.method() == Method::OPTIONS || !endpoint.accepts_faults() {
        return next.run(req).await;
    }
    let Some(fault) = emu.faults.take(endpoint) else {
        return next.run(req).await;
    };
    if let Some(latency) = fault.latency {
        tokio::time::sleep(latency).await;
    }
    let mut response = if fault.drop {
        let mut r = ().into_response();
        r.extensions_mut().insert(DropConnection);
        r
    } else if let Some(code) = fault.errcode {
        errcode_reply(endpoint, req.uri().path(), req.uri().query(), code)
    } else if let Some(status) = fault.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("wxemu: injected HTTP {}\n", status.as_u16()),
        )
            .into_response()
    } else {
        next.run(req).await
    };
    response
        .extensions_mut()
        .insert(AppliedFault(fault.describe()));
    response
}

/// An errcode as `endpoint` itself would send it.
fn errcode_reply(endpoint: Endpoint, path: &str, query: Option<&str>, code: i64) -> Response {
    let errmsg = format!("wxemu injected errcode {code}");
    match endpoint {
        Endpoint::CheckLogin | Endpoint::Authorize => fastlogin::error_reply(
            StatusCode::OK,
            fastlogin::reply_apiname(path),
            i32::try_from(code).unwrap_or(i32::MAX),
            errmsg,
        ),
        Endpoint::LongPoll => {
            let json_wanted = query.is_some_and(|q| q.split('&').any(|p| p == "f=json"));
            let errcode = Extension(ReplyErrcode(Some(code)));
            if json_wanted {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    errcode,
                    json!({"wx_errcode": code, "wx_code": ""}).to_string(),
                )
                    .into_response()
            } else {
                (
                    [(header::CONTENT_TYPE, "application/javascript")],
                    errcode,
                    format!("window.wx_errcode={code};window.wx_code='';"),
                )
                    .into_response()
            }
        }
        // The token API's format (HTTP 200, application/json), also used
        // where the real service has no errcode format of its own.
        _ => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            Extension(ReplyErrcode(Some(code))),
            json!({"errcode": code, "errmsg": errmsg}).to_string(),
        )
            .into_response(),
    }
}
