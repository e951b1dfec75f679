//! The trust stores for real: the Linux system store (root, update-ca-certificates) with
//! curl, and an NSS database with headless Chromium, each installed, used, uninstalled and
//! shown failing again; and the CA's name constraints enforced by Chromium and webpki.
//!
//! The system-store test changes the machine's real store (CI is a throwaway root
//! machine) and removes exactly what it added, in a drop guard, even when it fails.

mod common;
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{TestServer, APPID, ORIGIN, REDIRECT};
use rustls::pki_types::ServerName;
use tools::{precondition, Chromium};
use wxemu_certs::{
    install_trust, trust_status, uninstall_trust, CaCert, Outcome, Report, StoreKind, TrustTargets,
};

/// Runs blocking work (trust tools, browsers) off the runtime that serves wxemu.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

fn outcome_of(report: &Report, prefix: &str) -> Outcome {
    report
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} line in:\n{report}"))
        .outcome
}

// ---------------------------------------------------------------------------------------
// System store + curl

/// Uninstalls on drop, so a failing test does not leave our CA in the system store.
struct SystemGuard {
    ca: CaCert,
    targets: TrustTargets,
}

impl Drop for SystemGuard {
    fn drop(&mut self) {
        let report = uninstall_trust(&self.ca, &self.targets);
        if report.any_failed() {
            eprintln!("cleanup of the system store failed:\n{report}");
        }
    }
}

/// Names and contents of the Debian anchor directory.
/// Symbolic links in `dir` whose target does not exist.
fn dangling_links(dir: &str) -> Vec<PathBuf> {
    let mut links: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list links")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_symlink() && !p.exists())
        .collect();
    links.sort();
    links
}

