//! The front: the one pass every request makes before (and after) its
//! handler, in one place instead of a stack of middleware.
//!
//! 1. The Host check picks the host family (or refuses: DNS rebinding);
//!    the host comes from exactly one source (`guard::request_host`).
//! 2. The family's routes (from [`registry`]) match the path: the route
//!    decides everything below, and rides on the request as [`Matched`].
//! 3. The journal starts its record (even refused requests are recorded),
//!    and the body is read (bounded) before anything may answer
//!    (`read_ahead` in `web/mod.rs`).
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

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

use wxemu_core::emulator::{Emulator, CANONICAL_HOST};
use wxemu_core::endpoint::Endpoint;

use crate::web::control;
use crate::web::fastlogin;
use crate::web::faults::{self, AppliedFault};
use crate::web::guard::{self, BrowserGate};
use crate::web::journal::Pending;
use crate::web::openplatform::{page, token};
use crate::web::registry::{self, Access, HostFamily, Matched, Matcher, Route, Wire};
use crate::web::routes::family_routers;
use wxemu_core::limits::MAX_QUERY_BYTES;

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
    /// [`faults::DropConnection`] must not be sent: the server drops the
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
        let mut req = crate::web::body::read_ahead(req, emu.limits()).await;
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
                if let Some(refusal) = control::admit(emu, req.headers(), token_needed) {
                    return refusal;
                }
                None
            }
        };
        let response = if !route.takes(req.method()) {
            method_not_allowed(route, req.method(), req.uri().path())
        } else {
            req.extensions_mut().insert(Matched(route));
            let router = &inner.routers[family.index()];
            let query_len = req.uri().query().map_or(0, str::len);
            if query_len > MAX_QUERY_BYTES {
                return with_cors(query_too_long(route, query_len), cors);
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

/// A query string over [`MAX_QUERY_BYTES`]: 414, as a front-end proxy
/// answers a URL it will not pass on, with the body in the route's own
/// error format (so a client reads the error it knows).
fn query_too_long(route: &Route, len: usize) -> Response {
    let message =
        format!("the query string is {len} bytes; at most {MAX_QUERY_BYTES} are accepted");
    let mut response = match route.wire {
        Wire::FastLogin { apiname } => fastlogin::error_reply(
            StatusCode::URI_TOO_LONG,
            apiname,
            fastlogin::errcode::BAD_REQUEST,
            message,
        ),
        Wire::LoginPage => page::error_page("请求参数错误", &message),
        Wire::Control => control::ApiError::new(StatusCode::URI_TOO_LONG, message).into_response(),
        Wire::Webwx => crate::web::webwx::wire::bad_request(&message),
        // The Open Platform's "invalid args".
        Wire::OpenApi | Wire::Plain => token::api_error(INVALID_ARGS, &message),
        Wire::CgiApi => crate::web::h5::cgi::cgi_error(INVALID_ARGS, &message),
        // Formats with no message: their generic error code.
        Wire::LongPoll => page::poll_reply(500, "", false),
        Wire::WebwxLogin => crate::web::webwx::wire::js("window.code=400;".into()),
        Wire::Synccheck => {
            crate::web::webwx::wire::js("window.synccheck={retcode:\"1102\",selector:\"0\"}".into())
        }
    };
    *response.status_mut() = StatusCode::URI_TOO_LONG;
    response
}

/// The Open Platform API's errcode for malformed arguments.
const INVALID_ARGS: i64 = 40097;

async fn handle(router: &Router, req: Request<Body>) -> Response {
    match router.clone().oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A method `route` does not take, in the route's format.
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
