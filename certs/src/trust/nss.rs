//! NSS databases: Chrome and Chromium on Linux (`~/.pki/nssdb`, the snap's copy) and
//! Firefox profiles on every OS, driven with NSS's `certutil`.
//!
//! A database is used only if it exists (browsers create theirs on first start); wxemu
//! does not invent databases nobody reads. Our entry is found by fingerprint among the
//! nicknames that mention wxemu, and must carry the `C` (trusted CA for TLS) flag.

use std::path::{Path, PathBuf};

use super::{run, CaCert, Cmd, Outcome, StoreReport, TrustTargets};

/// Which package has `certutil`, per platform, for the "skipped" line.
pub const CERTUTIL_HINT: &str = "NSS certutil not found; install libnss3-tools (Debian/Ubuntu), \
    nss-tools (Fedora/RHEL), nss (Arch), mozilla-nss-tools (openSUSE) or `brew install nss` (macOS)";

/// One NSS database and who uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssDb {
    /// The directory.
    pub dir: PathBuf,
    /// `sql:` (cert9.db) or `dbm:` (legacy cert8.db).
    pub prefix: &'static str,
    /// E.g. "Chrome/Chromium" or "Firefox profile default-release".
    pub user: String,
}

impl NssDb {
    /// The `-d` argument: `sql:/path`.
    pub fn arg(&self) -> String {
        format!("{}{}", self.prefix, self.dir.display())
    }

    fn label(&self) -> String {
        format!("NSS {} ({})", self.dir.display(), self.user)
    }

    /// An existing database directory, or None.
    pub fn at(dir: &Path, user: &str) -> Option<NssDb> {
        let prefix = if dir.join("cert9.db").is_file() {
            "sql:"
        } else if dir.join("cert8.db").is_file() {
            "dbm:"
        } else {
            return None;
        };
        Some(NssDb {
            dir: dir.to_owned(),
            prefix,
            user: user.to_owned(),
        })
    }
}

/// The nickname our CA gets: readable, and unique per CA (`wxemu local CA <tag>`,
/// `wxemu interception CA <tag>`).
pub fn nickname(ca: &CaCert) -> String {
    format!("{} {}", ca.kind.organization(), ca.tag())
}

/// The NSS databases of `targets`: the explicit list, or those found under the home
/// directory (Chrome/Chromium, snap Chromium, Firefox and snap Firefox profiles on Linux,
/// Firefox on macOS and Windows) plus the system-wide `/etc/pki/nssdb`.
pub fn databases(targets: &TrustTargets) -> Vec<NssDb> {
    if let Some(dirs) = &targets.nss_dbs {
        return dirs
            .iter()
            .map(|d| {
                NssDb::at(d, "given").unwrap_or(NssDb {
                    dir: d.clone(),
                    prefix: "sql:",
                    user: "given".to_owned(),
                })
            })
            .collect();
    }
    let mut found = Vec::new();
    if let Some(home) = &targets.home {
        for (dir, user) in [
            (home.join(".pki/nssdb"), "Chrome/Chromium"),
            (
                home.join("snap/chromium/current/.pki/nssdb"),
                "Chromium snap",
            ),
        ] {
            found.extend(NssDb::at(&dir, user));
        }
        for profiles in [
            home.join(".mozilla/firefox"),
            home.join("snap/firefox/common/.mozilla/firefox"),
            home.join("Library/Application Support/Firefox/Profiles"),
            home.join("AppData/Roaming/Mozilla/Firefox/Profiles"),
        ] {
            let Ok(entries) = std::fs::read_dir(&profiles) else {
                continue;
            };
            let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
            dirs.sort();
            for dir in dirs {
                let name = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                found.extend(NssDb::at(&dir, &format!("Firefox profile {name}")));
            }
        }
    }
    found.extend(NssDb::at(Path::new("/etc/pki/nssdb"), "system NSS"));
    found
}

/// One row of `certutil -L`: nickname and trust flags (`SSL,S/MIME,JAR/XPI`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub nickname: String,
    pub trust: String,
}

impl Listed {
    /// Whether the SSL trust flags include `C` (trusted CA for TLS servers).
    pub fn trusted_for_tls(&self) -> bool {
        self.trust
            .split(',')
            .next()
            .is_some_and(|ssl| ssl.contains('C'))
    }
}

