//! QR-code logins: the sessions behind the login page's QR code and its
//! long poll (protocol.md section 2, "Long poll").
//!
//! A session is created when the login page is served and lives for
//! `[platform] qr_ttl` on the emulated clock:
//!
//! ```text
//! waiting --scan--> scanned --confirm--> confirmed (a code was issued)
//!                      |  ^
//!                   cancel  \--scan-- cancelled   (the phone can scan again)
//! any but confirmed --expire / qr_ttl--> expired
//! ```
//!
//! [`QrLogins`] is the state machine. The operations that need the rest of
//! the emulator (account lookup, code issuing, the clock) are the
//! `Emulator::qr_*` methods in `ops.rs`: the page, the long poll, `serve --approve
//! auto|deny`, the control API and the desktop app all go through them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::clock::Clock;
use crate::random::random_token;

/// How long a finished or expired session stays visible (as "expired" or
/// "confirmed") before it is forgotten and its uuid answers 500.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// At most this many QR logins are kept; creating one more forgets the
/// oldest (its page's long poll then gets wx_errcode 500, as for an unknown
/// uuid). Any GET of the login page creates one, a cross-site page's too;
/// a person has one open login page at a time, a busy browser suite tens.
pub const MAX_QR_LOGINS: usize = 2_000;

/// How often a held long poll re-checks expiry: the emulated clock can
/// jump (tests, control API) without waking anyone.
const EXPIRY_RECHECK: Duration = Duration::from_millis(250);

/// What the QR code logs in to: the login page's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrTarget {
    pub appid: String,
    pub scope: String,
    pub redirect_uri: String,
    pub state: String,
}

/// Which login a QR code belongs to: both kinds are scanned, confirmed,
/// cancelled and expired through the same operations and commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QrKind {
    /// "Log in with WeChat" on a website: confirming issues a code.
    OpenPlatform,
    /// Web WeChat (bot libraries): confirming issues a login ticket.
    WebWechat,
}

/// Where a QR login is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum QrStatus {
    /// Shown, nobody scanned it yet.
    Waiting,
    /// Scanned; the phone asks its owner to confirm.
    Scanned { account_id: String },
    /// The phone's owner cancelled; the code can be scanned again.
    Cancelled { account_id: String },
    /// Confirmed; `code` is what the page sends to the site.
    Confirmed { account_id: String, code: String },
    /// Too old (or expired on purpose): the page offers a refresh.
    Expired,
}

impl QrStatus {
    /// The long poll's `wx_errcode` for this status.
    pub fn wx_errcode(&self) -> u16 {
        match self {
            QrStatus::Waiting => 408,
            QrStatus::Scanned { .. } => 404,
            QrStatus::Cancelled { .. } => 403,
            QrStatus::Expired => 402,
            QrStatus::Confirmed { .. } => 405,
        }
    }
}

/// One QR login as the control API and the desktop app see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrSummary {
    pub uuid: String,
    pub kind: QrKind,
    #[serde(flatten)]
    pub target: QrTarget,
    #[serde(flatten)]
    pub status: QrStatus,
    #[serde(with = "crate::approval::unix_millis")]
    pub created_at: SystemTime,
    #[serde(with = "crate::approval::unix_millis")]
    pub expires_at: SystemTime,
}

/// Streamed as `{"event": "created" | "changed", <the summary's fields>}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum QrEvent {
    Created(QrSummary),
    Changed(QrSummary),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("no QR login has uuid {0:?} (never issued, or forgotten after expiry)")]
    Unknown(String),
    #[error("no account has id {0:?}")]
    UnknownAccount(String),
    #[error("the QR code has expired")]
    Expired,
    #[error("the QR code was already scanned; confirm or cancel it")]
    AlreadyScanned,
    #[error("the QR code has not been scanned (or was cancelled); scan it first")]
    NotScanned,
    #[error("the login was already confirmed")]
    AlreadyConfirmed,
}

/// What a long poll answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollReply {
    Status(QrStatus),
    /// Unknown or forgotten uuid: `wx_errcode=500`.
    Unknown,
}

impl PollReply {
    pub fn wx_errcode(&self) -> u16 {
        match self {
            PollReply::Status(s) => s.wx_errcode(),
            PollReply::Unknown => 500,
        }
    }

    pub fn wx_code(&self) -> &str {
        match self {
            PollReply::Status(QrStatus::Confirmed { code, .. }) => code,
            _ => "",
        }
    }
}

struct Session {
    kind: QrKind,
    target: QrTarget,
    status: QrStatus,
    created_at: SystemTime,
    expires_at: SystemTime,
    /// Bumped on every change; held long polls wait on it.
    version: watch::Sender<u64>,
}

impl Session {
    /// The status with expiry applied: a confirmed login stays confirmed.
    fn status_at(&self, now: SystemTime) -> QrStatus {
        match &self.status {
            QrStatus::Confirmed { .. } | QrStatus::Expired => self.status.clone(),
            _ if now >= self.expires_at => QrStatus::Expired,
            status => status.clone(),
        }
    }

