//! The person in front of the emulated client: every authorize waits here
//! for a decision.
//!
//! [`Approvals`] is the one place a decision is made. The policy
//! ([`ApprovalMode`]) answers at once (`auto`, `deny`), or the request stays
//! pending until a decision source answers it or the deadline passes.
//! Decision sources follow
//! [`Emulator::subscribe_approvals`](crate::Emulator::subscribe_approvals)
//! and answer through
//! [`Emulator::resolve_authorization`](crate::Emulator::resolve_authorization):
//! the terminal prompt of `wxemu serve --approve ask`, the desktop app's
//! confirm window, the control API. Only the emulator holds an
//! [`Approvals`], so every change goes through its operations. A client that
//! disconnects drops its request future; the [`PendingGuard`] then withdraws
//! the request and tells every source it is gone.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

/// How the emulated person answers authorize requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl crate::named::Named for ApprovalMode {
    const ALL: &'static [Self] = &[
        ApprovalMode::Ask,
        ApprovalMode::Auto,
        ApprovalMode::Deny,
        ApprovalMode::Never,
    ];

    fn name(self) -> &'static str {
        self.as_str()
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    /// Nobody answered before the deadline.
    TimedOut,
    /// The client went away, or the server is shutting down.
    Cancelled,
}

/// What the person answers for an authorize that has not arrived yet
/// (control API, scenario file): consumed first, in order, one per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedDecision {
    pub decision: QueuedAnswer,
    /// Wait this long before answering (the person hesitates).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    /// Allow as this account instead of the one check-login showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueuedAnswer {
    Allow,
    Deny,
    /// Never answer: the request runs into the decision deadline.
    Timeout,
}

/// An [`Outcome`] plus who was allowed, when a decision source chose an
/// account other than the one the request was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub account: Option<String>,
}

/// Streamed as `{"event": "requested", <the request's fields>}` and
/// `{"event": "finished", "id": ..., "outcome": ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ApprovalEvent {
    Requested(Arc<AuthorizeRequest>),
    Finished { id: u64, outcome: Outcome },
}

struct Pending {
    request: Arc<AuthorizeRequest>,
    answer: oneshot::Sender<(Decision, Option<String>)>,
}

pub struct Approvals {
    mode: RwLock<ApprovalMode>,
    /// Answers decided in advance; consumed before the mode is consulted.
    /// The request id is assigned under this lock, so ids and queue order
    /// agree even when authorizes race.
    queue: Mutex<VecDeque<QueuedDecision>>,
    pending: Mutex<BTreeMap<u64, Pending>>,
    events: broadcast::Sender<ApprovalEvent>,
    next_id: AtomicU64,
}

impl Approvals {
    pub(crate) fn new(mode: ApprovalMode) -> Approvals {
        Approvals {
            mode: RwLock::new(mode),
            queue: Mutex::new(VecDeque::new()),
            pending: Mutex::new(BTreeMap::new()),
            events: broadcast::channel(256).0,
            next_id: AtomicU64::new(1),
        }
    }

    pub fn mode(&self) -> ApprovalMode {
        *crate::sync::read(&self.mode)
    }

    pub(crate) fn set_mode(&self, mode: ApprovalMode) {
        *crate::sync::write(&self.mode) = mode;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ApprovalEvent> {
        self.events.subscribe()
    }

    /// Requests waiting for a person, oldest first.
    pub fn pending(&self) -> Vec<Arc<AuthorizeRequest>> {
        self.lock().values().map(|p| p.request.clone()).collect()
    }

    /// Answers a pending request. False when it is no longer pending.
    #[cfg(test)]
    fn resolve(&self, id: u64, decision: Decision) -> bool {
        self.resolve_as(id, decision, None)
    }

    /// Answers a pending request, allowing it as `account` (if given)
    /// rather than the account it was made for.
    pub(crate) fn resolve_as(&self, id: u64, decision: Decision, account: Option<String>) -> bool {
        match self.lock().remove(&id) {
            Some(p) => p.answer.send((decision, account)).is_ok(),
            None => false,
        }
    }

    /// Adds answers for the next authorize requests, after those queued.
    pub(crate) fn enqueue(&self, decisions: impl IntoIterator<Item = QueuedDecision>) {
        self.queue_lock().extend(decisions);
    }

    /// The answers still queued, next first.
    pub fn queued(&self) -> Vec<QueuedDecision> {
        self.queue_lock().iter().cloned().collect()
    }

    /// Drops every queued answer; returns how many there were.
    pub(crate) fn clear_queue(&self) -> usize {
        let mut queue = self.queue_lock();
        let n = queue.len();
        queue.clear();
        n
    }

    /// Withdraws every pending request (shutdown): each ends as cancelled.
    pub(crate) fn cancel_all(&self) {
        self.lock().clear();
    }

    /// Asks for a decision on `request` (its `id` is assigned here) and
    /// waits for it, at most `request.timeout`.
    #[cfg(test)]
    async fn decide(&self, request: AuthorizeRequest) -> Outcome {
        self.decide_detailed(request).await.outcome
    }

    /// Like [`Approvals::decide`], also telling which account a decision
    /// source allowed, when it chose one.
    pub(crate) async fn decide_detailed(&self, mut request: AuthorizeRequest) -> Verdict {
        let queued = {
            let mut queue = self.queue_lock();
            request.id = self.next_id.fetch_add(1, Ordering::Relaxed);
            queue.pop_front()
        };
        let id = request.id;
        let timeout = request.timeout;
        // Decided in advance: nobody is asked, so decision sources (prompt,
        // confirm window) hear only that it finished.
        if let Some(queued) = queued {
            return self.answer_queued(id, timeout, queued).await;
        }
        let request = Arc::new(request);
        let _ = self.events.send(ApprovalEvent::Requested(request.clone()));
        let immediate = match self.mode() {
            ApprovalMode::Auto => Some(Outcome::Allowed),
            ApprovalMode::Deny => Some(Outcome::Denied),
            ApprovalMode::Ask | ApprovalMode::Never => None,
        };
        if let Some(outcome) = immediate {
            self.finished(id, outcome);
            return Verdict {
                outcome,
                account: None,
            };
        }

        let (answer, decision) = oneshot::channel();
        self.lock().insert(id, Pending { request, answer });
        let mut guard = PendingGuard {
            approvals: self,
            id,
            armed: true,
        };
        let (outcome, account) = match tokio::time::timeout(timeout, decision).await {
            Ok(Ok((Decision::Allow, account))) => (Outcome::Allowed, account),
            Ok(Ok((Decision::Deny, _))) => (Outcome::Denied, None),
            Ok(Err(_)) => (Outcome::Cancelled, None),
            Err(_) => (Outcome::TimedOut, None),
        };
        guard.armed = false;
        self.lock().remove(&id);
        self.finished(id, outcome);
        Verdict { outcome, account }
    }

    /// Plays a queued answer: after its delay (never longer than the
    /// request's deadline), or never for `timeout`.
    async fn answer_queued(&self, id: u64, timeout: Duration, queued: QueuedDecision) -> Verdict {
        // Reported as cancelled if the client goes away meanwhile.
        let mut guard = PendingGuard {
            approvals: self,
            id,
            armed: true,
        };
        let delay = queued.delay.unwrap_or(Duration::ZERO);
        let (outcome, account) = match queued.decision {
            QueuedAnswer::Timeout => {
                tokio::time::sleep(timeout).await;
                (Outcome::TimedOut, None)
            }
            _ if delay >= timeout => {
                tokio::time::sleep(timeout).await;
                (Outcome::TimedOut, None)
            }
            answer => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if answer == QueuedAnswer::Allow {
                    (Outcome::Allowed, queued.account)
                } else {
                    (Outcome::Denied, None)
                }
            }
        };
        guard.armed = false;
        self.finished(id, outcome);
        Verdict { outcome, account }
    }

