//! The Open Platform login page over real TLS: the page and its injected
//! config, the error pages, the `f=xml` refresh, the QR image, the long
//! poll through every status, and `--approve auto|deny` for QR codes.

use crate::common;

use std::time::Duration;

use common::*;
use hyper::StatusCode;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;
use wxemu::core::ApprovalMode;
use wxemu::core::{PlatformMode, WebsiteApp};
use wxemu::core::{QrError, QrStatus};

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

fn page_url(appid: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "/connect/qrconnect?appid={}&redirect_uri={}&response_type=code&scope=snsapi_login&state={}",
        enc(appid),
        enc(redirect_uri),
        enc(state)
    )
}

/// The config object wxemu injected into the page, wherever the template
/// put it: the first JSON object in the page that has a uuid and the
/// fast-login host.
fn injected_config(page: &str) -> Value {
    for (at, _) in page.match_indices('{') {
        let mut values = serde_json::Deserializer::from_str(&page[at..]).into_iter::<Value>();
        if let Some(Ok(value)) = values.next() {
            if value.get("uuid").is_some() && value.get("fast_login_host").is_some() {
                return value;
            }
        }
    }
    panic!("no injected config in the page:\n{page}");
}

/// Loads the page and returns its config (asserting it is a login page).
async fn open_page(server: &TestServer, query_extra: &str) -> Value {
    let page = server
        .get(&format!(
            "{}{query_extra}",
            page_url(APPID, REDIRECT, "st4te")
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    injected_config(&page.text())
}

/// Loads the page and returns the uuid of the QR login it started.
async fn new_qr(server: &TestServer) -> String {
    open_page(server, "").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn poll(server: &TestServer, uuid: &str, last: Option<u16>) -> (u16, String) {
    let mut path = format!("/connect/l/qrconnect?uuid={uuid}&f=json");
    if let Some(last) = last {
        path.push_str(&format!("&last={last}"));
    }
    let reply = server.get(&path).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    (
        body["wx_errcode"].as_u64().unwrap() as u16,
        body["wx_code"].as_str().unwrap().to_owned(),
    )
}

/// A server whose long poll holds 200 ms instead of 25 s.
fn quick() -> Builder {
    TestServer::builder().options(|o| o.limits.long_poll_hold = Duration::from_millis(200))
}

#[tokio::test]
async fn page_injects_its_config_and_starts_a_qr_login() {
    let server = quick()
        .approval(ApprovalMode::Ask)
        .app(WebsiteApp {
            appid: APPID.into(),
            name: "Demo Site".into(),
            icon_url: "https://site.example/icon.png".into(),
            ..WebsiteApp::default()
        })
        .start()
        .await;
    let config = open_page(
        &server,
        "&login_type=jssdk&self_redirect=false&fast_login=0&color_scheme=dark&lang=en&stylelite=1&style=black&href=https%3A%2F%2Fsite.example%2Fqr.css",
    )
    .await;
    let uuid = config["uuid"].as_str().unwrap();
    assert!(uuid.len() == 16 && uuid.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(config["appid"], APPID);
    assert_eq!(config["app_name"], "Demo Site");
    assert_eq!(config["app_icon_url"], "https://site.example/icon.png");
    assert_eq!(config["redirect_uri"], REDIRECT);
    assert_eq!(config["state"], "st4te");
    assert_eq!(config["scope"], "snsapi_login");
    assert_eq!(config["qrcode_url"], format!("/connect/qrcode/{uuid}"));
    assert_eq!(config["long_poll_url"], "/connect/l/qrconnect");
    assert_eq!(config["login_type"], "jssdk");
    assert_eq!(config["self_redirect"], false);
    assert_eq!(config["fast_login"], false);
    assert_eq!(config["color_scheme"], "dark");
    assert_eq!(config["lang"], "en");
    assert_eq!(config["style"], "black");
    assert_eq!(config["href"], "https://site.example/qr.css");
    assert_eq!(config["stylelite"], true);
    assert_eq!(config["scan_only"], false);
    assert_eq!(config["fast_login_host"], "localhost.weixin.qq.com");
    // An ephemeral port is not one the real page tries: it goes first.
    let ports: Vec<u64> = config["fast_login_ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert_eq!(
        ports,
        [
            server.addr.port() as u64,
            14013,
            14014,
            14015,
            13013,
            13014,
            13015
        ]
    );

    let list = server.emu.qr_list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].uuid, uuid);
    assert_eq!(list[0].status, QrStatus::Waiting);
    assert_eq!(list[0].target.redirect_uri, REDIRECT);

    // Defaults when the options are absent.
    let plain = open_page(&server, "").await;
    assert_eq!(plain["self_redirect"], Value::Null);
    assert_eq!(plain["fast_login"], true);
    assert_eq!(plain["lang"], "zh_CN");
    assert_eq!(plain["color_scheme"], "light");
    assert_eq!(plain["stylelite"], false);
    assert_ne!(
        plain["uuid"], config["uuid"],
        "every page load is a new QR code"
    );
}

#[tokio::test]
async fn injected_state_cannot_break_out_of_the_script() {
    let server = quick().start().await;
    let evil = "</script><script>alert(1)</script><!--";
    let page = server.get(&page_url(APPID, REDIRECT, evil)).await;
    let text = page.text();
    assert!(!text.contains("alert(1)</script>"), "{text}");
    assert!(!text.contains("<!--\""), "{text}");
    assert_eq!(injected_config(&text)["state"], evil);
}

#[tokio::test]
async fn bad_parameters_get_the_real_error_pages() {
    let server = quick()
        .app(WebsiteApp {
            appid: "wxconfigured".into(),
            callback_domains: vec!["site.example".into()],
            ..WebsiteApp::default()
        })
        .start()
        .await;
    for (url, title) in [
        (
            "/connect/qrconnect?redirect_uri=https%3A%2F%2Fsite.example%2F&scope=snsapi_login"
                .to_owned(),
            "AppID 参数错误",
        ),
        (page_url(APPID, "not a url", "s"), "redirect_uri 参数错误"),
        (
            page_url(APPID, "ftp://site.example/", "s"),
            "redirect_uri 参数错误",
        ),
        (
            format!("/connect/qrconnect?appid={APPID}&scope=snsapi_login"),
            "redirect_uri 参数错误",
        ),
        // A configured app's callback domains are checked even in
        // permissive mode; a subdomain is not the domain.
        (
            page_url("wxconfigured", "https://a.site.example/cb", "s"),
            "redirect_uri 参数错误",
        ),
        (
            page_url(APPID, REDIRECT, "s").replace("snsapi_login", "snsapi_userinfo"),
            "Scope 参数错误",
        ),
    ] {
        let reply = server.get(&url).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(reply.text().contains(title), "{url}: {}", reply.text());
    }
    assert!(
        server.emu.qr_list().is_empty(),
        "no QR login for a bad request"
    );
    let ok = server
        .get(&page_url(
            "wxconfigured",
            "https://site.example/cb?x=1",
            "s",
        ))
        .await;
    injected_config(&ok.text());
}

#[tokio::test]
async fn strict_mode_knows_only_configured_apps() {
    let server = quick()
        .config(|c| {
            c.platform.mode = PlatformMode::Strict;
            c.apps.push(WebsiteApp {
                appid: "wxstrict".into(),
                secret: "s3cret".into(),
                callback_domains: vec!["site.example".into(), "localhost:3000".into()],
                ..WebsiteApp::default()
            });
            c.apps.push(WebsiteApp {
                appid: "wxnodomains".into(),
                ..WebsiteApp::default()
            });
        })
        .start()
        .await;
    let unknown = server.get(&page_url(APPID, REDIRECT, "s")).await;
    assert!(unknown.text().contains("AppID 参数错误"));
    let no_domains = server
        .get(&page_url("wxnodomains", "https://site.example/cb", "s"))
        .await;
    assert!(no_domains.text().contains("redirect_uri 参数错误"));
    for (redirect, ok) in [
        ("https://site.example/cb", true),
        ("http://localhost:3000/cb", true),
        ("http://localhost:3001/cb", false),
        ("https://evil.example/cb", false),
    ] {
        let reply = server.get(&page_url("wxstrict", redirect, "s")).await;
        assert_eq!(
            !reply.text().contains("redirect_uri 参数错误"),
            ok,
            "{redirect}"
        );
    }
    assert!(server.emu.registered_apps().is_empty());
}

#[tokio::test]
async fn permissive_mode_registers_unknown_apps() {
    let server = quick().start().await;
    open_page(&server, "").await;
    let registered = server.emu.registered_apps();
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].appid, APPID);
    // Junk is not registered.
    for junk in ["wx<script>", &"x".repeat(65)] {
        let reply = server.get(&page_url(junk, REDIRECT, "s")).await;
        assert!(reply.text().contains("AppID 参数错误"), "{junk}");
    }
    assert_eq!(server.emu.registered_apps().len(), 1);
}