/// Parses `certutil -L` output:
///
/// ```text
///
/// Certificate Nickname                                         Trust Attributes
///                                                              SSL,S/MIME,JAR/XPI
///
/// wxemu local CA 0123456789abcdef                              C,,
/// ```
pub fn parse_list(output: &str) -> Vec<Listed> {
    output
        .lines()
        .filter_map(|line| {
            let line = line.trim_end();
            let (name, flags) = line.rsplit_once(char::is_whitespace)?;
            let is_flags = flags.matches(',').count() == 2
                && flags.chars().all(|c| c == ',' || c.is_ascii_alphabetic());
            let name = name.trim();
            (is_flags && !name.is_empty()).then(|| Listed {
                nickname: name.to_owned(),
                trust: flags.to_owned(),
            })
        })
        .collect()
}

fn list_cmd(targets: &TrustTargets, db: &NssDb) -> Cmd {
    Cmd::new(&targets.certutil)
        .arg("-L")
        .arg("-d")
        .arg(db.arg())
}

fn export_cmd(targets: &TrustTargets, db: &NssDb, nickname: &str) -> Cmd {
    list_cmd(targets, db).arg("-n").arg(nickname).arg("-a")
}

/// `certutil -A`: add our CA as a trusted TLS CA.
pub fn add_cmd(targets: &TrustTargets, db: &NssDb, ca: &CaCert) -> Cmd {
    Cmd::new(&targets.certutil)
        .arg("-A")
        .arg("-d")
        .arg(db.arg())
        .arg("-t")
        .arg("C,,")
        .arg("-n")
        .arg(nickname(ca))
        .arg("-i")
        .arg(&ca.path)
}

/// `certutil -M`: make an existing entry a trusted TLS CA.
pub fn modify_cmd(targets: &TrustTargets, db: &NssDb, nickname: &str) -> Cmd {
    Cmd::new(&targets.certutil)
        .arg("-M")
        .arg("-d")
        .arg(db.arg())
        .arg("-t")
        .arg("C,,")
        .arg("-n")
        .arg(nickname)
}

/// `certutil -D`: delete the entry.
pub fn delete_cmd(targets: &TrustTargets, db: &NssDb, nickname: &str) -> Cmd {
    Cmd::new(&targets.certutil)
        .arg("-D")
        .arg("-d")
        .arg(db.arg())
        .arg("-n")
        .arg(nickname)
}

/// The database's entries that are our CA (by fingerprint), looking only at nicknames
/// that mention wxemu: ours, or the CA's own name when imported through a browser's UI.
fn find_ours(targets: &TrustTargets, db: &NssDb, ca: &CaCert) -> Result<Vec<Listed>, String> {
    let root = needs_root(db);
    let cmd = list_cmd(targets, db).as_root(root);
    let out = run(&cmd, targets)?;
    if !out.success {
        return Err(format!("`{}` failed: {}", cmd.display(), out.summary()));
    }
    let mut ours = Vec::new();
    for entry in parse_list(&out.stdout) {
        if !entry.nickname.to_ascii_lowercase().contains("wxemu") {
            continue;
        }
        let cmd = export_cmd(targets, db, &entry.nickname).as_root(root);
        let out = run(&cmd, targets)?;
        if out.success && ca.is_in_pem(out.stdout.as_bytes()) {
            ours.push(entry);
        }
    }
    Ok(ours)
}

/// System databases are root's; a user's own are not.
fn needs_root(db: &NssDb) -> bool {
    db.dir.starts_with("/etc") && !super::is_root()
}

/// `Err(skip lines)` when there is nothing to work on or no certutil.
fn prepare(targets: &TrustTargets) -> Result<Vec<NssDb>, Vec<StoreReport>> {
    let dbs = databases(targets);
    if dbs.is_empty() {
        let home = targets
            .home
            .as_ref()
            .map(|h| h.display().to_string())
            .unwrap_or_else(|| "(no home directory)".to_owned());
        return Err(vec![StoreReport::new(
            "NSS",
            Outcome::Skipped,
            format!(
                "no Chrome/Chromium or Firefox NSS database under {home} (browsers create theirs on first start: start one once, then rerun)"
            ),
        )]);
    }
    if super::find_program(&targets.certutil).is_none() {
        return Err(dbs
            .iter()
            .map(|db| StoreReport::new(db.label(), Outcome::Skipped, CERTUTIL_HINT))
            .collect());
    }
    Ok(dbs)
}

