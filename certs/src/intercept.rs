//! The interception CA and the per-host leaves it signs on demand.
//!
//! When wxemu intercepts (proxy or hosts mode) it answers TLS connections *as* the real
//! WeChat hosts, so it needs a certificate for whichever host the client asked for (the
//! TLS SNI). [`InterceptCa`] loads or creates the interception CA (files
//! [`INTERCEPT_CA_CERT_FILE`](crate::INTERCEPT_CA_CERT_FILE) and
//! [`INTERCEPT_CA_KEY_FILE`](crate::INTERCEPT_CA_KEY_FILE), same rules as the fast-login
//! CA: key 0600, atomic writes, never replaced on its own) and issues leaves in memory
//! only, one per host, cached up to [`LEAF_CACHE_CAPACITY`] hosts. Leaves never touch
//! the disk: they are cheap to make and a restart simply makes new ones.
//!
//! It implements rustls' [`ResolvesServerCert`], so a `rustls::ServerConfig` built with
//! it serves every name the CA may sign (see [`CaKind::may_sign`]) and refuses the
//! handshake for any other (no certificate: the client sees a handshake failure rather
//! than a certificate that would be rejected anyway).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::ca::LoadedCa;
use crate::{CaKind, Error};

/// At most this many hosts' leaves are kept in memory; the least recently issued one is
/// dropped first. wxemu plays about a dozen hosts; the bound is for clients that send
/// arbitrary subdomains (hosts mode with a wildcard DNS entry, a fuzzer).
pub const LEAF_CACHE_CAPACITY: usize = 256;

/// The interception CA, loaded, with its cache of per-host leaves.
pub struct InterceptCa {
    ca: LoadedCa,
    fingerprint_sha256: String,
    created: bool,
    cache: Mutex<LeafCache>,
}

