//! The names of wxemu's endpoints: the key the journal records and fault
//! injection matches on. Which requests belong to which endpoint (host,
//! path, methods) is the web floor's endpoint registry's business
//! (`wxemu::web::registry`); the core only knows the names.

use serde::{Deserialize, Serialize};

/// An endpoint family, named as the control API and `wxemu ctl` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// Fast login's check-login.
    CheckLogin,
    /// Fast login's authorize.
    Authorize,
    /// The token API a site's backend calls (every call of it).
    Token,
    /// The QR page's long poll.
    LongPoll,
    /// The QR image.
    Qrcode,
    /// The Open Platform login page.
    LoginPage,
    /// Web authorization inside WeChat (`connect/oauth2/authorize`) and
    /// its consent page's calls.
    #[serde(rename = "oauth2-authorize")]
    WebAuthorize,
    /// The JS-SDK's server side: `cgi-bin/token`, `stable_token`,
    /// `ticket/getticket`.
    CgiBin,
    /// The bridge's calls for pages inside WeChat: `wx.config`'s check and
    /// each JS API's answer.
    H5,
    /// Web WeChat's QR login: `/jslogin`, `/qrcode/<uuid>`, the login poll,
    /// `webwxnewloginpage`.
    WebwxLogin,
    /// Web WeChat's session calls: `/cgi-bin/mmwebwx-bin/...` (synccheck,
    /// webwxsync, webwxsendmsg, ...).
    Webwx,
    /// The control API itself.
    Control,
    /// Anything else (avatars, the index page, unknown paths).
    Other,
}

impl crate::named::Named for Endpoint {
    const ALL: &'static [Self] = &[
        Endpoint::CheckLogin,
        Endpoint::Authorize,
        Endpoint::Token,
        Endpoint::LongPoll,
        Endpoint::Qrcode,
        Endpoint::LoginPage,
        Endpoint::WebAuthorize,
        Endpoint::CgiBin,
        Endpoint::H5,
        Endpoint::WebwxLogin,
        Endpoint::Webwx,
        Endpoint::Control,
        Endpoint::Other,
    ];

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::CheckLogin => "check-login",
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::LongPoll => "long-poll",
            Endpoint::Qrcode => "qrcode",
            Endpoint::LoginPage => "login-page",
            Endpoint::WebAuthorize => "oauth2-authorize",
            Endpoint::CgiBin => "cgi-bin",
            Endpoint::H5 => "h5",
            Endpoint::WebwxLogin => "webwx-login",
            Endpoint::Webwx => "webwx",
            Endpoint::Control => "control",
            Endpoint::Other => "other",
        }
    }

    /// Whether faults may be injected here: every endpoint a page or a
    /// site's backend calls, never the control API (a test must always be
    /// able to clear its faults) nor the catch-all.
    pub fn accepts_faults(self) -> bool {
        !matches!(self, Endpoint::Control | Endpoint::Other)
    }

    /// Endpoints whose replies carry an errcode the journal records.
    pub fn has_errcode(self) -> bool {
        matches!(
            self,
            Endpoint::CheckLogin
                | Endpoint::Authorize
                | Endpoint::Token
                | Endpoint::CgiBin
                | Endpoint::LongPoll
                | Endpoint::WebwxLogin
                | Endpoint::Webwx
        )
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
