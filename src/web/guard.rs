//! Who may talk to wxemu: the Host check against DNS rebinding, and the
//! Origin check plus CORS for the browser-facing fast-login API.
//!
//! A web page on another site must never be able to log itself in, so the
//! Origin of every browser request to the fast-login API is checked, not
//! only its preflight: a "simple" cross-site POST skips the preflight.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::fastlogin::{self, errcode};
use wxemu_core::emulator::{Emulator, OUR_HOSTS};

/// The only origin the real login page is served from.
pub const WECHAT_ORIGIN: &str = "https://open.weixin.qq.com";

/// Refuses requests whose Host (or HTTP/2 :authority) is not one of ours:
/// anything else is a DNS-rebinding attempt (a foreign name that resolves to
/// 127.0.0.1) or a misconfigured client. The host comes from exactly one
/// source ([`request_host`]): an ambiguous request is refused, not guessed.
pub async fn check_host(req: Request, next: Next) -> Response {
    match request_host(&req) {
        Ok(host) if is_our_host(host) => next.run(req).await,
        Ok(host) => refuse_foreign(host),
        Err(HostError::Missing) => plain(StatusCode::BAD_REQUEST, "missing Host header\n".into()),
        Err(HostError::Duplicate) => plain(
            StatusCode::BAD_REQUEST,
            "more than one Host header (RFC 9112 section 3.2)\n".into(),
        ),
        Err(HostError::Disagree { authority, host }) => {
            tracing::warn!(
                authority = %crate::web::shorten(authority, LOGGED_HOST_MAX),
                host = %crate::web::shorten(host, LOGGED_HOST_MAX),
                "refused a request whose target and Host header disagree"
            );
            plain(
                StatusCode::FORBIDDEN,
                format!(
                    "the request target names {:?} but the Host header says {:?}; wxemu answers only for {}\n",
                    crate::web::shorten(authority, LOGGED_HOST_MAX),
                    crate::web::shorten(host, LOGGED_HOST_MAX),
                    OUR_HOSTS.join(", ")
                ),
            )
        }
    }
}

/// How much of a refused Host or Origin goes into a log line or a reply.
const LOGGED_HOST_MAX: usize = 100;

fn refuse_foreign(host: &str) -> Response {
    let shown = crate::web::shorten(host, LOGGED_HOST_MAX);
    tracing::warn!(
        host = %shown,
        "refused a request for a foreign Host (DNS rebinding?)"
    );
    plain(
        StatusCode::FORBIDDEN,
        format!(
            "wxemu answers only for {}; this request was for {shown:?}\n",
            OUR_HOSTS.join(", ")
        ),
    )
}

#[derive(Debug, PartialEq, Eq)]
pub enum HostError<'a> {
    Missing,
    /// Two or more Host headers.
    Duplicate,
    /// The target's authority and the Host header name different hosts.
    Disagree {
        authority: &'a str,
        host: &'a str,
    },
}

/// The one host a request is for: the target's authority (HTTP/2
/// `:authority`, an HTTP/1.1 absolute-form target) wins, and a Host header
/// next to it must name the same host; otherwise the Host header, of which
/// there must be exactly one. A Host that is not text counts as foreign.
pub fn request_host<B>(req: &axum::http::Request<B>) -> Result<&str, HostError<'_>> {
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let host = hosts.next().map(|h| h.to_str().unwrap_or("<not text>"));
    if hosts.next().is_some() {
        return Err(HostError::Duplicate);
    }
    match (req.uri().authority().map(|a| a.as_str()), host) {
        (Some(authority), Some(host)) if !same_host(authority, host) => {
            Err(HostError::Disagree { authority, host })
        }
        (Some(authority), _) => Ok(authority),
        (None, Some(host)) => Ok(host),
        (None, None) => Err(HostError::Missing),
    }
}

/// Host names compare case-insensitively and a trailing dot is the same name.
fn same_host(a: &str, b: &str) -> bool {
    fn normal(h: &str) -> String {
        let (name, port) = match h.rsplit_once(':') {
            Some((name, port)) if !port.contains(']') => (name, Some(port)),
            _ => (h, None),
        };
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        match port {
            Some(port) => format!("{name}:{port}"),
            None => name,
        }
    }
    normal(a) == normal(b)
}

