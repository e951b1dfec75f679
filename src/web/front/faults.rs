//! Fault injection: make the fake client misbehave on purpose.
//!
//! A [`wxemu_core::FaultSpec`] names an endpoint ([`wxemu_core::Endpoint`]) and
//! what goes wrong there: added latency, an errcode in that endpoint's own
//! wire format, a bare HTTP status, or a dropped connection; for the next
//! request, the next N, or until cleared. The front
//! ([`crate::web::front`]) asks [`take`] once per request, with the route
//! the request matched, so the handlers know nothing about it; for
//! browser routes it runs inside the CORS handling (a browser must be able
//! to read the faulty reply).
//!
//! An errcode comes out in the route's wire format
//! ([`crate::web::front::wire::errcode_reply`]), through the function the
//! surface's own handlers answer errors with, so an injected error is byte
//! for byte a real one but for its message text.
//!
//! A dropped connection is a response carrying [`DropConnection`]; the
//! server's service turns it into a service error, on which hyper closes
//! the connection (HTTP/1.1) or resets the stream (HTTP/2) without a reply.

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use wxemu_core::Emulator;
use wxemu_core::FaultSpec;

use crate::web::front::wire;
pub(crate) use crate::web::marks::{AppliedFault, DropConnection};
use crate::web::registry::Route;

/// The error the server's service returns for a [`DropConnection`].
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
pub struct DroppedByFault;

/// The fault this request gets, counted as used. A preflight is the
/// browser's, not the page's request: faulting it would only turn every
/// fault into a CORS error. The control API is never faulted.
pub(crate) fn take(emu: &Emulator, route: &Route, method: &Method) -> Option<FaultSpec> {
    if method == Method::OPTIONS || !route.endpoint.accepts_faults() {
        return None;
    }
    emu.take_fault(route.endpoint)
}

/// What `fault` answers instead of the handler; None for a latency-only
/// fault, after which the handler answers.
pub(crate) fn reply(fault: &FaultSpec, route: &Route, query: Option<&str>) -> Option<Response> {
    if fault.drop {
        let mut r = ().into_response();
        r.extensions_mut().insert(DropConnection);
        Some(r)
    } else if let Some(code) = fault.errcode {
        Some(wire::errcode_reply(route.wire, query, code))
    } else {
        fault.status.map(|status| {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("wxemu: injected HTTP {}\n", status.as_u16()),
            )
                .into_response()
        })
    }
}