#[tokio::test]
async fn f_xml_refreshes_with_a_new_uuid() {
    let server = quick().start().await;
    let first = open_page(&server, "").await;
    let reply = server
        .get(&format!(
            "{}&f=xml&1700000000000",
            page_url(APPID, REDIRECT, "st4te")
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    let text = reply.text();
    let uuid = text
        .strip_prefix("<xml><uuid>")
        .and_then(|t| t.strip_suffix("</uuid></xml>"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_ne!(uuid, first["uuid"].as_str().unwrap());
    assert_eq!(server.emu.qr_list().len(), 2);
    assert!(server.emu.qr_login(uuid).is_some());
}

#[tokio::test]
async fn qr_image_is_a_png_of_the_confirm_url() {
    let server = quick().start().await;
    let config = open_page(&server, "").await;
    let image = server.get(config["qrcode_url"].as_str().unwrap()).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.header("content-type"), Some("image/png"));
    let decoder = png::Decoder::new(std::io::Cursor::new(image.body.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let (width, height) = (reader.info().width, reader.info().height);
    assert_eq!(width, height);
    assert!((200..=400).contains(&width), "{width}");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    assert!(
        pixels.contains(&0) && pixels.contains(&255),
        "black on white"
    );
    // A QR decoder reads the confirm URL back.
    let side = width as usize;
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(
        content,
        format!(
            "https://open.weixin.qq.com/connect/confirm?uuid={}",
            config["uuid"].as_str().unwrap()
        )
    );

    let missing = server.get("/connect/qrcode/AAAAAAAAAAAAAAAA").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn long_poll_walks_through_scan_and_confirm() {
    let server = quick().approval(ApprovalMode::Ask).start().await;
    let uuid = new_qr(&server).await;

    // The script form, as the real page loads it.
    let script = server
        .get(&format!("/connect/l/qrconnect?uuid={uuid}&last=408&_=1"))
        .await;
    assert_eq!(
        script.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    assert_eq!(script.text(), "window.wx_errcode=408;window.wx_code='';");
    assert!(script.header("access-control-allow-origin").is_none());

    let json = server
        .get(&format!("/connect/l/qrconnect?uuid={uuid}&f=json"))
        .await;
    assert_eq!(
        json.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    // protocol.md: `{"wx_errcode":408,"wx_code":""}`, in that order.
    assert_eq!(json.text(), r#"{"wx_errcode":408,"wx_code":""}"#);

    let scanned = server.emu.qr_scan(&uuid, "default").unwrap();
    assert_eq!(
        scanned.status,
        QrStatus::Scanned {
            account_id: "default".into()
        }
    );
    assert_eq!(poll(&server, &uuid, None).await, (404, String::new()));
    assert_eq!(poll(&server, &uuid, Some(408)).await.0, 404);
    // The page polls on with last=404: no news is 408, not 404 again.
    assert_eq!(poll(&server, &uuid, Some(404)).await.0, 408);

    let confirmed = server.emu.qr_confirm(&uuid).unwrap();
    let QrStatus::Confirmed { code, account_id } = confirmed.status else {
        panic!("{confirmed:?}");
    };
    assert_eq!(account_id, "default");
    assert_eq!(poll(&server, &uuid, Some(404)).await, (405, code.clone()));
    let script = server
        .get(&format!("/connect/l/qrconnect?uuid={uuid}&last=404"))
        .await;
    assert_eq!(
        script.text(),
        format!("window.wx_errcode=405;window.wx_code='{code}';")
    );
    // The same kind of code fast login issues.
    let issued = server.emu.issued_code(&code, server.emu.now());
    let wxemu::core::Lookup::Live(issued) = issued else {
        panic!("{issued:?}");
    };
    assert_eq!(issued.appid, APPID);
    assert_eq!(issued.redirect_uri, REDIRECT);
    assert_eq!(server.emu.qr_confirm(&uuid), Err(QrError::AlreadyConfirmed));

    // The site's backend redeems it.
    let token = server
        .get(&format!(
            "/sns/oauth2/access_token?appid={APPID}&secret=x&code={code}&grant_type=authorization_code"
        ))
        .await
        .json();
    assert_eq!(token["openid"], wxemu::core::openid("default", APPID));
}

#[tokio::test]
async fn cancel_then_scan_again() {
    let server = quick().approval(ApprovalMode::Ask).start().await;
    let uuid = new_qr(&server).await;
    assert_eq!(server.emu.qr_cancel(&uuid), Err(QrError::NotScanned));
    assert_eq!(server.emu.qr_confirm(&uuid), Err(QrError::NotScanned));
    assert!(matches!(
        server.emu.qr_scan(&uuid, "nobody"),
        Err(QrError::UnknownAccount(_))
    ));
    server.emu.qr_scan(&uuid, "default").unwrap();
    assert_eq!(
        server.emu.qr_scan(&uuid, "default"),
        Err(QrError::AlreadyScanned)
    );
    server.emu.qr_cancel(&uuid).unwrap();
    assert_eq!(poll(&server, &uuid, Some(404)).await.0, 403);
    assert_eq!(poll(&server, &uuid, Some(403)).await.0, 408);
    server.emu.qr_scan(&uuid, "default").unwrap();
    assert_eq!(poll(&server, &uuid, Some(403)).await.0, 404);
}

#[tokio::test]
async fn a_held_poll_answers_as_soon_as_the_phone_acts() {
    // The hold is far longer than the test's bound: only a wake-up ends it.
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .options(|o| o.limits.long_poll_hold = Duration::from_secs(3600))
        .start()
        .await;
    let uuid = new_qr(&server).await;
    let bounded = |last| {
        let server = &server;
        let uuid = uuid.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(30), poll(server, &uuid, last))
                .await
                .expect("the poll is woken, not left to its hold")
        }
    };
    let held = bounded(Some(408));
    let act = async {
        wait_until_held(&server, &uuid).await;
        server.emu.qr_scan(&uuid, "default").unwrap();
    };
    let ((errcode, _), ()) = tokio::join!(held, act);
    assert_eq!(errcode, 404);

    // A cancel then a rescan while a last=404 poll is held is news.
    let held = bounded(Some(404));
    let act = async {
        wait_until_held(&server, &uuid).await;
        server.emu.qr_cancel(&uuid).unwrap();
    };
    let ((errcode, _), ()) = tokio::join!(held, act);
    assert_eq!(errcode, 403);

    // Advancing the emulated clock past the QR's lifetime ends a held poll.
    server.emu.qr_scan(&uuid, "default").unwrap();
    let held = bounded(Some(404));
    let act = async {
        wait_until_held(&server, &uuid).await;
        server.emu.advance_clock(Duration::from_secs(301)).unwrap();
    };
    let ((errcode, _), ()) = tokio::join!(held, act);
    assert_eq!(errcode, 402);
}

/// Waits until a long poll on `uuid` is held by the server.
async fn wait_until_held(server: &TestServer, uuid: &str) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while server.emu.qr_held_polls(uuid) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a long poll is held");
}

#[tokio::test]
async fn shutdown_answers_held_polls_at_once() {
    let server = TestServer::builder()
        .options(|o| o.limits.long_poll_hold = Duration::from_secs(3600))
        .approval(ApprovalMode::Ask)
        .start()
        .await;
    let uuid = new_qr(&server).await;
    // Connect before stopping: the listener closes at shutdown.
    let stream = server.connect().await;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let request = hyper::Request::builder()
        .uri(format!("/connect/l/qrconnect?uuid={uuid}&f=json"))
        .header("host", "localhost.weixin.qq.com")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let held = tokio::spawn(async move { read(sender.send_request(request).await.unwrap()).await });
    wait_until_held(&server, &uuid).await;
    server.stop().await;
    let reply = tokio::time::timeout(Duration::from_secs(30), held)
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(reply.json()["wx_errcode"], 408);
}

#[tokio::test]
async fn qr_codes_expire_on_the_emulated_clock() {
    let server = quick()
        .approval(ApprovalMode::Ask)
        .config(|c| c.platform.qr_ttl = Duration::from_secs(240))
        .start()
        .await;
    let uuid = new_qr(&server).await;
    server.emu.advance_clock(Duration::from_secs(239)).unwrap();
    assert_eq!(poll(&server, &uuid, None).await.0, 408);
    server.emu.advance_clock(Duration::from_secs(1)).unwrap();
    assert_eq!(poll(&server, &uuid, None).await.0, 402);
    assert_eq!(poll(&server, &uuid, Some(402)).await.0, 402);
    assert_eq!(server.emu.qr_scan(&uuid, "default"), Err(QrError::Expired));

    // Expiring on purpose (control API) works the same.
    let other = new_qr(&server).await;
    server.emu.qr_expire(&other).unwrap();
    assert_eq!(poll(&server, &other, None).await.0, 402);

    // Long after expiry the uuid is forgotten: 500, like an unknown one.
    server.emu.advance_clock(Duration::from_secs(3600)).unwrap();
    let purged = server.emu.purge();
    assert_eq!(purged, 2);
    assert_eq!(poll(&server, &uuid, None).await.0, 500);
}

#[tokio::test]
async fn unknown_uuid_is_500() {
    let server = quick().start().await;
    assert_eq!(
        poll(&server, "AAAAAAAAAAAAAAAA", None).await,
        (500, String::new())
    );
    let reply = server.get("/connect/l/qrconnect").await;
    assert_eq!(reply.text(), "window.wx_errcode=500;window.wx_code='';");
}

#[tokio::test]
async fn approve_auto_confirms_and_deny_cancels_qr_codes() {
    for (mode, outcome) in [(ApprovalMode::Auto, 405), (ApprovalMode::Deny, 403)] {
        let server = quick()
            .approval(mode)
            .config(|c| c.platform.auto_scan_delay = Duration::from_millis(20))
            .start()
            .await;
        let uuid = new_qr(&server).await;
        let statuses = poll_until_final(&server, &uuid).await;
        let (last, code) = statuses.last().unwrap();
        assert_eq!(*last, outcome, "{mode:?}: {statuses:?}");
        assert_eq!(code.is_empty(), outcome != 405, "{statuses:?}");
    }
}

/// Polls like the real page until 405, 403 or 402 (at most 50 polls).
async fn poll_until_final(server: &TestServer, uuid: &str) -> Vec<(u16, String)> {
    let mut seen = Vec::new();
    let mut last = None;
    for _ in 0..50 {
        let reply = poll(server, uuid, last).await;
        last = Some(reply.0);
        let done = matches!(reply.0, 405 | 403 | 402 | 500);
        seen.push(reply);
        if done {
            return seen;
        }
    }
    panic!("no final status: {seen:?}");
}

#[tokio::test]
async fn wxlogin_js_is_served_as_a_script() {
    let server = quick().start().await;
    let reply = server.get("/connect/zh_CN/htmledition/js/wxLogin.js").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    assert_eq!(reply.body, include_str!("../ui/connect/wxLogin.js"));
}

#[tokio::test]
async fn foreign_host_is_refused_on_the_page_too() {
    let server = quick().start().await;
    let request = hyper::Request::builder()
        .uri(page_url(APPID, REDIRECT, "s"))
        .header("host", "evil.example")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(server.send(request).await.status, StatusCode::FORBIDDEN);
    assert!(server.emu.qr_list().is_empty());
}

/// Auth.js sends a `state` of about 435 bytes (an encrypted cookie value):
/// permissive mode takes it on the page and in fast login, and flags it
/// (the page's note, the journal); past 2 KiB, or past 128 bytes in strict
/// mode, the page refuses it naming the field.
#[tokio::test]
async fn long_states_are_accepted_and_flagged_or_refused_in_strict_mode() {
    let server = quick().start().await;
    let long = "s".repeat(435);
    let page = server.get(&page_url(APPID, REDIRECT, &long)).await;
    let config = injected_config(&page.text());
    assert_eq!(config["state"], long.as_str());
    let warning = config["warnings"][0].as_str().unwrap().to_owned();
    assert!(
        warning.contains("435 bytes") && warning.contains("128"),
        "{warning}"
    );
    assert!(page.text().contains("wxemu_note"));
    let login = server.login(REDIRECT, &long).await;
    assert!(
        login.json()["jsdata"]["redirect_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("state={long}")),
        "{}",
        login.text()
    );
    let journal = server.ctl(hyper::Method::GET, "/journal", None).await;
    let flagged: Vec<&str> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["warnings"][0].as_str() == Some(warning.as_str()))
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["login-page", "check-login", "authorize"]);

    let too_long = server
        .get(&page_url(APPID, REDIRECT, &"s".repeat(2049)))
        .await;
    assert!(
        too_long.text().contains("state 参数错误"),
        "{}",
        too_long.text()
    );
    assert!(too_long.text().contains("state is 2049 bytes"));

    let strict = quick()
        .config(|c| c.platform.mode = PlatformMode::Strict)
        .app(WebsiteApp {
            appid: APPID.into(),
            callback_domains: vec!["site.example".into()],
            ..WebsiteApp::default()
        })
        .start()
        .await;
    let refused = strict
        .get(&page_url(APPID, REDIRECT, &"s".repeat(129)))
        .await;
    assert!(
        refused.text().contains("state 参数错误"),
        "{}",
        refused.text()
    );
    let fine = strict
        .get(&page_url(APPID, REDIRECT, &"s".repeat(128)))
        .await;
    assert!(injected_config(&fine.text())["warnings"]
        .as_array()
        .unwrap()
        .is_empty());
}
