//! The control API over real TLS: auth, client/accounts/apps, decisions,
//! faults, clock, journal, reset, scenarios.

use crate::common;

use std::time::Duration;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use wxemu::core::Lookup;
use wxemu::core::{ApprovalEvent, ApprovalMode, Outcome};
use wxemu::core::{Config, WebsiteApp};

// ---- auth -------------------------------------------------------------

#[tokio::test]
async fn token_is_required_private_and_checked() {
    let server = TestServer::start().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let token_file = server.data_dir.path().join("control-token");
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = server.control_token();
    assert!(token.len() >= 32, "{token}");
    assert_eq!(token, server.emu.control_token());

    let missing = server.control_with(Method::GET, "/client", &[], None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    assert!(missing.json()["error"]
        .as_str()
        .unwrap()
        .contains("ctl token"));

    let wrong = format!("Bearer {}x", token);
    for auth in [
        wrong.as_str(),
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        token.as_str(),
    ] {
        let reply = server
            .control_with(Method::POST, "/reset", &[("authorization", auth)], None)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth}");
    }
    let right = format!("bearer {token}");
    let ok = server
        .control_with(Method::GET, "/client", &[("authorization", &right)], None)
        .await;
    assert_eq!(ok.status, StatusCode::OK);

    // Health needs no token (readiness probes) and tells nothing secret.
    let health = server.control_with(Method::GET, "/health", &[], None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["version"], env!("CARGO_PKG_VERSION"));

    // The token survives a restart: scripts keep working.
    let dir = server.stop().await;
    let token_again = wxemu::control::ensure_token(dir.path()).unwrap();
    assert_eq!(token_again, token);
}

