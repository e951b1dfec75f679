//! The JS-SDK over real TLS: cgi-bin/token (a new one retires the old),
//! the stable token, tickets that outlive their token, wx.config's check
//! (signature, domain, fields) with its diagnosis, outcomes, faults in the
//! cgi-bin format, and the bridge script.

use crate::common;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use wxemu::core::signature;
use wxemu::core::{AppKind, PlatformMode, WebsiteApp};

const OA: &str = "wx0a0a0a0a0a0a0c0c";
const SECRET: &str = "oa-secret";
const PAGE: &str = "https://h5.example/shop/index.html?from=menu";

fn app() -> WebsiteApp {
    WebsiteApp {
        appid: OA.into(),
        kind: AppKind::OfficialAccount,
        secret: SECRET.into(),
        js_domains: vec!["h5.example".into()],
        ..WebsiteApp::default()
    }
}

/// `cgi-bin/token` for the app, checked to be labelled as cgi-bin labels.
async fn token_reply(server: &TestServer) -> Reply {
    let reply = server
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={OA}&secret={SECRET}"
        ))
        .await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; encoding=utf-8")
    );
    reply
}

async fn token(server: &TestServer) -> Value {
    token_reply(server).await.json()
}

async fn ticket(server: &TestServer, access_token: &str) -> Value {
    server
        .get(&format!(
            "/cgi-bin/ticket/getticket?access_token={access_token}&type=jsapi"
        ))
        .await
        .json()
}

