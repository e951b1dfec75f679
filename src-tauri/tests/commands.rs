//! The IPC command handlers, called through Tauri's IPC on the mock runtime
//! (tauri's `test` feature): no window system needed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};
use wxemu::core::{ApprovalMode, Outcome};
use wxemu::core::{AuthorizeCall, FastLoginError, LoginTarget};
use wxemu::core::{ClientState, Config};
use wxemu::{Emulator, ServeOptions};
use wxemu_desktop::Desktop;

struct Harness {
    _dir: Option<tempfile::TempDir>,
    app: App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    emu: Arc<Emulator>,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    harness_at(dir.path().to_owned(), Some(dir))
}

/// An app whose data directory is `data_dir` (kept alive by `keep`).
fn harness_at(data_dir: std::path::PathBuf, keep: Option<tempfile::TempDir>) -> Harness {
    let options = ServeOptions {
        port: 0,
        ..ServeOptions::new(data_dir)
    };
    let app = wxemu_desktop::with_commands(mock_builder())
        .manage(Desktop::new(options, Some(Duration::ZERO)))
        .build(mock_context(noop_assets()))
        .unwrap();
    let Ok(emu) = tauri::async_runtime::block_on(app.state::<Desktop>().server.start(None)) else {
        panic!("the embedded server must start on port 0");
    };
    let webview = tauri::WebviewWindowBuilder::new(&app, "dashboard", Default::default())
        .build()
        .unwrap();
    Harness {
        _dir: keep,
        app,
        webview,
        emu,
    }
}

impl Harness {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        tauri::async_runtime::block_on(self.app.state::<Desktop>().server.stop());
    }
}

#[test]
fn status_reports_the_embedded_server() {
    let h = harness();
    let status = h.invoke("status", json!({})).unwrap();
    assert_eq!(status["running"], true);
    assert_eq!(status["port"], h.emu.port());
    assert_eq!(status["client_state"], "logged_in");
    assert_eq!(status["account"]["id"], "default");
    assert!(status["config_path"]
        .as_str()
        .unwrap()
        .ends_with("config.toml"));
    assert!(status["trust"]["ca_path"]
        .as_str()
        .unwrap()
        .ends_with("ca.pem"));
    assert_eq!(status["pending"], json!([]));
}

#[test]
fn switches_change_the_emulator() {
    let h = harness();
    h.invoke("set_client_state", json!({"state": "locked"}))
        .unwrap();
    assert_eq!(h.emu.client_state(), ClientState::Locked);
    h.invoke("set_approval_mode", json!({"mode": "never"}))
        .unwrap();
    assert_eq!(h.emu.approval_mode(), ApprovalMode::Never);
    let err = h
        .invoke("set_account", json!({"id": "nobody"}))
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("nobody"), "{err}");
    assert!(h
        .invoke("set_client_state", json!({"state": "asleep"}))
        .is_err());
}

#[test]
fn accounts_are_saved_to_the_config_file_and_bad_lists_refused() {
    let h = harness();
    let path = h.emu.config_path().to_owned();
    let mut accounts = h.invoke("config_get", json!({})).unwrap()["accounts"].clone();
    accounts
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "alice", "nickname": "Alice 爱丽丝"}));
    h.invoke("save_accounts", json!({ "accounts": accounts }))
        .unwrap();
    let saved = Config::load(&path).unwrap();
    assert_eq!(saved.account("alice").unwrap().nickname, "Alice 爱丽丝");
    h.invoke("set_account", json!({"id": "alice"})).unwrap();
    assert_eq!(h.emu.current_account().id, "alice");

    // Two accounts with one id would not load again: refused, file untouched.
    let before = std::fs::read(&path).unwrap();
    let err = h
        .invoke(
            "save_accounts",
            json!({"accounts": [{"id": "alice"}, {"id": "bob"}, {"id": "bob"}]}),
        )
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("twice"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Dropping the logged-in account is refused, as in the control API.
    assert!(h
        .invoke("save_accounts", json!({"accounts": [{"id": "bob"}]}))
        .is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let err = h
        .invoke("save_apps", json!({"apps": [{"appid": ""}]}))
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("appid"), "{err}");
    h.invoke(
        "save_apps",
        json!({"apps": [{"appid": "wx1", "name": "Shop", "callback_domains": ["shop.example"]}]}),
    )
    .unwrap();
    assert_eq!(
        Config::load(&path).unwrap().app("wx1").unwrap().name,
        "Shop"
    );

    // The Apps tab's kind, 网页授权 and JS domains: saved, and read back.
    h.invoke(
        "save_apps",
        json!({"apps": [{"appid": "wx2", "kind": "official_account", "name": "H5",
            "oauth_domains": ["h5.example"], "js_domains": ["h5.example", "m.example"]}]}),
    )
    .unwrap();
    let saved = Config::load(&path).unwrap();
    let app = saved.app("wx2").unwrap();
    assert_eq!(app.kind, wxemu::core::AppKind::OfficialAccount);
    assert_eq!(app.oauth_domains, ["h5.example"]);
    assert_eq!(app.js_domains, ["h5.example", "m.example"]);
    let shown = h.invoke("config_get", json!({})).unwrap();
    assert_eq!(shown["apps"][0]["kind"], "official_account");
    assert_eq!(shown["apps"][0]["js_domains"][1], "m.example");
    let err = h
        .invoke(
            "save_apps",
            json!({"apps": [{"appid": "wx3", "kind": "mini_program"}]}),
        )
        .unwrap_err();
    assert!(
        err.as_str().unwrap().contains("kind") || err.as_str().unwrap().contains("variant"),
        "{err}"
    );
}

