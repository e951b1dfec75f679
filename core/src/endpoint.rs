//! Which wxemu endpoint a request path belongs to: the key the journal
//! records and fault injection matches on, so neither needs to know the
//! handlers.

use serde::{Deserialize, Serialize};

/// An endpoint family, named as the control API and `wxemu ctl` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// `POST /api/check-login` (fast login).
    CheckLogin,
    /// `POST /api/authorize` (fast login).
    Authorize,
    /// `/sns/...`: the token API a site's backend calls.
    Token,
    /// `GET /connect/l/qrconnect`: the QR page's long poll.
    LongPoll,
    /// `GET /connect/qrcode/<uuid>`: the QR image.
    Qrcode,
    /// `GET /connect/qrconnect`: the Open Platform login page.
    LoginPage,
    /// `/__wxemu/...`: the control API itself.
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
        Endpoint::Control,
        Endpoint::Other,
    ];

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Endpoint {
    pub fn of(path: &str) -> Endpoint {
        match path {
            "/api/check-login" => Endpoint::CheckLogin,
            "/api/authorize" => Endpoint::Authorize,
            "/connect/l/qrconnect" => Endpoint::LongPoll,
            "/connect/qrconnect" => Endpoint::LoginPage,
            _ if path.starts_with("/sns/") => Endpoint::Token,
            _ if path.starts_with("/connect/qrcode/") => Endpoint::Qrcode,
            _ if path == "/__wxemu" || path.starts_with("/__wxemu/") => Endpoint::Control,
            _ => Endpoint::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::CheckLogin => "check-login",
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::LongPoll => "long-poll",
            Endpoint::Qrcode => "qrcode",
            Endpoint::LoginPage => "login-page",
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
            Endpoint::CheckLogin | Endpoint::Authorize | Endpoint::Token | Endpoint::LongPoll
        )
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn classifies_paths() {
        for (path, want) in [
            ("/api/check-login", Endpoint::CheckLogin),
            ("/api/authorize", Endpoint::Authorize),
            ("/sns/oauth2/access_token", Endpoint::Token),
            ("/sns/userinfo", Endpoint::Token),
            ("/connect/l/qrconnect", Endpoint::LongPoll),
            ("/connect/qrcode/0123456789abcdef", Endpoint::Qrcode),
            ("/connect/qrconnect", Endpoint::LoginPage),
            ("/__wxemu/health", Endpoint::Control),
            ("/__wxemuX", Endpoint::Other),
            ("/avatar/default/132", Endpoint::Other),
        ] {
            assert_eq!(Endpoint::of(path), want, "{path}");
        }
    }
}
