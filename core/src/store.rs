//! Short-lived server state: what check-login handed out and what authorize
//! issued, each with an expiry measured on the injectable [`crate::clock::Clock`].
//!
//! Entries are checked for expiry on every lookup, so correctness never
//! depends on the background purge; the purge only keeps memory bounded
//! (the mini-redis pattern: one task that wakes up and drops what is dead).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::config::{AppKind, WebsiteApp};

/// A map whose entries expire. Expired entries stay visible as
/// [`Lookup::Expired`] for `grace` after their expiry, so "expired" and
/// "never existed" can get different error codes, then the purge drops them.
#[derive(Debug)]
pub struct Expiring<V> {
    inner: Mutex<Inner<V>>,
    grace: Duration,
}

#[derive(Debug)]
struct Inner<V> {
    /// foldhash, not SipHash: keys are tokens wxemu drew itself (nobody
    /// can pick colliding ones), and an insert hashes a key up to three
    /// times (with the capped map's eviction).
    entries: HashMap<String, Entry<V>, foldhash::fast::RandomState>,
    /// For a capped map: keys oldest first, to drop the oldest entry when a
    /// new one would exceed `capacity`. May hold keys already removed.
    order: Option<(VecDeque<String>, usize)>,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: SystemTime,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<V> {
    Live(V),
    Expired(V),
    Missing,
}

impl<V: Clone> Expiring<V> {
    pub fn new(grace: Duration) -> Self {
        Expiring {
            inner: Mutex::new(Inner {
                entries: HashMap::default(),
                order: None,
            }),
            grace,
        }
    }

    /// A map that never holds more than `capacity` entries: inserting into
    /// a full one drops the oldest. For things anyone on the machine can
    /// create for free (check-login's uuids), so a flood cannot grow memory
    /// without bound before the entries expire.
    pub fn capped(grace: Duration, capacity: usize) -> Self {
        let map = Expiring::new(grace);
        map.inner_lock().order = Some((VecDeque::new(), capacity.max(1)));
        map
    }

    pub fn insert(&self, key: String, value: V, expires_at: SystemTime) {
        let mut inner = self.inner_lock();
        let Inner { entries, order } = &mut *inner;
        if let Some((keys, capacity)) = order {
            // Keys taken or purged meanwhile are no longer the oldest.
            while keys.front().is_some_and(|k| !entries.contains_key(k)) {
                keys.pop_front();
            }
            while entries.len() >= *capacity {
                match keys.pop_front() {
                    Some(oldest) => {
                        entries.remove(&oldest);
                    }
                    None => break,
                }
            }
            keys.push_back(key.clone());
        }
        entries.insert(key, Entry { value, expires_at });
    }

    pub fn get(&self, key: &str, now: SystemTime) -> Lookup<V> {
        match self.inner_lock().entries.get(key) {
            None => Lookup::Missing,
            Some(e) if now >= e.expires_at => Lookup::Expired(e.value.clone()),
            Some(e) => Lookup::Live(e.value.clone()),
        }
    }

    /// Removes the entry and tells what it was: single-use things are taken.
    pub fn take(&self, key: &str, now: SystemTime) -> Lookup<V> {
        match self.inner_lock().entries.remove(key) {
            None => Lookup::Missing,
            Some(e) if now >= e.expires_at => Lookup::Expired(e.value),
            Some(e) => Lookup::Live(e.value),
        }
    }

    /// Changes a live entry in place, atomically with the expiry check.
    pub fn update<R>(&self, key: &str, now: SystemTime, f: impl FnOnce(&mut V) -> R) -> Lookup<R> {
        match self.inner_lock().entries.get_mut(key) {
            None => Lookup::Missing,
            Some(e) if now >= e.expires_at => Lookup::Expired(f(&mut e.value)),
            Some(e) => Lookup::Live(f(&mut e.value)),
        }
    }

    /// Drops entries more than `grace` past their expiry; returns how many.
    pub fn purge(&self, now: SystemTime) -> usize {
        let mut inner = self.inner_lock();
        let entries = &mut inner.entries;
        let before = entries.len();
        entries.retain(|_, e| now < e.expires_at + self.grace);
        before - entries.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.inner_lock().entries.len()
    }

    pub fn clear(&self) {
        let mut inner = self.inner_lock();
        inner.entries.clear();
        if let Some((keys, _)) = &mut inner.order {
            keys.clear();
        }
    }

    fn inner_lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        // Each operation leaves the map consistent before it can panic.
        crate::sync::lock(&self.inner)
    }
}

/// What check-login promised: the authorize that follows must match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastLoginSession {
    pub appid: String,
    pub scope: String,
    pub redirect_uri: String,
    pub state: String,
    pub account_id: String,
    /// The Origin check-login came from; authorize must come from the same.
    pub origin: Option<String>,
}

