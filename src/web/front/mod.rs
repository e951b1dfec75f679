//! The front: the one pass every request makes before (and after) its
//! handler, in one place instead of a stack of middleware.
//!
//! 1. The Host check picks the host family (or refuses: DNS rebinding);
//!    the host comes from exactly one source (`guard::request_host`).
//! 2. The family's routes (from [`registry`]) match the path: the route
//!    decides everything below, and rides on the request as [`Matched`].
//! 3. The journal starts its record (even refused requests are recorded),
//!    and the body is read (bounded) before anything may answer
//!    (`read_ahead` in `web/transport/body.rs`).
//! 4. The route's [`Access`]: Origin check and CORS for browser routes,
//!    cross-site check and bearer token for the control API.
//! 5. A method the route does not take gets a 405 in the route's format.
//! 6. A query string over [`MAX_QUERY_BYTES`] gets a 414 in the route's
//!    own error format. Then fault injection, keyed on the route's
//!    endpoint, may answer instead of the handler, through the route's own
//!    error encoder.
//! 7. The handler, through the family's axum router (path parameters).
//!
//! Everything is decided from the matched route; nothing re-parses the
//! path, and no per-layer future is boxed.

pub mod faults;
pub mod guard;
pub mod journal;
pub(crate) mod routes;
pub(crate) mod wire;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use tower::ServiceExt;

use wxemu_core::Endpoint;
use wxemu_core::{Emulator, CANONICAL_HOST};

use crate::web::front::journal::Pending;
use crate::web::front::routes::family_routers;
use crate::web::registry::{self, Access, HostFamily, Matched, Matcher, Route};
use faults::AppliedFault;
use guard::BrowserGate;
use wire::Refusal;
use wxemu_core::MAX_QUERY_BYTES;

/// Which listener a front serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The HTTPS listener: every route.
    Tls,
    /// The plain-HTTP listener (`--http-api-port`): only routes marked
    /// [`Route::plain_http`] (the token API); everything else is a 404
    /// that says where to go, so no browser-facing endpoint is ever
    /// reachable without TLS.
    PlainApi,
    /// Intercepted connections (the proxy, hosts mode): only the real WeChat
    /// host families ([`HostFamily::intercepted`]), never wxemu's own names.
    Intercepted,
}

/// Every request's way in (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Front(Arc<Inner>);

struct Inner {
    emu: Arc<Emulator>,
    matcher: Matcher,
    /// Indexed by [`HostFamily::index`].
    routers: Vec<Router>,
    listener: Listener,
}

impl Front {
    pub fn new(emu: Arc<Emulator>, listener: Listener) -> Front {
        Front(Arc::new(Inner {
            routers: family_routers(emu.clone()),
            matcher: Matcher::new(),
            emu,
            listener,
        }))
    }

