//! The fast-login API over real TLS: wire format, the authorize flow, every
//! errcode, uuid and code rules.

use crate::common;

use std::time::Duration;

use common::*;
use hyper::{Method, StatusCode};
use wxemu::core::Lookup;
use wxemu::core::{Account, ClientState, WebsiteApp};
use wxemu::core::{ApprovalEvent, ApprovalMode, Decision, Outcome};

fn is_token(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[tokio::test]
async fn check_login_answers_like_the_real_client() {
    let server = TestServer::start().await;
    let reply = server.check_login().await;
    assert_eq!(reply.status, StatusCode::OK);
    // Not application/json: the real page's JSON.parse would break.
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
    let body = reply.json();
    assert_eq!(body["apiname"], "qrconnectchecklogin");
    assert_eq!(body["errcode"], 0);
    assert!(
        body.get("errmsg").is_none(),
        "success carries no errmsg: {body}"
    );
    let jsdata = &body["jsdata"];
    assert_eq!(jsdata["nickname"], "微信测试用户");
    assert!(
        is_token(jsdata["authorize_uuid"].as_str().unwrap(), 16),
        "{jsdata}"
    );
    let avatar = jsdata["headimgurl"].as_str().unwrap();
    let prefix = format!(
        "https://localhost.weixin.qq.com:{}/avatar/default/",
        server.addr.port()
    );
    assert!(avatar.starts_with(&prefix), "{avatar}");

    // The avatar is served by wxemu itself, so demos work offline.
    let path = &avatar
        ["https://localhost.weixin.qq.com".len() + 1 + server.addr.port().to_string().len()..];
    let image = server
        .send(server.request(Method::GET, path, None, ""))
        .await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.header("content-type"), Some("image/svg+xml"));
    assert!(image.text().starts_with("<svg"));
}

#[tokio::test]
async fn allowed_authorize_redirects_with_code_and_state() {
    let server = TestServer::start().await;
    let reply = server
        .login("https://site.example/cb?app=website", "9ec6339")
        .await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let body = reply.json();
    assert_eq!(body["apiname"], "qrconnectfastauthorizeconfirm");
    assert_eq!(body["errcode"], 0);
    let url = body["jsdata"]["redirect_url"].as_str().unwrap();
    let rest = url
        .strip_prefix("https://site.example/cb?app=website&code=")
        .expect(url);
    let (code, state) = rest.split_once("&state=").unwrap();
    assert!(is_token(code, 32), "{code}");
    assert_eq!(state, "9ec6339");

    // The code is remembered for the token API: 10 minutes, unused.
    let now = server.emu.now();
    let Lookup::Live(issued) = server.emu.issued_code(code, now) else {
        panic!("code not stored");
    };
    assert_eq!(issued.appid, APPID);
    assert_eq!(issued.account_id, "default");
    assert!(!issued.used);
    let later = now + Duration::from_secs(599);
    assert!(matches!(
        server.emu.issued_code(code, later),
        Lookup::Live(_)
    ));
    let too_late = now + Duration::from_secs(601);
    assert!(matches!(
        server.emu.issued_code(code, too_late),
        Lookup::Expired(_)
    ));
}

#[tokio::test]
async fn redirect_url_keeps_the_uri_and_puts_the_code_before_the_fragment() {
    let server = TestServer::start().await;
    for (uri, state, prefix, suffix) in [
        (
            "https://a.example/cb",
            "s",
            "https://a.example/cb?code=",
            "&state=s",
        ),
        (
            "https://a.example/cb?x=%2F&y=1",
            "s",
            "https://a.example/cb?x=%2F&y=1&code=",
            "&state=s",
        ),
        (
            "https://a.example/#/login?next=1",
            "s",
            "https://a.example/?code=",
            "&state=s#/login?next=1",
        ),
        (
            "http://localhost:3000/cb",
            "",
            "http://localhost:3000/cb?code=",
            "&state=",
        ),
        (
            "https://a.example/cb",
            "a b&c=d",
            "https://a.example/cb?code=",
            "&state=a%20b%26c%3Dd",
        ),
    ] {
        let body = server.login(uri, state).await.json();
        assert_eq!(body["errcode"], 0, "{uri}: {body}");
        let url = body["jsdata"]["redirect_url"].as_str().unwrap();
        assert!(
            url.starts_with(prefix) && url.ends_with(suffix),
            "{uri} gave {url}"
        );
        let code = &url[prefix.len()..url.len() - suffix.len()];
        assert!(is_token(code, 32), "{uri} gave {url}");
    }
}

