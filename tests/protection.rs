//! Who may talk to wxemu: CORS preflights, the Origin check on every
//! browser request, the Host check against DNS rebinding, and the limits
//! that keep one client from holding the server.

use crate::common;

use std::time::Duration;

use common::*;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};

fn preflight(
    server: &TestServer,
    path: &str,
    origin: &str,
    private_network: bool,
) -> Request<Full<bytes::Bytes>> {
    let mut builder = Request::builder()
        .method(Method::OPTIONS)
        .uri(path)
        .header(
            "host",
            format!("localhost.weixin.qq.com:{}", server.addr.port()),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type");
    if private_network {
        builder = builder.header("access-control-request-private-network", "true");
    }
    builder.body(Full::new(bytes::Bytes::new())).unwrap()
}

#[tokio::test]
async fn preflight_from_the_login_page_is_allowed() {
    let server = TestServer::start().await;
    for path in ["/api/check-login", "/api/authorize"] {
        let reply = server.send(preflight(&server, path, ORIGIN, false)).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{path}");
        assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
        assert_eq!(
            reply.header("access-control-allow-methods"),
            Some("POST, OPTIONS")
        );
        assert_eq!(
            reply.header("access-control-allow-headers"),
            Some("Content-Type")
        );
        assert_eq!(reply.header("vary"), Some("Origin"));
        assert_eq!(reply.header("access-control-allow-private-network"), None);
    }
    let reply = server
        .send(preflight(&server, "/api/check-login", ORIGIN, true))
        .await;
    assert_eq!(
        reply.header("access-control-allow-private-network"),
        Some("true")
    );
}

#[tokio::test]
async fn preflight_from_a_foreign_origin_is_refused() {
    let server = TestServer::start().await;
    for origin in [
        "https://evil.example",
        "null",
        "http://open.weixin.qq.com",
        "https://open.weixin.qq.com.evil.example",
    ] {
        let reply = server
            .send(preflight(&server, "/api/authorize", origin, true))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            None,
            "{origin}"
        );
        assert_eq!(reply.header("access-control-allow-private-network"), None);
        assert_eq!(reply.errcode(), 10003);
    }
}

