//! The interception proxy engine over real sockets, every target on loopback: CONNECT
//! interception with real TLS validated against the interception CA (SNI per host, ALPN
//! h2 and http/1.1), byte-for-byte tunnels, plain-HTTP forwarding, `offline` refusals,
//! the PAC file evaluated by a real JavaScript engine (node), and the Host check of the
//! proxy's own pages. The handler here stands in for wxemu's router: it answers with the
//! host it was given, so the tests see exactly what the proxy handed over.

use crate::tools;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use tools::{on_path, precondition};
use wxemu::intercept::{
    InterceptHandler, Intercepted, InterceptedHosts, Proxy, ProxyOptions, PAC_CONTENT_TYPE,
};
use wxemu_certs::InterceptCa;

/// A running proxy and what the tests need to talk to it.
struct TestProxy {
    addr: SocketAddr,
    ca: Arc<InterceptCa>,
    _data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestProxy {
    async fn start(offline: bool) -> TestProxy {
        TestProxy::start_with(offline, InterceptedHosts::default()).await
    }

    async fn start_with(offline: bool, hosts: InterceptedHosts) -> TestProxy {
        let data = tempfile::tempdir().expect("tempdir");
        let ca = Arc::new(InterceptCa::ensure(data.path()).expect("interception CA"));
        let mut options = ProxyOptions::new(0, hosts);
        options.offline = offline;
        let handler: Arc<dyn InterceptHandler> = Arc::new(serve_as_host);
        let proxy = Proxy::bind(options, ca.clone()).await.expect("bind");
        let addr = proxy.local_addr();
        assert_eq!(proxy.pac_url(), format!("http://{addr}/proxy.pac"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(proxy.run(handler, async move {
            let _ = stopped.await;
        }));
        TestProxy {
            addr,
            ca,
            _data: data,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("proxy stops")
            .expect("proxy task");
    }

    /// Sends `CONNECT target`, returns the stream after the response head and the head.
    async fn connect(&self, target: &str) -> (TcpStream, String) {
        let mut tcp = TcpStream::connect(self.addr).await.expect("connect proxy");
        tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
            .await
            .expect("write CONNECT");
        let head = read_head(&mut tcp).await;
        (tcp, head)
    }

    /// `CONNECT host:443`, then TLS validated against the interception CA only.
    async fn tls_to(&self, host: &str, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
        let (tcp, head) = self.connect(&format!("{host}:443")).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let config = tools::client_trusting(self.ca.cert_der(), alpn);
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from(host.to_owned()).expect("name"), tcp)
            .await
            .expect("TLS through the proxy, verified against the interception CA")
    }

    /// A raw request to the proxy itself; returns the whole response.
    async fn raw(&self, request: &str) -> String {
        let mut tcp = TcpStream::connect(self.addr).await.expect("connect proxy");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out))
            .await
            .expect("answer in time")
            .expect("read");
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Reads up to and including the blank line that ends an HTTP response head.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("response head in time")
            .expect("read head");
        if n == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Stands in for wxemu's router: serves HTTP/1.1 or HTTP/2 on the intercepted stream,
/// answering `served <host> <alpn> <method> <path> <Host header>`.
async fn serve_as_host(connection: Intercepted) {
    let alpn = String::from_utf8_lossy(connection.alpn().unwrap_or(b"none")).into_owned();
    let host = connection.host.clone();
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let line = format!(
            "served {host} {alpn} {} {} {}",
            req.method(),
            req.uri().path(),
            req.headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .or_else(|| req.uri().authority().map(|a| a.as_str()))
                .unwrap_or("-"),
        );
        async move { Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(line)))) }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(connection.stream), service)
        .await;
}

async fn get_http1<S>(stream: S, host: &str, path: &str) -> (u16, String)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("http1 handshake");
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = sender.send_request(req).await.expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn connect_to_intercepted_hosts_is_served_with_a_leaf_per_host() {
    let proxy = TestProxy::start(true).await;
    let mut leaves = Vec::new();
    for host in [
        "open.weixin.qq.com",
        "lp.open.weixin.qq.com",
        "res.wx.qq.com",
        "api.weixin.qq.com",
    ] {
        // HTTP/1.1
        let tls = proxy.tls_to(host, &[b"http/1.1"]).await;
        let leaf = tls.get_ref().1.peer_certificates().expect("certs")[0].to_vec();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let (status, body) = get_http1(tls, host, "/sns/auth").await;
        assert_eq!(status, 200);
        assert_eq!(body, format!("served {host} http/1.1 GET /sns/auth {host}"));
        leaves.push(leaf);

        // HTTP/2 on a second connection.
        let tls = proxy.tls_to(host, &[b"h2", b"http/1.1"]).await;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let body = tools::get_h2(tls, &format!("https://{host}/connect/qrconnect")).await;
        assert_eq!(
            body,
            format!("served {host} h2 GET /connect/qrconnect {host}")
        );
    }
    leaves.dedup();
    assert_eq!(leaves.len(), 4, "one leaf per host");
    assert_eq!(proxy.ca.cached_leaves(), 4);
    proxy.stop().await;
}

