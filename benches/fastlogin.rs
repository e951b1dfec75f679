//! Throughput and latency of the fast-login API against a ceiling measured
//! in the same run: ratios, not absolute numbers, are what carries over
//! between noisy machines.
//!
//! `cargo bench --bench fastlogin` drives each case over CONNECTIONS
//! keep-alive TLS connections with the same client TLS config:
//!   a. a bare hyper + rustls responder returning a fixed body (the ceiling),
//!      with wxemu's own TLS config;
//!   s. wxemu's whole stack for a fixed page (`GET /`): listener, limits,
//!      Host check, router; no API work (shows where a gap comes from);
//!   b. check-login;
//!   c. check-login -> authorize with `--approve auto` (one login = both);
//!   t. the token API a site's backend calls: `GET /sns/userinfo`;
//!   v. `wx.config`'s check, as the H5 bridge asks it: `POST /h5/verify`
//!      with a valid signature.
//! The cases take turns in ROUNDS short slices (WXEMU_BENCH_SECS in all per
//! case, default 5) and each ratio is the median of the per-round ratios, so
//! load that comes and goes on a shared machine hits every case alike.
//! Then the headless binary's start-to-first-TLS-answer time and idle RSS.
//! Under `cargo test` it runs one short round as a smoke test.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use wxemu::client::{Client, Connection};
use wxemu::core::ApprovalMode;
use wxemu::{ServeOptions, Server};

const CONNECTIONS: usize = 8;
const ROUNDS: usize = 10;
const ORIGIN: &str = "https://open.weixin.qq.com";
const CHECK_LOGIN: &str = r#"{"apiname":"qrconnectchecklogin","jsdata":{"appid":"wxa04304ceaedaf538","scope":"snsapi_login","redirect_uri":"https://site.example/cb?app=website","state":"9ec633939ab2fd6f"}}"#;

/// The same client for every case: HTTP/1.1 keep-alive connections, TLS
/// trusting wxemu's CA (the ceiling serves wxemu's certificate too).
fn client(addr: SocketAddr, ca_der: &[u8]) -> Client {
    Client::builder(addr)
        .trust_der(ca_der.to_vec())
        .http1_only()
        .build()
        .expect("client")
}

async fn connect(client: &Client) -> Connection {
    client.connect().await.expect("connect")
}

async fn get(connection: &mut Connection, path_and_query: &str) -> Bytes {
    let request = Request::get(path_and_query)
        .body(Full::new(Bytes::new()))
        .unwrap();
    connection.send(request).await.expect("response").body
}

async fn post(connection: &mut Connection, path: &str, body: String) -> Bytes {
    let request = Request::post(path)
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    connection.send(request).await.expect("response").body
}

/// One unit of work (a request, or a whole login) on a connection.
async fn one(kind: Case, connection: &mut Connection) {
    match kind {
        Case::Stack => {
            let body = get(connection, "/").await;
            assert!(body.starts_with(b"wxemu"), "{body:?}");
        }
        Case::UserInfo(query) => {
            let body = get(connection, query).await;
            assert!(body.starts_with(b"{\"openid\""), "{body:?}");
        }
        Case::Ceiling | Case::CheckLogin => {
            let body = post(connection, "/api/check-login", CHECK_LOGIN.to_owned()).await;
            assert!(body.starts_with(b"{\"apiname\""), "{body:?}");
        }
        Case::Login => {
            login(connection).await;
        }
        Case::Verify(body) => {
            let body = post(connection, "/h5/verify", body.to_owned()).await;
            assert!(
                body.starts_with(b"{\"err_msg\":\"pre_verify_jsapi:ok\""),
                "{body:?}"
            );
        }
    }
}

/// A `/h5/verify` body signed over a live jsapi ticket, got the way an
/// Official Account's backend gets one.
async fn verify_body(client: &Client) -> &'static str {
    let mut connection = connect(client).await;
    let appid = "wx0be4c40000000001";
    let token: serde_json::Value = serde_json::from_slice(
        &get(
            &mut connection,
            &format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret=s"),
        )
        .await,
    )
    .unwrap();
    let ticket: serde_json::Value = serde_json::from_slice(
        &get(
            &mut connection,
            &format!(
                "/cgi-bin/ticket/getticket?access_token={}&type=jsapi",
                token["access_token"].as_str().expect("access_token")
            ),
        )
        .await,
    )
    .unwrap();
    let url = "https://h5.example/shop/index.html?from=menu";
    let signature = wxemu::core::signature(
        ticket["ticket"].as_str().expect("ticket"),
        "n0nce",
        "1700000000",
        url,
    );
    let body = serde_json::json!({
        "appId": appid, "url": url, "href": url, "landing_url": url,
        "timestamp": 1700000000, "nonceStr": "n0nce", "signature": signature,
        "jsApiList": ["chooseWXPay", "updateAppMessageShareData", "onMenuShareTimeline"],
    });
    Box::leak(body.to_string().into_boxed_str())
}

