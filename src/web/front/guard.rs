//! Who may talk to wxemu: the Host check against DNS rebinding, the
//! Origin check plus CORS for the browser-facing fast-login API, and the
//! control API's cross-site check and bearer token. The front
//! ([`crate::web::front`]) runs them per request, as the matched route's
//! [`Access`] says.
//!
//! A web page on another site must never be able to log itself in, so the
//! Origin of every browser request to the fast-login API is checked, not
//! only its preflight: a "simple" cross-site POST skips the preflight.

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::web::front::wire::{self, Refusal};
use crate::web::registry::{HostFamily, Route};
use subtle::ConstantTimeEq;
use wxemu_core::{parse_origin, Emulator};

/// The only origin the real login page is served from.
pub const WECHAT_ORIGIN: &str = "https://open.weixin.qq.com";

/// The host family a request is for, by its one host ([`request_host`]);
/// a refusal for anything else: a DNS-rebinding attempt (a foreign name
/// that resolves to 127.0.0.1), an ambiguous request, or a misconfigured
/// client. (The refusal is boxed: it is rare, and keeps the usual result
/// small.)
pub(crate) fn host_family(headers: &HeaderMap, uri: &Uri) -> Result<HostFamily, Box<Response>> {
    let refusal = match request_host(headers, uri) {
        Ok(host) => match HostFamily::of(host) {
            Some(family) => return Ok(family),
            None => {
                let shown = shorten(host, LOGGED_HOST_MAX);
                tracing::warn!(
                    host = %shown,
                    "refused a request for a foreign Host (DNS rebinding?)"
                );
                plain(
                    StatusCode::FORBIDDEN,
                    format!(
                        "wxemu answers only for {}; this request was for {shown:?}\n",
                        HostFamily::all_names().join(", ")
                    ),
                )
            }
        },
        Err(HostError::Missing) => plain(StatusCode::BAD_REQUEST, "missing Host header\n".into()),
        Err(HostError::Duplicate) => plain(
            StatusCode::BAD_REQUEST,
            "more than one Host header (RFC 9112 section 3.2)\n".into(),
        ),
        Err(HostError::Disagree { authority, host }) => {
            let authority = shorten(authority, LOGGED_HOST_MAX);
            let host = shorten(host, LOGGED_HOST_MAX);
            tracing::warn!(
                %authority,
                %host,
                "refused a request whose target and Host header disagree"
            );
            plain(
                StatusCode::FORBIDDEN,
                format!(
                    "the request target names {authority:?} but the Host header says {host:?}; wxemu answers only for {}\n",
                    HostFamily::all_names().join(", ")
                ),
            )
        }
    };
    Err(Box::new(refusal))
}

/// How much of a refused Host or Origin goes into a log line or a reply.
const LOGGED_HOST_MAX: usize = 100;

/// Why a request has no one host.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HostError<'a> {
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
pub(crate) fn request_host<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
) -> Result<&'a str, HostError<'a>> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next().map(|h| h.to_str().unwrap_or("<not text>"));
    if hosts.next().is_some() {
        return Err(HostError::Duplicate);
    }
    match (uri.authority().map(|a| a.as_str()), host) {
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

/// `text` cut to at most `max` bytes (on a character boundary) with a
/// marker saying how long it was: for log lines and replies that quote
/// untrusted input (a 100 KB Origin must not become a 100 KB log line).
pub(crate) fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let end = wxemu_core::floor_char_boundary(text, max);
    std::borrow::Cow::Owned(format!(
        "{}…[truncated, {} bytes in all]",
        &text[..end],
        text.len()
    ))
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

/// The control API's guard, run by the front before any control route
/// (`route`): a refusal for cross-site requests and, unless `token_needed`
/// is false (the health probe), for requests without the bearer token.
pub(crate) fn admit_control(
    emu: &Emulator,
    route: &Route,
    headers: &HeaderMap,
    token_needed: bool,
) -> Option<Response> {
    if let Some(refusal) = cross_site(emu, headers) {
        tracing::warn!("refused a cross-site control request: {refusal}");
        let status = StatusCode::FORBIDDEN;
        return Some(wire::refusal(
            route,
            Refusal::Control {
                status,
                message: refusal,
            },
        ));
    }
    // Readiness probes may call health without the token; it tells nothing.
    if !token_needed {
        return None;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let expected = emu.control_token().as_bytes();
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected)) => None,
        presented => {
            let message = if presented.is_some() {
                "wrong control token"
            } else {
                "the control API needs `Authorization: Bearer <token>`; `wxemu ctl token` prints it"
            };
            let status = StatusCode::UNAUTHORIZED;
            let message = message.to_owned();
            let mut response = wire::refusal(route, Refusal::Control { status, message });
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wxemu control\""),
            );
            Some(response)
        }
    }
}

