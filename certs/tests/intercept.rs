//! The interception CA: created only on first use, constrained to the WeChat names wxemu
//! plays (checked by webpki, not only by reading the extension), never silently
//! replaced, serving per-host leaves over real TLS; the fast-login CA still cannot sign
//! those names; and the trust-store code handles both CAs side by side.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

#[cfg(unix)]
use common::mode;
use common::{assert_name_constraint_violation, data_dir, parse, provider, verify, DAY};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, RootCertStore};
use wxemu_certs::{
    ensure, find_program, install_trust, issue_leaf_with_ca, issue_leaf_with_ca_of, nss_nickname,
    trust_status, uninstall_trust, validity, CaCert, CaKind, Error, InterceptCa, Outcome, Report,
    StoreKind, SystemLayout, TrustTargets, INTERCEPT_CA_CERT_FILE, INTERCEPT_CA_KEY_FILE,
    INTERCEPT_LEAF_CACHE_CAPACITY, INTERCEPT_PERMITTED,
};
use x509_parser::extensions::GeneralName;

/// One name per host family wxemu plays, each under a different permitted subtree.
const PLAYED: &[&str] = &[
    "open.weixin.qq.com",
    "lp.open.weixin.qq.com",
    "long.open.weixin.qq.com",
    "api.weixin.qq.com",
    "login.weixin.qq.com",
    "res.wx.qq.com",
    "wx.qq.com",
    "webpush.wx.qq.com",
    "login.wx.qq.com",
    "wx2.qq.com",
    "file.wx8.qq.com",
    "web.wechat.com",
    "webpush.web.wechat.com",
];

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn created_only_on_first_use_then_reused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);

    // A normal start makes the fast-login CA only.
    ensure(&dir).expect("fast-login material");
    assert!(!dir.join(INTERCEPT_CA_CERT_FILE).exists());
    assert!(!dir.join(INTERCEPT_CA_KEY_FILE).exists());

    let first = InterceptCa::ensure(&dir).expect("intercept CA");
    assert!(first.created());
    assert_eq!(first.cert_path(), dir.join(INTERCEPT_CA_CERT_FILE));
    // Both files, no temporary files left, and no leaf on disk (leaves live in memory).
    assert_eq!(
        names_in(&dir),
        [
            "ca-key.pem",
            "ca.pem",
            "intercept-ca-key.pem",
            "intercept-ca.pem",
            "leaf-key.pem",
            "leaf.pem"
        ]
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir.join(INTERCEPT_CA_KEY_FILE)), 0o600, "CA key");
        assert_eq!(mode(&dir.join(INTERCEPT_CA_CERT_FILE)), 0o644, "CA cert");
    }
    let key_pem = fs::read_to_string(dir.join(INTERCEPT_CA_KEY_FILE)).expect("key");
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    first.leaf("open.weixin.qq.com").expect("leaf");
    assert_eq!(names_in(&dir).len(), 6, "leaves are not written");

    let second = InterceptCa::ensure(&dir).expect("again");
    assert!(!second.created());
    assert_eq!(second.cert_der(), first.cert_der());
    assert_eq!(second.fingerprint_sha256(), first.fingerprint_sha256());

    // The two CAs are different certificates with different keys.
    let fast = ensure(&dir).expect("fast-login again");
    assert_ne!(fast.ca_cert_der, first.cert_der());
    assert_ne!(
        fs::read(dir.join("ca-key.pem")).expect("read"),
        fs::read(dir.join(INTERCEPT_CA_KEY_FILE)).expect("read")
    );
    assert_eq!(
        wxemu_certs::ensure_ca_of(&dir, CaKind::Intercept).expect("path"),
        dir.join(INTERCEPT_CA_CERT_FILE)
    );
}

