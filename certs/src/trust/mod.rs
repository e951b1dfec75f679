//! Installing the wxemu CA into the trust stores browsers and tools use, finding it there
//! again, and removing exactly it.
//!
//! Every store is driven through the platform's own tool (`update-ca-certificates` and
//! friends, NSS `certutil`, macOS `security`, Windows `certutil.exe`), so all of this module
//! compiles and is unit-tested on every OS; only [`TrustTargets::for_this_os`] picks which
//! stores a real run touches. Every location and command name lives in [`TrustTargets`],
//! so tests can point a run at a temporary NSS database.
//!
//! Our certificate is always recognised by its SHA-256 fingerprint, never by name alone:
//! `uninstall` removes the CA in the data directory and nothing else, even from a store
//! that holds other wxemu CAs (another data directory, an older install).
//!
//! Each operation returns a [`Report`] with one [`StoreReport`] per store: what happened
//! ([`Outcome`]) and, in words, why.

pub mod env;
pub mod linux;
pub mod macos;
pub mod nss;
pub mod windows;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use x509_parser::pem::Pem;

use crate::{CaKind, Error};

/// A wxemu CA certificate (either [`CaKind`]) as the trust stores see it. Every store
/// operation takes one, so the same code installs, finds and removes both CAs.
#[derive(Clone)]
pub struct CaCert {
    /// Which of wxemu's CAs this is (decides nicknames, file names and hints).
    pub kind: CaKind,
    /// `ca.pem` (or `intercept-ca.pem`) in the data directory.
    pub path: PathBuf,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Lowercase hex SHA-256 of [`CaCert::der`]: how we recognise our CA in any store.
    pub sha256: String,
    /// Uppercase hex SHA-1 of [`CaCert::der`] (macOS and Windows tools name certificates by it).
    pub sha1: String,
    /// The subject common name, e.g. `wxemu local CA 1a2b3c4d`.
    pub common_name: String,
}

impl fmt::Debug for CaCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaCert")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl CaCert {
    /// Loads the fast-login CA of data directory `dir`, creating it first if it does not
    /// exist (for `install`).
    pub fn ensure(dir: &Path) -> Result<CaCert, Error> {
        CaCert::ensure_of(dir, CaKind::FastLogin)
    }

    /// [`CaCert::ensure`] for either CA.
    pub fn ensure_of(dir: &Path, kind: CaKind) -> Result<CaCert, Error> {
        let path = crate::ensure_ca_of(dir, kind)?;
        CaCert::load_of(dir, kind).map(|ca| CaCert { path, ..ca })
    }

    /// Loads the fast-login CA of data directory `dir` without creating anything (for
    /// `status`, `uninstall`, `doctor`).
    pub fn load(dir: &Path) -> Result<CaCert, Error> {
        CaCert::load_of(dir, CaKind::FastLogin)
    }

    /// [`CaCert::load`] for either CA.
    pub fn load_of(dir: &Path, kind: CaKind) -> Result<CaCert, Error> {
        let path = crate::ca_cert_path_of(dir, kind);
        let corrupt = |reason| Error::CaCertCorrupt {
            cert: crate::ca_cert_path_of(dir, kind),
            key: crate::ca_key_path_of(dir, kind),
            reason,
        };
        let pem = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let der = crate::encoding::pem_certificate_der(&pem).map_err(corrupt)?;
        CaCert::from_der(kind, path, der).map_err(corrupt)
    }

    /// A CA from its DER encoding; `path` is where a PEM copy of it lives.
    pub fn from_der(kind: CaKind, path: PathBuf, der: Vec<u8>) -> Result<CaCert, String> {
        let cert = crate::encoding::parse_der(&der)?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or(kind.organization())
            .to_owned();
        Ok(CaCert {
            sha256: sha256_hex(&der),
            sha1: crate::encoding::hex(
                ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref(),
            )
            .to_ascii_uppercase(),
            common_name,
            kind,
            path,
            der,
        })
    }

    /// A short, stable tag for file names and nicknames: the first 16 hex digits of the
    /// SHA-256 fingerprint.
    pub fn tag(&self) -> &str {
        &self.sha256[..16.min(self.sha256.len())]
    }

    /// Whether `pem` (a file with any number of PEM blocks) contains this certificate.
    pub fn is_in_pem(&self, pem: &[u8]) -> bool {
        pem_certificates(pem)
            .iter()
            .any(|der| sha256_hex(der) == self.sha256)
    }
}

