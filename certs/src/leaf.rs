//! The fast-login leaf: reused while it is sound, re-issued (with a new key) when it is
//! missing, due, or no longer matches its key, the CA or [`LEAF_NAMES`]; and leaves for
//! any names ([`issue_leaf`], also used by the interception CA).

use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::ca::LoadedCa;
use crate::dates::{offset_date_time, unix_secs, DAY};
use crate::encoding::{parse_der, pem_certificate_der, pem_encode};
use crate::files::{leaf_cert_path, leaf_key_path, LEAF_CERT_FILE, LEAF_KEY_FILE};
use crate::fsutil::{self, CERT_MODE, KEY_MODE};
use crate::random::random_serial;
use crate::Error;

/// The host name the fake WeChat client serves.
pub const SERVER_NAME: &str = "localhost.weixin.qq.com";
/// Subject alternative names of the leaf certificate issued by [`ensure`](crate::ensure).
pub const LEAF_NAMES: &[&str] = &[SERVER_NAME, "localhost", "127.0.0.1", "::1"];

/// Leaf lifetime, measured from its `notBefore` (which is one day before issuance).
pub const LEAF_VALIDITY_DAYS: i64 = 397;
/// The leaf is re-issued once it expires within this many days.
pub const LEAF_RENEW_BEFORE_DAYS: i64 = 30;

pub(crate) struct LoadedLeaf {
    pub(crate) cert_der: Vec<u8>,
    pub(crate) key_der: Vec<u8>,
    /// Unix seconds.
    pub(crate) not_after: i64,
}

/// Loads the stored leaf if it can be reused as is; otherwise says why not.
pub(crate) fn load_leaf(dir: &Path, ca: &LoadedCa, now_secs: i64) -> Result<LoadedLeaf, String> {
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

pub(crate) fn issue_and_store_leaf(
    dir: &Path,
    ca: &LoadedCa,
    now: SystemTime,
) -> Result<LoadedLeaf, Error> {
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

pub(crate) fn issue_leaf(
    ca: &LoadedCa,
    names: &[&str],
    now: SystemTime,
) -> Result<(Vec<u8>, KeyPair), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
