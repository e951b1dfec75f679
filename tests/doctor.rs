//! `wxemu doctor` against real situations: the server up (all green), down, the port held
//! by another process (a plain socket; another wxemu with a different CA), and a name
//! that does not resolve or resolves elsewhere.

use crate::common;
use crate::tools;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::TestServer;
use serde_json::Value;
use wxemu::doctor::{self, DoctorOptions, Level};
use wxemu_certs::{install_trust, CaCert, StoreKind, TrustTargets};

/// Runs the real binary: `wxemu doctor --json ...`. Returns (exit success, report).
async fn doctor_cli(port: u16, data_dir: &Path, extra: &[&str]) -> (bool, Value) {
    let hosts = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxemu"));
    cmd.args([
        "doctor",
        "--json",
        "--name",
        "localhost",
        "--port",
        &port.to_string(),
    ])
    .arg("--data-dir")
    .arg(data_dir)
    .arg("--hosts-file")
    .arg(hosts.path())
    .args(extra);
    let out = tokio::task::spawn_blocking(move || tools::run_bounded(cmd, Duration::from_secs(60)))
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        report["ok"].as_bool(),
        Some(out.status.success()),
        "exit code follows ok: {report:#}"
    );
    (out.status.success(), report)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} check in {report:#}"))
}