/// check-login then authorize; returns the code.
async fn login(connection: &mut Connection) -> String {
    {
        {
            let body = post(connection, "/api/check-login", CHECK_LOGIN.to_owned()).await;
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let uuid = json["jsdata"]["authorize_uuid"].as_str().expect("uuid");
            let mut request: serde_json::Value = serde_json::from_str(CHECK_LOGIN).unwrap();
            request["apiname"] = "qrconnectfastauthorize".into();
            request["jsdata"]["authorize_uuid"] = uuid.into();
            request["jsdata"]["data"] = r#"{"x":576,"y":391.5}"#.into();
            let body = post(connection, "/api/authorize", request.to_string()).await;
            assert!(body.windows(10).any(|w| w == b"\"errcode\":"), "{body:?}");
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let url = json["jsdata"]["redirect_url"]
                .as_str()
                .expect("redirect_url");
            let code = url
                .split("code=")
                .nth(1)
                .and_then(|rest| rest.split('&').next());
            code.expect("a code").to_owned()
        }
    }
}

/// `/sns/userinfo?access_token=..&openid=..` for a token got the way a site does.
async fn userinfo_query(client: &Client) -> &'static str {
    let mut connection = connect(client).await;
    let code = login(&mut connection).await;
    let path = format!(
        "/sns/oauth2/access_token?appid=wxa04304ceaedaf538&secret=s&code={code}&grant_type=authorization_code"
    );
    let token: serde_json::Value =
        serde_json::from_slice(&get(&mut connection, &path).await).unwrap();
    let query = format!(
        "/sns/userinfo?access_token={}&openid={}",
        token["access_token"].as_str().expect("access_token"),
        token["openid"].as_str().expect("openid")
    );
    Box::leak(query.into_boxed_str())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Case {
    Ceiling,
    Stack,
    CheckLogin,
    Login,
    UserInfo(&'static str),
    Verify(&'static str),
}

struct Measured {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn drive(kind: Case, client: Client, run_for: Duration) -> Measured {
    let mut workers = Vec::new();
    let start = Instant::now();
    for _ in 0..CONNECTIONS {
        let client = client.clone();
        workers.push(tokio::spawn(async move {
            let mut connection = connect(&client).await;
            // Warm the connection (handshake done, buffers sized).
            one(kind, &mut connection).await;
            let mut latencies = Vec::new();
            while start.elapsed() < run_for {
                let t = Instant::now();
                one(kind, &mut connection).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let elapsed = start.elapsed();
    all.sort();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Measured {
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

/// The ceiling: hyper + rustls with wxemu's TLS config and builder, no routing,
/// no state, a fixed body.
async fn ceiling(material: &wxemu_certs::Material) -> SocketAddr {
    let tls = TlsAcceptor::from(wxemu::server_config(material).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Bytes::from_static(br#"{"apiname":"qrconnectchecklogin","errcode":0,"jsdata":{"nickname":"n","headimgurl":"https://localhost.weixin.qq.com:14013/avatar/default/132","authorize_uuid":"033nd5fs2nhe300H"}}"#);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = tcp.set_nodelay(true);
            let tls = tls.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let Ok(stream) = tls.accept(tcp).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        async move {
                            let _ = request.into_body().collect().await;
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .header("content-type", "text/plain; charset=utf-8")
                                    .body(Full::new(body))
                                    .unwrap(),
                            )
                        }
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Start-to-first-TLS-answer of the release binary, certificates already
/// created; then its resident memory once idle.
fn start_time_and_idle_rss(
    data_dir: &std::path::Path,
    ca_der: &[u8],
    runs: usize,
) -> (Vec<Duration>, Option<u64>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut times = Vec::new();
    let mut rss = None;
    for run in 0..runs {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wxemu"))
            .args([
                "serve",
                "--approve",
                "auto",
                "--port",
                &port.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        runtime.block_on(async {
            let client = client(([127, 0, 0, 1], port).into(), ca_der);
            loop {
                if let Ok(mut connection) = client.connect().await {
                    one(Case::CheckLogin, &mut connection).await;
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        });
        times.push(started.elapsed());
        if run == runs - 1 {
            std::thread::sleep(Duration::from_secs(1));
            rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmRSS:"))
                        .map(str::to_owned)
                })
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    times.sort();
    (times, rss)
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
    let (wxemu_addr, material) = runtime.block_on(async {
        let mut options = ServeOptions::new(data_dir.path().to_owned());
        options.port = 0;
        options.approval = ApprovalMode::Auto;
        let server = Server::bind(options).await.unwrap();
        let addr = server.local_addr();
        let material = server.certs().clone();
        tokio::spawn(server.run(std::future::pending()));
        (addr, material)
    });
    let ceiling_addr = runtime.block_on(ceiling(&material));
    let ca_der = &material.ca_cert_der;

    let userinfo = runtime.block_on(userinfo_query(&client(wxemu_addr, ca_der)));
    let verify = runtime.block_on(verify_body(&client(wxemu_addr, ca_der)));
    let cases = [
        (
            Case::Ceiling,
            ceiling_addr,
            "a. hyper+rustls, fixed body (ceiling)",
        ),
        (
            Case::Stack,
            wxemu_addr,
            "s. wxemu stack, fixed page (GET /)",
        ),
        (Case::CheckLogin, wxemu_addr, "b. check-login"),
        (
            Case::Login,
            wxemu_addr,
            "c. check-login -> authorize (auto), per login",
        ),
        (
            Case::UserInfo(userinfo),
            wxemu_addr,
            "t. token API: GET /sns/userinfo",
        ),
        (
            Case::Verify(verify),
            wxemu_addr,
            "v. wx.config's check: POST /h5/verify",
        ),
    ];
    let rounds = if benching { ROUNDS } else { 1 };
    let slice = run_for / rounds as u32;
    let mut rounds_measured: Vec<Vec<Measured>> = Vec::new();
    for _ in 0..rounds {
        let mut round = Vec::new();
        for (kind, addr, _) in cases {
            let client = client(addr, ca_der);
            round.push(runtime.block_on(drive(kind, client, slice)));
        }
        rounds_measured.push(round);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (i, (_, _, label)) in cases.iter().enumerate() {
        let per_second = median(rounds_measured.iter().map(|r| r[i].per_second).collect());
        let p50 = median(
            rounds_measured
                .iter()
                .map(|r| r[i].p50.as_secs_f64())
                .collect(),
        );
        let p99 = median(
            rounds_measured
                .iter()
                .map(|r| r[i].p99.as_secs_f64())
                .collect(),
        );
        println!(
            "{label:<48} {per_second:>9.0} /s   p50 {:>7.3} ms   p99 {:>7.3} ms",
            p50 * 1e3,
            p99 * 1e3
        );
    }
    let ratio = |i: usize| {
        median(
            rounds_measured
                .iter()
                .map(|r| r[i].per_second / r[0].per_second)
                .collect(),
        )
    };
    println!("median of {rounds} per-round ratios:");
    println!("  s/a  wxemu stack vs ceiling            {:.3}", ratio(1));
    println!(
        "  b/a  check-login vs ceiling            {:.3}   (target >= 0.9)",
        ratio(2)
    );
    println!("  c/a  whole logins vs ceiling requests  {:.3}", ratio(3));
    println!("  t/a  token API vs ceiling              {:.3}", ratio(4));
    println!("  v/a  wx.config's check vs ceiling      {:.3}", ratio(5));
    drop(runtime);

    if benching {
        let (times, rss) = start_time_and_idle_rss(data_dir.path(), &material.ca_cert_der, 11);
        println!(
            "start to first TLS answer (release binary, certs exist, {} runs): median {:.1} ms, min {:.1} ms, max {:.1} ms   (target <= 20 ms)",
            times.len(),
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
        match rss {
            Some(kb) => println!(
                "idle RSS after the first answer: {:.1} MB   (target <= 10 MB)",
                kb as f64 / 1024.0
            ),
            None => println!("idle RSS: not measured (no /proc on this OS)"),
        }
    }
}
