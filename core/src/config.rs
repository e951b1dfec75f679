//! The user's configuration: the TOML file in the data directory.
//!
//! Everything a person can set lives here: the emulated client's state, the
//! accounts it can log in as, the website apps it knows, extra allowed
//! Origins and the timing knobs. The file is optional; a missing file means
//! "all defaults" and is never created behind the user's back. Saving goes
//! through [`crate::fsutil::write_atomic`], so a crash mid-save leaves either
//! the old file or the new one, never half of each.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The name of the config file inside the data directory.
pub const CONFIG_FILE: &str = "config.toml";

/// The id of the account that ships built in.
pub const DEFAULT_ACCOUNT_ID: &str = "default";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub client: ClientConfig,
    pub server: ServerConfig,
    pub platform: PlatformConfig,
    /// Accounts in addition to the built-in `default` one (an entry with id
    /// `default` replaces it).
    pub accounts: Vec<Account>,
    pub apps: Vec<WebsiteApp>,
    pub journal: crate::journal::JournalConfig,
    pub intercept: InterceptConfig,
    /// Web WeChat (the bot libraries' protocol): lifetimes and bounds.
    pub webwx: WebWxConfig,
}

/// The real WeChat hosts wxemu plays today, intercepted unless `[intercept] hosts`
/// says otherwise: the Open Platform's login page and QR (`open.`), its long poll on
/// both hosts the real page has used (`lp.open.`, `long.open.`), `wxLogin.js`
/// (`res.wx.qq.com`) and the token API (`api.`).
pub const DEFAULT_INTERCEPTED_HOSTS: &[&str] = &[
    "open.weixin.qq.com",
    "lp.open.weixin.qq.com",
    "long.open.weixin.qq.com",
    "res.wx.qq.com",
    "api.weixin.qq.com",
    // Web WeChat (protocol.md section 3): the login hosts, the home hosts a
    // login poll redirects to, and their push and file hosts.
    "login.weixin.qq.com",
    "login.wx.qq.com",
    "login.wx2.qq.com",
    "login.wx8.qq.com",
    "login.web.wechat.com",
    "wx.qq.com",
    "wx2.qq.com",
    "wx8.qq.com",
    "web.wechat.com",
    "webpush.wx.qq.com",
    "webpush.wx2.qq.com",
    "webpush.wx8.qq.com",
    "webpush.web.wechat.com",
    "file.wx.qq.com",
    "file.wx2.qq.com",
    "file.wx8.qq.com",
    "file.web.wechat.com",
];

/// Interception (`serve --proxy-port` or `--intercept-port`): wxemu answers as
/// the real WeChat hosts, for sites and SDKs that cannot be pointed elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InterceptConfig {
    /// The hosts served as the real ones (checked against the interception CA's
    /// constraints when interception starts). `["api.weixin.qq.com"]` alone keeps
    /// the real login page and sends only a backend's API calls to wxemu.
    pub hosts: Vec<String>,
    /// The proxy refuses every other host off this machine (as `--proxy-offline`).
    pub offline: bool,
}

impl Default for InterceptConfig {
    fn default() -> Self {
        InterceptConfig {
            hosts: DEFAULT_INTERCEPTED_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            offline: false,
        }
    }
}

/// `[webwx]`: Web WeChat sessions (docs/webwx.md). The contacts of an
/// account are `[accounts.webwx]` under its `[[accounts]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebWxConfig {
    /// How long the login ticket of a confirmed QR code can be redeemed.
    #[serde(with = "humantime_serde")]
    pub ticket_ttl: Duration,
    /// A session nobody used for this long ends (the client gets 1101).
    #[serde(with = "humantime_serde")]
    pub session_idle_ttl: Duration,
    /// How long synccheck holds when nothing is new (under 30s).
    #[serde(with = "humantime_serde")]
    pub synccheck_hold: Duration,
    /// Contacts per webwxgetcontact page.
    pub contact_page_size: usize,
    /// Conversation entries kept per session.
    pub history_per_session: usize,
}

impl Default for WebWxConfig {
    fn default() -> Self {
        let s = crate::webwx::WebWxSettings::default();
        WebWxConfig {
            ticket_ttl: s.ticket_ttl,
            session_idle_ttl: s.session_idle_ttl,
            synccheck_hold: s.synccheck_hold,
            contact_page_size: s.contact_page_size,
            history_per_session: s.history_per_session,
        }
    }
}