/// Which login a code came from: its token's rules differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flow {
    /// The website login (qrconnect, fast login): codes live 10 minutes.
    #[default]
    Website,
    /// Web authorization inside WeChat (`connect/oauth2/authorize`): codes
    /// live 5 minutes; `unionid` only for `snsapi_userinfo`; userinfo
    /// without gender and region unless the full profile is switched on;
    /// `snapshot`: the person only saw the page's snapshot
    /// (`is_snapshotuser: 1`, no userinfo).
    WebAuthorization { snapshot: bool },
}

/// An authorization code, waiting for the site's backend to redeem it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub appid: String,
    pub scope: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub flow: Flow,
    /// Redeemed codes are kept until they expire so a second use gets
    /// "code been used" rather than "invalid code".
    pub used: bool,
}

/// At most this many check-login uuids wait for their authorize; beyond,
/// the oldest is forgotten (its authorize gets 10046). A person makes one
/// per login; this only stops a flood from growing memory.
pub const MAX_PENDING_FAST_LOGINS: usize = 10_000;
/// At most this many codes (live, redeemed or recently expired) are
/// remembered; beyond, the oldest is forgotten (redeeming it then says
/// 40029 invalid code). A login makes one.
pub const MAX_CODES: usize = 10_000;
/// At most this many access tokens, and as many refresh tokens; beyond, the
/// oldest is forgotten (using it says 40014 / 40030 invalid).
pub const MAX_TOKENS: usize = 10_000;

/// Apps registered at run time (by first use, in permissive mode) at most.
pub const MAX_REGISTERED_APPS: usize = 1000;

/// How long a code lives (the Open Platform's documented 10 minutes).
pub const CODE_TTL: Duration = Duration::from_secs(600);
/// How long a web authorization's code lives (5 minutes, as documented).
pub const WEB_CODE_TTL: Duration = Duration::from_secs(300);
/// How long an access_token lives (`expires_in: 7200`).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(7200);
/// How long a refresh_token lives (30 days; refreshing does not extend it).
pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// What a redeemed code granted: one person, one app, one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub appid: String,
    pub account_id: String,
    pub openid: String,
    pub scope: String,
    pub flow: Flow,
}

/// An access_token and the refresh_token it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub grant: Grant,
    pub refresh_token: String,
}

/// A refresh_token and the access_token it last handed out (refreshing
/// while that one lives extends it instead of minting a new one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub grant: Grant,
    pub access_token: String,
}

/// How much of each kind [`Store`] holds ([`crate::Emulator::stored_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCounts {
    pub authorize_sessions: usize,
    pub codes: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
}

/// All expiring state of one server.
#[derive(Debug)]
pub struct Store {
    pub(crate) authorize_sessions: Expiring<FastLoginSession>,
    pub(crate) codes: Expiring<IssuedCode>,
    pub(crate) access_tokens: Expiring<AccessGrant>,
    pub(crate) refresh_tokens: Expiring<RefreshGrant>,
}

/// How long expired tokens stay known, so using one says "expired"
/// (42001, 42002) rather than "invalid".
const TOKEN_GRACE: Duration = Duration::from_secs(24 * 3600);

impl Default for Store {
    fn default() -> Self {
        Store {
            authorize_sessions: Expiring::capped(Duration::ZERO, MAX_PENDING_FAST_LOGINS),
            // Keep expired codes a while so their redemption says "expired".
            codes: Expiring::capped(Duration::from_secs(3600), MAX_CODES),
            access_tokens: Expiring::capped(TOKEN_GRACE, MAX_TOKENS),
            refresh_tokens: Expiring::capped(TOKEN_GRACE, MAX_TOKENS),
        }
    }
}

impl Store {
    pub fn purge(&self, now: SystemTime) -> usize {
        self.authorize_sessions.purge(now)
            + self.codes.purge(now)
            + self.access_tokens.purge(now)
            + self.refresh_tokens.purge(now)
    }

    /// Forgets everything issued (the control API's reset).
    pub fn clear(&self) {
        self.authorize_sessions.clear();
        self.codes.clear();
    }

    /// Issues a fresh code for `session`'s website login, valid for
    /// [`CODE_TTL`].
    pub(crate) fn issue_code(
        &self,
        session: &FastLoginSession,
        account_id: &str,
        now: SystemTime,
    ) -> String {
        self.issue(
            IssuedCode {
                appid: session.appid.clone(),
                scope: session.scope.clone(),
                account_id: account_id.to_owned(),
                redirect_uri: session.redirect_uri.clone(),
                flow: Flow::Website,
                used: false,
            },
            now,
        )
    }

    /// Stores `code` under a fresh value, for as long as its flow says.
    pub(crate) fn issue(&self, code: IssuedCode, now: SystemTime) -> String {
        let ttl = match code.flow {
            Flow::Website => CODE_TTL,
            Flow::WebAuthorization { .. } => WEB_CODE_TTL,
        };
        let value = crate::random::random_token(32);
        self.codes.insert(value.clone(), code, now + ttl);
        value
    }
}

/// Apps registered at run time by permissive mode: at most
/// [`AppRegistry::MAX`], the earliest registered forgotten first, so a
/// flood of made-up appids can neither grow memory nor lock out a real
/// one; `reset` forgets them all.
#[derive(Debug, Default)]
pub struct AppRegistry {
    registered: Mutex<Registered>,
}

