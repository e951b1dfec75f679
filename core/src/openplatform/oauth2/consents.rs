//! Consent pages waiting for their person: bounded, each until the
//! decision deadline (and a minute), each holding the one-shot channel its
//! page's tap travels on.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

use crate::approval::Decision;
use crate::store::Expiring;

/// A consent page waiting for its person.
#[derive(Debug, Clone)]
pub(crate) struct PendingConsent {
    pub(crate) target: Target,
    /// The page's tap, handed to its waiting call (buffered if the tap
    /// comes first); each end taken once.
    pub(crate) tap: Arc<Mutex<Option<oneshot::Sender<Decision>>>>,
    pub(crate) tapped: Arc<Mutex<Option<oneshot::Receiver<Decision>>>>,
}

/// Everything an authorization keeps until its code is issued.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) appid: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) state: String,
    pub(crate) account_id: String,
}

/// Consent pages waiting: bounded, each for the decision deadline.
#[derive(Debug)]
pub(crate) struct Consents(pub(crate) Expiring<PendingConsent>);

/// Most consent pages open at once; beyond, the oldest is forgotten (its
/// buttons then say the authorization is over).
pub const MAX_CONSENTS: usize = 1000;

impl Default for Consents {
    fn default() -> Self {
        Consents(Expiring::capped(Duration::ZERO, MAX_CONSENTS))
    }
}

impl Consents {
    pub(crate) fn clear(&self) {
        self.0.clear();
    }

    pub(crate) fn purge(&self, now: SystemTime) -> usize {
        self.0.purge(now)
    }
}
