//! An attacker on the same machine, over real TLS on loopback: every finding
//! of issue 10 reproduced, each asserting the promise (a status, a wire
//! error, the server still answering, a bounded RSS). Every loop is bounded
//! in count and every wait in time. Timeouts are shortened per test so the
//! idle-connection cases take seconds; the real binary runs where a process
//! limit (`ulimit -n`) or its memory is what is being tested.

use crate::common;
use crate::tools;

use std::process::Command;
use std::time::Duration;
// For the Linux-only tests of the real binary (process limits, memory).
#[cfg(target_os = "linux")]
use std::{
    io::{BufRead, BufReader},
    process::{Child, Stdio},
    sync::mpsc,
    time::Instant,
};

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wxemu::core::{ApprovalEvent, ApprovalMode, Decision};

// The real binary, for the Linux-only process-limit and memory tests below.
#[cfg(target_os = "linux")]
const BIN: &str = env!("CARGO_BIN_EXE_wxemu");
/// Slack on top of a documented timeout before a test calls it broken
/// (generous: the machine is shared).
const SLACK: Duration = Duration::from_secs(5);

/// A server whose connection timeouts are short.
fn impatient() -> Builder {
    TestServer::builder().options(|o| {
        o.limits.first_request_timeout = Duration::from_millis(500);
        o.limits.idle_timeout = Duration::from_millis(500);
        o.limits.send_stall_timeout = Duration::from_millis(500);
        o.limits.header_read_timeout = Duration::from_secs(2);
    })
}

/// Whether the peer closed `stream` (EOF or reset) within `limit`; data
/// sent by the server before closing is read and ignored.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// The wxLogin page for the demo app: a request the server answers at once.
fn login_page() -> String {
    format!(
        "/connect/qrconnect?appid={APPID}&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&response_type=code&scope=snsapi_login&state=s"
    )
}

/// The one answer on a connection is a 200, after which the server closes the
/// connection (`conn`, spawned) for being idle.
async fn ok_then_closed_when_idle(
    reply: hyper::Response<hyper::body::Incoming>,
    conn: tokio::task::JoinHandle<hyper::Result<()>>,
    which: &str,
) {
    assert_eq!(read(reply).await.status, StatusCode::OK);
    tokio::time::timeout(Duration::from_millis(500) + SLACK, conn)
        .await
        .unwrap_or_else(|_| panic!("the idle {which} connection is closed by the server"))
        .unwrap()
        .ok();
}

/// A TLS connection to `client`'s server offering only HTTP/2, as its own name.
async fn connect_h2(client: &Client) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let config = client.tls_config(&[b"h2"], rustls::DEFAULT_VERSIONS);
    client
        .connect_with(config, "localhost.weixin.qq.com")
        .await
        .unwrap()
}

async fn assert_still_answers(server: &Client) {
    let check = server.check_login().await;
    assert_eq!(check.errcode(), 0, "{}", check.text());
}

// ---- connections ----------------------------------------------------------

#[tokio::test]
async fn silent_tls_connections_are_closed_after_the_first_request_deadline() {
    let server = impatient().start().await;
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(server.connect().await);
    }
    for (i, stream) in silent.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_millis(500) + SLACK).await,
            "silent connection {i} still open"
        );
    }
    assert_still_answers(&server).await;
}

#[tokio::test]
async fn silent_tcp_without_a_handshake_is_closed() {
    let server = TestServer::builder()
        .options(|o| o.limits.tls_handshake_timeout = Duration::from_millis(500))
        .start()
        .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_within(&mut tcp, Duration::from_millis(500) + SLACK).await);
    assert_still_answers(&server).await;
}

#[tokio::test]
async fn a_connection_cut_mid_preface_is_closed() {
    let server = impatient().start().await;
    let mut stream = connect_h2(&server).await;
    stream.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    stream.flush().await.unwrap();
    assert!(closed_within(&mut stream, Duration::from_secs(2) + SLACK).await);
    // A half-sent HTTP/1.1 head as well (slowloris).
    let mut stream = server.connect().await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut stream, Duration::from_secs(2) + SLACK).await);
    assert_still_answers(&server).await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_http1_and_http2() {
    let server = impatient().start().await;
    // HTTP/1.1: one request, then nothing.
    let stream = server.connect().await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let reply = sender
        .send_request(server.request(Method::GET, "/", None, ""))
        .await
        .unwrap();
    ok_then_closed_when_idle(reply, conn, "HTTP/1.1").await;

    // HTTP/2: one request, then nothing; the server says GOAWAY and closes.
    let stream = connect_h2(&server).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let reply = sender
        .send_request(server.request(Method::GET, "/", None, ""))
        .await
        .unwrap();
    ok_then_closed_when_idle(reply, conn, "HTTP/2").await;
    assert_still_answers(&server).await;
}

