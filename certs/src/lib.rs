//! wxemu's local certificate authority and server certificate.
//!
//! wxemu impersonates the WeChat desktop client's local HTTPS endpoint,
//! `https://localhost.weixin.qq.com:14013`. Browsers only talk to it if it presents a
//! certificate for that name which chains to a root they trust. This crate creates and
//! maintains that material in a data directory:
//!
//! | file | contents | unix mode |
//! |------|----------|-----------|
//! | [`CA_CERT_FILE`] (`ca.pem`) | the local CA certificate, PEM; this is what users trust | 0644 |
//! | [`CA_KEY_FILE`] (`ca-key.pem`) | the CA private key, PKCS#8 PEM | 0600 |
//! | [`LEAF_CERT_FILE`] (`leaf.pem`) | the server ("leaf") certificate, PEM | 0644 |
//! | [`LEAF_KEY_FILE`] (`leaf-key.pem`) | the server private key, PKCS#8 PEM | 0600 |
//!
//! The directory itself is created with mode 0700 if it does not exist.
//!
//! # Lifetimes and renewal
//!
//! * The CA (ECDSA P-256) is valid for about ten years. It is created once, on first
//!   start, and **never replaced automatically**: replacing it would silently break every
//!   trust store it was installed into. If the CA files are damaged, don't match, or the
//!   CA has expired, [`ensure`] fails with an [`Error`] that says which file is affected
//!   and that deleting both CA files makes wxemu create a new CA, which must then be
//!   trusted again.
//! * The leaf (ECDSA P-256, names [`LEAF_NAMES`]) is valid for 397 days, the most that
//!   browsers accept for a certificate from a user-installed root as well. [`ensure`]
//!   re-issues it, with a new key, whenever it is missing or unreadable, expires within
//!   [`LEAF_RENEW_BEFORE_DAYS`] days, does not match its key, was not signed by the current
//!   CA, or carries a different set of names. Both certificates start one day in the past
//!   to tolerate clock skew.
//!
//! All writes are atomic (temporary file, fsync, rename, directory fsync), so a crash never
//! leaves a truncated key or certificate behind. A new CA's key is written before its
//! certificate, so a CA certificate never exists without its key.
//!
//! # Why the CA is name-constrained
//!
//! Installing a root certificate normally lets its key vouch for *any* web site, so a
//! leaked `ca-key.pem` would let whoever holds it intercept the user's traffic to their
//! bank. The wxemu CA therefore carries a critical X.509 Name Constraints extension that
//! permits only `localhost.weixin.qq.com`, `localhost`, `127.0.0.0/8` and `::1`.
//! Verifiers that honour name constraints (all current browsers and TLS libraries) reject
//! any certificate this CA issues for another name, so the damage from a stolen key is
//! limited to the local machine's loopback names. The path length constraint of 0 also
//! stops the key from minting intermediate CAs.
//!
//! # The interception CA
//!
//! A second, separate CA ([`CaKind::Intercept`], files [`INTERCEPT_CA_CERT_FILE`] and
//! [`INTERCEPT_CA_KEY_FILE`]) lets wxemu answer *as* the real WeChat hosts
//! (`open.weixin.qq.com`, `api.weixin.qq.com`, `res.wx.qq.com`, the Web WeChat hosts) when
//! a user opts into interception. It is created only then, follows the same rules (ECDSA
//! P-256, pathlen 0, key 0600, never replaced on its own), and its critical Name
//! Constraints permit only [`INTERCEPT_PERMITTED`] and their subdomains, excluding
//! `localhost.weixin.qq.com` and every IP address. Its leaves are made per host in
//! memory: see [`intercept`].

mod fsutil;
pub mod intercept;
mod kind;
pub mod trust;

pub use kind::{CaKind, INTERCEPT_EXCLUDED, INTERCEPT_PERMITTED};

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::fsutil::{CERT_MODE, KEY_MODE};

/// CA certificate (public, 0644).
pub const CA_CERT_FILE: &str = "ca.pem";
/// CA private key, PKCS#8 PEM, 0600.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Leaf (server) certificate, 0644.
pub const LEAF_CERT_FILE: &str = "leaf.pem";
/// Leaf private key, PKCS#8 PEM, 0600.
pub const LEAF_KEY_FILE: &str = "leaf-key.pem";
/// Interception CA certificate (public, 0644); see [`intercept`].
pub const INTERCEPT_CA_CERT_FILE: &str = "intercept-ca.pem";
/// Interception CA private key, PKCS#8 PEM, 0600.
pub const INTERCEPT_CA_KEY_FILE: &str = "intercept-ca-key.pem";