/// The first certificate of the PEM file at `path`, DER.
pub fn read_pem_cert(path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    crate::encoding::pem_certificate_der(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

/// A certificate's validity window (notBefore, notAfter).
pub fn validity(der: &[u8]) -> Result<(std::time::SystemTime, std::time::SystemTime), String> {
    let cert = crate::encoding::parse_der(der)?;
    Ok((
        crate::dates::system_time(cert.validity().not_before.timestamp()),
        crate::dates::system_time(cert.validity().not_after.timestamp()),
    ))
}

/// Lowercase hex SHA-256 of `der`.
pub fn sha256_hex(der: &[u8]) -> String {
    crate::encoding::hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// The DER of every `CERTIFICATE` block in `pem`, skipping anything unreadable.
pub fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(pem)
        .map_while(Result::ok)
        .filter(|block| block.label == "CERTIFICATE" || block.label == "TRUSTED CERTIFICATE")
        .map(|block| block.contents)
        .collect()
}

/// What one store operation did, or why it failed.
pub(crate) type Step = Result<(Outcome, String), String>;

/// What happened to one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The change was made (installed, or removed).
    Done,
    /// Nothing to do: already installed (install) or already absent (uninstall).
    Already,
    /// `status`: our CA is trusted there.
    Trusted,
    /// `status`: our CA is not (fully) trusted there.
    NotTrusted,
    /// The store does not exist here or its tool is missing; the detail says how to get it.
    Skipped,
    /// Trying failed; the detail says why.
    Failed,
}

impl Outcome {
    /// The word printed in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Already => "already",
            Outcome::Trusted => "trusted",
            Outcome::NotTrusted => "missing",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// One line of a [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreReport {
    /// Which store, e.g. `system (Debian/Ubuntu)` or `NSS /home/me/.pki/nssdb`.
    pub store: String,
    pub outcome: Outcome,
    /// Why, in words, with what to do about a skip or failure.
    pub detail: String,
}

impl StoreReport {
    pub(crate) fn new(
        store: impl Into<String>,
        outcome: Outcome,
        detail: impl Into<String>,
    ) -> Self {
        StoreReport {
            store: store.into(),
            outcome,
            detail: detail.into(),
        }
    }

    /// The status line of a store that holds our CA or not: `Trusted` with where
    /// (`Some(detail)`), `NotTrusted` with the command that installs it, or `Failed`.
    pub(crate) fn from_status(
        store: impl Into<String>,
        ca: &CaCert,
        found: Result<Option<String>, String>,
    ) -> Self {
        match found {
            Ok(Some(detail)) => StoreReport::new(store, Outcome::Trusted, detail),
            Ok(None) => StoreReport::new(
                store,
                Outcome::NotTrusted,
                format!("run `{}`", ca.kind.install_command()),
            ),
            Err(e) => StoreReport::new(store, Outcome::Failed, e),
        }
    }

    /// The report for one store operation: what it did, or `Failed` with why.
    pub(crate) fn from_step(store: impl Into<String>, step: Step) -> Self {
        match step {
            Ok((outcome, detail)) => StoreReport::new(store, outcome, detail),
            Err(e) => StoreReport::new(store, Outcome::Failed, e),
        }
    }
}

impl fmt::Display for StoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {}", self.outcome.as_str(), self.store)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The result of one `install`, `uninstall` or `status` run: one line per store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub stores: Vec<StoreReport>,
}

impl Report {
    /// True when some store failed.
    pub fn any_failed(&self) -> bool {
        self.stores.iter().any(|s| s.outcome == Outcome::Failed)
    }

    /// How many stores trust the CA.
    pub fn trusted_count(&self) -> usize {
        self.stores
            .iter()
            .filter(|s| s.outcome == Outcome::Trusted)
            .count()
    }