async fn verify(server: &TestServer, body: Value) -> Value {
    let reply = server
        .send_with(
            Method::POST,
            "/h5/verify",
            &[
                ("origin", "https://h5.example"),
                ("content-type", "text/plain;charset=UTF-8"),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    reply.json()
}

fn config(ticket: &str, url: &str, signed_url: &str) -> Value {
    json!({
        "appId": OA, "url": url, "href": format!("{url}#/cart"), "landing_url": url,
        "timestamp": 1700000000, "nonceStr": "n0nce",
        "signature": signature(ticket, "n0nce", "1700000000", signed_url),
        "jsApiList": ["chooseWXPay", "updateAppMessageShareData"],
    })
}

#[tokio::test]
async fn tokens_retire_tickets_outlive_them_and_config_verifies() {
    let server = TestServer::builder().app(app()).start().await;
    let first = token(&server).await;
    assert_eq!(first["expires_in"], 7200);
    let first = first["access_token"].as_str().unwrap().to_owned();
    let t1 = ticket(&server, &first).await;
    assert_eq!(
        (t1["errcode"].clone(), t1["expires_in"].clone()),
        (json!(0), json!(7200))
    );
    let t1 = t1["ticket"].as_str().unwrap().to_owned();

    // A second cgi-bin/token retires the first: 40001 with it.
    let second = token(&server).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    assert_eq!(ticket(&server, &first).await["errcode"], 40001);
    // The ticket lives on: the same one while live, and it still verifies.
    assert_eq!(ticket(&server, &second).await["ticket"], t1.as_str());
    let ok = verify(&server, config(&t1, PAGE, PAGE)).await;
    assert_eq!(ok["err_msg"], "pre_verify_jsapi:ok", "{ok}");
    let pages = server.ctl(Method::GET, "/h5/pages", None).await;
    assert_eq!(pages["pages"][0]["url"], PAGE);

    // Signed with the fragment: the diagnosis names it and shows the string.
    let bad = verify(&server, config(&t1, PAGE, &format!("{PAGE}#/cart"))).await;
    assert_eq!(bad["err_msg"], "pre_verify_jsapi:fail_invalid signature");
    let why = &bad["wxemu"];
    assert!(
        why["cause"].as_str().unwrap().contains("#fragment"),
        "{why}"
    );
    assert_eq!(
        why["expected_string"],
        format!("jsapi_ticket={t1}&noncestr=n0nce&timestamp=1700000000&url={PAGE}")
    );
    let encoded: String = url::form_urlencoded::byte_serialize(PAGE.as_bytes()).collect();
    let bad = verify(&server, config(&t1, PAGE, &encoded)).await;
    assert!(
        bad["wxemu"]["cause"]
            .as_str()
            .unwrap()
            .contains("percent-encoded"),
        "{bad}"
    );
    // The journal keeps the explanation.
    let journal = server.ctl(Method::GET, "/journal?endpoint=h5", None).await;
    let last = journal["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(
        last["warnings"].to_string().contains("string to sign"),
        "{last}"
    );

    // Another page host: invalid url domain; a subdomain is fine.
    let foreign = verify(
        &server,
        config(&t1, "https://evil.example/", "https://evil.example/"),
    )
    .await;
    assert_eq!(
        foreign["err_msg"],
        "pre_verify_jsapi:fail_invalid url domain"
    );
    let sub = "https://m.h5.example/a";
    assert_eq!(
        verify(&server, config(&t1, sub, sub)).await["err_msg"],
        "pre_verify_jsapi:ok"
    );
}

#[tokio::test]
async fn stable_tokens_and_errors_in_the_cgi_format() {
    let server = TestServer::builder()
        .app(app())
        .config(|c| c.platform.mode = PlatformMode::Strict)
        .start()
        .await;
    let stable = |force: bool| {
        let body = json!({"grant_type": "client_credential", "appid": OA, "secret": SECRET, "force_refresh": force}).to_string();
        let server = &server;
        async move {
            server
                .send_with(
                    Method::POST,
                    "/cgi-bin/stable_token",
                    &[("content-type", "application/json")],
                    body,
                )
                .await
                .json()
        }
    };
    let a = stable(false).await;
    let b = stable(false).await;
    assert_eq!(a["access_token"], b["access_token"], "the same while valid");
    let c = stable(true).await;
    assert_ne!(a["access_token"], c["access_token"]);
    // Separate from cgi-bin/token: a cgi-bin/token does not retire it.
    token(&server).await;
    let t = ticket(&server, a["access_token"].as_str().unwrap()).await;
    assert_eq!(t["errcode"], 0, "{t}");

    for (query, errcode) in [
        (
            format!("grant_type=client_credential&appid={OA}&secret=wrong"),
            40125,
        ),
        (
            "grant_type=client_credential&appid=wxnobody&secret=x".to_owned(),
            40013,
        ),
        (
            format!("grant_type=password&appid={OA}&secret={SECRET}"),
            40002,
        ),
        (
            format!("grant_type=client_credential&secret={SECRET}"),
            41002,
        ),
    ] {
        let reply = server.get(&format!("/cgi-bin/token?{query}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["errcode"], errcode, "{query}");
        assert!(reply.json()["errmsg"].as_str().unwrap().contains("rid: "));
    }
    // WeChat's other errcodes, by fault: byte-for-byte the cgi-bin format.
    for code in [40164, 45009, -1] {
        server
            .ctl(
                Method::POST,
                "/faults",
                Some(json!({"endpoint": "cgi-bin", "errcode": code, "times": 1})),
            )
            .await;
        assert_eq!(token_reply(&server).await.json()["errcode"], code);
    }
}

#[tokio::test]
async fn outcomes_answer_the_next_calls_and_junk_is_refused() {
    let server = TestServer::builder().app(app()).start().await;
    server
        .ctl(
            Method::POST,
            "/h5/outcomes",
            Some(json!({"api": "chooseWXPay", "result": "cancel", "times": 2})),
        )
        .await;
    let call = |api: &'static str| {
        let server = &server;
        async move {
            server
                .post(
                    "/h5/call",
                    Some("https://h5.example"),
                    json!({"appId": OA, "api": api, "args": {"package": "prepay_id=wx1"}})
                        .to_string(),
                )
                .await
                .json()
        }
    };
    assert_eq!(call("chooseWXPay").await["result"], "cancel");
    assert_eq!(call("chooseWXPay").await["result"], "cancel");
    assert_eq!(call("chooseWXPay").await["result"], "ok");
    assert_eq!(
        call("scanQRCode").await["data"]["resultStr"],
        "https://weixin.qq.com/r/wxemu-scan"
    );
    for bad in [
        json!({"api": "", "result": "ok"}),
        json!({"api": "x", "result": "maybe"}),
        json!({"api": "x", "result": "ok", "times": 0}),
        json!({"api": "x", "result": "ok", "data": [1]}),
    ] {
        let reply = server
            .control(Method::POST, "/h5/outcomes", Some(bad.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    for body in [
        json!({"appId": OA, "timestamp": "soon", "nonceStr": "n", "signature": "0".repeat(40), "url": PAGE}),
        json!({"appId": OA, "timestamp": 1, "nonceStr": "n", "signature": "abc", "url": PAGE}),
        json!({"appId": OA, "timestamp": 1, "nonceStr": "n", "signature": "0".repeat(40), "url": format!("{PAGE}{}", "x".repeat(5000))}),
    ] {
        let reply = verify(&server, body.clone()).await;
        assert!(
            reply["err_msg"]
                .as_str()
                .unwrap()
                .starts_with("pre_verify_jsapi:fail_"),
            "{reply}"
        );
        assert!(reply["wxemu"]["reason"].is_string(), "{reply}");
    }
    let script = server.get("/h5/bridge.js?os=android").await;
    assert_eq!(
        script.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    let text = script.text();
    assert!(text.contains("WeixinJSBridgeReady") && text.contains("MicroMessenger/8.0.49.2600"));
    assert!(!text.contains("WXEMU_CONFIG"));
}

/// A page verifying in a loop stores nothing unbounded: the verified pages
/// keep the newest 50, each failure only a journal entry (itself bounded).
#[tokio::test]
async fn a_burst_of_verifications_is_bounded() {
    let server = TestServer::builder().app(app()).start().await;
    let access = token(&server).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = ticket(&server, &access).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..120 {
        let page = format!("https://h5.example/p{n}");
        let reply = verify(&server, config(&t, &page, &page)).await;
        assert_eq!(reply["err_msg"], "pre_verify_jsapi:ok", "{reply}");
    }
    let pages = server.ctl(Method::GET, "/h5/pages", None).await;
    let pages = pages["pages"].as_array().unwrap();
    assert_eq!(pages.len(), wxemu::core::MAX_PAGES);
    assert_eq!(pages.last().unwrap()["url"], "https://h5.example/p119");
}
