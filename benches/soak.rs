//! Soak: the real `wxemu serve` binary under a long mixed load at a fixed
//! concurrency. Not part of the default test run (`harness = false`, and
//! under `cargo test` it only builds).
//!
//! `cargo bench --bench soak -- --requests 1000000 [--concurrency 64]`
//!
//! Each worker owns one keep-alive connection (half HTTP/1.1, half HTTP/2)
//! and reconnects when the server closes it, and loops over a fixed mix:
//! a fast login (check-login + authorize), the token API (access_token with
//! that code, then userinfo), the QR login page and its QR image, the
//! control API (health, a one-entry journal list), and two requests that
//! must be refused (a foreign Origin, a foreign Host). Every reply is
//! checked; anything unexpected is an error (must be 0).
//!
//! Reported: errors; p50/p99 per endpoint over the first and the last 5%
//! of the run; the server's RSS sampled every second (min/max after the
//! first 10% of requests: it must be flat after warm-up).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const BIN: &str = env!("CARGO_BIN_EXE_wxemu");
const APPID: &str = "wxa04304ceaedaf538";
const ORIGIN: &str = "https://open.weixin.qq.com";
const REDIRECT: &str = "https://site.example/cb?app=website";

struct Args {
    requests: u64,
    concurrency: usize,
    /// `--idle N`: first hold N idle connections and measure check-login.
    idle: usize,
    /// `--ulimit N`: the server's open-files limit (`ulimit -n`).
    ulimit: Option<u32>,
}

fn args() -> Option<Args> {
    let mut args = Args {
        requests: 1_000_000,
        concurrency: 64,
        idle: 0,
        ulimit: None,
    };
    let mut it = std::env::args().skip(1);
    let mut benching = false;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bench" => benching = true,
            "--requests" => args.requests = it.next()?.replace('_', "").parse().ok()?,
            "--concurrency" => args.concurrency = it.next()?.parse().ok()?,
            "--idle" => args.idle = it.next()?.parse().ok()?,
            "--ulimit" => args.ulimit = Some(it.next()?.parse().ok()?),
            _ => {}
        }
    }
    // `cargo test` runs bench targets without --bench: build only.
    benching.then_some(args)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Endpoint {
    CheckLogin,
    Authorize,
    AccessToken,
    Userinfo,
    LoginPage,
    QrImage,
    ControlHealth,
    ControlJournal,
    RefusedOrigin,
    RefusedHost,
}

/// Latencies (µs) of the first and last window of the run.
#[derive(Default)]
struct Samples {
    start: BTreeMap<Endpoint, Vec<u32>>,
    end: BTreeMap<Endpoint, Vec<u32>>,
}