fn run_checked(cmd: &Cmd, targets: &TrustTargets) -> Result<(), String> {
    let out = run(cmd, targets)?;
    if out.success {
        Ok(())
    } else {
        Err(format!("`{}` failed: {}", cmd.display(), out.summary()))
    }
}

/// Browsers whose presence means `~/.pki/nssdb` will be read.
const CHROME_BINARIES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
];

/// Creates `~/.pki/nssdb` (empty password, as Chrome does on its first start) when a
/// Chrome or Chromium is installed but has never run, so that its first start already
/// trusts wxemu. Only on Linux and only when databases are discovered, not given.
fn create_chrome_db(targets: &TrustTargets) -> Result<Option<PathBuf>, StoreReport> {
    let Some(home) = targets.home.as_ref() else {
        return Ok(None);
    };
    let dir = home.join(".pki/nssdb");
    if !cfg!(target_os = "linux")
        || targets.nss_dbs.is_some()
        || NssDb::at(&dir, "").is_some()
        || !CHROME_BINARIES
            .iter()
            .any(|b| super::find_program(Path::new(b)).is_some())
        || super::find_program(&targets.certutil).is_none()
    {
        return Ok(None);
    }
    let label = format!("NSS {} (Chrome/Chromium)", dir.display());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Err(StoreReport::new(
            label,
            Outcome::Failed,
            format!("cannot create it: {e}"),
        ));
    }
    let cmd = Cmd::new(&targets.certutil)
        .arg("-N")
        .arg("-d")
        .arg(format!("sql:{}", dir.display()))
        .arg("--empty-password");
    match run_checked(&cmd, targets) {
        Ok(()) => Ok(Some(dir)),
        Err(e) => Err(StoreReport::new(label, Outcome::Failed, e)),
    }
}

/// Installs the CA into every NSS database.
pub fn install(ca: &CaCert, targets: &TrustTargets) -> Vec<StoreReport> {
    let created = match create_chrome_db(targets) {
        Ok(created) => created,
        Err(failed) => return vec![failed],
    };
    for_each_db(targets, |db| {
        let label = db.label();
        let result = (|| -> super::Step {
            let ours = find_ours(targets, db, ca)?;
            if let Some(entry) = ours.iter().find(|e| e.trusted_for_tls()) {
                return Ok((Outcome::Already, format!("as {:?}", entry.nickname)));
            }
            if let Some(entry) = ours.first() {
                run_checked(
                    &modify_cmd(targets, db, &entry.nickname).as_root(needs_root(db)),
                    targets,
                )?;
                return Ok((Outcome::Done, format!("trusted {:?}", entry.nickname)));
            }
            run_checked(&add_cmd(targets, db, ca).as_root(needs_root(db)), targets)?;
            Ok((Outcome::Done, format!("added {:?}", nickname(ca))))
        })();
        let note = if created.as_ref() == Some(&db.dir) {
            " (created the database, as Chrome would on its first start)"
        } else {
            ""
        };
        StoreReport::from_step(
            label,
            result.map(|(outcome, detail)| (outcome, format!("{detail}{note}"))),
        )
    })
}

/// Removes our CA (by fingerprint) from every NSS database.
pub fn uninstall(ca: &CaCert, targets: &TrustTargets) -> Vec<StoreReport> {
    for_each_db(targets, |db| {
        let result = (|| -> super::Step {
            let ours = find_ours(targets, db, ca)?;
            if ours.is_empty() {
                return Ok((Outcome::Already, "not installed".to_owned()));
            }
            for entry in &ours {
                run_checked(
                    &delete_cmd(targets, db, &entry.nickname).as_root(needs_root(db)),
                    targets,
                )?;
            }
            if !find_ours(targets, db, ca)?.is_empty() {
                return Err("the CA is still there after certutil -D".to_owned());
            }
            let names: Vec<String> = ours.iter().map(|e| format!("{:?}", e.nickname)).collect();
            Ok((Outcome::Done, format!("removed {}", names.join(", "))))
        })();
        StoreReport::from_step(db.label(), result)
    })
}