    fn finished(&self, id: u64, outcome: Outcome) {
        let _ = self.events.send(ApprovalEvent::Finished { id, outcome });
    }

    fn queue_lock(&self) -> std::sync::MutexGuard<'_, VecDeque<QueuedDecision>> {
        crate::sync::lock(&self.queue)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Pending>> {
        crate::sync::lock(&self.pending)
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

    /// Starts a `decide` that waits for an answer; its task and the request
    /// it announced.
    async fn ask_in_background(
        approvals: &Arc<Approvals>,
        events: &mut tokio::sync::broadcast::Receiver<ApprovalEvent>,
    ) -> (tokio::task::JoinHandle<Outcome>, Arc<AuthorizeRequest>) {
        let waiter = tokio::spawn({
            let approvals = approvals.clone();
            async move { approvals.decide(request(Duration::from_secs(60))).await }
        });
        let ApprovalEvent::Requested(req) = events.recv().await.unwrap() else {
            panic!("expected a request event");
        };
        (waiter, req)
    }

    #[tokio::test]
    async fn ask_waits_for_a_source() {
        let approvals = Arc::new(Approvals::new(ApprovalMode::Ask));
        let mut events = approvals.subscribe();
        let (waiter, req) = ask_in_background(&approvals, &mut events).await;
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
        let (waiter, req) = ask_in_background(&approvals, &mut events).await;
        waiter.abort();
        let finished = events.recv().await.unwrap();
        assert!(matches!(
            finished,
            ApprovalEvent::Finished { id, outcome: Outcome::Cancelled } if id == req.id
        ));
        assert!(approvals.pending().is_empty());
    }

    fn queued(decision: QueuedAnswer, account: Option<&str>) -> QueuedDecision {
        QueuedDecision {
            decision,
            delay: None,
            account: account.map(str::to_owned),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn queued_answers_come_first_in_order_then_the_mode() {
        let approvals = Approvals::new(ApprovalMode::Auto);
        approvals.enqueue([
            queued(QueuedAnswer::Deny, None),
            queued(QueuedAnswer::Allow, Some("alice")),
            queued(QueuedAnswer::Timeout, None),
        ]);
        let timeout = Duration::from_secs(60);
        let mut events = approvals.subscribe();
        let v = approvals.decide_detailed(request(timeout)).await;
        assert_eq!(v.outcome, Outcome::Denied);
        // Nobody was asked: the only event is the end.
        assert!(matches!(
            events.try_recv(),
            Ok(ApprovalEvent::Finished {
                outcome: Outcome::Denied,
                ..
            })
        ));
        let v = approvals.decide_detailed(request(timeout)).await;
        assert_eq!(
            v,
            Verdict {
                outcome: Outcome::Allowed,
                account: Some("alice".into())
            }
        );
        assert_eq!(approvals.decide(request(timeout)).await, Outcome::TimedOut);
        assert!(approvals.queued().is_empty());
        assert_eq!(approvals.decide(request(timeout)).await, Outcome::Allowed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_delay_longer_than_the_deadline_times_out() {
        let approvals = Approvals::new(ApprovalMode::Auto);
        approvals.enqueue([QueuedDecision {
            decision: QueuedAnswer::Allow,
            delay: Some(Duration::from_secs(5)),
            account: None,
        }]);
        let started = tokio::time::Instant::now();
        assert_eq!(
            approvals.decide(request(Duration::from_secs(2))).await,
            Outcome::TimedOut
        );
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }
}
