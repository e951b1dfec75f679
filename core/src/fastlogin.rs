//! The desktop client's fast login (protocol.md section 1) as domain
//! operations: [`Emulator::check_login`] and [`Emulator::authorize`].
//!
//! The web floor parses the `{"apiname","jsdata"}` envelope and writes the
//! reply; everything between (which app, which account, is the client
//! logged in, single-use uuids bound to their request, the person's
//! decision, the code) happens here, once, for every caller.

use std::time::SystemTime;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::approval::{AuthorizeRequest, Outcome, Position};
use crate::config::{Account, ClientState};
use crate::emulator::Emulator;
use crate::events::Event;
use crate::random::random_token;
use crate::store::{FastLoginSession, Lookup};

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

/// check-login's `jsdata`; authorize repeats these fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoginTarget {
    pub appid: String,
    pub scope: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub state: String,
}

/// What check-login answers when someone is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLoginOk {
    pub nickname: String,
    pub headimgurl: String,
    pub authorize_uuid: String,
}

/// authorize's `jsdata`: the check-login target, the uuid it got, and where
/// the page would like the confirm window.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthorizeCall {
    #[serde(flatten)]
    pub target: LoginTarget,
    pub authorize_uuid: String,
    /// A JSON string: `"{\"x\":576,\"y\":391.5}"`.
    #[serde(default)]
    pub data: Option<String>,
}

/// An allowed login: where the page goes next, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    pub redirect_url: String,
    pub account_id: String,
}

/// Why a fast-login call failed; [`FastLoginError::errcode`] is its wire code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FastLoginError {
    #[error("{0}")]
    BadRequest(String),
    #[error("appid {0:?} is unknown (not in [[apps]] in strict mode, or malformed)")]
    UnknownApp(String),
    #[error("the host of redirect_uri is not a callback domain of {0}")]
    RedirectNotAllowed(String),
    #[error("WeChat is not logged in on this computer")]
    LoggedOut,
    #[error("WeChat is locked on this computer")]
    Locked,
    #[error("this app supports QR code login only")]
    ScanOnly,
    #[error("{0}")]
    Expired(&'static str),
    #[error("the user denied the login")]
    Denied,
    /// The decision step ended without an answer (deadline or withdrawal).
    #[error("{}", undecided_message(*.0))]
    Undecided(Outcome),
}

fn undecided_message(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::TimedOut => "the user did not answer in time",
        _ => "the request was withdrawn",
    }
}

impl FastLoginError {
    pub fn errcode(&self) -> i32 {
        match self {
            FastLoginError::BadRequest(_) => errcode::BAD_REQUEST,
            FastLoginError::UnknownApp(_) => errcode::UNKNOWN_APP,
            FastLoginError::RedirectNotAllowed(_) => errcode::REDIRECT_NOT_ALLOWED,
            FastLoginError::LoggedOut => errcode::LOGGED_OUT,
            FastLoginError::Locked => errcode::LOCKED,
            FastLoginError::ScanOnly => errcode::SCAN_ONLY,
            FastLoginError::Expired(_) | FastLoginError::Undecided(_) => errcode::EXPIRED,
            FastLoginError::Denied => errcode::DENIED,
        }
    }

    /// What the person decided, when the call got that far.
    pub fn decision(&self) -> Option<Outcome> {
        match self {
            FastLoginError::Denied => Some(Outcome::Denied),
            FastLoginError::Undecided(outcome) => Some(*outcome),
            _ => None,
        }
    }
}

