//! The app's managed state ([`Desktop`]): the embedded server, the confirm
//! queue and its warmth, the last trust answer, and whether the app is
//! quitting. The views and their helpers read it through
//! `app.state::<Desktop>()`; it imports only the types it holds.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wxemu::core::DecisionSource;
use wxemu::{Emulator, ServeOptions};

use crate::confirm_queue::{ConfirmQueue, Warmth};
use crate::embedded::EmbeddedServer;
use crate::trust::TrustInfo;

/// The app's managed state.
pub struct Desktop {
    pub server: EmbeddedServer,
    pub confirm: Mutex<ConfirmQueue>,
    pub warmth: Warmth,
    /// The last answer of the trust stores (asking runs their tools, so it
    /// is asked at start and after Trust/Remove, not on every `status`).
    pub trust: Mutex<Option<TrustInfo>>,
    /// Open WeChat windows (by label), each a decision source for pay and
    /// scan calls while it lives.
    pub wechat: Mutex<HashMap<String, DecisionSource>>,
    pub(crate) quitting: AtomicBool,
}

impl Desktop {
    /// `warm`: how long the confirm window stays loaded after a
    /// check-login; `None` keeps it loaded all the time.
    pub fn new(options: ServeOptions, warm: Option<Duration>) -> Desktop {
        Desktop {
            server: EmbeddedServer::new(options),
            confirm: Mutex::new(ConfirmQueue::default()),
            warmth: Warmth::new(warm),
            trust: Mutex::new(None),
            wechat: Mutex::default(),
            quitting: AtomicBool::new(false),
        }
    }

    /// The running emulator, or why there is none (for IPC errors).
    pub fn emulator(&self) -> Result<Arc<Emulator>, String> {
        self.server
            .emulator()
            .ok_or_else(|| match self.server.failure() {
                Some(f) => f.message,
                None => "the wxemu server is not running".to_owned(),
            })
    }
}
