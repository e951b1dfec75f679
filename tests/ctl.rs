//! `wxemu ctl` against a real `wxemu serve --scenario` process: port and
//! token found in the data directory, every kind of command, exit codes,
//! and serve.json removed on a clean shutdown.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use hyper::StatusCode;
use serde_json::{json, Value};
use wxemu::control::Control;

const APPID: &str = "wxa04304ceaedaf538";
const REDIRECT: &str = "https://site.example/cb";
const ORIGIN: &str = "https://open.weixin.qq.com";

fn wxemu(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wxemu"))
        .args(args)
        .env("WXEMU_DATA_DIR", data_dir)
        .env_remove("WXEMU_PORT")
        .stdin(Stdio::null())
        .output()
        .expect("wxemu runs")
}

/// `wxemu ctl ARGS`, which must succeed; its stdout as JSON.
fn ctl(data_dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["ctl"];
    all.extend_from_slice(args);
    let out = wxemu(data_dir, &all);
    assert!(
        out.status.success(),
        "wxemu ctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ctl {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `wxemu ctl ARGS`, which must fail; its stderr.
fn ctl_fails(data_dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["ctl"];
    all.extend_from_slice(args);
    let out = wxemu(data_dir, &all);
    assert!(!out.status.success(), "wxemu ctl {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct Serving {
    child: Child,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &Path, scenario: &Path) -> Serving {
    let child = Command::new(env!("CARGO_BIN_EXE_wxemu"))
        .args(["serve", "--port", "0", "--approve", "auto", "--scenario"])
        .arg(scenario)
        .env("WXEMU_DATA_DIR", data_dir)
        .env("RUST_LOG", "wxemu=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wxemu serve starts");
    let serving = Serving { child };
    // `ctl ready` waits for serve.json, the token and a health answer.
    let ready = ctl(data_dir, &["ready", "--timeout", "60s"]);
    assert_eq!(ready["status"], "ok");
    assert!(data_dir.join("serve.json").exists());
    serving
}

#[test]
fn ctl_drives_a_running_server_from_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let scenario = dir.path().join("ci.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"
[[accounts]]
id = "alice"
nickname = "Alice"

[[apps]]
appid = "{APPID}"
secret = "0123456789abcdef0123456789abcdef"
callback_domains = ["site.example"]

[[faults]]
endpoint = "check-login"
errcode = 10021
once = true
"#
        ),
    )
    .unwrap();
    let mut serving = start(&data_dir, &scenario);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let control = Control::from_data_dir(&data_dir, None).unwrap();
    let client = control.client();
    let post = |path: &str, body: Value| {
        let reply = runtime
            .block_on(client.post(path).origin(ORIGIN).json(&body).send())
            .unwrap();
        let (status, bytes) = (reply.status, reply.body);
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let check_login = || {
        post(
            "/api/check-login",
            json!({"apiname": "qrconnectchecklogin",
                   "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": "s"}}),
        )
    };
    let login = || {
        let check = check_login();
        let uuid = check["jsdata"]["authorize_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        post(
            "/api/authorize",
            json!({"apiname": "qrconnectfastauthorize",
                   "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT,
                              "state": "s", "authorize_uuid": uuid}}),
        )
    };

    // Port and token come from the data directory.
    let health = ctl(&data_dir, &["health"]);
    assert_eq!(health["status"], "ok");
    let token = wxemu(&data_dir, &["ctl", "token"]);
    let file = std::fs::read_to_string(data_dir.join("control-token")).unwrap();
    assert_eq!(String::from_utf8_lossy(&token.stdout).trim(), file.trim());

    // The scenario's fault, once.
    assert_eq!(check_login()["errcode"], 10021);
    assert_eq!(check_login()["errcode"], 0);

    // Decisions.
    let queued = ctl(&data_dir, &["decide", "deny"]);
    assert_eq!(queued["queue"][0]["decision"], "deny");
    ctl(
        &data_dir,
        &["decide", "allow", "--account", "alice", "--count", "2"],
    );
    assert_eq!(login()["errcode"], 10050);
    let found = ctl(
        &data_dir,
        &["journal", "--wait", "authorize", "--timeout", "5s"],
    );
    assert_eq!(found["entry"]["decision"], "denied");
    let since = found["entry"]["id"].as_u64().unwrap().to_string();
    assert_eq!(login()["errcode"], 0);
    let found = ctl(
        &data_dir,
        &["journal", "--wait", "/api/authorize", "--since", &since],
    );
    assert_eq!(found["entry"]["account"], "alice");
    let decisions = ctl(&data_dir, &["decisions"]);
    assert_eq!(decisions["queue"].as_array().unwrap().len(), 1);
    ctl(&data_dir, &["decisions", "--clear"]);
    assert_eq!(ctl(&data_dir, &["policy", "deny"])["policy"], "deny");
    assert_eq!(login()["errcode"], 10050);
    ctl(&data_dir, &["policy", "auto"]);

    // A wait that times out exits non-zero.
    let err = ctl_fails(
        &data_dir,
        &["journal", "--wait", "token", "--timeout", "100ms"],
    );
    assert!(err.contains("no matching request"), "{err}");
    let err = ctl_fails(&data_dir, &["journal", "--wait", "moon"]);
    assert!(err.contains("not an endpoint"), "{err}");

    // Faults.
    let fault = ctl(
        &data_dir,
        &["fault", "authorize", "--errcode", "10050", "--once"],
    );
    assert_eq!(fault["remaining"], 1);
    assert_eq!(login()["errcode"], 10050);
    assert_eq!(login()["errcode"], 0);
    ctl(&data_dir, &["fault", "check-login", "--status", "503"]);
    assert_eq!(ctl(&data_dir, &["faults"]).as_array().unwrap().len(), 1);
    assert_eq!(ctl(&data_dir, &["faults", "--clear"])["cleared"], 1);
    let err = ctl_fails(&data_dir, &["fault", "authorize"]);
    assert!(err.contains("needs"), "{err}");

    // Clock.
    let clock = ctl(&data_dir, &["clock", "advance", "11m"]);
    assert!(clock["offset_ms"].as_i64().unwrap() >= 659_000, "{clock}");
    assert_eq!(ctl(&data_dir, &["clock", "freeze"])["frozen"], true);
    assert_eq!(ctl(&data_dir, &["clock", "unfreeze"])["frozen"], false);

    // QR: nothing to scan yet, then the login page shows one.
    let err = ctl_fails(&data_dir, &["scan", "--account", "alice"]);
    assert!(err.contains("404"), "{err}");
    ctl(&data_dir, &["policy", "ask"]); // keep the emulated phone's hands off
    let page = format!(
        "/connect/qrconnect?appid={APPID}&redirect_uri={}&response_type=code&scope=snsapi_login&state=s",
        percent_encoding::utf8_percent_encode(REDIRECT, percent_encoding::NON_ALPHANUMERIC)
    );
    let status = runtime.block_on(client.get(&page).send()).unwrap().status;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ctl(&data_dir, &["qr", "--pending"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ctl(&data_dir, &["scan", "--account", "alice"])["status"],
        "scanned"
    );
    let confirmed = ctl(&data_dir, &["confirm"]);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["account_id"], "alice");

    // Client, accounts, apps.
    assert_eq!(
        ctl(&data_dir, &["client", "--state", "locked"])["state"],
        "locked"
    );
    assert_eq!(check_login()["errcode"], 10021);
    ctl(
        &data_dir,
        &["client", "--state", "logged_in", "--account", "alice"],
    );
    assert_eq!(check_login()["jsdata"]["nickname"], "Alice");
    let carol = ctl(
        &data_dir,
        &["accounts", "add", "carol", "nickname=Carol", "sex=2"],
    );
    assert_eq!(carol["sex"], 2);
    ctl(&data_dir, &["accounts", "set", "carol", "city=Hangzhou"]);
    let config = std::fs::read_to_string(data_dir.join("config.toml")).unwrap();
    assert!(config.contains("Hangzhou"), "{config}");
    let apps = ctl(&data_dir, &["apps"]);
    assert_eq!(apps[0]["appid"], APPID);
    let err = ctl_fails(&data_dir, &["accounts", "remove", "alice"]);
    assert!(err.contains("409"), "{err}");

    // Anything else, and reset.
    assert_eq!(
        ctl(&data_dir, &["call", "GET", "/client"])["account"]["id"],
        "alice"
    );
    ctl(&data_dir, &["reset"]);
    assert_eq!(ctl(&data_dir, &["client"])["account"]["id"], "default");
    assert_eq!(
        check_login()["errcode"],
        10021,
        "reset replays the scenario"
    );

    // H5 outcomes: queue, list, clear; the web switches on the client.
    let queued = ctl(
        &data_dir,
        &["h5", "outcome", "chooseWXPay", "cancel", "--times", "2"],
    );
    assert_eq!(queued["outcomes"][0]["api"], "chooseWXPay", "{queued}");
    assert_eq!(queued["outcomes"][0]["times"], 2);
    let err = ctl_fails(
        &data_dir,
        &["h5", "outcome", "scanQRCode", "ok", "--data", "[1]"],
    );
    assert!(err.contains("data must be a JSON object"), "{err}");
    assert_eq!(ctl(&data_dir, &["h5", "clear"])["cleared"], 1);
    assert_eq!(
        ctl(&data_dir, &["h5", "pages"])["pages"],
        serde_json::json!([])
    );
    let client = ctl(&data_dir, &["client", "--snapshot-user", "true"]);
    assert_eq!(client["snapshot_user"], true, "{client}");

    // A wrong port is a clear error, not a hang.
    let err = ctl_fails(&data_dir, &["--port", "1", "health"]);
    assert!(err.contains("cannot reach wxemu on port 1"), "{err}");

    // A clean shutdown (SIGTERM) removes serve.json. Windows has no SIGTERM
    // to send a child process: there it is killed, and the stale serve.json
    // must still give the clear error below.
    #[cfg(unix)]
    {
        let pid = serving.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = serving.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        assert!(!data_dir.join("serve.json").exists());
    }
    #[cfg(not(unix))]
    {
        serving.child.kill().unwrap();
        serving.child.wait().unwrap();
    }
    let err = ctl_fails(&data_dir, &["health"]);
    assert!(err.contains("cannot reach wxemu"), "{err}");
}

