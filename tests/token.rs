//! The token API over real TLS: every path and errcode, lifetimes on the
//! emulated clock, openid/unionid rules, strict vs permissive apps.

use crate::common;

use std::time::Duration;

use common::*;
use hyper::StatusCode;
use serde_json::{json, Value};
use wxemu::core::{openid, unionid};
use wxemu::core::{PlatformMode, WebsiteApp};
use wxemu::core::{QrStatus, QrTarget};

const SECRET: &str = "any-secret-works-in-permissive-mode";

/// A code from the fast-login flow (check-login + authorize).
async fn fast_login_code(server: &TestServer) -> String {
    let reply = server.login(REDIRECT, "st").await;
    let url = reply.json()["jsdata"]["redirect_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = url.split_once('?').unwrap().1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

/// A code from a QR login scanned and confirmed by `account`.
fn qr_code(server: &TestServer, appid: &str, account: &str) -> String {
    let qr = server.emu.qr_create(QrTarget {
        appid: appid.into(),
        scope: "snsapi_login".into(),
        redirect_uri: REDIRECT.into(),
        state: "st".into(),
    });
    server.emu.qr_scan(&qr.uuid, account).unwrap();
    match server.emu.qr_confirm(&qr.uuid).unwrap().status {
        QrStatus::Confirmed { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

async fn api(server: &TestServer, path: &str, params: &[(&str, &str)]) -> Value {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let reply = server.get(&format!("{path}?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "errors are HTTP 200 too");
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    reply.json()
}

async fn redeem(server: &TestServer, appid: &str, secret: &str, code: &str) -> Value {
    api(
        server,
        "/sns/oauth2/access_token",
        &[
            ("appid", appid),
            ("secret", secret),
            ("code", code),
            ("grant_type", "authorization_code"),
        ],
    )
    .await
}

async fn refresh(server: &TestServer, appid: &str, refresh_token: &str) -> Value {
    api(
        server,
        "/sns/oauth2/refresh_token",
        &[
            ("appid", appid),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn auth(server: &TestServer, token: &Value) -> Value {
    api(
        server,
        "/sns/auth",
        &[
            ("access_token", token["access_token"].as_str().unwrap()),
            ("openid", token["openid"].as_str().unwrap()),
        ],
    )
    .await
}

async fn userinfo(server: &TestServer, token: &Value, lang: Option<&str>) -> Value {
    let mut params = vec![
        ("access_token", token["access_token"].as_str().unwrap()),
        ("openid", token["openid"].as_str().unwrap()),
    ];
    if let Some(lang) = lang {
        params.push(("lang", lang));
    }
    api(server, "/sns/userinfo", &params).await
}

/// Asserts an error reply: the code, and the text with a rid suffix.
#[track_caller]
fn assert_error(reply: &Value, errcode: i64, text: &str) {
    assert_eq!(reply["errcode"], errcode, "{reply}");
    let errmsg = reply["errmsg"].as_str().unwrap();
    let rid = errmsg
        .strip_prefix(&format!("{text}, rid: "))
        .unwrap_or_else(|| panic!("{errmsg:?} is not {text:?} + rid"));
    let parts: Vec<&str> = rid.split('-').collect();
    assert_eq!(parts.len(), 3, "{rid}");
    assert!(
        parts
            .iter()
            .all(|p| p.len() == 8 && p.bytes().all(|b| b.is_ascii_hexdigit())),
        "{rid}"
    );
    assert_eq!(reply.as_object().unwrap().len(), 2, "{reply}");
}

#[tokio::test]
async fn codes_from_fast_login_and_qr_redeem_the_same_way() {
    let server = TestServer::start().await;
    for code in [
        fast_login_code(&server).await,
        qr_code(&server, APPID, "default"),
    ] {
        let token = redeem(&server, APPID, SECRET, &code).await;
        let fields: Vec<&String> = token.as_object().unwrap().keys().collect();
        assert_eq!(
            fields,
            [
                "access_token",
                "expires_in",
                "refresh_token",
                "openid",
                "scope",
                "unionid"
            ],
            "{token}"
        );
        assert!(token["access_token"].as_str().unwrap().len() >= 32);
        assert_eq!(token["expires_in"], json!(7200));
        assert!(token["refresh_token"].as_str().unwrap().len() >= 32);
        assert_eq!(token["openid"], openid("default", APPID));
        assert_eq!(token["scope"], "snsapi_login");
        assert_eq!(token["unionid"], unionid("default", APPID));
        assert_eq!(
            auth(&server, &token).await,
            json!({"errcode": 0, "errmsg": "ok"})
        );
    }
}

#[tokio::test]
async fn a_code_works_once_and_for_ten_minutes() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    assert!(redeem(&server, APPID, SECRET, &code).await["access_token"].is_string());
    assert_error(
        &redeem(&server, APPID, SECRET, &code).await,
        40163,
        "code been used",
    );

    let code = qr_code(&server, APPID, "default");
    server.emu.advance_clock(Duration::from_secs(599)).unwrap();
    let other = qr_code(&server, APPID, "default");
    server.emu.advance_clock(Duration::from_secs(1)).unwrap();
    assert_error(
        &redeem(&server, APPID, SECRET, &code).await,
        42003,
        "code expired",
    );
    assert!(redeem(&server, APPID, SECRET, &other).await["access_token"].is_string());

    assert_error(
        &redeem(&server, APPID, SECRET, "nonexistentcode").await,
        40029,
        "invalid code",
    );
    // Another app's code is invalid here and stays usable by its app.
    let code = qr_code(&server, APPID, "default");
    assert_error(
        &redeem(&server, "wxsomeoneelse", SECRET, &code).await,
        40029,
        "invalid code",
    );
    assert!(redeem(&server, APPID, SECRET, &code).await["access_token"].is_string());
}

#[tokio::test]
async fn missing_parameters_and_bad_grant_types() {
    let server = TestServer::start().await;
    let path = "/sns/oauth2/access_token";
    let full = [
        ("appid", APPID),
        ("secret", SECRET),
        ("code", "c"),
        ("grant_type", "authorization_code"),
    ];
    for (drop, errcode, text) in [
        ("appid", 41002, "appid missing"),
        ("secret", 41004, "appsecret missing"),
        ("code", 41008, "missing code"),
        ("grant_type", 40002, "invalid grant_type"),
    ] {
        let params: Vec<_> = full.iter().copied().filter(|(k, _)| *k != drop).collect();
        assert_error(&api(&server, path, &params).await, errcode, text);
        // An empty value is missing too.
        let params: Vec<_> = full
            .iter()
            .map(|&(k, v)| (k, if k == drop { "" } else { v }))
            .collect();
        assert_error(&api(&server, path, &params).await, errcode, text);
    }
    let mut wrong = full;
    wrong[3].1 = "client_credential";
    assert_error(
        &api(&server, path, &wrong).await,
        40002,
        "invalid grant_type",
    );

    let path = "/sns/oauth2/refresh_token";
    let full = [
        ("appid", APPID),
        ("grant_type", "refresh_token"),
        ("refresh_token", "r"),
    ];
    for (drop, errcode, text) in [
        ("appid", 41002, "appid missing"),
        ("refresh_token", 41003, "refresh_token missing"),
        ("grant_type", 40002, "invalid grant_type"),
    ] {
        let params: Vec<_> = full.iter().copied().filter(|(k, _)| *k != drop).collect();
        assert_error(&api(&server, path, &params).await, errcode, text);
    }

    for path in ["/sns/auth", "/sns/userinfo"] {
        let full = [("access_token", "t"), ("openid", "o")];
        assert_error(
            &api(&server, path, &full[1..]).await,
            41001,
            "access_token missing",
        );
        assert_error(
            &api(&server, path, &full[..1]).await,
            41009,
            "missing openid",
        );
        assert_error(
            &api(&server, path, &full).await,
            40014,
            "invalid access_token",
        );
    }
}

#[tokio::test]
async fn strict_mode_checks_appid_and_secret() {
    let server = TestServer::builder()
        .config(|c| {
            c.platform.mode = PlatformMode::Strict;
            c.apps.push(WebsiteApp {
                appid: APPID.into(),
                secret: "s3cret".into(),
                callback_domains: vec!["site.example".into()],
                ..WebsiteApp::default()
            });
        })
        .start()
        .await;
    let code = fast_login_code(&server).await;
    assert_error(
        &redeem(&server, "wxunknown", "s3cret", &code).await,
        40013,
        "invalid appid",
    );
    assert_error(
        &redeem(&server, APPID, "wrong", &code).await,
        40125,
        "invalid appsecret",
    );
    assert_error(
        &redeem(&server, APPID, "s3cre", &code).await,
        40125,
        "invalid appsecret",
    );
    // The failed attempts did not spend the code.
    let token = redeem(&server, APPID, "s3cret", &code).await;
    assert!(token["access_token"].is_string(), "{token}");
    assert_error(
        &refresh(
            &server,
            "wxunknown",
            token["refresh_token"].as_str().unwrap(),
        )
        .await,
        40013,
        "invalid appid",
    );

    // Fast login refuses unknown apps and foreign redirect hosts in strict mode.
    let unknown = server.check_login_for("wxunknown", REDIRECT, "s").await;
    assert_eq!(unknown.errcode(), 10010, "{}", unknown.text());
    let foreign = server
        .check_login_for(APPID, "https://evil.example/cb", "s")
        .await;
    assert_eq!(foreign.errcode(), 10011, "{}", foreign.text());
}

#[tokio::test]
async fn permissive_mode_checks_only_configured_secrets() {
    let server = TestServer::builder()
        .app(WebsiteApp {
            appid: "wxconfigured".into(),
            secret: "s3cret".into(),
            ..WebsiteApp::default()
        })
        .start()
        .await;
    let code = qr_code(&server, "wxconfigured", "default");
    assert_error(
        &redeem(&server, "wxconfigured", "wrong", &code).await,
        40125,
        "invalid appsecret",
    );
    assert!(redeem(&server, "wxconfigured", "s3cret", &code).await["openid"].is_string());
    let code = qr_code(&server, APPID, "default");
    assert!(redeem(&server, APPID, "whatever", &code).await["openid"].is_string());
}

#[tokio::test]
async fn refresh_extends_a_live_token_and_replaces_an_expired_one() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let token = redeem(&server, APPID, SECRET, &code).await;
    let refresh_token = token["refresh_token"].as_str().unwrap();

    // While the access_token lives, refreshing extends it (real behaviour).
    server.emu.advance_clock(Duration::from_secs(7000)).unwrap();
    let renewed = refresh(&server, APPID, refresh_token).await;
    assert_eq!(renewed["access_token"], token["access_token"]);
    assert_eq!(renewed["refresh_token"], token["refresh_token"]);
    assert_eq!(renewed["expires_in"], json!(7200));
    assert_eq!(renewed["openid"], token["openid"]);
    assert_eq!(renewed["scope"], "snsapi_login");
    assert_eq!(renewed["unionid"], token["unionid"]);
    server.emu.advance_clock(Duration::from_secs(7000)).unwrap();
    assert_eq!(
        auth(&server, &token).await["errcode"],
        0,
        "renewed to 14200 s"
    );

    // Expired after 2 h: 42001; refreshing then mints a new one.
    server.emu.advance_clock(Duration::from_secs(200)).unwrap();
    assert_error(&auth(&server, &token).await, 42001, "access_token expired");
    assert_error(
        &userinfo(&server, &token, None).await,
        42001,
        "access_token expired",
    );
    let fresh = refresh(&server, APPID, refresh_token).await;
    assert_ne!(fresh["access_token"], token["access_token"]);
    assert_eq!(fresh["refresh_token"], token["refresh_token"]);
    assert_eq!(auth(&server, &fresh).await["errcode"], 0);
    assert_error(&auth(&server, &token).await, 42001, "access_token expired");

    assert_error(
        &refresh(&server, APPID, "unknown").await,
        40030,
        "invalid refresh_token",
    );
    assert_error(
        &refresh(&server, "wxother", refresh_token).await,
        40030,
        "invalid refresh_token",
    );
    // 30 days after the code was redeemed the refresh_token is dead.
    // 14 200 s have passed so far.
    server
        .emu
        .advance_clock(Duration::from_secs(30 * 24 * 3600 - 14_200 - 1))
        .unwrap();
    assert!(refresh(&server, APPID, refresh_token).await["access_token"].is_string());
    server.emu.advance_clock(Duration::from_secs(1)).unwrap();
    assert_error(
        &refresh(&server, APPID, refresh_token).await,
        42002,
        "refresh_token expired",
    );
}

#[tokio::test]
async fn auth_checks_the_openid() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let token = redeem(&server, APPID, SECRET, &code).await;
    let mut wrong = token.clone();
    wrong["openid"] = json!(openid("default", "wxother"));
    assert_error(&auth(&server, &wrong).await, 40003, "invalid openid");
    assert_error(
        &userinfo(&server, &wrong, None).await,
        40003,
        "invalid openid",
    );
    let mut unknown = token.clone();
    unknown["access_token"] = json!("not-a-token");
    assert_error(
        &auth(&server, &unknown).await,
        40014,
        "invalid access_token",
    );
}

#[tokio::test]
async fn userinfo_answers_in_the_asked_language() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let token = redeem(&server, APPID, SECRET, &code).await;
    let info = userinfo(&server, &token, Some("zh_CN")).await;
    let avatar = format!(
        "https://localhost.weixin.qq.com:{}/avatar/default/132",
        server.addr.port()
    );
    assert_eq!(
        info,
        json!({
            "openid": token["openid"],
            "nickname": "微信测试用户",
            "sex": 1,
            "province": "广东",
            "city": "深圳",
            "country": "中国",
            "headimgurl": avatar,
            "privilege": [],
            "unionid": token["unionid"],
        })
    );
    // The real API's field order (some hand-written clients depend on it).
    let keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "openid",
            "nickname",
            "sex",
            "province",
            "city",
            "country",
            "headimgurl",
            "privilege",
            "unionid"
        ]
    );
    let tw = userinfo(&server, &token, Some("zh_TW")).await;
    assert_eq!(
        (&tw["province"], &tw["city"], &tw["country"]),
        (&json!("廣東"), &json!("深圳"), &json!("中國"))
    );
    for lang in [Some("en"), None] {
        let en = userinfo(&server, &token, lang).await;
        assert_eq!(
            (&en["province"], &en["city"], &en["country"]),
            (&json!("Guangdong"), &json!("Shenzhen"), &json!("CN"))
        );
    }
}

#[tokio::test]
async fn userinfo_needs_a_scope_that_allows_it() {
    let server = TestServer::start().await;
    // A silent web authorization (snsapi_base) mints such a code.
    let silent = server
        .get(&format!(
            "/connect/oauth2/authorize?appid={APPID}&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&response_type=code&scope=snsapi_base&state=s"
        ))
        .await;
    let location = silent.header("location").expect("a 302").to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let token = redeem(&server, APPID, SECRET, &code).await;
    assert_eq!(token["scope"], "snsapi_base");
    assert_eq!(auth(&server, &token).await["errcode"], 0);
    assert_error(
        &userinfo(&server, &token, None).await,
        48001,
        "api unauthorized",
    );
}

#[tokio::test]
async fn openid_per_app_unionid_per_owner() {
    let server = TestServer::builder()
        .config(|c| {
            for (appid, owner) in [("wxshop", "acme"), ("wxblog", "acme"), ("wxlone", "")] {
                c.apps.push(WebsiteApp {
                    appid: appid.into(),
                    owner: owner.into(),
                    ..WebsiteApp::default()
                });
            }
            add_account(c, "alice", "Alice");
        })
        .start()
        .await;
    let mut tokens = Vec::new();
    for (appid, account) in [
        ("wxshop", "default"),
        ("wxblog", "default"),
        ("wxlone", "default"),
        ("wxshop", "alice"),
        ("wxshop", "default"),
    ] {
        let code = qr_code(&server, appid, account);
        tokens.push(redeem(&server, appid, SECRET, &code).await);
    }
    let [shop, blog, lone, alice, shop_again] = &tokens[..] else {
        unreachable!()
    };
    assert_ne!(shop["openid"], blog["openid"], "openid is per app");
    assert_eq!(shop["unionid"], blog["unionid"], "unionid is per owner");
    assert_ne!(shop["unionid"], lone["unionid"]);
    assert_eq!(lone["unionid"], unionid("default", "wxlone"));
    assert_ne!(shop["openid"], alice["openid"], "openid is per person");
    assert_ne!(shop["unionid"], alice["unionid"]);
    assert_eq!(shop["openid"], shop_again["openid"], "stable");
    assert_eq!(userinfo(&server, alice, None).await["nickname"], "Alice");

    // The same on another server (another install, after a restart).
    let other = TestServer::builder()
        .app(WebsiteApp {
            appid: "wxshop".into(),
            owner: "acme".into(),
            ..WebsiteApp::default()
        })
        .start()
        .await;
    let code = qr_code(&other, "wxshop", "default");
    let again = redeem(&other, "wxshop", SECRET, &code).await;
    assert_eq!(again["openid"], shop["openid"]);
    assert_eq!(again["unionid"], shop["unionid"]);
}

#[tokio::test]
async fn browsers_elsewhere_cannot_read_tokens() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let request = hyper::Request::builder()
        .uri(format!(
            "/sns/oauth2/access_token?appid={APPID}&secret=x&code={code}&grant_type=authorization_code"
        ))
        .header("host", format!("localhost.weixin.qq.com:{}", server.addr.port()))
        .header("origin", "https://evil.example")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let reply = server.send(request).await;
    assert!(reply.header("access-control-allow-origin").is_none());
    assert!(reply.header("access-control-allow-credentials").is_none());
}

/// A token API call the way real integrations send it: `method`, the
/// query, a body with its Content-Type, and extra headers.
async fn call(
    server: &TestServer,
    path_and_query: &str,
    content_type: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut headers = vec![("content-type", content_type)];
    headers.extend_from_slice(extra);
    server
        .send_with(
            hyper::Method::POST,
            path_and_query,
            &headers,
            body.to_owned(),
        )
        .await
}

const FORM: &str = "application/x-www-form-urlencoded";

/// python-social-auth and django-allauth: `POST` with every parameter in
/// a form body. The reply is `text/plain` with no charset, so Python
/// requests decodes it as Latin-1 and their `raw_unicode_escape` fix gives
/// the nickname back exactly.
#[tokio::test]
async fn social_auth_posts_a_form() {
    let server = TestServer::builder()
        .config(|c| add_account(c, "zh", "微信测试用户😀"))
        .start()
        .await;
    assert!(server.emu.set_current_account("zh"));
    let code = fast_login_code(&server).await;
    let form = format!(
        "grant_type=authorization_code&code={code}&appid={APPID}&secret=s&redirect_uri=https%3A%2F%2Fsite.example%2Fcb"
    );
    let reply = call(&server, "/sns/oauth2/access_token", FORM, &form, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    let token = reply.json();
    assert_eq!(token["scope"], "snsapi_login", "{token}");
    let query = format!(
        "access_token={}&openid={}",
        token["access_token"].as_str().unwrap(),
        token["openid"].as_str().unwrap()
    );
    let info = call(&server, "/sns/userinfo", FORM, &query, &[]).await;
    assert_eq!(info.header("content-type"), Some("text/plain"));
    // What requests' `.json()` does with `text/plain` and no charset,
    // then the libraries' fix: Latin-1 back to bytes, bytes as UTF-8.
    let latin1: String = info.body.iter().map(|&b| b as char).collect();
    let seen: Value = serde_json::from_str(&latin1).unwrap();
    let fixed: Vec<u8> = seen["nickname"]
        .as_str()
        .unwrap()
        .chars()
        .map(|c| c as u8)
        .collect();
    assert_eq!(String::from_utf8(fixed).unwrap(), "微信测试用户😀");
    assert_eq!(info.json()["nickname"], "微信测试用户😀");
}

/// Auth.js: `appid` and `secret` in the query, the rest in a form body,
/// and a Basic Authorization header WeChat ignores.
#[tokio::test]
async fn auth_js_splits_query_and_form_and_sends_basic_auth() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let reply = call(
        &server,
        &format!("/sns/oauth2/access_token?appid={APPID}&secret=s"),
        FORM,
        &format!("grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fsite.example%2Fcb"),
        &[("authorization", "Basic d3gxMjM6cw==")],
    )
    .await;
    let token = reply.json();
    assert!(token["access_token"].is_string(), "{token}");
    assert!(
        token["unionid"].is_string(),
        "Auth.js keeps unionid as the user id"
    );
}

/// A JSON body works too; a body value wins over the query's, and the
/// journal keeps both.
#[tokio::test]
async fn json_bodies_and_the_body_winning_over_the_query() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let body =
        json!({"appid": APPID, "secret": "s", "code": code, "grant_type": "authorization_code"});
    let reply = call(
        &server,
        "/sns/oauth2/access_token?code=not-this-one&grant_type=nope",
        "application/json",
        &body.to_string(),
        &[],
    )
    .await;
    assert!(reply.json()["access_token"].is_string(), "{}", reply.text());
    let entry = server
        .ctl(hyper::Method::GET, "/journal?endpoint=token", None)
        .await;
    let last = entry["entries"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["query"].as_str().unwrap().contains("grant_type=nope"),
        "{last}"
    );
    assert!(last["body"].to_string().contains("grant_type"), "{last}");
}

/// Bodies the API cannot read get WeChat's 47001 naming what is wrong, and
/// no code is spent.
#[tokio::test]
async fn unreadable_bodies_are_refused_with_data_format_error() {
    let server = TestServer::start().await;
    let code = fast_login_code(&server).await;
    let query = format!(
        "/sns/oauth2/access_token?appid={APPID}&secret=s&code={code}&grant_type=authorization_code"
    );
    for (content_type, body, words) in [
        ("application/json", "[1,2]", "one object"),
        (
            "application/json",
            "{\"code\": {\"x\": 1}}",
            "\"code\" must be a string",
        ),
        ("application/json", "{not json", "one object"),
    ] {
        let reply = call(&server, &query, content_type, body, &[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        let json = reply.json();
        assert_eq!(json["errcode"], 47001, "{json}");
        assert!(json["errmsg"].as_str().unwrap().contains(words), "{json}");
    }
    let reply = server
        .send_with(
            hyper::Method::POST,
            &query,
            &[("content-type", FORM)],
            vec![0xff_u8, 0xfe, b'=', 0x80],
        )
        .await;
    assert!(reply.json()["errmsg"]
        .as_str()
        .unwrap()
        .contains("not UTF-8"));
    let huge = "a=".to_owned() + &"x".repeat(100 * 1024);
    let reply = call(&server, &query, FORM, &huge, &[]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["errcode"], 47001);
    // The code was never spent.
    let token = redeem(&server, APPID, "s", &code).await;
    assert!(token["access_token"].is_string(), "{token}");
}