#[tokio::test]
async fn authorize_uuid_is_single_use() {
    let server = TestServer::start().await;
    let uuid = server.uuid().await;
    assert_eq!(
        server
            .authorize(&uuid, APPID, REDIRECT, "st4te")
            .await
            .errcode(),
        0
    );
    let again = server.authorize(&uuid, APPID, REDIRECT, "st4te").await;
    assert_eq!(again.errcode(), 10046);
    assert_eq!(again.json()["apiname"], "qrconnectfastauthorizeconfirm");
    assert!(again.json()["errmsg"]
        .as_str()
        .unwrap()
        .contains("already used"));
}

#[tokio::test]
async fn unknown_or_expired_uuid_gets_10046() {
    let server = TestServer::builder()
        .config(|c| c.server.authorize_uuid_ttl = Duration::from_secs(300))
        .start()
        .await;
    assert_eq!(
        server
            .authorize("0000000000000000", APPID, REDIRECT, "st4te")
            .await
            .errcode(),
        10046
    );

    let uuid = server.uuid().await;
    server.emu.advance_clock(Duration::from_secs(301)).unwrap();
    let reply = server.authorize(&uuid, APPID, REDIRECT, "st4te").await;
    assert_eq!(reply.errcode(), 10046);
    assert!(reply.json()["errmsg"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn uuid_is_bound_to_its_request() {
    let server = TestServer::start().await;
    for (appid, redirect, state) in [
        ("wxother", REDIRECT, "st4te"),
        (APPID, "https://evil.example/cb", "st4te"),
        (APPID, REDIRECT, "other"),
    ] {
        let uuid = server.uuid().await;
        let reply = server.authorize(&uuid, appid, redirect, state).await;
        assert_eq!(reply.errcode(), 10046, "{appid} {redirect} {state}");
        // And the uuid is spent: probing does not leave it usable.
        assert_eq!(
            server
                .authorize(&uuid, APPID, REDIRECT, "st4te")
                .await
                .errcode(),
            10046
        );
    }
    // Another allowed origin cannot use a uuid issued to the real page.
    let own = format!("https://localhost.weixin.qq.com:{}", server.addr.port());
    let uuid = server.uuid().await;
    let body = authorize_body(&uuid, APPID, REDIRECT, "st4te");
    assert_eq!(
        server
            .post("/api/authorize", Some(&own), body)
            .await
            .errcode(),
        10046
    );
}

#[tokio::test]
async fn deny_mode_gets_10050() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Deny)
        .start()
        .await;
    let reply = server.login(REDIRECT, "s").await;
    assert_eq!(reply.errcode(), 10050);
    assert_eq!(reply.json()["apiname"], "qrconnectfastauthorizeconfirm");
    assert!(server.emu.stored_counts().codes == 0);
}

#[tokio::test]
async fn unanswered_request_times_out_with_10046() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| o.decision_timeout = Some(Duration::from_millis(300)))
        .start()
        .await;
    let reply = server.login(REDIRECT, "s").await;
    assert_eq!(reply.errcode(), 10046);
    assert!(reply.json()["errmsg"].as_str().unwrap().contains("in time"));
    assert!(server.emu.pending_authorizations().is_empty());
}

#[tokio::test]
async fn ask_mode_holds_the_response_until_a_decision() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .start()
        .await;
    let mut events = server.emu.subscribe_approvals();
    for (decision, errcode) in [(Decision::Allow, 0), (Decision::Deny, 10050)] {
        let uuid = server.uuid().await;
        let pending = server.authorize_in_background(&uuid).await;
        let request = next_request(&mut events).await;
        // What the person is shown.
        assert_eq!(request.appid, APPID);
        assert_eq!(request.site, "site.example");
        assert_eq!(request.nickname, "微信测试用户");
        assert_eq!(request.origin.as_deref(), Some(ORIGIN));
        let position = request.position.unwrap();
        assert_eq!((position.x, position.y), (576.0, 391.5));
        assert!(!pending.is_finished(), "answered before a decision");
        assert_eq!(server.emu.pending_authorizations().len(), 1);
        assert!(server.emu.resolve_authorization(request.id, decision, None));
        let reply = pending.await.unwrap();
        assert_eq!(reply.errcode(), errcode);
    }
}

#[tokio::test]
async fn client_disconnect_withdraws_the_pending_decision() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .start()
        .await;
    let mut events = server.emu.subscribe_approvals();
    let uuid = server.uuid().await;
    let body = authorize_body(&uuid, APPID, REDIRECT, "st4te");
    let head = format!(
        "POST /api/authorize HTTP/1.1\r\nHost: localhost.weixin.qq.com\r\nOrigin: {ORIGIN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = server.connect().await;
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .unwrap();
    let id = next_request(&mut events).await.id;
    drop(stream);
    let outcome = next_event(&mut events, |e| match e {
        ApprovalEvent::Finished { id: done, outcome } if *done == id => Some(*outcome),
        _ => None,
    })
    .await;
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(server.emu.pending_authorizations().is_empty());
    assert!(!server.emu.resolve_authorization(id, Decision::Allow, None));
}

