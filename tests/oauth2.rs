//! Web authorization inside WeChat's browser (`connect/oauth2/authorize`)
//! over real TLS: both scopes, allow, deny, the consent page and its
//! buttons racing the other decision sources, outside WeChat, domain
//! mismatch, error pages, code expiry, and what the token API answers for
//! these codes (scope, unionid, snapshot, the private profile).

use crate::common;

use std::time::Duration;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use wxemu::core::ApprovalMode;
use wxemu::core::{AppKind, PlatformMode, WebsiteApp};

const OA: &str = "wx0a0a0a0a0a0a0a0a";
const CALLBACK: &str = "https://h5.example/cb?from=menu";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";

fn official_account() -> WebsiteApp {
    WebsiteApp {
        appid: OA.into(),
        kind: AppKind::OfficialAccount,
        name: "咖啡公众号".into(),
        secret: "oa-secret".into(),
        owner: "acme".into(),
        oauth_domains: vec!["h5.example".into()],
        ..WebsiteApp::default()
    }
}

fn authorize_url(appid: &str, redirect: &str, scope: &str, state: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope={}&state={}",
        enc(appid),
        enc(redirect),
        enc(scope),
        enc(state)
    )
}

/// GET the authorize URL as WeChat's browser (or another, `ua`).
async fn open(server: &TestServer, url: &str, ua: &str) -> Reply {
    server
        .send_with(Method::GET, url, &[("user-agent", ua)], "")
        .await
}

/// The `code` and `state` of a 302's Location (None where absent).
fn code_and_state(reply: &Reply) -> (Option<String>, Option<String>) {
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let location = reply.header("location").unwrap();
    assert!(
        location.starts_with("https://h5.example/cb?from=menu&"),
        "{location}"
    );
    let query = location.split_once('?').unwrap().1;
    let find = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    (find("code"), find("state"))
}

async fn token_for(server: &TestServer, code: &str) -> Value {
    server
        .get(&format!(
            "/sns/oauth2/access_token?appid={OA}&secret=oa-secret&code={code}&grant_type=authorization_code"
        ))
        .await
        .json()
}

async fn userinfo(server: &TestServer, token: &Value) -> Value {
    server
        .get(&format!(
            "/sns/userinfo?access_token={}&openid={}&lang=zh_CN",
            token["access_token"].as_str().unwrap(),
            token["openid"].as_str().unwrap()
        ))
        .await
        .json()
}

#[tokio::test]
async fn snsapi_base_is_silent_and_its_token_has_no_unionid() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Never)
        .app(official_account())
        .start()
        .await;
    let reply = open(
        &server,
        &authorize_url(OA, CALLBACK, "snsapi_base", "s1"),
        IPHONE,
    )
    .await;
    let (code, state) = code_and_state(&reply);
    assert_eq!(state.as_deref(), Some("s1"));
    let token = token_for(&server, &code.unwrap()).await;
    assert_eq!(token["scope"], "snsapi_base", "{token}");
    assert!(token.get("unionid").is_none(), "{token}");
    assert!(token.get("is_snapshotuser").is_none(), "{token}");
    assert_eq!(userinfo(&server, &token).await["errcode"], 48001);
}

#[tokio::test]
async fn snsapi_userinfo_follows_the_policy_and_its_profile_is_private() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Auto)
        .config(|c| add_account(c, "zh", "微信用户😀"))
        .app(official_account())
        .start()
        .await;
    assert!(server.emu.set_current_account("zh"));
    let reply = open(
        &server,
        &authorize_url(OA, CALLBACK, "snsapi_userinfo", "st"),
        IPHONE,
    )
    .await;
    let (code, state) = code_and_state(&reply);
    assert_eq!(state.as_deref(), Some("st"));
    let code = code.unwrap();
    let token = token_for(&server, &code).await;
    assert_eq!(token["scope"], "snsapi_userinfo");
    assert!(token["unionid"].is_string(), "{token}");
    let info = userinfo(&server, &token).await;
    assert_eq!(info["nickname"], "微信用户😀");
    assert_eq!(
        (
            info["sex"].clone(),
            info["province"].clone(),
            info["city"].clone()
        ),
        (json!(0), json!(""), json!(""))
    );
    // The full profile, switched on through the control API.
    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"full_profile": true})),
        )
        .await;
    assert_eq!(userinfo(&server, &token).await["province"], "广东");
    // Single use: the second trade (WeChat's re-issued callback) gets 40163.
    assert_eq!(token_for(&server, &code).await["errcode"], 40163);

    // Deny: back to the site with state and no code.
    server
        .ctl(Method::PUT, "/policy", Some(json!({"policy": "deny"})))
        .await;
    let denied = open(
        &server,
        &authorize_url(OA, CALLBACK, "snsapi_userinfo", "st2"),
        IPHONE,
    )
    .await;
    assert_eq!(code_and_state(&denied), (None, Some("st2".into())));
    // A queued decision wins over the policy.
    server
        .ctl(
            Method::POST,
            "/decisions",
            Some(json!({"decision": "allow"})),
        )
        .await;
    let queued = open(
        &server,
        &authorize_url(OA, CALLBACK, "snsapi_userinfo", "st3"),
        IPHONE,
    )
    .await;
    assert!(code_and_state(&queued).0.is_some());
    let journal = server
        .ctl(Method::GET, "/journal?endpoint=oauth2-authorize", None)
        .await;
    let decisions: Vec<&str> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(decisions, ["allowed", "denied", "allowed"]);
}

