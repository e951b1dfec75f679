//! The desktop client's local fast-login API (protocol.md section 1):
//! `POST /api/check-login` and `POST /api/authorize`.
//!
//! Both answer a JSON body labelled `text/plain; charset=utf-8`: the real
//! login page runs `JSON.parse` on what jQuery hands it, and jQuery would
//! already have parsed a body labelled as JSON.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::web::journal::ReplyErrcode;
use crate::web::{read_body, BodyError};
use wxemu_core::approval::{AuthorizeRequest, Outcome, Position};
use wxemu_core::config::ClientState;
use wxemu_core::emulator::Emulator;
use wxemu_core::store::{random_token, FastLoginSession, Lookup};

pub const CHECK_LOGIN_API: &str = "qrconnectchecklogin";
pub const AUTHORIZE_API: &str = "qrconnectfastauthorize";
pub const AUTHORIZE_REPLY_API: &str = "qrconnectfastauthorizeconfirm";

/// The errcodes of the fast-login API. 0, 10046, 10050 and 10057 are the real
/// client's; the others are wxemu's own choice (the real page treats any
/// other non-zero code as "fall back to the QR code").
pub mod errcode {
    pub const OK: i32 = 0;
    /// The body is not the JSON the endpoint expects (detail in errmsg).
    pub const BAD_REQUEST: i32 = 10001;
    /// `apiname` does not belong to this endpoint.
    pub const WRONG_APINAME: i32 = 10002;
    /// A browser page on an origin that is not allowed.
    pub const ORIGIN_NOT_ALLOWED: i32 = 10003;
    /// The body is larger than wxemu accepts.
    pub const TOO_LARGE: i32 = 10004;
    /// Strict mode: the appid is not in `[[apps]]` (the page shows the QR
    /// code, whose page shows "AppID 参数错误").
    pub const UNKNOWN_APP: i32 = 10010;
    /// The redirect_uri's host is not one of the app's callback domains.
    pub const REDIRECT_NOT_ALLOWED: i32 = 10011;
    /// The client has no logged-in account.
    pub const LOGGED_OUT: i32 = 10020;
    /// The client is locked.
    pub const LOCKED: i32 = 10021;
    /// authorize_uuid unknown, expired, used, or the person never answered.
    pub const EXPIRED: i32 = 10046;
    /// The person clicked Deny.
    pub const DENIED: i32 = 10050;
    /// The app only allows QR-scan login.
    pub const SCAN_ONLY: i32 = 10057;
}

#[derive(Serialize)]
struct Reply<'a, J> {
    apiname: &'a str,
    errcode: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    errmsg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jsdata: Option<J>,
}

#[derive(Serialize)]
struct CheckLoginReply<'a> {
    nickname: &'a str,
    headimgurl: &'a str,
    authorize_uuid: &'a str,
}

#[derive(Serialize)]
struct AuthorizeReply<'a> {
    redirect_url: &'a str,
}

fn reply<J: Serialize>(status: StatusCode, reply: &Reply<'_, J>) -> Response {
    let body = serde_json::to_vec(reply).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Extension(ReplyErrcode(Some(reply.errcode.into()))),
        body,
    )
        .into_response()
}

fn success<J: Serialize>(apiname: &str, jsdata: J) -> Response {
    reply(
        StatusCode::OK,
        &Reply {
            apiname,
            errcode: errcode::OK,
            errmsg: None,
            jsdata: Some(jsdata),
        },
    )
}

/// A fast-login error in the wire format.
pub fn error_reply(status: StatusCode, apiname: &str, errcode: i32, errmsg: String) -> Response {
    reply(
        status,
        &Reply::<()> {
            apiname,
            errcode,
            errmsg: Some(errmsg),
            jsdata: None,
        },
    )
}

/// The apiname a reply from the endpoint at `path` carries.
pub fn reply_apiname(path: &str) -> &'static str {
    if path.ends_with("/authorize") {
        AUTHORIZE_REPLY_API
    } else {
        CHECK_LOGIN_API
    }
}

/// Why a request body was refused, before any state was touched.
struct Rejection {
    status: StatusCode,
    errcode: i32,
    errmsg: String,
}