#[tokio::test]
async fn logged_out_and_locked_clients_fall_back_to_qr() {
    let server = TestServer::start().await;
    server.emu.set_client_state(ClientState::LoggedOut);
    let reply = server.check_login().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.errcode(), 10020);
    server.emu.set_client_state(ClientState::Locked);
    assert_eq!(server.check_login().await.errcode(), 10021);

    // Locking between check-login and authorize also stops the login.
    server.emu.set_client_state(ClientState::LoggedIn);
    let uuid = server.uuid().await;
    server.emu.set_client_state(ClientState::Locked);
    assert_eq!(
        server
            .authorize(&uuid, APPID, REDIRECT, "st4te")
            .await
            .errcode(),
        10021
    );
}

#[tokio::test]
async fn scan_only_app_gets_10057() {
    let server = TestServer::builder()
        .config(|c| {
            c.apps.push(WebsiteApp {
                appid: "wxscanonly".into(),
                scan_only: true,
                ..WebsiteApp::default()
            })
        })
        .start()
        .await;
    let reply = server.check_login_for("wxscanonly", REDIRECT, "").await;
    assert_eq!(reply.errcode(), 10057);
    assert_eq!(reply.json()["apiname"], "qrconnectchecklogin");
    assert_eq!(
        server.check_login_for(APPID, REDIRECT, "").await.errcode(),
        0
    );
}

#[tokio::test]
async fn accounts_come_from_the_config() {
    let server = TestServer::builder()
        .config(|c| {
            c.accounts.push(Account {
                id: "alice".into(),
                nickname: "Alice".into(),
                headimgurl: "https://img.example/alice.png".into(),
                sex: 2,
                ..Account::default()
            });
            c.client.account = "alice".into();
        })
        .start()
        .await;
    let jsdata = server.check_login().await.json()["jsdata"].clone();
    assert_eq!(jsdata["nickname"], "Alice");
    assert_eq!(jsdata["headimgurl"], "https://img.example/alice.png");
    assert!(server.emu.set_current_account("default"));
    assert!(!server.emu.set_current_account("nobody"));
    assert_eq!(
        server.check_login().await.json()["jsdata"]["nickname"],
        "微信测试用户"
    );
}

#[tokio::test]
async fn speaks_http2_and_tls12() {
    let server = TestServer::start().await;
    let body = serde_json::json!({"apiname": "qrconnectchecklogin",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": ""}})
    .to_string();
    let reply = server
        .send_h2(server.request(Method::POST, "/api/check-login", Some(ORIGIN), body))
        .await;
    assert_eq!(reply.errcode(), 0);

    let tls12 = server.tls_config(&[b"http/1.1"], &[&rustls::version::TLS12]);
    let stream = server
        .connect_with(tls12, "localhost.weixin.qq.com")
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let tls13 = server.tls_config(&[b"http/1.1"], &[&rustls::version::TLS13]);
    let stream = server.connect_with(tls13, "localhost").await.unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[tokio::test]
async fn certificate_is_only_valid_for_our_names() {
    let server = TestServer::start().await;
    let config = server.tls_config(&[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    for name in ["localhost.weixin.qq.com", "localhost", "127.0.0.1"] {
        assert!(
            server.connect_with(config.clone(), name).await.is_ok(),
            "{name}"
        );
    }
    let err = server
        .connect_with(config, "example.com")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not valid for name"), "{err}");
}

#[tokio::test]
async fn certificates_are_reused_across_starts() {
    let server = TestServer::start().await;
    let dir = server.data_dir.path().to_owned();
    let first = std::fs::read(dir.join("ca.pem")).unwrap();
    let leaf = std::fs::read(dir.join("leaf.pem")).unwrap();
    let _kept = server.stop().await;
    let mut options = wxemu::ServeOptions::new(dir.clone());
    options.port = 0;
    let again = wxemu::Server::bind(options).await.unwrap();
    assert!(!again.certs().created_ca);
    assert_eq!(std::fs::read(dir.join("ca.pem")).unwrap(), first);
    assert_eq!(std::fs::read(dir.join("leaf.pem")).unwrap(), leaf);
}

#[tokio::test]
async fn shutdown_answers_held_requests_and_stops_listening() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .start()
        .await;
    let mut events = server.emu.subscribe_approvals();
    let uuid = server.uuid().await;
    let held = server.authorize_in_background(&uuid).await;
    next_request(&mut events).await;
    let addr = server.addr;
    tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .expect("stops promptly");
    let reply = held.await.unwrap();
    assert_eq!(reply.errcode(), 10046);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening"
    );
}