    /// How many stores do not trust it, or could not be checked.
    pub fn missing_count(&self) -> usize {
        self.stores
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::NotTrusted | Outcome::Failed))
            .count()
    }

    /// The one verdict over all stores, wherever wxemu shows one: the control
    /// API's `GET /__wxemu/intercept`, the `serve` banner, the desktop app.
    /// A store whose check failed counts as not trusting (it proves nothing);
    /// skipped stores (absent here, or their tool missing) do not count.
    pub fn verdict(&self) -> Verdict {
        match (self.trusted_count(), self.missing_count()) {
            (0, 0) => Verdict::Unknown,
            (0, _) => Verdict::NotTrusted,
            (_, 0) => Verdict::Trusted,
            _ => Verdict::Partly,
        }
    }

    /// The report line of the first store whose name starts with `prefix`.
    pub fn find(&self, prefix: &str) -> Option<&StoreReport> {
        self.stores.iter().find(|s| s.store.starts_with(prefix))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.stores {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// A CA's trust summed up over the stores ([`Report::verdict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every store that could be asked trusts it.
    Trusted,
    /// Some do, some do not.
    Partly,
    /// None does.
    NotTrusted,
    /// No store could be asked (no store here, tools missing) or the CA could not be read.
    Unknown,
}

impl Verdict {
    /// The word the control API and the desktop app send (`not_trusted`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Trusted => "trusted",
            Verdict::Partly => "partly",
            Verdict::NotTrusted => "not_trusted",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The kinds of trust store wxemu knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// The Linux system store (curl, OpenSSL, GnuTLS, Go, most CLI tools).
    System,
    /// NSS databases: Chrome/Chromium on Linux, Firefox everywhere.
    Nss,
    /// The macOS System keychain (Safari, Chrome, everything on macOS).
    MacOs,
    /// The Windows ROOT store (Edge, Chrome, everything on Windows).
    Windows,
}

impl StoreKind {
    /// All kinds, in report order.
    pub const ALL: [StoreKind; 4] = [
        StoreKind::System,
        StoreKind::Nss,
        StoreKind::MacOs,
        StoreKind::Windows,
    ];

    /// Name used on the command line (`--store system`).
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::System => "system",
            StoreKind::Nss => "nss",
            StoreKind::MacOs => "macos",
            StoreKind::Windows => "windows",
        }
    }
}

/// Where the trust stores are and which tools drive them. [`TrustTargets::for_this_os`]
/// gives the real ones; tests replace paths and commands.
#[derive(Debug, Clone)]
pub struct TrustTargets {
    /// Which stores to touch.
    pub kinds: Vec<StoreKind>,
    /// The home directory NSS databases are looked for in.
    pub home: Option<PathBuf>,
    /// Linux system store layouts, tried in order; the first whose anchor directory
    /// exists is used.
    pub system_layouts: Vec<linux::SystemLayout>,
    /// NSS databases to use instead of discovering them under [`TrustTargets::home`].
    pub nss_dbs: Option<Vec<PathBuf>>,
    /// NSS `certutil` (Debian: libnss3-tools).
    pub certutil: PathBuf,
    /// macOS `security`.
    pub security: PathBuf,
    /// The macOS keychain the CA goes into.
    pub macos_keychain: PathBuf,
    /// Windows `certutil.exe` (not NSS's certutil, which shares the name).
    pub windows_certutil: PathBuf,
    /// How to become root for system stores when not root already; `None`: never, fail
    /// with a message instead.
    pub sudo: Option<PathBuf>,
}

impl TrustTargets {
    /// The stores a real run on this OS uses.
    pub fn for_this_os() -> TrustTargets {
        let kinds = if cfg!(target_os = "macos") {
            vec![StoreKind::MacOs, StoreKind::Nss]
        } else if cfg!(windows) {
            vec![StoreKind::Windows, StoreKind::Nss]
        } else {
            vec![StoreKind::System, StoreKind::Nss]
        };
        let system_root = std::env::var_os("SystemRoot")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
        TrustTargets {
            kinds,
            home: home_dir(),
            system_layouts: linux::SystemLayout::known(),
            nss_dbs: None,
            certutil: nss_certutil(),
            security: PathBuf::from("/usr/bin/security"),
            macos_keychain: PathBuf::from(macos::SYSTEM_KEYCHAIN),
            windows_certutil: system_root.join("System32").join("certutil.exe"),
            sudo: Some(PathBuf::from("sudo")),
        }
    }