impl Rejection {
    fn bad(errmsg: impl Into<String>) -> Rejection {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            errcode: errcode::BAD_REQUEST,
            errmsg: errmsg.into(),
        }
    }

    fn into_response(self, apiname: &str) -> Response {
        error_reply(self.status, apiname, self.errcode, self.errmsg)
    }
}

impl From<BodyError> for Rejection {
    fn from(e: BodyError) -> Rejection {
        Rejection {
            status: e.status(),
            errcode: match e {
                BodyError::TooLarge { .. } => errcode::TOO_LARGE,
                _ => errcode::BAD_REQUEST,
            },
            errmsg: e.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct Typed<T> {
    apiname: String,
    jsdata: T,
}

#[derive(Deserialize)]
struct Envelope {
    apiname: String,
    jsdata: serde_json::Value,
}

/// Reads `{"apiname": <expected>, "jsdata": {...}}` into `T`, naming the
/// offending field on failure.
async fn parse<T: DeserializeOwned>(
    emu: &Emulator,
    body: Body,
    expected_apiname: &str,
) -> Result<T, Rejection> {
    let bytes = read_body(body, &emu.limits).await?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Rejection::bad("request body is not UTF-8"))?;
    // Fast path: one pass straight into the typed request. Whatever it
    // refuses goes the slow way below, which says exactly what is wrong.
    if let Ok(typed) = serde_json::from_str::<Typed<T>>(text) {
        if typed.apiname == expected_apiname {
            return Ok(typed.jsdata);
        }
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Rejection::bad(format!("request body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Rejection::bad("request body must be a JSON object"));
    }
    let envelope: Envelope = deserialize(value)?;
    if envelope.apiname != expected_apiname {
        return Err(Rejection {
            status: StatusCode::BAD_REQUEST,
            errcode: errcode::WRONG_APINAME,
            errmsg: format!(
                "apiname {:?} is not served here; this endpoint expects {expected_apiname:?}",
                envelope.apiname
            ),
        });
    }
    if !envelope.jsdata.is_object() {
        return Err(Rejection::bad("jsdata must be a JSON object"));
    }
    deserialize(envelope.jsdata).map_err(|r| Rejection::bad(format!("jsdata.{}", r.errmsg)))
}

fn deserialize<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Rejection> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        Rejection::bad(if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        })
    })
}

/// jsdata of check-login; authorize repeats these fields.
#[derive(Deserialize)]
struct LoginTarget {
    appid: String,
    scope: String,
    redirect_uri: String,
    #[serde(default)]
    state: String,
}