#[test]
fn ca_is_p256_pathlen_zero_with_critical_wechat_only_constraints() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca = InterceptCa::ensure(&data_dir(&tmp)).expect("intercept CA");
    let cert = parse(ca.cert_der());

    let spki = cert.public_key();
    assert_eq!(
        spki.algorithm.algorithm,
        x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY
    );
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .expect("curve")
        .as_oid()
        .expect("named curve");
    assert_eq!(curve, x509_parser::oid_registry::OID_EC_P256);

    let bc = cert.basic_constraints().expect("bc").expect("has bc");
    assert!(bc.critical && bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(0));
    let ku = cert.key_usage().expect("ku").expect("has ku");
    assert!(ku.value.key_cert_sign());

    let nc = cert.name_constraints().expect("nc").expect("has nc");
    assert!(nc.critical, "name constraints must be critical");
    let show = |subtrees: &Option<Vec<x509_parser::extensions::GeneralSubtree>>| -> Vec<String> {
        subtrees
            .as_ref()
            .expect("subtrees")
            .iter()
            .map(|s| match &s.base {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::IPAddress(b) => format!("IP:{b:?}"),
                other => format!("unexpected {other:?}"),
            })
            .collect()
    };
    let permitted: Vec<String> = INTERCEPT_PERMITTED
        .iter()
        .map(|d| format!("DNS:{d}"))
        .collect();
    assert_eq!(show(&nc.value.permitted_subtrees), permitted);
    assert_eq!(
        permitted,
        [
            "DNS:weixin.qq.com",
            "DNS:wx.qq.com",
            "DNS:wx2.qq.com",
            "DNS:wx8.qq.com",
            "DNS:web.wechat.com"
        ]
    );
    assert_eq!(
        show(&nc.value.excluded_subtrees),
        [
            "DNS:localhost.weixin.qq.com".to_owned(),
            format!("IP:{:?}", [0u8; 8]),
            format!("IP:{:?}", [0u8; 32]),
        ]
    );

    let org: Vec<_> = cert
        .subject()
        .iter_organization()
        .map(|a| a.as_str().expect("utf8").to_owned())
        .collect();
    assert_eq!(org, ["wxemu interception CA"]);
}

#[test]
fn leaves_per_host_verify_with_webpki_for_their_own_name_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca = InterceptCa::ensure(&data_dir(&tmp)).expect("intercept CA");
    let now = SystemTime::now();
    for host in PLAYED {
        let leaf = ca.leaf(host).expect("leaf");
        // The leaf, then the CA itself (for clients that allow a CA by its
        // key's hash and only see what is sent).
        assert_eq!(leaf.cert.len(), 2);
        assert_eq!(leaf.cert[1].as_ref(), ca.cert_der());
        let der = leaf.cert[0].as_ref();
        verify(ca.cert_der(), der, host, now).unwrap_or_else(|e| panic!("{host}: {e:?}"));
        let other = if *host == "api.weixin.qq.com" {
            "open.weixin.qq.com"
        } else {
            "api.weixin.qq.com"
        };
        let err = verify(ca.cert_der(), der, other, now).expect_err("other name");
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
                    | rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForNameContext { .. }
                    )
            ),
            "{host} leaf used for {other}: {err:?}"
        );
        let cert = parse(der);
        let eku = cert.extended_key_usage().expect("eku").expect("has eku");
        assert!(eku.value.server_auth);
    }
    // Cached: the same leaf again, case and trailing dot notwithstanding.
    let a = ca.leaf("open.weixin.qq.com").expect("leaf");
    let b = ca.leaf("OPEN.weixin.qq.com.").expect("leaf");
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(ca.cached_leaves(), PLAYED.len());
}

