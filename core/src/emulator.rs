//! [`Emulator`]: everything one running wxemu knows, shared by the HTTP
//! handlers, the terminal prompt and the desktop app. Its state is private:
//! every caller goes through its methods (here and in the modules that add
//! operations: `fastlogin`, `tokens`, `qr`, `settings`, `apps`, `events`),
//! so one rule lives in one place.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use crate::approval::{ApprovalMode, Approvals};
use crate::clock::Clock;
use crate::config::{Account, ClientConfig, ClientState, Config, ConfigError};
use crate::events::{Bus, Event, Subscription};
use crate::faults::Faults;
use crate::journal::Journal;
use crate::limits::Limits;
use crate::openplatform::qr::QrLogins;
use crate::random::random_token;
use crate::scenario::Scenario;
use crate::store::AppRegistry;
use crate::store::Store;

/// The name the real client's certificate is for; public DNS points it at
/// 127.0.0.1.
pub const CANONICAL_HOST: &str = "localhost.weixin.qq.com";

/// The ports the real login page tries, in its order.
pub const KNOWN_PORTS: [u16; 6] = [14013, 14014, 14015, 13013, 13014, 13015];

pub const DEFAULT_PORT: u16 = 14013;

/// Host names wxemu answers to (anything else is refused as DNS rebinding).
pub const OUR_HOSTS: [&str; 4] = [CANONICAL_HOST, "localhost", "127.0.0.1", "[::1]"];