/// The host name the fake WeChat client serves.
pub const SERVER_NAME: &str = "localhost.weixin.qq.com";
/// Subject alternative names of the leaf certificate issued by [`ensure`].
pub const LEAF_NAMES: &[&str] = &[SERVER_NAME, "localhost", "127.0.0.1", "::1"];

/// Organization of the CA's distinguished name.
pub const CA_ORGANIZATION: &str = "wxemu local CA";
/// Organization of the interception CA's distinguished name.
pub const INTERCEPT_CA_ORGANIZATION: &str = "wxemu interception CA";
/// Approximate CA lifetime.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// Leaf lifetime, measured from its `notBefore` (which is one day before issuance).
pub const LEAF_VALIDITY_DAYS: i64 = 397;
/// The leaf is re-issued once it expires within this many days.
pub const LEAF_RENEW_BEFORE_DAYS: i64 = 30;

const DAY: i64 = 86_400;
/// How long to wait for a concurrently starting wxemu to finish writing a new CA.
const CA_CREATION_WAIT: Duration = Duration::from_millis(50);
const CA_CREATION_ATTEMPTS: u32 = 10;

/// Path of the CA certificate in the data directory `dir`.
pub fn ca_cert_path(dir: &Path) -> PathBuf {
    dir.join(CA_CERT_FILE)
}

/// Path of the CA private key in the data directory `dir`.
pub fn ca_key_path(dir: &Path) -> PathBuf {
    dir.join(CA_KEY_FILE)
}

/// Path of the certificate of CA `kind` in the data directory `dir`.
pub fn ca_cert_path_of(dir: &Path, kind: CaKind) -> PathBuf {
    dir.join(kind.cert_file())
}

/// Path of the private key of CA `kind` in the data directory `dir`.
pub fn ca_key_path_of(dir: &Path, kind: CaKind) -> PathBuf {
    dir.join(kind.key_file())
}

/// Path of the leaf certificate in the data directory `dir`.
pub fn leaf_cert_path(dir: &Path) -> PathBuf {
    dir.join(LEAF_CERT_FILE)
}

/// Path of the leaf private key in the data directory `dir`.
pub fn leaf_key_path(dir: &Path) -> PathBuf {
    dir.join(LEAF_KEY_FILE)
}

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