#[tokio::test]
async fn held_long_polls_and_held_authorize_calls_are_not_idle() {
    let server = impatient()
        .approval(ApprovalMode::Ask)
        .options(|o| o.limits.long_poll_hold = Duration::from_secs(3))
        .start()
        .await;
    // A long poll held for 3 s, six idle timeouts: answered 408 in the
    // wire format at the end of its hold, not cut.
    let page = server.get(&login_page()).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    let uuid = text
        .split("\"uuid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a uuid in the page")
        .to_owned();
    let poll_path = format!("/connect/l/qrconnect?uuid={uuid}&f=json&last=408");
    let poll = tokio::time::timeout(Duration::from_secs(3) + SLACK, server.get(&poll_path))
        .await
        .expect("the poll answers at the end of its hold");
    assert_eq!(poll.status, StatusCode::OK);
    assert_eq!(poll.json()["wx_errcode"], 408, "{}", poll.text());

    // An authorize held for a decision for 2 s.
    let mut events = server.emu.subscribe_approvals();
    let uuid = server.uuid().await;
    let held = server.authorize_in_background(&uuid).await;
    let request = next_request(&mut events).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(server
        .emu
        .resolve_authorization(request.id, Decision::Allow, None));
    let reply = tokio::time::timeout(SLACK, held)
        .await
        .expect("the held authorize answers")
        .unwrap();
    assert_eq!(reply.errcode(), 0, "{}", reply.text());
    let _ = next_event(&mut events, |e| {
        matches!(e, ApprovalEvent::Finished { .. }).then_some(())
    })
    .await;
}

#[tokio::test]
async fn at_the_connection_cap_the_oldest_idle_go_and_a_client_gets_in() {
    let server = TestServer::builder()
        .options(|o| o.limits.max_connections = 16)
        .start()
        .await;
    let mut idle = Vec::new();
    for _ in 0..48 {
        // Some are shed while handshaking: that is the point.
        let config = server.tls_config(&[b"http/1.1"], rustls::DEFAULT_VERSIONS);
        if let Ok(stream) = server.connect_with(config, "localhost.weixin.qq.com").await {
            idle.push(stream);
        }
    }
    for _ in 0..5 {
        assert_still_answers(&server).await;
    }
    let mut closed = 0;
    for stream in idle.iter_mut() {
        if closed_within(stream, Duration::from_millis(200)).await {
            closed += 1;
        }
    }
    assert!(
        idle.len() - closed <= 16,
        "{} of {} idle connections still open with a cap of 16",
        idle.len() - closed,
        idle.len()
    );
    // The first ones (the oldest) were the ones shed.
    assert!(closed_within(&mut idle[0], Duration::from_millis(200)).await);
}

#[tokio::test]
async fn a_stalled_http2_reader_is_cut() {
    let server = impatient().start().await;
    let stream = connect_h2(&server).await;
    // A flow-control window of zero: the server can send headers, no body.
    let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(0)
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let mut responses = Vec::new();
    for _ in 0..20 {
        let mut sender = sender.clone();
        let request = server.request(Method::GET, &login_page(), None, "");
        responses.push(tokio::spawn(
            async move { sender.send_request(request).await },
        ));
    }
    tokio::time::timeout(Duration::from_millis(500) + SLACK + SLACK, conn)
        .await
        .expect("the server closes a connection whose reader stalled")
        .unwrap()
        .ok();
    for response in responses {
        if let Ok(Ok(response)) = response.await {
            assert!(response.into_body().collect().await.is_err());
        }
    }
    assert_still_answers(&server).await;
}

// ---- Host from one source ---------------------------------------------