struct Shared {
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    token: String,
    total: u64,
    issued: AtomicU64,
    done: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    samples: Mutex<Samples>,
    reconnects: AtomicUsize,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Shared {
    async fn connect(&self, h2: bool) -> Sender {
        let mut tls = (*self.tls).clone();
        tls.alpn_protocols = vec![if h2 {
            b"h2".to_vec()
        } else {
            b"http/1.1".to_vec()
        }];
        let tcp = TcpStream::connect(self.addr).await.expect("connect");
        tcp.set_nodelay(true).unwrap();
        let name = ServerName::try_from("localhost.weixin.qq.com").unwrap();
        let stream = TlsConnector::from(Arc::new(tls))
            .connect(name, tcp)
            .await
            .expect("TLS");
        if h2 {
            let (sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            Sender::H2(sender)
        } else {
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            Sender::H1(sender)
        }
    }

    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap();
        if first.is_none() {
            *first = Some(what);
        }
    }

    fn record(&self, endpoint: Endpoint, seq: u64, latency: Duration) {
        let window = (self.total / 20).max(1);
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        let mut samples = self.samples.lock().unwrap();
        if seq < window {
            samples.start.entry(endpoint).or_default().push(micros);
        } else if seq >= self.total.saturating_sub(window) {
            samples.end.entry(endpoint).or_default().push(micros);
        }
    }
}

fn request(
    shared: &Shared,
    method: Method,
    path: &str,
    host: Option<&str>,
    origin: Option<&str>,
    body: String,
) -> Request<Full<Bytes>> {
    let port = shared.addr.port();
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(
            "host",
            host.map(str::to_owned)
                .unwrap_or_else(|| format!("localhost.weixin.qq.com:{port}")),
        )
        .header("content-type", "application/json");
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    if path.starts_with("/__wxemu/") {
        builder = builder.header("authorization", format!("Bearer {}", shared.token));
    }
    builder.body(Full::new(Bytes::from(body))).unwrap()
}

/// One worker: its own connection, the mix in a loop until the run is done.
async fn worker(shared: Arc<Shared>, h2: bool) {
    let mut sender = shared.connect(h2).await;
    let mut code = String::new();
    let mut access_token = String::new();
    let mut state = String::new();
    let mut openid = String::new();
    let mut step = 0usize;
    loop {
        let seq = shared.issued.fetch_add(1, Ordering::Relaxed);
        if seq >= shared.total {
            return;
        }
        let endpoint = [
            Endpoint::CheckLogin,
            Endpoint::Authorize,
            Endpoint::AccessToken,
            Endpoint::Userinfo,
            Endpoint::LoginPage,
            Endpoint::QrImage,
            Endpoint::ControlHealth,
            Endpoint::ControlJournal,
            Endpoint::RefusedOrigin,
            Endpoint::RefusedHost,
        ][step % 10];
        step += 1;
        let (req, expect) = match endpoint {
            Endpoint::CheckLogin => {
                state = format!("s{seq}");
                (
                    request(&shared, Method::POST, "/api/check-login", None, Some(ORIGIN),
                        json!({"apiname": "qrconnectchecklogin", "jsdata": {"appid": APPID,
                            "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": state}}).to_string()),
                    StatusCode::OK,
                )
            }
            Endpoint::Authorize => (
                request(&shared, Method::POST, "/api/authorize", None, Some(ORIGIN),
                    json!({"apiname": "qrconnectfastauthorize", "jsdata": {"appid": APPID,
                        "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": state,
                        "authorize_uuid": code, "data": "{\"x\":1,\"y\":2}"}}).to_string()),
                StatusCode::OK,
            ),
            Endpoint::AccessToken => (
                request(&shared, Method::GET, &format!(
                    "/sns/oauth2/access_token?appid={APPID}&secret=x&code={code}&grant_type=authorization_code"),
                    None, None, String::new()),
                StatusCode::OK,
            ),
            Endpoint::Userinfo => (
                request(&shared, Method::GET, &format!(
                    "/sns/userinfo?access_token={access_token}&openid={openid}"), None, None, String::new()),
                StatusCode::OK,
            ),
            Endpoint::LoginPage => (
                request(&shared, Method::GET, &format!(
                    "/connect/qrconnect?appid={APPID}&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&response_type=code&scope=snsapi_login&state=s{seq}"),
                    None, None, String::new()),
                StatusCode::OK,
            ),
            Endpoint::QrImage => (
                request(&shared, Method::GET, &format!("/connect/qrcode/{code}"), None, None, String::new()),
                StatusCode::OK,
            ),
            Endpoint::ControlHealth => (
                request(&shared, Method::GET, "/__wxemu/health", None, None, String::new()),
                StatusCode::OK,
            ),
            Endpoint::ControlJournal => (
                request(&shared, Method::GET, "/__wxemu/journal?limit=1", None, None, String::new()),
                StatusCode::OK,
            ),
            Endpoint::RefusedOrigin => (
                request(&shared, Method::POST, "/api/check-login", None, Some("https://evil.example"), "{}".into()),
                StatusCode::FORBIDDEN,
            ),
            Endpoint::RefusedHost => (
                request(&shared, Method::GET, "/", Some("evil.example"), None, String::new()),
                StatusCode::FORBIDDEN,
            ),
        };
        let started = Instant::now();
        let sent = match &mut sender {
            Sender::H1(s) => match s.ready().await {
                Ok(()) => s.send_request(req).await,
                Err(e) => Err(e),
            },
            Sender::H2(s) => s.send_request(req).await,
        };
        let reply = match sent {
            Ok(response) => {
                let status = response.status();
                match response.into_body().collect().await {
                    Ok(body) => Some((status, body.to_bytes())),
                    Err(_) => None,
                }
            }
            Err(_) => None,
        };
        let latency = started.elapsed();
        shared.done.fetch_add(1, Ordering::Relaxed);
        let Some((status, body)) = reply else {
            // The server closed a keep-alive connection (idle timeout,
            // connection cap) between requests: reconnect and retry once.
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
            sender = shared.connect(h2).await;
            step -= 1;
            shared.done.fetch_sub(1, Ordering::Relaxed);
            continue;
        };
        if status != expect {
            shared.error(format!(
                "{endpoint:?}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
            continue;
        }
        shared.record(endpoint, seq, latency);
        // Carry what the next step needs.
        let json = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
        match endpoint {
            Endpoint::CheckLogin => {
                code = json()["jsdata"]["authorize_uuid"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                if code.is_empty() {
                    shared.error(format!("check-login: {}", String::from_utf8_lossy(&body)));
                }
            }
            Endpoint::Authorize => {
                let reply = json();
                let url = reply["jsdata"]["redirect_url"].as_str().unwrap_or("");
                code = url
                    .split(['?', '&'])
                    .find_map(|p| p.strip_prefix("code="))
                    .unwrap_or("")
                    .to_owned();
                if code.is_empty() {
                    shared.error(format!("authorize: {reply}"));
                }
            }
            Endpoint::AccessToken => {
                let reply = json();
                access_token = reply["access_token"].as_str().unwrap_or("").to_owned();
                openid = reply["openid"].as_str().unwrap_or("").to_owned();
                if access_token.is_empty() {
                    shared.error(format!("access_token: {reply}"));
                }
            }
            Endpoint::Userinfo if json()["openid"].as_str().is_none() => {
                shared.error(format!("userinfo: {}", String::from_utf8_lossy(&body)));
            }
            Endpoint::LoginPage => {
                let page = String::from_utf8_lossy(&body);
                code = page
                    .split("\"uuid\":\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or("")
                    .to_owned();
                if code.is_empty() {
                    shared.error("login page without a uuid".into());
                }
            }
            _ => {}
        }
    }
}

/// Opens `idle` connections that never send a request (half of them stop
/// after TCP, half after TLS), then times 500 check-logins, each on a fresh
/// connection as a page's first call would be; then waits for the server to
/// have closed the idle ones.
async fn idle_probe(shared: &Arc<Shared>, idle: usize, ulimit: Option<u32>) {
    let mut held: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    for i in 0..idle {
        let Ok(tcp) = TcpStream::connect(shared.addr).await else {
            continue;
        };
        if i % 2 == 0 {
            held.push(Box::new(tcp));
            continue;
        }
        let name = ServerName::try_from("localhost.weixin.qq.com").unwrap();
        let tls = TlsConnector::from(shared.tls.clone());
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_secs(5), tls.connect(name, tcp)).await
        {
            held.push(Box::new(stream));
        }
    }
    let opened = held.len();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for i in 0..500 {
        let started = Instant::now();
        let mut sender = shared.connect(i % 2 == 1).await;
        let req = request(
            shared,
            Method::POST,
            "/api/check-login",
            None,
            Some(ORIGIN),
            json!({"apiname": "qrconnectchecklogin", "jsdata": {"appid": APPID,
                "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": "probe"}})
            .to_string(),
        );
        let ok = match &mut sender {
            Sender::H1(s) => s
                .send_request(req)
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK),
            Sender::H2(s) => s
                .send_request(req)
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK),
        };
        if ok {
            latencies.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        } else {
            failures += 1;
        }
    }
    latencies.sort_unstable();
    println!(
        "idle probe: {opened} idle connections opened (server ulimit -n {}); 500 check-logins on fresh connections: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, failures {failures}",
        ulimit.map_or("unchanged".to_owned(), |n| n.to_string()),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    // The documented deadlines: handshake 10 s, first request 10 s after it.
    let deadline = Instant::now() + Duration::from_secs(25);
    let mut buf = [0u8; 1];
    let mut closed = 0;
    for conn in held.iter_mut() {
        let left = deadline.saturating_duration_since(Instant::now());
        let gone = if let Some(tcp) = conn.downcast_mut::<TcpStream>() {
            use tokio::io::AsyncReadExt;
            matches!(
                tokio::time::timeout(left, tcp.read(&mut buf)).await,
                Ok(Ok(0) | Err(_))
            )
        } else if let Some(tls) = conn.downcast_mut::<tokio_rustls::client::TlsStream<TcpStream>>()
        {
            use tokio::io::AsyncReadExt;
            matches!(
                tokio::time::timeout(left, tls.read(&mut buf)).await,
                Ok(Ok(0) | Err(_))
            )
        } else {
            false
        };
        closed += usize::from(gone);
    }
    println!("idle probe: {closed} of {opened} idle connections closed by the server within 25 s");
    if failures > 0 {
        shared.errors.fetch_add(failures, Ordering::Relaxed);
    }
}

fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

fn main() {
    let Some(args) = args() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let data_dir = tempfile::tempdir().unwrap();
    let limit = args
        .ulimit
        .map(|n| format!("ulimit -n {n} && "))
        .unwrap_or_default();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{limit}exec \"$0\" serve --port 0 --approve auto"))
        .arg(BIN)
        .env("WXEMU_DATA_DIR", data_dir.path())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Every refused request is a warning: not worth a terminal.
        .stderr(Stdio::null())
        .spawn()
        .expect("wxemu serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port: u16 = loop {
        let line = lines
            .next()
            .expect("serve prints where it listens")
            .unwrap();
        if let Some(port) = line
            .split("localhost.weixin.qq.com:")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
        {
            break port;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let pid = child.id();

    use rustls::pki_types::pem::PemObject;
    let ca = CertificateDer::from_pem_file(data_dir.path().join("ca.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let token = std::fs::read_to_string(data_dir.path().join("control-token"))
        .unwrap()
        .trim()
        .to_owned();
    let shared = Arc::new(Shared {
        addr: ([127, 0, 0, 1], port).into(),
        tls: Arc::new(tls),
        token,
        total: args.requests,
        issued: AtomicU64::new(0),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        first_error: Mutex::new(None),
        samples: Mutex::new(Samples::default()),
        reconnects: AtomicUsize::new(0),
    });
    if args.idle > 0 {
        idle_probe(&shared, args.idle, args.ulimit).await;
    }
    println!(
        "soak: {} requests, {} connections (half HTTP/1.1, half HTTP/2), server pid {pid}",
        args.requests, args.concurrency
    );
    let started = Instant::now();
    let rss_samples = Arc::new(Mutex::new(Vec::<(u64, u64)>::new()));
    let sampler = {
        let shared = shared.clone();
        let rss_samples = rss_samples.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut last_print = Instant::now();
            loop {
                tick.tick().await;
                let done = shared.done.load(Ordering::Relaxed);
                let rss = rss_bytes(pid);
                rss_samples.lock().unwrap().push((done, rss));
                if last_print.elapsed() >= Duration::from_secs(10) {
                    last_print = Instant::now();
                    println!(
                        "  {:>8} done  RSS {:>6.1} MB  errors {}",
                        done,
                        rss as f64 / 1048576.0,
                        shared.errors.load(Ordering::Relaxed)
                    );
                }
            }
        })
    };
    let workers: Vec<_> = (0..args.concurrency)
        .map(|i| tokio::spawn(worker(shared.clone(), i % 2 == 1)))
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    sampler.abort();
    let elapsed = started.elapsed();
    let final_rss = rss_bytes(pid);
    let _ = child.kill();
    let _ = child.wait();

    let errors = shared.errors.load(Ordering::Relaxed);
    println!(
        "\n{} requests in {:.1} s ({:.0}/s), errors: {errors}, reconnects after a server close: {}",
        args.requests,
        elapsed.as_secs_f64(),
        args.requests as f64 / elapsed.as_secs_f64(),
        shared.reconnects.load(Ordering::Relaxed)
    );
    if let Some(first) = shared.first_error.lock().unwrap().as_ref() {
        println!("first error: {first}");
    }
    // The run's own start is the baseline: the ratio says whether the
    // server got slower as its stores filled.
    println!(
        "\n{:<16} {:>10} {:>10}   {:>10} {:>10}   {:>9}",
        "endpoint (ms)", "p50 start", "p99 start", "p50 end", "p99 end", "p99 ×"
    );
    let mut samples = shared.samples.lock().unwrap();
    let Samples { start, end } = &mut *samples;
    for (endpoint, first) in start.iter_mut() {
        first.sort_unstable();
        let last = end.entry(*endpoint).or_default();
        last.sort_unstable();
        let (p99_start, p99_end) = (percentile(first, 0.99), percentile(last, 0.99));
        println!(
            "{:<16} {:>10.2} {:>10.2}   {:>10.2} {:>10.2}   {:>9.2}",
            format!("{endpoint:?}"),
            percentile(first, 0.5),
            p99_start,
            percentile(last, 0.5),
            p99_end,
            p99_end / p99_start.max(f64::EPSILON)
        );
    }
    let rss = rss_samples.lock().unwrap();
    let warm: Vec<u64> = rss
        .iter()
        .filter(|(done, _)| *done >= args.requests / 10)
        .map(|(_, r)| *r)
        .collect();
    let mb = |b: u64| b as f64 / 1048576.0;
    println!(
        "\nRSS: {} samples; after warm-up (10% of requests) min {:.1} MB, max {:.1} MB; at the end {:.1} MB",
        rss.len(),
        mb(warm.iter().copied().min().unwrap_or(0)),
        mb(warm.iter().copied().max().unwrap_or(0)),
        mb(final_rss)
    );
    let series: Vec<String> = rss
        .iter()
        .step_by((rss.len() / 20).max(1))
        .map(|(done, r)| format!("{}k:{:.0}", done / 1000, mb(*r)))
        .collect();
    println!("RSS series (requests done: MB): {}", series.join(" "));
    if errors > 0 {
        std::process::exit(1);
    }
}