/// Errors from loading or creating certificate material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What was being done, e.g. "read".
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// `ca.pem` exists but `ca-key.pem` does not.
    #[error(
        "the CA certificate {} exists but its private key {} is missing. {}",
        .cert.display(), .key.display(), recreate_hint(.cert, .key)
    )]
    CaKeyMissing {
        /// Path of `ca.pem`.
        cert: PathBuf,
        /// Path of `ca-key.pem`.
        key: PathBuf,
    },

    /// `ca-key.pem` exists but `ca.pem` does not.
    #[error(
        "the CA private key {} exists but the CA certificate {} is missing (perhaps the first \
         start of wxemu was interrupted). {}",
        .key.display(), .cert.display(), recreate_hint(.cert, .key)
    )]
    CaCertMissing {
        /// Path of `ca.pem`.
        cert: PathBuf,
        /// Path of `ca-key.pem`.
        key: PathBuf,
    },

    /// `ca-key.pem` could not be read or is not a usable private key.
    #[error(
        "the CA private key {} cannot be used: {reason}. {}",
        .key.display(), recreate_hint(.cert, .key)
    )]
    CaKeyUnreadable {
        /// Path of `ca.pem`.
        cert: PathBuf,
        /// Path of `ca-key.pem`.
        key: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// `ca-key.pem` is a valid key, but not the key of `ca.pem`.
    #[error(
        "the CA private key {} does not belong to the CA certificate {}. {}",
        .key.display(), .cert.display(), recreate_hint(.cert, .key)
    )]
    CaKeyMismatch {
        /// Path of `ca.pem`.
        cert: PathBuf,
        /// Path of `ca-key.pem`.
        key: PathBuf,
    },

    /// `ca.pem` could not be parsed (or is not a CA certificate).
    #[error(
        "the CA certificate {} is corrupt or unusable: {reason}. {}",
        .cert.display(), recreate_hint(.cert, .key)
    )]
    CaCertCorrupt {
        /// Path of `ca.pem`.
        cert: PathBuf,
        /// Path of `ca-key.pem`.
        key: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The CA certificate has expired.
    #[error(
        "the CA certificate {} expired on {not_after}. {}",
        .cert.display(), recreate_hint(.cert, .key)
    )]
    CaExpired {
        /// Path of `ca.pem`.
        cert: PathBuf,
        /// Path of `ca-key.pem`.
        key: PathBuf,
        /// Expiry date, human-readable (UTC).
        not_after: String,
    },

    /// A name given to [`issue_leaf_with_ca`] cannot be put in a certificate.
    #[error("cannot issue a certificate for {name:?}: {reason}")]
    InvalidName {
        /// The offending name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },

    /// The given time cannot be represented in a certificate.
    #[error("the time {0:?} is out of range for a certificate; check the system clock")]
    TimeOutOfRange(SystemTime),

    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,

    /// Certificate or key generation failed.
    #[error("could not generate certificate material: {0}")]
    Generate(#[from] rcgen::Error),
}

impl Error {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

fn recreate_hint(cert: &Path, key: &Path) -> String {
    format!(
        "wxemu never replaces an existing CA on its own. Restore the file from a backup, or \
         delete both {} and {} so that wxemu creates a new CA on its next start; the new CA \
         must then be trusted again (browsers and system trust stores that trusted the old one \
         will reject wxemu until it is)",
        cert.display(),
        key.display()
    )
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

// ---------------------------------------------------------------------------------------
// CA

struct LoadedCa {
    cert_path: PathBuf,
    key_path: PathBuf,
    cert_der: Vec<u8>,
    key: KeyPair,
    /// Unix seconds.
    not_after: i64,
}

impl LoadedCa {
    fn check_not_expired(&self, now_secs: i64) -> Result<(), Error> {
        if now_secs > self.not_after {
            return Err(Error::CaExpired {
                cert: self.cert_path.clone(),
                key: self.key_path.clone(),
                not_after: format_date(self.not_after),
            });
        }
        Ok(())
    }

    fn parsed(&self) -> Result<X509Certificate<'_>, Error> {
        parse_der(&self.cert_der).map_err(|reason| Error::CaCertCorrupt {
            cert: self.cert_path.clone(),
            key: self.key_path.clone(),
            reason,
        })
    }
}

/// Loads CA `kind`, or creates it if (and only if) both of its files are missing.
fn load_or_create_ca(dir: &Path, kind: CaKind, now: SystemTime) -> Result<(LoadedCa, bool), Error> {
    let cert_path = ca_cert_path_of(dir, kind);
    let key_path = ca_key_path_of(dir, kind);
    for _ in 0..CA_CREATION_ATTEMPTS {
        match (fsutil::exists(&cert_path)?, fsutil::exists(&key_path)?) {
            (true, true) => return Ok((load_ca(&cert_path, &key_path)?, false)),
            (true, false) => {
                return Err(Error::CaKeyMissing {
                    cert: cert_path,
                    key: key_path,
                })
            }
            (false, false) => {
                if let Some(ca) = create_ca(&cert_path, &key_path, kind, now)? {
                    return Ok((ca, true));
                }
                // Another wxemu created the CA at the same moment; load theirs.
            }
            // Either another wxemu is between writing the key and the certificate, or
            // such a write was interrupted. Give the former a moment.
            (false, true) => std::thread::sleep(CA_CREATION_WAIT),
        }
    }
    Err(Error::CaCertMissing {
        cert: cert_path,
        key: key_path,
    })
}

fn load_ca(cert_path: &Path, key_path: &Path) -> Result<LoadedCa, Error> {
    let corrupt = |reason: String| Error::CaCertCorrupt {
        cert: cert_path.to_path_buf(),
        key: key_path.to_path_buf(),
        reason,
    };
    let unreadable_key = |reason: String| Error::CaKeyUnreadable {
        cert: cert_path.to_path_buf(),
        key: key_path.to_path_buf(),
        reason,
    };

    let cert_pem = std::fs::read(cert_path).map_err(|e| corrupt(format!("cannot read it: {e}")))?;
    let cert_der = pem_certificate_der(&cert_pem).map_err(corrupt)?;
    let cert = parse_der(&cert_der).map_err(corrupt)?;
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        Ok(_) => return Err(corrupt("it is not a CA certificate".to_owned())),
        Err(e) => return Err(corrupt(format!("bad basic constraints extension: {e}"))),
    }

    let key_pem = match std::fs::read(key_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::CaKeyMissing {
                cert: cert_path.to_path_buf(),
                key: key_path.to_path_buf(),
            })
        }
        Err(e) => return Err(unreadable_key(format!("cannot read it: {e}"))),
    };
    let key_pem = String::from_utf8(key_pem)
        .map_err(|_| unreadable_key("it is not a PEM file".to_owned()))?;
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| unreadable_key(format!("it is not a PKCS#8 PEM private key ({e})")))?;
    if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
        return Err(Error::CaKeyMismatch {
            cert: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
        });
    }

    let not_after = cert.validity().not_after.timestamp();
    drop(cert);
    Ok(LoadedCa {
        cert_path: cert_path.to_path_buf(),
        key_path: key_path.to_path_buf(),
        cert_der,
        key,
        not_after,
    })
}