impl WebWxConfig {
    pub fn settings(&self) -> crate::webwx::WebWxSettings {
        crate::webwx::WebWxSettings {
            ticket_ttl: self.ticket_ttl,
            session_idle_ttl: self.session_idle_ttl,
            synccheck_hold: self.synccheck_hold,
            contact_page_size: self.contact_page_size,
            history_per_session: self.history_per_session,
            ..crate::webwx::WebWxSettings::default()
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.ticket_ttl.is_zero() || self.session_idle_ttl.is_zero() {
            return Err("[webwx] ticket_ttl and session_idle_ttl must be longer than 0s".into());
        }
        if self.synccheck_hold.is_zero() || self.synccheck_hold >= Duration::from_secs(30) {
            return Err(
                "[webwx] synccheck_hold must be between 0s and 30s (clients time out at 30s)"
                    .into(),
            );
        }
        if !(1..=10_000).contains(&self.contact_page_size) {
            return Err("[webwx] contact_page_size must be 1..=10000".into());
        }
        if !(1..=100_000).contains(&self.history_per_session) {
            return Err("[webwx] history_per_session must be 1..=100000".into());
        }
        Ok(())
    }
}

/// What the emulated desktop client is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    pub state: ClientState,
    /// The id of the account the client is logged in as.
    pub account: String,
    /// Web authorization: the person sees only the page's snapshot (since
    /// 2022-07, a page opened from Moments): tokens carry
    /// `is_snapshotuser: 1` and userinfo answers 48001.
    pub snapshot_user: bool,
    /// Web authorization's userinfo answers the account's gender and
    /// region; real WeChat has answered 0 and "" since 2021-10-20.
    pub full_profile: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            state: ClientState::LoggedIn,
            account: DEFAULT_ACCOUNT_ID.to_owned(),
            snapshot_user: false,
            full_profile: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientState {
    /// Logged in: check-login answers with the current account.
    LoggedIn,
    /// No account logged in: check-login fails and the page shows the QR code.
    LoggedOut,
    /// Logged in but the screen is locked: check-login fails likewise.
    Locked,
}

impl crate::named::Named for ClientState {
    const ALL: &'static [Self] = &[
        ClientState::LoggedIn,
        ClientState::LoggedOut,
        ClientState::Locked,
    ];

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl ClientState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientState::LoggedIn => "logged_in",
            ClientState::LoggedOut => "logged_out",
            ClientState::Locked => "locked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Origins allowed to call the fast-login API besides
    /// `https://open.weixin.qq.com` and wxemu's own origin.
    pub allowed_origins: Vec<String>,
    /// How long the person has to answer the confirm window.
    #[serde(with = "humantime_serde")]
    pub decision_timeout: Duration,
    /// How long an `authorize_uuid` from check-login stays usable.
    #[serde(with = "humantime_serde")]
    pub authorize_uuid_ttl: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            allowed_origins: Vec::new(),
            decision_timeout: Duration::from_secs(60),
            authorize_uuid_ttl: Duration::from_secs(300),
        }
    }
}

/// The emulated Open Platform: the login page, QR codes and the token API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformConfig {
    /// `permissive` (default): an unknown appid is registered on first use
    /// and an app's unset secret or callback domains are not checked.
    /// `strict`: only `[[apps]]` exist and everything is checked.
    pub mode: PlatformMode,
    /// How long a login QR code can be scanned (the real ones last ~5 min).
    #[serde(with = "humantime_serde")]
    pub qr_ttl: Duration,
    /// With `serve --approve auto|deny`: how long after a QR code appears
    /// the emulated phone scans it, and again until it confirms (or cancels).
    #[serde(with = "humantime_serde")]
    pub auto_scan_delay: Duration,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            mode: PlatformMode::Permissive,
            qr_ttl: Duration::from_secs(300),
            auto_scan_delay: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformMode {
    Permissive,
    Strict,
}

/// A fake WeChat user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub id: String,
    pub nickname: String,
    /// Avatar URL; empty means wxemu's own generated avatar (works offline).
    pub headimgurl: String,
    /// 1 male, 2 female, 0 unknown (WeChat's encoding).
    pub sex: u8,
    pub province: String,
    pub city: String,
    pub country: String,
    pub language: String,
    /// Web WeChat contacts (`[accounts.webwx]`); unset: a generated set of
    /// friends, groups and an official account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webwx: Option<crate::webwx::ContactBook>,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            id: DEFAULT_ACCOUNT_ID.to_owned(),
            nickname: "微信测试用户".to_owned(),
            headimgurl: String::new(),
            sex: 1,
            province: "Guangdong".to_owned(),
            city: "Shenzhen".to_owned(),
            country: "CN".to_owned(),
            language: "zh_CN".to_owned(),
            webwx: None,
        }
    }
}