/// Why a request looks like a web page calling across sites, if it does.
fn cross_site(emu: &Emulator, headers: &HeaderMap) -> Option<String> {
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

/// What the Origin check says about a browser request.
pub(crate) enum BrowserGate {
    /// Answer this instead (a refused Origin, or a preflight).
    Answer(Response),
    /// Go on; put CORS headers for this Origin on the reply, if any.
    Pass(Option<HeaderValue>),
}

/// Origin check and CORS for [`crate::web::registry::Access::Browser`]
/// routes. Requests without an Origin (curl, SDKs, test scripts) are not
/// from a browser page and pass.
pub(crate) fn browser_gate(
    emu: &Emulator,
    route: &Route,
    method: &Method,
    headers: &HeaderMap,
) -> BrowserGate {
    let Some(origin) = headers.get(header::ORIGIN) else {
        if method == Method::OPTIONS {
            return BrowserGate::Answer(StatusCode::NO_CONTENT.into_response());
        }
        return BrowserGate::Pass(None);
    };
    // Longer than any real origin: refused before it is parsed or stored.
    let allowed = origin.len() <= wxemu_core::MAX_ORIGIN_BYTES
        && origin.to_str().is_ok_and(|o| origin_allowed(emu, o));
    if !allowed {
        let whole = String::from_utf8_lossy(origin.as_bytes());
        let shown = shorten(&whole, LOGGED_HOST_MAX).into_owned();
        tracing::warn!(
            origin = %shown,
            path = route.path,
            "refused a browser request from a foreign Origin; add it to [server] allowed_origins to allow it"
        );
        let detail = format!("origin {shown} is not allowed to use fast login; allowed: {WECHAT_ORIGIN}, wxemu's own origin, and [server] allowed_origins");
        return BrowserGate::Answer(wire::refusal(route, Refusal::ForeignOrigin { detail }));
    }
    if method == Method::OPTIONS {
        return BrowserGate::Answer(preflight(route, headers, origin.clone()));
    }
    BrowserGate::Pass(Some(origin.clone()))
}

/// The preflight of an [`crate::web::registry::Access::AnyPage`] route:
/// any origin, its methods, `Content-Type`.
pub(crate) fn any_page_preflight(route: &Route) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_str(&route.allow()).unwrap_or(HeaderValue::from_static("POST")),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type"),
    );
    response
}

fn preflight(route: &Route, request: &HeaderMap, origin: HeaderValue) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    allow_origin(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_str(&route.allow()).unwrap_or(HeaderValue::from_static("OPTIONS")),
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

/// The CORS headers that let the page at `origin` read a reply.
pub(crate) fn allow_origin(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

pub(crate) fn plain(status: StatusCode, body: String) -> Response {
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

    fn request(authority: Option<&str>, hosts: &[&str]) -> (HeaderMap, Uri) {
        let uri: Uri = match authority {
            Some(a) => format!("https://{a}/api/check-login").parse().unwrap(),
            None => "/api/check-login".parse().unwrap(),
        };
        let mut headers = HeaderMap::new();
        for h in hosts {
            headers.append(header::HOST, HeaderValue::from_str(h).unwrap());
        }
        (headers, uri)
    }

    #[test]
    fn the_host_comes_from_exactly_one_source() {
        let ours = "localhost.weixin.qq.com:14013";
        let (h, u) = request(None, &[ours]);
        assert_eq!(request_host(&h, &u), Ok(ours));
        let (h, u) = request(Some(ours), &[]);
        assert_eq!(request_host(&h, &u), Ok(ours));
        let (h, u) = request(Some(ours), &["LOCALHOST.weixin.qq.com.:14013"]);
        assert_eq!(request_host(&h, &u), Ok(ours), "same name, other spelling");
        let (h, u) = request(Some("evil.example"), &[ours]);
        assert!(matches!(
            request_host(&h, &u),
            Err(HostError::Disagree { .. })
        ));
        let (h, u) = request(None, &[ours, ours]);
        assert_eq!(request_host(&h, &u), Err(HostError::Duplicate));
        let (h, u) = request(None, &[]);
        assert_eq!(request_host(&h, &u), Err(HostError::Missing));
    }

    #[test]
    fn shorten_cuts_on_a_character_boundary() {
        assert_eq!(shorten("short", 10), "short");
        let long = "é".repeat(100);
        let cut = shorten(&long, 11);
        assert!(cut.starts_with(&"é".repeat(5)) && cut.contains("200 bytes in all"));
    }
}
