//! Web authorization inside WeChat's browser (网页授权, protocol.md
//! section 4): `connect/oauth2/authorize`, the Official Account page's
//! login.
//!
//! `snsapi_base` is silent: a code at once. `snsapi_userinfo` asks the
//! person the way every login does ([`crate::approval::Approvals`]: queued
//! decisions, the policy, the decision sources). With the policy `ask` or
//! `never` and nothing queued, the web floor shows a consent page instead;
//! its buttons are the person's taps ([`Emulator::web_consent_answer`]),
//! racing the other decision sources while the page waits
//! ([`Emulator::web_consent_wait`]).

pub(crate) mod consents;

use std::time::Duration;

use crate::approval::Outcome;

/// The two scopes of web authorization.
pub const SNSAPI_BASE: &str = "snsapi_base";
pub const SNSAPI_USERINFO: &str = "snsapi_userinfo";

/// What the page asked for: the query of `connect/oauth2/authorize`.
#[derive(Debug, Clone, Default)]
pub struct WebAuthRequest {
    pub appid: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub scope: String,
    pub state: String,
    /// The browser is WeChat's (`MicroMessenger` in its User-Agent).
    pub in_wechat: bool,
}

/// Why a web authorization stops at one of WeChat's error pages (the site
/// is not called back). [`WebAuthError::errcode`] is the number WeChat's
/// page shows, where it shows one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebAuthError {
    #[error("the appid parameter is missing")]
    MissingAppid,
    #[error("appid {0:?} is unknown (not in [[apps]] in strict mode, or malformed)")]
    UnknownAppid(String),
    #[error("appid {0:?} is a website app of the Open Platform; web authorization needs an Official Account (kind = \"official_account\")")]
    NotAnOfficialAccount(String),
    #[error("the redirect_uri parameter is missing")]
    MissingRedirectUri,
    #[error("redirect_uri: {0}")]
    BadRedirectUri(String),
    #[error("redirect_uri's host {host:?} is not a 网页授权域名 of the app (oauth_domains = {domains:?}){why}")]
    DomainMismatch {
        host: String,
        domains: Vec<String>,
        why: &'static str,
    },
    #[error("the scope parameter is missing")]
    MissingScope,
    #[error("scope {0:?}: web authorization knows only snsapi_base and snsapi_userinfo")]
    Scope(String),
    #[error("response_type must be \"code\", not {0:?}")]
    ResponseType(String),
    #[error("state is {0} bytes; web authorization allows at most 128")]
    StateTooLong(usize),
    #[error("this is not WeChat's browser (no MicroMessenger in the User-Agent); [platform] mode = \"strict\" refuses it as WeChat does")]
    NotInWechat,
    #[error("this authorization is over (answered, expired, or unknown): open the page again")]
    ConsentOver,
}

impl WebAuthError {
    /// The errcode WeChat's error page shows.
    pub fn errcode(&self) -> Option<i32> {
        Some(match self {
            WebAuthError::MissingAppid => 10012,
            WebAuthError::NotAnOfficialAccount(_) => 10016,
            WebAuthError::MissingRedirectUri => 10011,
            WebAuthError::DomainMismatch { .. } => 10003,
            WebAuthError::MissingScope => 10010,
            WebAuthError::Scope(_) => 10005,
            _ => return None,
        })
    }

    /// The text WeChat's page shows (its own words where known).
    pub fn title(&self) -> &'static str {
        match self {
            WebAuthError::MissingAppid => "appid不能为空",
            WebAuthError::UnknownAppid(_) => "appid 参数错误",
            WebAuthError::NotAnOfficialAccount(_) => "不支持微信开放平台的Appid，请使用公众号Appid",
            WebAuthError::MissingRedirectUri => "redirect_uri不能为空",
            WebAuthError::BadRedirectUri(_) => "redirect_uri 参数错误",
            WebAuthError::DomainMismatch { .. } => "redirect_uri域名与后台配置不一致",
            WebAuthError::MissingScope => "scope不能为空",
            WebAuthError::Scope(_) => "此公众号并没有这些scope的权限",
            WebAuthError::ResponseType(_) => "response_type 参数错误",
            WebAuthError::StateTooLong(_) => "state 参数错误",
            WebAuthError::NotInWechat => "请在微信客户端打开链接",
            WebAuthError::ConsentOver => "授权已失效，请重新进入页面",
        }
    }
}

/// Where the page goes once the authorization is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAuthDone {
    /// redirect_uri with `code` and `state` (allowed) or `state` alone
    /// (denied); None when nobody answered in time.
    pub url: Option<String>,
    pub outcome: Outcome,
    /// The account allowed.
    pub account: Option<String>,
}

/// What `connect/oauth2/authorize` does next.
#[derive(Debug, Clone)]
pub enum WebAuthStart {
    /// Decided already: go there.
    Done(WebAuthDone),
    /// The person decides on the consent page.
    Consent(Consent),
}

/// What the consent page shows; `ticket` names it to the wait and answer
/// calls.
#[derive(Debug, Clone)]
pub struct Consent {
    pub ticket: String,
    pub app_name: String,
    pub app_icon_url: String,
    pub nickname: String,
    pub headimgurl: String,
    /// redirect_uri's host.
    pub site: String,
    /// How long the person has.
    pub timeout: Duration,
}
