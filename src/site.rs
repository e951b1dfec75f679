//! What a website does for "Log in with WeChat", written once for the two
//! sites wxemu ships: the built-in demo (`crate::web::surfaces::demo`, which trades
//! the code in-process) and `examples/site.rs` (which trades it over HTTPS
//! like any backend). Each site keeps its own pages; the session, the
//! `state` check, the login URL and the callback's decisions are here.
//!
//! The flow a real site follows:
//! 1. [`Sessions::start_login`]: a fresh unguessable `state` in the
//!    visitor's session, then [`login_url`] (redirect) or the same values
//!    handed to wxLogin.js (embedded).
//! 2. [`Sessions::finish_login`]: the callback checks `state` against the
//!    session (CSRF; one state, one use), then trades the code server-side
//!    through a [`TokenExchange`] and remembers the [`User`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Mutex;

use axum::http::{header, HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

/// The profile a site keeps after a login: userinfo's fields plus the
/// granted scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub openid: String,
    pub nickname: String,
    pub headimgurl: String,
    pub unionid: String,
    pub city: String,
    pub province: String,
    pub country: String,
    pub scope: String,
}

/// How a site trades a code for the user behind it: its backend's calls to
/// `/sns/oauth2/access_token` and `/sns/userinfo`.
pub trait TokenExchange {
    fn user_for_code(&self, code: &str) -> impl Future<Output = Result<User, String>> + Send;
}

/// What the site remembers about one visitor.
#[derive(Debug, Default, Clone)]
pub struct Session {
    /// The `state` sent with the last login attempt, until the callback.
    pub state: Option<String>,
    pub user: Option<User>,
}

/// The callback's query.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
}

/// What the callback should answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    /// The login landed inside wxLogin.js's frame (`self_redirect=true`):
    /// answer [`LEAVE_FRAME_HTML`], which moves the whole window here with
    /// the code still unused.
    LeaveFrame,
    /// Refused, with the status and a message for the person.
    Refused(StatusCode, String),
    /// The session now holds the user.
    LoggedIn,
}

/// The callback's answer inside a frame. The top-level navigation is the
/// site's own, so its SameSite=Lax session cookie goes along (a navigation
/// from wxemu's cross-site frame would not carry it).
pub const LEAVE_FRAME_HTML: &str =
    "<!DOCTYPE html><script>window.top.location.href = window.location.href;</script>\
     <a href=\"\" target=\"_top\">Continue</a>";

/// Visitors' sessions, bounded: beyond `capacity` the oldest session is
/// forgotten.
pub struct Sessions {
    cookie_name: &'static str,
    cookie_path: &'static str,
    secure: bool,
    capacity: usize,
    inner: Mutex<Store>,
}

#[derive(Default)]
struct Store {
    by_id: HashMap<String, Session>,
    /// Session ids, oldest first.
    order: VecDeque<String>,
}