/// An authorize waiting for the person, made the way a login page makes
/// one (check-login, then authorize): resolves to its outcome.
fn authorize_in_background(emu: &Arc<Emulator>) -> tauri::async_runtime::JoinHandle<Outcome> {
    let target = LoginTarget {
        appid: "wx1".into(),
        scope: "snsapi_login".into(),
        redirect_uri: "https://shop.example/cb".into(),
        state: String::new(),
    };
    let authorize_uuid = emu
        .check_login(target.clone(), None)
        .unwrap()
        .authorize_uuid;
    let call = AuthorizeCall {
        target,
        authorize_uuid,
        data: None,
    };
    let emu = emu.clone();
    tauri::async_runtime::spawn(async move {
        match emu.authorize(call, None).await {
            Ok(_) => Outcome::Allowed,
            Err(FastLoginError::Denied) => Outcome::Denied,
            Err(FastLoginError::Undecided(outcome)) => outcome,
            Err(e) => panic!("the authorize failed: {e}"),
        }
    })
}

#[test]
fn the_confirm_window_and_the_dashboard_answer_pending_requests() {
    let h = harness();
    for (cmd, decision, expected) in [
        ("confirm_decide", "allow", Outcome::Allowed),
        ("confirm_decide", "deny", Outcome::Denied),
        ("resolve", "deny", Outcome::Denied),
    ] {
        let waiter = authorize_in_background(&h.emu);
        let id = loop {
            if let Some(r) = h.emu.pending_authorizations().first() {
                break r.id;
            }
            std::thread::yield_now();
        };
        let pending = h.invoke("status", json!({})).unwrap()["pending"].clone();
        assert_eq!(pending[0]["id"], id);
        assert_eq!(
            h.invoke(cmd, json!({"id": id, "decision": decision}))
                .unwrap(),
            true
        );
        assert_eq!(tauri::async_runtime::block_on(waiter).unwrap(), expected);
        // Answered: a second answer is refused.
        assert_eq!(
            h.invoke(cmd, json!({"id": id, "decision": "allow"}))
                .unwrap(),
            false
        );
    }
    assert!(h
        .invoke("confirm_decide", json!({"id": 1, "decision": "maybe"}))
        .is_err());
}

#[test]
fn the_dashboard_plays_the_phone_for_qr_logins() {
    let h = harness();
    assert_eq!(h.invoke("qr_list", json!({})).unwrap(), json!([]));
    let qr = h.emu.qr_create(wxemu::core::QrTarget {
        appid: "wx1".into(),
        scope: "snsapi_login".into(),
        redirect_uri: "https://shop.example/cb".into(),
        state: "s".into(),
    });
    let listed = h.invoke("qr_list", json!({})).unwrap();
    assert_eq!(listed[0]["uuid"], qr.uuid.as_str());
    assert_eq!(listed[0]["status"], "waiting");

    let err = h
        .invoke("qr_confirm", json!({"uuid": qr.uuid}))
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("scan"), "{err}");
    let err = h
        .invoke("qr_scan", json!({"uuid": qr.uuid, "account": "nobody"}))
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("nobody"), "{err}");

    let scanned = h
        .invoke("qr_scan", json!({"uuid": qr.uuid, "account": "default"}))
        .unwrap();
    assert_eq!(scanned["status"], "scanned");
    assert_eq!(
        h.invoke("qr_cancel", json!({"uuid": qr.uuid})).unwrap()["status"],
        "cancelled"
    );
    h.invoke("qr_scan", json!({"uuid": qr.uuid, "account": "default"}))
        .unwrap();
    let confirmed = h.invoke("qr_confirm", json!({"uuid": qr.uuid})).unwrap();
    assert_eq!(confirmed["status"], "confirmed");
    assert!(!confirmed["code"].as_str().unwrap().is_empty());
}

