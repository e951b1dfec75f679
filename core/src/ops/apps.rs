//! The website apps the emulated Open Platform knows, and the checks made
//! against them (`[platform] mode`).
//!
//! - `strict`: only the config's `[[apps]]` exist; the secret must match
//!   and the redirect_uri's host must be one of the app's callback domains.
//! - `permissive` (default): an unknown appid is registered in memory on
//!   first use; the secret and the callback domains are checked only when
//!   the app sets them. Configure an app to get the real checks for it.

use subtle::ConstantTimeEq;

use crate::config::{AppKind, PlatformMode, WebsiteApp};
use crate::emulator::Emulator;

impl Emulator {
    /// The app `appid` names: configured, else (permissive mode) registered
    /// now. None for an empty appid, an unknown one in strict mode, or (in
    /// permissive mode) one longer than 64 characters or with characters
    /// other than letters, digits, `_` and `-`. At most
    /// `AppRegistry::MAX` apps stay
    /// registered (the earliest forgotten first).
    pub fn app(&self, appid: &str) -> Option<WebsiteApp> {
        self.app_used_as(appid, AppKind::Website)
    }

    /// Like [`Emulator::app`], for an endpoint that implies `kind`: what
    /// permissive mode registers an unknown appid as.
    pub fn app_used_as(&self, appid: &str, kind: AppKind) -> Option<WebsiteApp> {
        if appid.is_empty() {
            return None;
        }
        let config = self.config();
        if let Some(app) = config.app(appid) {
            return Some(app.clone());
        }
        if config.platform.mode == PlatformMode::Strict || !plausible_appid(appid) {
            return None;
        }
        drop(config);
        Some(self.apps.register(appid, kind))
    }

    /// Whether `secret` is `app`'s: strict mode compares always, permissive
    /// mode only when the app has a secret configured.
    pub fn secret_matches(&self, app: &WebsiteApp, secret: &str) -> bool {
        if app.secret.is_empty() && self.config().platform.mode == PlatformMode::Permissive {
            return true;
        }
        // Constant time: the secret is the one thing here worth guessing.
        app.secret.as_bytes().ct_eq(secret.as_bytes()).into()
    }

    /// The longest `state` the website login (qrconnect, fast login)
    /// takes: WeChat's documented bound in strict mode; in permissive mode
    /// a generous one, each long state flagged
    /// ([`crate::limits::long_state_warning`]).
    pub fn website_state_limit(&self) -> usize {
        match self.config().platform.mode {
            PlatformMode::Strict => crate::limits::MAX_STATE_BYTES,
            PlatformMode::Permissive => crate::limits::MAX_LONG_STATE_BYTES,
        }
    }

    /// Whether `app` may redirect to `redirect`: its host (and port, when
    /// the domain names one) must be a callback domain. Strict mode checks
    /// always, permissive mode when the app lists callback domains.
    pub fn redirect_allowed(&self, app: &WebsiteApp, redirect: &url::Url) -> bool {
        if app.callback_domains.is_empty() {
            return self.config().platform.mode == PlatformMode::Permissive;
        }
        let Some(host) = redirect.host_str() else {
            return false;
        };
        let port = redirect.port_or_known_default();
        app.callback_domains
            .iter()
            .any(|domain| domain_matches(domain, host, port))
    }
}

/// What permissive mode registers: real appids are `wx` + 16 hex digits;
/// anything short and plain is accepted, junk is not.
fn plausible_appid(appid: &str) -> bool {
    appid.len() <= crate::limits::MAX_APPID_BYTES
        && appid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// "example.com" matches host example.com on any port; "localhost:3000"
/// only port 3000. Exact host match, as the Open Platform documents it (a
/// subdomain needs its own entry).
fn domain_matches(domain: &str, host: &str, port: Option<u16>) -> bool {
    split_domain(domain).is_some_and(|(name, want_port)| {
        name.eq_ignore_ascii_case(host.trim_end_matches('.'))
            && want_port.is_none_or(|want| Some(want) == port)
    })
}

/// A configured domain (callback, 网页授权 or JS domain) as its host name
/// and its port, if it names one: `"localhost:3000"` is `("localhost",
/// Some(3000))`, `"[::1]:8080"` keeps its brackets. Surrounding space and
/// a trailing dot are dropped; None for a port that is not a number.
pub(crate) fn split_domain(domain: &str) -> Option<(&str, Option<u16>)> {
    let domain = domain.trim().trim_end_matches('.');
    match domain.rsplit_once(':') {
        Some((name, p)) if !name.contains(':') || name.ends_with(']') => {
            p.parse::<u16>().ok().map(|p| (name, Some(p)))
        }
        _ => Some((domain, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::domain_matches;

    #[test]
    fn callback_domains() {
        assert!(domain_matches("site.example", "site.example", Some(443)));
        assert!(domain_matches("Site.Example", "site.example", Some(8443)));
        assert!(domain_matches("localhost:3000", "localhost", Some(3000)));
        assert!(!domain_matches("localhost:3000", "localhost", Some(3001)));
        assert!(!domain_matches("site.example", "a.site.example", Some(443)));
        assert!(!domain_matches(
            "site.example",
            "site.example.evil",
            Some(443)
        ));
        assert!(!domain_matches("localhost:x", "localhost", Some(80)));
        assert!(domain_matches("[::1]:8080", "[::1]", Some(8080)));
    }
}
