//! The website apps the emulated Open Platform knows, and the checks made
//! against them (`[platform] mode`).
//!
//! - `strict`: only the config's `[[apps]]` exist; the secret must match
//!   and the redirect_uri's host must be one of the app's callback domains.
//! - `permissive` (default): an unknown appid is registered in memory on
//!   first use; the secret and the callback domains are checked only when
//!   the app sets them. Configure an app to get the real checks for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use subtle::ConstantTimeEq;

use crate::config::{PlatformMode, WebsiteApp};
use crate::emulator::Emulator;

/// Apps registered at run time by permissive mode: at most
/// [`MAX_AUTO_APPS`], the earliest registered forgotten first; `reset`
/// forgets them all.
#[derive(Debug, Default)]
pub struct AppRegistry {
    /// appid -> (registration number, app).
    registered: Mutex<HashMap<String, (u64, WebsiteApp)>>,
    next_seq: AtomicU64,
}

/// At most this many apps are registered at run time. A forgotten one is
/// registered again on its next use (same appid, same openids: nothing is
/// lost but its place in the list).
pub const MAX_AUTO_APPS: usize = 1_000;
/// Registrations logged at info level; later ones at debug, so a flood of
/// unique appids cannot flood the log.
const LOGGED_REGISTRATIONS: u64 = 20;

impl AppRegistry {
    /// Apps registered at run time, by appid.
    pub fn registered(&self) -> Vec<WebsiteApp> {
        let mut apps: Vec<WebsiteApp> = self.lock().values().map(|(_, a)| a.clone()).collect();
        apps.sort_by(|a, b| a.appid.cmp(&b.appid));
        apps
    }

    /// Forgets every registered app (the control API's reset).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The registered app `appid`, registering it now if needed.
    fn get_or_register(&self, appid: &str) -> WebsiteApp {
        let mut registered = self.lock();
        if let Some((_, app)) = registered.get(appid) {
            return app.clone();
        }
        if registered.len() >= MAX_AUTO_APPS {
            let oldest = registered
                .iter()
                .min_by_key(|(_, (seq, _))| *seq)
                .map(|(appid, _)| appid.clone());
            if let Some(oldest) = oldest {
                registered.remove(&oldest);
            }
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        if seq < LOGGED_REGISTRATIONS {
            tracing::info!(appid, "registered unknown appid {appid} (permissive mode)");
        } else {
            tracing::debug!(appid, "registered unknown appid {appid} (permissive mode)");
        }
        let app = WebsiteApp {
            appid: appid.to_owned(),
            ..WebsiteApp::default()
        };
        registered.insert(appid.to_owned(), (seq, app.clone()));
        app
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, WebsiteApp)>> {
        self.registered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Emulator {
    /// The app `appid` names: configured, else (permissive mode) registered
    /// now. None for an empty appid, an unknown one in strict mode, or (in
    /// permissive mode) one longer than 64 characters or with characters
    /// other than letters, digits, `_` and `-`.
    pub fn app(&self, appid: &str) -> Option<WebsiteApp> {
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
        let app = self.apps.get_or_register(appid);
        Some(app)
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
    appid.len() <= 64
        && appid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// "example.com" matches host example.com on any port; "localhost:3000"
/// only port 3000. Exact host match, as the Open Platform documents it (a
/// subdomain needs its own entry).
fn domain_matches(domain: &str, host: &str, port: Option<u16>) -> bool {
    let domain = domain.trim().trim_end_matches('.');
    let (name, want_port) = match domain.rsplit_once(':') {
        Some((name, p)) if !name.contains(':') || name.ends_with(']') => match p.parse::<u16>() {
            Ok(p) => (name, Some(p)),
            Err(_) => return false,
        },
        _ => (domain, None),
    };
    name.eq_ignore_ascii_case(host.trim_end_matches('.'))
        && want_port.is_none_or(|want| Some(want) == port)
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