#[tokio::test]
async fn the_host_comes_from_exactly_one_source() {
    let server = TestServer::start().await;
    let port = server.addr.port();

    let ours = format!("localhost.weixin.qq.com:{port}");
    // HTTP/2 with the host header ours: an :authority naming a foreign host is refused,
    // one agreeing is served.
    for (authority, expected) in [
        ("evil.example", StatusCode::FORBIDDEN),
        ("localhost.weixin.qq.com", StatusCode::OK),
    ] {
        let request = Request::builder()
            .uri(format!("https://{authority}:{port}/"))
            .header("host", &ours)
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert_eq!(
            server.send_h2(request).await.status,
            expected,
            "{authority}"
        );
    }

    for (what, head, expected) in [
        (
            "absolute-form target naming another host",
            format!("GET https://evil.example/ HTTP/1.1\r\nHost: {ours}"),
            "HTTP/1.1 403",
        ),
        (
            "absolute-form naming us, Host ours: served",
            format!("GET https://{ours}/ HTTP/1.1\r\nHost: {ours}"),
            "HTTP/1.1 200",
        ),
        (
            "two Host headers: 400 (RFC 9112 section 3.2)",
            format!("GET / HTTP/1.1\r\nHost: {ours}\r\nHost: evil.example"),
            "HTTP/1.1 400",
        ),
        (
            "two Host headers, even if both are ours",
            "GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost".to_owned(),
            "HTTP/1.1 400",
        ),
    ] {
        let reply = server
            .raw(
                format!("{head}\r\nConnection: close\r\n\r\n").as_bytes(),
                SLACK,
            )
            .await;
        assert!(reply.starts_with(expected), "{what}: {reply}");
    }
    assert_still_answers(&server).await;
}

// ---- bodies and early answers -------------------------------------------

#[tokio::test]
async fn a_body_declaring_a_huge_length_gets_413_at_once() {
    // The body timeout is far longer than the wait: a 408 would mean the
    // server waited for the body instead of refusing it.
    let server = TestServer::builder()
        .options(|o| o.limits.body_read_timeout = Duration::from_secs(120))
        .start()
        .await;
    let port = server.addr.port();
    let reply = server
        .raw(
            format!("POST /api/check-login HTTP/1.1\r\nHost: localhost.weixin.qq.com:{port}\r\nContent-Type: text/plain\r\nContent-Length: 1000000000000\r\n\r\n{{").as_bytes(),
            Duration::from_secs(20),
        )
        .await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("errcode"), "{reply}");
    // Same over HTTP/2.
    let mut request = server.request(Method::POST, "/api/check-login", Some(ORIGIN), "{");
    request
        .headers_mut()
        .insert("content-length", "1000000000000".parse().unwrap());
    let stream = connect_h2(&server).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let request = request.map(|_| Hanging);
    let response = tokio::time::timeout(Duration::from_secs(20), sender.send_request(request))
        .await
        .expect("answered without the body")
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_still_answers(&server).await;
}

/// A request body that never arrives.
struct Hanging;

impl http_body::Body for Hanging {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

/// curl that speaks HTTP/2 (Debian's does; Windows' own curl.exe does not).
fn curl_available() -> bool {
    let http2 = tools::on_path("curl")
        && Command::new("curl").arg("-V").output().is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|line| line.strip_prefix("Features:"))
                .any(|features| features.split_whitespace().any(|f| f == "HTTP2"))
        });
    tools::precondition(http2, "curl with HTTP/2 is not installed")
}

/// curl (HTTP/2, the server's CA) POSTing `body_len` bytes; its stdout.
fn curl_post(server: &TestServer, path: &str, headers: &[&str], body_len: usize) -> (bool, String) {
    // curl blocks: keep the server's runtime threads free meanwhile.
    tokio::task::block_in_place(|| curl_post_blocking(server, path, headers, body_len))
}

