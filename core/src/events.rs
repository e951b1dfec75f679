//! Domain events: what changed, for views that follow the emulator live
//! (the desktop app's tray, dashboard and confirm window, the control
//! API's `GET /__wxemu/events` stream). Every change of the emulator's
//! state publishes one: its operations (the `Emulator` methods) publish,
//! so whoever makes a change (control API, desktop, scenario, reset) is
//! heard by every view.
//!
//! [`Emulator::subscribe`](crate::Emulator::subscribe) merges the emulator's own bus with the
//! approvals', QR logins' and Web WeChat's channels, so a subscriber sees one ordered
//! stream per source without a forwarding task.

use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use crate::approval::ApprovalEvent;
use crate::openplatform::qr::QrEvent;
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
    /// The queue of decisions made in advance changed (queued or cleared).
    DecisionsChanged,
    /// A fault was injected, removed or used up, or all were cleared.
    FaultsChanged,
    /// The emulated clock was advanced, frozen or unfrozen.
    ClockChanged,
    /// JS API outcomes for pages inside WeChat were queued, used or cleared.
    H5OutcomesChanged,
    /// The journal was emptied.
    JournalCleared,
    /// Everything went back to the state right after start (after the
    /// events of the changes it made: policy, queue, faults, clock...).
    Reset,
    /// The subscriber fell this many events behind: re-read the state.
    Missed(u64),
}

/// An event as the control API streams it: one JSON object whose `type` is
/// the variant's name in snake_case; the nested events of approvals, QR
/// logins and Web WeChat add theirs as `event` (`{"type": "qr", "event":
/// "changed", "uuid": ...}`), and `Missed(n)` is `{"type": "missed",
/// "count": n}`. Views written in other languages rely on these names.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire::from(self).serialize(serializer)
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire<'a> {
    CheckLoginServed {
        appid: &'a str,
        account_id: &'a str,
    },
    Approval {
        #[serde(flatten)]
        event: &'a ApprovalEvent,
    },
    Qr {
        #[serde(flatten)]
        event: &'a QrEvent,
    },
    Webwx {
        #[serde(flatten)]
        event: &'a WebWxEvent,
    },
    ClientChanged,
    ConfigChanged,
    DecisionsChanged,
    FaultsChanged,
    ClockChanged,
    H5OutcomesChanged,
    JournalCleared,
    Reset,
    Missed {
        count: u64,
    },
}

impl<'a> From<&'a Event> for Wire<'a> {
    fn from(event: &'a Event) -> Wire<'a> {
        match event {
            Event::CheckLoginServed { appid, account_id } => {
                Wire::CheckLoginServed { appid, account_id }
            }
            Event::Approval(event) => Wire::Approval { event },
            Event::Qr(event) => Wire::Qr { event },
            Event::Webwx(event) => Wire::Webwx { event },
            Event::ClientChanged => Wire::ClientChanged,
            Event::ConfigChanged => Wire::ConfigChanged,
            Event::DecisionsChanged => Wire::DecisionsChanged,
            Event::FaultsChanged => Wire::FaultsChanged,
            Event::ClockChanged => Wire::ClockChanged,
            Event::H5OutcomesChanged => Wire::H5OutcomesChanged,
            Event::JournalCleared => Wire::JournalCleared,
            Event::Reset => Wire::Reset,
            Event::Missed(count) => Wire::Missed { count: *count },
        }
    }
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
    /// Becomes true when the server shuts down.
    pub(crate) closing: watch::Receiver<bool>,
}

impl Subscription {
    /// The next event; None once the emulator is gone or its server shuts
    /// down (so a stream of events ends and its connection can close).
    pub async fn recv(&mut self) -> Option<Event> {
        if *self.closing.borrow() {
            return None;
        }
        let received = tokio::select! {
            e = self.own.recv() => e,
            e = self.approvals.recv() => e.map(Event::Approval),
            e = self.qr.recv() => e.map(Event::Qr),
            e = self.webwx.recv() => e.map(Event::Webwx),
            // Only a change to true (or the emulator gone) ends it.
            _ = self.closing.wait_for(|closing| *closing) => return None,
        };
        match received {
            Ok(event) => Some(event),
            Err(RecvError::Lagged(n)) => Some(Event::Missed(n)),
            Err(RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::ApprovalMode;
    use crate::config::Config;
    use crate::Emulator;

    fn emulator() -> Emulator {
        Emulator::new(
            Config::default(),
            "unused.toml".into(),
            0,
            ApprovalMode::Ask,
        )
    }

    fn json(event: &Event) -> String {
        serde_json::to_string(event).unwrap()
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_how_far() {
        let emu = emulator();
        let mut events = emu.subscribe();
        for _ in 0..300 {
            emu.freeze_clock();
        }
        let missed = events.recv().await.unwrap();
        assert_eq!(json(&missed), r#"{"type":"missed","count":44}"#);
        let next = events.recv().await.unwrap();
        assert_eq!(json(&next), r#"{"type":"clock_changed"}"#);
    }

    #[test]
    fn nested_events_carry_their_own_name() {
        let finished = Event::Approval(ApprovalEvent::Finished {
            id: 7,
            outcome: crate::approval::Outcome::TimedOut,
        });
        assert_eq!(
            json(&finished),
            r#"{"type":"approval","event":"finished","id":7,"outcome":"timed_out"}"#
        );
        let served = Event::CheckLoginServed {
            appid: "wx1".into(),
            account_id: "default".into(),
        };
        assert_eq!(
            json(&served),
            r#"{"type":"check_login_served","appid":"wx1","account_id":"default"}"#
        );
    }

    #[tokio::test]
    async fn subscriptions_end_when_the_server_shuts_down() {
        let emu = emulator();
        let mut events = emu.subscribe();
        emu.release_waiters();
        assert!(events.recv().await.is_none());
        assert!(
            emu.subscribe().recv().await.is_none(),
            "and new ones at once"
        );
    }
}
