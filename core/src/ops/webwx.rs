//! The Web WeChat operations that need the rest of the emulator: the
//! config's accounts, the shared QR logins, the clock. The web layer, the
//! control API, `wxemu ctl` and the desktop app all call these.

use std::time::Duration;

use crate::emulator::Emulator;
use crate::openplatform::qr::{PollReply, QrKind, QrStatus};
use crate::webwx::{
    AccountProfile, AuthError, Caller, Contact, ContactPage, ContactSummary, ConversationEntry,
    InitData, Injection, LoginGrant, LoginPoll, SendError, SessionSummary, SyncCheck, SyncData,
    SyncError, TicketError, WebWxError, WebWxEvent,
};

impl Emulator {
    /// The account as Web WeChat shows it, with its contacts.
    pub fn webwx_account(&self, id: &str) -> Option<AccountProfile> {
        let config = self.config();
        let account = config.account(id)?;
        Some(AccountProfile {
            id: account.id.clone(),
            nickname: account.nickname.clone(),
            sex: account.sex,
            signature: String::new(),
            province: account.province.clone(),
            city: account.city.clone(),
            contacts: account.webwx.clone().unwrap_or_default(),
        })
    }

    /// The login long poll: at once when the QR login changed since the
    /// last answer for this uuid, else when it changes, else 408 after
    /// `hold`.
    pub async fn webwx_login_poll(&self, uuid: &str, hold: Duration) -> LoginPoll {
        match self.qr.get(uuid, self.clock.now()) {
            Some(summary) if summary.kind == QrKind::WebWechat => {}
            _ => return LoginPoll::Gone,
        }
        let last = self.webwx.last_poll_answer(uuid);
        let reply = self.qr.poll(uuid, last, hold, &self.clock).await;
        let answer = match &reply {
            PollReply::Unknown | PollReply::Status(QrStatus::Expired) => LoginPoll::Gone,
            PollReply::Status(QrStatus::Waiting | QrStatus::Cancelled { .. }) => LoginPoll::Waiting,
            PollReply::Status(QrStatus::Scanned { account_id }) => LoginPoll::Scanned {
                nickname: self
                    .webwx_account(account_id)
                    .map(|a| a.nickname)
                    .unwrap_or_default(),
                account_id: account_id.clone(),
            },
            PollReply::Status(QrStatus::Confirmed { code, .. }) => LoginPoll::Confirmed {
                ticket: code.clone(),
            },
        };
        self.webwx.note_poll_answer(uuid, reply.wx_errcode());
        answer
    }

    /// webwxnewloginpage: redeems the ticket for a session.
    pub fn webwx_login(&self, ticket: &str, uuid: &str) -> Result<LoginGrant, TicketError> {
        let now = self.clock.now();
        self.webwx
            .redeem_ticket(ticket, uuid, |id| self.webwx_account(id), now)
    }

    /// A friend, group or the phone sends the bot a text.
    pub fn webwx_inject(&self, injection: Injection<'_>) -> Result<ConversationEntry, WebWxError> {
        self.webwx.inject(injection, self.clock.now())
    }

    /// The phone logs a session out.
    pub fn webwx_end_session(&self, id: u64) -> Result<SessionSummary, WebWxError> {
        self.webwx.end_session(id, self.clock.now())
    }

    /// Live `session_started` / `session_ended` / `message` events.
    pub fn webwx_subscribe(&self) -> tokio::sync::broadcast::Receiver<WebWxEvent> {
        self.webwx.subscribe()
    }

    /// Whether `uuid` is a Web WeChat QR login still known.
    pub fn webwx_qr_exists(&self, uuid: &str) -> bool {
        self.qr
            .get(uuid, self.clock.now())
            .is_some_and(|q| q.kind == QrKind::WebWechat)
    }

    /// Login polls held on `uuid` right now (tests wait for one).
    pub fn webwx_held_login_polls(&self, uuid: &str) -> usize {
        self.qr.held_polls(uuid)
    }

    /// The webwxnewloginpage URL (on the origin the client used) of a
    /// Web WeChat QR login.
    pub fn webwx_redirect_base(&self, uuid: &str) -> Option<String> {
        self.qr
            .get(uuid, self.clock.now())
            .map(|q| q.target.redirect_uri)
    }

    /// Now on the emulated clock, in Unix seconds (the poll's `scan=`,
    /// cookie dates).
    pub fn webwx_now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    pub fn webwx_init(&self, caller: Caller<'_>) -> Result<InitData, AuthError> {
        self.webwx.init(caller, self.clock.now())
    }

