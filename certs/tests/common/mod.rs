//! What both integration test files need: a fresh data directory, webpki verification
//! of a leaf against one CA at a given time, and readers for certificates and modes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};

pub const DAY: Duration = Duration::from_secs(86_400);

/// A directory that does not exist yet, so `ensure` has to create it.
pub fn data_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("wxemu-data")
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Verifies `leaf` for `name` at `at` the way rustls clients do, trusting only `ca`.
pub fn verify(ca: &[u8], leaf: &[u8], name: &str, at: SystemTime) -> Result<(), rustls::Error> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.to_vec()))
        .expect("CA is a valid trust anchor");
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .expect("verifier");
    let since_epoch = at.duration_since(UNIX_EPOCH).expect("after 1970");
    verifier
        .verify_server_cert(
            &CertificateDer::from(leaf.to_vec()),
            &[],
            &ServerName::try_from(name.to_owned()).expect("valid server name"),
            &[],
            UnixTime::since_unix_epoch(since_epoch),
        )
        .map(|_| ())
}

/// Asserts webpki refused the leaf for its name constraints, not for any other reason.
pub fn assert_name_constraint_violation(result: Result<(), rustls::Error>, what: &str) {
    match result {
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(other))) => {
            let inner = other
                .0
                .downcast_ref::<webpki::Error>()
                .unwrap_or_else(|| panic!("{what}: expected a webpki error, got {other:?}"));
            assert_eq!(*inner, webpki::Error::NameConstraintViolation, "{what}");
        }
        other => panic!("{what}: expected a name constraint violation, got {other:?}"),
    }
}

pub fn parse(der: &[u8]) -> x509_parser::certificate::X509Certificate<'_> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).expect("valid X.509");
    assert!(rest.is_empty());
    cert
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}
