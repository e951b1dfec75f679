//! Integration tests for wxemu-certs: persistence, renewal, CA safety, and that real TLS
//! verification (rustls/webpki) accepts the leaf and enforces the CA's name constraints.

use crate::common;

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

#[cfg(unix)]
use common::mode;
use common::{assert_name_constraint_violation, data_dir, parse, verify, DAY};
use rustls::CertificateError;
use wxemu_certs::{
    ca_cert_path, ensure, ensure_at, ensure_ca, issue_leaf_with_ca, Error, Material, CA_CERT_FILE,
    CA_KEY_FILE, LEAF_CERT_FILE, LEAF_KEY_FILE,
};
use x509_parser::extensions::GeneralName;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

#[test]
fn first_start_creates_files_and_second_start_reuses_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);

    let first = ensure(&dir).expect("first ensure");
    assert!(first.created_ca);
    assert!(first.renewed_leaf);
    assert_eq!(first.ca_cert_path, ca_cert_path(&dir));
    assert_eq!(first.ca_cert_path, dir.join(CA_CERT_FILE));

    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Exactly the four files: no temporary files left behind.
    assert_eq!(names, ["ca-key.pem", "ca.pem", "leaf-key.pem", "leaf.pem"]);

    let ca_key_pem = String::from_utf8(read(&dir, CA_KEY_FILE)).expect("utf8");
    assert!(ca_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let leaf_key_pem = String::from_utf8(read(&dir, LEAF_KEY_FILE)).expect("utf8");
    assert!(leaf_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(String::from_utf8(read(&dir, LEAF_CERT_FILE))
        .expect("utf8")
        .starts_with("-----BEGIN CERTIFICATE-----"));

    #[cfg(unix)]
    {
        assert_eq!(mode(&dir), 0o700, "data dir");
        assert_eq!(mode(&dir.join(CA_KEY_FILE)), 0o600, "CA key");
        assert_eq!(mode(&dir.join(LEAF_KEY_FILE)), 0o600, "leaf key");
    }

    // The returned material is what is on disk.
    let ca_on_disk = x509_parser::pem::parse_x509_pem(&read(&dir, CA_CERT_FILE))
        .expect("pem")
        .1
        .contents;
    assert_eq!(ca_on_disk, first.ca_cert_der);
    let fp = ring::digest::digest(&ring::digest::SHA256, &first.ca_cert_der);
    let fp_hex: String = fp.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(first.ca_fingerprint_sha256, fp_hex);
    assert_eq!(first.ca_fingerprint_sha256.len(), 64);

    let second = ensure(&dir).expect("second ensure");
    assert!(!second.created_ca);
    assert!(!second.renewed_leaf);
    assert_eq!(second.ca_cert_der, first.ca_cert_der);
    assert_eq!(second.leaf_cert_der, first.leaf_cert_der);
    assert_eq!(second.leaf_key_pkcs8_der, first.leaf_key_pkcs8_der);
    assert_eq!(second.ca_fingerprint_sha256, first.ca_fingerprint_sha256);
    assert_eq!(second.leaf_not_after, first.leaf_not_after);

    assert_eq!(ensure_ca(&dir).expect("ensure_ca"), dir.join(CA_CERT_FILE));
}

#[test]
fn ensure_ca_creates_only_the_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let path = ensure_ca(&dir).expect("ensure_ca");
    assert_eq!(path, dir.join(CA_CERT_FILE));
    assert!(dir.join(CA_KEY_FILE).exists());
    assert!(!dir.join(LEAF_CERT_FILE).exists());
    let m = ensure(&dir).expect("ensure");
    assert!(!m.created_ca, "ensure reuses the CA created by ensure_ca");
    assert!(m.renewed_leaf);
}