/// An app registered with WeChat: a website app of the Open Platform or
/// an Official Account (公众号).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebsiteApp {
    pub appid: String,
    /// `website` (default): logs in with qrconnect and fast login;
    /// `official_account`: pages inside WeChat (`connect/oauth2/authorize`).
    pub kind: AppKind,
    pub secret: String,
    pub name: String,
    pub icon_url: String,
    /// Hosts a redirect_uri may point at (checked in strict mode).
    pub callback_domains: Vec<String>,
    /// 网页授权域名: the hosts `connect/oauth2/authorize` may send its code
    /// to (an exact host: no subdomain, and a port only in permissive mode).
    pub oauth_domains: Vec<String>,
    /// JS接口安全域名: the hosts whose pages may use the JS-SDK (subdomains
    /// included); at most `MAX_JS_DOMAINS`, as WeChat allows.
    pub js_domains: Vec<String>,
    /// The app refuses fast login: check-login answers 10057.
    pub scan_only: bool,
    /// The developer account owning the app; apps with the same owner share
    /// a user's unionid.
    pub owner: String,
}

/// What kind of app an appid is (see [`WebsiteApp::kind`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    #[default]
    Website,
    OfficialAccount,
}

/// WeChat's limit on JS接口安全域名 per appid.
pub const MAX_JS_DOMAINS: usize = 3;
/// Most callback or 网页授权 domains one app may list (wxemu's bound).
pub const MAX_APP_DOMAINS: usize = 50;

/// The longest any configured lifetime or delay may be: they are added to
/// "now", and must never overflow it.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