    pub fn webwx_status_notify(&self, caller: Caller<'_>) -> Result<u64, AuthError> {
        self.webwx.status_notify(caller, self.clock.now())
    }

    pub fn webwx_contacts_page(
        &self,
        caller: Caller<'_>,
        seq: u64,
    ) -> Result<ContactPage, AuthError> {
        self.webwx.contacts_page(caller, seq, self.clock.now())
    }

    pub fn webwx_batch_get(
        &self,
        caller: Caller<'_>,
        user_names: &[&str],
    ) -> Result<Vec<Contact>, AuthError> {
        self.webwx.batch_get(caller, user_names, self.clock.now())
    }

    pub fn webwx_sync(
        &self,
        caller: Caller<'_>,
        keys: &[(u64, u64)],
    ) -> Result<SyncData, SyncError> {
        self.webwx.sync(caller, keys, self.clock.now())
    }

    pub fn webwx_send_text(
        &self,
        caller: Caller<'_>,
        to: &str,
        content: &str,
    ) -> Result<u64, SendError> {
        self.webwx.send_text(caller, to, content, self.clock.now())
    }

    pub fn webwx_logout(&self, caller: Caller<'_>) -> Result<(), AuthError> {
        self.webwx.logout(caller, self.clock.now())
    }

    /// synccheck, held up to `[webwx] synccheck_hold`.
    pub async fn webwx_synccheck(
        &self,
        caller: Caller<'_>,
        keys: Option<&[(u64, u64)]>,
    ) -> SyncCheck {
        let hold = self.webwx.settings().synccheck_hold;
        self.webwx.synccheck(caller, keys, hold, &self.clock).await
    }

    pub fn webwx_sessions(&self) -> Vec<SessionSummary> {
        self.webwx.sessions()
    }

    pub fn webwx_session(&self, id: u64) -> Option<SessionSummary> {
        self.webwx.session(id)
    }

    pub fn webwx_conversation(&self, id: u64) -> Result<Vec<ConversationEntry>, WebWxError> {
        self.webwx.conversation(id)
    }

    pub fn webwx_contacts(&self, id: u64) -> Result<Vec<ContactSummary>, WebWxError> {
        self.webwx.contacts(id)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::approval::ApprovalMode;
    use crate::config::Config;
    use crate::emulator::Emulator;
    use crate::events::Event;
    use crate::openplatform::qr::QrStatus;
    use crate::webwx::{Injection, LoginPoll, WebWxEvent};

    #[tokio::test]
    async fn a_web_wechat_login_goes_through_the_shared_qr_operations_and_is_published() {
        let dir = std::env::temp_dir().join("wxemu-webwx-ops-test.toml");
        let emu = Emulator::new(Config::default(), dir, 0, ApprovalMode::Never);
        let mut events = emu.subscribe();
        let qr =
            emu.qr_create_webwx("https://127.0.0.1:1/cgi-bin/mmwebwx-bin/webwxnewloginpage".into());
        assert!(qr.uuid.ends_with("=="));
        let hold = Duration::from_millis(10);
        assert_eq!(
            emu.webwx_login_poll(&qr.uuid, hold).await,
            LoginPoll::Waiting
        );
        emu.qr_scan(&qr.uuid, "default").unwrap();
        assert!(matches!(
            emu.webwx_login_poll(&qr.uuid, hold).await,
            LoginPoll::Scanned { .. }
        ));
        assert_eq!(
            emu.webwx_login_poll(&qr.uuid, hold).await,
            LoginPoll::Waiting,
            "reported once"
        );
        let confirmed = emu.qr_confirm(&qr.uuid).unwrap();
        let QrStatus::Confirmed { code: ticket, .. } = confirmed.status else {
            panic!("{confirmed:?}");
        };
        assert_eq!(
            emu.webwx_login_poll(&qr.uuid, hold).await,
            LoginPoll::Confirmed {
                ticket: ticket.clone()
            }
        );
        let grant = emu.webwx_login(&ticket, &qr.uuid).unwrap();
        let entry = emu
            .webwx_inject(Injection {
                session: None,
                from: "friend",
                to: None,
                member: None,
                text: "hi",
            })
            .unwrap();
        assert_eq!(entry.session, grant.session);

        let mut seen = Vec::new();
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        {
            if let Event::Webwx(e) = event {
                seen.push(match e {
                    WebWxEvent::SessionStarted { .. } => "started",
                    WebWxEvent::SessionEnded { .. } => "ended",
                    WebWxEvent::Message { .. } => "message",
                });
            }
        }
        assert_eq!(seen, ["started", "message"]);
    }
}
