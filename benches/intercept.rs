//! What interception costs, as ratios measured in the same run (absolute numbers do
//! not carry over between noisy machines):
//!   t. the token API (`GET /sns/userinfo`): through the proxy as api.weixin.qq.com
//!      (CONNECT once per connection, TLS with the interception CA, keep-alive) vs
//!      direct to wxemu's own listener; target: at most 15% fewer requests per second.
//!   u. a 1 KiB answer from a local plain-HTTP server: through a CONNECT tunnel
//!      (keep-alive inside it) vs direct; target: at most 15% fewer. For scale, the
//!      same through the least any relay does (u2: accept, connect, tokio's
//!      copy_bidirectional; no HTTP, no CONNECT): u1/u2 is what the proxy costs beyond
//!      the second loopback TCP hop every relay adds.
//! CONNECTIONS keep-alive connections per case; the cases take turns in ROUNDS slices
//! (WXEMU_BENCH_SECS per case in all, default 5) and each ratio is the median of the
//! per-round ratios. Under `cargo test` it runs one short round as a smoke test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use wxemu::core::ApprovalMode;
use wxemu::intercept::InterceptOptions;
use wxemu::{ServeOptions, Server};

const CONNECTIONS: usize = 8;
const ROUNDS: usize = 10;
const APPID: &str = "wxa04304ceaedaf538";
const CHECK_LOGIN: &str = r#"{"apiname":"qrconnectchecklogin","jsdata":{"appid":"wxa04304ceaedaf538","scope":"snsapi_login","redirect_uri":"https://site.example/cb?app=website","state":"9ec633939ab2fd6f"}}"#;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// How a case's connections are made.
#[derive(Clone)]
enum Way {
    /// TLS straight to wxemu as localhost.weixin.qq.com.
    Direct {
        addr: SocketAddr,
        tls: Arc<rustls::ClientConfig>,
    },
    /// CONNECT api.weixin.qq.com:443 through the proxy, then TLS as that host.
    Intercepted {
        proxy: SocketAddr,
        tls: Arc<rustls::ClientConfig>,
    },
    /// Plain HTTP straight to a local server.
    Plain { addr: SocketAddr },
    /// CONNECT to the same local server through the proxy, plain HTTP inside.
    Tunnelled {
        proxy: SocketAddr,
        target: SocketAddr,
    },
}

