//! `GET /__wxemu/events` over real TLS: every control-API write shows up on
//! the stream as its event (so the desktop's tray and dashboard, which
//! follow the same events, never show a stale state), the stream is
//! guarded like the rest of the control API, and it ends at shutdown.

use crate::common;

use std::time::Duration;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use wxemu::core::ApprovalMode;

const CGI: &str = "/cgi-bin/mmwebwx-bin";

fn any(_: &Value) -> bool {
    true
}

async fn server() -> TestServer {
    TestServer::builder()
        .approval(ApprovalMode::Ask)
        .config(|c| add_account(c, "alice", "Alice"))
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(100))
        .start()
        .await
}

#[tokio::test]
async fn the_stream_is_token_guarded_server_sent_events() {
    let server = server().await;
    let events = server.events().await;
    assert!(
        events.content_type().starts_with("text/event-stream"),
        "{}",
        events.content_type()
    );
    let missing = server.control_with(Method::GET, "/events", &[], None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.json()["error"].is_string());
    let auth = format!("Bearer {}", server.control_token());
    let cross_site = server
        .control_with(
            Method::GET,
            "/events",
            &[
                ("authorization", auth.as_str()),
                ("origin", "https://evil.example"),
            ],
            None,
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let wrong_method = server.control(Method::POST, "/events", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_policy_client_accounts_and_apps_writes_are_events() {
    let server = server().await;
    let mut events = server.events().await;

    // The bug this stream was built to catch: PUT /policy changed the mode
    // without telling the views.
    server
        .ctl(Method::PUT, "/policy", Some(json!({"policy": "deny"})))
        .await;
    events.expect("PUT /policy", "client_changed", any).await;
    assert_eq!(
        server.ctl(Method::GET, "/client", None).await["policy"],
        "deny"
    );

    server
        .ctl(Method::PATCH, "/client", Some(json!({"state": "locked"})))
        .await;
    events.expect("PATCH /client", "client_changed", any).await;
    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"snapshot_user": true})),
        )
        .await;
    events
        .expect("PATCH /client (a web switch)", "client_changed", any)
        .await;

    let account = json!({"id": "bob", "nickname": "Bob"});
    server.ctl(Method::POST, "/accounts", Some(account)).await;
    events.expect("POST /accounts", "config_changed", any).await;
    let nickname = Some(json!({"nickname": "Bobby"}));
    server
        .ctl(Method::PATCH, "/accounts/bob", nickname.clone())
        .await;
    events
        .expect("PATCH /accounts/bob", "config_changed", any)
        .await;
    server.ctl(Method::PUT, "/accounts/bob", nickname).await;
    events
        .expect("PUT /accounts/bob", "config_changed", any)
        .await;
    server.ctl(Method::DELETE, "/accounts/bob", None).await;
    events
        .expect("DELETE /accounts/bob", "config_changed", any)
        .await;

    let app = json!({"appid": "wxevents", "secret": "EventsSecretValue0123456789"});
    server.ctl(Method::POST, "/apps", Some(app)).await;
    events.expect("POST /apps", "config_changed", any).await;
    let name = Some(json!({"name": "Events"}));
    server
        .ctl(Method::PATCH, "/apps/wxevents", name.clone())
        .await;
    events
        .expect("PATCH /apps/wxevents", "config_changed", any)
        .await;
    server.ctl(Method::PUT, "/apps/wxevents", name).await;
    events
        .expect("PUT /apps/wxevents", "config_changed", any)
        .await;
    server.ctl(Method::DELETE, "/apps/wxevents", None).await;
    events
        .expect("DELETE /apps/wxevents", "config_changed", any)
        .await;
}