/// Whether each NSS database trusts our CA.
pub fn status(ca: &CaCert, targets: &TrustTargets) -> Vec<StoreReport> {
    for_each_db(targets, |db| {
        let label = db.label();
        match find_ours(targets, db, ca) {
            Ok(ours) => match ours.iter().find(|e| e.trusted_for_tls()) {
                Some(e) => {
                    StoreReport::new(label, Outcome::Trusted, format!("as {:?}", e.nickname))
                }
                None if ours.is_empty() => StoreReport::new(
                    label,
                    Outcome::NotTrusted,
                    format!("not installed; run `{}`", ca.kind.install_command()),
                ),
                None => StoreReport::new(
                    label,
                    Outcome::NotTrusted,
                    format!(
                        "present without the C trust flag; run `{}`",
                        ca.kind.install_command()
                    ),
                ),
            },
            Err(e) => StoreReport::new(label, Outcome::Failed, e),
        }
    })
}

/// One report per NSS database, or the skip lines when there is nothing to
/// work on or no certutil.
fn for_each_db(
    targets: &TrustTargets,
    report: impl FnMut(&NssDb) -> StoreReport,
) -> Vec<StoreReport> {
    match prepare(targets) {
        Ok(dbs) => dbs.iter().map(report).collect(),
        Err(skips) => skips,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\nCertificate Nickname                                         Trust Attributes\n                                                             SSL,S/MIME,JAR/XPI\n\nwxemu local CA 0123456789abcdef                              C,,  \nDigiCert TLS RSA SHA256 2020 CA1 - DigiCert Inc              ,,   \nsome user cert                                               u,u,u\n";

    #[test]
    fn parses_certutil_listing() {
        let rows = parse_list(LIST);
        assert_eq!(
            rows,
            [
                Listed {
                    nickname: "wxemu local CA 0123456789abcdef".into(),
                    trust: "C,,".into()
                },
                Listed {
                    nickname: "DigiCert TLS RSA SHA256 2020 CA1 - DigiCert Inc".into(),
                    trust: ",,".into()
                },
                Listed {
                    nickname: "some user cert".into(),
                    trust: "u,u,u".into()
                },
            ]
        );
        assert!(rows[0].trusted_for_tls());
        assert!(!rows[1].trusted_for_tls());
        assert!(parse_list("").is_empty());
        assert!(parse_list("certutil: function failed: SEC_ERROR_BAD_DATABASE").is_empty());
    }

    #[test]
    fn commands() {
        let data = tempfile::tempdir().expect("tempdir");
        let ca = CaCert::ensure(data.path()).expect("ca");
        let targets = TrustTargets::for_this_os();
        let db = NssDb {
            dir: PathBuf::from("/h/.pki/nssdb"),
            prefix: "sql:",
            user: "Chrome/Chromium".into(),
        };
        let add = add_cmd(&targets, &db, &ca);
        assert_eq!(
            add.display(),
            format!(
                "certutil -A -d sql:/h/.pki/nssdb -t C,, -n 'wxemu local CA {}' -i {}",
                ca.tag(),
                ca.path.display()
            )
        );
        assert!(!add.root);
        assert_eq!(
            delete_cmd(&targets, &db, "x").display(),
            "certutil -D -d sql:/h/.pki/nssdb -n x"
        );
        assert_eq!(
            modify_cmd(&targets, &db, "x").display(),
            "certutil -M -d sql:/h/.pki/nssdb -t C,, -n x"
        );
    }

    #[test]
    fn discovers_browser_databases_under_home() {
        let home = tempfile::tempdir().expect("tempdir");
        let h = home.path();
        for dir in [
            ".pki/nssdb",
            ".mozilla/firefox/abcd.default-release",
            ".mozilla/firefox/Crash Reports",
            "snap/chromium/current/.pki/nssdb",
        ] {
            std::fs::create_dir_all(h.join(dir)).expect("mkdir");
        }
        std::fs::write(h.join(".pki/nssdb/cert9.db"), b"").expect("write");
        std::fs::write(
            h.join(".mozilla/firefox/abcd.default-release/cert8.db"),
            b"",
        )
        .expect("write");
        let targets = TrustTargets {
            home: Some(h.to_owned()),
            ..TrustTargets::for_this_os()
        };
        let dbs: Vec<_> = databases(&targets)
            .into_iter()
            .filter(|d| d.dir.starts_with(h))
            .map(|d| (d.arg(), d.user))
            .collect();
        assert_eq!(
            dbs,
            [
                (
                    format!("sql:{}", h.join(".pki/nssdb").display()),
                    "Chrome/Chromium".to_owned()
                ),
                (
                    format!(
                        "dbm:{}",
                        h.join(".mozilla/firefox/abcd.default-release").display()
                    ),
                    "Firefox profile abcd.default-release".to_owned()
                ),
            ]
        );
    }
}
