//! Interception from the outside: the `wxemu` binary's `ca path --intercept`,
//! `trust ... --intercept` and `trust env --intercept`; `serve --proxy-port` and
//! `--intercept-port` over real TLS validated against the interception CA; and the
//! interception CA's name constraints enforced by Debian's Chromium (no certificate
//! switches), next to the fast-login CA.

use crate::tools;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tools::{precondition, Chromium};
use wxemu_certs::CaKind;
use wxemu_certs::{
    install_trust, pem_certificates, CaCert, StoreKind, TrustTargets, SYSTEM_BUNDLES,
};

fn wxemu(args: &[&str]) -> (bool, String, String) {
    let out = tools::run_bounded(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_wxemu"));
            c.args(args);
            c
        },
        Duration::from_secs(60),
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn ca_path_intercept_prints_only_the_path_and_creates_only_that_ca() {
    let data = tempfile::tempdir().expect("data");
    let d = data.path().to_str().expect("utf-8");
    let (ok, out, err) = wxemu(&["ca", "path", "--intercept", "--data-dir", d]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        format!("{}\n", data.path().join("intercept-ca.pem").display()),
        "stdout is the path only"
    );
    assert!(data.path().join("intercept-ca.pem").is_file());
    assert!(
        !data.path().join("ca.pem").exists(),
        "the fast-login CA is not made by --intercept"
    );
    #[cfg(unix)]
    assert_eq!(mode(&data.path().join("intercept-ca-key.pem")), 0o600);
    let before = std::fs::read(data.path().join("intercept-ca.pem")).expect("read");
    let (ok, again, _) = wxemu(&["ca", "path", "--intercept", "--data-dir", d]);
    assert!(ok && again == out);
    assert_eq!(
        std::fs::read(data.path().join("intercept-ca.pem")).expect("read"),
        before,
        "never replaced"
    );
    // The plain command still names the fast-login CA.
    let (ok, plain, _) = wxemu(&["ca", "path", "--data-dir", d]);
    assert!(ok);
    assert_eq!(plain, format!("{}\n", data.path().join("ca.pem").display()));
}

#[test]
fn trust_env_intercept_prints_the_proxy_and_a_bundle_with_both_cas() {
    let data = tempfile::tempdir().expect("data");
    let d = data.path().to_str().expect("utf-8");
    assert!(wxemu(&["ca", "path", "--data-dir", d]).0);
    let (ok, out, err) = wxemu(&[
        "trust",
        "env",
        "--intercept",
        "--proxy-port",
        "14555",
        "--shell",
        "sh",
        "--data-dir",
        d,
    ]);
    assert!(ok, "{err}");
    for line in [
        "export HTTPS_PROXY='http://127.0.0.1:14555'",
        "export https_proxy='http://127.0.0.1:14555'",
        "export HTTP_PROXY='http://127.0.0.1:14555'",
        "export NO_PROXY='localhost,127.0.0.1,::1,localhost.weixin.qq.com'",
        "export NODE_USE_ENV_PROXY='1'",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} missing in:\n{out}");
    }
    let bundle = data.path().join("intercept-ca-bundle.pem");
    let extra = data.path().join("intercept-extra-cas.pem");
    assert!(out.contains(&format!("export REQUESTS_CA_BUNDLE='{}'", bundle.display())));
    assert!(out.contains(&format!("export NODE_EXTRA_CA_CERTS='{}'", extra.display())));
    let fast = CaCert::load(data.path()).expect("fast-login CA");
    let intercept = CaCert::load_of(data.path(), CaKind::Intercept).expect("interception CA");
    let bundle_certs = pem_certificates(&std::fs::read(&bundle).expect("bundle"));
    assert!(bundle_certs.contains(&fast.der) && bundle_certs.contains(&intercept.der));
    // It adds to the system roots: every system root is still in there.
    let system = SYSTEM_BUNDLES
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .map(|b| pem_certificates(&b))
        .unwrap_or_default();
    assert!(system.iter().all(|c| bundle_certs.contains(c)));
    assert_eq!(bundle_certs.len(), system.len() + 2);
    assert_eq!(
        pem_certificates(&std::fs::read(&extra).expect("extra")),
        [intercept.der.clone(), fast.der.clone()]
    );

    // --proxy-port only makes sense with --intercept.
    let (ok, _, err) = wxemu(&["trust", "env", "--proxy-port", "1", "--data-dir", d]);
    assert!(!ok, "{err}");
}