#[test]
fn leaf_validates_for_its_names_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let m = ensure(&dir).expect("ensure");
    let now = SystemTime::now();

    for name in ["localhost.weixin.qq.com", "localhost", "127.0.0.1", "::1"] {
        verify(&m.ca_cert_der, &m.leaf_cert_der, name, now)
            .unwrap_or_else(|e| panic!("leaf should be valid for {name}: {e}"));
    }
    let err = verify(&m.ca_cert_der, &m.leaf_cert_der, "example.com", now)
        .expect_err("leaf must not be valid for example.com");
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ),
        "unexpected error {err:?}"
    );

    // Not valid after its expiry either (and the leaf lives 397 days from notBefore).
    let cert = parse(&m.leaf_cert_der);
    let lifetime = cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp();
    assert_eq!(lifetime, 397 * 86_400);
    let err = verify(
        &m.ca_cert_der,
        &m.leaf_cert_der,
        "localhost",
        m.leaf_not_after + DAY,
    )
    .expect_err("expired");
    assert!(matches!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. })
    ));
}

#[test]
fn name_constraints_reject_foreign_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let m = ensure(&dir).expect("ensure");
    let now = SystemTime::now();

    let (evil, _key) = issue_leaf_with_ca(&dir, &["example.com"], now).expect("issue");
    // The certificate really claims example.com, so only the CA's constraint can stop it.
    let evil_cert = parse(&evil);
    let sans: Vec<String> = evil_cert
        .subject_alternative_name()
        .expect("san ext")
        .expect("has SANs")
        .value
        .general_names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect();
    assert_eq!(sans, [r#"DNSName("example.com")"#]);

    let err = verify(&m.ca_cert_der, &evil, "example.com", now)
        .expect_err("name constraints must reject example.com");
    assert_name_constraint_violation(Err(err), "example.com");

    // An IP outside 127.0.0.0/8 is rejected as well.
    let (evil_ip, _) = issue_leaf_with_ca(&dir, &["10.0.0.1"], now).expect("issue");
    let err = verify(&m.ca_cert_der, &evil_ip, "10.0.0.1", now).expect_err("10.0.0.1");
    assert!(
        format!("{err:?}").contains("NameConstraintViolation"),
        "unexpected error {err:?}"
    );

    // The same CA happily issues for permitted names.
    let (good, key) = issue_leaf_with_ca(&dir, &["localhost"], now).expect("issue");
    verify(&m.ca_cert_der, &good, "localhost", now).expect("localhost is permitted");
    let (good_ip, _) = issue_leaf_with_ca(&dir, &["127.0.0.2"], now).expect("issue");
    verify(&m.ca_cert_der, &good_ip, "127.0.0.2", now).expect("127.0.0.0/8 is permitted");
    assert!(key.len() > 32, "PKCS#8 key returned");

    // Invalid names are an error, not a panic.
    assert!(matches!(
        issue_leaf_with_ca(&dir, &["b\u{e4}d"], now),
        Err(Error::InvalidName { .. })
    ));
}

#[test]
fn leaf_is_renewed_30_days_before_expiry() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let first = ensure(&dir).expect("ensure");

    let not_yet = ensure_at(&dir, first.leaf_not_after - 31 * DAY).expect("ensure at -31d");
    assert!(!not_yet.renewed_leaf);
    assert_eq!(not_yet.leaf_cert_der, first.leaf_cert_der);

    let at = first.leaf_not_after - 29 * DAY;
    let renewed = ensure_at(&dir, at).expect("ensure at -29d");
    assert!(renewed.renewed_leaf);
    assert!(!renewed.created_ca);
    assert_ne!(renewed.leaf_cert_der, first.leaf_cert_der);
    assert_ne!(
        renewed.leaf_key_pkcs8_der, first.leaf_key_pkcs8_der,
        "new key"
    );
    assert_eq!(renewed.ca_cert_der, first.ca_cert_der);
    assert!(renewed.leaf_not_after > first.leaf_not_after);
    verify(
        &renewed.ca_cert_der,
        &renewed.leaf_cert_der,
        "localhost.weixin.qq.com",
        at,
    )
    .expect("renewed leaf is valid");

    // The renewed leaf was persisted.
    let again = ensure_at(&dir, at).expect("ensure again");
    assert!(!again.renewed_leaf);
    assert_eq!(again.leaf_cert_der, renewed.leaf_cert_der);
}