fn curl_post_blocking(
    server: &TestServer,
    path: &str,
    headers: &[&str],
    body_len: usize,
) -> (bool, String) {
    let port = server.addr.port();
    let body_file = server.data_dir.path().join("curl-body");
    std::fs::write(&body_file, "x".repeat(body_len)).unwrap();
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--http2", "--max-time", "20"])
        .arg("--cacert")
        .arg(server.data_dir.path().join("ca.pem"))
        .args([
            "--resolve",
            &format!("localhost.weixin.qq.com:{port}:127.0.0.1"),
        ])
        .arg("--data-binary")
        .arg(format!("@{}", body_file.display()))
        .args(["-H", "content-type: text/plain"]);
    for header in headers {
        cmd.args(["-H", header]);
    }
    cmd.arg(format!("https://localhost.weixin.qq.com:{port}{path}"));
    tools::success_and_output(&tools::run_bounded(cmd, Duration::from_secs(30)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_answers_over_http2_reach_curl_as_the_wire_reply() {
    if !curl_available() {
        return;
    }
    let server = TestServer::start().await;
    // 40 KB bodies: larger than one flow-control window's first flight, so
    // an answer sent before the body is read races the upload.
    for _ in 0..10 {
        let (ok, out) = curl_post(
            &server,
            "/api/check-login",
            &["origin: https://evil.example"],
            40_000,
        );
        assert!(ok, "{out}");
        assert!(out.contains("\"errcode\""), "{out}");
    }
    for _ in 0..10 {
        let (ok, out) = curl_post(&server, "/api/check-login", &["host: evil.example"], 40_000);
        assert!(ok, "{out}");
        assert!(out.contains("wxemu answers only for"), "{out}");
    }
    server
        .ctl(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": "check-login", "errcode": -7})),
        )
        .await;
    for _ in 0..10 {
        let (ok, out) = curl_post(&server, "/api/check-login", &[], 40_000);
        assert!(ok, "{out}");
        assert!(out.contains("-7"), "{out}");
    }
}

// ---- control input, files ------------------------------------------------

#[tokio::test]
async fn an_absurd_clock_advance_is_a_400_not_a_panic() {
    let server = TestServer::start().await;
    for frozen in [false, true] {
        if frozen {
            server.ctl(Method::POST, "/clock/freeze", None).await;
        }
        for by in ["18446744073709551615s", "500000000y", "300y", "101y"] {
            let reply = server
                .control(Method::POST, "/clock/advance", Some(json!({ "by": by })))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{by}: {}",
                reply.text()
            );
        }
        // Legal steps up to the bound, then a clear refusal.
        let mut refused = false;
        for _ in 0..4 {
            let reply = server
                .control(Method::POST, "/clock/advance", Some(json!({ "by": "99y" })))
                .await;
            refused |= reply.status == StatusCode::BAD_REQUEST;
        }
        assert!(refused);
        // Everything that adds a lifetime to "now" still works.
        assert_still_answers(&server).await;
        let login = server.login(REDIRECT, "st4te").await;
        assert_eq!(login.errcode(), 0, "{}", login.text());
        server.ctl(Method::POST, "/reset", None).await;
        server.ctl(Method::POST, "/clock/unfreeze", None).await;
    }
}

#[cfg(unix)]
#[tokio::test]
async fn config_is_rewritten_0600_and_the_data_directory_is_0700() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let server = TestServer::start().await;
    let config = server.data_dir.path().join("config.toml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    server
        .ctl(
            Method::POST,
            "/apps",
            Some(json!({"appid": "wxhostile0000001", "secret": "s3cret-s3cret-s3cret-s3cret-000"})),
        )
        .await;
    assert_eq!(mode(&config), 0o600);

    // A fresh data directory, whatever is written first, is owner-only.
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("a").join("wxemu");
    wxemu::control::ensure_token(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    let dir = parent.path().join("b").join("wxemu");
    wxemu::core::Config::default()
        .save(&dir.join("config.toml"))
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("config.toml")), 0o600);
}

// ---- the real binary: process limits, memory, logs ------------------------

/// `wxemu serve` under `sh -c 'ulimit -n N; exec ...'`, killed when dropped.
#[cfg(target_os = "linux")]
struct Serve {
    child: Child,
    stderr: mpsc::Receiver<String>,
    client: Client,
    _data_dir: tempfile::TempDir,
}

#[cfg(target_os = "linux")]
impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(target_os = "linux")]
fn serve_limited(open_files: u32) -> Serve {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n {open_files} && exec \"$0\" serve --port 0 --approve auto"
        ))
        .arg(BIN)
        .env("WXEMU_DATA_DIR", data_dir.path())
        // Parking is said at debug level (see `idle_http1_connections_park_and_resume`).
        .env("RUST_LOG", "info,wxemu::web::transport::parking=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = |from: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let stdout = lines(Box::new(child.stdout.take().unwrap()));
    let stderr = lines(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(20);
    let port: u16 = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = stdout
            .recv_timeout(left)
            .expect("serve prints where it listens");
        if let Some(port) = line
            .split("localhost.weixin.qq.com:")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
        {
            break port;
        }
    };
    std::thread::spawn(move || for _ in stdout.iter() {});
    let pem = std::fs::read(data_dir.path().join("ca.pem")).unwrap();
    use rustls::pki_types::pem::PemObject;
    let ca_der = rustls::pki_types::CertificateDer::from_pem_slice(&pem)
        .unwrap()
        .to_vec();
    Serve {
        child,
        stderr,
        client: Client::new(([127, 0, 0, 1], port).into(), ca_der),
        _data_dir: data_dir,
    }
}