#[test]
fn trust_intercept_round_trip_in_nss_leaves_the_fast_login_ca_alone() {
    if !precondition(
        tools::on_path("certutil"),
        "NSS certutil is missing (libnss3-tools)",
    ) {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let home = tempfile::tempdir().expect("home");
    let db = tools::create_nss_db(home.path());
    let d = data.path().to_str().expect("utf-8");
    let n = db.to_str().expect("utf-8");
    let store = ["--data-dir", d, "--store", "nss", "--nss-db", n];
    let run = |cmd: &[&str]| {
        let (ok, out, err) = wxemu(&[cmd, &store[..]].concat());
        (ok, format!("{out}{err}"))
    };

    let (ok, said) = run(&["trust", "status", "--intercept"]);
    assert!(!ok && said.contains("no CA in"), "{said}");
    assert!(run(&["trust", "install"]).0, "fast-login CA installed");
    let (ok, said) = run(&["trust", "install", "--intercept"]);
    assert!(
        ok && said.lines().any(|l| l.starts_with("done     NSS ")),
        "{said}"
    );
    assert!(said.contains("wxemu interception CA"), "{said}");
    let (ok, said) = run(&["trust", "status", "--intercept"]);
    assert!(
        ok && said.lines().any(|l| l.starts_with("trusted  NSS ")),
        "{said}"
    );
    let (ok, said) = run(&["trust", "uninstall", "--intercept", "--purge"]);
    assert!(
        ok && said.lines().any(|l| l.starts_with("done     NSS ")),
        "{said}"
    );
    assert!(!data.path().join("intercept-ca.pem").exists(), "{said}");
    assert!(!data.path().join("intercept-ca-key.pem").exists(), "{said}");
    assert!(data.path().join("ca.pem").exists(), "fast-login CA kept");
    let (ok, said) = run(&["trust", "status"]);
    assert!(
        ok && said.lines().any(|l| l.starts_with("trusted  NSS ")),
        "{said}"
    );
    let (ok, said) = run(&["trust", "status", "--intercept"]);
    assert!(!ok, "{said}");
    assert!(run(&["trust", "uninstall"]).0);
}

/// Chromium, trusting both CAs in its NSS database and with no certificate switches,
/// loads an interception leaf for a permitted name and refuses the interception CA's
/// leaves for a foreign name and for the fast-login name; and refuses a fast-login CA
/// leaf for open.weixin.qq.com.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_enforces_the_interception_ca_constraints() {
    if !precondition(
        Path::new(tools::CHROMIUM).is_file(),
        "Debian chromium is missing (/usr/bin/chromium)",
    ) || !precondition(
        tools::on_path("certutil"),
        "NSS certutil is missing (libnss3-tools)",
    ) {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let fast = CaCert::ensure(data.path()).expect("fast-login CA");
    let intercept = CaCert::ensure_of(data.path(), CaKind::Intercept).expect("interception CA");
    let now = SystemTime::now();
    let leaf = |kind, name: &str| {
        wxemu_certs::issue_leaf_with_ca_of(data.path(), kind, &[name], now).expect("leaf")
    };
    let (c, k) = leaf(CaKind::Intercept, "open.weixin.qq.com");
    let good = tools::tiny_https(c, k, "INTERCEPTED-PAGE").await;
    let (c, k) = leaf(CaKind::Intercept, "example.com");
    let foreign = tools::tiny_https(c, k, "FOREIGN-PAGE").await;
    let (c, k) = leaf(CaKind::Intercept, "localhost.weixin.qq.com");
    let excluded = tools::tiny_https(c, k, "EXCLUDED-PAGE").await;
    let (c, k) = leaf(CaKind::FastLogin, "open.weixin.qq.com");
    let fast_for_open = tools::tiny_https(c, k, "FAST-CA-OPEN-PAGE").await;

    let home = tempfile::tempdir().expect("home");
    let h = home.path().to_owned();
    tokio::task::spawn_blocking(move || {
        tools::trust_in_fresh_nss_db(&h, &[&fast, &intercept]);
        let load = |name: &str, port: u16| {
            Chromium::new(&h).dump_dom(&format!("https://{name}:{port}/"), name)
        };
        let (dom, log) = load("open.weixin.qq.com", good.port());
        assert!(
            dom.contains("INTERCEPTED-PAGE"),
            "the permitted name must load: {dom} {:?}",
            tools::net_errors(&log)
        );
        for (name, port, marker) in [
            ("example.com", foreign.port(), "FOREIGN-PAGE"),
            ("localhost.weixin.qq.com", excluded.port(), "EXCLUDED-PAGE"),
            (
                "open.weixin.qq.com",
                fast_for_open.port(),
                "FAST-CA-OPEN-PAGE",
            ),
        ] {
            let (dom, log) = load(name, port);
            assert!(
                !dom.contains(marker),
                "Chromium must refuse {marker}: {dom}"
            );
            let errors = tools::net_errors(&log);
            // -207 ERR_CERT_INVALID (current), -212 ERR_CERT_NAME_CONSTRAINT_VIOLATION (older).
            assert!(
                errors
                    .iter()
                    .any(|l| l.contains("-212") || l.contains("-207")),
                "{marker}: expected a certificate name error, got {errors:?}"
            );
        }
    })
    .await
    .expect("chromium checks");
}

/// `serve` on ephemeral ports with auto approval, the offline interception proxy, and the
/// hosts-mode intercept port when `hosts_mode`.
async fn bind_intercepting(data: &Path, hosts_mode: bool) -> wxemu::Server {
    let mut options = wxemu::ServeOptions::new(data.to_owned());
    options.port = 0;
    options.approval = wxemu_core::ApprovalMode::Auto;
    options.intercept = wxemu::intercept::InterceptOptions {
        proxy_port: Some(0),
        proxy_offline: true,
        intercept_port: hosts_mode.then_some(0),
    };
    wxemu::Server::bind(options).await.expect("bind")
}

/// `serve --proxy-port --proxy-offline --intercept-port`: both ways in present a leaf
/// for the intercepted host that validates against the interception CA alone, and the
/// connection reaches wxemu's router (HTTP/2 negotiated).
#[tokio::test]
async fn serve_intercepts_through_the_proxy_and_in_hosts_mode() {
    let data = tempfile::tempdir().expect("data");
    let server = bind_intercepting(data.path(), true).await;
    let interception = server.interception().expect("interception on");
    let proxy = interception.proxy_addr().expect("proxy");
    let direct = interception.direct_addr().expect("hosts mode");
    assert!(interception.proxy_offline());
    assert!(data.path().join("intercept-ca.pem").is_file());
    let ca_der = interception.ca().cert_der().to_vec();
    let own_ca = server.certs().ca_cert_der.clone();
    let own_addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let config = tools::client_trusting(&ca_der, &[b"h2", b"http/1.1"]);
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    // Through the proxy.
    let mut tcp = tokio::net::TcpStream::connect(proxy).await.expect("proxy");
    tcp.write_all(b"CONNECT api.weixin.qq.com:443 HTTP/1.1\r\nHost: api.weixin.qq.com:443\r\n\r\n")
        .await
        .expect("CONNECT");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(tcp.read(&mut b).await.expect("read"), 1);
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let tls = connector
        .connect(
            ServerName::try_from("api.weixin.qq.com").expect("name"),
            tcp,
        )
        .await
        .expect("TLS as api.weixin.qq.com, verified against the interception CA");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let answered = tools::get_h2(
        tls,
        "https://api.weixin.qq.com/sns/auth?access_token=x&openid=y",
    )
    .await;
    assert!(!answered.is_empty(), "wxemu's router answered");

    // Hosts mode: the same name straight on the intercept port.
    // A GET over HTTP/2 on a fresh hosts-mode connection made as open.weixin.qq.com.
    let direct_get = |url: &'static str| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(direct)
                .await
                .expect("direct");
            let tls = connector
                .connect(
                    ServerName::try_from("open.weixin.qq.com").expect("name"),
                    tcp,
                )
                .await
                .expect("TLS as open.weixin.qq.com in hosts mode");
            tools::get_h2(tls, url).await
        }
    };
    let page = direct_get(
        "https://open.weixin.qq.com/connect/qrconnect?appid=wxa04304ceaedaf538&redirect_uri=https%3A%2F%2Fsite.example%2Fcb&response_type=code&scope=snsapi_login&state=s",
    )
    .await;
    assert!(
        page.contains("<html") || page.contains("<!DOCTYPE"),
        "{page}"
    );
    // Paths the host does not serve get that host's 404, not wxemu's other endpoints.
    let other = direct_get("https://open.weixin.qq.com/__wxemu/health").await;
    assert!(other.contains("as open.weixin.qq.com"), "{other}");
    // A name that is not intercepted gets no certificate in hosts mode.
    let tcp = tokio::net::TcpStream::connect(direct)
        .await
        .expect("direct");
    assert!(connector
        .connect(ServerName::try_from("mp.weixin.qq.com").expect("name"), tcp)
        .await
        .is_err());

    // wxemu's own listener never answers as a real WeChat host, and intercepted
    // connections never reach wxemu's own endpoints (control API, fast login).
    let own_config = tools::client_trusting(&own_ca, &[b"h2"]);
    let tcp = tokio::net::TcpStream::connect(own_addr).await.expect("own");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(own_config))
        .connect(
            ServerName::try_from("localhost.weixin.qq.com").expect("name"),
            tcp,
        )
        .await
        .expect("TLS to the fast-login listener");
    let refused = tools::get_h2(
        tls,
        "https://api.weixin.qq.com/sns/auth?access_token=x&openid=y",
    )
    .await;
    assert!(refused.contains("does not serve"), "{refused}");
    let refused = direct_get("https://localhost.weixin.qq.com/__wxemu/health").await;
    assert!(
        refused.contains("intercepted WeChat hosts only"),
        "{refused}"
    );

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("server stops")
        .expect("server task");
}