#[test]
fn names_outside_the_constraints_are_rejected_by_webpki_and_refused_by_the_cache() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let ca = InterceptCa::ensure(&dir).expect("intercept CA");
    let now = SystemTime::now();

    // Leaves minted with the CA's key for forbidden names (bypassing wxemu's own check):
    // only the CA's constraints can stop them.
    for name in [
        "example.com",
        "open.weixin.qq.com.evil.example",
        "evilweixin.qq.com",
        "qq.com",
        "www.wechat.com",
        "localhost.weixin.qq.com",
        "a.localhost.weixin.qq.com",
        "localhost",
    ] {
        let (der, _key) =
            issue_leaf_with_ca_of(&dir, CaKind::Intercept, &[name], now).expect("issue");
        assert_name_constraint_violation(verify(ca.cert_der(), &der, name, now), name);
        assert!(
            matches!(ca.leaf(name), Err(Error::InvalidName { .. })),
            "{name} must be refused"
        );
    }
    // A leaf with a permitted name plus a forbidden one is rejected as a whole.
    let (mixed, _) = issue_leaf_with_ca_of(
        &dir,
        CaKind::Intercept,
        &["open.weixin.qq.com", "example.com"],
        now,
    )
    .expect("issue");
    assert_name_constraint_violation(
        verify(ca.cert_der(), &mixed, "open.weixin.qq.com", now),
        "mixed",
    );
    // IP addresses are excluded, v4 and v6 (webpki checks IP SANs against IP subtrees).
    for ip in ["127.0.0.1", "10.1.2.3", "::1"] {
        let (der, _) = issue_leaf_with_ca_of(&dir, CaKind::Intercept, &[ip], now).expect("issue");
        assert_name_constraint_violation(verify(ca.cert_der(), &der, ip, now), ip);
        assert!(ca.leaf(ip).is_err());
    }
    assert_eq!(ca.cached_leaves(), 0, "nothing refused was cached");
}

#[test]
fn fast_login_ca_still_cannot_sign_any_wechat_name_but_its_own() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let m = ensure(&dir).expect("fast-login material");
    let now = SystemTime::now();
    let (own, _) = issue_leaf_with_ca(&dir, &["localhost.weixin.qq.com"], now).expect("issue");
    verify(&m.ca_cert_der, &own, "localhost.weixin.qq.com", now).expect("its own name");
    for name in PLAYED.iter().copied().chain(["weixin.qq.com", "qq.com"]) {
        let (der, _) = issue_leaf_with_ca(&dir, &[name], now).expect("issue");
        assert_name_constraint_violation(verify(&m.ca_cert_der, &der, name, now), name);
    }
    // And the interception CA cannot stand in for it.
    let ic = InterceptCa::ensure(&dir).expect("intercept CA");
    let (der, _) =
        issue_leaf_with_ca_of(&dir, CaKind::Intercept, &["localhost.weixin.qq.com"], now)
            .expect("issue");
    assert_name_constraint_violation(
        verify(ic.cert_der(), &der, "localhost.weixin.qq.com", now),
        "intercept CA for the fast-login name",
    );
}

#[test]
fn damaged_intercept_ca_is_an_error_never_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let ca = InterceptCa::ensure(&dir).expect("intercept CA");
    let cert_path = dir.join(INTERCEPT_CA_CERT_FILE);
    let key_path = dir.join(INTERCEPT_CA_KEY_FILE);
    let key_before = fs::read(&key_path).expect("key");
    let cert_before = fs::read(&cert_path).expect("cert");
    assert!(!ca.cert_der().is_empty());

    // Corrupt certificate: an error naming the file, and both files untouched.
    fs::write(&cert_path, b"not a certificate").expect("corrupt");
    let err = InterceptCa::ensure(&dir).expect_err("corrupt cert");
    assert!(matches!(err, Error::CaCertCorrupt { ref cert, .. } if *cert == cert_path));
    assert!(err.to_string().contains("never replaces an existing CA"));
    assert_eq!(fs::read(&cert_path).expect("read"), b"not a certificate");
    assert_eq!(fs::read(&key_path).expect("read"), key_before);

    // Missing key.
    fs::write(&cert_path, &cert_before).expect("restore cert");
    InterceptCa::ensure(&dir).expect("restored");
    fs::remove_file(&key_path).expect("rm key");
    assert!(matches!(
        InterceptCa::ensure(&dir),
        Err(Error::CaKeyMissing { .. })
    ));
    assert!(cert_path.exists(), "certificate kept");

    // A foreign key (the fast-login CA's) does not match.
    ensure(&dir).expect("fast-login CA");
    fs::copy(dir.join("ca-key.pem"), &key_path).expect("copy key");
    assert!(matches!(
        InterceptCa::ensure(&dir),
        Err(Error::CaKeyMismatch { .. })
    ));

    // Orphaned key (certificate deleted): refused after a short wait, not recreated.
    fs::write(&key_path, &key_before).expect("restore key");
    fs::remove_file(&cert_path).expect("rm cert");
    assert!(matches!(
        InterceptCa::ensure(&dir),
        Err(Error::CaCertMissing { .. })
    ));
    assert!(!cert_path.exists());
    assert_eq!(fs::read(&key_path).expect("read"), key_before);
}