/// The consent page (policy `ask`): its Allow answers its held wait; its
/// Deny too; the control API can answer first; a call without an Origin
/// cannot tap.
#[tokio::test]
async fn the_consent_page_and_the_other_decision_sources() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .app(official_account())
        .start()
        .await;
    let origin = format!("https://localhost.weixin.qq.com:{}", server.addr.port());
    for (decision, via_control) in [("allow", false), ("deny", false), ("allow", true)] {
        let page = open(
            &server,
            &authorize_url(OA, CALLBACK, "snsapi_userinfo", "c"),
            IPHONE,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let text = page.text();
        assert!(text.contains("允许") && text.contains("拒绝"));
        let ticket = text
            .split("\"ticket\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let body = json!({"ticket": ticket}).to_string();
        let wait = {
            let server_client = server.client.clone();
            let origin = origin.clone();
            tokio::spawn(async move {
                server_client
                    .post("/connect/oauth2/consent/wait", Some(&origin), body)
                    .await
            })
        };
        // Wait until the request is pending for every decision source.
        let pending = loop {
            let list = server.ctl(Method::GET, "/authorizations", None).await;
            if let Some(first) = list.as_array().and_then(|l| l.first()).cloned() {
                break first;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(pending["appid"], OA);
        if via_control {
            server
                .ctl(
                    Method::POST,
                    &format!("/authorizations/{}", pending["id"]),
                    Some(json!({"decision": decision})),
                )
                .await;
        } else {
            let tap = json!({"ticket": ticket, "decision": decision}).to_string();
            let no_origin = server
                .post("/connect/oauth2/consent/answer", None, tap.clone())
                .await;
            assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
            let foreign = server
                .post(
                    "/connect/oauth2/consent/answer",
                    Some("https://evil.example"),
                    tap.clone(),
                )
                .await;
            assert_eq!(foreign.status, StatusCode::FORBIDDEN);
            let tapped = server
                .post("/connect/oauth2/consent/answer", Some(&origin), tap)
                .await;
            assert_eq!(tapped.json()["errcode"], 0, "{}", tapped.text());
        }
        let done = wait.await.unwrap().json();
        assert_eq!(done["errcode"], 0, "{done}");
        let url = done["redirect_url"].as_str().unwrap();
        assert_eq!(url.contains("code="), decision == "allow", "{url}");
        assert!(url.contains("state=c"));
        // The ticket is spent.
        let again = server
            .post(
                "/connect/oauth2/consent/wait",
                Some(&origin),
                json!({"ticket": ticket}).to_string(),
            )
            .await;
        assert_ne!(again.json()["errcode"], 0);
    }
}

#[tokio::test]
async fn error_pages_as_wechat_shows_them_and_nothing_is_issued() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Auto)
        .app(official_account())
        .start()
        .await;
    for (url, words) in [
        (
            authorize_url(OA, "https://other.example/cb", "snsapi_base", "s"),
            "10003",
        ),
        (
            authorize_url(OA, "https://sub.h5.example/cb", "snsapi_base", "s"),
            "10003",
        ),
        (authorize_url(OA, CALLBACK, "snsapi_login", "s"), "10005"),
        (
            authorize_url(OA, CALLBACK, "snsapi_base,snsapi_fly", "s"),
            "snsapi_fly",
        ),
        (authorize_url(OA, CALLBACK, "", "s"), "10010"),
        (authorize_url("", CALLBACK, "snsapi_base", "s"), "10012"),
        (authorize_url(OA, "", "snsapi_base", "s"), "10011"),
        (
            authorize_url(OA, "https://h5.example/cb#top", "snsapi_base", "s"),
            "fragment",
        ),
        (
            authorize_url(OA, "javascript:alert(1)", "snsapi_base", "s"),
            "redirect_uri",
        ),
        (
            authorize_url(OA, CALLBACK, "snsapi_base", &"s".repeat(129)),
            "state is 129 bytes",
        ),
        (
            authorize_url(OA, CALLBACK, "snsapi_base", "s")
                .replace("response_type=code", "response_type=token"),
            "response_type",
        ),
        (
            authorize_url("wx!bad", CALLBACK, "snsapi_base", "s"),
            "appid",
        ),
    ] {
        let reply = open(&server, &url, IPHONE).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(reply.text().contains(words), "{url}: {}", reply.text());
    }
    assert!(
        server.emu.stored_counts().codes == 0,
        "no code for a refused request"
    );
}

/// Outside WeChat and with a port: strict mode refuses as WeChat does;
/// permissive mode goes on and says so (the journal, the consent page).
#[tokio::test]
async fn outside_wechat_and_ports_strict_refuses_permissive_warns() {
    let strict = TestServer::builder()
        .approval(ApprovalMode::Auto)
        .config(|c| c.platform.mode = PlatformMode::Strict)
        .app(official_account())
        .start()
        .await;
    let chrome = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36";
    let outside = open(
        &strict,
        &authorize_url(OA, CALLBACK, "snsapi_base", "s"),
        chrome,
    )
    .await;
    assert!(
        outside.text().contains("请在微信客户端打开链接"),
        "{}",
        outside.text()
    );
    let port = open(
        &strict,
        &authorize_url(OA, "https://h5.example:8443/cb", "snsapi_base", "s"),
        IPHONE,
    )
    .await;
    assert!(port.text().contains("10003"), "{}", port.text());
    let website = WebsiteApp {
        appid: "wxwebsite".into(),
        ..WebsiteApp::default()
    };
    strict.emu.add_app(website).unwrap();
    let wrong_kind = open(
        &strict,
        &authorize_url("wxwebsite", CALLBACK, "snsapi_base", "s"),
        IPHONE,
    )
    .await;
    assert!(wrong_kind.text().contains("10016"), "{}", wrong_kind.text());

    let permissive = TestServer::builder()
        .approval(ApprovalMode::Ask)
        .app(official_account())
        .start()
        .await;
    let page = open(
        &permissive,
        &authorize_url(OA, "http://h5.example:5173/cb", "snsapi_userinfo", "s"),
        chrome,
    )
    .await;
    let text = page.text();
    assert!(
        text.contains("MicroMessenger") && text.contains("5173"),
        "{text}"
    );
    let journal = permissive.ctl(Method::GET, "/journal", None).await;
    let warnings = &journal["entries"][0]["warnings"];
    assert_eq!(warnings.as_array().map(Vec::len), Some(2), "{journal}");
    // An unknown appid is registered as an Official Account by this endpoint.
    let fresh = open(
        &permissive,
        &authorize_url("wxfresh", CALLBACK, "snsapi_base", "s"),
        IPHONE,
    )
    .await;
    assert_eq!(fresh.status, StatusCode::FOUND);
    let registered = permissive.emu.registered_apps();
    assert_eq!(registered[0].kind, AppKind::OfficialAccount);
}

/// Codes of this flow live 5 minutes (the website's 10); snapshot mode
/// marks the token and closes userinfo.
#[tokio::test]
async fn codes_live_five_minutes_and_snapshot_users_are_marked() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Auto)
        .app(official_account())
        .start()
        .await;
    let url = authorize_url(OA, CALLBACK, "snsapi_userinfo", "s");
    let code = code_and_state(&open(&server, &url, IPHONE).await)
        .0
        .unwrap();
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "301s"})))
        .await;
    assert_eq!(token_for(&server, &code).await["errcode"], 42003);

    server
        .ctl(
            Method::PATCH,
            "/client",
            Some(json!({"snapshot_user": true})),
        )
        .await;
    let code = code_and_state(&open(&server, &url, IPHONE).await)
        .0
        .unwrap();
    let token = token_for(&server, &code).await;
    assert_eq!(token["is_snapshotuser"], 1, "{token}");
    assert_eq!(userinfo(&server, &token).await["errcode"], 48001);
}
