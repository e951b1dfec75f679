//! The built-in demo site under `/demo/` on wxemu's own origin: a pretend
//! coffee shop with "Log in with WeChat" (redirect and embedded), a callback
//! that checks `state` and trades the code server-side, and a profile page,
//! so a person sees the whole loop with one click ("Open the demo" in the
//! desktop app) and no site of their own.
//!
//! The pages are static (`ui/demo/`); this module is the site's backend.
//! Its logic is [`crate::site`]'s, shared with `examples/site.rs`; only the
//! token exchange differs: the demo lives in wxemu, so it calls the same
//! core methods the token API's handlers call instead of going over HTTPS.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use serde_json::json;

use wxemu_core::Emulator;
use wxemu_core::Lang;

use crate::site::{self, Callback, CallbackQuery, Sessions, TokenExchange, User};
use crate::web::registry;
use crate::web::registry::Binding;

/// The demo's appid (`wx` + 16 hex digits, like a real one). In the default
/// permissive mode it is registered on first use; in strict mode configure
/// it as an `[[apps]]` entry (its secret is then used for the trade).
pub const APPID: &str = "wx0de7000000c0ffee";

/// Where the demo lives (below the own origin).
const BASE: &str = "/demo/";
const COOKIE: &str = "wxemu_demo";
/// Visitors remembered at once: a demo has a handful.
const MAX_SESSIONS: usize = 256;

/// The pages, compiled in so the installed app needs no files beside it.
const PAGES: &[(&str, &str, &str)] = &[
    ("", HTML, include_str!("../../../ui/demo/index.html")),
    (
        "index.html",
        HTML,
        include_str!("../../../ui/demo/index.html"),
    ),
    (
        "embedded.html",
        HTML,
        include_str!("../../../ui/demo/embedded.html"),
    ),
    (
        "profile.html",
        HTML,
        include_str!("../../../ui/demo/profile.html"),
    ),
    (
        "demo.css",
        "text/css; charset=utf-8",
        include_str!("../../../ui/demo/demo.css"),
    ),
    (
        "demo.js",
        "application/javascript; charset=utf-8",
        include_str!("../../../ui/demo/demo.js"),
    ),
];
const HTML: &str = "text/html; charset=utf-8";

/// The demo's handlers, bound to their registry routes. One session store
/// per server.
pub(crate) fn routes() -> Vec<Binding> {
    let sessions = Arc::new(Sessions::new(COOKIE, "/demo", true, MAX_SESSIONS));
    let home_sessions = sessions.clone();
    vec![
        (
            &registry::DEMO_ROOT,
            get(|| async { Redirect::permanent(BASE) }),
        ),
        (
            &registry::DEMO_HOME,
            get(
                move |State(emu): State<Arc<Emulator>>, uri: Uri, headers: HeaderMap| {
                    let sessions = home_sessions.clone();
                    let request = Request {
                        method: Method::GET,
                        path: String::new(),
                        uri,
                        headers,
                        query: Params::default(),
                    };
                    async move { serve(&emu, &sessions, request).await }
                },
            ),
        ),
        (
            &registry::DEMO,
            any(
                move |State(emu): State<Arc<Emulator>>,
                      method: Method,
                      uri: Uri,
                      Path(path): Path<String>,
                      headers: HeaderMap,
                      RawQuery(query): RawQuery| {
                    let sessions = sessions.clone();
                    let request = Request {
                        method,
                        path,
                        uri,
                        headers,
                        query: Params::parse(query),
                    };
                    async move { serve(&emu, &sessions, request).await }
                },
            ),
        ),
    ]
}

/// Every query parameter a demo endpoint reads (decoded leniently: a
/// broken query is a failed login, not an error page of its own).
#[derive(Debug, Default)]
struct Params {
    code: Option<String>,
    state: Option<String>,
    self_redirect: Option<String>,
}

impl Params {
    fn parse(query: Option<String>) -> Params {
        let mut all = crate::web::surfaces::openplatform::query_params(query);
        Params {
            code: all.remove("code"),
            state: all.remove("state"),
            self_redirect: all.remove("self_redirect"),
        }
    }
}

/// One request to the demo, as its handler needs it.
struct Request {
    method: Method,
    /// Below `/demo/`.
    path: String,
    uri: Uri,
    headers: HeaderMap,
    query: Params,
}

