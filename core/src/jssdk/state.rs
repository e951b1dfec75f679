//! What the JS-SDK keeps in one emulator: base tokens, each app's newest
//! token and stable token, its last few tickets, the queued outcomes and
//! the pages that verified, each bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::model::{QueuedOutcome, TicketKind, VerifiedPage, MAX_BASE_TOKENS};
use crate::store::Expiring;

#[derive(Debug, Clone)]
pub(crate) struct IssuedTicket {
    pub(crate) ticket: String,
    pub(crate) kind: TicketKind,
    pub(crate) expires_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct BaseGrant {
    pub(crate) appid: String,
}

/// The JS-SDK's state in one emulator.
#[derive(Debug)]
pub(crate) struct JsSdk {
    /// Every base token issued, to the app it is for.
    pub(crate) tokens: Expiring<BaseGrant>,
    /// Each app's newest `cgi-bin/token` (a new one retires it) and its
    /// stable token with its expiry.
    pub(crate) latest: Mutex<Latest>,
    /// Each app's last few tickets, newest last.
    pub(crate) tickets: Mutex<HashMap<String, VecDeque<IssuedTicket>>>,
    pub(crate) outcomes: Mutex<VecDeque<QueuedOutcome>>,
    pub(crate) pages: Mutex<VecDeque<VerifiedPage>>,
}

#[derive(Debug, Default)]
pub(crate) struct Latest {
    pub(crate) token: HashMap<String, String>,
    pub(crate) stable: HashMap<String, (String, SystemTime)>,
}

impl Default for JsSdk {
    fn default() -> Self {
        JsSdk {
            tokens: Expiring::capped(Duration::from_secs(24 * 3600), MAX_BASE_TOKENS),
            latest: Mutex::default(),
            tickets: Mutex::default(),
            outcomes: Mutex::default(),
            pages: Mutex::default(),
        }
    }
}

impl JsSdk {
    pub(crate) fn clear(&self) {
        self.tokens.clear();
        *crate::sync::lock(&self.latest) = Latest::default();
        crate::sync::lock(&self.tickets).clear();
        crate::sync::lock(&self.outcomes).clear();
        crate::sync::lock(&self.pages).clear();
    }

    pub(crate) fn purge(&self, now: SystemTime) -> usize {
        self.tokens.purge(now)
    }
}

/// A map that forgets an arbitrary entry when it is full: per-app state
/// for appids anyone may make up in permissive mode.
pub(crate) fn insert_bounded<V>(map: &mut HashMap<String, V>, key: String, value: V, cap: usize) {
    if map.len() >= cap && !map.contains_key(&key) {
        if let Some(victim) = map.keys().next().cloned() {
            map.remove(&victim);
        }
    }
    map.insert(key, value);
}
