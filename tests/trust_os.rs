//! The macOS and Windows trust stores for real, on the OS that has them, each
//! put back in a drop guard even when an assertion fails:
//! - macOS: a temporary keychain made for the test (the CA goes in there, its
//!   admin trust setting through `sudo security add-trusted-cert -d`), deleted
//!   afterwards; Apple's verifier (`security verify-cert`) decides.
//! - Windows: the ROOT store through `certutil.exe`, as `wxemu trust install`
//!   uses it (LocalMachine\Root on an elevated runner, CurrentUser\Root
//!   otherwise); Windows' own TLS stack (curl.exe on Schannel) decides, against
//!   a real wxemu.
//!
//! Elsewhere they skip with a message. CI sets `WXEMU_REQUIRE_OS_TRUST_TESTS=1`
//! on macOS and Windows (.github/workflows/ci.yml), where a skip is a failure.

mod common;
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{TestServer, APPID, ORIGIN, REDIRECT};
use wxemu_certs::{
    install_trust, trust_status, uninstall_trust, CaCert, Outcome, Report, StoreKind, TrustTargets,
};

/// True when the test can run here; otherwise skips, or panics where CI
/// requires these tests (`WXEMU_REQUIRE_OS_TRUST_TESTS=1`).
fn runs_here(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("WXEMU_REQUIRE_OS_TRUST_TESTS").is_ok_and(|v| v == "1") {
        panic!("WXEMU_REQUIRE_OS_TRUST_TESTS=1 but {why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

fn outcome_of(report: &Report, prefix: &str) -> Outcome {
    report
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} line in:\n{report}"))
        .outcome
}

/// Uninstalls on drop, so a failing test leaves no trust behind.
struct Uninstall {
    ca: CaCert,
    targets: TrustTargets,
}

impl Drop for Uninstall {
    fn drop(&mut self) {
        let report = uninstall_trust(&self.ca, &self.targets);
        if report.any_failed() {
            eprintln!("cleanup of the trust store failed:\n{report}");
        }
    }
}

/// install → trusted → install again (already) → uninstall → not trusted →
/// uninstall again (already), with `trusted_by_the_os` asked after each step.
fn round_trip(
    ca: &CaCert,
    targets: &TrustTargets,
    store: &str,
    trusted_by_the_os: impl Fn() -> (bool, String),
) {
    let before = trust_status(ca, targets);
    assert_eq!(outcome_of(&before, store), Outcome::NotTrusted, "{before}");
    let (trusted, said) = trusted_by_the_os();
    assert!(!trusted, "trusted before install: {said}");

    let installed = install_trust(ca, targets);
    assert_eq!(outcome_of(&installed, store), Outcome::Done, "{installed}");
    let status = trust_status(ca, targets);
    assert_eq!(outcome_of(&status, store), Outcome::Trusted, "{status}");
    let (trusted, said) = trusted_by_the_os();
    assert!(trusted, "not trusted after install ({installed}): {said}");
    let again = install_trust(ca, targets);
    assert_eq!(outcome_of(&again, store), Outcome::Already, "{again}");

    let removed = uninstall_trust(ca, targets);
    assert_eq!(outcome_of(&removed, store), Outcome::Done, "{removed}");
    let status = trust_status(ca, targets);
    assert_eq!(outcome_of(&status, store), Outcome::NotTrusted, "{status}");
    let (trusted, said) = trusted_by_the_os();
    assert!(
        !trusted,
        "still trusted after uninstall ({removed}): {said}"
    );
    let again = uninstall_trust(ca, targets);
    assert_eq!(outcome_of(&again, store), Outcome::Already, "{again}");
}

fn run(mut cmd: Command) -> (bool, String) {
    let out = tools::run_bounded(
        {
            cmd.env_remove("SSL_CERT_FILE")
                .env_remove("SSL_CERT_DIR")
                .env_remove("CURL_CA_BUNDLE");
            cmd
        },
        Duration::from_secs(60),
    );
    tools::success_and_output(&out)
}

// ---------------------------------------------------------------------------------------
// macOS: a throwaway keychain

/// Deletes the test's keychain (and so the certificate in it) on drop.
struct DeleteKeychain(PathBuf);

impl Drop for DeleteKeychain {
    fn drop(&mut self) {
        let mut cmd = Command::new("security");
        cmd.arg("delete-keychain").arg(&self.0);
        let (ok, said) = run(cmd);
        if !ok {
            eprintln!(
                "cannot delete the test keychain {}: {said}",
                self.0.display()
            );
        }
    }
}

#[test]
fn macos_temporary_keychain_round_trip() {
    if !runs_here(cfg!(target_os = "macos"), "not macOS: no keychain")
        || !runs_here(
            Path::new("/usr/bin/security").is_file(),
            "/usr/bin/security is missing",
        )
    {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let ca = CaCert::ensure(data.path()).expect("CA");
    let dir = tempfile::tempdir().expect("keychain dir");
    let keychain = dir.path().join("wxemu-test.keychain-db");
    let mut create = Command::new("security");
    create.args(["create-keychain", "-p", ""]).arg(&keychain);
    let (ok, said) = run(create);
    assert!(ok, "security create-keychain: {said}");
    let _keychain = DeleteKeychain(keychain.clone());
    // Unlocked, without the idle re-lock: adding to a locked keychain would
    // ask for its password in a dialog no one answers.
    for args in [
        &["unlock-keychain", "-p", ""][..],
        &["set-keychain-settings"][..],
    ] {
        let mut cmd = Command::new("security");
        cmd.args(args).arg(&keychain);
        let (ok, said) = run(cmd);
        assert!(ok, "security {}: {said}", args[0]);
    }

    let targets = TrustTargets {
        macos_keychain: keychain.clone(),
        ..TrustTargets::for_this_os()
    }
    .only(&[StoreKind::MacOs]);
    let _uninstall = Uninstall {
        ca: ca.clone(),
        targets: targets.clone(),
    };
    let ca_path = ca.path.clone();
    round_trip(&ca, &targets, "macOS", || {
        // Apple's verifier, with the trust settings the store holds.
        let mut verify = Command::new("security");
        verify
            .args(["verify-cert", "-p", "ssl", "-c"])
            .arg(&ca_path);
        run(verify)
    });
}

// ---------------------------------------------------------------------------------------
// Windows: the ROOT store, judged by Schannel

/// check-login through Windows' own curl.exe (Schannel: the Windows stores
/// decide), its revocation check off (wxemu's CA publishes no CRL).
fn schannel_check_login(port: u16) -> (bool, String) {
    let system_root = std::env::var_os("SystemRoot").unwrap_or_else(|| r"C:\Windows".into());
    let curl = Path::new(&system_root).join("System32").join("curl.exe");
    let body = serde_json::json!({"apiname": "qrconnectchecklogin",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": "s"}})
    .to_string();
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "--ssl-no-revoke", "--max-time", "20", "--resolve"])
        .arg(format!("localhost.weixin.qq.com:{port}:127.0.0.1"))
        .args(["-H", &format!("Origin: {ORIGIN}")])
        .args(["-H", "Content-Type: application/json", "--data", &body])
        .arg(format!(
            "https://localhost.weixin.qq.com:{port}/api/check-login"
        ));
    let (ok, said) = run(cmd);
    // Trusted means a check-login answer, not just a connection.
    (ok && said.contains("\"errcode\":0"), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_root_store_round_trip_with_schannel() {
    if !runs_here(cfg!(windows), "not Windows: no ROOT store") {
        return;
    }
    let server = TestServer::start().await;
    let port = server.addr.port();
    let ca = CaCert::load(server.data_dir.path()).expect("the server's CA");
    let targets = TrustTargets::for_this_os().only(&[StoreKind::Windows]);
    let guard = Uninstall {
        ca: ca.clone(),
        targets: targets.clone(),
    };
    tokio::task::spawn_blocking(move || {
        round_trip(&ca, &targets, "Windows", || schannel_check_login(port));
        drop(guard);
    })
    .await
    .expect("the round trip");
}
