//! The built-in demo site (`/demo/`) over real TLS: its pages, the login's
//! state in a Secure session cookie, the callback's checks (state, single
//! use, refused logins), the in-process code trade and the profile. The
//! browser walks the same loop in tests/browser/demo.test.js.

use crate::common;

use hyper::{Method, StatusCode};
use serde_json::Value;
use wxemu::registry;
use wxemu::DEMO_APPID as APPID;

use common::TestServer;

/// `name=value` of the reply's session cookie, checking its attributes.
fn session_cookie(reply: &common::Reply) -> String {
    let set = reply.header("set-cookie").expect("a session cookie");
    for attribute in ["Path=/demo", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    set.split(';').next().unwrap().to_owned()
}

async fn get(server: &TestServer, path: &str, cookie: Option<&str>) -> common::Reply {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    server
        .send_with(Method::GET, path, &headers, bytes::Bytes::new())
        .await
}

/// Starts a login at /demo/login; returns the session cookie, the state and
/// the redirect_uri the login page was given.
async fn start_login(server: &TestServer, cookie: Option<&str>) -> (String, String, String) {
    let reply = get(server, "/demo/login", cookie).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let cookie = session_cookie(&reply);
    let location = reply.header("location").unwrap();
    let port = server.addr.port();
    let url = url::Url::parse(location).unwrap();
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        format!(
            "https://localhost.weixin.qq.com:{port}{}",
            registry::LOGIN_PAGE.path
        )
    );
    assert_eq!(url.fragment(), Some("wechat_redirect"));
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {location}"))
    };
    assert_eq!(param("appid"), APPID);
    assert_eq!(param("scope"), "snsapi_login");
    let redirect = param("redirect_uri");
    assert_eq!(
        redirect,
        format!("https://localhost.weixin.qq.com:{port}/demo/callback")
    );
    (cookie, param("state"), redirect)
}

/// The login page's fast login, allowed: the code the site receives.
async fn code_for(server: &TestServer, redirect: &str, state: &str) -> String {
    let origin = format!("https://localhost.weixin.qq.com:{}", server.addr.port());
    let check = server
        .post(
            "/api/check-login",
            Some(&origin),
            serde_json::json!({"apiname": "qrconnectchecklogin",
                "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": redirect, "state": state}})
            .to_string(),
        )
        .await;
    assert_eq!(check.errcode(), 0, "{}", check.text());
    let uuid = check.json()["jsdata"]["authorize_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = serde_json::json!({"apiname": "qrconnectfastauthorize",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": redirect, "state": state,
            "authorize_uuid": uuid, "data": "{\"x\":1,\"y\":1}"}});
    let reply = server
        .post("/api/authorize", Some(&origin), body.to_string())
        .await;
    assert_eq!(reply.errcode(), 0, "{}", reply.text());
    let url = url::Url::parse(reply.json()["jsdata"]["redirect_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        url.query_pairs().find(|(k, _)| k == "state").unwrap().1,
        state
    );
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn the_whole_loop_state_checked_code_traded_once_profile_shown() {
    let server = TestServer::start().await;
    let home = get(&server, "/demo/", None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(home.text().contains("data-page=\"home\""));
    let moved = get(&server, "/demo", None).await;
    assert_eq!(moved.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.header("location"), Some("/demo/"));

    let (cookie, state, redirect) = start_login(&server, None).await;
    assert_eq!(
        get(&server, "/demo/api/me", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let code = code_for(&server, &redirect, &state).await;
    let callback = format!("/demo/callback?code={code}&state={state}");

    // Someone else's browser (no session) cannot use the code.
    let stranger = get(&server, &callback, None).await;
    assert_eq!(stranger.status, StatusCode::BAD_REQUEST);
    assert!(stranger.text().contains("state mismatch"));

    let done = get(&server, &callback, Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(done.header("location"), Some("profile.html"));
    let me = get(&server, "/demo/api/me", Some(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    let me: Value = me.json();
    assert_eq!(me["nickname"], "微信测试用户");
    assert_eq!(me["scope"], "snsapi_login");
    assert!(me["openid"].as_str().unwrap().len() >= 8);
    assert!(me["headimgurl"]
        .as_str()
        .unwrap()
        .contains(&format!(":{}/avatar/", server.addr.port())));

    // The state is single use: the same callback again is refused.
    let again = get(&server, &callback, Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // A fresh state with an already used code: the trade fails (40163).
    let (_, state2, _) = start_login(&server, Some(&cookie)).await;
    let replay = get(
        &server,
        &format!("/demo/callback?code={code}&state={state2}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(replay.status, StatusCode::BAD_GATEWAY);
    assert!(replay.text().contains("40163"), "{}", replay.text());

    // Log out forgets the session.
    let out = server
        .send_with(
            Method::POST,
            "/demo/logout",
            &[("cookie", &cookie)],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&server, "/demo/api/me", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn embedded_options_pages_and_wrong_requests() {
    let server = TestServer::start().await;
    let reply = get(&server, "/demo/api/login-options?self_redirect=true", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let cookie = session_cookie(&reply);
    assert!(!cookie.is_empty());
    let options: Value = reply.json();
    assert_eq!(options["appid"], APPID);
    assert_eq!(options["self_redirect"], true);
    assert_eq!(options["wxlogin_js"], registry::WXLOGIN_JS.path);
    assert_eq!(options["state"].as_str().unwrap().len(), 24);

    for (path, kind) in [
        ("/demo/embedded.html", "text/html"),
        ("/demo/profile.html", "text/html"),
        ("/demo/demo.css", "text/css"),
        ("/demo/demo.js", "application/javascript"),
    ] {
        let page = get(&server, path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.header("content-type").unwrap().starts_with(kind));
    }
    assert_eq!(
        get(&server, "/demo/nope.html", None).await.status,
        StatusCode::NOT_FOUND
    );
    // A forged or unknown session cookie is not adopted.
    let forged = get(&server, "/demo/login", Some("wxemu_demo=attacker-chosen")).await;
    assert!(!session_cookie(&forged).contains("attacker-chosen"));
    // Static pages take GET only; logout takes POST only.
    let post = server
        .send_with(Method::POST, "/demo/demo.js", &[], bytes::Bytes::new())
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get(&server, "/demo/logout", None).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // A callback inside wxLogin.js's frame moves the whole window there.
    let framed = server
        .send_with(
            Method::GET,
            "/demo/callback?code=c&state=s",
            &[("sec-fetch-dest", "iframe")],
            bytes::Bytes::new(),
        )
        .await;
    assert!(framed.text().contains("window.top.location.href"));
    // A refused login (no code) is a page that says so.
    let (cookie, state, _) = start_login(&server, None).await;
    let refused = get(
        &server,
        &format!("/demo/callback?state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("no code"));
}
