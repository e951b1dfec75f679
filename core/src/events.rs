//! Domain events: what changed, for views that follow the emulator live
//! (the desktop app's tray, dashboard and confirm window).
//!
//! [`Emulator::subscribe`](crate::Emulator::subscribe) merges the emulator's own bus with the
//! approvals', QR logins' and Web WeChat's channels, so a subscriber sees one ordered
//! stream per source without a forwarding task.

use tokio::sync::broadcast::{self, error::RecvError};

use crate::approval::ApprovalEvent;
use crate::qr::QrEvent;
use crate::webwx::WebWxEvent;

/// Something happened that a view may show.
#[derive(Debug, Clone)]
pub enum Event {
    /// A login page asked who is logged in and was told (the desktop app
    /// loads its confirm window ahead of the authorize that may follow).
    CheckLoginServed { appid: String, account_id: String },
    /// An authorize request waits for a decision, or got one.
    Approval(ApprovalEvent),
    /// A QR login was created or changed state.
    Qr(QrEvent),
    /// Web WeChat: a session started or ended, or a message was sent or
    /// received (the dashboard's chat view).
    Webwx(WebWxEvent),
    /// The client's state, account or the approval policy changed.
    ClientChanged,
    /// Accounts or apps were saved to the config.
    ConfigChanged,
    /// The subscriber fell this many events behind: re-read the state.
    Missed(u64),
}

/// The emulator's own events (the rest come from approvals and QR logins).
pub(crate) type Bus = broadcast::Sender<Event>;

pub(crate) fn bus() -> Bus {
    broadcast::channel(256).0
}

/// A live subscription; see [`Emulator::subscribe`](crate::Emulator::subscribe).
pub struct Subscription {
    pub(crate) own: broadcast::Receiver<Event>,
    pub(crate) approvals: broadcast::Receiver<ApprovalEvent>,
    pub(crate) qr: broadcast::Receiver<QrEvent>,
    pub(crate) webwx: broadcast::Receiver<WebWxEvent>,
}

impl Subscription {
    /// The next event; None once the emulator is gone.
    pub async fn recv(&mut self) -> Option<Event> {
        let received = tokio::select! {
            e = self.own.recv() => e,
            e = self.approvals.recv() => e.map(Event::Approval),
            e = self.qr.recv() => e.map(Event::Qr),
            e = self.webwx.recv() => e.map(Event::Webwx),
        };
        match received {
            Ok(event) => Some(event),
            Err(RecvError::Lagged(n)) => Some(Event::Missed(n)),
            Err(RecvError::Closed) => None,
        }
    }
}
