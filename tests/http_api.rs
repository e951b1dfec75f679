//! `--http-api-port`: a plain-HTTP listener on loopback that serves the token API
//! (`/sns/...`) and nothing else, next to the HTTPS listener.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use wxemu::approval::ApprovalMode;
use wxemu::{ServeOptions, Server};

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

    // /sns/... reaches the normal router (whatever the token API answers there).
    let (_, body) = plain(
        api,
        Method::GET,
        "/sns/oauth2/access_token?appid=wx1&secret=s&code=c&grant_type=authorization_code",
        &host,
    )
    .await;
    assert!(!body.contains("serves only the token API"), "{body}");

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