#[test]
fn missing_ca_key_is_an_error_and_ca_is_untouched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    ensure(&dir).expect("ensure");
    let ca_before = read(&dir, CA_CERT_FILE);

    fs::remove_file(dir.join(CA_KEY_FILE)).expect("rm key");
    let err = ensure(&dir).expect_err("must not create a new CA");
    assert!(matches!(err, Error::CaKeyMissing { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(CA_KEY_FILE), "{msg}");
    assert!(msg.contains("trusted again"), "{msg}");
    assert_eq!(read(&dir, CA_CERT_FILE), ca_before);
    assert!(!dir.join(CA_KEY_FILE).exists());

    assert!(matches!(ensure_ca(&dir), Err(Error::CaKeyMissing { .. })));
    assert!(matches!(
        issue_leaf_with_ca(&dir, &["localhost"], SystemTime::now()),
        Err(Error::CaKeyMissing { .. })
    ));
}

#[test]
fn corrupt_ca_cert_is_an_error_and_untouched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    ensure(&dir).expect("ensure");
    let key_before = read(&dir, CA_KEY_FILE);

    let garbage = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
    fs::write(dir.join(CA_CERT_FILE), garbage).expect("corrupt");
    let err = ensure(&dir).expect_err("corrupt CA");
    assert!(matches!(err, Error::CaCertCorrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(CA_CERT_FILE), "{err}");
    assert_eq!(read(&dir, CA_CERT_FILE), garbage);
    assert_eq!(read(&dir, CA_KEY_FILE), key_before);

    fs::write(dir.join(CA_CERT_FILE), b"hello").expect("corrupt");
    assert!(matches!(ensure(&dir), Err(Error::CaCertCorrupt { .. })));
    assert_eq!(read(&dir, CA_CERT_FILE), b"hello");
}

#[test]
fn corrupt_or_foreign_ca_key_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let other = tmp.path().join("other");
    ensure(&dir).expect("ensure");
    ensure(&other).expect("ensure other");
    let ca_before = read(&dir, CA_CERT_FILE);

    fs::write(dir.join(CA_KEY_FILE), b"not a key").expect("corrupt key");
    let err = ensure(&dir).expect_err("corrupt key");
    assert!(matches!(err, Error::CaKeyUnreadable { .. }), "{err:?}");
    assert!(err.to_string().contains(CA_KEY_FILE));

    fs::copy(other.join(CA_KEY_FILE), dir.join(CA_KEY_FILE)).expect("copy key");
    let err = ensure(&dir).expect_err("foreign key");
    assert!(matches!(err, Error::CaKeyMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains(CA_KEY_FILE));
    assert_eq!(read(&dir, CA_CERT_FILE), ca_before);
}

#[test]
fn orphaned_ca_key_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    ensure(&dir).expect("ensure");
    fs::remove_file(dir.join(CA_CERT_FILE)).expect("rm cert");
    let key_before = read(&dir, CA_KEY_FILE);
    let err = ensure(&dir).expect_err("key without cert");
    assert!(matches!(err, Error::CaCertMissing { .. }), "{err:?}");
    assert!(err.to_string().contains(CA_CERT_FILE));
    assert_eq!(read(&dir, CA_KEY_FILE), key_before);
    assert!(!dir.join(CA_CERT_FILE).exists());
}

#[test]
fn expired_ca_is_an_error_not_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let m = ensure(&dir).expect("ensure");
    let ca_before = read(&dir, CA_CERT_FILE);
    let err = ensure_at(&dir, m.ca_not_after + DAY).expect_err("expired CA");
    assert!(matches!(err, Error::CaExpired { .. }), "{err:?}");
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(read(&dir, CA_CERT_FILE), ca_before);

    // Roughly ten years.
    let ca_life = m
        .ca_not_after
        .duration_since(SystemTime::now())
        .expect("future");
    assert!(ca_life > 3640 * DAY && ca_life < 3660 * DAY, "{ca_life:?}");
}