async fn serve(emu: &Emulator, sessions: &Sessions, request: Request) -> Response {
    let Request {
        method,
        path,
        uri,
        headers,
        query,
    } = request;
    let (uri, headers) = (&uri, &headers);
    let get = method == Method::GET || method == Method::HEAD;
    match (path.as_str(), get) {
        ("login", true) => {
            let (sid, state) = sessions.start_login(headers);
            let Some(origin) = origin(headers, uri) else {
                return not_found();
            };
            let page = url::Url::parse(&format!("{origin}{}", registry::LOGIN_PAGE.path));
            let Ok(page) = page else {
                return not_found();
            };
            let url = site::login_url(page, APPID, &redirect_uri(&origin), &state);
            with_cookie(sessions, &sid, Redirect::to(url.as_str()))
        }
        ("api/login-options", true) => {
            let Some(origin) = origin(headers, uri) else {
                return not_found();
            };
            let (sid, state) = sessions.start_login(headers);
            let options = json!({
                "appid": APPID,
                "scope": site::SCOPE,
                "redirect_uri": redirect_uri(&origin),
                "state": state,
                "self_redirect": query.self_redirect.as_deref() == Some("true"),
                "wxlogin_js": registry::WXLOGIN_JS.path,
            });
            with_cookie(sessions, &sid, json_reply(StatusCode::OK, &options))
        }
        ("callback", true) => {
            let callback = CallbackQuery {
                code: query.code,
                state: query.state,
            };
            match sessions
                .finish_login(headers, callback, &InProcess(emu))
                .await
            {
                Callback::LeaveFrame => Html(site::LEAVE_FRAME_HTML).into_response(),
                Callback::LoggedIn => Redirect::to("profile.html").into_response(),
                Callback::Refused(status, message) => error_page(status, &message),
            }
        }
        ("api/me", true) => match sessions.user(headers) {
            Some(user) => json_reply(StatusCode::OK, &json!(user)),
            None => json_reply(StatusCode::UNAUTHORIZED, &json!({"error": "not logged in"})),
        },
        ("logout", false) if method == Method::POST => {
            sessions.forget(headers);
            Redirect::to("./").into_response()
        }
        ("logout", _) => method_not_allowed("POST"),
        (path, true) => match PAGES.iter().find(|(name, _, _)| *name == path) {
            Some((_, kind, body)) => (
                [
                    (header::CONTENT_TYPE, *kind),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                *body,
            )
                .into_response(),
            None => not_found(),
        },
        _ => method_not_allowed("GET, HEAD"),
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, allow)],
        "method not allowed\n",
    )
        .into_response()
}

/// The demo's backend trading a code: the same core calls the token API's
/// `/sns/oauth2/access_token` and `/sns/userinfo` handlers make, with the
/// app's configured secret (none in permissive mode).
struct InProcess<'a>(&'a Emulator);

impl TokenExchange for InProcess<'_> {
    async fn user_for_code(&self, code: &str) -> Result<User, String> {
        let emu = self.0;
        let secret = emu.app(APPID).map(|app| app.secret).unwrap_or_default();
        let grant = emu
            .redeem_code(APPID, &secret, code)
            .map_err(|e| format!("access_token: errcode {}, {e}", e.errcode()))?;
        let info = emu
            .user_info(&grant.access_token, &grant.openid, Lang::ZhCn)
            .map_err(|e| format!("userinfo: errcode {}, {e}", e.errcode()))?;
        Ok(User {
            openid: info.openid,
            nickname: info.nickname,
            headimgurl: info.headimgurl,
            unionid: info.unionid.unwrap_or_default(),
            city: info.city,
            province: info.province,
            country: info.country,
            scope: grant.scope,
        })
    }
}

/// `https://host[:port]` as the browser spelled it (the front has checked
/// it is one of ours), so the callback returns to the origin that holds the
/// session cookie: the Host header (HTTP/1.1) or `:authority` (HTTP/2).
fn origin(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let host = match headers.get(header::HOST) {
        Some(host) => host.to_str().ok()?,
        None => uri.authority()?.as_str(),
    };
    Some(format!("https://{host}"))
}

fn redirect_uri(origin: &str) -> String {
    format!("{origin}{BASE}callback")
}

fn with_cookie(sessions: &Sessions, sid: &str, response: impl IntoResponse) -> Response {
    ([(header::SET_COOKIE, sessions.set_cookie(sid))], response).into_response()
}

fn json_reply(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such demo page\n").into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let message = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <title>登录失败 Login failed · 喵咖啡</title><link rel=\"stylesheet\" href=\"demo.css\"></head>\
         <body><main class=\"card\"><h1>登录失败 <span class=\"en\">Login failed</span></h1>\
         <p id=\"error\">{message}</p><p><a href=\"./\">返回 Back</a></p></main></body></html>"
    );
    (status, Html(body)).into_response()
}