    /// The same targets restricted to `kinds` (in the order of [`StoreKind::ALL`]).
    pub fn only(mut self, kinds: &[StoreKind]) -> TrustTargets {
        self.kinds = StoreKind::ALL
            .into_iter()
            .filter(|k| kinds.contains(k))
            .collect();
        self
    }
}

/// NSS `certutil`: on PATH, or where Homebrew's `nss` keeps it on macOS (not always linked
/// onto PATH).
fn nss_certutil() -> PathBuf {
    let plain = PathBuf::from("certutil");
    if cfg!(target_os = "macos") && find_program(&plain).is_none() {
        for brew in [
            "/opt/homebrew/opt/nss/bin/certutil",
            "/usr/local/opt/nss/bin/certutil",
        ] {
            if Path::new(brew).is_file() {
                return PathBuf::from(brew);
            }
        }
    }
    plain
}

fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Installs `ca` into every store of `targets`. Idempotent.
pub fn install(ca: &CaCert, targets: &TrustTargets) -> Report {
    each_store(targets, |kind| match kind {
        StoreKind::System => vec![linux::install(ca, targets)],
        StoreKind::Nss => nss::install(ca, targets),
        StoreKind::MacOs => vec![macos::install(ca, targets)],
        StoreKind::Windows => vec![windows::install(ca, targets)],
    })
}

/// Removes exactly `ca` (by fingerprint) from every store of `targets`.
pub fn uninstall(ca: &CaCert, targets: &TrustTargets) -> Report {
    each_store(targets, |kind| match kind {
        StoreKind::System => vec![linux::uninstall(ca, targets)],
        StoreKind::Nss => nss::uninstall(ca, targets),
        StoreKind::MacOs => vec![macos::uninstall(ca, targets)],
        StoreKind::Windows => vec![windows::uninstall(ca, targets)],
    })
}

/// Whether `ca` is trusted in each store of `targets`. Changes nothing.
pub fn status(ca: &CaCert, targets: &TrustTargets) -> Report {
    each_store(targets, |kind| match kind {
        StoreKind::System => vec![linux::status(ca, targets)],
        StoreKind::Nss => nss::status(ca, targets),
        StoreKind::MacOs => vec![macos::status(ca, targets)],
        StoreKind::Windows => vec![windows::status(ca, targets)],
    })
}

fn each_store(
    targets: &TrustTargets,
    mut run: impl FnMut(StoreKind) -> Vec<StoreReport>,
) -> Report {
    Report {
        stores: targets.kinds.iter().flat_map(|&kind| run(kind)).collect(),
    }
}

// ---------------------------------------------------------------------------------------
// Running the stores' tools

/// A command line for one of the stores' tools, built without running it (unit-testable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Needs root (run through sudo when not root).
    pub root: bool,
}