async fn through_proxy(proxy: SocketAddr, target: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(proxy).await.expect("proxy");
    tcp.set_nodelay(true).unwrap();
    tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(tcp.read(&mut b).await.unwrap(), 1, "proxy closed");
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

async fn handshake<S>(io: S) -> Sender
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

impl Way {
    async fn connect(&self) -> (Sender, String) {
        match self {
            Way::Direct { addr, tls } => {
                let tcp = TcpStream::connect(addr).await.unwrap();
                tcp.set_nodelay(true).unwrap();
                let name = ServerName::try_from("localhost.weixin.qq.com").unwrap();
                let tls = TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await
                    .unwrap();
                (
                    handshake(tls).await,
                    format!("localhost.weixin.qq.com:{}", addr.port()),
                )
            }
            Way::Intercepted { proxy, tls } => {
                let tcp = through_proxy(*proxy, "api.weixin.qq.com:443").await;
                let name = ServerName::try_from("api.weixin.qq.com").unwrap();
                let tls = TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await
                    .unwrap();
                (handshake(tls).await, "api.weixin.qq.com".to_owned())
            }
            Way::Plain { addr } => {
                let tcp = TcpStream::connect(addr).await.unwrap();
                tcp.set_nodelay(true).unwrap();
                (handshake(tcp).await, addr.to_string())
            }
            Way::Tunnelled { proxy, target } => {
                let tcp = through_proxy(*proxy, &target.to_string()).await;
                (handshake(tcp).await, target.to_string())
            }
        }
    }
}

async fn get(sender: &mut Sender, host: &str, path: &str) -> Bytes {
    let request = Request::get(path)
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("response");
    response.into_body().collect().await.unwrap().to_bytes()
}

async fn post(sender: &mut Sender, host: &str, path: &str, body: String) -> Bytes {
    let request = Request::post(path)
        .header("host", host)
        .header("origin", "https://open.weixin.qq.com")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("response");
    response.into_body().collect().await.unwrap().to_bytes()
}

/// A userinfo query for a token got the way a site does (fast login, code, token).
async fn userinfo_query(direct: &Way) -> String {
    let (mut sender, host) = direct.connect().await;
    let body = post(
        &mut sender,
        &host,
        "/api/check-login",
        CHECK_LOGIN.to_owned(),
    )
    .await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut request: serde_json::Value = serde_json::from_str(CHECK_LOGIN).unwrap();
    request["apiname"] = "qrconnectfastauthorize".into();
    request["jsdata"]["authorize_uuid"] = json["jsdata"]["authorize_uuid"].clone();
    request["jsdata"]["data"] = r#"{"x":576,"y":391.5}"#.into();
    let body = post(&mut sender, &host, "/api/authorize", request.to_string()).await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let url = json["jsdata"]["redirect_url"]
        .as_str()
        .expect("redirect_url");
    let code = url
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let path = format!(
        "/sns/oauth2/access_token?appid={APPID}&secret=s&code={code}&grant_type=authorization_code"
    );
    let token: serde_json::Value =
        serde_json::from_slice(&get(&mut sender, &host, &path).await).unwrap();
    format!(
        "/sns/userinfo?access_token={}&openid={}",
        token["access_token"].as_str().expect("access_token"),
        token["openid"].as_str().expect("openid")
    )
}

/// Requests per second over CONNECTIONS keep-alive connections made `way`.
async fn drive(way: Way, path: Arc<String>, expect: &'static [u8], run_for: Duration) -> f64 {
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONNECTIONS {
        let (way, path) = (way.clone(), path.clone());
        workers.push(tokio::spawn(async move {
            let (mut sender, host) = way.connect().await;
            let mut done = 0u64;
            loop {
                let body = get(&mut sender, &host, &path).await;
                assert!(body.starts_with(expect), "{body:?}");
                done += 1;
                if start.elapsed() >= run_for {
                    return done;
                }
            }
        }));
    }
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// A plain-HTTP loopback server answering every request with 1 KiB.
async fn kib_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Bytes::from(vec![b'x'; 1024]);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tcp.set_nodelay(true).unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(body)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

/// The least a relay can do: each connection accepted here is copied both ways to
/// `target`, nothing parsed.
async fn bare_relay(target: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            client.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut upstream = TcpStream::connect(target).await.unwrap();
                upstream.set_nodelay(true).unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    addr
}

fn client_tls(ca_der: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec())).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The allocator the `wxemu` binary ships with (src/bin/wxemu/main.rs): the server
/// runs in this process, so the bench allocates as the binary does. The
/// ceiling and the client share it: ratios compare like with like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("WXEMU_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let run_for = Duration::from_secs_f64(if benching { secs } else { 0.2 });
    let data_dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (direct, intercepted, proxy) = runtime.block_on(async {
        let mut options = ServeOptions::new(data_dir.path().to_owned());
        options.port = 0;
        options.approval = ApprovalMode::Auto;
        options.intercept = InterceptOptions {
            proxy_port: Some(0),
            proxy_offline: false,
            intercept_port: None,
        };
        let server = Server::bind(options).await.unwrap();
        let interception = server.interception().expect("interception");
        let proxy = interception.proxy_addr().expect("proxy");
        let intercept_tls = client_tls(interception.ca().cert_der());
        let direct = Way::Direct {
            addr: server.local_addr(),
            tls: client_tls(&server.certs().ca_cert_der),
        };
        tokio::spawn(server.run(std::future::pending()));
        (
            direct,
            Way::Intercepted {
                proxy,
                tls: intercept_tls,
            },
            proxy,
        )
    });
    let userinfo = Arc::new(runtime.block_on(userinfo_query(&direct)));
    let kib = runtime.block_on(kib_server());
    let relay = runtime.block_on(bare_relay(kib));
    let root = Arc::new("/".to_owned());
    let cases: [(&str, Way, Arc<String>, &'static [u8]); 5] = [
        (
            "t0. token API, direct",
            direct,
            userinfo.clone(),
            b"{\"openid\"",
        ),
        (
            "t1. token API, as api.weixin.qq.com via proxy",
            intercepted,
            userinfo,
            b"{\"openid\"",
        ),
        (
            "u0. 1 KiB, direct",
            Way::Plain { addr: kib },
            root.clone(),
            b"xxxx",
        ),
        (
            "u1. 1 KiB, through a CONNECT tunnel",
            Way::Tunnelled { proxy, target: kib },
            root.clone(),
            b"xxxx",
        ),
        (
            "u2. 1 KiB, through a bare relay (for scale)",
            Way::Plain { addr: relay },
            root,
            b"xxxx",
        ),
    ];
    let rounds = if benching { ROUNDS } else { 1 };
    let slice = run_for / rounds as u32;
    let mut measured: Vec<Vec<f64>> = Vec::new();
    for _ in 0..rounds {
        measured.push(
            cases
                .iter()
                .map(|(_, way, path, expect)| {
                    runtime.block_on(drive(way.clone(), path.clone(), expect, slice))
                })
                .collect(),
        );
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (i, (label, ..)) in cases.iter().enumerate() {
        let per_second = median(measured.iter().map(|r| r[i]).collect());
        println!("{label:<48} {per_second:>9.0} /s");
    }
    let ratio = |a: usize, b: usize| median(measured.iter().map(|r| r[b] / r[a]).collect());
    println!("median of {rounds} per-round ratios (target >= 0.85):");
    println!(
        "  t1/t0  token API through the proxy vs direct   {:.3}",
        ratio(0, 1)
    );
    println!(
        "  u1/u0  1 KiB through a tunnel vs direct        {:.3}",
        ratio(2, 3)
    );
    println!("for scale (no target):");
    println!(
        "  u2/u0  1 KiB through a bare relay vs direct    {:.3}",
        ratio(2, 4)
    );
    println!(
        "  u1/u2  the proxy's tunnel vs a bare relay      {:.3}",
        ratio(4, 3)
    );
}
