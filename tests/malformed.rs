//! Bad input of every kind gets a clear answer in the wire format (or the
//! right HTTP status), never a panic, a hang or an empty reply, and the
//! server keeps serving afterwards.

use crate::common;

use std::time::Duration;

use common::*;
use hyper::{Method, StatusCode};

const CHECK: &str = "/api/check-login";
const AUTH: &str = "/api/authorize";

fn check_login(jsdata: &str) -> String {
    format!(r#"{{"apiname":"qrconnectchecklogin","jsdata":{jsdata}}}"#)
}

fn authorize(jsdata: &str) -> String {
    format!(r#"{{"apiname":"qrconnectfastauthorize","jsdata":{jsdata}}}"#)
}

const TARGET: &str =
    r#""appid":"wx1","scope":"snsapi_login","redirect_uri":"https://a.example/cb","state":"s""#;

/// (name, path, body, errcode, words the errmsg must contain)
fn cases() -> Vec<(&'static str, &'static str, Vec<u8>, i64, &'static str)> {
    let auth = |extra: &str| authorize(&format!("{{{TARGET},{extra}}}")).into_bytes();
    vec![
        ("empty body", CHECK, b"".to_vec(), 10001, "not JSON"),
        ("truncated JSON", CHECK, b"{\"apiname\":".to_vec(), 10001, "not JSON"),
        ("array", CHECK, b"[]".to_vec(), 10001, "JSON object"),
        ("string", CHECK, b"\"hi\"".to_vec(), 10001, "JSON object"),
        ("null", CHECK, b"null".to_vec(), 10001, "JSON object"),
        ("no apiname", CHECK, b"{\"jsdata\":{}}".to_vec(), 10001, "apiname"),
        ("apiname is a number", CHECK, b"{\"apiname\":5,\"jsdata\":{}}".to_vec(), 10001, "apiname"),
        ("wrong apiname", CHECK, authorize("{}").into_bytes(), 10002, "qrconnectchecklogin"),
        ("authorize apiname on check-login's twin", AUTH, check_login("{}").into_bytes(), 10002, "qrconnectfastauthorize"),
        ("no jsdata", CHECK, b"{\"apiname\":\"qrconnectchecklogin\"}".to_vec(), 10001, "jsdata"),
        ("jsdata is a string", CHECK, check_login("\"{}\"").into_bytes(), 10001, "jsdata"),
        ("jsdata is null", CHECK, check_login("null").into_bytes(), 10001, "jsdata"),
        ("appid missing", CHECK, check_login(r#"{"scope":"snsapi_login","redirect_uri":"https://a.example/"}"#).into_bytes(), 10001, "appid"),
        ("appid is a number", CHECK, check_login(r#"{"appid":1,"scope":"snsapi_login","redirect_uri":"https://a.example/"}"#).into_bytes(), 10001, "appid"),
        ("appid empty", CHECK, check_login(r#"{"appid":" ","scope":"snsapi_login","redirect_uri":"https://a.example/"}"#).into_bytes(), 10001, "appid"),
        ("wrong scope", CHECK, check_login(r#"{"appid":"wx1","scope":"snsapi_base","redirect_uri":"https://a.example/"}"#).into_bytes(), 10001, "scope"),
        ("redirect_uri relative", CHECK, check_login(r#"{"appid":"wx1","scope":"snsapi_login","redirect_uri":"/cb"}"#).into_bytes(), 10001, "redirect_uri"),
        ("redirect_uri javascript:", CHECK, check_login(r#"{"appid":"wx1","scope":"snsapi_login","redirect_uri":"javascript:alert(1)"}"#).into_bytes(), 10001, "redirect_uri"),
        ("state is a number", CHECK, check_login(r#"{"appid":"wx1","scope":"snsapi_login","redirect_uri":"https://a.example/","state":7}"#).into_bytes(), 10001, "state"),
        ("not UTF-8", CHECK, b"{\"apiname\":\"\xff\xfe\"}".to_vec(), 10001, "UTF-8"),
        ("trailing garbage", CHECK, format!("{} trailing", check_login(&format!("{{{TARGET}}}"))).into_bytes(), 10001, "not JSON"),
        ("byte order mark", CHECK, [b"\xef\xbb\xbf".as_slice(), check_login(&format!("{{{TARGET}}}")).as_bytes()].concat(), 10001, "not JSON"),
        ("nested 10k deep", CHECK, format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), 10001, "not JSON"),
        ("uuid missing", AUTH, authorize(&format!("{{{TARGET}}}")).into_bytes(), 10001, "authorize_uuid"),
        ("uuid is an array", AUTH, auth(r#""authorize_uuid":[]"#), 10001, "authorize_uuid"),
        ("data is an object", AUTH, auth(r#""authorize_uuid":"u","data":{"x":1,"y":2}"#), 10001, "data"),
        ("data is not JSON", AUTH, auth(r#""authorize_uuid":"u","data":"x=1,y=2""#), 10001, "data"),
        ("data has no y", AUTH, auth(r#""authorize_uuid":"u","data":"{\"x\":1}""#), 10001, "data"),
        ("data x is text", AUTH, auth(r#""authorize_uuid":"u","data":"{\"x\":\"left\",\"y\":2}""#), 10001, "data"),
    ]
}

#[tokio::test]
async fn every_malformed_body_gets_a_wire_error() {
    let server = TestServer::start().await;
    let cases = cases();
    assert!(cases.len() >= 20);
    for (name, path, body, errcode, words) in cases {
        let reply = server.post(path, Some(ORIGIN), body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            reply.text()
        );
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{name}"
        );
        let json = reply.json();
        assert_eq!(json["errcode"], errcode, "{name}: {json}");
        let apiname = if path == AUTH {
            "qrconnectfastauthorizeconfirm"
        } else {
            "qrconnectchecklogin"
        };
        assert_eq!(json["apiname"], apiname, "{name}");
        let errmsg = json["errmsg"].as_str().unwrap_or_default();
        assert!(
            errmsg.contains(words),
            "{name}: errmsg {errmsg:?} should mention {words:?}"
        );
    }
    assert!(server.emu.stored_counts().authorize_sessions == 0);
    // Still serving.
    assert_eq!(server.check_login().await.errcode(), 0);
}

#[tokio::test]
async fn wrong_methods_and_paths_get_http_errors_with_a_body() {
    let server = TestServer::start().await;
    for (method, path, status, words) in [
        (
            Method::GET,
            CHECK,
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST",
        ),
        (
            Method::PUT,
            AUTH,
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST",
        ),
        (
            Method::DELETE,
            CHECK,
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST",
        ),
        (
            Method::POST,
            "/api/nothing",
            StatusCode::NOT_FOUND,
            "nothing at /api/nothing",
        ),
        (
            Method::GET,
            "/../../etc/passwd",
            StatusCode::NOT_FOUND,
            "nothing at",
        ),
        (
            Method::POST,
            "/",
            StatusCode::METHOD_NOT_ALLOWED,
            "POST is not allowed on /",
        ),
    ] {
        let reply = server
            .send(server.request(method.clone(), path, Some(ORIGIN), "{}"))
            .await;
        assert_eq!(reply.status, status, "{method} {path}");
        assert!(
            reply.text().contains(words),
            "{method} {path}: {:?}",
            reply.text()
        );
        if status == StatusCode::METHOD_NOT_ALLOWED && path.starts_with("/api/") {
            assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
        }
    }
}

#[tokio::test]
async fn broken_http_is_answered_or_closed_never_hung() {
    let server = TestServer::start().await;
    for (name, raw, want) in [
        ("garbage request line", &b"HELLO\r\n\r\n"[..], "HTTP/1.1 400"),
        ("bad Content-Length", b"POST /api/check-login HTTP/1.1\r\nHost: localhost\r\nContent-Length: nope\r\n\r\n", "HTTP/1.1 400"),
        ("two Content-Lengths", b"POST /api/check-login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "HTTP/1.1 400"),
        ("no Host", b"POST /api/check-login HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", "HTTP/1.1 400"),
        ("bad chunk", b"POST /api/check-login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n", "HTTP/1.1 400"),
    ] {
        let answer = server.raw(raw, Duration::from_secs(10)).await;
        assert!(answer.starts_with(want), "{name}: {answer:?}");
    }
    assert_eq!(server.check_login().await.errcode(), 0);
}

#[tokio::test]
async fn a_plain_http_client_on_the_tls_port_is_turned_away() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "connection left hanging");
    assert!(
        !String::from_utf8_lossy(&out).contains("wxemu"),
        "served plain HTTP"
    );
    assert_eq!(server.check_login().await.errcode(), 0);
}