impl Sessions {
    /// Sessions kept in cookie `cookie_name` on `cookie_path`, `Secure`
    /// when the site is served over HTTPS.
    pub fn new(
        cookie_name: &'static str,
        cookie_path: &'static str,
        secure: bool,
        capacity: usize,
    ) -> Sessions {
        Sessions {
            cookie_name,
            cookie_path,
            secure,
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// The visitor's session id (a new one when they have none or an
    /// unknown one) and a copy of the session.
    pub fn visitor(&self, headers: &HeaderMap) -> (String, Session) {
        let store = self.lock();
        match cookie(headers, self.cookie_name) {
            Some(sid) if store.by_id.contains_key(&sid) => {
                let session = store.by_id[&sid].clone();
                (sid, session)
            }
            _ => (random_token(), Session::default()),
        }
    }

    /// The visitor's user, if they logged in.
    pub fn user(&self, headers: &HeaderMap) -> Option<User> {
        self.visitor(headers).1.user
    }

    /// Starts a login: a fresh unguessable state, kept in the visitor's
    /// session. Returns the session id (to set as a cookie) and the state.
    pub fn start_login(&self, headers: &HeaderMap) -> (String, String) {
        let (sid, _) = self.visitor(headers);
        let state = random_token();
        self.update(&sid, |s| s.state = Some(state.clone()));
        (sid, state)
    }

    /// The callback: checks `state` (one use, whatever happens next), then
    /// trades the code with `exchange`.
    pub async fn finish_login(
        &self,
        headers: &HeaderMap,
        query: CallbackQuery,
        exchange: &impl TokenExchange,
    ) -> Callback {
        if headers
            .get("sec-fetch-dest")
            .is_some_and(|dest| dest == "iframe")
        {
            return Callback::LeaveFrame;
        }
        let (sid, session) = self.visitor(headers);
        self.update(&sid, |s| s.state = None);
        if session.state.is_none() || query.state != session.state {
            return Callback::Refused(
                StatusCode::BAD_REQUEST,
                "state mismatch: this login did not start here (CSRF?)".into(),
            );
        }
        let Some(code) = query.code.filter(|c| !c.is_empty()) else {
            return Callback::Refused(
                StatusCode::BAD_REQUEST,
                "no code: the login was refused".into(),
            );
        };
        match exchange.user_for_code(&code).await {
            Ok(user) => {
                self.update(&sid, |s| s.user = Some(user));
                Callback::LoggedIn
            }
            Err(message) => Callback::Refused(StatusCode::BAD_GATEWAY, message),
        }
    }

    /// Logs the visitor out (forgets their session).
    pub fn forget(&self, headers: &HeaderMap) {
        if let Some(sid) = cookie(headers, self.cookie_name) {
            let mut store = self.lock();
            store.by_id.remove(&sid);
            store.order.retain(|s| *s != sid);
        }
    }

    /// The `Set-Cookie` value for session `sid`. SameSite=Lax: sent on the
    /// top-level navigation back from the login page.
    pub fn set_cookie(&self, sid: &str) -> String {
        format!(
            "{}={sid}; Path={}; HttpOnly; SameSite=Lax{}",
            self.cookie_name,
            self.cookie_path,
            if self.secure { "; Secure" } else { "" }
        )
    }

    fn update(&self, sid: &str, change: impl FnOnce(&mut Session)) {
        let mut store = self.lock();
        if !store.by_id.contains_key(sid) {
            while store.by_id.len() >= self.capacity {
                let Some(oldest) = store.order.pop_front() else {
                    break;
                };
                store.by_id.remove(&oldest);
            }
            store.order.push_back(sid.to_owned());
        }
        change(store.by_id.entry(sid.to_owned()).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The redirect variant's URL: `login_page` (wxemu's or the real
/// `/connect/qrconnect`) with the site's parameters.
pub fn login_url(
    mut login_page: url::Url,
    appid: &str,
    redirect_uri: &str,
    state: &str,
) -> url::Url {
    login_page
        .query_pairs_mut()
        .clear()
        .append_pair("appid", appid)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPE)
        .append_pair("state", state);
    login_page.set_fragment(Some("wechat_redirect"));
    login_page
}

/// The scope a website login asks for.
pub const SCOPE: &str = "snsapi_login";

fn random_token() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 24)
}

/// Every `name=value` pair of the request's cookies, in order, from all its
/// Cookie headers (HTTP/2 may split them); each pair trimmed as a whole.
pub fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_pairs(headers)
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl TokenExchange for Fixed {
        async fn user_for_code(&self, code: &str) -> Result<User, String> {
            Ok(User {
                openid: code.to_owned(),
                ..User::default()
            })
        }
    }

    fn with_cookie(sessions: &Sessions, sid: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = sessions.set_cookie(sid);
        let pair = value.split(';').next().unwrap().to_owned();
        headers.insert(header::COOKIE, pair.parse().unwrap());
        headers
    }

    #[tokio::test]
    async fn state_is_checked_and_single_use() {
        let sessions = Sessions::new("s", "/", true, 10);
        let (sid, state) = sessions.start_login(&HeaderMap::new());
        let headers = with_cookie(&sessions, &sid);
        let wrong = CallbackQuery {
            code: Some("c".into()),
            state: Some("other".into()),
        };
        assert!(matches!(
            sessions.finish_login(&headers, wrong, &Fixed).await,
            Callback::Refused(StatusCode::BAD_REQUEST, _)
        ));
        // The mismatch used the state up.
        let right = || CallbackQuery {
            code: Some("c".into()),
            state: Some(state.clone()),
        };
        assert!(matches!(
            sessions.finish_login(&headers, right(), &Fixed).await,
            Callback::Refused(..)
        ));
        let (_, state) = sessions.start_login(&headers);
        let query = CallbackQuery {
            code: Some("c".into()),
            state: Some(state),
        };
        assert_eq!(
            sessions.finish_login(&headers, query, &Fixed).await,
            Callback::LoggedIn
        );
        assert_eq!(sessions.user(&headers).unwrap().openid, "c");
        sessions.forget(&headers);
        assert!(sessions.user(&headers).is_none());
    }

    #[test]
    fn sessions_are_bounded_oldest_first() {
        let sessions = Sessions::new("s", "/", false, 3);
        let sids: Vec<String> = (0..5)
            .map(|_| sessions.start_login(&HeaderMap::new()).0)
            .collect();
        let known = |sid: &str| sessions.visitor(&with_cookie(&sessions, sid)).0 == sid;
        assert!(!known(&sids[0]) && !known(&sids[1]));
        assert!(sids[2..].iter().all(|s| known(s)));
    }
}