#[derive(Debug, Default)]
struct Registered {
    apps: HashMap<String, WebsiteApp>,
    /// appids in registration order (the oldest first).
    order: VecDeque<String>,
    /// Registrations so far (only the first few are logged at info).
    count: u64,
}

/// Registrations logged at info level; later ones at debug, so a flood of
/// unique appids cannot flood the log.
const LOGGED_REGISTRATIONS: u64 = 20;

impl AppRegistry {
    /// Apps kept at most: a page or script looping over made-up appids
    /// must not grow memory without end. A forgotten app is registered
    /// again on its next use (same appid, same openids: nothing is lost
    /// but its place in the list).
    pub const MAX: usize = MAX_REGISTERED_APPS;

    /// The app registered as `appid`, registering it now as `kind` (the
    /// kind its first endpoint implies), forgetting the earliest registered
    /// one when full.
    pub(crate) fn register(&self, appid: &str, kind: AppKind) -> WebsiteApp {
        let mut registered = self.lock();
        if let Some(app) = registered.apps.get(appid) {
            return app.clone();
        }
        while registered.apps.len() >= Self::MAX {
            let Some(oldest) = registered.order.pop_front() else {
                break;
            };
            registered.apps.remove(&oldest);
        }
        registered.count += 1;
        if registered.count <= LOGGED_REGISTRATIONS {
            tracing::info!(appid, "registered unknown appid {appid} (permissive mode)");
        } else {
            tracing::debug!(appid, "registered unknown appid {appid} (permissive mode)");
        }
        let app = WebsiteApp {
            appid: appid.to_owned(),
            kind,
            ..WebsiteApp::default()
        };
        registered.apps.insert(appid.to_owned(), app.clone());
        registered.order.push_back(appid.to_owned());
        app
    }

    /// Forgets every registered app (the control API's reset).
    pub fn clear(&self) {
        let mut registered = self.lock();
        registered.apps.clear();
        registered.order.clear();
    }

    /// Apps registered at run time, by appid.
    pub fn registered(&self) -> Vec<WebsiteApp> {
        let mut apps: Vec<WebsiteApp> = self.lock().apps.values().cloned().collect();
        apps.sort_by(|a, b| a.appid.cmp(&b.appid));
        apps
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registered> {
        crate::sync::lock(&self.registered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_apps_are_bounded_and_stable() {
        let apps = AppRegistry::default();
        for n in 0..AppRegistry::MAX {
            let appid = format!("wx{n}");
            assert_eq!(apps.register(&appid, AppKind::Website).appid, appid);
        }
        // One more: the earliest registered is forgotten, not the newcomer
        // refused (a flood cannot lock a real app out).
        assert_eq!(
            apps.register("wxonemore", AppKind::Website).appid,
            "wxonemore"
        );
        assert!(!apps.registered().iter().any(|a| a.appid == "wx0"));
        assert!(apps.registered().iter().any(|a| a.appid == "wx1"));
        assert_eq!(
            apps.register("wx7", AppKind::OfficialAccount).appid,
            "wx7",
            "known apps still answer"
        );
        assert_eq!(apps.registered().len(), AppRegistry::MAX);
    }

    #[test]
    fn entries_expire_then_disappear_after_grace() {
        let map = Expiring::new(Duration::from_secs(10));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        map.insert("k".into(), 1, t0 + Duration::from_secs(5));
        assert_eq!(map.get("k", t0), Lookup::Live(1));
        assert_eq!(
            map.get("k", t0 + Duration::from_secs(5)),
            Lookup::Expired(1)
        );
        assert_eq!(map.purge(t0 + Duration::from_secs(14)), 0);
        assert_eq!(map.purge(t0 + Duration::from_secs(15)), 1);
        assert_eq!(map.get("k", t0), Lookup::Missing);
    }

    #[test]
    fn a_capped_map_drops_its_oldest_entries() {
        let map = Expiring::capped(Duration::ZERO, 3);
        let t0 = SystemTime::now();
        let later = t0 + Duration::from_secs(60);
        for key in ["a", "b", "c"] {
            map.insert(key.into(), key, later);
        }
        // Taking "a" frees a place: nothing else is dropped for "d".
        assert_eq!(map.take("a", t0), Lookup::Live("a"));
        map.insert("d".into(), "d", later);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("b", t0), Lookup::Live("b"));
        // Full: "e" pushes out the oldest, "b".
        map.insert("e".into(), "e", later);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("b", t0), Lookup::Missing);
        for key in ["c", "d", "e"] {
            assert_eq!(map.get(key, t0), Lookup::Live(key));
        }
    }

    #[test]
    fn take_is_single_use() {
        let map = Expiring::new(Duration::ZERO);
        let t0 = SystemTime::now();
        map.insert("k".into(), "v", t0 + Duration::from_secs(1));
        assert_eq!(map.take("k", t0), Lookup::Live("v"));
        assert_eq!(map.take("k", t0), Lookup::Missing);
    }
}
