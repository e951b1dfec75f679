//! The person in front of the emulated client: every authorize waits here
//! for a decision.
//!
//! [`Approvals`] is the one place a decision is made. The policy
//! ([`ApprovalMode`]) answers at once (`auto`, `deny`), or the request stays
//! pending until a decision source calls [`Approvals::resolve`] or the
//! deadline passes. Decision sources are whatever subscribes to
//! [`Approvals::subscribe`]: the terminal prompt of `wxemu serve --approve
//! ask`, the desktop app's confirm window, the control API. A client that
//! disconnects drops its request future; the [`PendingGuard`] then withdraws
//! the request and tells every source it is gone.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

/// How the emulated person answers authorize requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// Ask a decision source (terminal prompt, confirm window, control API).
    Ask,
    /// Allow at once.
    Auto,
    /// Deny at once.
    Deny,
    /// Never answer: every request runs into the decision deadline.
    Never,
}

impl ApprovalMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalMode::Ask => "ask",
            ApprovalMode::Auto => "auto",
            ApprovalMode::Deny => "deny",
            ApprovalMode::Never => "never",
        }
    }
}

/// Where the page wants the 360x263 confirm window (its top-left corner).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// What the person is asked about.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizeRequest {
    pub id: u64,
    pub appid: String,
    pub app_name: String,
    pub app_icon_url: String,
    /// The host of redirect_uri: the site the person is logging in to.
    pub site: String,
    pub redirect_uri: String,
    pub origin: Option<String>,
    pub account_id: String,
    pub nickname: String,
    pub headimgurl: String,
    pub position: Option<Position>,
    /// Wall-clock time the request arrived.
    #[serde(with = "unix_millis")]
    pub received_at: SystemTime,
    /// How long the person has to answer.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    /// Nobody answered before the deadline.
    TimedOut,
    /// The client went away, or the server is shutting down.
    Cancelled,
}

#[derive(Debug, Clone)]
pub enum ApprovalEvent {
    Requested(Arc<AuthorizeRequest>),
    Finished { id: u64, outcome: Outcome },
}

struct Pending {
    request: Arc<AuthorizeRequest>,
    answer: oneshot::Sender<Decision>,
}

pub struct Approvals {
    mode: RwLock<ApprovalMode>,
    pending: Mutex<BTreeMap<u64, Pending>>,
    events: broadcast::Sender<ApprovalEvent>,
    next_id: AtomicU64,
}

impl Approvals {
    pub fn new(mode: ApprovalMode) -> Approvals {
        Approvals {
            mode: RwLock::new(mode),
            pending: Mutex::new(BTreeMap::new()),
            events: broadcast::channel(256).0,
            next_id: AtomicU64::new(1),
        }
    }

