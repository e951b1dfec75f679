//! One Web WeChat login: credentials, the session's directory, the sync
//! cursor, the bounded conversation and the waiter a held synccheck sleeps
//! on.

use std::collections::VecDeque;
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::watch;

use super::directory::Directory;
use super::ids;
use super::message::{ConversationEntry, WireMessage};

/// What the client holds after webwxnewloginpage: the XML body and the
/// cookies carry these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uin: u64,
    pub sid: String,
    pub skey: String,
    pub pass_ticket: String,
    pub data_ticket: String,
    pub auth_ticket: String,
    pub uvid: String,
}

impl Credentials {
    pub(crate) fn generate(uin: u64) -> Credentials {
        Credentials {
            uin,
            sid: ids::sid(),
            skey: ids::skey(),
            pass_ticket: ids::ticket(64),
            data_ticket: ids::ticket(24),
            auth_ticket: ids::ticket(96),
            uvid: ids::ticket(64).to_ascii_lowercase(),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The web client called webwxlogout.
    Logout,
    /// The same account logged in again (one web session per account).
    Replaced,
    /// Idle past `session_idle_ttl` on the emulated clock.
    Expired,
    /// The phone ended it (control API, `wxemu ctl`, desktop app).
    Phone,
}

/// A session as the control API and the desktop app list it (no secrets).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub id: u64,
    pub account_id: String,
    pub uin: u64,
    pub nickname: String,
    /// The user's UserName in this session.
    pub username: String,
    pub status: SessionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_reason: Option<EndReason>,
    /// Unix milliseconds on the emulated clock.
    pub created_at: u64,
    pub last_seen_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
    /// Conversation entries kept.
    pub messages: usize,
    /// Messages queued for the client and not yet fetched by webwxsync.
    pub undelivered: usize,
    /// Synccheck requests held right now.
    pub held_synccheck: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Live,
    Ended,
}

/// One stored message: the conversation entry, and for messages to the
/// client the wire record and its sequence number.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub entry: ConversationEntry,
    /// Position in the client's message stream (0 for the client's own).
    pub seq: u64,
    pub wire: Option<WireMessage>,
}

pub(crate) struct Session {
    pub id: u64,
    pub creds: Credentials,
    pub directory: Directory,
    pub created_at: SystemTime,
    pub last_seen: SystemTime,
    pub ended: Option<(EndReason, SystemTime)>,
    /// SyncKey values are `base + seq`: a random base, as real keys are
    /// large numbers that differ per login.
    pub sync_base: u64,
    /// The newest seq handed out (0: none yet).
    pub last_seq: u64,
    /// Seqs up to here were fetched by webwxsync.
    pub delivered: u64,
    pub login_secs: u64,
    pub history: VecDeque<Stored>,
    /// Bumped on every message for the client and at the end; held
    /// synccheck requests wait on it.
    pub wake: watch::Sender<u64>,
}

impl Session {
    pub fn is_live(&self) -> bool {
        self.ended.is_none()
    }

    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            id: self.id,
            account_id: self.directory.profile.account_id.clone(),
            uin: self.creds.uin,
            nickname: self.directory.profile.nickname.clone(),
            username: self.directory.self_user_name.clone(),
            status: if self.is_live() {
                SessionStatus::Live
            } else {
                SessionStatus::Ended
            },
            ended_reason: self.ended.map(|(r, _)| r),
            created_at: unix_millis(self.created_at),
            last_seen_at: unix_millis(self.last_seen),
            ended_at: self.ended.map(|(_, at)| unix_millis(at)),
            messages: self.history.len(),
            undelivered: self
                .history
                .iter()
                .filter(|s| s.seq > self.delivered)
                .count(),
            // The sender's own receiver is not a waiter.
            held_synccheck: self.wake.receiver_count(),
        }
    }

    /// The cursor a client's SyncKey names: the largest of keys 1 and 2,
    /// less the base. None when the key is not this session's (garbage, or
    /// from the future).
    pub fn cursor_of(&self, keys: &[(u64, u64)]) -> Option<u64> {
        let val = keys
            .iter()
            .filter(|(k, _)| *k == 1 || *k == 2)
            .map(|(_, v)| *v)
            .max()?;
        let seq = val.checked_sub(self.sync_base)?;
        (seq <= self.last_seq).then_some(seq)
    }

    /// The SyncKey list for a client that has seen up to `seq`.
    pub fn sync_key(&self, seq: u64) -> Vec<(u64, u64)> {
        vec![
            (1, self.sync_base + seq),
            (2, self.sync_base + seq),
            (3, self.sync_base),
            (1000, self.login_secs),
        ]
    }

    pub fn has_news(&self, cursor: u64) -> bool {
        self.last_seq > cursor
    }
}

/// Parses a synccheck `synckey` query value: `1_123|2_456|...`.
pub fn parse_sync_key_query(s: &str) -> Option<Vec<(u64, u64)>> {
    if s.is_empty() || s.len() > 1024 {
        return None;
    }
    s.split('|')
        .map(|pair| {
            let (k, v) = pair.split_once('_')?;
            Some((k.trim().parse().ok()?, v.trim().parse().ok()?))
        })
        .collect()
}

pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub fn unix_secs(t: SystemTime) -> u64 {
    unix_millis(t) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_key_queries_parse_or_are_refused() {
        assert_eq!(
            parse_sync_key_query("1_123|2_456|1000_9"),
            Some(vec![(1, 123), (2, 456), (1000, 9)])
        );
        for bad in [
            "",
            "1_",
            "_1",
            "x_1",
            "1-2",
            "1_2|",
            "1_99999999999999999999999",
        ] {
            assert_eq!(parse_sync_key_query(bad), None, "{bad}");
        }
    }
}