#[tokio::test]
async fn browser_cross_origin_requests_are_refused_even_with_the_token() {
    let server = TestServer::start().await;
    let auth = format!("Bearer {}", server.control_token());
    let own = format!("https://localhost.weixin.qq.com:{}", server.addr.port());
    for (headers, what) in [
        (vec![("origin", "https://evil.example")], "foreign origin"),
        (vec![("origin", ORIGIN)], "the WeChat login page"),
        (vec![("origin", "null")], "sandboxed page"),
        (
            vec![("sec-fetch-site", "cross-site")],
            "no-cors request from another site",
        ),
    ] {
        let mut headers = headers;
        headers.push(("authorization", auth.as_str()));
        let body = json!({"decision": "allow"});
        let reply = server
            .control_with(Method::POST, "/decisions", &headers, Some(body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{what}: {}",
            reply.text()
        );
        assert!(reply.header("access-control-allow-origin").is_none());
        assert!(reply.json()["error"].as_str().is_some());
    }
    assert!(
        server.emu.queued_decisions().is_empty(),
        "nothing was queued"
    );

    // A preflight from a page gets no CORS grant either.
    let preflight = server
        .control_with(
            Method::OPTIONS,
            "/decisions",
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "POST"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, StatusCode::FORBIDDEN);
    assert!(preflight.header("access-control-allow-origin").is_none());

    // wxemu's own pages (same origin) may call, with the token.
    let reply = server
        .control_with(
            Method::GET,
            "/client",
            &[("origin", own.as_str()), ("authorization", auth.as_str())],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn unknown_routes_and_bad_bodies_are_clear_json_errors() {
    let server = TestServer::start().await;
    let reply = server.control(Method::GET, "/nope", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json()["error"]
        .as_str()
        .unwrap()
        .contains("/__wxemu/nope"));
    let reply = server.control(Method::DELETE, "/clock", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.json()["error"].is_string());
    let reply = server
        .send(server.request(Method::POST, "/__wxemu/decisions", None, "{not json"))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "token first");
    let reply = server
        .control(
            Method::POST,
            "/decisions",
            Some(json!({"decision": "maybe"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"].as_str().unwrap().contains("decision"),
        "{}",
        reply.text()
    );
    let reply = server
        .control(Method::POST, "/clock/advance", Some(json!({"by": "soon"})))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = server
        .control(Method::GET, "/journal?since=abc", None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

// ---- client, accounts, apps -------------------------------------------

#[tokio::test]
async fn client_state_and_account_switch_change_what_check_login_says() {
    let server = TestServer::builder()
        .config(|c| add_account(c, "alice", "Alice"))
        .start()
        .await;
    let client = server.ctl(Method::GET, "/client", None).await;
    assert_eq!(client["state"], "logged_in");
    assert_eq!(client["account"]["id"], "default");

    let client = server
        .ctl(Method::PATCH, "/client", Some(json!({"state": "locked"})))
        .await;
    assert_eq!(client["state"], "locked");
    assert_eq!(server.check_login().await.errcode(), 10021);
    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"state": "logged_out"})),
        )
        .await;
    assert_eq!(server.check_login().await.errcode(), 10020);

    let client = server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"state": "logged_in", "account": "alice"})),
        )
        .await;
    assert_eq!(client["account"]["nickname"], "Alice");
    let check = server.check_login().await;
    assert_eq!(check.json()["jsdata"]["nickname"], "Alice");

    let reply = server
        .control(Method::PATCH, "/client", Some(json!({"account": "bob"})))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = server
        .control(Method::PATCH, "/client", Some(json!({"state": "asleep"})))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn accounts_and_apps_change_at_runtime_and_are_saved() {
    let server = TestServer::start().await;
    let config_path = server.emu.config_path().to_owned();

    let added = server
        .control(
            Method::POST,
            "/accounts",
            Some(json!({"id": "bob", "nickname": "Bob", "sex": 1})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["nickname"], "Bob");
    let again = server
        .control(Method::POST, "/accounts", Some(json!({"id": "bob"})))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bad = server
        .control(
            Method::POST,
            "/accounts",
            Some(json!({"id": "eve", "sex": 7})),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let typo = server
        .control(
            Method::POST,
            "/accounts",
            Some(json!({"id": "eve", "nick": "x"})),
        )
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert!(typo.text().contains("nick"));

    let changed = server
        .ctl(
            Method::PATCH,
            "/accounts/bob",
            Some(json!({"city": "Beijing"})),
        )
        .await;
    assert_eq!(changed["city"], "Beijing");
    assert_eq!(changed["nickname"], "Bob");
    let renamed = server
        .control(
            Method::PATCH,
            "/accounts/bob",
            Some(json!({"id": "robert"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);

    let saved = Config::load(&config_path).unwrap();
    assert_eq!(saved.account("bob").unwrap().city, "Beijing");

    // The current account cannot vanish under the client.
    server
        .ctl(Method::PATCH, "/client", Some(json!({"account": "bob"})))
        .await;
    let refused = server.control(Method::DELETE, "/accounts/bob", None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"account": "default"})),
        )
        .await;
    let removed = server.control(Method::DELETE, "/accounts/bob", None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(Config::load(&config_path).unwrap().account("bob").is_none());
    let gone = server.control(Method::DELETE, "/accounts/bob", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let builtin = server
        .control(Method::DELETE, "/accounts/default", None)
        .await;
    assert_eq!(builtin.status, StatusCode::CONFLICT);

    // Apps: a scan-only app added at runtime takes effect at once.
    let secret = "0123456789abcdef0123456789abcdef";
    let app = server
        .control(
            Method::POST,
            "/apps",
            Some(json!({"appid": APPID, "secret": secret, "name": "Demo", "scan_only": true})),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED);
    assert!(!app.text().contains(secret), "listing masks the secret");
    assert_eq!(server.check_login().await.errcode(), 10057);
    let listed = server.ctl(Method::GET, "/apps", None).await;
    assert_eq!(listed[0]["appid"], APPID);
    assert!(!listed.to_string().contains(secret));
    let one = server
        .ctl(Method::GET, &format!("/apps/{APPID}"), None)
        .await;
    assert_eq!(one["secret"], secret, "GET one shows it whole");
    server
        .ctl(
            Method::PATCH,
            &format!("/apps/{APPID}"),
            Some(json!({"scan_only": false})),
        )
        .await;
    assert_eq!(server.check_login().await.errcode(), 0);
    let saved = Config::load(&config_path).unwrap();
    assert_eq!(saved.app(APPID).unwrap().secret, secret);
    assert!(!saved.app(APPID).unwrap().scan_only);
    let removed = server
        .control(Method::DELETE, &format!("/apps/{APPID}"), None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(Config::load(&config_path).unwrap().apps.is_empty());

    // Permissive mode registers unknown appids in memory on first use;
    // they are listed as not configured.
    server
        .check_login_for("wxunknown0000001", REDIRECT, "")
        .await;
    let listed = server.ctl(Method::GET, "/apps", None).await;
    let unknown = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appid"] == "wxunknown0000001")
        .expect("registered app listed");
    assert_eq!(unknown["configured"], false);
    let change = server
        .control(
            Method::PATCH,
            "/apps/wxunknown0000001",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(change.status, StatusCode::NOT_FOUND);
    assert!(change.text().contains("not configured"));
}

// ---- decisions --------------------------------------------------------

/// Queues one decision batch through the control API; what it answered.
async fn queue_decision(server: &TestServer, batch: Value) -> Value {
    server.ctl(Method::POST, "/decisions", Some(batch)).await
}

/// The decision of each authorize in the journal, oldest first.
async fn journal_decisions(server: &TestServer) -> Vec<String> {
    let journal = server
        .ctl(Method::GET, "/journal?endpoint=authorize", None)
        .await;
    journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_str().unwrap().to_owned())
        .collect()
}

fn alice_and_bob(c: &mut Config) {
    for (id, nickname) in [("alice", "Alice"), ("bob", "Bob")] {
        add_account(c, id, nickname);
    }
}

#[tokio::test]
async fn queued_decisions_are_consumed_in_order_by_concurrent_authorizes() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Deny)
        .config(alice_and_bob)
        .start()
        .await;
    // Queue: allow as alice, deny, allow as bob, allow (as shown), then
    // the standing policy (deny).
    for body in [
        json!({"decision": "allow", "account": "alice"}),
        json!({"decision": "deny"}),
        json!({"decision": "allow", "account": "bob"}),
        json!({"decision": "allow"}),
    ] {
        queue_decision(&server, body).await;
    }
    let queued = server.ctl(Method::GET, "/decisions", None).await;
    assert_eq!(queued["queue"].as_array().unwrap().len(), 4);
    assert_eq!(queued["policy"], "deny");

    let mut uuids = Vec::new();
    for _ in 0..5 {
        uuids.push(server.uuid().await);
    }
    let mut events = server.emu.subscribe_approvals();
    let server = std::sync::Arc::new(server);
    let tasks: Vec<_> = uuids
        .into_iter()
        .map(|uuid| {
            let server = server.clone();
            tokio::spawn(async move { server.authorize(&uuid, APPID, REDIRECT, "st4te").await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    // Which request got which answer depends on arrival; the order of
    // answers follows the order of request ids.
    let mut finished = Vec::new();
    while finished.len() < 5 {
        if let Ok(ApprovalEvent::Finished { id, outcome }) = events.recv().await {
            finished.push((id, outcome));
        }
    }
    finished.sort_by_key(|f| f.0);
    let outcomes: Vec<Outcome> = finished.iter().map(|f| f.1).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Allowed,
            Outcome::Denied,
            Outcome::Allowed,
            Outcome::Allowed,
            Outcome::Denied
        ]
    );
    let mut accounts: Vec<String> = replies
        .iter()
        .filter(|r| r.errcode() == 0)
        .map(|r| {
            let code = code_of(r);
            match server.emu.issued_code(&code, server.emu.now()) {
                Lookup::Live(c) => c.account_id,
                other => panic!("code not live: {other:?}"),
            }
        })
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["alice", "bob", "default"]);
    assert_eq!(replies.iter().filter(|r| r.errcode() == 10050).count(), 2);
    assert!(server.emu.queued_decisions().is_empty());

    // The journal tells which request got which answer.
    let decisions = journal_decisions(&server).await;
    assert_eq!(decisions.len(), 5);
    assert_eq!(decisions.iter().filter(|d| *d == "allowed").count(), 3);
}

#[tokio::test]
async fn count_timeout_delay_and_policy() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Auto)
        .config(|c| c.server.decision_timeout = Duration::from_millis(300))
        .start()
        .await;
    queue_decision(&server, json!({"decision": "deny", "count": 2})).await;
    queue_decision(&server, json!({"decision": "timeout"})).await;
    queue_decision(&server, json!({"decision": "allow", "delay": "50ms"})).await;
    for want in [10050, 10050, 10046, 0, 0] {
        let reply = server.login(REDIRECT, "s").await;
        assert_eq!(reply.errcode(), want, "{}", reply.text());
    }
    let decisions = journal_decisions(&server).await;
    assert_eq!(
        decisions,
        ["denied", "denied", "timed_out", "allowed", "allowed"]
    );

    // Standing policy.
    let policy = server
        .ctl(Method::PUT, "/policy", Some(json!({"policy": "deny"})))
        .await;
    assert_eq!(policy["policy"], "deny");
    assert_eq!(server.login(REDIRECT, "s").await.errcode(), 10050);
    assert_eq!(
        server.ctl(Method::GET, "/policy", None).await["policy"],
        "deny"
    );

    // Clearing the queue.
    queue_decision(&server, json!({"decision": "allow", "count": 3})).await;
    let cleared = server.ctl(Method::DELETE, "/decisions", None).await;
    assert_eq!(cleared["cleared"], 3);
    assert_eq!(server.login(REDIRECT, "s").await.errcode(), 10050);

    for (body, status) in [
        (
            json!({"decision": "allow", "account": "ghost"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"decision": "deny", "account": "default"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"decision": "allow", "count": 0}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"decision": "allow", "delay": "later"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = server
            .control(Method::POST, "/decisions", Some(body.clone()))
            .await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text());
    }
}

#[tokio::test]
async fn pending_authorizations_are_listed_and_decided_by_id() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .config(alice_and_bob)
        .start()
        .await;
    let uuid = server.uuid().await;
    let mut events = server.emu.subscribe_approvals();
    let waiting = server.authorize_in_background(&uuid).await;
    let id = next_request(&mut events).await.id;
    let pending = server.ctl(Method::GET, "/authorizations", None).await;
    assert_eq!(pending[0]["id"], id);
    assert_eq!(pending[0]["appid"], APPID);
    assert_eq!(pending[0]["site"], "site.example");

    let reply = server
        .control(
            Method::POST,
            &format!("/authorizations/{id}"),
            Some(json!({"decision": "allow", "account": "bob"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let answer = waiting.await.unwrap();
    let code = code_of(&answer);
    let Lookup::Live(issued) = server.emu.issued_code(&code, server.emu.now()) else {
        panic!("code not issued");
    };
    assert_eq!(issued.account_id, "bob");

    let again = server
        .control(
            Method::POST,
            &format!("/authorizations/{id}"),
            Some(json!({"decision": "deny"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let bad = server
        .control(
            Method::POST,
            "/authorizations/x",
            Some(json!({"decision": "deny"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

// ---- faults -----------------------------------------------------------

/// Injects a fault through the control API; the fault as listed.
async fn add_fault(server: &TestServer, fault: Value) -> Value {
    server.ctl(Method::POST, "/faults", Some(fault)).await
}

#[tokio::test]
async fn faults_once_n_times_and_until_cleared() {
    let server = TestServer::start().await;
    let once = server
        .control(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": "check-login", "errcode": 10020, "once": true})),
        )
        .await;
    assert_eq!(once.status, StatusCode::CREATED, "{}", once.text());
    assert_eq!(once.json()["remaining"], 1);
    let reply = server.check_login().await;
    // In the endpoint's own wire format, with CORS so the page can read it.
    assert_eq!(reply.errcode(), 10020);
    assert_eq!(reply.json()["apiname"], "qrconnectchecklogin");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(server.check_login().await.errcode(), 0, "once means once");

    add_fault(
        &server,
        json!({"endpoint": "authorize", "errcode": 10050, "times": 2}),
    )
    .await;
    for _ in 0..2 {
        let reply = server.login(REDIRECT, "s").await;
        assert_eq!(reply.errcode(), 10050);
        assert_eq!(reply.json()["apiname"], "qrconnectfastauthorizeconfirm");
    }
    assert_eq!(server.login(REDIRECT, "s").await.errcode(), 0);

    let forever = add_fault(&server, json!({"endpoint": "check-login", "status": 503})).await;
    assert!(forever["remaining"].is_null());
    for _ in 0..3 {
        assert_eq!(
            server.check_login().await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    let listed = server.ctl(Method::GET, "/faults", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["hits"], 3);
    let id = listed[0]["id"].as_u64().unwrap();
    let removed = server
        .control(Method::DELETE, &format!("/faults/{id}"), None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(server.check_login().await.errcode(), 0);

    add_fault(
        &server,
        json!({"endpoint": "check-login", "latency": "20ms"}),
    )
    .await;
    assert_eq!(
        server.check_login().await.errcode(),
        0,
        "latency alone still answers"
    );
    let cleared = server.ctl(Method::DELETE, "/faults", None).await;
    assert_eq!(cleared["cleared"], 1);

    let journal = server
        .ctl(Method::GET, "/journal?endpoint=check-login", None)
        .await;
    let faults: Vec<Value> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fault"].clone())
        .collect();
    let count = |f: Value| faults.iter().filter(|x| **x == f).count();
    assert_eq!(faults[0], "errcode 10020");
    assert!(faults[1].is_null());
    assert_eq!(count(json!("errcode 10020")), 1);
    assert_eq!(count(json!("status 503")), 3);
    assert_eq!(count(json!("latency 20ms")), 1);

    for (body, needle) in [
        (
            json!({"endpoint": "control", "errcode": 1}),
            "cannot be injected",
        ),
        (json!({"endpoint": "authorize"}), "needs"),
        (
            json!({"endpoint": "authorize", "errcode": 1, "drop": true}),
            "at most one",
        ),
        (json!({"endpoint": "moon", "errcode": 1}), "endpoint"),
    ] {
        let reply = server.control(Method::POST, "/faults", Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.text().contains(needle), "{}", reply.text());
    }
}

#[tokio::test]
async fn a_dropped_connection_is_a_connection_error_not_a_response() {
    let server = TestServer::start().await;
    add_fault(
        &server,
        json!({"endpoint": "check-login", "drop": true, "once": true}),
    )
    .await;
    let body = json!({"apiname": "qrconnectchecklogin",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": ""}});
    // HTTP/1.1: the connection closes without a status line.
    let stream = server.connect().await;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let result = sender
        .send_request(server.request(
            Method::POST,
            "/api/check-login",
            Some(ORIGIN),
            body.to_string(),
        ))
        .await;
    // Closed without a reply (hyper reports the EOF as incomplete message
    // or as the TLS layer's unexpected EOF).
    let err = result.expect_err("no response");
    assert!(!err.is_parse() && !err.is_timeout(), "{err:?}");
    assert_eq!(server.check_login().await.errcode(), 0, "only once");

    // HTTP/2: the stream is reset; the connection may stay.
    add_fault(
        &server,
        json!({"endpoint": "authorize", "drop": true, "once": true}),
    )
    .await;
    let config = server.tls_config(&[b"h2"], rustls::DEFAULT_VERSIONS);
    let stream = server
        .connect_with(config, "localhost.weixin.qq.com")
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let uuid = server.uuid().await;
    let result = sender
        .send_request(server.request(
            Method::POST,
            "/api/authorize",
            Some(ORIGIN),
            authorize_body(&uuid, APPID, REDIRECT, "s"),
        ))
        .await;
    assert!(result.is_err(), "h2 stream must fail: {result:?}");

    let journal = server.ctl(Method::GET, "/journal?errcode=0", None).await;
    assert!(journal["entries"].as_array().unwrap().len() >= 2);
    let dropped = server
        .ctl(Method::GET, "/journal?endpoint=check-login", None)
        .await;
    let first = &dropped["entries"][0];
    assert!(first["status"].is_null(), "{first}");
    assert_eq!(first["fault"], "drop");
}

#[tokio::test]
async fn errcode_faults_speak_each_endpoints_wire_format() {
    // These paths belong to the Open Platform handlers; the fault layer
    // answers before any handler, so the format is testable on its own.
    let server = TestServer::start().await;
    for (endpoint, code) in [("token", 40029), ("long-poll", 402), ("qrcode", 500)] {
        add_fault(&server, json!({"endpoint": endpoint, "errcode": code})).await;
    }
    let token = server
        .get("/sns/oauth2/access_token?appid=wx1&secret=s&code=c&grant_type=authorization_code")
        .await;
    assert_eq!(token.status, StatusCode::OK);
    assert_eq!(token.header("content-type"), Some("text/plain"));
    assert_eq!(token.errcode(), 40029);
    assert!(token.json()["errmsg"].is_string());

    let poll = server
        .get("/connect/l/qrconnect?uuid=0123456789abcdef")
        .await;
    assert_eq!(poll.text(), "window.wx_errcode=402;window.wx_code='';");
    assert!(poll.header("content-type").unwrap().contains("javascript"));
    let poll = server
        .get("/connect/l/qrconnect?uuid=0123456789abcdef&f=json")
        .await;
    assert_eq!(poll.json(), json!({"wx_errcode": 402, "wx_code": ""}));

    let image = server.get("/connect/qrcode/0123456789abcdef").await;
    assert_eq!(image.errcode(), 500);

    let journal = server
        .ctl(Method::GET, "/journal?endpoint=long-poll", None)
        .await;
    assert_eq!(journal["entries"][0]["errcode"], 402);
    assert_eq!(journal["entries"][1]["errcode"], 402);
}

// ---- clock ------------------------------------------------------------

#[tokio::test]
async fn clock_advance_expires_uuids_and_codes_and_freezes() {
    let server = TestServer::start().await;
    let uuid = server.uuid().await;
    let allowed = server.login(REDIRECT, "s").await;
    let code = code_of(&allowed);

    let clock = server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "6m"})))
        .await;
    assert!(clock["offset_ms"].as_i64().unwrap() >= 359_000, "{clock}");
    let code_now = || server.emu.issued_code(&code, server.emu.now());
    // authorize_uuid lives 5 minutes.
    let late = server.authorize(&uuid, APPID, REDIRECT, "st4te").await;
    assert_eq!(late.errcode(), 10046);
    assert!(matches!(code_now(), Lookup::Live(_)));
    // Codes live 10 minutes.
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "5m"})))
        .await;
    assert!(matches!(code_now(), Lookup::Expired(_)));

    let frozen = server.ctl(Method::POST, "/clock/freeze", None).await;
    assert_eq!(frozen["frozen"], true);
    let a = server.ctl(Method::GET, "/clock", None).await["now_ms"].clone();
    let b = server.ctl(Method::GET, "/clock", None).await["now_ms"].clone();
    assert_eq!(a, b, "a frozen clock stands still");
    let moved = server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "1s"})))
        .await;
    assert_eq!(
        moved["now_ms"].as_u64().unwrap(),
        a.as_u64().unwrap() + 1000
    );
    let thawed = server.ctl(Method::POST, "/clock/unfreeze", None).await;
    assert_eq!(thawed["frozen"], false);
    server.ctl(Method::POST, "/reset", None).await;
    assert!(
        server.ctl(Method::GET, "/clock", None).await["offset_ms"]
            .as_i64()
            .unwrap()
            .abs()
            < 60_000
    );
}

// ---- journal ----------------------------------------------------------

#[tokio::test]
async fn journal_lists_with_filters() {
    let server = TestServer::start().await;
    server.login(REDIRECT, "s").await;
    server.check_login_for("wxother", REDIRECT, "").await;
    server.get("/nothing-here").await;

    let all = server.ctl(Method::GET, "/journal", None).await;
    let entries = all["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "control calls are not journaled: {all}");
    assert_eq!(all["capacity"], 1000);
    let first = &entries[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/api/check-login");
    assert_eq!(first["endpoint"], "check-login");
    assert_eq!(first["origin"], ORIGIN);
    assert_eq!(first["app"], APPID);
    assert_eq!(first["status"], 200);
    assert_eq!(first["errcode"], 0);
    assert_eq!(first["body"]["apiname"], "qrconnectchecklogin");
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(entries[1]["decision"], "allowed");
    assert_eq!(entries[1]["account"], "default");
    assert_eq!(entries[3]["status"], 404);

    let by_app = server.ctl(Method::GET, "/journal?app=wxother", None).await;
    assert_eq!(by_app["entries"].as_array().unwrap().len(), 1);
    let by_path = server.ctl(Method::GET, "/journal?path=/api/", None).await;
    assert_eq!(by_path["entries"].as_array().unwrap().len(), 3);
    let since = entries[1]["id"].as_u64().unwrap();
    let after = server
        .ctl(Method::GET, &format!("/journal?since={since}"), None)
        .await;
    assert_eq!(after["entries"].as_array().unwrap().len(), 2);
    let ok = server
        .ctl(Method::GET, "/journal?errcode=0&method=post", None)
        .await;
    assert_eq!(ok["entries"].as_array().unwrap().len(), 3);
    let newest = server.ctl(Method::GET, "/journal?limit=1", None).await;
    assert_eq!(newest["entries"][0]["path"], "/nothing-here");

    // Even a request the Host check refuses (DNS rebinding) is recorded.
    let mut rebound = server.request(Method::GET, "/", None, "");
    rebound
        .headers_mut()
        .insert("host", "evil.example:14013".parse().unwrap());
    assert_eq!(server.send(rebound).await.status, StatusCode::FORBIDDEN);
    let refused = server.ctl(Method::GET, "/journal?limit=1", None).await;
    assert_eq!(refused["entries"][0]["status"], 403);
    assert_eq!(refused["entries"][0]["path"], "/");

    let cleared = server.ctl(Method::DELETE, "/journal", None).await;
    assert_eq!(cleared["cleared"], 5);
    let empty = server.ctl(Method::GET, "/journal", None).await;
    assert!(empty["entries"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn journal_wait_returns_when_the_request_arrives_and_times_out_otherwise() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let waiting = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .ctl(
                    Method::GET,
                    "/journal/wait?endpoint=authorize&timeout=60s",
                    None,
                )
                .await
        }
    });
    // Let the waiter really wait first, so this proves the wake-up path.
    tokio::time::timeout(Duration::from_secs(10), async {
        while server.emu.journal_waiters() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the wait call reaches the server");
    server.check_login().await;
    assert!(
        !waiting.is_finished(),
        "check-login must not satisfy an authorize wait"
    );
    server.login(REDIRECT, "s").await;
    let found = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the wait ends once authorize arrives")
        .unwrap();
    assert_eq!(found["timed_out"], false);
    assert_eq!(found["entry"]["endpoint"], "authorize");
    assert_eq!(found["entry"]["decision"], "allowed");

    let missed = server
        .ctl(
            Method::GET,
            "/journal/wait?endpoint=token&timeout=100ms",
            None,
        )
        .await;
    assert_eq!(missed, json!({"timed_out": true}));

    // An entry already in the journal satisfies a wait; `since` skips it.
    let id = found["entry"]["id"].as_u64().unwrap();
    let past = server
        .ctl(
            Method::GET,
            "/journal/wait?endpoint=authorize&timeout=0s",
            None,
        )
        .await;
    assert_eq!(past["entry"]["id"], id);
    let skipped = server
        .ctl(
            Method::GET,
            &format!("/journal/wait?endpoint=authorize&since={id}&timeout=50ms"),
            None,
        )
        .await;
    assert_eq!(skipped["timed_out"], true);

    let too_long = server
        .control(Method::GET, "/journal/wait?timeout=1h", None)
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn journal_stays_bounded_under_100k_requests() {
    let server = std::sync::Arc::new(
        TestServer::builder()
            .config(|c| c.journal.capacity = 500)
            .start()
            .await,
    );
    const CONNECTIONS: usize = 8;
    const TOTAL: usize = 100_000;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                let config = server.tls_config(&[b"h2"], rustls::DEFAULT_VERSIONS);
                let stream = server
                    .connect_with(config, "localhost.weixin.qq.com")
                    .await
                    .unwrap();
                let (sender, conn) = hyper::client::conn::http2::handshake(
                    hyper_util::rt::TokioExecutor::new(),
                    hyper_util::rt::TokioIo::new(stream),
                )
                .await
                .unwrap();
                tokio::spawn(conn);
                // 50 streams in flight per connection.
                let mut inflight = tokio::task::JoinSet::new();
                for i in 0..TOTAL / CONNECTIONS {
                    if inflight.len() >= 50 {
                        let status = inflight.join_next().await.unwrap().unwrap();
                        assert_eq!(status, StatusCode::NOT_FOUND);
                    }
                    let mut sender = sender.clone();
                    let request = server.request(Method::GET, &format!("/load/{i}"), None, "");
                    inflight
                        .spawn(async move { sender.send_request(request).await.unwrap().status() });
                }
                while let Some(status) = inflight.join_next().await {
                    assert_eq!(status.unwrap(), StatusCode::NOT_FOUND);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        server.emu.journal_entries(&Default::default(), None).len(),
        500
    );
    let journal = server.ctl(Method::GET, "/journal", None).await;
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 500);
    assert_eq!(entries[0]["id"], (TOTAL - 500 + 1) as u64);
    assert_eq!(entries[499]["id"], TOTAL as u64);
}

#[tokio::test]
async fn secrets_never_appear_unmasked_in_the_journal_or_its_file() {
    let secret = "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00";
    let server = TestServer::builder()
        .config(|c| {
            c.journal.file = Some("journal.jsonl".into());
            c.journal.include_control = true;
            c.apps.push(WebsiteApp {
                appid: APPID.into(),
                secret: secret.into(),
                ..WebsiteApp::default()
            });
        })
        .start()
        .await;
    let check = server.check_login().await;
    let uuid = check.json()["jsdata"]["authorize_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let allowed = server.authorize(&uuid, APPID, REDIRECT, "st4te").await;
    let code = code_of(&allowed);
    // The token API's calls carry the secret and the code in the query.
    server
        .get(&format!(
            "/sns/oauth2/access_token?appid={APPID}&secret={secret}&code={code}&grant_type=authorization_code"
        ))
        .await;
    server
        .get("/sns/userinfo?access_token=ACCESSTOKEN0123456789abcdef&openid=o1")
        .await;
    // A form body, and a control call that carries a secret.
    let form = format!("appid={APPID}&secret={secret}&code={code}");
    let mut request = server.request(Method::POST, "/sns/oauth2/access_token", None, form);
    request.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    server.send(request).await;
    server
        .ctl(
            Method::POST,
            "/apps",
            Some(json!({"appid": "wx2", "secret": "AnotherSecretValue0123456789"})),
        )
        .await;
    // Broken JSON is kept as text, its secrets masked all the same.
    server
        .post(
            "/api/authorize",
            Some(ORIGIN),
            format!(r#"{{"apiname":"qrconnectfastauthorize","jsdata":{{"authorize_uuid":"{uuid}","secret":"{secret}"#),
        )
        .await;

    let journal = server.ctl(Method::GET, "/journal", None).await;
    let file = std::fs::read_to_string(server.data_dir.path().join("journal.jsonl")).unwrap();
    assert_eq!(file.lines().count(), 8, "{file}");
    for line in file.lines() {
        serde_json::from_str::<Value>(line).expect("each line is JSON");
    }
    for text in [journal.to_string(), file] {
        for needle in [
            secret,
            code.as_str(),
            uuid.as_str(),
            "ACCESSTOKEN0123456789abcdef",
            "AnotherSecretValue0123456789",
            server.control_token().as_str(),
        ] {
            assert!(!text.contains(needle), "{needle} leaked into {text}");
        }
        // Masked, with a short prefix to tell entries apart.
        assert!(text.contains(&format!("{}…", &secret[..4])), "{text}");
        assert!(text.contains(&format!("{}…", &uuid[..4])), "{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.data_dir.path().join("journal.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

// ---- reset and scenarios ----------------------------------------------

#[tokio::test]
async fn reset_returns_runtime_state_to_the_start() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Auto)
        .config(alice_and_bob)
        .start()
        .await;
    queue_decision(&server, json!({"decision": "deny"})).await;
    server
        .ctl(Method::PUT, "/policy", Some(json!({"policy": "never"})))
        .await;
    add_fault(&server, json!({"endpoint": "authorize", "errcode": 1})).await;
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "1h"})))
        .await;
    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"state": "locked", "account": "bob"})),
        )
        .await;
    let uuid = uuid_while_locked(&server).await;
    server.ctl(Method::POST, "/reset", None).await;

    let client = server.ctl(Method::GET, "/client", None).await;
    assert_eq!(client["state"], "logged_in");
    assert_eq!(client["account"]["id"], "default");
    assert_eq!(client["policy"], "auto");
    assert!(server
        .ctl(Method::GET, "/faults", None)
        .await
        .as_array()
        .unwrap()
        .is_empty());
    assert!(server.ctl(Method::GET, "/decisions", None).await["queue"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(server.ctl(Method::GET, "/journal", None).await["entries"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        server
            .authorize(&uuid, APPID, REDIRECT, "st4te")
            .await
            .errcode(),
        10046,
        "issued uuids are forgotten"
    );
    assert_eq!(server.login(REDIRECT, "s").await.errcode(), 0);
    // Accounts are config, not runtime state.
    assert!(server.emu.config().account("bob").is_some());
}

/// An authorize_uuid issued while logged in, then the client locked again.
async fn uuid_while_locked(server: &TestServer) -> String {
    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"state": "logged_in"})),
        )
        .await;
    let uuid = server.uuid().await;
    server
        .ctl(Method::PATCH, "/client", Some(json!({"state": "locked"})))
        .await;
    uuid
}

#[tokio::test]
async fn a_scenario_sets_up_accounts_apps_policy_decisions_and_faults() {
    let scenario = wxemu::core::Scenario::parse(&format!(
        r#"
policy = "deny"
[client]
account = "alice"
[[accounts]]
id = "alice"
nickname = "Alice"
[[apps]]
appid = "{APPID}"
secret = "0123456789abcdef0123456789abcdef"
[[decisions]]
decision = "allow"
count = 2
[[faults]]
endpoint = "check-login"
errcode = 10021
once = true
"#
    ))
    .unwrap();
    let server = TestServer::builder()
        .options(|o| o.scenario = Some(scenario))
        .start()
        .await;
    assert_eq!(
        server.check_login().await.errcode(),
        10021,
        "the fault, once"
    );
    let check = server.check_login().await;
    assert_eq!(check.json()["jsdata"]["nickname"], "Alice");
    for want in [0, 0, 10050] {
        assert_eq!(server.login(REDIRECT, "s").await.errcode(), want);
    }
    assert!(server.emu.config().app(APPID).is_some());
    // A reset plays the scenario again.
    server.ctl(Method::POST, "/reset", None).await;
    assert_eq!(server.check_login().await.errcode(), 10021);
    assert_eq!(server.login(REDIRECT, "s").await.errcode(), 0);
    assert_eq!(
        server.ctl(Method::GET, "/policy", None).await["policy"],
        "deny"
    );
}

#[tokio::test]
async fn a_scenario_that_does_not_fit_the_config_is_refused_at_start() {
    let scenario =
        wxemu::core::Scenario::parse("[[decisions]]\ndecision = \"allow\"\naccount = \"ghost\"\n")
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = wxemu::ServeOptions::new(dir.path().to_owned());
    options.port = 0;
    options.scenario = Some(scenario);
    let err = wxemu::Server::bind(options).await.err().expect("refused");
    assert!(err.to_string().contains("ghost"), "{err}");
}

// ---- QR logins --------------------------------------------------------

fn login_page_path() -> String {
    format!(
        "/connect/qrconnect?appid={APPID}&redirect_uri={}&response_type=code&scope=snsapi_login&state=st4te",
        percent_encoding::utf8_percent_encode(REDIRECT, percent_encoding::NON_ALPHANUMERIC)
    )
}

async fn long_poll(server: &TestServer, uuid: &str, last: Option<u16>) -> Value {
    let mut path = format!("/connect/l/qrconnect?uuid={uuid}&f=json");
    if let Some(last) = last {
        path.push_str(&format!("&last={last}"));
    }
    server.get(&path).await.json()
}

#[tokio::test]
async fn qr_logins_are_scanned_confirmed_cancelled_and_expired_through_the_api() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .config(alice_and_bob)
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(100))
        .start()
        .await;
    assert_eq!(server.get(&login_page_path()).await.status, StatusCode::OK);
    let pending = server.ctl(Method::GET, "/qr?pending=true", None).await;
    let uuid = pending[0]["uuid"].as_str().unwrap().to_owned();
    assert_eq!(pending[0]["status"], "waiting");
    assert_eq!(pending[0]["appid"], APPID);

    let scanned = server
        .ctl(
            Method::POST,
            &format!("/qr/{uuid}/scan"),
            Some(json!({"account": "alice"})),
        )
        .await;
    assert_eq!(scanned["status"], "scanned");
    assert_eq!(long_poll(&server, &uuid, None).await["wx_errcode"], 404);
    let again = server
        .control(Method::POST, &format!("/qr/{uuid}/scan"), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());

    let cancelled = server.ctl(Method::POST, "/qr/latest/cancel", None).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(
        long_poll(&server, &uuid, Some(404)).await["wx_errcode"],
        403
    );

    // Scanned again (default: the client's account), then confirmed.
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), None)
        .await;
    let confirmed = server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["account_id"], "default");
    let code = confirmed["code"].as_str().unwrap().to_owned();
    let done = long_poll(&server, &uuid, Some(403)).await;
    assert_eq!(done["wx_errcode"], 405);
    assert_eq!(done["wx_code"], code.as_str());
    let pending = server.ctl(Method::GET, "/qr?pending=true", None).await;
    assert!(pending.as_array().unwrap().is_empty());
    let none = server
        .control(Method::POST, "/qr/latest/confirm", None)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // Expire one on purpose.
    server.get(&login_page_path()).await;
    let expired = server.ctl(Method::POST, "/qr/latest/expire", None).await;
    assert_eq!(expired["status"], "expired");
    let uuid2 = expired["uuid"].as_str().unwrap();
    assert_eq!(long_poll(&server, uuid2, None).await["wx_errcode"], 402);

    for (path, body, status) in [
        ("/qr/nope/scan", None, StatusCode::NOT_FOUND),
        (
            "/qr/latest/scan",
            Some(json!({"account": "ghost"})),
            StatusCode::NOT_FOUND,
        ),
        (
            &format!("/qr/{uuid2}/confirm") as &str,
            None,
            StatusCode::CONFLICT,
        ),
    ] {
        let reply = server.control(Method::POST, path, body).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        assert!(reply.json()["error"].is_string());
    }
}