impl fmt::Debug for InterceptCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterceptCa")
            .field("cert_path", &self.ca.cert_path)
            .field("fingerprint_sha256", &self.fingerprint_sha256)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl InterceptCa {
    /// Loads the interception CA from the data directory `dir`, creating it (and `dir`,
    /// 0700) if both of its files are missing. Fails, like [`crate::ensure`], when the
    /// files are damaged, do not match or the CA has expired.
    pub fn ensure(dir: &Path) -> Result<InterceptCa, Error> {
        InterceptCa::ensure_at(dir, SystemTime::now())
    }

    /// [`InterceptCa::ensure`] with an injectable clock (creation and the expiry check).
    pub fn ensure_at(dir: &Path, now: SystemTime) -> Result<InterceptCa, Error> {
        crate::fsutil::create_private_dir(dir)?;
        let (ca, created) = crate::ca::load_or_create_ca(dir, CaKind::Intercept, now)?;
        ca.check_not_expired(crate::dates::unix_secs(now))?;
        Ok(InterceptCa {
            fingerprint_sha256: crate::trust::sha256_hex(&ca.cert_der),
            ca,
            created,
            cache: Mutex::new(LeafCache::default()),
        })
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.ca.cert_der
    }

    /// Where the CA certificate is stored (what users trust).
    pub fn cert_path(&self) -> &Path {
        &self.ca.cert_path
    }

    /// Lowercase hex SHA-256 of the CA certificate.
    pub fn fingerprint_sha256(&self) -> &str {
        &self.fingerprint_sha256
    }

    /// True when [`InterceptCa::ensure`] created the CA (it must be trusted before use).
    pub fn created(&self) -> bool {
        self.created
    }

    /// When the CA expires.
    pub fn not_after(&self) -> SystemTime {
        crate::dates::system_time(self.ca.not_after)
    }

    /// The certificate and signing key rustls serves for `host`, issued on first use and
    /// then cached. `host` is matched case-insensitively; a trailing dot is ignored.
    /// Fails with [`Error::InvalidName`] for a name the CA may not sign.
    pub fn leaf(&self, host: &str) -> Result<Arc<CertifiedKey>, Error> {
        self.leaf_at(host, SystemTime::now())
    }

    /// [`InterceptCa::leaf`] with an injectable clock: a cached leaf that has expired, or
    /// expires within [`crate::LEAF_RENEW_BEFORE_DAYS`] days, is issued anew.
    pub fn leaf_at(&self, host: &str, now: SystemTime) -> Result<Arc<CertifiedKey>, Error> {
        let host = normalize_host(host);
        if !CaKind::Intercept.may_sign(&host) {
            return Err(Error::InvalidName {
                name: host,
                reason: "outside the interception CA's name constraints (only the WeChat \
                         names wxemu plays)"
                    .to_owned(),
            });
        }
        let now_secs = crate::dates::unix_secs(now);
        let renew_from = now_secs.saturating_add(crate::LEAF_RENEW_BEFORE_DAYS * crate::dates::DAY);
        // Issuing under the lock keeps concurrent first requests for one host from
        // minting several leaves; one ECDSA key generation and signature is fast.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cached) = cache.get(&host) {
            // A leaf capped at the CA's expiry cannot be improved by re-issuing it.
            if cached.not_after > renew_from || cached.not_after >= self.ca.not_after {
                return Ok(cached.key.clone());
            }
        }
        let (cert_der, key) = crate::leaf::issue_leaf(&self.ca, &[host.as_str()], now)?;
        let not_after = crate::encoding::parse_der(&cert_der)
            .map_err(rcgen::Error::X509)?
            .validity()
            .not_after
            .timestamp();
        let signing_key = rustls::crypto::ring::sign::any_ecdsa_type(&PrivateKeyDer::Pkcs8(
            PrivatePkcs8KeyDer::from(key.serialize_der()),
        ))
        .map_err(|e| rcgen::Error::X509(format!("rustls cannot use the new leaf key: {e}")))?;
        // The CA goes along in the chain (clients that trust it need not be sent
        // it, but a browser told to accept the CA's key by hash, Chromium's
        // --ignore-certificate-errors-spki-list as the test-runner packages
        // use it, only sees the certificates the server sends).
        let chain = vec![cert_der.into(), self.ca.cert_der.clone().into()];
        let certified = Arc::new(CertifiedKey::new(chain, signing_key));
        cache.insert(host, certified.clone(), not_after);
        Ok(certified)
    }

    /// How many hosts' leaves are cached (for tests and the status page).
    pub fn cached_leaves(&self) -> usize {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl ResolvesServerCert for InterceptCa {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // No SNI: the client connected by IP address, which the CA never signs.
        let host = client_hello.server_name()?;
        self.leaf(host).ok()
    }
}

/// Lowercase, without a trailing dot (`OPEN.weixin.qq.com.` is `open.weixin.qq.com`).
pub fn normalize_host(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

struct CachedLeaf {
    key: Arc<CertifiedKey>,
    /// Unix seconds.
    not_after: i64,
}

/// Host → leaf, bounded; evicts in insertion order.
#[derive(Default)]
struct LeafCache {
    leaves: HashMap<String, CachedLeaf>,
    order: VecDeque<String>,
}

impl LeafCache {
    fn get(&self, host: &str) -> Option<&CachedLeaf> {
        self.leaves.get(host)
    }

    fn len(&self) -> usize {
        self.leaves.len()
    }

    fn insert(&mut self, host: String, key: Arc<CertifiedKey>, not_after: i64) {
        if self
            .leaves
            .insert(host.clone(), CachedLeaf { key, not_after })
            .is_none()
        {
            self.order.push_back(host);
        }
        while self.leaves.len() > LEAF_CACHE_CAPACITY {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.leaves.remove(&oldest);
                }
                None => break,
            }
        }
    }
}

/// Path of the interception CA certificate in `dir` (whether or not it exists).
pub fn cert_path(dir: &Path) -> PathBuf {
    crate::ca_cert_path_of(dir, CaKind::Intercept)
}