#[tokio::test]
async fn intercepted_host_with_a_mismatched_sni_or_port_is_refused() {
    let proxy = TestProxy::start(true).await;

    // Port other than 443: refused, never tunnelled to the real host.
    let (_tcp, head) = proxy.connect("api.weixin.qq.com:8443").await;
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");

    // SNI naming another host than the CONNECT target: the handshake fails.
    let (tcp, head) = proxy.connect("api.weixin.qq.com:443").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let config = tools::client_trusting(proxy.ca.cert_der(), &[]);
    let result = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            ServerName::try_from("open.weixin.qq.com").expect("name"),
            tcp,
        )
        .await;
    assert!(result.is_err(), "SNI mismatch must not be served");

    // Without SNI (an IP-less name is impossible; the client disables SNI): the CONNECT
    // target's leaf is served and validates for that name.
    let (tcp, head) = proxy.connect("res.wx.qq.com:443").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut config = tools::client_trusting(proxy.ca.cert_der(), &[]);
    config.enable_sni = false;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("res.wx.qq.com").expect("name"), tcp)
        .await
        .expect("no-SNI client gets the CONNECT target's leaf");
    let (status, body) = get_http1(tls, "res.wx.qq.com", "/connect/qrcode/x").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("served res.wx.qq.com "), "{body}");
    proxy.stop().await;
}

/// A loopback target that greets first, then echoes everything until EOF, then sends a
/// trailer: data in both directions, server-first bytes and half-close all cross the
/// tunnel.
async fn echo_target() -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        tcp.write_all(b"\x00hello from target\xff")
            .await
            .expect("greet");
        let mut received = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = tcp.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
            tcp.write_all(&buf[..n]).await.expect("echo");
        }
        tcp.write_all(b"\r\nbye").await.expect("trailer");
        received
    });
    (addr, task)
}

fn payload() -> Vec<u8> {
    // Every byte value, CR/LF and what looks like HTTP, in 1 MiB of deterministic noise.
    let mut data: Vec<u8> = (0..=255u8).collect();
    data.extend_from_slice(b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\nCONNECT x:1 HTTP/1.1\r\n\r\n");
    let mut x: u32 = 0x9e37_79b9;
    while data.len() < 1 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.push(x as u8);
    }
    data
}

async fn tunnel_round_trip(
    proxy: &TestProxy,
    target: &str,
    task: tokio::task::JoinHandle<Vec<u8>>,
) {
    let (tcp, head) = proxy.connect(target).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let data = payload();
    let (mut read, mut write) = tcp.into_split();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        write.write_all(&sent).await.expect("send");
        write.shutdown().await.expect("half-close");
        write
    });
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), read.read_to_end(&mut received))
        .await
        .expect("tunnel finishes")
        .expect("read");
    let _write = writer.await.expect("writer");
    let target_got = task.await.expect("target");
    assert!(target_got == data, "target received exactly what was sent");
    let mut expected = b"\x00hello from target\xff".to_vec();
    expected.extend_from_slice(&data);
    expected.extend_from_slice(b"\r\nbye");
    assert!(
        received == expected,
        "client received exactly what the target sent"
    );
}

/// Bytes a client sends right behind its CONNECT head, in the same packet (hyper has
/// read them with the head), still reach the target first and intact.
#[tokio::test]
async fn bytes_pipelined_behind_connect_reach_the_target() {
    let proxy = TestProxy::start(false).await;
    let (addr, task) = echo_target().await;
    let mut tcp = TcpStream::connect(proxy.addr).await.expect("proxy");
    let target = format!("127.0.0.1:{}", addr.port());
    let mut first = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").into_bytes();
    first.extend_from_slice(b"early\r\n\r\nbytes");
    tcp.write_all(&first).await.expect("CONNECT and bytes");
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    tcp.write_all(b" and later ones").await.expect("more");
    tcp.shutdown().await.expect("half-close");
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut received))
        .await
        .expect("tunnel finishes")
        .expect("read");
    assert_eq!(
        task.await.expect("target"),
        b"early\r\n\r\nbytes and later ones"
    );
    assert!(received.ends_with(b"early\r\n\r\nbytes and later ones\r\nbye"));
    proxy.stop().await;
}

