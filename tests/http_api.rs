//! `--http-api-port`: a plain-HTTP listener on loopback that serves the token API
//! (`/sns/...`) and nothing else, next to the HTTPS listener; a real token exchange over it.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use wxemu::core::ApprovalMode;
use wxemu::core::{QrStatus, QrTarget};
use wxemu::{ServeOptions, Server};

const APPID: &str = "wxa04304ceaedaf538";

async fn plain(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    host: &str,
) -> (StatusCode, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("origin", "https://open.weixin.qq.com")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn plain_http_listener_serves_only_the_token_api() {
    let data = tempfile::tempdir().unwrap();
    let mut options = ServeOptions::new(data.path().to_owned());
    options.port = 0;
    options.http_api_port = Some(0);
    options.approval = ApprovalMode::Auto;
    let server = Server::bind(options).await.expect("bind");
    let api = server.http_api_addr().expect("plain listener bound");
    assert!(api.ip().is_loopback());
    assert_ne!(api.port(), server.local_addr().port());
    let emu = server.emulator();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let host = format!("127.0.0.1:{}", api.port());

    for (method, path) in [
        (Method::GET, "/"),
        (Method::POST, "/api/check-login"),
        (Method::POST, "/api/authorize"),
        (Method::GET, "/snsx/oauth2/access_token"),
    ] {
        let (status, body) = plain(api, method.clone(), path, &host).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert!(
            body.contains("serves only the token API"),
            "{method} {path}: {body}"
        );
    }

    // The token API works over plain HTTP: a code from a confirmed QR login is redeemed,
    // then the user's profile fetched, as a backend would.
    let account = emu.current_account();
    let qr = emu.qr_create(QrTarget {
        appid: APPID.into(),
        scope: "snsapi_login".into(),
        redirect_uri: "https://site.example/cb".into(),
        state: "st".into(),
    });
    emu.qr_scan(&qr.uuid, &account.id).expect("scan");
    let code = match emu.qr_confirm(&qr.uuid).expect("confirm").status {
        QrStatus::Confirmed { code, .. } => code,
        other => panic!("{other:?}"),
    };
    let (status, body) = plain(
        api,
        Method::GET,
        &format!("/sns/oauth2/access_token?appid={APPID}&secret=any&code={code}&grant_type=authorization_code"),
        &host,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let access_token = token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    let openid = token["openid"].as_str().unwrap_or_else(|| panic!("{body}"));
    let (status, body) = plain(
        api,
        Method::GET,
        &format!("/sns/userinfo?access_token={access_token}&openid={openid}"),
        &host,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(user["nickname"], account.nickname.as_str(), "{body}");
    // The code is spent: redeeming it again is the API's own error, not a listener 404.
    let (_, body) = plain(
        api,
        Method::GET,
        &format!("/sns/oauth2/access_token?appid={APPID}&secret=any&code={code}&grant_type=authorization_code"),
        &host,
    )
    .await;
    assert!(body.contains("errcode"), "{body}");

    // The Host check still applies: no DNS rebinding over plain HTTP either.
    let (status, body) = plain(api, Method::GET, "/sns/userinfo", "evil.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn off_by_default() {
    let data = tempfile::tempdir().unwrap();
    let mut options = ServeOptions::new(data.path().to_owned());
    options.port = 0;
    assert_eq!(options.http_api_port, None);
    let server = Server::bind(options).await.expect("bind");
    assert_eq!(server.http_api_addr(), None);
}