#[test]
fn the_journal_lists_and_clears() {
    let h = harness();
    assert_eq!(h.invoke("journal_list", json!({})).unwrap(), json!([]));
    assert!(h
        .invoke("journal_list", json!({"filter": {"endpoint": "nope"}}))
        .is_err());
    assert_eq!(
        h.invoke(
            "journal_list",
            json!({"filter": {"endpoint": "authorize"}, "limit": 5})
        )
        .unwrap(),
        json!([])
    );
    assert_eq!(h.invoke("journal_clear", json!({})).unwrap(), 0);
}

#[test]
fn tray_switches_and_tooltip_follow_the_emulator() {
    let h = harness();
    let app = h.app.handle();
    let tip = wxemu_desktop::tray::tooltip(app);
    assert!(tip.contains(&format!(":{}", h.emu.port())), "{tip}");
    assert!(tip.contains("Logged in"), "{tip}");
    wxemu_desktop::switches::apply_switch(app, "state:locked").unwrap();
    assert_eq!(h.emu.client_state(), ClientState::Locked);
    assert!(wxemu_desktop::tray::tooltip(app).contains("Locked"));
    wxemu_desktop::switches::apply_switch(app, "mode:deny").unwrap();
    assert_eq!(h.emu.approval_mode(), ApprovalMode::Deny);
    wxemu_desktop::switches::apply_switch(app, "account:default").unwrap();
    assert!(wxemu_desktop::switches::apply_switch(app, "account:ghost").is_err());
    assert!(wxemu_desktop::switches::apply_switch(app, "state:asleep").is_err());
    assert!(wxemu_desktop::switches::apply_switch(app, "bogus").is_err());
}

/// Set in the child process of `killing_the_app_mid_save_loses_nothing`.
const SAVER_DIR: &str = "WXEMU_DESKTOP_TEST_SAVER_DIR";

fn accounts(n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("user{i}"), "nickname": format!("用户 {i} {}", "x".repeat(200))}))
        .collect();
    json!({ "accounts": list })
}

/// The child: saves two account lists in turn through the dashboard's
/// command, forever (until killed).
#[test]
#[ignore = "the child process of killing_the_app_mid_save_loses_nothing"]
fn saver_child() {
    let Some(dir) = std::env::var_os(SAVER_DIR) else {
        return; // Only runs as the child of the test below.
    };
    let h = harness_at(dir.into(), None);
    // A complete file exists before the parent may kill us.
    h.invoke("save_accounts", accounts(40)).unwrap();
    println!("saving");
    for i in 1.. {
        let n = if i % 2 == 0 { 40 } else { 80 };
        h.invoke("save_accounts", accounts(n)).unwrap();
    }
}

/// SIGKILL while the dashboard saves the config: afterwards the file is
/// always the old or the new list, never a torn one.
#[test]
fn killing_the_app_mid_save_loses_nothing() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    for round in 0..15u64 {
        let mut child = crate::rerun_alone(module_path!(), "saver_child")
            .arg("--test-threads=1")
            .env(SAVER_DIR, dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("saving") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the saver child died"
            );
        }
        // Let it get somewhere into a save: kill points differ per round.
        std::thread::sleep(Duration::from_millis(3 + round * 7 % 40));
        child.kill().unwrap();
        child.wait().unwrap();
        let config = Config::load(&dir.path().join("config.toml"))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let n = config.accounts.len();
        assert!(n == 40 || n == 80, "round {round}: {n} accounts");
    }
}

#[test]
fn every_change_is_announced_to_the_views() {
    use tauri::Listener;
    let h = harness();
    let (tx, rx) = std::sync::mpsc::channel();
    h.app
        .listen_any(wxemu_desktop::events::CHANGED_EVENT, move |_| {
            let _ = tx.send(());
        });
    h.invoke("set_client_state", json!({"state": "logged_out"}))
        .unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the tray and the pages hear about a client state change");
    wxemu_desktop::switches::apply_switch(h.app.handle(), "mode:auto").unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .expect("and about a tray switch");
    // No autostart plugin in the mock app: the page is told it is unavailable.
    assert_eq!(h.invoke("autostart_get", json!({})).unwrap(), Value::Null);
    assert!(h.invoke("autostart_set", json!({"enabled": true})).is_err());
}