impl Cmd {
    pub fn new(program: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            root: false,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn as_root(mut self, root: bool) -> Cmd {
        self.root = root;
        self
    }

    /// The command as a user would type it (for messages).
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|a| {
                let a = a.to_string_lossy();
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a finished command said.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    /// Whether it ran through sudo.
    pub via_sudo: bool,
}

impl CmdOutput {
    /// The first non-empty line of stderr (or stdout), for one-line reports.
    pub fn summary(&self) -> String {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output")
            .to_owned()
    }
}

/// Runs `cmd` (through `targets.sudo` when it needs root and we are not root), with
/// stdin closed so that no tool can sit waiting for a password nobody types. sudo itself
/// may still ask on the terminal: that is the one prompt the user expects.
pub fn run(cmd: &Cmd, targets: &TrustTargets) -> Result<CmdOutput, String> {
    let via_sudo = cmd.root && !is_root();
    let mut command = if via_sudo {
        let Some(sudo) = &targets.sudo else {
            return Err(format!("`{}` needs root; rerun as root", cmd.display()));
        };
        if find_program(sudo).is_none() {
            return Err(format!(
                "`{}` needs root and sudo is not available; rerun as root",
                cmd.display()
            ));
        }
        eprintln!("wxemu: using sudo for: {}", cmd.display());
        let mut c = Command::new(sudo);
        c.arg(&cmd.program);
        c.stdin(Stdio::inherit());
        c
    } else {
        let mut c = Command::new(&cmd.program);
        c.stdin(Stdio::null());
        c
    };
    command.args(&cmd.args);
    let output = command
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", cmd.display()))?;
    Ok(CmdOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        via_sudo,
    })
}

/// Whether this process runs as root (always false off unix: there is no sudo there).
pub fn is_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// `program` if it is a path to a file, else its first match on `PATH`.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join(program);
        if candidate.is_file() {
            return Some(candidate);
        }
        let exe = candidate.with_extension("exe");
        exe.is_file().then_some(exe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_ca() -> CaCert {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = CaCert::ensure(dir.path()).expect("ca");
        assert_eq!(CaCert::load(dir.path()).expect("load").sha256, ca.sha256);
        ca
    }

    fn report(outcomes: &[Outcome]) -> Report {
        Report {
            stores: outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| StoreReport::new(format!("store {i}"), *o, ""))
                .collect(),
        }
    }

    #[test]
    fn the_verdict_counts_failed_stores_as_missing_and_skipped_ones_not_at_all() {
        use Outcome::*;
        let verdict = |o: &[Outcome]| report(o).verdict();
        assert_eq!(verdict(&[Trusted, Skipped]), Verdict::Trusted);
        assert_eq!(verdict(&[Trusted, NotTrusted]), Verdict::Partly);
        assert_eq!(verdict(&[Trusted, Failed]), Verdict::Partly);
        assert_eq!(verdict(&[NotTrusted, Skipped]), Verdict::NotTrusted);
        assert_eq!(verdict(&[Failed]), Verdict::NotTrusted);
        assert_eq!(verdict(&[Skipped, Skipped]), Verdict::Unknown);
        assert_eq!(verdict(&[]), Verdict::Unknown);
        assert_eq!(Verdict::NotTrusted.as_str(), "not_trusted");
    }

    #[test]
    fn fingerprints_and_pem_matching() {
        let ca = test_ca();
        assert_eq!(ca.sha256.len(), 64);
        assert_eq!(ca.sha1.len(), 40);
        assert!(ca
            .sha1
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert!(ca.common_name.starts_with("wxemu local CA "));
        assert_eq!(ca.tag().len(), 16);

        let ours = crate::encoding::pem_encode("CERTIFICATE", &ca.der);
        let other = test_ca();
        let theirs = crate::encoding::pem_encode("CERTIFICATE", &other.der);
        let bundle = format!("junk\n{theirs}\n# comment\n{ours}");
        assert!(ca.is_in_pem(bundle.as_bytes()));
        assert!(!ca.is_in_pem(theirs.as_bytes()));
        assert!(!ca.is_in_pem(b"not pem at all"));
        assert_eq!(pem_certificates(bundle.as_bytes()).len(), 2);
    }

    #[test]
    fn load_without_a_ca_fails_and_creates_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(CaCert::load(dir.path()).is_err());
        assert!(!dir.path().join(crate::CA_CERT_FILE).exists());
    }

    #[test]
    fn command_display_quotes_spaces() {
        let cmd = Cmd::new("certutil").arg("-n").arg("wxemu local CA 1");
        assert_eq!(cmd.display(), "certutil -n 'wxemu local CA 1'");
    }

    #[test]
    fn only_keeps_canonical_order() {
        let t = TrustTargets::for_this_os().only(&[StoreKind::Nss, StoreKind::System]);
        assert_eq!(t.kinds, [StoreKind::System, StoreKind::Nss]);
    }

    #[test]
    fn report_lines() {
        let r = StoreReport::new("NSS /x", Outcome::Skipped, "certutil missing");
        assert_eq!(r.to_string(), "skipped  NSS /x: certutil missing");
    }
}