    /// Answers one request. A reply carrying
    /// `faults::DropConnection` must not be sent: the server drops the
    /// connection instead.
    pub async fn serve<B>(&self, req: Request<B>) -> Response
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let inner = &*self.0;
        let family = guard::host_family(req.headers(), req.uri());
        let route = match &family {
            Ok(family) => inner.matcher.at(*family, req.uri().path()),
            Err(_) => None,
        };
        let endpoint = route.map_or(Endpoint::Other, |r| r.endpoint);
        match Pending::start(&inner.emu, endpoint, &req) {
            None => self.answer(family, route, req.map(Body::new)).await,
            Some(mut pending) => {
                let req = req.map(|body| pending.record(body));
                let response = self.answer(family, route, req).await;
                pending.finish(&inner.emu, response).await
            }
        }
    }

    async fn answer(
        &self,
        family: Result<HostFamily, Box<Response>>,
        route: Option<&'static Route>,
        req: Request<Body>,
    ) -> Response {
        let inner = &*self.0;
        let emu = &*inner.emu;
        // Before anything may answer: see read_ahead.
        let mut req = crate::web::transport::body::read_ahead(req, emu.limits()).await;
        let family = match family {
            Ok(family) => family,
            Err(refusal) => return *refusal,
        };
        // The real WeChat names are answered on intercepted connections only,
        // and wxemu's own names (control API, fast login) never there.
        if family.intercepted() != (inner.listener == Listener::Intercepted) {
            return guard::plain(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this connection does not serve {:?}\n",
                    family.names().first().copied().unwrap_or_default()
                ),
            );
        }
        let plain_listener = inner.listener == Listener::PlainApi;
        let route = match route {
            Some(route) if route.plain_http || !plain_listener => route,
            _ if plain_listener => return only_token_api(req.uri().path()),
            _ if family.intercepted() => {
                return not_found_as(
                    family.names().first().copied().unwrap_or_default(),
                    req.uri().path(),
                )
            }
            _ => return not_found(req.uri().path()),
        };
        let cors = match route.access {
            Access::Open => None,
            Access::Browser => match guard::browser_gate(emu, route, req.method(), req.headers()) {
                BrowserGate::Answer(response) => return response,
                BrowserGate::Pass(origin) => origin,
            },
            Access::AnyPage => {
                if req.method() == Method::OPTIONS {
                    return guard::any_page_preflight(route);
                }
                Some(HeaderValue::from_static("*"))
            }
            Access::Control | Access::ControlProbe => {
                let token_needed = route.access == Access::Control;
                if let Some(refusal) = guard::admit_control(emu, route, req.headers(), token_needed)
                {
                    return refusal;
                }
                None
            }
        };
        let response = if !route.takes(req.method()) {
            wire::refusal(
                route,
                Refusal::MethodNotAllowed {
                    method: req.method(),
                    path: req.uri().path(),
                },
            )
        } else {
            req.extensions_mut().insert(Matched(route));
            let router = &inner.routers[family.index()];
            let query_len = req.uri().query().map_or(0, str::len);
            if query_len > MAX_QUERY_BYTES {
                let too_long = Refusal::QueryTooLong { len: query_len };
                return with_cors(wire::refusal(route, too_long), cors);
            }
            match faults::take(emu, route, req.method()) {
                None => handle(router, req).await,
                Some(fault) => {
                    if let Some(latency) = fault.latency {
                        tokio::time::sleep(latency).await;
                    }
                    let mut response = match faults::reply(&fault, route, req.uri().query()) {
                        Some(response) => response,
                        None => handle(router, req).await,
                    };
                    response
                        .extensions_mut()
                        .insert(AppliedFault(fault.describe()));
                    response
                }
            }
        };
        with_cors(response, cors)
    }
}

fn with_cors(mut response: Response, cors: Option<HeaderValue>) -> Response {
    if let Some(origin) = cors {
        guard::allow_origin(response.headers_mut(), origin);
    }
    response
}

async fn handle(router: &Router, req: Request<Body>) -> Response {
    match router.clone().oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A path an intercepted host does not serve: that host's 404.
fn not_found_as(host: &str, path: &str) -> Response {
    guard::plain(
        StatusCode::NOT_FOUND,
        format!("404 Not Found: wxemu, as {host}, serves nothing at {path}\n"),
    )
}

fn not_found(path: &str) -> Response {
    guard::plain(
        StatusCode::NOT_FOUND,
        format!("wxemu has nothing at {path}\n"),
    )
}

/// The plain-HTTP listener's answer outside the token API.
fn only_token_api(path: &str) -> Response {
    let served: Vec<&str> = registry::ALL
        .iter()
        .filter(|r| r.plain_http)
        .map(|r| r.path)
        .collect();
    guard::plain(
        StatusCode::NOT_FOUND,
        format!(
            "wxemu's plain-HTTP listener serves only the token API ({}); {path} is served over HTTPS on {CANONICAL_HOST}\n",
            served.join(", ")
        ),
    )
}
