//! The dashboard's interception status (IPC `intercept_status`) and the
//! control API's `GET /__wxemu/intercept` give one verdict on the
//! interception CA's trust, read from the same code.
//!
//! The case where two rules would part: a CA trusted by one store (an NSS
//! database in a temporary HOME, as Chromium keeps it) and missing from
//! another (the system store). That is "partly"; the dashboard once said
//! "not trusted" there.
//!
//! Its own process: HOME points at a temporary directory for the whole
//! process (the stores are looked for there), which the other tests of this
//! binary must not see, so the test runs this binary again, filtered to the
//! one test, with HOME set. Nothing outside the temporary directories is
//! written: the CA goes into the temporary NSS database only, the system
//! store is only read.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::Manager;
use wxemu::control::Control;
use wxemu::intercept::InterceptOptions;
use wxemu::ServeOptions;
use wxemu_certs::CaKind;
use wxemu_certs::{find_program, install_trust, CaCert, Outcome, StoreKind, TrustTargets};
use wxemu_desktop::Desktop;

/// `certutil` (libnss3-tools) makes and fills the NSS database. Without it
/// the test cannot build the "partly" case: it skips, unless scripts/test
/// (as root on Debian, where it installs libnss3-tools) requires it.
fn certutil_or_skip() -> bool {
    if find_program(Path::new("certutil")).is_some() {
        return true;
    }
    let why = "NSS certutil is not installed (Debian: libnss3-tools)";
    if std::env::var("WXEMU_REQUIRE_SYSTEM_TESTS").is_ok_and(|v| v == "1") {
        panic!("WXEMU_REQUIRE_SYSTEM_TESTS=1 but {why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

#[test]
fn dashboard_and_control_api_give_one_verdict_on_a_partly_trusted_interception_ca() {
    if !certutil_or_skip() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let child = crate::rerun_alone(module_path!(), "in_its_own_home")
        .env("HOME", home.path())
        .env(IN_CHILD, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr),
    );
    assert!(child.status.success(), "{stdout}\n{stderr}");
    // The filter matched the one test and it ran (a typo would pass 0 tests).
    assert!(stdout.contains("ok. 1 passed;"), "{stdout}\n{stderr}");
}

/// Set in the child process the test above starts.
const IN_CHILD: &str = "WXEMU_TEST_INTERCEPT_TRUST_CHILD";

#[test]
#[ignore = "runs in its own process with its own HOME: the test above starts it"]
fn in_its_own_home() {
    assert!(
        std::env::var_os(IN_CHILD).is_some(),
        "run by dashboard_and_control_api_give_one_verdict_on_a_partly_trusted_interception_ca"
    );
    let home = std::path::PathBuf::from(std::env::var_os("HOME").unwrap());
    let nssdb = home.join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let made = Command::new("certutil")
        .args(["-N", "--empty-password", "-d"])
        .arg(format!("sql:{}", nssdb.display()))
        .status()
        .unwrap();
    assert!(made.success(), "certutil -N");

    let data = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        port: 0,
        intercept: InterceptOptions {
            proxy_port: Some(0),
            ..InterceptOptions::default()
        },
        ..ServeOptions::new(data.path().to_owned())
    };
    let app = wxemu_desktop::with_commands(mock_builder())
        .manage(Desktop::new(options, Some(Duration::ZERO)))
        .build(mock_context(noop_assets()))
        .unwrap();
    let Ok(emu) = tauri::async_runtime::block_on(app.state::<Desktop>().server.start(None)) else {
        panic!("the embedded server must start on port 0 with the proxy on");
    };
    let webview = tauri::WebviewWindowBuilder::new(&app, "dashboard", Default::default())
        .build()
        .unwrap();

    // The interception CA (made at start) into the temporary NSS database only.
    let ca = CaCert::load_of(data.path(), CaKind::Intercept).unwrap();
    let nss_only = TrustTargets {
        nss_dbs: Some(vec![nssdb.clone()]),
        ..TrustTargets::for_this_os().only(&[StoreKind::Nss])
    };
    let installed = install_trust(&ca, &nss_only);
    assert!(!installed.any_failed(), "{installed}");

    let desktop = get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: "intercept_status".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(json!({})),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
    .unwrap();
    let control = Control::from_data_dir(data.path(), Some(emu.port())).unwrap();
    let api = tauri::async_runtime::block_on(control.call(
        tauri::http::Method::GET,
        "/intercept",
        None,
        Duration::from_secs(60),
    ))
    .unwrap();

    // The same listeners and hosts...
    assert_eq!(desktop["enabled"], true, "{desktop}");
    assert_eq!(api["enabled"], true, "{api}");
    assert_eq!(desktop["proxy_port"], api["proxy"]["port"]);
    assert_ne!(
        desktop["proxy_port"], 0,
        "the bound port, not the asked-for 0"
    );
    assert_eq!(desktop["hosts"], api["hosts"]);
    assert_eq!(desktop["ca_path"], api["ca"]["path"]);
    // ... and the same verdict.
    assert_eq!(desktop["ca_status"], api["ca"]["trust"], "{desktop}\n{api}");

    // And it is the case where two rules would part: one store trusts the CA
    // (the NSS database), another lacks it (the system store, where this OS has one).
    let stores = api["ca"]["stores"].as_array().unwrap();
    let says = |outcome: Outcome| stores.iter().any(|s| s["outcome"] == outcome.as_str());
    assert!(says(Outcome::Trusted), "{api}");
    if says(Outcome::NotTrusted) {
        assert_eq!(api["ca"]["trust"], "partly", "{api}");
    } else {
        eprintln!("no store here lacks the CA: the 'partly' case was not reached ({api})");
    }

    tauri::async_runtime::block_on(app.state::<Desktop>().server.stop());
}