#[test]
fn missing_leaf_is_recreated_with_the_same_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let first = ensure(&dir).expect("ensure");

    fs::remove_file(dir.join(LEAF_CERT_FILE)).expect("rm leaf");
    fs::remove_file(dir.join(LEAF_KEY_FILE)).expect("rm leaf key");
    let m = ensure(&dir).expect("ensure");
    assert!(m.renewed_leaf);
    assert!(!m.created_ca);
    assert_eq!(m.ca_cert_der, first.ca_cert_der);
    assert_ne!(m.leaf_cert_der, first.leaf_cert_der);
    assert!(dir.join(LEAF_CERT_FILE).exists() && dir.join(LEAF_KEY_FILE).exists());
    verify(
        &m.ca_cert_der,
        &m.leaf_cert_der,
        "localhost.weixin.qq.com",
        SystemTime::now(),
    )
    .expect("valid");

    // Only the key missing, or only garbage: re-issued as well.
    fs::remove_file(dir.join(LEAF_KEY_FILE)).expect("rm leaf key");
    assert!(ensure(&dir).expect("ensure").renewed_leaf);
    fs::write(dir.join(LEAF_CERT_FILE), b"garbage").expect("corrupt leaf");
    assert!(ensure(&dir).expect("ensure").renewed_leaf);
    assert!(!ensure(&dir).expect("ensure").renewed_leaf);
}

#[test]
fn leaf_from_another_ca_is_reissued() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let other = tmp.path().join("other");
    let mine = ensure(&dir).expect("ensure");
    let theirs = ensure(&other).expect("ensure other");

    fs::copy(other.join(LEAF_CERT_FILE), dir.join(LEAF_CERT_FILE)).expect("copy leaf");
    fs::copy(other.join(LEAF_KEY_FILE), dir.join(LEAF_KEY_FILE)).expect("copy leaf key");
    let m = ensure(&dir).expect("ensure");
    assert!(m.renewed_leaf);
    assert_ne!(m.leaf_cert_der, theirs.leaf_cert_der);
    assert_eq!(m.ca_cert_der, mine.ca_cert_der);
    verify(
        &m.ca_cert_der,
        &m.leaf_cert_der,
        "localhost",
        SystemTime::now(),
    )
    .expect("valid");
}

#[test]
fn leaf_not_matching_its_key_is_reissued() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    ensure(&dir).expect("ensure");
    let other = tmp.path().join("other");
    ensure(&other).expect("ensure other");
    fs::copy(other.join(LEAF_KEY_FILE), dir.join(LEAF_KEY_FILE)).expect("copy key");
    assert!(ensure(&dir).expect("ensure").renewed_leaf);
}

#[test]
fn leaf_with_other_names_is_reissued() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let first = ensure(&dir).expect("ensure");

    // A leaf from the right CA and matching key, but with only "localhost" in it.
    let ca_key =
        rcgen::KeyPair::from_pem(&String::from_utf8(read(&dir, CA_KEY_FILE)).expect("utf8"))
            .expect("CA key");
    let issuer = rcgen::Issuer::from_ca_cert_pem(
        &String::from_utf8(read(&dir, CA_CERT_FILE)).expect("utf8"),
        ca_key,
    )
    .expect("issuer");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let cert = params.signed_by(&key, &issuer).expect("sign");
    fs::write(dir.join(LEAF_CERT_FILE), cert.pem()).expect("write leaf");
    fs::write(dir.join(LEAF_KEY_FILE), key.serialize_pem()).expect("write key");

    let m = ensure(&dir).expect("ensure");
    assert!(m.renewed_leaf);
    assert_eq!(m.ca_cert_der, first.ca_cert_der);
    assert_ne!(m.leaf_cert_der, cert.der().to_vec());
}