impl WebsiteApp {
    /// Domain lists within their bounds, each a plain host name (with an
    /// optional port): no scheme, path or wildcard.
    pub fn validate_domains(&self) -> Result<(), String> {
        if self.js_domains.len() > MAX_JS_DOMAINS {
            return Err(format!(
                "js_domains has {} entries; WeChat allows at most {MAX_JS_DOMAINS}",
                self.js_domains.len()
            ));
        }
        for (field, list) in [
            ("callback_domains", &self.callback_domains),
            ("oauth_domains", &self.oauth_domains),
            ("js_domains", &self.js_domains),
        ] {
            if list.len() > MAX_APP_DOMAINS {
                return Err(format!("{field} has more than {MAX_APP_DOMAINS} entries"));
            }
            for domain in list {
                let plain = !domain.is_empty()
                    && domain.len() <= 260
                    && domain
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
                if !plain {
                    return Err(format!(
                        "{field}: {domain:?} is not a host name (write \"site.example\" or \"localhost:3000\", no scheme or path)"
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Config {
    /// Parses and validates a config's text (what [`Config::load`] does
    /// after reading the file); the message says what is wrong.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        config.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(config)
    }

    /// Writes the config atomically (temp file + rename).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        // Owner-only: [[apps]] hold app secrets.
        crate::fsutil::write_atomic(path, text.as_bytes(), 0o600).map_err(|source| {
            ConfigError::Write {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// Checks what serde cannot: unique ids, known references, origins.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        for account in &self.accounts {
            let id_ok = !account.id.is_empty()
                && account
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !id_ok {
                return Err(format!(
                    "account id {:?} must be non-empty letters, digits, '-', '_' or '.'",
                    account.id
                ));
            }
            if !ids.insert(account.id.as_str()) {
                return Err(format!("account id {:?} appears twice", account.id));
            }
            if let Some(book) = &account.webwx {
                book.validate()
                    .map_err(|e| format!("account {:?}: [accounts.webwx]: {e}", account.id))?;
            }
            if account.sex > 2 {
                return Err(format!(
                    "account {:?}: sex must be 0 (unknown), 1 (male) or 2 (female)",
                    account.id
                ));
            }
        }
        if self.account(&self.client.account).is_none() {
            return Err(format!(
                "[client] account = {:?} names no account",
                self.client.account
            ));
        }
        let mut appids = std::collections::HashSet::new();
        for app in &self.apps {
            if app.appid.is_empty() {
                return Err("an [[apps]] entry has no appid".into());
            }
            if !appids.insert(app.appid.as_str()) {
                return Err(format!("appid {:?} appears twice", app.appid));
            }
            app.validate_domains()
                .map_err(|e| format!("app {:?}: {e}", app.appid))?;
        }
        self.webwx.validate()?;
        if self.platform.qr_ttl.is_zero() {
            return Err("[platform] qr_ttl must be longer than 0s".into());
        }
        for (name, value) in [
            ("[server] decision_timeout", self.server.decision_timeout),
            (
                "[server] authorize_uuid_ttl",
                self.server.authorize_uuid_ttl,
            ),
            ("[platform] qr_ttl", self.platform.qr_ttl),
            ("[platform] auto_scan_delay", self.platform.auto_scan_delay),
        ] {
            if value > MAX_DURATION {
                return Err(format!("{name} must be at most 366 days"));
            }
        }
        for origin in &self.server.allowed_origins {
            if crate::origin::parse_origin(origin).is_none() {
                return Err(format!(
                    "allowed_origins: {origin:?} is not an origin like https://example.com:8443"
                ));
            }
        }
        if self.journal.capacity == 0 {
            return Err("[journal] capacity must be at least 1".into());
        }
        Ok(())
    }

    /// Every account: the built-in one (unless overridden) then the file's.
    pub fn accounts(&self) -> Vec<Account> {
        let mut all = Vec::with_capacity(self.accounts.len() + 1);
        if !self.accounts.iter().any(|a| a.id == DEFAULT_ACCOUNT_ID) {
            all.push(Account::default());
        }
        all.extend(self.accounts.iter().cloned());
        all
    }

    pub fn account(&self, id: &str) -> Option<Account> {
        self.account_ref(id).cloned()
    }

    /// [`Config::account`] without the copy (check-login reads three fields).
    pub fn account_ref(&self, id: &str) -> Option<&Account> {
        static BUILT_IN: std::sync::LazyLock<Account> = std::sync::LazyLock::new(Account::default);
        self.accounts
            .iter()
            .find(|a| a.id == id)
            .or_else(|| (id == DEFAULT_ACCOUNT_ID).then(|| &*BUILT_IN))
    }

    pub fn app(&self, appid: &str) -> Option<&WebsiteApp> {
        self.apps.iter().find(|a| a.appid == appid)
    }
}

/// Where the config file is when `--config` is not given.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CONFIG_FILE)
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML for wxemu: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("the config file {path} is invalid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot save the config file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(&dir.path().join("nope.toml")).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.accounts().len(), 1);
        assert_eq!(config.server.decision_timeout, Duration::from_secs(60));
    }

    #[test]
    fn webwx_settings_and_contacts_parse_and_validate() {
        let config: Config = toml::from_str(
            r#"
            [webwx]
            synccheck_hold = "10s"
            contact_page_size = 50

            [[accounts]]
            id = "alice"
            nickname = "Alice"

            [accounts.webwx]
            friends = [{ id = "bob", nickname = "Bob" }]
            groups = [{ id = "team", name = "Team", members = ["bob"], others = ["Carol"] }]
            official = [{ id = "news", nickname = "News" }]
            "#,
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(
            config.webwx.settings().synccheck_hold,
            Duration::from_secs(10)
        );
        let book = config.account("alice").unwrap().webwx.unwrap();
        assert_eq!(book.groups[0].others, ["Carol"]);
        assert!(config.account("default").unwrap().webwx.is_none());

        let mut bad = config.clone();
        bad.webwx.synccheck_hold = Duration::from_secs(30);
        assert!(bad.validate().unwrap_err().contains("synccheck_hold"));
        let mut bad = config;
        bad.accounts[0].webwx.as_mut().unwrap().groups[0]
            .members
            .push("nobody".into());
        assert!(bad.validate().unwrap_err().contains("nobody"));
    }

    #[test]
    fn round_trips_through_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        let mut config = Config::default();
        config.accounts.push(Account {
            id: "alice".into(),
            nickname: "Alice".into(),
            ..Account::default()
        });
        config.client.account = "alice".into();
        config.server.decision_timeout = Duration::from_millis(1500);
        config.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), config);
    }

    #[test]
    fn reads_the_platform_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(
            &path,
            "[platform]\nmode = \"strict\"\nqr_ttl = \"4m\"\nauto_scan_delay = \"250ms\"\n",
        )
        .unwrap();
        let platform = Config::load(&path).unwrap().platform;
        assert_eq!(platform.mode, PlatformMode::Strict);
        assert_eq!(platform.qr_ttl, Duration::from_secs(240));
        assert_eq!(platform.auto_scan_delay, Duration::from_millis(250));
        assert_eq!(Config::default().platform.mode, PlatformMode::Permissive);
    }

    #[test]
    fn rejects_what_would_break_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        for (text, needle) in [
            ("[client]\naccount = \"bob\"\n", "names no account"),
            (
                "[[accounts]]\nid = \"a\"\n[[accounts]]\nid = \"a\"\n",
                "twice",
            ),
            ("[[accounts]]\nid = \"a\"\nsex = 7\n", "sex"),
            ("[[accounts]]\nid = \"a/b\"\n", "letters"),
            ("[server]\nallowed_origins = [\"example.com\"]\n", "origin"),
            ("[server]\ndecision_timeout = \"soon\"\n", "TOML"),
            ("[client]\nstate = \"asleep\"\n", "TOML"),
            ("bogus = 1\n", "TOML"),
            ("[platform]\nqr_ttl = \"0s\"\n", "qr_ttl"),
            ("[platform]\nmode = \"lenient\"\n", "TOML"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }
}