/// Creates a new CA. Returns `None` if another process created one concurrently.
fn create_ca(
    cert_path: &Path,
    key_path: &Path,
    kind: CaKind,
    now: SystemTime,
) -> Result<Option<LoadedCa>, Error> {
    let now_secs = unix_secs(now);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;

    let mut params = CertificateParams::default();
    params.not_before = offset_date_time(now_secs.checked_sub(DAY), now)?;
    params.not_after = offset_date_time(now_secs.checked_add(CA_VALIDITY_DAYS * DAY), now)?;
    params.serial_number = Some(random_serial()?);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, kind.organization());
    dn.push(DnType::OrganizationalUnitName, installation_label());
    dn.push(
        DnType::CommonName,
        format!("{} {}", kind.organization(), random_hex(4)?),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // rcgen always marks Name Constraints critical.
    params.name_constraints = Some(kind.name_constraints());

    let cert = params.self_signed(&key)?;
    let cert_der = cert.der().to_vec();
    let not_after = parse_der(&cert_der)
        .map_err(rcgen::Error::X509)?
        .validity()
        .not_after
        .timestamp();

    // Key first, then certificate: a certificate must never exist without its key.
    let dir = fsutil::parent(cert_path);
    let key_tmp = fsutil::write_temp(key_path, key.serialize_pem().as_bytes(), KEY_MODE)?;
    let cert_tmp = fsutil::write_temp(cert_path, cert.pem().as_bytes(), CERT_MODE)?;
    if !fsutil::publish_new(key_tmp, key_path)? {
        return Ok(None);
    }
    fsutil::sync_dir(dir);
    if !fsutil::publish_new(cert_tmp, cert_path)? {
        return Ok(None);
    }
    fsutil::sync_dir(dir);

    Ok(Some(LoadedCa {
        cert_path: cert_path.to_path_buf(),
        key_path: key_path.to_path_buf(),
        cert_der,
        key,
        not_after,
    }))
}

/// `<user>@<host>` for the CA's organizational unit, so users can tell installs apart.
fn installation_label() -> String {
    let env = |names: &[&str]| {
        names
            .iter()
            .filter_map(|n| std::env::var(n).ok())
            .map(|v| sanitize_label(&v, 31))
            .find(|v| !v.is_empty())
    };
    let file = |paths: &[&str]| {
        paths
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|v| sanitize_label(&v, 32))
            .find(|v| !v.is_empty())
    };
    let user = env(&["USER", "USERNAME", "LOGNAME"]);
    let host = env(&["HOSTNAME", "COMPUTERNAME"])
        .or_else(|| file(&["/etc/hostname", "/proc/sys/kernel/hostname"]));
    match (user, host) {
        (None, None) => "wxemu".to_owned(),
        (user, host) => format!(
            "{}@{}",
            user.as_deref().unwrap_or("wxemu"),
            host.as_deref().unwrap_or("wxemu")
        ),
    }
}

/// Keeps printable ASCII (a DN attribute is shown in trust store UIs), trimmed and capped
/// so that `user@host` stays within the 64-character limit for organizational units.
fn sanitize_label(s: &str, max: usize) -> String {
    s.trim()
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '@')
        .take(max)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Leaf

