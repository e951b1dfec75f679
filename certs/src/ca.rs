//! A CA in the data directory: loaded and checked ([`LoadedCa`]), or created once (key
//! first, then certificate, so a certificate never exists without its key), never replaced
//! on its own. Its name constraints are [`CaKind`]'s.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use x509_parser::certificate::X509Certificate;

use crate::dates::{format_date, offset_date_time, unix_secs, DAY};
use crate::encoding::{parse_der, pem_certificate_der};
use crate::files::{ca_cert_path_of, ca_key_path_of};
use crate::fsutil::{self, CERT_MODE, KEY_MODE};
use crate::random::{random_hex, random_serial};
use crate::{CaKind, Error};

/// Organization of the CA's distinguished name.
pub const CA_ORGANIZATION: &str = "wxemu local CA";
/// Organization of the interception CA's distinguished name.
pub const INTERCEPT_CA_ORGANIZATION: &str = "wxemu interception CA";
/// Approximate CA lifetime.
pub const CA_VALIDITY_DAYS: i64 = 3650;

/// How long to wait for a concurrently starting wxemu to finish writing a new CA.
const CA_CREATION_WAIT: Duration = Duration::from_millis(50);
const CA_CREATION_ATTEMPTS: u32 = 10;

/// A CA read from (or just written to) the data directory.
pub(crate) struct LoadedCa {
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
    pub(crate) cert_der: Vec<u8>,
    pub(crate) key: KeyPair,
    /// Unix seconds.
    pub(crate) not_after: i64,
}

impl LoadedCa {
    pub(crate) fn check_not_expired(&self, now_secs: i64) -> Result<(), Error> {
        if now_secs > self.not_after {
            return Err(Error::CaExpired {
                cert: self.cert_path.clone(),
                key: self.key_path.clone(),
                not_after: format_date(self.not_after),
            });
        }
        Ok(())
    }

    pub(crate) fn parsed(&self) -> Result<X509Certificate<'_>, Error> {
        parse_der(&self.cert_der).map_err(|reason| Error::CaCertCorrupt {
            cert: self.cert_path.clone(),
            key: self.key_path.clone(),
            reason,
        })
    }
}

/// Loads CA `kind`, or creates it if (and only if) both of its files are missing.
pub(crate) fn load_or_create_ca(
    dir: &Path,
    kind: CaKind,
    now: SystemTime,
) -> Result<(LoadedCa, bool), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sanitized() {
        assert_eq!(sanitize_label("  al ice@x\n", 31), "alicex");
        assert_eq!(sanitize_label(&"h".repeat(100), 32).len(), 32);
        assert!(installation_label().len() <= 64);
    }
}