#[tokio::test]
async fn decisions_faults_clock_journal_h5_outcomes_and_reset_are_events() {
    let server = server().await;
    let mut events = server.events().await;

    server
        .ctl(
            Method::POST,
            "/decisions",
            Some(json!({"decision": "deny"})),
        )
        .await;
    events
        .expect("POST /decisions", "decisions_changed", any)
        .await;
    server.ctl(Method::DELETE, "/decisions", None).await;
    events
        .expect("DELETE /decisions", "decisions_changed", any)
        .await;

    // An authorization answered through the API: requested, then finished
    // with the answer given.
    let uuid = server.uuid().await;
    let authorize = server.authorize_in_background(&uuid).await;
    let requested = events
        .expect("an authorize in ask mode", "approval", |e| {
            e["event"] == "requested"
        })
        .await;
    assert_eq!(requested["appid"], APPID);
    let id = requested["id"].as_u64().unwrap();
    server
        .ctl(
            Method::POST,
            &format!("/authorizations/{id}"),
            Some(json!({"decision": "deny"})),
        )
        .await;
    let finished = events
        .expect("POST /authorizations/{id}", "approval", |e| {
            e["event"] == "finished" && e["id"] == id
        })
        .await;
    assert_eq!(finished["outcome"], "denied");
    // The page hears "denied".
    assert_eq!(authorize.await.unwrap().errcode(), 10050);

    let fault = json!({"endpoint": "check-login", "errcode": 10020, "times": 2});
    let added = server.ctl(Method::POST, "/faults", Some(fault)).await;
    events.expect("POST /faults", "faults_changed", any).await;
    // A request that uses the fault up changes what GET /faults shows.
    assert_eq!(server.check_login().await.errcode(), 10020);
    events
        .expect("a request taking a fault", "faults_changed", any)
        .await;
    server
        .ctl(Method::DELETE, &format!("/faults/{}", added["id"]), None)
        .await;
    events
        .expect("DELETE /faults/{id}", "faults_changed", any)
        .await;
    server.ctl(Method::DELETE, "/faults", None).await;
    events.expect("DELETE /faults", "faults_changed", any).await;

    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "1m"})))
        .await;
    events
        .expect("POST /clock/advance", "clock_changed", any)
        .await;
    server.ctl(Method::POST, "/clock/freeze", None).await;
    events
        .expect("POST /clock/freeze", "clock_changed", any)
        .await;
    server.ctl(Method::POST, "/clock/unfreeze", None).await;
    events
        .expect("POST /clock/unfreeze", "clock_changed", any)
        .await;

    server.ctl(Method::DELETE, "/journal", None).await;
    events
        .expect("DELETE /journal", "journal_cleared", any)
        .await;

    let outcome = json!({"api": "chooseWXPay", "result": "cancel"});
    server
        .ctl(Method::POST, "/h5/outcomes", Some(outcome))
        .await;
    events
        .expect("POST /h5/outcomes", "h5_outcomes_changed", any)
        .await;
    server.ctl(Method::DELETE, "/h5/outcomes", None).await;
    events
        .expect("DELETE /h5/outcomes", "h5_outcomes_changed", any)
        .await;

    // Reset changes the policy back too (it did so silently before): the
    // views hear of it, then that the reset is over.
    server
        .ctl(Method::PUT, "/policy", Some(json!({"policy": "deny"})))
        .await;
    events.expect("PUT /policy", "client_changed", any).await;
    server.ctl(Method::POST, "/reset", None).await;
    events
        .expect("POST /reset (the policy)", "client_changed", any)
        .await;
    events.expect("POST /reset", "reset", any).await;
    assert_eq!(
        server.ctl(Method::GET, "/client", None).await["policy"],
        "ask"
    );
}

