//! Real outside programs for the trust tests: Chromium (headless, own profile, own HOME so
//! its NSS database is a temporary one), curl, NSS certutil. Every run is time-bounded and
//! killed on timeout. A missing tool skips the test with a loud message, unless
//! `WXEMU_REQUIRE_SYSTEM_TESTS=1` (set by scripts/test when it runs as root on Debian),
//! where it fails instead: CI must really run these. Also the loopback TLS ends those
//! tests talk to: a one-certificate HTTPS server and a client trusting one CA.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether the tests that need root and system tools must run (not skip).
pub fn required() -> bool {
    std::env::var("WXEMU_REQUIRE_SYSTEM_TESTS").is_ok_and(|v| v == "1")
}

/// True when `ok`; otherwise skips (prints why) or, when [`required`], panics.
pub fn precondition(ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    if required() {
        panic!("WXEMU_REQUIRE_SYSTEM_TESTS=1 but {why}");
    }
    eprintln!("SKIPPED: {why} (set WXEMU_REQUIRE_SYSTEM_TESTS=1 to make this a failure)");
    false
}

pub fn on_path(program: &str) -> bool {
    wxemu_certs::find_program(Path::new(program)).is_some()
}

pub fn is_root() -> bool {
    wxemu_certs::is_root()
}

/// Whether a finished program succeeded, and its stdout followed by its stderr.
pub fn success_and_output(out: &Output) -> (bool, String) {
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs `cmd` to completion or kills it after `limit`.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("{cmd:?}");
    // Its own process group, so a timeout kills Chromium's helper processes too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut v);
        v
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("sh")
                .arg("-c")
                .arg(format!("kill -9 -{}", child.id()))
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} did not finish within {limit:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}

/// A headless Chromium that uses `home`'s NSS database and maps `name` to 127.0.0.1.
pub struct Chromium {
    pub home: PathBuf,
    pub profile: tempfile::TempDir,
}

impl Chromium {
    pub fn new(home: &Path) -> Chromium {
        Chromium {
            home: home.to_owned(),
            profile: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The DOM Chromium rendered for `url` (empty when the page failed to load), and its
    /// stderr (where net errors such as `net_error -202` are logged).
    pub fn dump_dom(&self, url: &str, map_name: &str) -> (String, String) {
        let mut cmd = Command::new(CHROMIUM);
        cmd.env("HOME", &self.home)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .arg(format!("--host-resolver-rules=MAP {map_name} 127.0.0.1"))
            .arg("--dump-dom")
            .arg(url);
        let out = run_bounded(cmd, Duration::from_secs(90));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// The `net_error -NNN` lines of Chromium's log, for assertion messages.
pub fn net_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("net_error") || l.contains("ERR_CERT"))
        .collect()
}

/// Creates an empty NSS database at `home/.pki/nssdb`, as Chromium does on first start.
pub fn create_nss_db(home: &Path) -> PathBuf {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("mkdir nssdb");
    let out = run_bounded(
        {
            let mut c = Command::new("certutil");
            c.args(["-N", "--empty-password", "-d"])
                .arg(format!("sql:{}", db.display()));
            c
        },
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "certutil -N: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// Creates a fresh NSS database in `home` (as [`create_nss_db`]) and installs every CA in
/// `cas` into it alone, asserting each install really added the CA.
pub fn trust_in_fresh_nss_db(home: &Path, cas: &[&wxemu_certs::CaCert]) {
    use wxemu_certs::{install_trust, Outcome, StoreKind, TrustTargets};

    create_nss_db(home);
    let targets = TrustTargets {
        home: Some(home.to_owned()),
        ..TrustTargets::for_this_os().only(&[StoreKind::Nss])
    };
    for ca in cas {
        let r = install_trust(ca, &targets);
        assert!(
            !r.any_failed() && r.stores.iter().any(|s| s.outcome == Outcome::Done),
            "{r}"
        );
    }
}

/// A one-certificate HTTPS server on loopback answering every request with `marker`.
pub async fn tiny_https(cert: Vec<u8>, key: Vec<u8>, marker: &'static str) -> std::net::SocketAddr {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert)],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
    )
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!("<html><body><p>{marker}</p></body></html>");
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

/// A TLS client configuration trusting the CA `ca_der` alone, offering `alpn`.
pub fn client_trusting(ca_der: &[u8], alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()))
        .expect("root");
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// The body of an HTTP/2 GET of `url` over `tls` (a fresh connection).
pub async fn get_h2<S>(tls: S, url: &str) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::BodyExt;
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .expect("h2 handshake");
    tokio::spawn(conn);
    let req = hyper::Request::get(url)
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let response = sender.send_request(req).await.expect("response");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}