#[test]
fn expired_intercept_ca_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let ca = InterceptCa::ensure(&dir).expect("intercept CA");
    let later = ca.not_after() + DAY;
    assert!(matches!(
        InterceptCa::ensure_at(&dir, later),
        Err(Error::CaExpired { .. })
    ));
    assert_eq!(
        InterceptCa::ensure(&dir).expect("still there").cert_der(),
        ca.cert_der()
    );
}

#[test]
fn cached_leaves_are_renewed_before_expiry_and_bounded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca = InterceptCa::ensure(&data_dir(&tmp)).expect("intercept CA");
    let now = SystemTime::now();
    let first = ca.leaf_at("api.weixin.qq.com", now).expect("leaf");
    let same = ca.leaf_at("api.weixin.qq.com", now + DAY).expect("leaf");
    assert!(Arc::ptr_eq(&first, &same));
    let (_, not_after) = validity(first.cert[0].as_ref()).expect("validity");
    let near_expiry = not_after - 10 * DAY;
    let renewed = ca
        .leaf_at("api.weixin.qq.com", near_expiry)
        .expect("renewed");
    assert!(!Arc::ptr_eq(&first, &renewed));
    verify(
        ca.cert_der(),
        renewed.cert[0].as_ref(),
        "api.weixin.qq.com",
        near_expiry,
    )
    .expect("renewed leaf valid then");

    for i in 0..INTERCEPT_LEAF_CACHE_CAPACITY + 20 {
        ca.leaf(&format!("h{i}.open.weixin.qq.com")).expect("leaf");
    }
    assert_eq!(ca.cached_leaves(), INTERCEPT_LEAF_CACHE_CAPACITY);
}

/// A real TLS handshake, per SNI, against a rustls server using the CA as its resolver.
#[test]
fn serves_a_leaf_per_sni_over_real_tls() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca = Arc::new(InterceptCa::ensure(&data_dir(&tmp)).expect("intercept CA"));
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(ca.clone());
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let server_config = Arc::new(server_config);

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        // Four connections: three good, one for a name the CA must not sign.
        for _ in 0..4 {
            let (tcp, _) = listener.accept().expect("accept");
            let conn = rustls::ServerConnection::new(server_config.clone()).expect("conn");
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 5];
            if tls.read_exact(&mut buf).is_ok() {
                let sni = tls.conn.server_name().unwrap_or("").to_owned();
                let _ = tls.write_all(sni.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });

    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.cert_der().to_vec()))
        .expect("root");
    let mut client_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client_config.alpn_protocols = vec![b"h2".to_vec()];
    let client_config = Arc::new(client_config);

    let talk = |host: &str| -> Result<(String, Vec<u8>, Vec<u8>), std::io::Error> {
        let name = ServerName::try_from(host.to_owned()).expect("name");
        let conn = rustls::ClientConnection::new(client_config.clone(), name).expect("client");
        let tcp = TcpStream::connect(addr)?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(b"hello")?;
        let mut reply = String::new();
        tls.read_to_string(&mut reply)?;
        let leaf = tls.conn.peer_certificates().expect("certs")[0].to_vec();
        let alpn = tls.conn.alpn_protocol().unwrap_or_default().to_vec();
        Ok((reply, leaf, alpn))
    };
    let (reply_open, leaf_open, alpn) = talk("open.weixin.qq.com").expect("open");
    assert_eq!(reply_open, "open.weixin.qq.com");
    assert_eq!(alpn, b"h2");
    let (reply_res, leaf_res, _) = talk("res.wx.qq.com").expect("res");
    assert_eq!(reply_res, "res.wx.qq.com");
    assert_ne!(leaf_open, leaf_res, "one leaf per host");
    let (_, leaf_again, _) = talk("open.weixin.qq.com").expect("open again");
    assert_eq!(leaf_open, leaf_again, "cached");
    // The resolver has nothing for example.com: the handshake fails.
    let err = talk("example.com").expect_err("no certificate for example.com");
    assert!(
        err.to_string().to_ascii_lowercase().contains("alert")
            || err.kind() == std::io::ErrorKind::InvalidData,
        "{err}"
    );
    server.join().expect("server thread");
    assert_eq!(ca.cached_leaves(), 2);
}

