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
//! memory: see [`InterceptCa`].
//!
//! # Layout
//!
//! Every module is private; what other crates use is the `pub use` list below, so a
//! caller names everything from the crate root (`wxemu_certs::ensure`,
//! `wxemu_certs::InterceptCa`, `wxemu_certs::install_trust`).
//!
//! * `material`: the entry points ([`ensure`], [`ensure_ca_of`], [`issue_leaf_with_ca_of`])
//!   and what they return ([`Material`]).
//! * `ca`: loading, checking and creating a CA (key before certificate, never replaced).
//! * `kind`: the two CAs ([`CaKind`]) and their name constraints.
//! * `leaf`: the fast-login leaf: reuse, renewal, issuing leaves for any names.
//! * `intercept`: the interception CA and its per-host leaves in memory ([`InterceptCa`]).
//! * `trust`: installing, finding and removing a CA in the trust stores (system, NSS,
//!   macOS, Windows; [`install_trust`], [`trust_status`], [`uninstall_trust`]) and the
//!   environment-variable bundles for tools that read no trust store ([`write_bundle`]).
//! * `files`: the data directory's file names and paths; `error`: [`Error`].
//! * `fsutil` (atomic writes, modes), `encoding` (PEM, DER, hex), `dates`, `random`:
//!   small shared pieces.

mod ca;
mod dates;
mod encoding;
mod error;
mod files;
mod fsutil;
mod intercept;
mod kind;
mod leaf;
mod material;
mod random;
mod trust;

pub use error::Error;
pub use files::{
    ca_cert_path, ca_cert_path_of, ca_key_path, ca_key_path_of, leaf_cert_path, leaf_key_path,
    CA_CERT_FILE, CA_KEY_FILE, INTERCEPT_CA_CERT_FILE, INTERCEPT_CA_KEY_FILE, LEAF_CERT_FILE,
    LEAF_KEY_FILE,
};
pub use material::{
    ensure, ensure_at, ensure_ca, ensure_ca_of, issue_leaf_with_ca, issue_leaf_with_ca_of, Material,
};

pub use ca::{CA_ORGANIZATION, CA_VALIDITY_DAYS, INTERCEPT_CA_ORGANIZATION};
pub use kind::{CaKind, INTERCEPT_EXCLUDED, INTERCEPT_PERMITTED};
pub use leaf::{LEAF_NAMES, LEAF_RENEW_BEFORE_DAYS, LEAF_VALIDITY_DAYS, SERVER_NAME};

pub use intercept::{
    cert_path as intercept_ca_cert_path, normalize_host, InterceptCa,
    LEAF_CACHE_CAPACITY as INTERCEPT_LEAF_CACHE_CAPACITY,
};

pub use trust::env::{
    intercept_lines as intercept_env_lines, lines as env_lines, write_bundle,
    write_intercept_files, Shell, BUNDLE_FILE, INTERCEPT_BUNDLE_FILE, INTERCEPT_EXTRA_FILE,
    SYSTEM_BUNDLES,
};
pub use trust::linux::SystemLayout;
pub use trust::nss::nickname as nss_nickname;
pub use trust::{
    find_program, install as install_trust, is_root, pem_certificates, read_pem_cert, sha256_hex,
    status as trust_status, uninstall as uninstall_trust, validity, CaCert, Cmd, Outcome, Report,
    StoreKind, StoreReport, TrustTargets, Verdict,
};
