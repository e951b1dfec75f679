//! [`Error`]: why certificate material could not be loaded or created, naming the
//! file concerned and what to do about it.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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

    /// A name given to [`issue_leaf_with_ca`](crate::issue_leaf_with_ca) cannot be put in a certificate.
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
