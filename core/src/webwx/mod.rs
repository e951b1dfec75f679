//! Web WeChat: the old browser client's QR login and message session that
//! bot libraries (itchat-uos, wechat4u, openwechat) still speak
//! (protocol.md section 3, issue 11). wxemu plays the server, the phone and
//! the friends.
//!
//! This module is the domain only, with no HTTP in it: [`WebWx`] holds the
//! login tickets, the sessions (one live session per account; a new login
//! ends the older one), each session's address book, message stream and
//! conversation, and the waiters of held synccheck requests. Every
//! lifetime is measured on the emulated clock; everything kept is bounded.
//! The wire formats (`window.code=...`, XML, cookies, JSON envelopes) are
//! the web layer's.
//!
//! ```text
//! QR confirmed --issue_ticket--> ticket --redeem_ticket--> live session
//! live --webwxlogout | new login of the account | idle ttl | phone--> ended (1101)
//! ```

/// Where the avatar of a Web WeChat user is served: the one path the
/// domain names, since `webwxinit` hands it to the bot inside `HeadImgUrl`
/// (the web floor's registry routes it from here).
pub const GETICON_PATH: &str = "/cgi-bin/mmwebwx-bin/webwxgeticon";

pub mod contacts;
pub mod directory;
pub mod ids;
pub mod message;
pub mod session;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::clock::Clock;
pub use contacts::{Contact, ContactBook, ContactKind};
pub use directory::{ContactSummary, Profile, FILEHELPER};
use directory::{Directory, SharedBook};
use message::{plain_text, wire_text};
pub use message::{ConversationEntry, Direction, WireMessage, MSG_STATUS_NOTIFY, MSG_TEXT};
use session::{unix_millis, unix_secs, Session, Stored};
pub use session::{Credentials, EndReason, SessionSummary};

/// Tunables; `[webwx]` in config.toml sets them.
#[derive(Debug, Clone, PartialEq)]
pub struct WebWxSettings {
    /// How long a login ticket (`redirect_uri`) can be redeemed.
    pub ticket_ttl: Duration,
    /// A session nobody used for this long ends (1101).
    pub session_idle_ttl: Duration,
    /// How long synccheck holds when there is nothing new (under 30 s:
    /// some clients time out at 30).
    pub synccheck_hold: Duration,
    /// Contacts per webwxgetcontact page.
    pub contact_page_size: usize,
    /// Conversation entries kept per session (oldest dropped first).
    pub history_per_session: usize,
    /// Bytes of one message text.
    pub max_text_bytes: usize,
    /// Ended sessions kept for the control API (oldest forgotten first).
    pub ended_sessions_kept: usize,
    /// Live sessions at once (one per account; this bounds the accounts).
    pub max_live_sessions: usize,
    /// Messages per webwxsync reply (the rest: ContinueFlag, next sync).
    pub sync_batch: usize,
}

impl Default for WebWxSettings {
    fn default() -> Self {
        WebWxSettings {
            ticket_ttl: Duration::from_secs(300),
            session_idle_ttl: Duration::from_secs(3600),
            synccheck_hold: Duration::from_secs(25),
            contact_page_size: 500,
            history_per_session: 1000,
            max_text_bytes: 16 * 1024,
            ended_sessions_kept: 200,
            max_live_sessions: 10_000,
            sync_batch: 100,
        }
    }
}

/// The appid of Web WeChat's jslogin (every client sends this one).
pub const WEB_APPID: &str = "wx782c26e4c19acffb";

/// Pending login tickets at most (oldest dropped first).
const MAX_TICKETS: usize = 10_000;
/// UserNames in one webwxbatchgetcontact.
pub const MAX_BATCH: usize = 1000;
/// How often a held synccheck re-checks idle expiry: the emulated clock can
/// jump without waking anyone.
const EXPIRY_RECHECK: Duration = Duration::from_secs(1);

/// The account a ticket logs in, as the config describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountProfile {
    pub id: String,
    pub nickname: String,
    pub sex: u8,
    pub signature: String,
    pub province: String,
    pub city: String,
    pub contacts: ContactBook,
}

/// Who a request says it is: `Uin` + `Sid` (BaseRequest, synccheck query
/// or cookies). Clients disagree on the rest (Skey empty, pass_ticket
/// garbled, DeviceID per call), so only these two identify a session.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub uin: &'a str,
    pub sid: &'a str,
}