#[cfg(target_os = "linux")]
impl Serve {
    /// VmRSS of the server process, in bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }

    /// Every stderr line so far.
    fn log(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }
}

#[cfg(target_os = "linux")]
const RSS_BOUND: u64 = 64 * 1024 * 1024;

/// Waits (bounded) for a stderr line containing `what`.
#[cfg(target_os = "linux")]
fn wait_for_line(serve: &Serve, what: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match serve.stderr.recv_timeout(left) {
            Ok(line) if line.contains(what) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// An idle HTTP/1.1 connection parks (hyper's state is dropped) and then
/// serves its next request on the same socket and TLS session; a head that
/// arrives cut in two across a park is not lost.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http1_connections_park_and_resume() {
    let serve = serve_limited(1024);
    let client = serve.client.clone();
    let park = wxemu::PARK_AFTER + Duration::from_secs(1) + SLACK;
    let mut stream = client.connect().await;
    let host = format!("localhost.weixin.qq.com:{}", client.addr.port());
    let get = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stream.write_all(get.as_bytes()).await.unwrap();
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 200"));
    let _ = serve.log();
    assert!(wait_for_line(&serve, "parked an idle connection", park));

    stream.write_all(get.as_bytes()).await.unwrap();
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 200"));
    assert!(wait_for_line(&serve, "a parked connection resumes", SLACK));

    // Half a head, a park, then the rest.
    assert!(wait_for_line(&serve, "parked an idle connection", park));
    let (first, rest) = get.split_at(20);
    stream.write_all(first.as_bytes()).await.unwrap();
    assert!(wait_for_line(&serve, "a parked connection resumes", SLACK));
    stream.write_all(rest.as_bytes()).await.unwrap();
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 200"));

    // Half a head still in hyper's buffer when it parks.
    stream.write_all(first.as_bytes()).await.unwrap();
    assert!(wait_for_line(&serve, "a parked connection resumes", park));
    stream.write_all(rest.as_bytes()).await.unwrap();
    assert!(answer(&mut stream).await.starts_with("HTTP/1.1 200"));
}

/// Reads one answer to `GET /` (its body says wxemu "is running").
#[cfg(target_os = "linux")]
async fn answer(stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("is running") {
        let n = tokio::time::timeout(SLACK, stream.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_ulimit_256_idle_connections_never_lock_out_a_client() {
    let serve = serve_limited(256);
    let client = serve.client.clone();
    // 300 connections that never send a request: more than the process
    // may have open, half of them mid-handshake.
    let mut idle = Vec::new();
    for i in 0..300 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(client.addr).await {
            if i % 2 == 0 {
                idle.push(Box::new(tcp) as Box<dyn std::any::Any + Send>);
            } else {
                let config = client.tls_config(&[b"h2"], rustls::DEFAULT_VERSIONS);
                let name =
                    rustls::pki_types::ServerName::try_from("localhost.weixin.qq.com").unwrap();
                let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
                if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                    idle.push(Box::new(tls));
                }
            }
        }
    }
    for _ in 0..20 {
        let check = tokio::time::timeout(SLACK, client.check_login())
            .await
            .expect("a legitimate check-login gets in");
        assert_eq!(check.errcode(), 0);
    }
    assert!(serve.rss() < RSS_BOUND, "RSS {} MB", serve.rss() >> 20);
    let accept_failures = serve
        .log()
        .iter()
        .filter(|l| l.contains("accept failed"))
        .count();
    assert!(
        accept_failures <= 1,
        "accept failures logged {accept_failures} times"
    );
    drop(idle);
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_window_http2_streams_do_not_pin_memory() {
    let serve = serve_limited(1024);
    let client = serve.client.clone();
    let before = serve.rss();
    let mut connections = Vec::new();
    for _ in 0..20 {
        let stream = connect_h2(&client).await;
        let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(0)
            .handshake(TokioIo::new(stream))
            .await
            .unwrap();
        connections.push(tokio::spawn(conn));
        for _ in 0..100 {
            let mut sender = sender.clone();
            let request = client.request(Method::GET, &login_page(), None, "");
            tokio::spawn(async move {
                if let Ok(response) = sender.send_request(request).await {
                    // Hold the response unread.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    drop(response);
                }
            });
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = serve.rss();
    assert_still_answers(&client).await;
    assert!(
        during < RSS_BOUND,
        "RSS {} MB with 2,000 stalled streams (before: {} MB)",
        during >> 20,
        before >> 20
    );
    for connection in connections {
        connection.abort();
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_origins_and_hosts_are_logged_shortened() {
    let serve = serve_limited(1024);
    let client = serve.client.clone();
    let long_origin = format!("https://{}.example", "a".repeat(30_000));
    for _ in 0..20 {
        let reply = client
            .post("/api/check-login", Some(&long_origin), "{}")
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(
            reply.body.len() < 2_000,
            "reply of {} bytes",
            reply.body.len()
        );
    }
    let long_host = format!("{}.example", "h".repeat(30_000));
    for _ in 0..20 {
        let mut request = client.request(Method::GET, "/", None, "");
        request
            .headers_mut()
            .insert("host", long_host.parse().unwrap());
        assert_eq!(client.send(request).await.status, StatusCode::FORBIDDEN);
    }
    assert_still_answers(&client).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = serve.log();
    let refusals: Vec<_> = log.iter().filter(|l| l.contains("refused")).collect();
    assert!(refusals.len() >= 40, "{log:#?}");
    for line in refusals {
        assert!(line.len() < 1_000, "a {}-byte log line", line.len());
    }
}

// ---- every store bounded in count and bytes --------------------------------

#[tokio::test]
async fn login_target_fields_are_bounded_with_the_wires_own_errors() {
    let server = TestServer::start().await;
    // state: 2 KiB accepted in permissive mode (flagged past 128 bytes),
    // 2049 refused (fast login: 10001).
    let ok = server
        .check_login_for(APPID, REDIRECT, &"s".repeat(2048))
        .await;
    assert_eq!(ok.errcode(), 0, "{}", ok.text());
    for (appid, redirect, state) in [
        (APPID.to_owned(), REDIRECT.to_owned(), "s".repeat(2049)),
        (APPID.to_owned(), REDIRECT.to_owned(), "s".repeat(60_000)),
        (
            APPID.to_owned(),
            format!("https://site.example/cb?{}", "r".repeat(2048)),
            "s".into(),
        ),
        ("w".repeat(65), REDIRECT.to_owned(), "s".into()),
    ] {
        let reply = server.check_login_for(&appid, &redirect, &state).await;
        assert_eq!(reply.errcode(), 10001, "{}", reply.text());
        assert!(reply.text().contains("at most"), "{}", reply.text());
    }
    // The login page: its own error page.
    let page = server
        .get(&format!(
            "/connect/qrconnect?appid={APPID}&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&response_type=code&scope=snsapi_login&state={}",
            "s".repeat(2049)
        ))
        .await;
    assert!(page.text().contains("at most 2048"), "{}", page.text());
    // Any query over 4 KiB: 414, the body in the surface's own format.
    let padding = "t".repeat(5000);
    let long = server
        .get(&format!("/sns/userinfo?access_token={padding}"))
        .await;
    assert_eq!(long.status, StatusCode::URI_TOO_LONG);
    assert_eq!(long.errcode(), 40097, "{}", long.text());
    assert!(long.text().contains("rid: "), "{}", long.text());
    let fast = server
        .post(&format!("/api/check-login?x={padding}"), Some(ORIGIN), "{}")
        .await;
    assert_eq!(fast.status, StatusCode::URI_TOO_LONG);
    assert_eq!(
        fast.json()["apiname"],
        "qrconnectchecklogin",
        "{}",
        fast.text()
    );
    assert_eq!(fast.errcode(), 10001, "{}", fast.text());
    let poll = server
        .get(&format!("/connect/l/qrconnect?uuid=x&f=json&pad={padding}"))
        .await;
    assert_eq!(poll.status, StatusCode::URI_TOO_LONG);
    assert!(
        poll.text().contains("window.wx_errcode=500"),
        "{}",
        poll.text()
    );
    let control = server
        .control(Method::GET, &format!("/journal?pad={padding}"), None)
        .await;
    assert_eq!(control.status, StatusCode::URI_TOO_LONG);
    assert!(control.json()["error"]
        .as_str()
        .unwrap()
        .contains("at most 4096"));
    // An Origin longer than any real one is refused, not parsed, in fast
    // login's format, and is not echoed whole.
    let origin = format!("https://{}.example", "o".repeat(400));
    let reply = server.post("/api/check-login", Some(&origin), "{}").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.errcode(), 10003, "{}", reply.text());
    assert!(reply.text().len() < 1000, "{}", reply.text());
    assert_still_answers(&server).await;
}

#[tokio::test]
async fn stores_are_capped_oldest_first_and_reset_forgets_registered_apps() {
    use wxemu::core::{QrTarget, MAX_CODES, MAX_QR_LOGINS, MAX_REGISTERED_APPS as MAX_APPS};
    let server = TestServer::start().await;
    let emu = &server.emu;
    // Auto-registered apps: at most MAX_REGISTERED_APPS, the earliest
    // forgotten first (a flood never locks a real app out), and reset
    // forgets them.
    for i in 0..(MAX_APPS + 100) {
        assert!(emu.app(&format!("wxflood{i:010}")).is_some());
    }
    assert_eq!(emu.registered_apps().len(), MAX_APPS);
    assert!(!emu
        .registered_apps()
        .iter()
        .any(|a| a.appid == "wxflood0000000000"));
    assert!(emu.app("wxafterflood").is_some());
    server.ctl(Method::POST, "/reset", None).await;
    assert!(emu.registered_apps().is_empty());
    // QR logins.
    let target = QrTarget {
        appid: APPID.into(),
        redirect_uri: REDIRECT.into(),
        state: "s".into(),
        scope: "snsapi_login".into(),
    };
    let first = emu.qr_create(target.clone());
    for _ in 0..MAX_QR_LOGINS {
        emu.qr_create(target.clone());
    }
    assert_eq!(emu.qr_list().len(), MAX_QR_LOGINS);
    assert!(emu.qr_login(&first.uuid).is_none());
    // Codes, each from a QR login scanned and confirmed (the public
    // operations a phone drives).
    let code = || {
        let qr = emu.qr_create(target.clone());
        emu.qr_scan(&qr.uuid, "default").unwrap();
        match emu.qr_confirm(&qr.uuid).unwrap().status {
            wxemu::core::QrStatus::Confirmed { code, .. } => code,
            other => panic!("{other:?}"),
        }
    };
    let first_code = code();
    for _ in 0..MAX_CODES {
        code();
    }
    assert_eq!(emu.stored_counts().codes, MAX_CODES);
    let redeem = server
        .get(&format!(
            "/sns/oauth2/access_token?appid={APPID}&secret=x&code={first_code}&grant_type=authorization_code"
        ))
        .await;
    assert_eq!(redeem.errcode(), 40029, "{}", redeem.text());
}

#[tokio::test]
async fn journal_fields_are_cut_with_a_marker() {
    let server = TestServer::start().await;
    let query = format!("appid={APPID}&x={}", "q".repeat(3000));
    server.get(&format!("/sns/userinfo?{query}")).await;
    let journal = server.ctl(Method::GET, "/journal", None).await;
    let entry = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/sns/userinfo")
        .expect("the request is journaled")
        .clone();
    let recorded = entry["query"].as_str().unwrap();
    assert!(recorded.len() < 700, "{} bytes", recorded.len());
    assert!(
        recorded.contains(wxemu::core::TRUNCATED_MARKER),
        "{recorded}"
    );
}

/// `total` requests from `make(i)`, 8 HTTP/2 connections with 32 streams
/// each in flight; returns how many were not answered 2xx/4xx.
#[cfg(target_os = "linux")]
async fn flood(
    client: &Client,
    total: usize,
    make: impl Fn(usize) -> Request<Full<Bytes>> + Sync,
) -> usize {
    const CONNECTIONS: usize = 8;
    let mut senders = Vec::new();
    for _ in 0..CONNECTIONS {
        let stream = connect_h2(client).await;
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        senders.push(sender);
    }
    let mut inflight = tokio::task::JoinSet::<bool>::new();
    let mut failures = 0;
    for i in 0..total {
        while inflight.len() >= CONNECTIONS * 32 {
            if !inflight.join_next().await.unwrap().unwrap() {
                failures += 1;
            }
        }
        let mut sender = senders[i % CONNECTIONS].clone();
        let request = make(i);
        inflight.spawn(async move {
            match sender.send_request(request).await {
                Ok(response) => {
                    let ok = response.status().as_u16() < 500;
                    ok && response.into_body().collect().await.is_ok()
                }
                Err(_) => false,
            }
        });
    }
    while let Some(done) = inflight.join_next().await {
        if !done.unwrap() {
            failures += 1;
        }
    }
    failures
}

/// Every flood on a fresh server, enough requests to fill every cap; the
/// RSS after each. Minutes in a debug build, so not in the default run:
/// `cargo test --release --test integration hostile:: -- --ignored --nocapture`.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: fills every store's cap; run with --release -- --ignored"]
async fn no_flood_of_one_input_takes_rss_past_64_mb() {
    let long_state = "s".repeat(128);
    let long_redirect = format!("https://site.example/cb?{}", "r".repeat(1900));
    let mut worst = (0u64, "");
    let floods: [(&str, usize); 5] = [
        ("check-login, longest fields", 12_000),
        ("login page (QR logins), longest fields", 12_000),
        ("unique appids (permissive registrations)", 12_000),
        ("journal: longest query", 12_000),
        ("foreign Origin of 300 bytes", 12_000),
    ];
    for (index, (name, total)) in floods.into_iter().enumerate() {
        let serve = serve_limited(1024);
        let client = serve.client.clone();
        let idle = serve.rss();
        let foreign = format!("https://{}.example", "o".repeat(280));
        let failures = flood(&client, total, |i| match index {
            0 => {
                let body = json!({"apiname": "qrconnectchecklogin",
                    "jsdata": {"appid": APPID, "scope": "snsapi_login",
                               "redirect_uri": long_redirect, "state": long_state}});
                client.request(Method::POST, "/api/check-login", Some(ORIGIN), body.to_string())
            }
            1 => client.request(
                Method::GET,
                &format!(
                    "/connect/qrconnect?appid={APPID}&redirect_uri={}&response_type=code&scope=snsapi_login&state={long_state}",
                    long_redirect.replace(':', "%3A").replace('/', "%2F").replace('?', "%3F")
                ),
                None,
                "",
            ),
            2 => client.request(
                Method::GET,
                &format!(
                    "/connect/qrconnect?appid=wx{i:062}&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&response_type=code&scope=snsapi_login&state=s"
                ),
                None,
                "",
            ),
            3 => client.request(
                Method::GET,
                &format!("/sns/userinfo?access_token={i}&x={}", "q".repeat(4000)),
                None,
                "",
            ),
            _ => client.request(Method::POST, "/api/check-login", Some(&foreign), "{}"),
        })
        .await;
        assert_eq!(failures, 0, "{name}");
        let rss = serve.rss();
        eprintln!(
            "{total} x {name}: RSS {} MB (idle {} MB)",
            rss >> 20,
            idle >> 20
        );
        if rss > worst.0 {
            worst = (rss, name);
        }
        assert_still_answers(&client).await;
    }
    eprintln!("worst RSS {} MB ({})", worst.0 >> 20, worst.1);
    assert!(
        worst.0 < RSS_BOUND,
        "RSS {} MB after {}",
        worst.0 >> 20,
        worst.1
    );
}

/// The consent page's calls and the token API's bodies take junk without a
/// 500 or a panic: each gets the API's own errcode naming what is wrong.
#[tokio::test]
async fn web_authorization_and_token_bodies_refuse_junk() {
    let server = TestServer::start().await;
    let origin = format!("https://localhost.weixin.qq.com:{}", server.addr.port());
    for path in [
        "/connect/oauth2/consent/wait",
        "/connect/oauth2/consent/answer",
    ] {
        for body in [
            "".to_owned(),
            "{".to_owned(),
            "[]".to_owned(),
            r#"{"ticket":5}"#.to_owned(),
            r#"{"ticket":"x","decision":"maybe"}"#.to_owned(),
            format!(
                r#"{{"ticket":"{}","decision":"allow"}}"#,
                "t".repeat(10_000)
            ),
        ] {
            let reply = server.post(path, Some(&origin), body.clone()).await;
            assert!(
                reply.status.as_u16() < 500,
                "{path} {body:.40}: {}",
                reply.status
            );
            assert_ne!(reply.errcode(), 0, "{path} {body:.40}: {}", reply.text());
        }
    }
    for (content_type, body) in [
        ("application/json", "\u{0}\u{1}"),
        ("application/json", r#"{"a":[1]}"#),
        ("application/x-www-form-urlencoded", "%%%&&&==="),
        ("text/plain", "code"),
    ] {
        let reply = server
            .send_with(
                Method::POST,
                "/sns/oauth2/access_token",
                &[("content-type", content_type)],
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{body}");
        assert!(reply.errcode() > 0, "{body}: {}", reply.text());
    }
}