fn login_page_path() -> String {
    format!(
        "/connect/qrconnect?appid={APPID}&redirect_uri={}&response_type=code&scope=snsapi_login&state=st4te",
        percent_encoding::utf8_percent_encode(REDIRECT, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// Waits for the QR event of `uuid` (`created` or `changed`) whose status
/// is `status`.
async fn qr_event(events: &mut Events, what: &str, uuid: &str, status: &str) -> Value {
    events
        .expect(what, "qr", |e| e["uuid"] == uuid && e["status"] == status)
        .await
}

#[tokio::test]
async fn qr_scan_confirm_cancel_and_expire_are_events() {
    let server = server().await;
    let mut events = server.events().await;

    assert_eq!(server.get(&login_page_path()).await.status, StatusCode::OK);
    let created = events
        .expect("the login page", "qr", |e| e["event"] == "created")
        .await;
    assert_eq!(created["appid"], APPID);
    assert_eq!(created["status"], "waiting");
    let uuid = created["uuid"].as_str().unwrap().to_owned();

    let scan = Some(json!({"account": "alice"}));
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), scan.clone())
        .await;
    let scanned = qr_event(&mut events, "POST /qr/{uuid}/scan", &uuid, "scanned").await;
    assert_eq!(scanned["event"], "changed");
    assert_eq!(scanned["account_id"], "alice");
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/cancel"), None)
        .await;
    qr_event(&mut events, "POST /qr/{uuid}/cancel", &uuid, "cancelled").await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), scan)
        .await;
    qr_event(&mut events, "a second scan", &uuid, "scanned").await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    let confirmed = qr_event(&mut events, "POST /qr/{uuid}/confirm", &uuid, "confirmed").await;
    assert!(confirmed["code"].is_string(), "{confirmed}");

    assert_eq!(server.get(&login_page_path()).await.status, StatusCode::OK);
    let second = events
        .expect("the login page again", "qr", |e| {
            e["event"] == "created" && e["uuid"] != uuid.as_str()
        })
        .await;
    let second = second["uuid"].as_str().unwrap();
    server
        .ctl(Method::POST, &format!("/qr/{second}/expire"), None)
        .await;
    qr_event(&mut events, "POST /qr/{uuid}/expire", second, "expired").await;
}

/// A Web WeChat login as a bot does it, the phone confirming through the
/// control API; returns the session id.
async fn webwx_login(server: &TestServer, events: &mut Events) -> u64 {
    let text = server
        .get("/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN&_=1")
        .await
        .text();
    let uuid = text
        .split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("no uuid in {text}"))
        .to_owned();
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), None)
        .await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    let poll = format!("{CGI}/login?loginicon=true&uuid={uuid}&tip=1&r=-1&_=1");
    let mut text = server.get(&poll).await.text();
    if text.starts_with("window.code=201;") {
        text = server.get(&poll).await.text();
    }
    let redirect = text
        .split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("no redirect in {text}"));
    let origin = format!("https://localhost.weixin.qq.com:{}", server.addr.port());
    let reply = server.get(&redirect.replacen(&origin, "", 1)).await;
    assert_eq!(
        reply.status,
        StatusCode::MOVED_PERMANENTLY,
        "{}",
        reply.text()
    );
    let started = events
        .expect("a Web WeChat login", "webwx", |e| {
            e["event"] == "session_started"
        })
        .await;
    started["session"]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn web_wechat_messages_and_logouts_are_events() {
    let server = server().await;
    let mut events = server.events().await;
    let session = webwx_login(&server, &mut events).await;

    server
        .ctl(
            Method::POST,
            "/webwx/messages",
            Some(json!({"text": "hello from the stream test"})),
        )
        .await;
    let message = events
        .expect("POST /webwx/messages", "webwx", |e| e["event"] == "message")
        .await;
    assert_eq!(message["message"]["text"], "hello from the stream test");

    server
        .ctl(Method::DELETE, &format!("/webwx/sessions/{session}"), None)
        .await;
    let ended = events
        .expect("DELETE /webwx/sessions/{id}", "webwx", |e| {
            e["event"] == "session_ended"
        })
        .await;
    assert_eq!(ended["session"]["id"], session);
}

#[tokio::test]
async fn the_stream_ends_when_the_server_stops() {
    let server = server().await;
    let mut events = server.events().await;
    server
        .ctl(Method::PUT, "/policy", Some(json!({"policy": "auto"})))
        .await;
    events.expect("PUT /policy", "client_changed", any).await;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(events.next().await, None, "a clean end, not an error");
    stopping.await.unwrap();
}

