//! What the doctor reports: its options, each check's level, and the
//! report `wxemu doctor` prints (or `--json` serialises).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use wxemu_certs::TrustTargets;
use wxemu_core::CANONICAL_HOST;

/// Resolves a name to addresses (injectable so tests need no DNS).
pub type Resolver = Arc<dyn Fn(&str, u16) -> std::io::Result<Vec<SocketAddr>> + Send + Sync>;

/// The system resolver (`getaddrinfo`, which reads the hosts file first).
pub fn system_resolver() -> Resolver {
    Arc::new(|name, port| (name, port).to_socket_addrs().map(Iterator::collect))
}

/// What the doctor looks at.
#[derive(Clone)]
pub struct DoctorOptions {
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    pub port: u16,
    /// The name the login page calls (`localhost.weixin.qq.com`).
    pub name: String,
    pub hosts_file: PathBuf,
    pub trust: TrustTargets,
    pub resolver: Resolver,
    /// Bound on each network step.
    pub timeout: Duration,
    /// The appid check-login is asked about [default: the config's first `[[apps]]`,
    /// else a probe appid].
    pub appid: Option<String>,
    /// The redirect_uri sent with it [default: the app's first callback domain].
    pub redirect_uri: Option<String>,
    /// Interception: check the proxy on this port (`serve --proxy-port`).
    pub proxy_port: Option<u16>,
    /// Interception, hosts mode (`serve --intercept-port`): check the names resolve.
    pub intercept_port: Option<u16>,
}

impl DoctorOptions {
    pub fn new(data_dir: PathBuf) -> DoctorOptions {
        DoctorOptions {
            config_path: wxemu_core::default_path(&data_dir),
            data_dir,
            port: wxemu_core::DEFAULT_PORT,
            name: CANONICAL_HOST.to_owned(),
            hosts_file: crate::hosts::default_path(),
            trust: TrustTargets::for_this_os(),
            resolver: system_resolver(),
            timeout: Duration::from_secs(3),
            appid: None,
            redirect_uri: None,
            proxy_port: None,
            intercept_port: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
            Level::Skip => "skip",
        }
    }
}

/// One check's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable identifier: `name`, `port`, `server`, `trust`, `certificates`, `clock`,
    /// `origins`; with interception in use `intercept-trust`, `proxy`, `intercept-names`.
    pub id: &'static str,
    pub level: Level,
    pub summary: String,
    /// More lines (e.g. one per trust store).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub(crate) fn new(id: &'static str, level: Level, summary: impl Into<String>) -> Check {
        Check {
            id,
            level,
            summary: summary.into(),
            details: Vec::new(),
            fix: None,
        }
    }
    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
    pub(crate) fn details(mut self, details: Vec<String>) -> Check {
        self.details = details;
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub port: u16,
    pub data_dir: PathBuf,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "wxemu doctor: port {}, data directory {}",
            self.port,
            self.data_dir.display()
        )?;
        for check in &self.checks {
            writeln!(
                f,
                "  {:<5} {:<13} {}",
                check.level.as_str(),
                check.id,
                check.summary
            )?;
            for line in &check.details {
                writeln!(f, "  {:<5} {:<13}   {line}", "", "")?;
            }
            if let Some(fix) = &check.fix {
                writeln!(f, "  {:<5} {:<13} fix: {fix}", "", "")?;
            }
        }
        if self.ok {
            writeln!(f, "All checks passed.")
        } else {
            writeln!(f, "Some checks failed: the login page will show the QR code instead of the fast login.")
        }
    }
}