/// A bot's Web WeChat login, the core's way (jslogin's QR code, the phone's
/// scan and confirm, the ticket redeemed): returns the session id.
fn webwx_session(emu: &Emulator) -> u64 {
    let qr = emu.qr_create_webwx(
        "https://localhost.weixin.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage".into(),
    );
    emu.qr_scan(&qr.uuid, "default").unwrap();
    emu.qr_confirm(&qr.uuid).unwrap();
    let wxemu::core::QrStatus::Confirmed { code: ticket, .. } =
        emu.qr_login(&qr.uuid).unwrap().status
    else {
        panic!("confirmed");
    };
    emu.webwx_login(&ticket, &qr.uuid).unwrap().session
}

#[test]
fn the_dashboard_plays_the_phone_and_the_friends_for_web_wechat() {
    let h = harness();
    assert_eq!(h.invoke("webwx_sessions", json!({})).unwrap(), json!([]));
    let id = webwx_session(&h.emu);
    let sessions = h.invoke("webwx_sessions", json!({})).unwrap();
    assert_eq!(sessions[0]["id"], id);
    assert_eq!(sessions[0]["status"], "live");

    let session = h.invoke("webwx_session", json!({"id": id})).unwrap();
    let contacts = session["contacts"].as_array().unwrap();
    let friend = contacts.iter().find(|c| c["kind"] == "friend").unwrap();
    assert!(contacts.iter().any(|c| c["user_name"] == "filehelper"));

    let sent = h
        .invoke(
            "webwx_send",
            json!({"id": id, "from": friend["user_name"], "text": "你好 bot"}),
        )
        .unwrap();
    assert_eq!(sent["direction"], "in");
    assert_eq!(sent["from_name"], friend["nickname"]);
    let messages = h.invoke("webwx_messages", json!({"id": id})).unwrap();
    assert_eq!(messages.as_array().unwrap().len(), 1);
    assert_eq!(messages[0]["text"], "你好 bot");

    let err = h
        .invoke(
            "webwx_send",
            json!({"id": id, "from": "nobody-at-all", "text": "x"}),
        )
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("nobody-at-all"), "{err}");
    assert!(h.invoke("webwx_session", json!({"id": 999})).is_err());

    let ended = h.invoke("webwx_end", json!({"id": id})).unwrap();
    assert_eq!(ended["status"], "ended");
    assert!(h
        .invoke(
            "webwx_send",
            json!({"id": id, "from": "friend", "text": "late"})
        )
        .is_err());
}

#[test]
fn interception_status_says_off_with_the_configured_hosts() {
    let h = harness();
    let info = h.invoke("intercept_status", json!({})).unwrap();
    assert_eq!(info["enabled"], false);
    assert_eq!(info["ca_exists"], false);
    assert_eq!(info["ca_status"], "unknown");
    assert!(info["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == "api.weixin.qq.com"));
}

#[test]
fn the_h5_tab_queues_outcomes_and_answers_a_waiting_pay_call() {
    use wxemu::core::OutcomeResult;
    let h = harness();
    h.invoke(
        "h5_outcome_add",
        json!({"outcome": {"api": "scanQRCode", "result": "ok", "data": {"resultStr": "x"}, "times": 2}}),
    )
    .unwrap();
    let err = h
        .invoke(
            "h5_outcome_add",
            json!({"outcome": {"api": "", "result": "ok"}}),
        )
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("api"), "{err}");
    let status = h.invoke("h5_status", json!({})).unwrap();
    assert_eq!(status["outcomes"][0]["api"], "scanQRCode");
    assert_eq!(status["outcomes"][0]["times"], 2);
    assert_eq!(status["pages"], json!([]));
    assert_eq!(h.invoke("h5_outcomes_clear", json!({})).unwrap(), 1);
    assert_eq!(h.emu.h5_outcomes(), vec![]);

    // A WeChat window's pay call waits for the person; the tab answers it.
    let _source = h.emu.h5_decision_source();
    let emu = h.emu.clone();
    let asking = tauri::async_runtime::spawn(async move {
        emu.ask_person_h5(
            "chooseWXPay",
            "wx1",
            "http://localhost/",
            json!({"package": "prepay_id=1"}),
        )
        .await
    });
    let id = loop {
        let status = h.invoke("h5_status", json!({})).unwrap();
        if let Some(id) = status["pending"][0]["id"].as_u64() {
            assert_eq!(status["pending"][0]["args"]["package"], "prepay_id=1");
            break id;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let answered = h
        .invoke(
            "h5_resolve",
            json!({"id": id, "result": "cancel", "text": null}),
        )
        .unwrap();
    assert_eq!(answered, true);
    let answer = tauri::async_runtime::block_on(asking).unwrap();
    assert_eq!(answer, Some((OutcomeResult::Cancel, json!({}))));
    assert_eq!(
        h.invoke(
            "h5_resolve",
            json!({"id": id, "result": "ok", "text": null})
        )
        .unwrap(),
        false
    );
}