#[tokio::test]
async fn a_foreign_page_cannot_log_itself_in() {
    let server = TestServer::start().await;
    // A "simple" cross-site POST (text/plain) skips the preflight: the
    // Origin check on the request itself is what stops it.
    let body = serde_json::json!({"apiname": "qrconnectchecklogin",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": ""}})
    .to_string();
    let mut request = server.request(
        Method::POST,
        "/api/check-login",
        Some("https://evil.example"),
        body,
    );
    request
        .headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    let reply = server.send(request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert_eq!(reply.json()["apiname"], "qrconnectchecklogin");
    assert_eq!(reply.errcode(), 10003);
    assert!(reply.json()["errmsg"]
        .as_str()
        .unwrap()
        .contains("evil.example"));
    assert!(
        server.emu.stored_counts().authorize_sessions == 0,
        "a session was created"
    );

    // Even with a uuid stolen from the real page, authorize is refused.
    let check = server.check_login().await.json();
    let uuid = check["jsdata"]["authorize_uuid"].as_str().unwrap();
    let body = authorize_body(uuid, APPID, REDIRECT, "st4te");
    let reply = server
        .post("/api/authorize", Some("https://evil.example"), body)
        .await;
    assert_eq!(reply.errcode(), 10003);
    assert_eq!(reply.json()["apiname"], "qrconnectfastauthorizeconfirm");
    assert!(server.emu.stored_counts().codes == 0);
}

#[tokio::test]
async fn own_and_configured_origins_are_allowed_and_scripts_need_none() {
    let server = TestServer::builder()
        .config(|c| c.server.allowed_origins = vec!["http://localhost:3000".into()])
        .start()
        .await;
    let port = server.addr.port();
    for origin in [
        format!("https://localhost.weixin.qq.com:{port}"),
        format!("https://127.0.0.1:{port}"),
        "http://localhost:3000".to_owned(),
    ] {
        let reply = server
            .send(preflight(&server, "/api/check-login", &origin, false))
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{origin}");
        let reply = server.check_login_for(APPID, REDIRECT, "").await;
        assert_eq!(reply.errcode(), 0);
        let body = serde_json::json!({"apiname": "qrconnectchecklogin",
            "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT}})
        .to_string();
        let reply = server.post("/api/check-login", Some(&origin), body).await;
        assert_eq!(reply.errcode(), 0, "{origin}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some(origin.as_str())
        );
    }
    // Another port of ours is another origin.
    let other = format!("https://localhost.weixin.qq.com:{}", port.wrapping_add(1));
    let reply = server
        .send(preflight(&server, "/api/check-login", &other, false))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // curl, SDKs and test scripts send no Origin.
    let body = serde_json::json!({"apiname": "qrconnectchecklogin",
        "jsdata": {"appid": APPID, "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": "x"}})
    .to_string();
    let reply = server.post("/api/check-login", None, body).await;
    assert_eq!(reply.errcode(), 0);
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn foreign_host_names_are_refused() {
    let server = TestServer::start().await;
    let port = server.addr.port();
    for host in [
        "evil.example".to_owned(),
        format!("rebind.attacker.example:{port}"),
        "127.0.0.2".to_owned(),
    ] {
        let mut request = server.request(Method::POST, "/api/check-login", None, "{}");
        request.headers_mut().insert("host", host.parse().unwrap());
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{host}");
        assert!(
            reply.text().contains("answers only for"),
            "{host}: {}",
            reply.text()
        );
        let mut request = server.request(Method::GET, "/", None, "");
        request.headers_mut().insert("host", host.parse().unwrap());
        assert_eq!(
            server.send(request).await.status,
            StatusCode::FORBIDDEN,
            "{host}"
        );
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let mut request = server.request(Method::GET, "/", None, "");
        request.headers_mut().insert("host", host.parse().unwrap());
        assert_eq!(server.send(request).await.status, StatusCode::OK, "{host}");
    }
    // HTTP/2 has no Host header: the :authority is checked instead.
    let mut request = server.request(Method::GET, "https://evil.example/", None, "");
    request.headers_mut().remove("host");
    assert_eq!(server.send_h2(request).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn oversized_bodies_are_refused_in_the_wire_format() {
    let server = TestServer::start().await;
    let huge = format!(
        r#"{{"apiname":"qrconnectchecklogin","jsdata":{{"appid":"{}"}}}}"#,
        "x".repeat(200_000)
    );
    let reply = server.post("/api/check-login", Some(ORIGIN), huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.errcode(), 10004);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let server = TestServer::builder()
        .options(|o| {
            o.limits.header_read_timeout = Duration::from_millis(300);
            o.limits.body_read_timeout = Duration::from_millis(300);
        })
        .start()
        .await;
    // Headers that never finish: the connection is closed, with a 408 or
    // without a word, but it does not stay open.
    let answer = server
        .raw(
            b"POST /api/check-login HTTP/1.1\r\nHost: localhost\r\n",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer:?}"
    );

    // A body that never finishes gets a wire error.
    let answer = server
        .raw(
            b"POST /api/check-login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"apiname\"",
            Duration::from_secs(10),
        )
        .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("\"errcode\":10001"), "{answer:?}");
}

#[tokio::test]
async fn a_taken_port_is_one_clear_sentence() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut options = wxemu::ServeOptions::new(dir.path().to_owned());
    options.port = server.addr.port();
    let err = match wxemu::Server::bind(options).await {
        Ok(_) => panic!("bound a port that is in use"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!(
            "port {} on 127.0.0.1 is already in use",
            server.addr.port()
        )),
        "{err}"
    );
    assert!(err.contains("--port"), "{err}");
    assert!(!err.contains('\n'), "{err}");
}