    pub fn mode(&self) -> ApprovalMode {
        *self.mode.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_mode(&self, mode: ApprovalMode) {
        *self.mode.write().unwrap_or_else(|e| e.into_inner()) = mode;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ApprovalEvent> {
        self.events.subscribe()
    }

    /// Requests waiting for a person, oldest first.
    pub fn pending(&self) -> Vec<Arc<AuthorizeRequest>> {
        self.lock().values().map(|p| p.request.clone()).collect()
    }

    /// Answers a pending request. False when it is no longer pending.
    pub fn resolve(&self, id: u64, decision: Decision) -> bool {
        match self.lock().remove(&id) {
            Some(p) => p.answer.send(decision).is_ok(),
            None => false,
        }
    }

    /// Withdraws every pending request (shutdown): each ends as cancelled.
    pub fn cancel_all(&self) {
        self.lock().clear();
    }

    /// Asks for a decision on `request` (its `id` is assigned here) and
    /// waits for it, at most `request.timeout`.
    pub async fn decide(&self, mut request: AuthorizeRequest) -> Outcome {
        request.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = request.id;
        let timeout = request.timeout;
        let request = Arc::new(request);
        let immediate = match self.mode() {
            ApprovalMode::Auto => Some(Outcome::Allowed),
            ApprovalMode::Deny => Some(Outcome::Denied),
            ApprovalMode::Ask | ApprovalMode::Never => None,
        };
        let _ = self.events.send(ApprovalEvent::Requested(request.clone()));
        if let Some(outcome) = immediate {
            self.finished(id, outcome);
            return outcome;
        }

        let (answer, decision) = oneshot::channel();
        self.lock().insert(id, Pending { request, answer });
        let mut guard = PendingGuard {
            approvals: self,
            id,
            armed: true,
        };
        let outcome = match tokio::time::timeout(timeout, decision).await {
            Ok(Ok(Decision::Allow)) => Outcome::Allowed,
            Ok(Ok(Decision::Deny)) => Outcome::Denied,
            Ok(Err(_)) => Outcome::Cancelled,
            Err(_) => Outcome::TimedOut,
        };
        guard.armed = false;
        self.lock().remove(&id);
        self.finished(id, outcome);
        outcome
    }

    fn finished(&self, id: u64, outcome: Outcome) {
        let _ = self.events.send(ApprovalEvent::Finished { id, outcome });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Lives while a request waits; if the waiting future is dropped (the
/// client disconnected) it withdraws the request.
struct PendingGuard<'a> {
    approvals: &'a Approvals,
    id: u64,
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.approvals.lock().remove(&self.id);
        self.approvals.finished(self.id, Outcome::Cancelled);
    }
}

/// Serializes a `SystemTime` as Unix milliseconds (what the desktop app's
/// JavaScript `Date` takes).
pub(crate) mod unix_millis {
    use std::time::SystemTime;

    pub fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let ms = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        s.serialize_u64(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(timeout: Duration) -> AuthorizeRequest {
        AuthorizeRequest {
            id: 0,
            appid: "wx1".into(),
            app_name: "Demo".into(),
            app_icon_url: String::new(),
            site: "example.com".into(),
            redirect_uri: "https://example.com/cb".into(),
            origin: None,
            account_id: "default".into(),
            nickname: "n".into(),
            headimgurl: String::new(),
            position: None,
            received_at: SystemTime::now(),
            timeout,
        }
    }

    #[tokio::test]
    async fn policy_modes_answer_at_once() {
        let approvals = Approvals::new(ApprovalMode::Auto);
        assert_eq!(
            approvals.decide(request(Duration::from_secs(60))).await,
            Outcome::Allowed
        );
        approvals.set_mode(ApprovalMode::Deny);
        assert_eq!(
            approvals.decide(request(Duration::from_secs(60))).await,
            Outcome::Denied
        );
        assert!(approvals.pending().is_empty());
    }

    #[tokio::test]
    async fn ask_waits_for_a_source() {
        let approvals = Arc::new(Approvals::new(ApprovalMode::Ask));
        let mut events = approvals.subscribe();
        let waiter = tokio::spawn({
            let approvals = approvals.clone();
            async move { approvals.decide(request(Duration::from_secs(60))).await }
        });
        let ApprovalEvent::Requested(req) = events.recv().await.unwrap() else {
            panic!("expected a request event");
        };
        assert_eq!(approvals.pending().len(), 1);
        assert!(approvals.resolve(req.id, Decision::Deny));
        assert_eq!(waiter.await.unwrap(), Outcome::Denied);
        assert!(
            !approvals.resolve(req.id, Decision::Allow),
            "already answered"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn never_runs_into_the_deadline() {
        let approvals = Approvals::new(ApprovalMode::Never);
        assert_eq!(
            approvals.decide(request(Duration::from_secs(60))).await,
            Outcome::TimedOut
        );
        assert!(approvals.pending().is_empty());
    }

    #[tokio::test]
    async fn dropping_the_waiter_withdraws_the_request() {
        let approvals = Arc::new(Approvals::new(ApprovalMode::Ask));
        let mut events = approvals.subscribe();
        let waiter = tokio::spawn({
            let approvals = approvals.clone();
            async move { approvals.decide(request(Duration::from_secs(60))).await }
        });
        let ApprovalEvent::Requested(req) = events.recv().await.unwrap() else {
            panic!("expected a request event");
        };
        waiter.abort();
        let finished = events.recv().await.unwrap();
        assert!(matches!(
            finished,
            ApprovalEvent::Finished { id, outcome: Outcome::Cancelled } if id == req.id
        ));
        assert!(approvals.pending().is_empty());
    }
}