#[test]
fn ca_has_pathlen_zero_and_critical_name_constraints() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(&tmp);
    let m = ensure(&dir).expect("ensure");
    let ca = parse(&m.ca_cert_der);

    let bc = ca.basic_constraints().expect("bc ext").expect("has bc");
    assert!(bc.critical);
    assert!(bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(0));

    let ku = ca.key_usage().expect("ku ext").expect("has ku");
    assert!(ku.value.key_cert_sign());
    assert!(ku.value.crl_sign());

    let nc = ca
        .name_constraints()
        .expect("nc ext")
        .expect("has name constraints");
    assert!(nc.critical, "name constraints must be critical");
    assert!(nc.value.excluded_subtrees.is_none());
    let permitted: Vec<String> = nc
        .value
        .permitted_subtrees
        .as_ref()
        .expect("permitted subtrees")
        .iter()
        .map(|s| match &s.base {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::IPAddress(b) => format!("IP:{b:?}"),
            other => format!("unexpected {other:?}"),
        })
        .collect();
    let mut v6 = vec![0u8; 15];
    v6.push(1);
    v6.extend([0xff; 16]);
    assert_eq!(
        permitted,
        [
            "DNS:localhost.weixin.qq.com".to_owned(),
            "DNS:localhost".to_owned(),
            format!("IP:{:?}", [127u8, 0, 0, 0, 255, 0, 0, 0]),
            format!("IP:{v6:?}"),
        ]
    );

    // Distinguished name: O, OU user@host, CN with a random suffix.
    let subject = ca.subject();
    let org: Vec<_> = subject
        .iter_organization()
        .map(|a| a.as_str().expect("utf8").to_owned())
        .collect();
    assert_eq!(org, ["wxemu local CA"]);
    assert_eq!(subject.iter_organizational_unit().count(), 1);
    let cn = subject
        .iter_common_name()
        .next()
        .expect("CN")
        .as_str()
        .expect("utf8")
        .to_owned();
    let suffix = cn.strip_prefix("wxemu local CA ").expect("CN prefix");
    assert_eq!(suffix.len(), 8);
    assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(ca.raw_serial().len() >= 8, "serial has at least 64 bits");

    // A second install gets a different CA name and serial.
    let other = ensure(&tmp.path().join("other")).expect("ensure other");
    let other_ca = parse(&other.ca_cert_der);
    assert_ne!(other_ca.subject().as_raw(), ca.subject().as_raw());
    assert_ne!(other_ca.raw_serial(), ca.raw_serial());

    // Leaf: EKU serverAuth, digitalSignature, AKI present, CN the server name.
    let leaf = parse(&m.leaf_cert_der);
    let eku = leaf
        .extended_key_usage()
        .expect("eku ext")
        .expect("has eku");
    assert!(eku.value.server_auth);
    let ku = leaf.key_usage().expect("ku ext").expect("has ku");
    assert!(ku.value.digital_signature());
    assert!(!ku.value.key_cert_sign());
    assert!(leaf
        .extensions()
        .iter()
        .any(|e| e.oid == x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER));
    let leaf_cn = leaf
        .subject()
        .iter_common_name()
        .next()
        .expect("CN")
        .as_str()
        .expect("utf8")
        .to_owned();
    assert_eq!(leaf_cn, "localhost.weixin.qq.com");
}

#[test]
fn concurrent_first_starts_agree_on_one_ca() {
    for _ in 0..5 {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = data_dir(&tmp);
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    ensure(&dir)
                })
            })
            .collect();
        let results: Vec<Material> = handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("ensure"))
            .collect();
        assert_eq!(results.iter().filter(|m| m.created_ca).count(), 1);
        assert!(results
            .iter()
            .all(|m| m.ca_cert_der == results[0].ca_cert_der));
        let after = ensure(&dir).expect("ensure after the race");
        assert_eq!(after.ca_cert_der, results[0].ca_cert_der);
        for m in &results {
            verify(
                &m.ca_cert_der,
                &m.leaf_cert_der,
                "localhost",
                SystemTime::now(),
            )
            .expect("every process got a usable leaf");
        }
    }
}