/// A server in ask mode whose long poll holds only 100 ms, after the
/// Open Platform login page was loaded once; the uuid of its QR code.
async fn server_showing_a_qr_login() -> (TestServer, String) {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(100))
        .start()
        .await;
    server.get(&login_page_path()).await;
    let uuid = server.ctl(Method::GET, "/qr", None).await[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    (server, uuid)
}

#[tokio::test]
async fn clock_advance_expires_qr_codes() {
    let (server, uuid) = server_showing_a_qr_login().await;
    assert_eq!(long_poll(&server, &uuid, None).await["wx_errcode"], 408);
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "1h"})))
        .await;
    assert_eq!(long_poll(&server, &uuid, None).await["wx_errcode"], 402);
    let scan = server
        .control(Method::POST, &format!("/qr/{uuid}/scan"), None)
        .await;
    assert_eq!(scan.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn faults_hit_the_real_long_poll_and_qr_image() {
    let (server, uuid) = server_showing_a_qr_login().await;
    add_fault(
        &server,
        json!({"endpoint": "long-poll", "errcode": 500, "once": true}),
    )
    .await;
    add_fault(
        &server,
        json!({"endpoint": "qrcode", "status": 502, "once": true}),
    )
    .await;
    let poll = server
        .get(&format!("/connect/l/qrconnect?uuid={uuid}"))
        .await;
    assert_eq!(poll.text(), "window.wx_errcode=500;window.wx_code='';");
    assert_eq!(long_poll(&server, &uuid, None).await["wx_errcode"], 408);
    let image = server.get(&format!("/connect/qrcode/{uuid}")).await;
    assert_eq!(image.status, StatusCode::BAD_GATEWAY);
    let image = server.get(&format!("/connect/qrcode/{uuid}")).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.header("content-type"), Some("image/png"));

    let journal = server
        .ctl(Method::GET, "/journal?endpoint=long-poll", None)
        .await;
    let codes: Vec<&Value> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["errcode"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(408)]);
}