struct LoadedLeaf {
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
    /// Unix seconds.
    not_after: i64,
}

/// Loads the stored leaf if it can be reused as is; otherwise says why not.
fn load_leaf(dir: &Path, ca: &LoadedCa, now_secs: i64) -> Result<LoadedLeaf, String> {
    let cert_pem =
        std::fs::read(leaf_cert_path(dir)).map_err(|e| format!("{LEAF_CERT_FILE}: {e}"))?;
    let cert_der = pem_certificate_der(&cert_pem)?;
    let cert = parse_der(&cert_der)?;

    let key_pem =
        std::fs::read_to_string(leaf_key_path(dir)).map_err(|e| format!("{LEAF_KEY_FILE}: {e}"))?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| format!("{LEAF_KEY_FILE}: {e}"))?;
    if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
        return Err("leaf key does not match the leaf certificate".to_owned());
    }

    let ca_cert = ca.parsed().map_err(|e| e.to_string())?;
    if cert.issuer().as_raw() != ca_cert.subject().as_raw()
        || cert.verify_signature(Some(ca_cert.public_key())).is_err()
    {
        return Err("leaf was not issued by the current CA".to_owned());
    }

    if !same_names(&cert, LEAF_NAMES) {
        return Err("leaf names differ".to_owned());
    }

    let not_before = cert.validity().not_before.timestamp();
    let not_after = cert.validity().not_after.timestamp();
    if now_secs < not_before {
        return Err("leaf is not valid yet".to_owned());
    }
    // A leaf capped at the CA's expiry cannot be improved by re-issuing it.
    if not_after.saturating_sub(now_secs) < LEAF_RENEW_BEFORE_DAYS * DAY && not_after < ca.not_after
    {
        return Err("leaf expires soon".to_owned());
    }

    Ok(LoadedLeaf {
        cert_der,
        key_der: key.serialize_der(),
        not_after,
    })
}

fn issue_and_store_leaf(dir: &Path, ca: &LoadedCa, now: SystemTime) -> Result<LoadedLeaf, Error> {
    let (cert_der, key) = issue_leaf(ca, LEAF_NAMES, now)?;
    let not_after = parse_der(&cert_der)
        .map_err(rcgen::Error::X509)?
        .validity()
        .not_after
        .timestamp();

    let cert_path = leaf_cert_path(dir);
    let key_path = leaf_key_path(dir);
    let key_tmp = fsutil::write_temp(&key_path, key.serialize_pem().as_bytes(), KEY_MODE)?;
    let cert_tmp = fsutil::write_temp(
        &cert_path,
        pem_encode("CERTIFICATE", &cert_der).as_bytes(),
        CERT_MODE,
    )?;
    // A crash between the two renames leaves a mismatched pair, which the next start
    // detects and replaces.
    fsutil::replace(key_tmp, &key_path)?;
    fsutil::replace(cert_tmp, &cert_path)?;
    fsutil::sync_dir(dir);

    Ok(LoadedLeaf {
        cert_der,
        key_der: key.serialize_der(),
        not_after,
    })
}

fn issue_leaf(ca: &LoadedCa, names: &[&str], now: SystemTime) -> Result<(Vec<u8>, KeyPair), Error> {
    let now_secs = unix_secs(now);
    let sans = names
        .iter()
        .map(|name| san(name))
        .collect::<Result<Vec<_>, _>>()?;

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let not_before = now_secs.checked_sub(DAY);
    let not_after = not_before
        .and_then(|nb| nb.checked_add(LEAF_VALIDITY_DAYS * DAY))
        .map(|na| na.min(ca.not_after));
    params.not_before = offset_date_time(not_before, now)?;
    params.not_after = offset_date_time(not_after, now)?;
    params.serial_number = Some(random_serial()?);
    let mut dn = DistinguishedName::new();
    if let Some(first) = names.first() {
        dn.push(DnType::CommonName, *first);
    }
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;

    let issuer = Issuer::from_ca_cert_der(&ca.cert_der.as_slice().into(), &ca.key)?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.der().to_vec(), key))
}