fn level<'a>(report: &'a Value, id: &str) -> &'a str {
    check(report, id)["level"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_green_with_the_server_up_and_the_ca_trusted() {
    if !tools::precondition(
        tools::on_path("certutil"),
        "NSS certutil is missing (libnss3-tools)",
    ) {
        return;
    }
    let server = TestServer::start().await;
    let home = tempfile::tempdir().unwrap();
    let db = tools::create_nss_db(home.path());
    let ca = CaCert::load(server.data_dir.path()).unwrap();
    let targets = TrustTargets {
        nss_dbs: Some(vec![db.clone()]),
        ..TrustTargets::for_this_os().only(&[StoreKind::Nss])
    };
    let installed = tokio::task::spawn_blocking(move || install_trust(&ca, &targets))
        .await
        .unwrap();
    assert!(!installed.any_failed(), "{installed}");

    let db_arg = db.display().to_string();
    let (ok, report) = doctor_cli(
        server.addr.port(),
        server.data_dir.path(),
        &["--store", "nss", "--nss-db", &db_arg],
    )
    .await;
    assert!(ok, "{report:#}");
    for id in [
        "name",
        "port",
        "server",
        "trust",
        "certificates",
        "clock",
        "origins",
    ] {
        assert_eq!(level(&report, id), "ok", "{id}: {report:#}");
    }
    assert!(check(&report, "server")["summary"]
        .as_str()
        .unwrap()
        .contains("errcode 0"));
    let port_line = check(&report, "port")["summary"].as_str().unwrap();
    assert!(
        port_line.contains(&format!("pid {}", std::process::id())),
        "the server runs in this test process: {port_line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_fails_with_the_start_command() {
    let server = TestServer::start().await;
    let port = server.addr.port();
    let data_dir = server.stop().await;
    let (ok, report) = doctor_cli(
        port,
        data_dir.path(),
        &["--store", "nss", "--nss-db", "/nonexistent"],
    )
    .await;
    assert!(!ok);
    assert_eq!(level(&report, "port"), "fail", "{report:#}");
    assert!(check(&report, "port")["fix"]
        .as_str()
        .unwrap()
        .contains("wxemu serve"));
    assert_eq!(level(&report, "server"), "skip");
    // The rest is still examined.
    assert_eq!(level(&report, "certificates"), "ok", "{report:#}");
    assert_eq!(level(&report, "name"), "ok", "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_taken_by_another_process_names_it() {
    // This test process plays the squatter (e.g. a real WeChat): it speaks plain HTTP.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let data = tempfile::tempdir().unwrap();
    wxemu_certs::ensure(data.path()).unwrap();

    let (ok, report) = doctor_cli(
        port,
        data.path(),
        &["--store", "nss", "--nss-db", "/nonexistent"],
    )
    .await;
    assert!(!ok);
    let me = format!("pid {}", std::process::id());
    let port_line = check(&report, "port")["summary"].as_str().unwrap();
    assert!(
        port_line.contains(&me),
        "the port's owner is named: {port_line}"
    );
    assert_eq!(level(&report, "server"), "fail", "{report:#}");
    let server = check(&report, "server");
    assert!(
        server["summary"].as_str().unwrap().contains(&me),
        "{server:#}"
    );
    assert!(
        server["fix"].as_str().unwrap().contains("--port"),
        "{server:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_wxemu_with_a_different_ca_is_recognised() {
    let other = TestServer::start().await;
    let mine = tempfile::tempdir().unwrap();
    wxemu_certs::ensure(mine.path()).unwrap();
    let (ok, report) = doctor_cli(
        other.addr.port(),
        mine.path(),
        &["--store", "nss", "--nss-db", "/nonexistent"],
    )
    .await;
    assert!(!ok);
    assert_eq!(level(&report, "port"), "ok");
    let server = check(&report, "server");
    assert_eq!(server["level"], "fail", "{report:#}");
    assert!(
        server["summary"]
            .as_str()
            .unwrap()
            .contains("does not present a certificate from this data directory's CA"),
        "{server:#}"
    );
}

fn options_with_resolver(data_dir: &Path, resolver: doctor::Resolver) -> DoctorOptions {
    let mut options = DoctorOptions::new(data_dir.to_owned());
    options.port = 9; // discard: nothing listens there
    options.resolver = resolver;
    options.hosts_file = data_dir.join("hosts");
    std::fs::write(&options.hosts_file, "127.0.0.1 localhost\n").unwrap();
    options.trust = TrustTargets::for_this_os().only(&[]);
    options
}

#[tokio::test]
async fn unresolvable_or_foreign_name_fails_with_the_hosts_fix() {
    let data = tempfile::tempdir().unwrap();
    wxemu_certs::ensure(data.path()).unwrap();

    let nxdomain: doctor::Resolver = Arc::new(|name, _| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{name}: Name or service not known"),
        ))
    });
    let report = doctor::run(&options_with_resolver(data.path(), nxdomain)).await;
    let name = report.check("name").unwrap();
    assert_eq!(name.level, Level::Fail, "{report}");
    assert!(name.summary.contains("does not resolve"), "{report}");
    assert!(name.fix.as_deref().unwrap().contains("wxemu hosts add"));
    assert!(name.details[0].contains("no entry"), "{report}");
    assert!(!report.ok);

    let elsewhere: doctor::Resolver =
        Arc::new(|_, port| Ok(vec![SocketAddr::from(([10, 0, 0, 7], port))]));
    let report = doctor::run(&options_with_resolver(data.path(), elsewhere)).await;
    let name = report.check("name").unwrap();
    assert_eq!(name.level, Level::Fail, "{report}");
    assert!(
        name.summary.contains("10.0.0.7") && name.summary.contains("not loopback"),
        "{report}"
    );

    let v6_only: doctor::Resolver =
        Arc::new(|_, port| Ok(vec![SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], port))]));
    let report = doctor::run(&options_with_resolver(data.path(), v6_only)).await;
    assert_eq!(report.check("name").unwrap().level, Level::Fail, "{report}");

    let loopback: doctor::Resolver =
        Arc::new(|_, port| Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]));
    let report = doctor::run(&options_with_resolver(data.path(), loopback)).await;
    assert_eq!(report.check("name").unwrap().level, Level::Ok, "{report}");
    // Human output: one screen with a fix per failing check.
    let text = report.to_string();
    assert!(text.contains("fix: start wxemu"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explains_why_check_login_falls_back_to_qr() {
    use wxemu::core::{ClientState, PlatformMode};

    let server = TestServer::builder()
        .config(|c| c.client.state = ClientState::LoggedOut)
        .start()
        .await;
    let (ok, report) = doctor_cli(
        server.addr.port(),
        server.data_dir.path(),
        &["--store", "nss", "--nss-db", "/nonexistent"],
    )
    .await;
    assert!(!ok);
    let server_check = check(&report, "server");
    assert_eq!(server_check["level"], "fail", "{report:#}");
    assert!(
        server_check["summary"]
            .as_str()
            .unwrap()
            .contains("errcode 10020: the emulated client is logged out"),
        "{server_check:#}"
    );
    assert!(
        server_check["fix"].as_str().unwrap().contains("log it in"),
        "{server_check:#}"
    );

    let strict = TestServer::builder()
        .config(|c| c.platform.mode = PlatformMode::Strict)
        .start()
        .await;
    let (_, report) = doctor_cli(
        strict.addr.port(),
        strict.data_dir.path(),
        &[
            "--store",
            "nss",
            "--nss-db",
            "/nonexistent",
            "--appid",
            "wxnotregistered01",
        ],
    )
    .await;
    let server_check = check(&report, "server");
    assert!(
        server_check["summary"]
            .as_str()
            .unwrap()
            .contains("strict mode and wxnotregistered01 is not in [[apps]]"),
        "{server_check:#}"
    );
    assert!(
        server_check["fix"].as_str().unwrap().contains("[[apps]]"),
        "{server_check:#}"
    );
}
