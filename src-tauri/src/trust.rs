//! Is wxemu's CA trusted, and trusting it from the app.
//!
//! The answer comes from [`wxemu_certs::trust_status`], which checks every
//! store `wxemu trust install` writes to (the system store, every NSS
//! database, the macOS keychain, the Windows ROOT store), by fingerprint.
//! Installing splits the stores by who may write them: the per-user ones
//! (NSS databases in the home directory) are done by the app itself; the
//! system-wide one goes through the OS's elevation prompt ([`crate::elevate`]).
//! Either way the result is one [`TrustLine`] per store.

use std::path::Path;

use serde::{Deserialize, Serialize};
use wxemu::core::Interception;
use wxemu_certs::{trust_status, CaCert, Outcome, Report, TrustTargets};

/// The trust verdict the dashboard shows: [`Report::verdict`], the one rule
/// the control API and the `serve` banner use too.
pub use wxemu_certs::Verdict as TrustStatus;

/// One store's line: `done` / `already` / `skipped` / `failed` (install,
/// uninstall), `trusted` / `missing` (status), with why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustLine {
    pub store: String,
    pub outcome: String,
    pub detail: String,
}

impl TrustLine {
    pub fn new(store: impl Into<String>, outcome: Outcome, detail: impl Into<String>) -> Self {
        TrustLine {
            store: store.into(),
            outcome: outcome.as_str().to_owned(),
            detail: detail.into(),
        }
    }
}

pub fn lines(report: &Report) -> Vec<TrustLine> {
    report
        .stores
        .iter()
        .map(|s| TrustLine::new(&s.store, s.outcome, &s.detail))
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustInfo {
    pub ca_path: String,
    pub status: TrustStatus,
    /// What each store says.
    pub stores: Vec<TrustLine>,
    /// Shell commands that trust the CA by hand on this OS.
    pub commands: Vec<String>,
}

impl TrustInfo {
    pub fn trusted(&self) -> bool {
        self.status == TrustStatus::Trusted
    }
}

/// Asks every store about the CA of `data_dir` (runs the stores' tools:
/// call it off the UI thread).
pub fn info(data_dir: &Path) -> TrustInfo {
    let ca_path = wxemu_certs::ca_cert_path(data_dir);
    let shown = ca_path.display().to_string();
    let (status, stores) = match CaCert::load(data_dir) {
        Ok(ca) => {
            let report = trust_status(&ca, &targets());
            (report.verdict(), lines(&report))
        }
        Err(e) => (
            TrustStatus::Unknown,
            vec![TrustLine::new("CA", Outcome::Failed, e.to_string())],
        ),
    };
    TrustInfo {
        status,
        stores,
        commands: commands(&shown),
        ca_path: shown,
    }
}

/// Interception (issue 13) as the dashboard shows it: whether this app runs
/// it (the proxy or hosts mode of `wxemu serve`), on which ports, the hosts
/// it answers as, and whether its CA is trusted. Read from the same places
/// as the control API's `GET /__wxemu/intercept`: the listeners as the
/// server bound them, and [`wxemu::intercept_ca_trust`] for the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct InterceptInfo {
    pub enabled: bool,
    pub proxy_port: Option<u16>,
    pub hosts_port: Option<u16>,
    /// The hosts answered as the real ones (`[intercept] hosts` when off).
    pub hosts: Vec<String>,
    pub ca_path: String,
    /// False until interception is first used (the CA is made then).
    pub ca_exists: bool,
    pub ca_status: TrustStatus,
}

/// `on`: the running interception (`Emulator::listening`), `None` when off;
/// `hosts`: `[intercept] hosts`, shown when off. Asks the stores about the
/// interception CA of `data_dir` if there is one (runs the stores' tools:
/// off the UI thread). Creates nothing.
pub fn intercept_info(
    data_dir: &Path,
    on: Option<&Interception>,
    hosts: Vec<String>,
) -> InterceptInfo {
    let ca_path = on.map_or_else(
        || wxemu_certs::ca_cert_path_of(data_dir, wxemu_certs::CaKind::Intercept),
        |on| on.ca_path.clone(),
    );
    let ca_exists = ca_path.exists();
    let ca_status = if ca_exists {
        wxemu::intercept_ca_trust(ca_path.clone()).0
    } else {
        TrustStatus::Unknown
    };
    InterceptInfo {
        enabled: on.is_some(),
        proxy_port: on.and_then(|on| on.proxy).map(|a| a.port()),
        hosts_port: on.and_then(|on| on.hosts_mode).map(|a| a.port()),
        hosts: on.map_or(hosts, |on| on.hosts.clone()),
        ca_path: ca_path.display().to_string(),
        ca_exists,
        ca_status,
    }
}

/// What `status` shows before the stores were asked (the check runs in the
/// background at start): the CA's path and the commands, verdict unknown.
pub fn unchecked(data_dir: &Path) -> TrustInfo {
    let shown = wxemu_certs::ca_cert_path(data_dir).display().to_string();
    TrustInfo {
        status: TrustStatus::Unknown,
        stores: Vec::new(),
        commands: commands(&shown),
        ca_path: shown,
    }
}

/// The real stores of this OS. The app has no terminal for sudo to ask on:
/// root's stores go through [`elevate`] instead.
pub fn targets() -> TrustTargets {
    TrustTargets {
        sudo: None,
        ..TrustTargets::for_this_os()
    }
}

fn commands(ca: &str) -> Vec<String> {
    if cfg!(target_os = "macos") {
        vec![format!(
            "sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain '{ca}'"
        )]
    } else if cfg!(windows) {
        vec![format!("certutil -user -addstore Root \"{ca}\"")]
    } else {
        vec![
            "wxemu trust install   # every store; or by hand:".to_owned(),
            format!("sudo cp '{ca}' /usr/local/share/ca-certificates/wxemu-ca.crt"),
            "sudo update-ca-certificates".to_owned(),
            format!(
                "certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n wxemu -i '{ca}'   # Chromium/Firefox (libnss3-tools)"
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn interception_without_its_ca_is_off_and_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let info = intercept_info(dir.path(), None, vec!["api.weixin.qq.com".into()]);
        assert!(!info.enabled && !info.ca_exists);
        assert_eq!(info.ca_status, TrustStatus::Unknown);
        assert_eq!(info.hosts, ["api.weixin.qq.com"]);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "creates nothing"
        );
    }

    #[test]
    fn a_data_dir_without_a_ca_is_unknown_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let info = info(dir.path());
        assert_eq!(info.status, TrustStatus::Unknown);
        assert_eq!(info.stores[0].outcome, "failed");
        assert!(info.ca_path.ends_with("ca.pem"));
        assert!(
            !dir.path().join("ca.pem").exists(),
            "status creates nothing"
        );
    }
}
