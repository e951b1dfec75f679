//! The Web WeChat operations that need the rest of the emulator: the
//! config's accounts, the shared QR logins, the clock. The web layer, the
//! control API, `wxemu ctl` and the desktop app all call these.

use std::time::Duration;

use super::{
    AccountProfile, ConversationEntry, Injection, LoginGrant, SessionSummary, TicketError,
    WebWxError,
};
use crate::emulator::Emulator;
use crate::qr::{PollReply, QrKind, QrStatus};

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
    pub fn code(&self) -> u16 {
        match self {
            LoginPoll::Waiting => 408,
            LoginPoll::Scanned { .. } => 201,
            LoginPoll::Confirmed { .. } => 200,
            LoginPoll::Gone => 400,
        }
    }
}

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
}