pub struct Emulator {
    pub(crate) clock: Clock,
    pub(crate) store: Store,
    pub(crate) approvals: Arc<Approvals>,
    pub(crate) limits: Limits,
    /// Every request answered, for QA.
    pub(crate) journal: Journal,
    /// Misbehaviour injected by QA.
    pub(crate) faults: Faults,
    /// The emulator's own domain events (see `events.rs`).
    pub(crate) events: Bus,
    /// The bearer token of the control API (`<data dir>/control-token`).
    control_token: String,
    /// The approval mode at start: what a reset returns to.
    initial_mode: ApprovalMode,
    /// The scenario loaded at start: a reset plays it again.
    scenario: Option<Scenario>,
    /// QR-code logins (the login page's QR code and long poll).
    pub(crate) qr: QrLogins,
    /// Web WeChat sessions (core/src/webwx/).
    pub(crate) webwx: crate::webwx::WebWx,
    /// Apps registered at run time (permissive mode).
    pub(crate) apps: AppRegistry,
    /// Web authorization's consent pages waiting for their person.
    pub(crate) consents: crate::openplatform::oauth2::consents::Consents,
    /// The JS-SDK's base tokens, tickets, verified pages and outcomes.
    pub(crate) jssdk: crate::jssdk::state::JsSdk,
    /// Pay and scan calls waiting for the desktop's person (h5_calls.rs).
    pub(crate) h5_calls: crate::h5_calls::H5Calls,
    config: RwLock<Config>,
    config_path: PathBuf,
    /// The client's runtime state; starts as the config's `[client]`, and
    /// changing it (tray, control API) does not rewrite the config file.
    client: RwLock<ClientConfig>,
    port: u16,
    /// `https://<each of our host names>:<port>`, computed once: the Origin
    /// check runs on every browser request.
    own_origins: Vec<String>,
    /// [`Emulator::base_url`], computed once: every check-login reply
    /// carries an avatar URL built on it.
    base_url: String,
    /// `--decision-timeout`: wins over the config without being saved to it.
    decision_timeout_override: Option<Duration>,
    /// Where the server listens besides `port` (`--bind`, interception).
    listening: crate::listening::Listening,
    /// Set once the server shuts down: event streams end.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Emulator {
    pub fn new(config: Config, config_path: PathBuf, port: u16, mode: ApprovalMode) -> Emulator {
        Emulator {
            clock: Clock::new(),
            store: Store::default(),
            approvals: Arc::new(Approvals::new(mode)),
            limits: Limits::default(),
            journal: Journal::new(config.journal.capacity)
                .including_control(config.journal.include_control),
            faults: Faults::default(),
            events: crate::events::bus(),
            // Unknown to anyone until the server installs the file's token.
            control_token: random_token(43),
            initial_mode: mode,
            scenario: None,
            qr: QrLogins::default(),
            webwx: crate::webwx::WebWx::new(config.webwx.settings()),
            apps: AppRegistry::default(),
            consents: Default::default(),
            jssdk: Default::default(),
            h5_calls: Default::default(),
            client: RwLock::new(config.client.clone()),
            config: RwLock::new(config),
            config_path,
            port,
            own_origins: OUR_HOSTS
                .iter()
                .map(|host| format!("https://{host}:{port}"))
                .collect(),
            base_url: format!("https://{CANONICAL_HOST}:{port}"),
            decision_timeout_override: None,
            listening: crate::listening::Listening::default(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Where the server listens (`--bind`, interception): set once at start.
    pub fn with_listening(mut self, listening: crate::listening::Listening) -> Emulator {
        self.listening = listening;
        self
    }

    pub fn listening(&self) -> &crate::listening::Listening {
        &self.listening
    }

    pub fn with_limits(mut self, limits: Limits) -> Emulator {
        self.limits = limits;
        self
    }

    pub fn with_journal(mut self, journal: Journal) -> Emulator {
        self.journal = journal;
        self
    }

    pub fn with_control_token(mut self, token: String) -> Emulator {
        self.control_token = token;
        self
    }

    /// Plays `scenario` now (policy, client, queued decisions, faults) and
    /// again on every [`Emulator::reset`]. Its accounts and apps must
    /// already be in the config (see [`Scenario::merge_into`]).
    pub fn with_scenario(mut self, scenario: Scenario) -> Emulator {
        if let Some(policy) = scenario.policy {
            self.initial_mode = policy;
        }
        self.scenario = Some(scenario);
        self.play_scenario();
        self
    }

    /// The injectable "now" behind every expiry; callers outside core read
    /// it through [`Emulator::now`] and move it through the QA operations.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now on the emulated clock (what every expiry is measured against).
    pub fn now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    /// Whether the emulated clock is frozen.
    pub fn clock_frozen(&self) -> bool {
        self.clock.is_frozen()
    }

    /// Where logins wait for a decision; callers outside core go through
    /// the approval operations (qa.rs), which publish.
    pub(crate) fn approvals(&self) -> &Arc<Approvals> {
        &self.approvals
    }

    /// What one client may cost the server.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The issued uuids, codes and tokens: only the emulator's operations
    /// read and change them.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// What is known of `code` at `at` (live, expired, or missing), for
    /// inspection: tests, a QA tool asking which account a login used.
    pub fn issued_code(
        &self,
        code: &str,
        at: std::time::SystemTime,
    ) -> crate::store::Lookup<crate::store::IssuedCode> {
        self.store.codes.get(code, at)
    }

    /// How many check-login uuids, codes, access and refresh tokens are
    /// kept (live or recently expired), for inspection.
    pub fn stored_counts(&self) -> crate::store::StoredCounts {
        crate::store::StoredCounts {
            authorize_sessions: self.store.authorize_sessions.len(),
            codes: self.store.codes.len(),
            access_tokens: self.store.access_tokens.len(),
            refresh_tokens: self.store.refresh_tokens.len(),
        }
    }

    /// Forgets what expired by the emulated clock (the server's purge
    /// task): the count dropped. It takes no time of its own, so nothing
    /// live is dropped without the clock moving (which publishes).
    pub fn purge(&self) -> usize {
        let now = self.clock.now();
        self.store.purge(now)
            + self.consents.purge(now)
            + self.jssdk.purge(now)
            + self.qr.purge(now)
            + self.webwx.purge(now)
    }

    /// Apps permissive mode registered at run time, by appid.
    pub fn registered_apps(&self) -> Vec<crate::config::WebsiteApp> {
        self.apps.registered()
    }

    pub fn control_token(&self) -> &str {
        &self.control_token
    }

    /// Back to the state right after start: policy, client state, clock,
    /// queued decisions, faults, pending authorizations, issued uuids and
    /// codes, QR logins (expired), the journal; then the scenario again. Accounts and apps (the
    /// config file) are kept.
    ///
    /// Each change publishes its event, then [`Event::Reset`] says it is
    /// over (the issued codes, registered apps and Web WeChat sessions it
    /// dropped have no event of their own).
    pub fn reset(&self) {
        self.clear_decisions();
        self.approvals.cancel_all();
        self.set_approval_mode(self.initial_mode);
        self.clear_faults();
        self.clock.reset();
        self.publish(Event::ClockChanged);
        self.store.clear();
        self.consents.clear();
        self.jssdk.clear();
        self.apps.clear();
        // Pages showing these codes learn (wx_errcode 402) that they are over.
        for qr in self.qr_list() {
            let _ = self.qr_expire(&qr.uuid);
        }
        // Bots held on synccheck learn (1101) that their session is over.
        self.webwx.reset();
        self.clear_journal();
        let client = self.config().client.clone();
        *crate::sync::write(&self.client) = client;
        self.publish(Event::ClientChanged);
        self.play_scenario();
        self.publish(Event::Reset);
    }

    /// The server is shutting down: pending authorizations are withdrawn
    /// (they answer 10046 at once), held long polls and synccheck requests
    /// answer, and event streams end, so every connection can close.
    pub fn release_waiters(&self) {
        self.approvals.cancel_all();
        self.qr.release_polls();
        self.webwx.release_waiters();
        self.closing.send_replace(true);
    }

    fn play_scenario(&self) {
        let Some(scenario) = &self.scenario else {
            return;
        };
        self.set_approval_mode(self.initial_mode);
        if let Some(client) = &scenario.client {
            if let Some(state) = client.state {
                self.set_client_state(state);
            }
            if let Some(account) = &client.account {
                self.set_current_account(account);
            }
        }
        for batch in &scenario.decisions {
            self.enqueue_decisions(batch.expand());
        }
        for fault in &scenario.faults {
            // Validated when the scenario was loaded.
            let _ = self.add_fault(fault.clone());
        }
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
            // `--decision-timeout` is not validated like the config's.
            .min(crate::config::MAX_DURATION)
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
        self.base_url.clone()
    }

    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        crate::sync::read(&self.config)
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Changes the config, saves it atomically, and only then makes it live:
    /// a failed save changes nothing.
    pub fn update_config(&self, change: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
        let mut guard = crate::sync::write(&self.config);
        let mut next = guard.clone();
        change(&mut next);
        next.save(&self.config_path)?;
        *guard = next;
        drop(guard);
        self.publish(Event::ConfigChanged);
        Ok(())
    }

    /// Like [`Emulator::update_config`], but `change` may refuse, and the
    /// result must pass the config's validation before it is saved.
    pub fn try_update_config<T>(
        &self,
        change: impl FnOnce(&mut Config) -> Result<T, UpdateError>,
    ) -> Result<T, UpdateError> {
        let mut guard = crate::sync::write(&self.config);
        let mut next = guard.clone();
        let value = change(&mut next)?;
        next.validate().map_err(UpdateError::Invalid)?;
        next.save(&self.config_path).map_err(UpdateError::Save)?;
        *guard = next;
        drop(guard);
        self.publish(Event::ConfigChanged);
        Ok(value)
    }

    pub fn client_state(&self) -> ClientState {
        crate::sync::read(&self.client).state
    }

    /// The client's runtime settings (state, account, the web
    /// authorization switches).
    pub fn client_settings(&self) -> crate::config::ClientConfig {
        crate::sync::read(&self.client).clone()
    }

    /// Web authorization's switches (runtime, like the client state):
    /// `snapshot_user`, `full_profile` (see `crate::config::ClientConfig`).
    pub fn set_web_switches(&self, snapshot_user: Option<bool>, full_profile: Option<bool>) {
        {
            let mut client = crate::sync::write(&self.client);
            if let Some(on) = snapshot_user {
                client.snapshot_user = on;
            }
            if let Some(on) = full_profile {
                client.full_profile = on;
            }
        }
        self.publish(Event::ClientChanged);
    }

    pub fn set_client_state(&self, state: ClientState) {
        crate::sync::write(&self.client).state = state;
        self.publish(Event::ClientChanged);
    }

    /// The account the client is logged in as (whatever its state).
    pub fn current_account(&self) -> Account {
        self.with_current_account(Account::clone)
    }

    /// `read` applied to the logged-in account, without copying it.
    pub fn with_current_account<R>(&self, read: impl FnOnce(&Account) -> R) -> R {
        // Never two locks at once: the id is copied out first.
        let id = crate::sync::read(&self.client).account.clone();
        let config = self.config();
        match config.account_ref(&id) {
            Some(account) => read(account),
            None => read(&config.accounts()[0]),
        }
    }

    /// Switches the logged-in account. False when no account has that id.
    pub fn set_current_account(&self, id: &str) -> bool {
        if self.config().account(id).is_none() {
            return false;
        }
        crate::sync::write(&self.client).account = id.to_owned();
        self.publish(Event::ClientChanged);
        true
    }

    /// The avatar URL shown for `account`: its own, or wxemu's generated one.
    pub fn headimgurl(&self, account: &Account) -> String {
        if account.headimgurl.is_empty() {
            let mut url = String::with_capacity(
                self.base_url.len() + crate::avatar::PATH.len() + account.id.len(),
            );
            url.push_str(&self.base_url);
            crate::avatar::push_path(&mut url, &account.id, 132);
            url
        } else {
            account.headimgurl.clone()
        }
    }
}

/// Events: see `crate::events`.
impl Emulator {
    /// Every event from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            own: self.events.subscribe(),
            approvals: self.approvals.subscribe(),
            qr: self.qr.subscribe(),
            webwx: self.webwx.subscribe(),
            closing: self.closing.subscribe(),
        }
    }

    pub(crate) fn publish(&self, event: Event) {
        // No subscriber is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    /// [`Emulator::publish`] for events built per request: built only when
    /// someone is subscribed (a headless server has nobody watching).
    pub(crate) fn publish_with(&self, event: impl FnOnce() -> Event) {
        if self.events.receiver_count() > 0 {
            self.publish(event());
        }
    }
}

/// Why a runtime config change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Save(ConfigError),
}
