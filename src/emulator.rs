//! [`Emulator`]: everything one running wxemu knows, shared by the HTTP
//! handlers, the terminal prompt and the desktop app.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use crate::approval::{ApprovalMode, Approvals};
use crate::clock::Clock;
use crate::config::{Account, ClientConfig, ClientState, Config, ConfigError};
use crate::http::Limits;
use crate::openplatform::apps::AppRegistry;
use crate::openplatform::qr::QrLogins;
use crate::state::Store;

/// The name the real client's certificate is for; public DNS points it at
/// 127.0.0.1.
pub const CANONICAL_HOST: &str = "localhost.weixin.qq.com";

/// The ports the real login page tries, in its order.
pub const KNOWN_PORTS: [u16; 6] = [14013, 14014, 14015, 13013, 13014, 13015];

pub const DEFAULT_PORT: u16 = 14013;

/// Host names wxemu answers to (anything else is refused as DNS rebinding).
pub const OUR_HOSTS: [&str; 4] = [CANONICAL_HOST, "localhost", "127.0.0.1", "[::1]"];

pub struct Emulator {
    pub clock: Clock,
    pub store: Store,
    pub approvals: Arc<Approvals>,
    pub limits: Limits,
    /// QR-code logins (the login page's QR code and long poll).
    pub qr: QrLogins,
    /// Apps registered at run time (permissive mode).
    pub apps: AppRegistry,
    config: RwLock<Config>,
    config_path: PathBuf,
    /// The client's runtime state; starts as the config's `[client]`, and
    /// changing it (tray, control API) does not rewrite the config file.
    client: RwLock<ClientConfig>,
    port: u16,
    /// `https://<each of our host names>:<port>`, computed once: the Origin
    /// check runs on every browser request.
    own_origins: Vec<String>,
    /// `--decision-timeout`: wins over the config without being saved to it.
    decision_timeout_override: Option<Duration>,
}

impl Emulator {
    pub fn new(config: Config, config_path: PathBuf, port: u16, mode: ApprovalMode) -> Emulator {
        Emulator {
            clock: Clock::new(),
            store: Store::default(),
            approvals: Arc::new(Approvals::new(mode)),
            limits: Limits::default(),
            qr: QrLogins::default(),
            apps: AppRegistry::default(),
            client: RwLock::new(config.client.clone()),
            config: RwLock::new(config),
            config_path,
            port,
            own_origins: OUR_HOSTS
                .iter()
                .map(|host| format!("https://{host}:{port}"))
                .collect(),
            decision_timeout_override: None,
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Emulator {
        self.limits = limits;
        self
    }

    /// Overrides the config's decision timeout for this run only.
    pub fn with_decision_timeout(mut self, timeout: Option<Duration>) -> Emulator {
        self.decision_timeout_override = timeout;
        self
    }

    /// How long an authorize waits for the person.
    pub fn decision_timeout(&self) -> Duration {
        self.decision_timeout_override
            .unwrap_or_else(|| self.config().server.decision_timeout)
    }

    /// The port the HTTPS listener is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The origins of wxemu's own pages, one per host name it answers to.
    pub fn own_origins(&self) -> &[String] {
        &self.own_origins
    }

    /// `https://localhost.weixin.qq.com:<port>`: where wxemu's own pages and
    /// avatars are served from.
    pub fn base_url(&self) -> String {
        format!("https://{CANONICAL_HOST}:{}", self.port)
    }

    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Changes the config, saves it atomically, and only then makes it live:
    /// a failed save changes nothing.
    pub fn update_config(&self, change: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
        let mut guard = self.config.write().unwrap_or_else(|e| e.into_inner());
        let mut next = guard.clone();
        change(&mut next);
        next.save(&self.config_path)?;
        *guard = next;
        Ok(())
    }

    pub fn client_state(&self) -> ClientState {
        self.client.read().unwrap_or_else(|e| e.into_inner()).state
    }

    pub fn set_client_state(&self, state: ClientState) {
        self.client.write().unwrap_or_else(|e| e.into_inner()).state = state;
    }

    /// The account the client is logged in as (whatever its state).
    pub fn current_account(&self) -> Account {
        let id = self
            .client
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .account
            .clone();
        let config = self.config();
        config
            .account(&id)
            .unwrap_or_else(|| config.accounts().swap_remove(0))
    }

    /// Switches the logged-in account. False when no account has that id.
    pub fn set_current_account(&self, id: &str) -> bool {
        if self.config().account(id).is_none() {
            return false;
        }
        self.client
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .account = id.to_owned();
        true
    }

    /// The avatar URL shown for `account`: its own, or wxemu's generated one.
    pub fn headimgurl(&self, account: &Account) -> String {
        if account.headimgurl.is_empty() {
            format!("{}/avatar/{}/132", self.base_url(), account.id)
        } else {
            account.headimgurl.clone()
        }
    }
}