/// Both answer `Ret 1101` / `retcode:"1101"` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Web WeChat session has these credentials")]
    Unknown,
    #[error("the session has ended")]
    LoggedOut,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("unknown or already used login ticket")]
    Unknown,
    #[error("the ticket belongs to another uuid")]
    UuidMismatch,
    #[error("the login ticket has expired")]
    Expired,
    #[error("no account has id {0:?}")]
    UnknownAccount(String),
    #[error("too many live Web WeChat sessions (at most {0})")]
    TooManySessions(usize),
}

/// Control-side errors (control API, `wxemu ctl`, desktop app).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebWxError {
    #[error("no live Web WeChat session (log a bot in first)")]
    NoLiveSession,
    #[error("no Web WeChat session has id {0}")]
    UnknownSession(u64),
    #[error("Web WeChat session {0} has ended")]
    SessionEnded(u64),
    #[error("the session has no contact {0:?} (a UserName, contact id, remark or nickname; or friend, filehelper, self)")]
    UnknownContact(String),
    #[error("group {group:?} has no member {member:?} other than the user")]
    UnknownMember { group: String, member: String },
    #[error("{0}")]
    BadRecipient(String),
    #[error("text is empty")]
    EmptyText,
    #[error("text is longer than {0} bytes")]
    TextTooLong(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("unknown recipient {0:?}")]
    UnknownRecipient(String),
    #[error("message text is empty")]
    Empty,
    #[error("message text is longer than {0} bytes")]
    TooLong(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("SyncKey is not this session's")]
    BadSyncKey,
}

/// webwxnewloginpage's result: the new session's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginGrant {
    pub session: u64,
    pub creds: Credentials,
    /// The session this login ended, if the account had one.
    pub replaced: Option<u64>,
}

/// webwxinit's content.
#[derive(Debug, Clone, PartialEq)]
pub struct InitData {
    pub user: Contact,
    /// Recent chats: filehelper, groups, official accounts.
    pub contacts: Vec<Contact>,
    pub sync_key: Vec<(u64, u64)>,
    pub skey: String,
    /// `filehelper,@@...,` as the real one.
    pub chat_set: String,
    pub system_time: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    /// 0 on the last page, else the `seq` to ask for next.
    pub next_seq: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncData {
    pub messages: Vec<WireMessage>,
    pub sync_key: Vec<(u64, u64)>,
    pub skey: String,
    /// More messages wait than one reply carries.
    pub more: bool,
}

/// What a synccheck answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCheck {
    /// `selector:"0"`: nothing new during the hold.
    Idle,
    /// `selector:"2"`: call webwxsync.
    NewMessages,
    /// `retcode:"1101"`.
    LoggedOut,
    /// A synckey that is not this session's: `retcode:"1102"`.
    BadSyncKey,
}

/// A message the phone or a friend sends to the web client.
#[derive(Debug, Clone, Copy)]
pub struct Injection<'a> {
    /// None: the newest live session.
    pub session: Option<u64>,
    /// `friend`, `filehelper`, `self`, a UserName, contact id, remark or
    /// nickname (a friend, group or official account).
    pub from: &'a str,
    /// Only with `from: self` (the phone sent it): the recipient
    /// (default filehelper).
    pub to: Option<&'a str>,
    /// Group messages: who in the group speaks (default the first member
    /// other than the user).
    pub member: Option<&'a str>,
    pub text: &'a str,
}

/// What changes, for the desktop app and the control API's watchers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WebWxEvent {
    SessionStarted { session: SessionSummary },
    SessionEnded { session: SessionSummary },
    Message { message: ConversationEntry },
}

struct Ticket {
    account_id: String,
    uuid: String,
    expires_at: SystemTime,
    issued: u64,
}

#[derive(Default)]
struct State {
    tickets: HashMap<String, Ticket>,
    tickets_issued: u64,
    sessions: BTreeMap<u64, Session>,
    by_sid: HashMap<String, u64>,
    live_by_account: HashMap<String, u64>,
    next_session: u64,
    /// The contact books sessions share, newest last (at most
    /// [`MAX_SHARED_BOOKS`]; a dropped one lives on in its sessions).
    books: Vec<Arc<SharedBook>>,
}

/// Distinct contact books kept for new logins to share.
const MAX_SHARED_BOOKS: usize = 64;

