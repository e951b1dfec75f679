//! The data directory's files: their names and paths.

use std::path::{Path, PathBuf};

use crate::CaKind;

/// CA certificate (public, 0644).
pub const CA_CERT_FILE: &str = "ca.pem";
/// CA private key, PKCS#8 PEM, 0600.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Leaf (server) certificate, 0644.
pub const LEAF_CERT_FILE: &str = "leaf.pem";
/// Leaf private key, PKCS#8 PEM, 0600.
pub const LEAF_KEY_FILE: &str = "leaf-key.pem";
/// Interception CA certificate (public, 0644); see [`InterceptCa`](crate::InterceptCa).
pub const INTERCEPT_CA_CERT_FILE: &str = "intercept-ca.pem";
/// Interception CA private key, PKCS#8 PEM, 0600.
pub const INTERCEPT_CA_KEY_FILE: &str = "intercept-ca-key.pem";

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