/// `trust install|status|uninstall` handle the two CAs independently in one NSS database
/// (needs NSS certutil, as the rest of the trust tests do).
#[test]
fn trust_store_code_handles_both_cas_independently() {
    if find_program(Path::new("certutil")).is_none() {
        panic!("NSS certutil is required (Debian: libnss3-tools)");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let fast = CaCert::ensure(&dir).expect("fast-login CA");
    let intercept = CaCert::ensure_of(&dir, CaKind::Intercept).expect("intercept CA");
    assert_eq!(intercept.kind, CaKind::Intercept);
    assert_eq!(intercept.path, dir.join(INTERCEPT_CA_CERT_FILE));
    assert!(intercept.common_name.starts_with("wxemu interception CA "));
    assert_eq!(
        nss_nickname(&intercept),
        format!("wxemu interception CA {}", intercept.tag())
    );
    let debian = &SystemLayout::known()[1];
    assert_eq!(
        debian.anchor_path(&intercept).file_name().unwrap(),
        format!("wxemu-intercept-{}.crt", intercept.tag()).as_str()
    );
    assert_eq!(
        CaCert::load_of(&dir, CaKind::Intercept)
            .expect("load")
            .sha256,
        intercept.sha256
    );

    let db = tmp.path().join("nssdb");
    fs::create_dir_all(&db).expect("mkdir");
    let created = std::process::Command::new("certutil")
        .args(["-N", "--empty-password", "-d"])
        .arg(format!("sql:{}", db.display()))
        .status()
        .expect("certutil -N");
    assert!(created.success());
    let targets = TrustTargets {
        nss_dbs: Some(vec![db.clone()]),
        ..TrustTargets::for_this_os().only(&[StoreKind::Nss])
    };
    let outcome = |report: Report| {
        assert_eq!(report.stores.len(), 1, "{report}");
        report.stores[0].clone()
    };

    let status = outcome(trust_status(&intercept, &targets));
    assert_eq!(status.outcome, Outcome::NotTrusted);
    assert!(
        status.detail.contains("wxemu trust install --intercept"),
        "{}",
        status.detail
    );
    assert_eq!(
        outcome(install_trust(&fast, &targets)).outcome,
        Outcome::Done
    );
    // The fast-login CA being there does not make the interception CA trusted.
    assert_eq!(
        outcome(trust_status(&intercept, &targets)).outcome,
        Outcome::NotTrusted
    );
    assert_eq!(
        outcome(install_trust(&intercept, &targets)).outcome,
        Outcome::Done
    );
    assert_eq!(
        outcome(install_trust(&intercept, &targets)).outcome,
        Outcome::Already
    );
    assert_eq!(
        outcome(trust_status(&intercept, &targets)).outcome,
        Outcome::Trusted
    );
    // Removing the interception CA leaves the fast-login CA trusted, and vice versa.
    assert_eq!(
        outcome(uninstall_trust(&intercept, &targets)).outcome,
        Outcome::Done
    );
    assert_eq!(
        outcome(trust_status(&intercept, &targets)).outcome,
        Outcome::NotTrusted
    );
    assert_eq!(
        outcome(trust_status(&fast, &targets)).outcome,
        Outcome::Trusted
    );
    assert_eq!(
        outcome(uninstall_trust(&fast, &targets)).outcome,
        Outcome::Done
    );
}
