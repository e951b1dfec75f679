//! An injected errcode is the real thing: per endpoint, a fault's reply is
//! compared with a real error reply of the same endpoint, headers and body.
//!
//! What may differ, and only that:
//! - `date` (time) and `content-length` (follows the message);
//! - the message text (`errmsg`, or the error page's title and detail): a
//!   real error says what went wrong, an injected one says it was injected;
//! - the token API's `rid` (random per reply, in the same `, rid: ...` form).
//!
//! The long poll carries no message, so there injected and real replies
//! are byte for byte the same. The QR image has no errcode format of its
//! own; its injected errcodes are compared with the token API's errors,
//! whose format they borrow.

use crate::common;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

/// Every header but the two that may differ, in order.
fn headers(reply: &Reply) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = reply
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "content-length"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

/// The body with the string value of `"errmsg"` replaced by `MSG`,
/// byte for byte otherwise.
fn without_errmsg(body: &[u8]) -> String {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let key = "\"errmsg\":\"";
    let start = text.find(key).expect("an errmsg") + key.len();
    let end = start + text[start..].find('"').expect("closing quote");
    format!("{}MSG{}", &text[..start], &text[end..])
}

fn assert_same_but_text(injected: &Reply, real: &Reply, what: &str) {
    assert_eq!(injected.status, real.status, "{what}: status");
    assert_eq!(headers(injected), headers(real), "{what}: headers");
}

async fn inject(server: &TestServer, endpoint: &str, errcode: i64) {
    let reply = server
        .control(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": endpoint, "errcode": errcode, "once": true})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

#[tokio::test]
async fn check_login() {
    let server = TestServer::start().await;
    server
        .control(
            Method::PATCH,
            "/client",
            Some(json!({"state": "logged_out"})),
        )
        .await;
    let real = server.check_login().await;
    assert_eq!(real.errcode(), 10020, "{}", real.text());
    inject(&server, "check-login", 10020).await;
    let injected = server.check_login().await;
    assert_same_but_text(&injected, &real, "check-login");
    assert_eq!(without_errmsg(&injected.body), without_errmsg(&real.body));
    assert_eq!(injected.header("access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test]
async fn authorize() {
    let server = TestServer::start().await;
    let real = server.authorize("nosuchuuid", APPID, REDIRECT, "s").await;
    assert_eq!(real.errcode(), 10046, "{}", real.text());
    inject(&server, "authorize", 10046).await;
    let injected = server.authorize("nosuchuuid", APPID, REDIRECT, "s").await;
    assert_same_but_text(&injected, &real, "authorize");
    assert_eq!(without_errmsg(&injected.body), without_errmsg(&real.body));
}

#[tokio::test]
async fn long_poll_js_and_json() {
    let server = TestServer::start().await;
    for query in ["", "&f=json"] {
        let path = format!("/connect/l/qrconnect?uuid=0123456789abcdef&last=404{query}");
        // No QR login has this uuid: the real poll answers 500 at once.
        let real = server.get(&path).await;
        inject(&server, "long-poll", 500).await;
        let injected = server.get(&path).await;
        assert_same_but_text(&injected, &real, &path);
        assert_eq!(injected.body, real.body, "{path}: byte for byte");
        assert!(real.text().contains("500"), "{}", real.text());
    }
}

/// `text, rid: 8hex-8hex-8hex`: the text before the rid.
fn rid_text(errmsg: &str) -> &str {
    let (text, rid) = errmsg.rsplit_once(", rid: ").expect("a rid suffix");
    let parts: Vec<&str> = rid.split('-').collect();
    assert_eq!(parts.len(), 3, "{errmsg}");
    assert!(
        parts
            .iter()
            .all(|p| p.len() == 8 && p.bytes().all(|b| b.is_ascii_hexdigit())),
        "{errmsg}"
    );
    text
}

const BAD_CODE: &str =
    "/sns/oauth2/access_token?appid=wxa04304ceaedaf538&secret=s&code=nope&grant_type=authorization_code";

#[tokio::test]
async fn token_api() {
    let server = TestServer::start().await;
    let real = server.get(BAD_CODE).await;
    assert_eq!(real.errcode(), 40029, "{}", real.text());
    inject(&server, "token", 40029).await;
    let injected = server.get(BAD_CODE).await;
    assert_same_but_text(&injected, &real, "token");
    assert_eq!(without_errmsg(&injected.body), without_errmsg(&real.body));
    assert_eq!(
        rid_text(real.json()["errmsg"].as_str().unwrap()),
        "invalid code"
    );
    assert_eq!(
        rid_text(injected.json()["errmsg"].as_str().unwrap()),
        "wxemu injected errcode 40029"
    );
}

#[tokio::test]
async fn qrcode_borrows_the_token_api_format() {
    let server = TestServer::start().await;
    let real = server.get(BAD_CODE).await;
    inject(&server, "qrcode", 40029).await;
    let injected = server.get("/connect/qrcode/0123456789abcdef").await;
    assert_same_but_text(&injected, &real, "qrcode");
    assert_eq!(without_errmsg(&injected.body), without_errmsg(&real.body));
    rid_text(injected.json()["errmsg"].as_str().unwrap());
}

/// The error page with its title and detail texts taken out.
fn page_frame(body: &[u8]) -> String {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    for (open, close) in [
        ("<h4 class=\"weui-msg__title\">", "</h4>"),
        ("<p class=\"wxemu-detail\">", "</p>"),
    ] {
        let start = rest.find(open).expect(open) + open.len();
        let end = start + rest[start..].find(close).expect(close);
        out.push_str(&rest[..start]);
        out.push_str("TEXT");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn login_page() {
    let server = TestServer::start().await;
    // No appid: the real page's "AppID 参数错误".
    let real = server.get("/connect/qrconnect?scope=snsapi_login").await;
    assert!(real.text().contains("AppID"), "{}", real.text());
    inject(&server, "login-page", 40013).await;
    let injected = server.get("/connect/qrconnect?scope=snsapi_login").await;
    assert_same_but_text(&injected, &real, "login-page");
    assert_eq!(page_frame(&injected.body), page_frame(&real.body));
    assert!(injected.text().contains("40013"), "{}", injected.text());

    let journal = server
        .ctl(Method::GET, "/journal?endpoint=login-page", None)
        .await;
    let entries: Vec<Value> = journal["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["errcode"], 40013);
    assert_eq!(entries[1]["fault"], "errcode 40013");
}

#[tokio::test]
async fn web_authorization_page() {
    let server = TestServer::start().await;
    // No appid: WeChat's "appid不能为空" page.
    let path = "/connect/oauth2/authorize?scope=snsapi_base&response_type=code";
    let real = server.get(path).await;
    assert!(real.text().contains("10012"), "{}", real.text());
    inject(&server, "oauth2-authorize", 10003).await;
    let injected = server.get(path).await;
    assert_same_but_text(&injected, &real, "oauth2-authorize");
    assert_eq!(page_frame(&injected.body), page_frame(&real.body));
    assert!(injected.text().contains("10003"), "{}", injected.text());
}

#[tokio::test]
async fn cgi_bin_api() {
    let server = TestServer::start().await;
    let path = "/cgi-bin/token?grant_type=client_credential&appid=wx1";
    let real = server.get(path).await;
    assert_eq!(real.errcode(), 41004, "{}", real.text());
    inject(&server, "cgi-bin", 45009).await;
    let injected = server.get(path).await;
    assert_same_but_text(&injected, &real, "cgi-bin");
    assert_eq!(
        without_errmsg(&injected.body).replace("45009", "N"),
        without_errmsg(&real.body).replace("41004", "N")
    );
}