fn is_our_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        // "[::1]:14013", "localhost:14013"; a bare "[::1]" has a ':' inside
        // the brackets, so only split off a port that follows them.
        Some((name, port)) if !port.contains(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    OUR_HOSTS.iter().any(|ours| ours.eq_ignore_ascii_case(name))
}

/// Normalizes an Origin ("https://Example.com:443" -> "https://example.com").
/// None for anything that is not scheme://host[:port].
pub fn parse_origin(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin).ok()?;
    let clean = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    let serialized = url.origin().ascii_serialization();
    (clean && url.has_host() && !origin.ends_with('/')).then_some(serialized)
}

/// Origins allowed to call the fast-login API: the real login page, wxemu's
/// own pages, and the config's extras.
pub fn origin_allowed(emu: &Emulator, origin: &str) -> bool {
    // Browsers send origins already normalized: try the exact strings first.
    if origin == WECHAT_ORIGIN || emu.own_origins().iter().any(|o| o == origin) {
        return true;
    }
    let Some(origin) = parse_origin(origin) else {
        return false; // includes "null" (sandboxed frames, file://)
    };
    if origin == WECHAT_ORIGIN || emu.own_origins().contains(&origin) {
        return true;
    }
    emu.config()
        .server
        .allowed_origins
        .iter()
        .any(|extra| parse_origin(extra).as_deref() == Some(origin.as_str()))
}

/// Origin check and CORS for the fast-login endpoints. Requests without an
/// Origin (curl, SDKs, test scripts) are not from a browser page and pass.
pub async fn fast_login_cors(
    State(emu): State<Arc<Emulator>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        if req.method() == Method::OPTIONS {
            return StatusCode::NO_CONTENT.into_response();
        }
        return next.run(req).await;
    };
    // Longer than any real origin: refused before it is parsed or stored.
    let allowed = origin.len() <= wxemu_core::limits::MAX_ORIGIN_BYTES
        && origin.to_str().is_ok_and(|o| origin_allowed(&emu, o));
    if !allowed {
        let whole = String::from_utf8_lossy(origin.as_bytes());
        let shown = crate::web::shorten(&whole, LOGGED_HOST_MAX).into_owned();
        tracing::warn!(
            origin = %shown,
            path = req.uri().path(),
            "refused a browser request from a foreign Origin; add it to [server] allowed_origins to allow it"
        );
        let apiname = fastlogin::reply_apiname(req.uri().path());
        return fastlogin::error_reply(
            StatusCode::FORBIDDEN,
            apiname,
            errcode::ORIGIN_NOT_ALLOWED,
            format!("origin {shown} is not allowed to use fast login; allowed: {WECHAT_ORIGIN}, wxemu's own origin, and [server] allowed_origins"),
        );
    }
    if req.method() == Method::OPTIONS {
        return preflight(req.headers(), origin);
    }
    let mut response = next.run(req).await;
    allow_origin(response.headers_mut(), origin);
    response
}

fn preflight(request: &HeaderMap, origin: HeaderValue) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    allow_origin(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type"),
    );
    // Chromium's Private Network Access preflight (before Local Network
    // Access replaced it) asks before a public page may call loopback.
    let asks_private_network = request
        .get("access-control-request-private-network")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if asks_private_network {
        headers.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    response
}

fn allow_origin(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in [
            "localhost.weixin.qq.com:14013",
            "LOCALHOST.weixin.qq.com",
            "localhost.weixin.qq.com.:14013",
            "localhost:1",
            "127.0.0.1:14013",
            "[::1]:14013",
            "[::1]",
        ] {
            assert!(is_our_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:14013",
            "localhost.weixin.qq.com.evil.example",
            "127.0.0.2:14013",
            "",
            "[::2]:14013",
        ] {
            assert!(!is_our_host(bad), "{bad}");
        }
    }

    #[test]
    fn origins_are_normalized() {
        assert_eq!(
            parse_origin("https://Open.Weixin.QQ.com:443").as_deref(),
            Some(WECHAT_ORIGIN)
        );
        assert_eq!(
            parse_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        for bad in [
            "null",
            "example.com",
            "https://a.com/path",
            "https://a.com/",
            "",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}