#[test]
fn a_bad_scenario_stops_serve_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bad.toml");
    std::fs::write(&scenario, "[[faults]]\nendpoint = \"authorize\"\n").unwrap();
    let out = wxemu(
        dir.path(),
        &[
            "serve",
            "--port",
            "0",
            "--scenario",
            scenario.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("[[faults]] #1"),
        "{err}"
    );

    let out = wxemu(dir.path(), &["ctl", "health"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("control token"), "{err}");
    let out = wxemu(dir.path(), &["ctl", "ready", "--timeout", "300ms"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not ready within 300ms"), "{err}");
}

#[test]
fn ctl_events_prints_each_change_as_a_json_line_until_the_server_stops() {
    use std::io::BufRead;

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let scenario = dir.path().join("empty.toml");
    std::fs::write(&scenario, "").unwrap();
    // Control calls journaled too, so the test can wait until the stream
    // is open (and so subscribed) instead of guessing.
    std::fs::create_dir(&data_dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(
        data_dir.join("config.toml"),
        "[journal]\ninclude_control = true\n",
    )
    .unwrap();
    let mut serving = start(&data_dir, &scenario);

    let mut events = Command::new(env!("CARGO_BIN_EXE_wxemu"))
        .args(["ctl", "events"])
        .env("WXEMU_DATA_DIR", &data_dir)
        .env_remove("WXEMU_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wxemu ctl events starts");
    let mut lines = std::io::BufReader::new(events.stdout.take().unwrap()).lines();
    ctl(
        &data_dir,
        &["journal", "--wait", "/__wxemu/events", "--timeout", "60s"],
    );

    ctl(&data_dir, &["policy", "deny"]);
    let line = lines.next().expect("a line").unwrap();
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event, json!({"type": "client_changed"}), "{line}");

    // The server's shutdown ends the stream: ctl exits 0. (SIGTERM is unix's;
    // on Windows a child can only be killed, so the test ends with the event.)
    #[cfg(unix)]
    {
        let pid = serving.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        assert!(serving.child.wait().unwrap().success());
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        assert!(rest.iter().all(|l| l.starts_with('{')), "{rest:?}");
        let status = events.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
    #[cfg(not(unix))]
    {
        drop(lines);
        for child in [&mut serving.child, &mut events] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