impl LoginTarget {
    fn validate(&self) -> Result<url::Url, Rejection> {
        // Stored until the authorize (and the code after it): bounded.
        wxemu_core::limits::check_login_target(
            &self.appid,
            &self.scope,
            &self.redirect_uri,
            &self.state,
        )
        .map_err(Rejection::bad)?;
        if self.appid.trim().is_empty() {
            return Err(Rejection::bad("appid must not be empty"));
        }
        if self.scope != "snsapi_login" {
            return Err(Rejection::bad(format!(
                "scope {:?} is not allowed; website login uses \"snsapi_login\"",
                self.scope
            )));
        }
        let url = url::Url::parse(&self.redirect_uri)
            .map_err(|e| Rejection::bad(format!("redirect_uri is not an absolute URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(Rejection::bad("redirect_uri must be an http or https URL"));
        }
        Ok(url)
    }
}

#[derive(Deserialize)]
struct AuthorizeData {
    #[serde(flatten)]
    target: LoginTarget,
    authorize_uuid: String,
    /// A JSON string: `"{\"x\":576,\"y\":391.5}"`.
    #[serde(default)]
    data: Option<String>,
}

/// The request's Origin header, if any (cheaper than cloning every header).
pub struct RequestOrigin(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestOrigin(
            parts
                .headers
                .get(header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

pub async fn check_login(
    State(emu): State<Arc<Emulator>>,
    RequestOrigin(origin): RequestOrigin,
    body: Body,
) -> Response {
    let target: LoginTarget = match parse(&emu, body, CHECK_LOGIN_API).await {
        Ok(t) => t,
        Err(r) => return r.into_response(CHECK_LOGIN_API),
    };
    let redirect = match target.validate() {
        Ok(url) => url,
        Err(r) => return r.into_response(CHECK_LOGIN_API),
    };
    let Some(app) = emu.app(&target.appid) else {
        return error_reply(
            StatusCode::OK,
            CHECK_LOGIN_API,
            errcode::UNKNOWN_APP,
            format!(
                "appid {:?} is unknown (not in [[apps]] in strict mode, or malformed)",
                target.appid
            ),
        );
    };
    if !emu.redirect_allowed(&app, &redirect) {
        return error_reply(
            StatusCode::OK,
            CHECK_LOGIN_API,
            errcode::REDIRECT_NOT_ALLOWED,
            format!(
                "the host of redirect_uri is not a callback domain of {}",
                target.appid
            ),
        );
    }
    if let Err((code, msg)) = logged_in(&emu) {
        return error_reply(StatusCode::OK, CHECK_LOGIN_API, code, msg.into());
    }
    if app.scan_only {
        return error_reply(
            StatusCode::OK,
            CHECK_LOGIN_API,
            errcode::SCAN_ONLY,
            "this app supports QR code login only".into(),
        );
    }
    let account = emu.current_account();
    let uuid = random_token(16);
    let ttl = emu.config().server.authorize_uuid_ttl;
    emu.store.authorize_sessions.insert(
        uuid.clone(),
        FastLoginSession {
            appid: target.appid,
            scope: target.scope,
            redirect_uri: target.redirect_uri,
            state: target.state,
            account_id: account.id.clone(),
            origin,
        },
        emu.clock.now() + ttl,
    );
    success(
        CHECK_LOGIN_API,
        CheckLoginReply {
            nickname: &account.nickname,
            headimgurl: &emu.headimgurl(&account),
            authorize_uuid: &uuid,
        },
    )
}

pub async fn authorize(
    State(emu): State<Arc<Emulator>>,
    RequestOrigin(origin): RequestOrigin,
    body: Body,
) -> Response {
    let data: AuthorizeData = match parse(&emu, body, AUTHORIZE_API).await {
        Ok(d) => d,
        Err(r) => return r.into_response(AUTHORIZE_REPLY_API),
    };
    let redirect = match data.target.validate() {
        Ok(url) => url,
        Err(r) => return r.into_response(AUTHORIZE_REPLY_API),
    };
    let position = match data.data.as_deref().map(serde_json::from_str::<Position>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            return Rejection::bad(format!(
                "jsdata.data must be a JSON string like {{\"x\":576,\"y\":391.5}}: {e}"
            ))
            .into_response(AUTHORIZE_REPLY_API)
        }
    };
    let expired = |msg: &str| {
        error_reply(
            StatusCode::OK,
            AUTHORIZE_REPLY_API,
            errcode::EXPIRED,
            msg.into(),
        )
    };

    // Single use: whatever happens next, this uuid is spent.
    let session = match emu
        .store
        .authorize_sessions
        .take(&data.authorize_uuid, emu.clock.now())
    {
        Lookup::Live(s) => s,
        Lookup::Expired(_) => return expired("authorize_uuid expired; call check-login again"),
        Lookup::Missing => {
            return expired("authorize_uuid is unknown or already used; call check-login again")
        }
    };
    let target = &data.target;
    let same_request = session.appid == target.appid
        && session.scope == target.scope
        && session.redirect_uri == target.redirect_uri
        && session.state == target.state
        && session.origin == origin;
    if !same_request {
        return expired(
            "authorize_uuid was issued for another appid, redirect_uri, state or origin",
        );
    }
    if let Err((code, msg)) = logged_in(&emu) {
        return error_reply(StatusCode::OK, AUTHORIZE_REPLY_API, code, msg.into());
    }

    let (account, app_name, app_icon_url) = {
        let config = emu.config();
        let app = config.app(&session.appid);
        (
            config.account(&session.account_id),
            app.map(|a| a.name.clone()).filter(|n| !n.is_empty()),
            app.map(|a| a.icon_url.clone()).unwrap_or_default(),
        )
    };
    // The account check-login showed, unless it was removed meanwhile.
    let account = account.unwrap_or_else(|| emu.current_account());
    let request = AuthorizeRequest {
        id: 0,
        appid: session.appid.clone(),
        app_name: app_name.unwrap_or_else(|| session.appid.clone()),
        app_icon_url,
        site: redirect.host_str().unwrap_or_default().to_owned(),
        redirect_uri: session.redirect_uri.clone(),
        origin: session.origin.clone(),
        account_id: account.id.clone(),
        nickname: account.nickname.clone(),
        headimgurl: emu.headimgurl(&account),
        position,
        received_at: SystemTime::now(),
        timeout: emu.decision_timeout(),
    };
    let verdict = emu.approvals.decide_detailed(request).await;
    // A decision source may allow as another account ("allow as alice").
    let account = match verdict.account.as_deref() {
        Some(id) => emu.config().account(id).unwrap_or_else(|| {
            tracing::warn!(
                account = id,
                "allowed as an account that no longer exists; using {}",
                account.id
            );
            account
        }),
        None => account,
    };
    let mut response = match verdict.outcome {
        Outcome::Allowed => {
            let code = emu.store.issue_code(&session, &account.id, emu.clock.now());
            let url = redirect_url(&session.redirect_uri, &code, &session.state);
            success(AUTHORIZE_REPLY_API, AuthorizeReply { redirect_url: &url })
        }
        Outcome::Denied => error_reply(
            StatusCode::OK,
            AUTHORIZE_REPLY_API,
            errcode::DENIED,
            "the user denied the login".into(),
        ),
        Outcome::TimedOut => expired("the user did not answer in time"),
        Outcome::Cancelled => expired("the request was withdrawn"),
    };
    response
        .extensions_mut()
        .insert(crate::web::journal::DecisionNote {
            outcome: verdict.outcome,
            account: (verdict.outcome == Outcome::Allowed).then(|| account.id.clone()),
        });
    response
}

fn logged_in(emu: &Emulator) -> Result<(), (i32, &'static str)> {
    match emu.client_state() {
        ClientState::LoggedIn => Ok(()),
        ClientState::LoggedOut => Err((
            errcode::LOGGED_OUT,
            "WeChat is not logged in on this computer",
        )),
        ClientState::Locked => Err((errcode::LOCKED, "WeChat is locked on this computer")),
    }
}

/// Query-value encoding: everything but RFC 3986 unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `redirect_uri` with `code` and `state` appended to its query, before any
/// fragment, leaving the rest of it byte for byte as the site wrote it.
pub fn redirect_url(redirect_uri: &str, code: &str, state: &str) -> String {
    let (base, fragment) = match redirect_uri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (redirect_uri, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut url = format!(
        "{base}{separator}code={}&state={}",
        utf8_percent_encode(code, QUERY_VALUE),
        utf8_percent_encode(state, QUERY_VALUE)
    );
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::redirect_url;

    #[test]
    fn redirect_url_cases() {
        for (uri, want) in [
            ("https://a.com/cb", "https://a.com/cb?code=C&state=S"),
            (
                "https://a.com/cb?x=1",
                "https://a.com/cb?x=1&code=C&state=S",
            ),
            ("https://a.com/cb?", "https://a.com/cb?code=C&state=S"),
            (
                "https://a.com/cb?x=1&",
                "https://a.com/cb?x=1&code=C&state=S",
            ),
            (
                "https://a.com/cb#/route",
                "https://a.com/cb?code=C&state=S#/route",
            ),
            (
                "https://a.com/cb?x=%2F#f?g",
                "https://a.com/cb?x=%2F&code=C&state=S#f?g",
            ),
        ] {
            assert_eq!(redirect_url(uri, "C", "S"), want, "{uri}");
        }
        assert_eq!(
            redirect_url("https://a.com/", "C", "a b&c=d/é"),
            "https://a.com/?code=C&state=a%20b%26c%3Dd%2F%C3%A9"
        );
    }
}