/// Every Web WeChat login and session of one server.
pub struct WebWx {
    state: Mutex<State>,
    /// Fixed at start (`[webwx]` in config.toml).
    settings: WebWxSettings,
    events: broadcast::Sender<WebWxEvent>,
    /// Set at shutdown: held synccheck requests answer at once.
    closing: watch::Sender<bool>,
    /// The last login-poll answer per QR uuid (Open Platform errcodes): a
    /// poll answers at once only when something changed since (clients
    /// send no state of their own; itchat always says tip=1).
    poll_answers: Mutex<HashMap<String, u16>>,
}

/// QR uuids whose last login-poll answer is remembered.
const MAX_POLL_ANSWERS: usize = 10_000;

impl Default for WebWx {
    fn default() -> Self {
        WebWx::new(WebWxSettings::default())
    }
}

impl WebWx {
    pub fn new(settings: WebWxSettings) -> WebWx {
        WebWx {
            state: Mutex::new(State::default()),
            settings,
            events: broadcast::channel(1024).0,
            closing: watch::channel(false).0,
            poll_answers: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn last_poll_answer(&self, uuid: &str) -> Option<u16> {
        self.poll_answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(uuid)
            .copied()
    }

    pub(crate) fn note_poll_answer(&self, uuid: &str, code: u16) {
        let mut answers = self.poll_answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= MAX_POLL_ANSWERS && !answers.contains_key(uuid) {
            // Forgetting costs at most one repeated 201 per client.
            answers.clear();
        }
        answers.insert(uuid.to_owned(), code);
    }

    pub fn settings(&self) -> &WebWxSettings {
        &self.settings
    }

    pub fn subscribe(&self) -> broadcast::Receiver<WebWxEvent> {
        self.events.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change below completes under the lock before anything can
        // panic, so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- login -------------------------------------------------------

    /// The phone of `account_id` confirmed QR login `uuid`: the ticket the
    /// login poll's `redirect_uri` carries. Single use.
    pub fn issue_ticket(&self, account_id: &str, uuid: &str, now: SystemTime) -> String {
        let ttl = self.settings().ticket_ttl;
        let mut st = self.lock();
        st.tickets.retain(|_, t| t.expires_at > now);
        if st.tickets.len() >= MAX_TICKETS {
            if let Some(oldest) = st
                .tickets
                .iter()
                .min_by_key(|(_, t)| t.issued)
                .map(|(k, _)| k.clone())
            {
                st.tickets.remove(&oldest);
            }
        }
        st.tickets_issued += 1;
        let ticket = ids::login_ticket();
        let issued = st.tickets_issued;
        st.tickets.insert(
            ticket.clone(),
            Ticket {
                account_id: account_id.to_owned(),
                uuid: uuid.to_owned(),
                expires_at: now + ttl,
                issued,
            },
        );
        ticket
    }

    /// webwxnewloginpage: redeems a ticket (once) for a new session of its
    /// account, ending the account's older session. `account` looks the
    /// account up in the current config.
    pub fn redeem_ticket(
        &self,
        ticket: &str,
        uuid: &str,
        account: impl FnOnce(&str) -> Option<AccountProfile>,
        now: SystemTime,
    ) -> Result<LoginGrant, TicketError> {
        let settings = self.settings();
        let mut st = self.lock();
        let t = st.tickets.get(ticket).ok_or(TicketError::Unknown)?;
        if t.uuid != uuid {
            return Err(TicketError::UuidMismatch);
        }
        let t = st.tickets.remove(ticket).ok_or(TicketError::Unknown)?;
        if t.expires_at <= now {
            return Err(TicketError::Expired);
        }
        let profile = account(&t.account_id)
            .ok_or_else(|| TicketError::UnknownAccount(t.account_id.clone()))?;
        let replaced = st.live_by_account.get(&profile.id).copied();
        if replaced.is_none() && st.live_by_account.len() >= settings.max_live_sessions {
            return Err(TicketError::TooManySessions(settings.max_live_sessions));
        }
        let mut ended = None;
        if let Some(old) = replaced {
            ended = end_locked(&mut st, old, EndReason::Replaced, now);
        }
        st.next_session += 1;
        let id = st.next_session;
        let uin = ids::uin_for(&profile.id);
        let creds = Credentials::generate(uin);
        let directory = Directory::new(
            Profile {
                account_id: profile.id.clone(),
                nickname: profile.nickname.clone(),
                sex: profile.sex,
                signature: profile.signature.clone(),
                province: profile.province.clone(),
                city: profile.city.clone(),
            },
            shared_book(&mut st.books, &profile.contacts),
            uin,
        );
        let session = Session {
            id,
            creds: creds.clone(),
            directory,
            created_at: now,
            last_seen: now,
            ended: None,
            sync_base: 600_000_000 + u64::from(rand::random::<u16>()) * 1000,
            last_seq: 0,
            delivered: 0,
            login_secs: unix_secs(now),
            history: Default::default(),
            wake: watch::channel(0).0,
        };
        let summary = session.summary();
        st.by_sid.insert(creds.sid.clone(), id);
        st.live_by_account.insert(profile.id.clone(), id);
        st.sessions.insert(id, session);
        forget_old_ended(&mut st, settings.ended_sessions_kept);
        drop(st);
        if let Some(old) = ended {
            let _ = self.events.send(WebWxEvent::SessionEnded { session: old });
        }
        let _ = self
            .events
            .send(WebWxEvent::SessionStarted { session: summary });
        Ok(LoginGrant {
            session: id,
            creds,
            replaced,
        })
    }

    // ---- the web client's calls ----------------------------------------

    /// Runs `f` on the caller's live session (touching it), or says why
    /// there is none. Ends an idle-expired session on the way.
    fn with_session<T>(
        &self,
        caller: Caller<'_>,
        now: SystemTime,
        f: impl FnOnce(&mut Session, &WebWxSettings) -> T,
    ) -> Result<T, AuthError> {
        let settings = self.settings();
        let mut st = self.lock();
        let id = find_session(&st, caller)?;
        if let Some(ended) = expire_if_idle(&mut st, id, settings, now) {
            drop(st);
            let _ = self
                .events
                .send(WebWxEvent::SessionEnded { session: ended });
            return Err(AuthError::LoggedOut);
        }
        let session = st.sessions.get_mut(&id).ok_or(AuthError::Unknown)?;
        if !session.is_live() {
            return Err(AuthError::LoggedOut);
        }
        session.last_seen = now.max(session.last_seen);
        Ok(f(session, settings))
    }

    /// webwxinit.
    pub fn init(&self, caller: Caller<'_>, now: SystemTime) -> Result<InitData, AuthError> {
        self.with_session(caller, now, |s, _| {
            let contacts: Vec<Contact> = s
                .directory
                .entries()
                .filter(|e| e.kind != ContactKind::Friend)
                .map(|e| e.contact())
                .collect();
            let mut chat_set: String = contacts
                .iter()
                .map(|c| format!("{},", c.user_name))
                .collect();
            chat_set.push_str(&s.directory.self_user_name);
            let mut user = s.directory.self_contact(s.creds.uin);
            user.head_img_url = format!(
                "{GETICON_PATH}?seq=0&username={}&skey={}",
                user.user_name, s.creds.skey
            );
            InitData {
                user,
                contacts,
                sync_key: s.sync_key(s.delivered),
                skey: s.creds.skey.clone(),
                chat_set,
                system_time: unix_secs(now),
            }
        })
    }

    /// webwxstatusnotify: the real service then queues a MsgType 51 that
    /// lists the recent chats (StatusNotifyCode 4). Returns its MsgID.
    pub fn status_notify(&self, caller: Caller<'_>, now: SystemTime) -> Result<u64, AuthError> {
        let (id, entry) = self.with_session(caller, now, |s, settings| {
            let chats: Vec<directory::EntryRef<'_>> =
                s.directory.entries().filter(|e| e.kind != ContactKind::Friend).collect();
            let user_names: Vec<&str> = chats.iter().map(|e| e.user_name()).collect();
            let wxids: Vec<String> = chats
                .iter()
                .map(|e| match e.kind {
                    ContactKind::FileHelper => FILEHELPER.to_owned(),
                    ContactKind::Official => format!("gh_{}", e.key),
                    _ => format!("{}@chatroom", e.key),
                })
                .collect();
            let content = format!(
                "&lt;msg&gt;<br/>&lt;op id='4'&gt;<br/>&lt;username&gt;{}&lt;/username&gt;<br/>&lt;unreadchatlist&gt;<br/>&lt;/unreadchatlist&gt;<br/>&lt;unreadfunctionlist&gt;<br/>&lt;/unreadfunctionlist&gt;<br/>&lt;/op&gt;<br/>&lt;/msg&gt;",
                wxids.join(",")
            );
            let me = s.directory.self_user_name.clone();
            let msg_id = ids::msg_id();
            let mut wire = WireMessage::new(msg_id, MSG_STATUS_NOTIFY, me.clone(), me.clone(), content, unix_secs(now));
            wire.status_notify_code = 4;
            wire.status_notify_user_name = user_names.join(",");
            let entry = queue_for_client(s, settings, wire, String::new(), None, now);
            (msg_id, entry)
        })?;
        let _ = self.events.send(WebWxEvent::Message { message: entry });
        Ok(id)
    }

    /// webwxgetcontact page `seq` (0 = first).
    pub fn contacts_page(
        &self,
        caller: Caller<'_>,
        seq: u64,
        now: SystemTime,
    ) -> Result<ContactPage, AuthError> {
        self.with_session(caller, now, |s, settings| {
            let all = s.directory.entries();
            let len = all.len();
            let size = settings.contact_page_size.max(1);
            let start = usize::try_from(seq).unwrap_or(usize::MAX).min(len);
            let end = start.saturating_add(size).min(len);
            ContactPage {
                contacts: all
                    .skip(start)
                    .take(end - start)
                    .map(|e| e.contact())
                    .collect(),
                next_seq: if end < len { end as u64 } else { 0 },
            }
        })
    }

    /// webwxbatchgetcontact: the contacts among `user_names` this session
    /// knows (groups with their members, the user, group members).
    pub fn batch_get(
        &self,
        caller: Caller<'_>,
        user_names: &[&str],
        now: SystemTime,
    ) -> Result<Vec<Contact>, AuthError> {
        self.with_session(caller, now, |s, _| {
            let me = s.directory.self_contact(s.creds.uin);
            user_names
                .iter()
                .take(MAX_BATCH)
                .filter_map(|name| s.directory.lookup_for_batch(name, &me))
                .collect()
        })
    }

    /// webwxsync: the messages past the client's SyncKey; the returned key
    /// advances past them.
    pub fn sync(
        &self,
        caller: Caller<'_>,
        keys: &[(u64, u64)],
        now: SystemTime,
    ) -> Result<SyncData, SyncError> {
        self.with_session(caller, now, |s, settings| {
            let cursor = s.cursor_of(keys).ok_or(SyncError::BadSyncKey)?;
            let batch = settings.sync_batch.max(1);
            let pending: Vec<&Stored> = s
                .history
                .iter()
                .filter(|m| m.seq > cursor && m.wire.is_some())
                .collect();
            let more = pending.len() > batch;
            let taken: Vec<&Stored> = pending.into_iter().take(batch).collect();
            let upto = taken.last().map_or(cursor, |m| m.seq);
            // Everything up to `upto` is handed over now, including
            // messages already dropped from the bounded history.
            let upto = if more { upto } else { upto.max(s.last_seq) };
            let messages = taken.iter().filter_map(|m| m.wire.clone()).collect();
            s.delivered = s.delivered.max(upto);
            for m in s.history.iter_mut() {
                if m.seq != 0 && m.seq <= upto {
                    m.entry.delivered = true;
                }
            }
            Ok(SyncData {
                messages,
                sync_key: s.sync_key(upto),
                skey: s.creds.skey.clone(),
                more,
            })
        })?
    }

    /// webwxsendmsg (text): records what the bot said. Returns the MsgID.
    pub fn send_text(
        &self,
        caller: Caller<'_>,
        to: &str,
        content: &str,
        now: SystemTime,
    ) -> Result<u64, SendError> {
        let entry = self.with_session(caller, now, |s, settings| {
            let text = plain_text(content);
            if text.is_empty() {
                return Err(SendError::Empty);
            }
            if text.len() > settings.max_text_bytes {
                return Err(SendError::TooLong(settings.max_text_bytes));
            }
            if !s.directory.is_known(to) {
                return Err(SendError::UnknownRecipient(to.to_owned()));
            }
            let me = s.directory.self_user_name.clone();
            let entry = ConversationEntry {
                session: s.id,
                id: ids::msg_id().to_string(),
                direction: Direction::Out,
                msg_type: MSG_TEXT,
                from_name: s.directory.display_name(&me),
                to_name: s.directory.display_name(to),
                from: me,
                to: to.to_owned(),
                member: None,
                text,
                at: unix_millis(now),
                delivered: true,
            };
            push_history(
                s,
                settings,
                Stored {
                    entry: entry.clone(),
                    seq: 0,
                    wire: None,
                },
            );
            Ok(entry)
        })??;
        let id = entry.id.parse().unwrap_or_default();
        let _ = self.events.send(WebWxEvent::Message { message: entry });
        Ok(id)
    }

    /// webwxlogout.
    pub fn logout(&self, caller: Caller<'_>, now: SystemTime) -> Result<(), AuthError> {
        let mut st = self.lock();
        let id = find_session(&st, caller)?;
        if !st.sessions.get(&id).is_some_and(Session::is_live) {
            return Err(AuthError::LoggedOut);
        }
        let ended = end_locked(&mut st, id, EndReason::Logout, now);
        drop(st);
        if let Some(summary) = ended {
            let _ = self
                .events
                .send(WebWxEvent::SessionEnded { session: summary });
        }
        Ok(())
    }

    /// synccheck: at once when something newer than `keys` exists or the
    /// session is over; else holds up to `hold` (real time) for a message,
    /// a logout or shutdown. `keys` None: the query's synckey did not parse.
    pub async fn synccheck(
        &self,
        caller: Caller<'_>,
        keys: Option<&[(u64, u64)]>,
        hold: Duration,
        clock: &Clock,
    ) -> SyncCheck {
        let deadline = tokio::time::Instant::now() + hold;
        let mut closing = self.closing.subscribe();
        let mut wake: Option<watch::Receiver<u64>> = None;
        loop {
            let step = self.with_session(caller, clock.now(), |s, _| {
                let Some(cursor) = keys.and_then(|k| s.cursor_of(k)) else {
                    return Err(SyncCheck::BadSyncKey);
                };
                if s.has_news(cursor) {
                    return Err(SyncCheck::NewMessages);
                }
                Ok(s.wake.subscribe())
            });
            let receiver = match step {
                Err(_) => return SyncCheck::LoggedOut,
                Ok(Err(answer)) => return answer,
                Ok(Ok(receiver)) => receiver,
            };
            // Keep the first subscription: a message between two loop turns
            // must still wake this one.
            let waiter = wake.get_or_insert(receiver);
            if *closing.borrow_and_update() {
                return SyncCheck::Idle;
            }
            tokio::select! {
                _ = waiter.changed() => {}
                _ = closing.changed() => {}
                () = tokio::time::sleep(EXPIRY_RECHECK) => {}
                () = tokio::time::sleep_until(deadline) => return SyncCheck::Idle,
            }
        }
    }

    /// Shutdown: every held and future synccheck answers at once.
    pub fn release_waiters(&self) {
        self.closing.send_replace(true);
    }

    // ---- the phone, the friends and the control side -------------------

    /// A friend, a group or the phone sends the web client a text: queued
    /// for the next webwxsync, wakes held synccheck requests.
    pub fn inject(
        &self,
        inj: Injection<'_>,
        now: SystemTime,
    ) -> Result<ConversationEntry, WebWxError> {
        let settings = self.settings();
        if inj.text.is_empty() {
            return Err(WebWxError::EmptyText);
        }
        if inj.text.len() > settings.max_text_bytes {
            return Err(WebWxError::TextTooLong(settings.max_text_bytes));
        }
        let mut st = self.lock();
        let id = match inj.session {
            Some(id) => id,
            None => newest_live(&st).ok_or(WebWxError::NoLiveSession)?,
        };
        let session = st
            .sessions
            .get_mut(&id)
            .ok_or(WebWxError::UnknownSession(id))?;
        if !session.is_live() {
            return Err(WebWxError::SessionEnded(id));
        }
        let dir = &session.directory;
        let me = dir.self_user_name.clone();
        let (from, to, member, content) = match inj.from {
            // The phone's own messages: in filehelper, or to anyone.
            "self" | FILEHELPER => {
                let to = match (inj.from, inj.to) {
                    (FILEHELPER, None) | ("self", None) => FILEHELPER.to_owned(),
                    (_, Some(to)) => dir
                        .find(to)
                        .map(|e| e.user_name().to_owned())
                        .ok_or_else(|| WebWxError::UnknownContact(to.to_owned()))?,
                    _ => unreachable!("matched above"),
                };
                if inj.from == FILEHELPER && to != FILEHELPER {
                    return Err(WebWxError::BadRecipient(
                        "from filehelper goes to filehelper; use from: self with to".into(),
                    ));
                }
                (me.clone(), to, None, wire_text(inj.text))
            }
            name => {
                let entry = dir
                    .find(name)
                    .ok_or_else(|| WebWxError::UnknownContact(name.to_owned()))?;
                if let Some(to) = inj.to {
                    if to != "self" && to != me {
                        return Err(WebWxError::BadRecipient(format!(
                            "a message from {name:?} goes to the user; \"to\" may only be self (got {to:?})"
                        )));
                    }
                }
                if entry.kind == ContactKind::FileHelper {
                    return Err(WebWxError::BadRecipient(
                        "filehelper does not send messages".into(),
                    ));
                }
                if entry.kind == ContactKind::Group {
                    let member =
                        dir.member(entry, inj.member)
                            .ok_or_else(|| WebWxError::UnknownMember {
                                group: name.to_owned(),
                                member: inj.member.unwrap_or("").to_owned(),
                            })?;
                    let content = format!("{}:<br/>{}", member.user_name, wire_text(inj.text));
                    (
                        entry.user_name().to_owned(),
                        me.clone(),
                        Some(member.nick_name.to_owned()),
                        content,
                    )
                } else {
                    (
                        entry.user_name().to_owned(),
                        me.clone(),
                        None,
                        wire_text(inj.text),
                    )
                }
            }
        };
        let msg_id = ids::msg_id();
        let wire = WireMessage::new(msg_id, MSG_TEXT, from, to, content, unix_secs(now));
        let entry = queue_for_client(session, settings, wire, inj.text.to_owned(), member, now);
        drop(st);
        let _ = self.events.send(WebWxEvent::Message {
            message: entry.clone(),
        });
        Ok(entry)
    }

    /// The phone ends a session (1101 to the web client).
    pub fn end_session(&self, id: u64, now: SystemTime) -> Result<SessionSummary, WebWxError> {
        let mut st = self.lock();
        let session = st.sessions.get(&id).ok_or(WebWxError::UnknownSession(id))?;
        if !session.is_live() {
            return Err(WebWxError::SessionEnded(id));
        }
        let summary =
            end_locked(&mut st, id, EndReason::Phone, now).ok_or(WebWxError::UnknownSession(id))?;
        drop(st);
        let _ = self.events.send(WebWxEvent::SessionEnded {
            session: summary.clone(),
        });
        Ok(summary)
    }

    /// Every kept session, oldest first.
    pub fn sessions(&self) -> Vec<SessionSummary> {
        self.lock()
            .sessions
            .values()
            .map(Session::summary)
            .collect()
    }

    pub fn session(&self, id: u64) -> Option<SessionSummary> {
        self.lock().sessions.get(&id).map(Session::summary)
    }

    /// A session's whole kept conversation, oldest first.
    pub fn conversation(&self, id: u64) -> Result<Vec<ConversationEntry>, WebWxError> {
        let st = self.lock();
        let s = st.sessions.get(&id).ok_or(WebWxError::UnknownSession(id))?;
        Ok(s.history.iter().map(|m| m.entry.clone()).collect())
    }

    /// A session's contacts (for choosing who speaks).
    pub fn contacts(&self, id: u64) -> Result<Vec<ContactSummary>, WebWxError> {
        let st = self.lock();
        let s = st.sessions.get(&id).ok_or(WebWxError::UnknownSession(id))?;
        Ok(s.directory.summaries())
    }

    /// Ends idle sessions, drops expired tickets and old ended sessions.
    /// Returns the sessions ended.
    pub fn purge(&self, now: SystemTime) -> usize {
        let settings = self.settings();
        let mut st = self.lock();
        st.tickets.retain(|_, t| t.expires_at > now);
        let live: Vec<u64> = st.live_by_account.values().copied().collect();
        let ended: Vec<SessionSummary> = live
            .into_iter()
            .filter_map(|id| expire_if_idle(&mut st, id, settings, now))
            .collect();
        forget_old_ended(&mut st, settings.ended_sessions_kept);
        drop(st);
        let n = ended.len();
        for session in ended {
            let _ = self.events.send(WebWxEvent::SessionEnded { session });
        }
        n
    }

    /// Forgets everything (control API reset). Held synccheck requests get
    /// 1101.
    pub fn reset(&self) {
        self.poll_answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let mut st = self.lock();
        for s in st.sessions.values_mut() {
            s.wake.send_modify(|v| *v += 1);
        }
        *st = State::default();
    }
}

fn find_session(st: &State, caller: Caller<'_>) -> Result<u64, AuthError> {
    let uin: u64 = caller.uin.trim().parse().map_err(|_| AuthError::Unknown)?;
    let id = *st.by_sid.get(caller.sid).ok_or(AuthError::Unknown)?;
    let session = st.sessions.get(&id).ok_or(AuthError::Unknown)?;
    if session.creds.uin != uin {
        return Err(AuthError::Unknown);
    }
    Ok(id)
}

fn newest_live(st: &State) -> Option<u64> {
    st.live_by_account.values().copied().max()
}

/// Ends a live session: wakes its held synccheck requests.
fn end_locked(
    st: &mut State,
    id: u64,
    reason: EndReason,
    now: SystemTime,
) -> Option<SessionSummary> {
    let session = st.sessions.get_mut(&id)?;
    if !session.is_live() {
        return None;
    }
    session.ended = Some((reason, now));
    session.wake.send_modify(|v| *v += 1);
    let account = session.directory.profile.account_id.clone();
    let summary = session.summary();
    if st.live_by_account.get(&account) == Some(&id) {
        st.live_by_account.remove(&account);
    }
    Some(summary)
}

fn expire_if_idle(
    st: &mut State,
    id: u64,
    settings: &WebWxSettings,
    now: SystemTime,
) -> Option<SessionSummary> {
    let session = st.sessions.get(&id)?;
    let idle = now.duration_since(session.last_seen).unwrap_or_default();
    if session.is_live() && idle >= settings.session_idle_ttl {
        end_locked(st, id, EndReason::Expired, now)
    } else {
        None
    }
}

/// Keeps at most `keep` ended sessions (their sids then answer 1101 as
/// unknown ones do).
fn forget_old_ended(st: &mut State, keep: usize) {
    let ended: Vec<u64> = st
        .sessions
        .iter()
        .filter(|(_, s)| !s.is_live())
        .map(|(id, _)| *id)
        .collect();
    for id in ended.iter().take(ended.len().saturating_sub(keep)) {
        if let Some(s) = st.sessions.remove(id) {
            st.by_sid.remove(&s.creds.sid);
        }
    }
}

fn push_history(s: &mut Session, settings: &WebWxSettings, stored: Stored) {
    s.history.push_back(stored);
    while s.history.len() > settings.history_per_session.max(1) {
        s.history.pop_front();
    }
}

/// Queues a message for the client and wakes its synccheck.
fn queue_for_client(
    s: &mut Session,
    settings: &WebWxSettings,
    wire: WireMessage,
    text: String,
    member: Option<String>,
    now: SystemTime,
) -> ConversationEntry {
    s.last_seq += 1;
    let entry = ConversationEntry {
        session: s.id,
        id: wire.msg_id.clone(),
        direction: Direction::In,
        msg_type: wire.msg_type,
        from_name: s.directory.display_name(&wire.from_user_name),
        to_name: s.directory.display_name(&wire.to_user_name),
        from: wire.from_user_name.clone(),
        to: wire.to_user_name.clone(),
        member,
        text,
        at: unix_millis(now),
        delivered: false,
    };
    let seq = s.last_seq;
    push_history(
        s,
        settings,
        Stored {
            entry: entry.clone(),
            seq,
            wire: Some(wire),
        },
    );
    s.wake.send_modify(|v| *v = seq);
    entry
}

/// The shared form of `book`: the one kept if an equal book was seen,
/// else built and kept (the oldest dropped past [`MAX_SHARED_BOOKS`]).
fn shared_book(books: &mut Vec<Arc<SharedBook>>, book: &ContactBook) -> Arc<SharedBook> {
    if let Some(shared) = books.iter().find(|b| b.source == *book) {
        return shared.clone();
    }
    if books.len() >= MAX_SHARED_BOOKS {
        books.remove(0);
    }
    let shared = Arc::new(SharedBook::new(book));
    books.push(shared.clone());
    shared
}

/// What the Web WeChat login poll answers (`window.code=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginPoll {
    /// 408: nobody scanned yet (or the phone cancelled and the code shows
    /// again).
    Waiting,
    /// 201: scanned by this account; the page shows its avatar.
    Scanned {
        account_id: String,
        nickname: String,
    },
    /// 200: confirmed; the client redeems `ticket` at webwxnewloginpage.
    Confirmed { ticket: String },
    /// 400: expired, unknown, or not a Web WeChat uuid.
    Gone,
}

impl LoginPoll {
    /// The number the poll answers (`window.code=N;`).
    pub fn code(&self) -> u16 {
        match self {
            LoginPoll::Waiting => 408,
            LoginPoll::Scanned { .. } => 201,
            LoginPoll::Confirmed { .. } => 200,
            LoginPoll::Gone => 400,
        }
    }
}

#[cfg(test)]
mod tests;