// ---- the token API ----------------------------------------------------

async fn token_api(server: &TestServer, path: &str, params: &[(&str, &str)]) -> Value {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let reply = server.get(&format!("{path}?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()
}

async fn redeem(server: &TestServer, code: &str) -> Value {
    token_api(
        server,
        "/sns/oauth2/access_token",
        &[
            ("appid", APPID),
            ("secret", "any-secret-works-in-permissive-mode"),
            ("code", code),
            ("grant_type", "authorization_code"),
        ],
    )
    .await
}

#[tokio::test]
async fn clock_advance_expires_codes_and_tokens_on_the_token_api() {
    let server = TestServer::start().await;
    let advance = |by: &'static str| {
        let server = &server;
        async move {
            server
                .ctl(Method::POST, "/clock/advance", Some(json!({"by": by})))
                .await
        }
    };
    // A code dies after 10 minutes.
    let stale = code_of(&server.login(REDIRECT, "s").await);
    advance("11m").await;
    assert_eq!(redeem(&server, &stale).await["errcode"], 42003);

    let code = code_of(&server.login(REDIRECT, "s").await);
    let token = redeem(&server, &code).await;
    let access = token["access_token"].as_str().unwrap().to_owned();
    let openid = token["openid"].as_str().unwrap().to_owned();
    let refresh = token["refresh_token"].as_str().unwrap().to_owned();
    let auth = |access: String| {
        let server = &server;
        let openid = openid.clone();
        async move {
            token_api(
                server,
                "/sns/auth",
                &[("access_token", &access), ("openid", &openid)],
            )
            .await["errcode"]
                .clone()
        }
    };
    assert_eq!(auth(access.clone()).await, 0);
    // access_token: 2 hours.
    advance("2h 1m").await;
    assert_eq!(auth(access.clone()).await, 42001);
    // refresh_token: 30 days.
    advance("30days").await;
    let refreshed = token_api(
        &server,
        "/sns/oauth2/refresh_token",
        &[
            ("appid", APPID),
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(refreshed["errcode"], 42002, "{refreshed}");
}

#[tokio::test]
async fn faults_hit_the_real_token_api() {
    let server = TestServer::start().await;
    let code = code_of(&server.login(REDIRECT, "s").await);
    add_fault(
        &server,
        json!({"endpoint": "token", "errcode": 40029, "once": true}),
    )
    .await;
    let faulty = redeem(&server, &code).await;
    assert_eq!(faulty["errcode"], 40029);
    assert!(faulty.get("access_token").is_none());
    // The fault answered instead of the handler: the code is still good.
    let token = redeem(&server, &code).await;
    assert!(token["access_token"].is_string(), "{token}");

    let journal = server
        .ctl(
            Method::GET,
            &format!("/journal?endpoint=token&app={APPID}"),
            None,
        )
        .await;
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["errcode"], 40029);
    assert_eq!(entries[0]["fault"], "errcode 40029");
    assert!(entries[1].get("errcode").is_none() || entries[1]["errcode"] == 0);
    assert!(!journal.to_string().contains(&code));
}