fn san(name: &str) -> Result<SanType, Error> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    if name.is_empty() {
        return Err(Error::InvalidName {
            name: name.to_owned(),
            reason: "empty name".to_owned(),
        });
    }
    let dns = name
        .try_into()
        .map_err(|e: rcgen::Error| Error::InvalidName {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(SanType::DnsName(dns))
}

/// Whether the certificate's subject alternative names are exactly `expected`.
fn same_names(cert: &X509Certificate<'_>, expected: &[&str]) -> bool {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Name {
        Dns(String),
        Ip(IpAddr),
    }
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return false;
    };
    let mut present = Vec::new();
    for general in &ext.value.general_names {
        let name = match general {
            GeneralName::DNSName(d) => Name::Dns(d.to_ascii_lowercase()),
            GeneralName::IPAddress(b) => match ip_from_bytes(b) {
                Some(ip) => Name::Ip(ip),
                None => return false,
            },
            _ => return false,
        };
        present.push(name);
    }
    let mut wanted: Vec<Name> = expected
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Name::Ip(ip),
            Err(_) => Name::Dns(n.to_ascii_lowercase()),
        })
        .collect();
    present.sort();
    wanted.sort();
    present == wanted
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(b).ok().map(IpAddr::from)
}

// ---------------------------------------------------------------------------------------
// Helpers

/// The DER of the first `CERTIFICATE` block of a PEM file.
fn pem_certificate_der(pem: &[u8]) -> Result<Vec<u8>, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|e| format!("it is not a PEM certificate ({e})"))?;
    if block.label != "CERTIFICATE" {
        return Err(format!(
            "expected a CERTIFICATE PEM block, found {:?}",
            block.label
        ));
    }
    Ok(block.contents)
}

fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err("trailing data after the certificate".to_owned()),
        Err(e) => Err(format!("invalid X.509 certificate ({e})")),
    }
}

/// PEM with the platform's line endings, like rcgen's `Certificate::pem`.
fn pem_encode(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let eol = if cfg!(windows) { "\r\n" } else { "\n" };
    let mut b64 = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----{eol}");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str(eol);
    }
    out.push_str(&format!("-----END {label}-----{eol}"));
    out
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::Random)?;
    Ok(buf)
}

pub(crate) fn random_hex(len_bytes: usize) -> Result<String, Error> {
    let bytes: [u8; 16] = random_bytes()?;
    Ok(hex(&bytes[..len_bytes.min(16)]))
}

/// A positive 16-byte serial number with 126 random bits.
fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes: [u8; 16] = random_bytes()?;
    // Positive, and without a leading zero byte so the encoding is always 16 bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

fn system_time(secs: i64) -> SystemTime {
    let offset = Duration::from_secs(secs.unsigned_abs());
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// `secs` (unix seconds) as a certificate time; `now` is only for the error message.
fn offset_date_time(secs: Option<i64>, now: SystemTime) -> Result<OffsetDateTime, Error> {
    secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or(Error::TimeOutOfRange(now))
}

fn format_date(secs: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        Err(_) => format!("unix time {secs}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_encoding_round_trips() {
        for len in [0usize, 1, 2, 3, 47, 48, 49, 300] {
            let der: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let pem = pem_encode("CERTIFICATE", &der);
            let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("parses");
            assert_eq!(block.label, "CERTIFICATE");
            assert_eq!(block.contents, der, "length {len}");
        }
    }

    #[test]
    fn labels_are_sanitized() {
        assert_eq!(sanitize_label("  al ice@x\n", 31), "alicex");
        assert_eq!(sanitize_label(&"h".repeat(100), 32).len(), 32);
        assert!(installation_label().len() <= 64);
    }

    #[test]
    fn time_conversions() {
        assert_eq!(unix_secs(system_time(1_700_000_000)), 1_700_000_000);
        assert_eq!(unix_secs(system_time(-5)), -5);
        assert_eq!(format_date(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn san_parsing() {
        assert!(matches!(san("::1"), Ok(SanType::IpAddress(_))));
        assert!(matches!(san("localhost"), Ok(SanType::DnsName(_))));
        assert!(matches!(san(""), Err(Error::InvalidName { .. })));
        assert!(matches!(
            san("bad\u{e9}name"),
            Err(Error::InvalidName { .. })
        ));
    }

    #[test]
    fn serials_are_random_and_positive() {
        let a = random_serial().expect("rng").to_bytes();
        let b = random_serial().expect("rng").to_bytes();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a[0] & 0xc0, 0x40);
    }
}