impl LoginTarget {
    /// The parsed redirect_uri, or what is wrong with the target.
    /// `max_state`: [`Emulator::website_state_limit`].
    pub fn validate(&self, max_state: usize) -> Result<url::Url, FastLoginError> {
        let bad = |m: String| Err(FastLoginError::BadRequest(m));
        // Kept until the authorize (and in the code after it): bounded.
        crate::limits::check_login_target(
            &self.appid,
            &self.scope,
            &self.redirect_uri,
            &self.state,
            max_state,
        )
        .map_err(|e| FastLoginError::BadRequest(e.to_string()))?;
        if self.appid.trim().is_empty() {
            return bad("appid must not be empty".into());
        }
        if self.scope != "snsapi_login" {
            return bad(format!(
                "scope {:?} is not allowed; website login uses \"snsapi_login\"",
                self.scope
            ));
        }
        let url = url::Url::parse(&self.redirect_uri).map_err(|e| {
            FastLoginError::BadRequest(format!("redirect_uri is not an absolute URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return bad("redirect_uri must be an http or https URL".into());
        }
        Ok(url)
    }
}

impl Emulator {
    /// check-login: who is logged in, and a single-use `authorize_uuid` bound
    /// to this target and `origin` (the page's Origin header, if any).
    pub fn check_login(
        &self,
        target: LoginTarget,
        origin: Option<String>,
    ) -> Result<CheckLoginOk, FastLoginError> {
        let redirect = target.validate(self.website_state_limit())?;
        let app = self
            .app(&target.appid)
            .ok_or_else(|| FastLoginError::UnknownApp(target.appid.clone()))?;
        if !self.redirect_allowed(&app, &redirect) {
            return Err(FastLoginError::RedirectNotAllowed(target.appid));
        }
        self.ensure_logged_in()?;
        if app.scan_only {
            return Err(FastLoginError::ScanOnly);
        }
        let (account_id, nickname, headimgurl) = self.with_current_account(|account| {
            (
                account.id.clone(),
                account.nickname.clone(),
                self.headimgurl(account),
            )
        });
        let authorize_uuid = random_token(16);
        let ttl = self.config().server.authorize_uuid_ttl;
        self.publish_with(|| Event::CheckLoginServed {
            appid: target.appid.clone(),
            account_id: account_id.clone(),
        });
        self.store().authorize_sessions.insert(
            authorize_uuid.clone(),
            FastLoginSession {
                appid: target.appid,
                scope: target.scope,
                redirect_uri: target.redirect_uri,
                state: target.state,
                account_id,
                origin,
            },
            self.clock().now() + ttl,
        );
        Ok(CheckLoginOk {
            headimgurl,
            nickname,
            authorize_uuid,
        })
    }

    /// authorize: spends the uuid, checks it was issued for the same request,
    /// waits for the person (or the policy), and issues a code when allowed.
    pub async fn authorize(
        &self,
        call: AuthorizeCall,
        origin: Option<String>,
    ) -> Result<Authorized, FastLoginError> {
        let redirect = call.target.validate(self.website_state_limit())?;
        let position = match call.data.as_deref().map(serde_json::from_str::<Position>) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                return Err(FastLoginError::BadRequest(format!(
                    "jsdata.data must be a JSON string like {{\"x\":576,\"y\":391.5}}: {e}"
                )))
            }
        };
        // Single use: whatever happens next, this uuid is spent.
        let session = match self
            .store()
            .authorize_sessions
            .take(&call.authorize_uuid, self.clock().now())
        {
            Lookup::Live(s) => s,
            Lookup::Expired(_) => {
                return Err(FastLoginError::Expired(
                    "authorize_uuid expired; call check-login again",
                ))
            }
            Lookup::Missing => {
                return Err(FastLoginError::Expired(
                    "authorize_uuid is unknown or already used; call check-login again",
                ))
            }
        };
        let target = &call.target;
        let same_request = session.appid == target.appid
            && session.scope == target.scope
            && session.redirect_uri == target.redirect_uri
            && session.state == target.state
            && session.origin == origin;
        if !same_request {
            return Err(FastLoginError::Expired(
                "authorize_uuid was issued for another appid, redirect_uri, state or origin",
            ));
        }
        self.ensure_logged_in()?;

        // The account check-login showed, unless it was removed meanwhile.
        let account = self
            .config()
            .account(&session.account_id)
            .unwrap_or_else(|| self.current_account());
        let request = self.authorize_request(&session, &redirect, &account, position);
        let verdict = self.approvals().decide_detailed(request).await;
        match verdict.outcome {
            Outcome::Allowed => {}
            Outcome::Denied => return Err(FastLoginError::Denied),
            other => return Err(FastLoginError::Undecided(other)),
        }
        // A decision source may allow as another account ("allow as alice").
        let account = match verdict.account.as_deref() {
            Some(id) => self.config().account(id).unwrap_or_else(|| {
                tracing::warn!(
                    account = id,
                    "allowed as an account that no longer exists; using {}",
                    account.id
                );
                account
            }),
            None => account,
        };
        let code = self
            .store()
            .issue_code(&session, &account.id, self.clock().now());
        Ok(Authorized {
            redirect_url: redirect_url(&session.redirect_uri, &code, &session.state),
            account_id: account.id,
        })
    }

    /// What the confirm window, the terminal prompt and the control API are
    /// asked to decide.
    fn authorize_request(
        &self,
        session: &FastLoginSession,
        redirect: &url::Url,
        account: &Account,
        position: Option<Position>,
    ) -> AuthorizeRequest {
        let (app_name, app_icon_url) = {
            let config = self.config();
            let app = config.app(&session.appid);
            (
                app.map(|a| a.name.clone()).filter(|n| !n.is_empty()),
                app.map(|a| a.icon_url.clone()).unwrap_or_default(),
            )
        };
        AuthorizeRequest {
            id: 0,
            appid: session.appid.clone(),
            app_name: app_name.unwrap_or_else(|| session.appid.clone()),
            app_icon_url,
            site: redirect.host_str().unwrap_or_default().to_owned(),
            redirect_uri: session.redirect_uri.clone(),
            origin: session.origin.clone(),
            account_id: account.id.clone(),
            nickname: account.nickname.clone(),
            headimgurl: self.headimgurl(account),
            position,
            received_at: SystemTime::now(),
            timeout: self.decision_timeout(),
        }
    }

    fn ensure_logged_in(&self) -> Result<(), FastLoginError> {
        match self.client_state() {
            ClientState::LoggedIn => Ok(()),
            ClientState::LoggedOut => Err(FastLoginError::LoggedOut),
            ClientState::Locked => Err(FastLoginError::Locked),
        }
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
    with_query(
        redirect_uri,
        &format!(
            "code={}&state={}",
            utf8_percent_encode(code, QUERY_VALUE),
            utf8_percent_encode(state, QUERY_VALUE)
        ),
    )
}

/// Where a denied web authorization returns: `redirect_uri` with `state`
/// and no `code` (protocol.md section 4).
pub fn denied_redirect_url(redirect_uri: &str, state: &str) -> String {
    with_query(
        redirect_uri,
        &format!("state={}", utf8_percent_encode(state, QUERY_VALUE)),
    )
}

/// `uri` with `pairs` (already encoded) added to its query, before any
/// fragment.
fn with_query(uri: &str, pairs: &str) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (uri, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut url = format!("{base}{separator}{pairs}");
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
