//! Is wxemu's CA trusted, and trusting it from the app.
//!
//! The answer comes from [`wxemu_certs::trust::status`], which checks every
//! store `wxemu trust install` writes to (the system store, every NSS
//! database, the macOS keychain, the Windows ROOT store), by fingerprint.
//! Installing splits the stores by who may write them: the per-user ones
//! (NSS databases in the home directory) are done by the app itself; the
//! system-wide one goes through the OS's elevation prompt ([`crate::elevate`]).
//! Either way the result is one [`TrustLine`] per store.

use std::path::Path;

use serde::{Deserialize, Serialize};
use wxemu_certs::trust::{self, CaCert, Outcome, Report, TrustTargets};

/// The trust verdict the dashboard shows.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TrustStatus {
    /// Every store there is trusts the CA.
    Trusted,
    /// Some store does not.
    NotTrusted,
    /// No store could be checked (no CA yet, no store on this system).
    Unknown,
}

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
            let report = trust::status(&ca, &targets());
            (verdict(&report), lines(&report))
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
/// it would answer as, and whether its own CA is trusted.
#[derive(Debug, Clone, Serialize)]
pub struct InterceptInfo {
    pub enabled: bool,
    pub proxy_port: Option<u16>,
    pub hosts_port: Option<u16>,
    /// `[intercept] hosts`.
    pub hosts: Vec<String>,
    pub ca_path: String,
    /// False until interception is first used (the CA is made then).
    pub ca_exists: bool,
    pub ca_status: TrustStatus,
}

/// Asks the stores about the interception CA of `data_dir`, if there is one
/// (runs the stores' tools: off the UI thread). Creates nothing.
pub fn intercept_info(
    data_dir: &Path,
    proxy_port: Option<u16>,
    hosts_port: Option<u16>,
    hosts: Vec<String>,
) -> InterceptInfo {
    let kind = wxemu_certs::CaKind::Intercept;
    let ca_path = wxemu_certs::ca_cert_path_of(data_dir, kind);
    let ca_exists = ca_path.exists();
    let ca_status = match ca_exists.then(|| CaCert::load_of(data_dir, kind)) {
        Some(Ok(ca)) => verdict(&trust::status(&ca, &targets())),
        _ => TrustStatus::Unknown,
    };
    InterceptInfo {
        enabled: proxy_port.is_some() || hosts_port.is_some(),
        proxy_port,
        hosts_port,
        hosts,
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

/// Trusted when some store trusts the CA and none lacks it. Stores that do
/// not exist here (skipped) do not count; a store whose check failed does
/// not prove trust either way.
pub fn verdict(report: &Report) -> TrustStatus {
    let has = |o: Outcome| report.stores.iter().any(|s| s.outcome == o);
    if has(Outcome::NotTrusted) {
        TrustStatus::NotTrusted
    } else if has(Outcome::Trusted) {
        TrustStatus::Trusted
    } else {
        TrustStatus::Unknown
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
    use wxemu_certs::trust::StoreReport;

    fn report(outcomes: &[Outcome]) -> Report {
        Report {
            stores: outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| StoreReport {
                    store: format!("store {i}"),
                    outcome: *o,
                    detail: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn trusted_needs_one_store_that_trusts_and_none_that_lacks() {
        use Outcome::*;
        assert_eq!(verdict(&report(&[Trusted, Skipped])), TrustStatus::Trusted);
        assert_eq!(
            verdict(&report(&[Trusted, NotTrusted])),
            TrustStatus::NotTrusted
        );
        assert_eq!(verdict(&report(&[Skipped, Skipped])), TrustStatus::Unknown);
        assert_eq!(verdict(&report(&[Failed])), TrustStatus::Unknown);
        assert_eq!(verdict(&report(&[])), TrustStatus::Unknown);
    }

    #[test]
    fn interception_without_its_ca_is_off_and_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let info = intercept_info(dir.path(), None, None, vec!["api.weixin.qq.com".into()]);
        assert!(!info.enabled && !info.ca_exists);
        assert_eq!(info.ca_status, TrustStatus::Unknown);
        assert_eq!(info.hosts, ["api.weixin.qq.com"]);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "creates nothing"
        );
        let on = intercept_info(dir.path(), Some(8899), None, Vec::new());
        assert!(on.enabled);
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