#[tokio::test]
async fn connect_elsewhere_is_a_byte_for_byte_tunnel() {
    let proxy = TestProxy::start(false).await;
    let (addr, task) = echo_target().await;
    tunnel_round_trip(&proxy, &format!("127.0.0.1:{}", addr.port()), task).await;
    // By name too: localhost is reached without DNS.
    let (addr, task) = echo_target().await;
    tunnel_round_trip(&proxy, &format!("localhost:{}", addr.port()), task).await;
    proxy.stop().await;
}

#[tokio::test]
async fn offline_refuses_other_hosts_with_a_clear_502_but_tunnels_loopback() {
    let proxy = TestProxy::start(true).await;
    let (_tcp, head) = proxy.connect("example.com:443").await;
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");
    // The body says why (read it through a fresh raw request for simplicity).
    let response = proxy
        .raw("CONNECT open.weixin.qq.com.evil.example:443 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    assert!(response.starts_with("HTTP/1.1 502"), "{response}");
    assert!(response.contains("offline"), "{response}");
    assert!(
        response.contains("open.weixin.qq.com.evil.example:443 was refused"),
        "{response}"
    );
    let response = proxy
        .raw("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
        .await;
    assert!(response.starts_with("HTTP/1.1 502"), "{response}");
    assert!(
        response.contains("example.com:80 was refused"),
        "{response}"
    );

    // Loopback still works offline: the site under test is on this machine.
    let (addr, task) = echo_target().await;
    tunnel_round_trip(&proxy, &format!("127.0.0.1:{}", addr.port()), task).await;
    proxy.stop().await;
}

#[tokio::test]
async fn unreachable_targets_and_bad_requests_get_clear_errors() {
    let proxy = TestProxy::start(false).await;
    // A loopback port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let response = proxy
        .raw(&format!(
            "CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(response.starts_with("HTTP/1.1 502"), "{response}");
    assert!(response.contains("cannot reach"), "{response}");

    for bad in [
        "CONNECT example.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "CONNECT [::1:443 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET ftp://example.com/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "garbage\r\n\r\n",
    ] {
        let response = proxy.raw(bad).await;
        assert!(
            response.starts_with("HTTP/1.1 400"),
            "{bad:?} -> {response}"
        );
    }
    // The proxy does not tunnel to itself.
    let response = proxy
        .raw(&format!(
            "CONNECT 127.0.0.1:{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            proxy.addr.port()
        ))
        .await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    proxy.stop().await;
}

#[tokio::test]
async fn plain_http_is_forwarded_and_intercepted_hosts_are_sent_to_https() {
    let proxy = TestProxy::start(true).await;
    // A loopback HTTP server that reports what it received.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let target = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let service =
                hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await.expect("body").to_bytes();
                    let mut seen: Vec<String> = parts
                        .headers
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.to_str().unwrap_or("?")))
                        .collect();
                    seen.sort();
                    let line = format!(
                        "{} {} [{}] {}",
                        parts.method,
                        parts.uri,
                        seen.join(" "),
                        String::from_utf8_lossy(&body)
                    );
                    let response = Response::builder()
                        .header("x-upstream", "yes")
                        .body(Full::new(Bytes::from(line)))
                        .expect("response");
                    Ok::<_, std::convert::Infallible>(response)
                });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });

    let body = "a=1&b=\u{4e2d}";
    let response = proxy
        .raw(&format!(
            "POST http://127.0.0.1:{}/sns/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\nX-Keep: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            target.port(),
            target.port(),
            body.len()
        ))
        .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("x-upstream: yes"),
        "{response}"
    );
    let expected = format!(
        "POST /sns/x?y=1 [content-length={} host=127.0.0.1:{} x-keep=1] {body}",
        body.len(),
        target.port()
    );
    assert!(
        response.ends_with(&expected),
        "{response}\nexpected tail: {expected}"
    );

    // http:// to an intercepted host: redirected to https, never forwarded.
    let response = proxy
        .raw("GET http://open.weixin.qq.com/connect/qrconnect?appid=x HTTP/1.1\r\nHost: open.weixin.qq.com\r\nConnection: close\r\n\r\n")
        .await;
    assert!(response.starts_with("HTTP/1.1 308"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("location: https://open.weixin.qq.com/connect/qrconnect?appid=x"),
        "{response}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn own_pages_answer_loopback_hosts_only() {
    let hosts = InterceptedHosts::new(["api.weixin.qq.com", "open.weixin.qq.com"]).expect("hosts");
    let proxy = TestProxy::start_with(false, hosts).await;
    let port = proxy.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let response = proxy
            .raw(&format!(
                "GET /proxy.pac HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            ))
            .await;
        assert!(response.starts_with("HTTP/1.1 200"), "{host}: {response}");
        assert!(
            response
                .to_ascii_lowercase()
                .contains(&format!("content-type: {PAC_CONTENT_TYPE}")),
            "{response}"
        );
        assert!(response.contains("FindProxyForURL"), "{response}");
    }
    for host in [
        format!("evil.example:{port}"),
        format!("localhost.weixin.qq.com:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        for path in ["/proxy.pac", "/"] {
            let response = proxy
                .raw(&format!(
                    "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                ))
                .await;
            assert!(
                response.starts_with("HTTP/1.1 403"),
                "{host}{path}: {response}"
            );
            assert!(!response.contains("FindProxyForURL"), "{response}");
            assert!(!response.contains("api.weixin.qq.com"), "{response}");
        }
    }
    let status = proxy
        .raw(&format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(
        status.contains("intercepted (port 443): api.weixin.qq.com, open.weixin.qq.com"),
        "{status}"
    );
    assert!(status.contains(proxy.ca.fingerprint_sha256()), "{status}");
    let missing = proxy
        .raw(&format!(
            "GET /nope HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let post = proxy
        .raw(&format!(
            "POST /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    proxy.stop().await;
}

/// The PAC file, fetched from the proxy and run by node's JavaScript engine with the
/// PAC helpers that would resolve names defined to fail the test if ever called.
#[tokio::test]
async fn pac_sends_exactly_the_intercepted_hosts_through_the_proxy() {
    if !precondition(on_path("node"), "node is not installed") {
        return;
    }
    let proxy = TestProxy::start(false).await;
    let port = proxy.addr.port();
    let response = proxy
        .raw(&format!(
            "GET /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ))
        .await;
    let pac = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .expect("body");
    let cases: &[(&str, bool)] = &[
        ("open.weixin.qq.com", true),
        ("lp.open.weixin.qq.com", true),
        ("long.open.weixin.qq.com", true),
        ("res.wx.qq.com", true),
        ("api.weixin.qq.com", true),
        ("API.Weixin.QQ.com", true),
        ("open.weixin.qq.com.", true),
        ("localhost.weixin.qq.com", false),
        ("open.weixin.qq.com.evil.example", false),
        ("evil-open.weixin.qq.com", false),
        ("xopen.weixin.qq.com", false),
        ("weixin.qq.com", false),
        ("mp.weixin.qq.com", false),
        ("127.0.0.1", false),
        ("localhost", false),
        ("::1", false),
        ("example.com", false),
    ];
    let hosts: Vec<String> = cases.iter().map(|(h, _)| format!("{h:?}")).collect();
    let script = format!(
        "function boom(name) {{ return function () {{ throw new Error('PAC called ' + name); }}; }}\n\
         var dnsResolve = boom('dnsResolve'), isInNet = boom('isInNet'), \
         isResolvable = boom('isResolvable'), myIpAddress = boom('myIpAddress');\n\
         {pac}\n\
         for (const h of [{}]) console.log(h + ' ' + FindProxyForURL('https://' + h + '/x', h));\n",
        hosts.join(", ")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pac.js");
    std::fs::write(&file, script).expect("write");
    let mut cmd = std::process::Command::new("node");
    cmd.arg(&file);
    let out = tokio::task::spawn_blocking(move || tools::run_bounded(cmd, Duration::from_secs(30)))
        .await
        .expect("node");
    let (ok, output) = tools::success_and_output(&out);
    assert!(ok, "{output}");
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{output}");
    for ((host, proxied), line) in cases.iter().zip(lines) {
        let expected = if *proxied {
            format!("{host} PROXY 127.0.0.1:{port}")
        } else {
            format!("{host} DIRECT")
        };
        assert_eq!(line, expected);
    }
    proxy.stop().await;
}
