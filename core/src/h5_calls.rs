//! JS API calls that wait for a person: `chooseWXPay` and `scanQRCode`
//! from a page in the desktop app's WeChat window.
//!
//! Real WeChat shows a sheet (确认支付 / 取消, the camera) and answers the
//! page once the person acts. Outside the desktop app nobody is there to
//! act, so a call answers at once (a queued outcome, else "ok"). While a
//! *decision source* is registered ([`Emulator::h5_decision_source`], held
//! by the desktop app while a WeChat window is open) and no outcome is
//! queued, such a call waits here until a source resolves it
//! ([`Emulator::resolve_h5_call`]), the deadline passes (the person walked
//! away: cancel), or the page goes away (the guard withdraws it). The
//! queued outcomes stay the first answer: this is only the fallback.
//!
//! The state is here; the operations are `Emulator` methods in
//! `ops/h5_calls.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

use crate::jssdk::OutcomeResult;

/// The JS APIs a person answers in WeChat.
pub const PERSON_APIS: [&str; 2] = ["chooseWXPay", "scanQRCode"];
/// At most this many calls wait at once; more answer at once as usual.
pub const MAX_PENDING: usize = 16;
/// The call's arguments kept for the sheet (bytes of JSON).
pub(crate) const MAX_ARGS: usize = 4096;

/// A call waiting for the person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingCall {
    pub id: u64,
    /// `chooseWXPay` or `scanQRCode`.
    pub api: String,
    pub app_id: String,
    /// The page that called.
    pub url: String,
    /// What the page passed (the pay request: package, signType...).
    pub args: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum H5CallEvent {
    Requested(PendingCall),
    /// Answered, timed out or withdrawn.
    Finished {
        id: u64,
    },
}

pub(crate) type Answer = (OutcomeResult, Value);

#[derive(Debug)]
pub(crate) struct H5Calls {
    pub(crate) sources: Arc<AtomicUsize>,
    pub(crate) next_id: AtomicU64,
    pub(crate) pending: Mutex<BTreeMap<u64, (PendingCall, oneshot::Sender<Answer>)>>,
    pub(crate) events: broadcast::Sender<H5CallEvent>,
}

impl Default for H5Calls {
    fn default() -> Self {
        H5Calls {
            sources: Arc::default(),
            next_id: AtomicU64::new(1),
            pending: Mutex::default(),
            events: broadcast::channel(64).0,
        }
    }
}

/// Registered while alive: calls of `PERSON_APIS` wait for a person.
#[derive(Debug)]
pub struct DecisionSource(pub(crate) Arc<AtomicUsize>);

impl Drop for DecisionSource {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
