//! The entry points: [`ensure`] loads the data directory's CA and leaf and creates or
//! renews what is missing or due ([`Material`]); [`ensure_ca_of`] does it for a CA alone;
//! [`issue_leaf_with_ca_of`] issues a throwaway leaf for tests.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::ca::load_or_create_ca;
use crate::dates::{system_time, unix_secs};
use crate::encoding::hex;
use crate::fsutil;
use crate::leaf::{issue_and_store_leaf, issue_leaf, load_leaf};
use crate::{CaKind, Error};

/// Loaded or freshly created certificate material, ready for rustls.
#[derive(Clone)]
pub struct Material {
    /// The CA certificate, DER.
    pub ca_cert_der: Vec<u8>,
    /// Where the CA certificate is stored (for trust installation).
    pub ca_cert_path: PathBuf,
    /// The leaf certificate, DER.
    pub leaf_cert_der: Vec<u8>,
    /// The leaf private key, PKCS#8 DER.
    pub leaf_key_pkcs8_der: Vec<u8>,
    /// When the leaf certificate expires.
    pub leaf_not_after: SystemTime,
    /// When the CA certificate expires.
    pub ca_not_after: SystemTime,
    /// Lowercase hex SHA-256 of [`Material::ca_cert_der`].
    pub ca_fingerprint_sha256: String,
    /// True when this call created the CA (first start).
    pub created_ca: bool,
    /// True when this call (re)issued the leaf.
    pub renewed_leaf: bool,
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Material")
            .field("ca_cert_path", &self.ca_cert_path)
            .field("ca_fingerprint_sha256", &self.ca_fingerprint_sha256)
            .field("ca_not_after", &self.ca_not_after)
            .field("leaf_not_after", &self.leaf_not_after)
            .field("created_ca", &self.created_ca)
            .field("renewed_leaf", &self.renewed_leaf)
            .field("leaf_key_pkcs8_der", &"[elided]")
            .finish_non_exhaustive()
    }
}

/// Load the CA and leaf from `dir`, creating what is missing. Creates `dir` (0700 on unix)
/// if needed. Same as [`ensure_at`] with the current time.
pub fn ensure(dir: &Path) -> Result<Material, Error> {
    ensure_at(dir, SystemTime::now())
}

/// [`ensure`] with an injectable clock: `now` decides the validity window of newly issued
/// certificates and whether the existing leaf is due for renewal.
pub fn ensure_at(dir: &Path, now: SystemTime) -> Result<Material, Error> {
    let now_secs = unix_secs(now);
    fsutil::create_private_dir(dir)?;
    let (ca, created_ca) = load_or_create_ca(dir, CaKind::FastLogin, now)?;
    ca.check_not_expired(now_secs)?;

    let (leaf, renewed_leaf) = match load_leaf(dir, &ca, now_secs) {
        Ok(leaf) => (leaf, false),
        Err(_reason) => (issue_and_store_leaf(dir, &ca, now)?, true),
    };

    Ok(Material {
        ca_fingerprint_sha256: hex(
            ring::digest::digest(&ring::digest::SHA256, &ca.cert_der).as_ref()
        ),
        ca_cert_path: ca.cert_path,
        ca_not_after: system_time(ca.not_after),
        ca_cert_der: ca.cert_der,
        leaf_cert_der: leaf.cert_der,
        leaf_key_pkcs8_der: leaf.key_der,
        leaf_not_after: system_time(leaf.not_after),
        created_ca,
        renewed_leaf,
    })
}

/// Just the CA (created if missing, with `dir`), for `wxemu ca path` and trust
/// installation. Returns the path of the CA certificate. Fails like [`ensure`] if the CA
/// files are damaged or the CA has expired.
pub fn ensure_ca(dir: &Path) -> Result<PathBuf, Error> {
    ensure_ca_of(dir, CaKind::FastLogin)
}

/// [`ensure_ca`] for either CA: `wxemu ca path [--intercept]`.
pub fn ensure_ca_of(dir: &Path, kind: CaKind) -> Result<PathBuf, Error> {
    let now = SystemTime::now();
    fsutil::create_private_dir(dir)?;
    let (ca, _created) = load_or_create_ca(dir, kind, now)?;
    ca.check_not_expired(unix_secs(now))?;
    Ok(ca.cert_path)
}

/// Issue a leaf for arbitrary `names` (DNS names or IP addresses) with the CA in `dir`
/// (created if missing), valid from `now` - 1 day. Nothing is written for the leaf.
/// Returns (certificate DER, PKCS#8 private key DER).
///
/// Meant for tests proving that the CA's name constraints reject e.g. `example.com`.
pub fn issue_leaf_with_ca(
    dir: &Path,
    names: &[&str],
    now: SystemTime,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    issue_leaf_with_ca_of(dir, CaKind::FastLogin, names, now)
}

/// [`issue_leaf_with_ca`] with either CA. Deliberately does not check the names against
/// the CA's constraints: tests use it to prove that verifiers do.
pub fn issue_leaf_with_ca_of(
    dir: &Path,
    kind: CaKind,
    names: &[&str],
    now: SystemTime,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    fsutil::create_private_dir(dir)?;
    let (ca, _created) = load_or_create_ca(dir, kind, now)?;
    ca.check_not_expired(unix_secs(now))?;
    let (cert_der, key) = issue_leaf(&ca, names, now)?;
    Ok((cert_der, key.serialize_der()))
}