/// `wxemu doctor` with interception in use: the interception CA's trust (with the fix),
/// the proxy answering, and in hosts mode every intercepted name on loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_interception() {
    use wxemu::doctor::{self, DoctorOptions, Level};
    let data = tempfile::tempdir().expect("data");
    let server = bind_intercepting(data.path(), false).await;
    let proxy = server
        .interception()
        .and_then(|i| i.proxy_addr())
        .expect("proxy");
    let port = server.local_addr().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let home = tempfile::tempdir().expect("home");
    let nss = tools::on_path("certutil");
    let mut options = DoctorOptions::new(data.path().to_owned());
    options.port = port;
    options.proxy_port = Some(proxy.port());
    options.intercept_port = Some(443);
    options.trust = TrustTargets {
        home: Some(home.path().to_owned()),
        nss_dbs: nss.then(|| vec![tools::create_nss_db(home.path())]),
        ..TrustTargets::for_this_os().only(&[StoreKind::Nss])
    };
    // No DNS: open.weixin.qq.com is on loopback, api.weixin.qq.com is not.
    options.resolver = Arc::new(|name: &str, port: u16| {
        let ip = if name == "api.weixin.qq.com" {
            [203, 0, 113, 7]
        } else {
            [127, 0, 0, 1]
        };
        Ok(vec![SocketAddr::from((ip, port))])
    });
    let report = doctor::run(&options).await;
    let proxy_check = report.check("proxy").expect("proxy check");
    assert_eq!(proxy_check.level, Level::Ok, "{report}");
    let names = report.check("intercept-names").expect("names check");
    assert_eq!(names.level, Level::Fail, "{report}");
    assert!(names
        .details
        .iter()
        .any(|d| d.contains("api.weixin.qq.com -> 203.0.113.7")));
    assert_eq!(
        names.fix.as_deref(),
        Some("sudo wxemu hosts add --intercept (or docker-compose extra_hosts)")
    );
    if nss {
        let trust_check = report.check("intercept-trust").expect("trust check");
        assert_eq!(trust_check.level, Level::Fail, "{report}");
        assert!(trust_check
            .fix
            .as_deref()
            .is_some_and(|f| f.starts_with("wxemu trust install --intercept")));
        let ca = CaCert::load_of(data.path(), CaKind::Intercept).expect("CA");
        let targets = options.trust.clone();
        tokio::task::spawn_blocking(move || install_trust(&ca, &targets))
            .await
            .expect("install");
        let report = doctor::run(&options).await;
        assert_eq!(
            report.check("intercept-trust").expect("trust").level,
            Level::Ok,
            "{report}"
        );
    }

    // The proxy gone: its check fails with the command that starts it.
    let _ = stop.send(());
    task.await.expect("server task");
    let report = doctor::run(&options).await;
    let proxy_check = report.check("proxy").expect("proxy check");
    assert_eq!(proxy_check.level, Level::Fail, "{report}");
    assert_eq!(
        proxy_check.fix.as_deref(),
        Some(format!("start it: wxemu serve --proxy-port {}", proxy.port()).as_str())
    );

    // Without interception in use, none of these checks appear.
    let fresh = tempfile::tempdir().expect("fresh");
    let mut plain = DoctorOptions::new(fresh.path().to_owned());
    plain.resolver = options.resolver.clone();
    plain.trust = options.trust.clone();
    let report = doctor::run(&plain).await;
    assert!(report.check("intercept-trust").is_none() && report.check("proxy").is_none());
}