fn anchor_dir_snapshot() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir("/usr/local/share/ca-certificates")
        .expect("list anchors")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read anchor");
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn curl_check_login(port: u16) -> (bool, String) {
    let body = serde_json::json!({"apiname": "qrconnectchecklogin",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": "s"}})
    .to_string();
    let mut cmd = Command::new("curl");
    // Only the system store may decide: no overrides from the environment.
    for var in [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["-sS", "--max-time", "20", "--resolve"])
        .arg(format!("localhost.weixin.qq.com:{port}:127.0.0.1"))
        .args([
            "-H",
            &format!("Origin: {ORIGIN}"),
            "-H",
            "Content-Type: application/json",
        ])
        .args(["--data", &body])
        .arg(format!(
            "https://localhost.weixin.qq.com:{port}/api/check-login"
        ));
    let out = tools::run_bounded(cmd, Duration::from_secs(30));
    tools::success_and_output(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_store_round_trip_with_curl() {
    let debian = Path::new("/usr/local/share/ca-certificates").is_dir();
    if !precondition(tools::is_root(), "the system store test needs root")
        || !precondition(
            debian,
            "no Debian system store (/usr/local/share/ca-certificates)",
        )
        || !precondition(
            tools::on_path("update-ca-certificates"),
            "update-ca-certificates is missing (ca-certificates)",
        )
        || !precondition(tools::on_path("curl"), "curl is missing")
    {
        return;
    }
    let server = TestServer::start().await;
    let port = server.addr.port();
    let ca = CaCert::load(server.data_dir.path()).expect("the server's CA");
    let anchors_before = anchor_dir_snapshot();
    let dangling_before = dangling_links("/etc/ssl/certs");
    let targets = TrustTargets::for_this_os().only(&[StoreKind::System]);
    let guard = SystemGuard {
        ca: ca.clone(),
        targets: targets.clone(),
    };

    let (ok, said) = blocking(move || curl_check_login(port)).await;
    assert!(!ok, "curl must not trust wxemu before install: {said}");

    let (ca2, t2) = (ca.clone(), targets.clone());
    let report = blocking(move || install_trust(&ca2, &t2)).await;
    assert_eq!(
        outcome_of(&report, "system (Debian/Ubuntu)"),
        Outcome::Done,
        "{report}"
    );
    let anchor = PathBuf::from(format!(
        "/usr/local/share/ca-certificates/wxemu-{}.crt",
        ca.tag()
    ));
    assert!(anchor.is_file(), "{report}");

    let (ok, said) = blocking(move || curl_check_login(port)).await;
    assert!(ok, "curl must trust wxemu after install: {said}");
    let reply: serde_json::Value = serde_json::from_str(&said).expect("check-login JSON");
    assert_eq!(reply["errcode"], 0, "{said}");

    let (ca2, t2) = (ca.clone(), targets.clone());
    let again = blocking(move || (install_trust(&ca2, &t2), trust_status(&ca2, &t2))).await;
    assert_eq!(
        outcome_of(&again.0, "system"),
        Outcome::Already,
        "{}",
        again.0
    );
    assert_eq!(
        outcome_of(&again.1, "system"),
        Outcome::Trusted,
        "{}",
        again.1
    );

    let (ca2, t2) = (ca.clone(), targets.clone());
    let removed = blocking(move || {
        (
            uninstall_trust(&ca2, &t2),
            uninstall_trust(&ca2, &t2),
            trust_status(&ca2, &t2),
        )
    })
    .await;
    assert_eq!(
        outcome_of(&removed.0, "system"),
        Outcome::Done,
        "{}",
        removed.0
    );
    assert_eq!(
        outcome_of(&removed.1, "system"),
        Outcome::Already,
        "{}",
        removed.1
    );
    assert_eq!(
        outcome_of(&removed.2, "system"),
        Outcome::NotTrusted,
        "{}",
        removed.2
    );
    assert!(!anchor.exists());
    assert_eq!(
        anchor_dir_snapshot(),
        anchors_before,
        "uninstall must leave every other local CA exactly as it was"
    );
    let left_dangling: Vec<PathBuf> = dangling_links("/etc/ssl/certs")
        .into_iter()
        .filter(|link| !dangling_before.contains(link))
        .collect();
    assert_eq!(
        left_dangling,
        Vec::<PathBuf>::new(),
        "uninstall must not leave links to the removed CA behind"
    );

    let (ok, said) = blocking(move || curl_check_login(port)).await;
    assert!(!ok, "curl must not trust wxemu after uninstall: {said}");
    drop(guard);
}

// ---------------------------------------------------------------------------------------
// NSS + Chromium

fn chromium_ready() -> bool {
    precondition(
        Path::new(tools::CHROMIUM).is_file(),
        "Debian chromium is missing (/usr/bin/chromium)",
    ) && precondition(
        tools::on_path("certutil"),
        "NSS certutil is missing (libnss3-tools)",
    )
}

const RUNNING: &str = "is running: a fake WeChat desktop client";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nss_round_trip_with_chromium() {
    if !chromium_ready() {
        return;
    }
    let home = tempfile::tempdir().expect("home");
    blocking({
        let h = home.path().to_owned();
        move || tools::create_nss_db(&h)
    })
    .await;
    // Discovered under HOME like a user's, not given explicitly.
    let targets = TrustTargets {
        home: Some(home.path().to_owned()),
        ..TrustTargets::for_this_os().only(&[StoreKind::Nss])
    };
    let server = TestServer::start().await;
    let url = format!("https://localhost.weixin.qq.com:{}/", server.addr.port());
    let ca = CaCert::load(server.data_dir.path()).expect("CA");
    // A second, unrelated wxemu CA in the same database: uninstall must leave it.
    let other_dir = tempfile::tempdir().expect("tempdir");
    let other = CaCert::ensure(other_dir.path()).expect("other CA");
    let chrome = Chromium::new(home.path());
    let db_label = format!("NSS {}", home.path().join(".pki/nssdb").display());

    let (c, t, u) = (ca.clone(), targets.clone(), url.clone());
    let chrome = blocking(move || {
        let (dom, log) = chrome.dump_dom(&u, "localhost.weixin.qq.com");
        assert!(
            !dom.contains(RUNNING),
            "Chromium must refuse wxemu before install: {dom}"
        );
        assert!(
            tools::net_errors(&log).iter().any(|l| l.contains("-202")),
            "expected ERR_CERT_AUTHORITY_INVALID (-202) in Chromium's log: {:?}",
            tools::net_errors(&log)
        );

        let r = install_trust(&other, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::Done, "{r}");
        let r = install_trust(&c, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::Done, "{r}");
        let r = install_trust(&c, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::Already, "{r}");
        let r = trust_status(&c, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::Trusted, "{r}");

        let (dom, log) = chrome.dump_dom(&u, "localhost.weixin.qq.com");
        assert!(
            dom.contains(RUNNING),
            "Chromium must load wxemu after install: {dom} {:?}",
            tools::net_errors(&log)
        );

        let r = uninstall_trust(&c, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::Done, "{r}");
        let r = uninstall_trust(&c, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::Already, "{r}");
        let r = trust_status(&c, &t);
        assert_eq!(outcome_of(&r, &db_label), Outcome::NotTrusted, "{r}");
        let r = trust_status(&other, &t);
        assert_eq!(
            outcome_of(&r, &db_label),
            Outcome::Trusted,
            "the other CA must survive: {r}"
        );
        chrome
    })
    .await;

    // A fresh profile, so no connection or session is reused from the trusted run.
    let chrome = Chromium::new(&chrome.home);
    let u = url.clone();
    let (dom, _) = blocking(move || chrome.dump_dom(&u, "localhost.weixin.qq.com")).await;
    assert!(
        !dom.contains(RUNNING),
        "Chromium must refuse wxemu after uninstall: {dom}"
    );
}

// ---------------------------------------------------------------------------------------
// Name constraints: a leaf for example.com from our CA is worthless

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_webpki_reject_an_example_com_leaf_from_our_ca() {
    let data = tempfile::tempdir().expect("data");
    let ca = CaCert::ensure(data.path()).expect("CA");
    let now = SystemTime::now();
    let (evil_cert, evil_key) =
        wxemu_certs::issue_leaf_with_ca(data.path(), &["example.com"], now).expect("evil leaf");
    let (good_cert, good_key) =
        wxemu_certs::issue_leaf_with_ca(data.path(), &["localhost.weixin.qq.com"], now)
            .expect("good leaf");
    let evil = tools::tiny_https(evil_cert, evil_key, "EVIL-PAGE-SERVED").await;
    let good = tools::tiny_https(good_cert, good_key, "GOOD-PAGE-SERVED").await;

    // rustls/webpki, trusting only our CA, over a real TLS connection.
    let client = Arc::new(tools::client_trusting(&ca.der, &[]));
    let connector = tokio_rustls::TlsConnector::from(client);
    let tcp = tokio::net::TcpStream::connect(evil).await.expect("connect");
    let err = connector
        .connect(ServerName::try_from("example.com").expect("name"), tcp)
        .await
        .expect_err("webpki must reject example.com");
    assert!(
        format!("{err:?}").contains("NameConstraintViolation"),
        "{err:?}"
    );
    let tcp = tokio::net::TcpStream::connect(good).await.expect("connect");
    connector
        .connect(
            ServerName::try_from("localhost.weixin.qq.com").expect("name"),
            tcp,
        )
        .await
        .expect("webpki accepts the permitted name");

    // Chromium, with the CA trusted in its NSS database and no certificate switches.
    if !chromium_ready() {
        return;
    }
    let home = tempfile::tempdir().expect("home");
    let (h, c) = (home.path().to_owned(), ca.clone());
    blocking(move || {
        tools::trust_in_fresh_nss_db(&h, &[&c]);

        let chrome = Chromium::new(&h);
        let (dom, log) = chrome.dump_dom(
            &format!("https://localhost.weixin.qq.com:{}/", good.port()),
            "localhost.weixin.qq.com",
        );
        assert!(
            dom.contains("GOOD-PAGE-SERVED"),
            "the permitted name must load: {dom} {:?}",
            tools::net_errors(&log)
        );

        let chrome = Chromium::new(&h);
        let (dom, log) = chrome.dump_dom(
            &format!("https://example.com:{}/", evil.port()),
            "example.com",
        );
        assert!(
            !dom.contains("EVIL-PAGE-SERVED"),
            "Chromium must refuse example.com from our CA: {dom}"
        );
        let errors = tools::net_errors(&log);
        // Chromium's verifier reports a violated name constraint as -207 ERR_CERT_INVALID
        // (older versions: -212 ERR_CERT_NAME_CONSTRAINT_VIOLATION). The same CA's leaf for
        // the permitted name loaded above, so the name is the only difference.
        assert!(
            errors
                .iter()
                .any(|l| l.contains("-212") || l.contains("-207")),
            "expected a certificate name error from Chromium, got {errors:?}"
        );
        eprintln!("Chromium refused example.com: {errors:?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The command line: output lines, exit codes, --purge, env

fn wxemu(args: &[&str]) -> (bool, String) {
    let out = tools::run_bounded(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_wxemu"));
            c.args(args);
            c
        },
        Duration::from_secs(60),
    );
    tools::success_and_output(&out)
}

#[test]
fn cli_install_status_uninstall_purge_and_env() {
    if !precondition(
        tools::on_path("certutil"),
        "NSS certutil is missing (libnss3-tools)",
    ) {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let home = tempfile::tempdir().expect("home");
    let db = tools::create_nss_db(home.path());
    let d = data.path().to_str().expect("utf-8 temp path");
    let n = db.to_str().expect("utf-8 temp path");
    let store = ["--data-dir", d, "--store", "nss", "--nss-db", n];
    fn with<'a>(cmd: &[&'a str], store: &[&'a str]) -> Vec<&'a str> {
        [cmd, store].concat()
    }

    let (ok, said) = wxemu(&with(&["trust", "status"], &store));
    assert!(
        !ok && said.contains("no CA in"),
        "status without a CA: {said}"
    );

    let (ok, said) = wxemu(&with(&["trust", "install"], &store));
    assert!(ok, "{said}");
    assert!(
        said.lines().any(|l| l.starts_with("done     NSS ")),
        "{said}"
    );
    let (ok, said) = wxemu(&with(&["trust", "install"], &store));
    assert!(
        ok && said.lines().any(|l| l.starts_with("already  NSS ")),
        "{said}"
    );
    let (ok, said) = wxemu(&with(&["trust", "status"], &store));
    assert!(
        ok && said.lines().any(|l| l.starts_with("trusted  NSS ")),
        "{said}"
    );

    let (ok, said) = wxemu(&["trust", "env", "--shell", "fish", "--data-dir", d]);
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!("set -gx NODE_EXTRA_CA_CERTS '{d}/ca.pem'")),
        "{said}"
    );
    assert!(
        said.contains(&format!("set -gx SSL_CERT_FILE '{d}/ca-bundle.pem'")),
        "{said}"
    );
    assert!(data.path().join("ca-bundle.pem").is_file());

    let (ok, said) = wxemu(&with(&["trust", "uninstall"], &store));
    assert!(
        ok && said.lines().any(|l| l.starts_with("done     NSS ")),
        "{said}"
    );
    assert!(
        data.path().join("ca.pem").is_file(),
        "uninstall keeps the CA files"
    );
    let (ok, said) = wxemu(&with(&["trust", "status"], &store));
    assert!(
        !ok && said.lines().any(|l| l.starts_with("missing  NSS ")),
        "status fails when a store lacks the CA: {said}"
    );

    // The kept CA installs again as is.
    let (ok, said) = wxemu(&with(&["trust", "install"], &store));
    assert!(
        ok && said.lines().any(|l| l.starts_with("done     NSS ")),
        "{said}"
    );
    let (ok, said) = wxemu(&with(&["trust", "uninstall", "--purge"], &store));
    assert!(
        ok && said.lines().any(|l| l.starts_with("done     NSS ")),
        "{said}"
    );
    for file in ["ca.pem", "ca-key.pem", "ca-bundle.pem"] {
        assert!(!data.path().join(file).exists(), "{file} purged: {said}");
    }
}