    fn summary(&self, uuid: &str, now: SystemTime) -> QrSummary {
        QrSummary {
            uuid: uuid.to_owned(),
            kind: self.kind,
            target: self.target.clone(),
            status: self.status_at(now),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// Every QR login of one server.
pub struct QrLogins {
    sessions: Mutex<HashMap<String, Session>>,
    events: broadcast::Sender<QrEvent>,
    /// Set at shutdown: held long polls answer at once instead of keeping
    /// the server waiting for their hold.
    closing: watch::Sender<bool>,
}

impl Default for QrLogins {
    fn default() -> Self {
        QrLogins {
            sessions: Mutex::new(HashMap::new()),
            events: broadcast::channel(256).0,
            closing: watch::channel(false).0,
        }
    }
}

impl QrLogins {
    /// Creation and every change, for the desktop app, the control API and
    /// the auto-approver.
    pub fn subscribe(&self) -> broadcast::Receiver<QrEvent> {
        self.events.subscribe()
    }

    /// Every live or recently finished QR login, oldest first.
    pub fn list(&self, now: SystemTime) -> Vec<QrSummary> {
        let mut all: Vec<QrSummary> = self
            .lock()
            .iter()
            .map(|(uuid, s)| s.summary(uuid, now))
            .collect();
        all.sort_by(|a, b| (a.created_at, &a.uuid).cmp(&(b.created_at, &b.uuid)));
        all
    }

    pub fn get(&self, uuid: &str, now: SystemTime) -> Option<QrSummary> {
        self.lock().get(uuid).map(|s| s.summary(uuid, now))
    }

    pub(crate) fn create(
        &self,
        kind: QrKind,
        target: QrTarget,
        now: SystemTime,
        ttl: Duration,
    ) -> QrSummary {
        let uuid = match kind {
            QrKind::OpenPlatform => random_token(16),
            // Clients match `[A-Za-z0-9_-]{10}==`-like uuids and put them
            // into URLs unencoded.
            QrKind::WebWechat => crate::webwx::ids::login_uuid(),
        };
        let session = Session {
            kind,
            target,
            status: QrStatus::Waiting,
            created_at: now,
            expires_at: now + ttl,
            version: watch::channel(0).0,
        };
        let summary = session.summary(&uuid, now);
        let mut sessions = self.lock();
        if sessions.len() >= MAX_QR_LOGINS {
            // Forget the long dead first, then the oldest.
            sessions.retain(|_, s| now < s.expires_at + FORGET_AFTER);
            while sessions.len() >= MAX_QR_LOGINS {
                let oldest = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.created_at)
                    .map(|(uuid, _)| uuid.clone());
                match oldest {
                    Some(oldest) => sessions.remove(&oldest),
                    None => break,
                };
            }
        }
        sessions.insert(uuid, session);
        drop(sessions);
        let _ = self.events.send(QrEvent::Created(summary.clone()));
        summary
    }

    /// Applies `change` to the session's current status (expiry applied)
    /// and wakes its long polls.
    pub(crate) fn transition(
        &self,
        uuid: &str,
        now: SystemTime,
        change: impl FnOnce(QrKind, &QrTarget, QrStatus) -> Result<QrStatus, QrError>,
    ) -> Result<QrSummary, QrError> {
        let mut sessions = self.lock();
        let session = sessions
            .get_mut(uuid)
            .ok_or_else(|| QrError::Unknown(uuid.to_owned()))?;
        session.status = change(session.kind, &session.target, session.status_at(now))?;
        session.version.send_modify(|v| *v += 1);
        let summary = session.summary(uuid, now);
        drop(sessions);
        let _ = self.events.send(QrEvent::Changed(summary.clone()));
        Ok(summary)
    }

    /// Answers a long poll: at once when there is news for a page that last
    /// saw `last`, else when the status changes, else [`QrStatus::Waiting`]
    /// (408) after `hold`.
    ///
    /// "News" is a terminal status (402, 405), a status other than `last`,
    /// or any change during this poll (a cancel and a second scan between
    /// two polls must not look like nothing happened).
    pub async fn poll(
        &self,
        uuid: &str,
        last: Option<u16>,
        hold: Duration,
        clock: &Clock,
    ) -> PollReply {
        let Some(mut changes) = self.lock().get(uuid).map(|s| s.version.subscribe()) else {
            return PollReply::Unknown;
        };
        let seen = *changes.borrow_and_update();
        let mut closing = self.closing.subscribe();
        let deadline = tokio::time::Instant::now() + hold;
        loop {
            let Some((status, version)) = self
                .lock()
                .get(uuid)
                .map(|s| (s.status_at(clock.now()), *s.version.borrow()))
            else {
                return PollReply::Unknown;
            };
            let news = match status {
                QrStatus::Waiting => false,
                QrStatus::Confirmed { .. } | QrStatus::Expired => true,
                QrStatus::Scanned { .. } | QrStatus::Cancelled { .. } => {
                    last != Some(status.wx_errcode()) || version != seen
                }
            };
            if news {
                return PollReply::Status(status);
            }
            if *closing.borrow_and_update() {
                return PollReply::Status(QrStatus::Waiting);
            }
            tokio::select! {
                _ = closing.changed() => {}
                changed = changes.changed() => {
                    if changed.is_err() {
                        return PollReply::Unknown; // forgotten meanwhile
                    }
                }
                () = tokio::time::sleep(EXPIRY_RECHECK) => {}
                () = tokio::time::sleep_until(deadline) => {
                    return PollReply::Status(QrStatus::Waiting);
                }
            }
        }
    }

    /// How many long polls are held on `uuid` right now (0 for unknown):
    /// whether a page is still showing the code.
    pub fn held_polls(&self, uuid: &str) -> usize {
        self.lock()
            .get(uuid)
            .map_or(0, |s| s.version.receiver_count())
    }

    /// Shutdown: every held and future long poll answers 408 at once.
    pub(crate) fn release_polls(&self) {
        self.closing.send_replace(true);
    }

    /// Forgets sessions [`FORGET_AFTER`] past their expiry; returns how many.
    pub(crate) fn purge(&self, now: SystemTime) -> usize {
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions.retain(|_, s| now < s.expires_at + FORGET_AFTER);
        before - sessions.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // Every change is a single assignment: a panic elsewhere cannot
        // leave a session half-changed.
        crate::sync::lock(&self.sessions)
    }
}