#[tokio::test]
async fn the_stream_works_over_http2() {
    let server = server().await;
    let mut events = server.events_h2().await;
    server.ctl(Method::POST, "/clock/freeze", None).await;
    events
        .expect("POST /clock/freeze", "clock_changed", any)
        .await;
}

/// Reads raw bytes from `stream` until `text` has appeared `times` times
/// in all that was read; returns everything read.
async fn read_until<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    seen: &mut Vec<u8>,
    text: &str,
    times: usize,
) {
    use tokio::io::AsyncReadExt;
    let count = |seen: &[u8]| {
        seen.windows(text.len())
            .filter(|w| *w == text.as_bytes())
            .count()
    };
    let mut buf = [0u8; 4096];
    while count(seen) < times {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {text:?} in {}", String::from_utf8_lossy(seen)))
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(seen));
        seen.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_quiet_stream_is_kept_alive_past_the_stall_deadline() {
    use tokio::io::AsyncWriteExt;
    // A short stall deadline: a stream that sent nothing for this long
    // would be taken for a reader that stopped reading and closed.
    let server = TestServer::builder()
        .options(|o| o.limits.send_stall_timeout = Duration::from_millis(300))
        .start()
        .await;
    let mut tls = server.connect().await;
    let request = format!(
        "GET /__wxemu/events HTTP/1.1\r\nHost: localhost.weixin.qq.com:{}\r\nAuthorization: Bearer {}\r\n\r\n",
        server.addr.port(),
        server.control_token()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    read_until(&mut tls, &mut seen, ": wxemu events", 1).await;
    // Comments come at a third of the stall deadline: a few of them span
    // more than one deadline, and the stream is still open and live.
    read_until(&mut tls, &mut seen, ": keep-alive", 5).await;
    let head = String::from_utf8_lossy(&seen).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    server.ctl(Method::POST, "/clock/freeze", None).await;
    read_until(&mut tls, &mut seen, r#"data: {"type":"clock_changed"}"#, 1).await;
}

/// Every control-API write, each driven by a test above that asserts its
/// event arrives. A new write in the registry fails this until it has one.
const DRIVEN: &[(&str, &str)] = &[
    ("PATCH", "/client"),
    ("POST", "/accounts"),
    ("PATCH", "/accounts/{id}"),
    ("PUT", "/accounts/{id}"),
    ("DELETE", "/accounts/{id}"),
    ("POST", "/apps"),
    ("PATCH", "/apps/{appid}"),
    ("PUT", "/apps/{appid}"),
    ("DELETE", "/apps/{appid}"),
    ("POST", "/decisions"),
    ("DELETE", "/decisions"),
    ("PUT", "/policy"),
    ("POST", "/authorizations/{id}"),
    ("POST", "/qr/{uuid}/scan"),
    ("POST", "/qr/{uuid}/confirm"),
    ("POST", "/qr/{uuid}/cancel"),
    ("POST", "/qr/{uuid}/expire"),
    ("POST", "/faults"),
    ("DELETE", "/faults"),
    ("DELETE", "/faults/{id}"),
    ("POST", "/clock/advance"),
    ("POST", "/clock/freeze"),
    ("POST", "/clock/unfreeze"),
    ("DELETE", "/journal"),
    ("POST", "/h5/outcomes"),
    ("DELETE", "/h5/outcomes"),
    ("POST", "/reset"),
    ("DELETE", "/webwx/sessions/{id}"),
    ("POST", "/webwx/messages"),
];

#[test]
fn every_write_of_the_registry_is_driven_here() {
    use std::collections::BTreeSet;
    let writes: BTreeSet<(&str, &str)> = wxemu::registry::control_calls()
        .filter(|(method, _)| *method != "GET")
        .collect();
    let driven: BTreeSet<(&str, &str)> = DRIVEN.iter().copied().collect();
    assert_eq!(writes, driven);
}
