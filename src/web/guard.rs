//! Who may talk to wxemu: the Host check against DNS rebinding, and the
//! Origin check plus CORS for the browser-facing fast-login API. The front
//! ([`crate::web::front`]) runs them per request, as the matched route's
//! [`Access`] says.
//!
//! A web page on another site must never be able to log itself in, so the
//! Origin of every browser request to the fast-login API is checked, not
//! only its preflight: a "simple" cross-site POST skips the preflight.

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::web::fastlogin::{self, errcode};
use crate::web::registry::{HostFamily, Route, Wire};
use wxemu_core::emulator::Emulator;

/// The only origin the real login page is served from.
pub const WECHAT_ORIGIN: &str = "https://open.weixin.qq.com";

/// The host family a request is for, by its Host header (or HTTP/2
/// :authority); a refusal for anything else: a DNS-rebinding attempt (a
/// foreign name that resolves to 127.0.0.1) or a misconfigured client.
pub(crate) fn host_family(headers: &HeaderMap, uri: &Uri) -> Result<HostFamily, Response> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    match host {
        Some(host) => HostFamily::of(host).ok_or_else(|| {
            tracing::warn!(
                host,
                "refused a request for a foreign Host (DNS rebinding?)"
            );
            plain(
                StatusCode::FORBIDDEN,
                format!(
                    "wxemu answers only for {}; this request was for {host:?}\n",
                    HostFamily::all_names().join(", ")
                ),
            )
        }),
        None => Err(plain(
            StatusCode::BAD_REQUEST,
            "missing Host header\n".into(),
        )),
    }
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
    let allowed = origin.to_str().is_ok_and(|o| origin_allowed(emu, o));
    if !allowed {
        let shown = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        tracing::warn!(
            origin = %shown,
            path = route.path,
            "refused a browser request from a foreign Origin; add it to [server] allowed_origins to allow it"
        );
        let apiname = match route.wire {
            Wire::FastLogin { apiname } => apiname,
            _ => fastlogin::CHECK_LOGIN_API,
        };
        return BrowserGate::Answer(fastlogin::error_reply(
            StatusCode::FORBIDDEN,
            apiname,
            errcode::ORIGIN_NOT_ALLOWED,
            format!("origin {shown} is not allowed to use fast login; allowed: {WECHAT_ORIGIN}, wxemu's own origin, and [server] allowed_origins"),
        ));
    }
    if method == Method::OPTIONS {
        return BrowserGate::Answer(preflight(route, headers, origin.clone()));
    }
    BrowserGate::Pass(Some(origin.clone()))
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
}
