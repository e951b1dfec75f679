//! The Linux system trust store, in the four layouts distributions use (the same four
//! mkcert knows): an "anchors" directory our CA file is dropped into, and a command that
//! rebuilds the bundle file OpenSSL, GnuTLS, curl, Python, Go, Node (with
//! `--use-openssl-ca`) … read.
//!
//! Whether the CA is trusted is decided by the bundle, not by the anchor file: an anchor
//! that was never extracted trusts nothing.

use std::path::{Path, PathBuf};

use super::{run, CaCert, Cmd, Outcome, StoreReport, TrustTargets};

/// One distribution family's layout of the system store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemLayout {
    /// E.g. "Debian/Ubuntu".
    pub family: String,
    /// Where local CA files go.
    pub anchor_dir: PathBuf,
    /// Extension the refresh tool picks up (Debian only reads `*.crt`).
    pub extension: String,
    /// The command that rebuilds the bundle (program, then arguments).
    pub refresh: Vec<String>,
    /// Arguments added to `refresh` after an anchor was removed. Debian's
    /// `update-ca-certificates` rebuilds the bundle without a deleted local
    /// CA but leaves its links in /etc/ssl/certs dangling unless `--fresh`.
    pub after_removal: Vec<String>,
    /// The bundle the refresh writes.
    pub bundle: PathBuf,
    /// The package that provides the refresh tool.
    pub package: String,
}

impl SystemLayout {
    fn new(
        family: &str,
        anchor_dir: &str,
        extension: &str,
        refresh: &[&str],
        bundle: &str,
        package: &str,
    ) -> SystemLayout {
        SystemLayout {
            family: family.to_owned(),
            anchor_dir: PathBuf::from(anchor_dir),
            extension: extension.to_owned(),
            refresh: refresh.iter().map(|s| (*s).to_owned()).collect(),
            after_removal: Vec::new(),
            bundle: PathBuf::from(bundle),
            package: package.to_owned(),
        }
    }

    /// The four layouts, in mkcert's detection order.
    pub fn known() -> Vec<SystemLayout> {
        vec![
            SystemLayout::new(
                "Fedora/RHEL",
                "/etc/pki/ca-trust/source/anchors",
                "pem",
                &["update-ca-trust", "extract"],
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
                "ca-certificates",
            ),
            SystemLayout {
                after_removal: vec!["--fresh".to_owned()],
                ..SystemLayout::new(
                    "Debian/Ubuntu",
                    "/usr/local/share/ca-certificates",
                    "crt",
                    &["update-ca-certificates"],
                    "/etc/ssl/certs/ca-certificates.crt",
                    "ca-certificates",
                )
            },
            SystemLayout::new(
                "Arch",
                "/etc/ca-certificates/trust-source/anchors",
                "crt",
                &["trust", "extract-compat"],
                "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
                "p11-kit",
            ),
            SystemLayout::new(
                "openSUSE",
                "/usr/share/pki/trust/anchors",
                "pem",
                &["update-ca-certificates"],
                "/var/lib/ca-certificates/ca-bundle.pem",
                "ca-certificates",
            ),
        ]
    }

    /// Where our CA's anchor file goes: `wxemu-<fingerprint prefix>.<ext>`
    /// (`wxemu-intercept-…` for the interception CA).
    pub fn anchor_path(&self, ca: &CaCert) -> PathBuf {
        self.anchor_dir.join(format!(
            "{}-{}.{}",
            ca.kind.store_file_prefix(),
            ca.tag(),
            self.extension
        ))
    }

    /// The refresh command, as root.
    pub fn refresh_cmd(&self) -> Option<Cmd> {
        let (program, args) = self.refresh.split_first()?;
        Some(
            args.iter()
                .fold(Cmd::new(program), |c, a| c.arg(a))
                .as_root(true),
        )
    }

    /// The refresh command after an anchor was removed, as root.
    pub fn removal_cmd(&self) -> Option<Cmd> {
        let cmd = self.refresh_cmd()?;
        Some(self.after_removal.iter().fold(cmd, |c, a| c.arg(a)))
    }

    fn label(&self) -> String {
        format!("system ({})", self.family)
    }
}

/// The layout this machine uses: the first whose anchor directory exists.
pub fn detect(targets: &TrustTargets) -> Option<&SystemLayout> {
    targets
        .system_layouts
        .iter()
        .find(|l| l.anchor_dir.is_dir())
}

/// Files in the anchor directory that hold our CA (whatever they are called).
pub fn our_anchors(layout: &SystemLayout, ca: &CaCert) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(&layout.anchor_dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| std::fs::read(p).is_ok_and(|bytes| holds_only(ca, &bytes)))
        .collect();
    found.sort();
    found
}

/// Whether `bytes` is a PEM file whose only certificate is `ca` (a bundle someone else
/// made that happens to contain our CA is not ours to delete).
fn holds_only(ca: &CaCert, bytes: &[u8]) -> bool {
    let certs = super::pem_certificates(bytes);
    certs.len() == 1 && super::sha256_hex(&certs[0]) == ca.sha256
}

fn in_bundle(layout: &SystemLayout, ca: &CaCert) -> bool {
    std::fs::read(&layout.bundle).is_ok_and(|b| ca.is_in_pem(&b))
}

fn no_layout(targets: &TrustTargets) -> StoreReport {
    let dirs: Vec<String> = targets
        .system_layouts
        .iter()
        .map(|l| l.anchor_dir.display().to_string())
        .collect();
    StoreReport::new(
        "system",
        Outcome::Skipped,
        format!(
            "no system trust store found (none of {} exists); install your distribution's ca-certificates package",
            dirs.join(", ")
        ),
    )
}

/// The refresh tool (`cmd` of the layout), or a skip that says which
/// package provides it.
fn refresh_tool(
    layout: &SystemLayout,
    cmd: impl Fn(&SystemLayout) -> Option<Cmd>,
) -> Result<Cmd, StoreReport> {
    let missing = |what: &str| {
        StoreReport::new(
            layout.label(),
            Outcome::Skipped,
            format!("{what} not found; install the {} package", layout.package),
        )
    };
    let cmd = cmd(layout).ok_or_else(|| missing("the refresh command"))?;
    if super::find_program(&cmd.program).is_none() {
        return Err(missing(&cmd.program.display().to_string()));
    }
    Ok(cmd)
}

/// Runs the refresh command; returns whether sudo was used.
fn refresh(cmd: &Cmd, targets: &TrustTargets) -> Result<bool, String> {
    let out = run(cmd, targets)?;
    if !out.success {
        return Err(format!("`{}` failed: {}", cmd.display(), out.summary()));
    }
    Ok(out.via_sudo)
}

fn sudo_note(via_sudo: bool) -> &'static str {
    if via_sudo {
        " (via sudo)"
    } else {
        ""
    }
}

/// Copies the CA into the anchor directory (atomically when we can write it ourselves;
/// through `sudo install` otherwise). Returns whether sudo was used.
fn write_anchor(ca: &CaCert, dest: &Path, targets: &TrustTargets) -> Result<bool, String> {
    let pem = crate::encoding::pem_encode("CERTIFICATE", &ca.der);
    match crate::fsutil::write_temp(dest, pem.as_bytes(), 0o644)
        .and_then(|tmp| crate::fsutil::replace(tmp, dest))
    {
        Ok(()) => {
            crate::fsutil::sync_dir(crate::fsutil::parent(dest));
            Ok(false)
        }
        Err(crate::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied && !super::is_root() =>
        {
            let cmd = Cmd::new("install")
                .arg("-m")
                .arg("0644")
                .arg(&ca.path)
                .arg(dest)
                .as_root(true);
            let out = run(&cmd, targets)?;
            if out.success {
                Ok(out.via_sudo)
            } else {
                Err(format!("`{}` failed: {}", cmd.display(), out.summary()))
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

fn remove_anchor(path: &Path, targets: &TrustTargets) -> Result<bool, String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && !super::is_root() => {
            let cmd = Cmd::new("rm").arg("-f").arg("--").arg(path).as_root(true);
            let out = run(&cmd, targets)?;
            if out.success {
                Ok(out.via_sudo)
            } else {
                Err(format!("`{}` failed: {}", cmd.display(), out.summary()))
            }
        }
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

/// Installs the CA into the system store.
pub fn install(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    let Some(layout) = detect(targets) else {
        return no_layout(targets);
    };
    let label = layout.label();
    let anchors = our_anchors(layout, ca);
    if !anchors.is_empty() && in_bundle(layout, ca) {
        return StoreReport::new(
            label,
            Outcome::Already,
            format!("{} is in {}", anchors[0].display(), layout.bundle.display()),
        );
    }
    let cmd = match refresh_tool(layout, SystemLayout::refresh_cmd) {
        Ok(cmd) => cmd,
        Err(skip) => return skip,
    };
    let dest = layout.anchor_path(ca);
    let mut sudo = false;
    if anchors.is_empty() {
        match write_anchor(ca, &dest, targets) {
            Ok(s) => sudo |= s,
            Err(e) => return StoreReport::new(label, Outcome::Failed, e),
        }
    }
    match refresh(&cmd, targets) {
        Ok(s) => sudo |= s,
        Err(e) => return StoreReport::new(label, Outcome::Failed, e),
    }
    if !in_bundle(layout, ca) {
        return StoreReport::new(
            label,
            Outcome::Failed,
            format!(
                "`{}` ran, but {} still does not contain the CA",
                cmd.display(),
                layout.bundle.display()
            ),
        );
    }
    StoreReport::new(
        label,
        Outcome::Done,
        format!(
            "{} + `{}`{}",
            anchors.first().unwrap_or(&dest).display(),
            cmd.display(),
            sudo_note(sudo)
        ),
    )
}

/// Removes every anchor file holding exactly our CA and rebuilds the bundle.
pub fn uninstall(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    let Some(layout) = detect(targets) else {
        return no_layout(targets);
    };
    let label = layout.label();
    let anchors = our_anchors(layout, ca);
    if anchors.is_empty() && !in_bundle(layout, ca) {
        return StoreReport::new(label, Outcome::Already, "not installed");
    }
    let cmd = match refresh_tool(layout, SystemLayout::removal_cmd) {
        Ok(cmd) => cmd,
        Err(skip) => return skip,
    };
    let mut sudo = false;
    for anchor in &anchors {
        match remove_anchor(anchor, targets) {
            Ok(s) => sudo |= s,
            Err(e) => return StoreReport::new(label, Outcome::Failed, e),
        }
    }
    match refresh(&cmd, targets) {
        Ok(s) => sudo |= s,
        Err(e) => return StoreReport::new(label, Outcome::Failed, e),
    }
    if in_bundle(layout, ca) {
        return StoreReport::new(
            label,
            Outcome::Failed,
            format!(
                "{} still contains the CA after `{}`: it was added some other way (look in /usr/share/ca-certificates and /etc/ca-certificates.conf)",
                layout.bundle.display(),
                cmd.display()
            ),
        );
    }
    let removed: Vec<String> = anchors.iter().map(|a| a.display().to_string()).collect();
    StoreReport::new(
        label,
        Outcome::Done,
        format!(
            "removed {} + `{}`{}",
            removed.join(", "),
            cmd.display(),
            sudo_note(sudo)
        ),
    )
}

/// Whether the system bundle contains our CA.
pub fn status(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    let Some(layout) = detect(targets) else {
        return no_layout(targets);
    };
    let label = layout.label();
    let anchors = our_anchors(layout, ca);
    match (anchors.first(), in_bundle(layout, ca)) {
        (_, true) => StoreReport::new(
            label,
            Outcome::Trusted,
            format!("in {}", layout.bundle.display()),
        ),
        (Some(anchor), false) => StoreReport::new(
            label,
            Outcome::NotTrusted,
            format!(
                "{} exists but {} was not rebuilt; run `{}`",
                anchor.display(),
                layout.bundle.display(),
                ca.kind.install_command()
            ),
        ),
        (None, false) => StoreReport::new(
            label,
            Outcome::NotTrusted,
            format!("not installed; run `{}`", ca.kind.install_command()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_mkcert() {
        let known = SystemLayout::known();
        let dirs: Vec<_> = known.iter().map(|l| l.anchor_dir.clone()).collect();
        assert_eq!(
            dirs,
            [
                "/etc/pki/ca-trust/source/anchors",
                "/usr/local/share/ca-certificates",
                "/etc/ca-certificates/trust-source/anchors",
                "/usr/share/pki/trust/anchors",
            ]
            .map(PathBuf::from)
        );
        let debian = &known[1];
        let cmd = debian.refresh_cmd().expect("cmd");
        assert_eq!(cmd.display(), "update-ca-certificates");
        // Without --fresh a removed local CA's links stay, dangling.
        assert_eq!(
            debian.removal_cmd().expect("cmd").display(),
            "update-ca-certificates --fresh"
        );
        assert_eq!(
            known[0].removal_cmd().expect("cmd").display(),
            "update-ca-trust extract"
        );
        assert!(cmd.root);
        assert_eq!(
            known[0].refresh_cmd().expect("cmd").display(),
            "update-ca-trust extract"
        );
        assert_eq!(
            known[2].refresh_cmd().expect("cmd").display(),
            "trust extract-compat"
        );
    }

    #[test]
    fn finds_only_files_holding_exactly_our_ca() {
        let data = tempfile::tempdir().expect("tempdir");
        let ca = CaCert::ensure(data.path()).expect("ca");
        let other_dir = tempfile::tempdir().expect("tempdir");
        let other = CaCert::ensure(other_dir.path()).expect("ca");
        let anchors = tempfile::tempdir().expect("tempdir");
        let layout = SystemLayout {
            anchor_dir: anchors.path().to_owned(),
            ..SystemLayout::known()[1].clone()
        };
        let ours = crate::encoding::pem_encode("CERTIFICATE", &ca.der);
        let theirs = crate::encoding::pem_encode("CERTIFICATE", &other.der);
        std::fs::write(anchors.path().join("renamed.crt"), &ours).expect("write");
        std::fs::write(anchors.path().join("other.crt"), &theirs).expect("write");
        std::fs::write(anchors.path().join("both.crt"), format!("{ours}{theirs}")).expect("write");
        assert_eq!(
            our_anchors(&layout, &ca),
            [anchors.path().join("renamed.crt")]
        );
        assert_eq!(
            layout.anchor_path(&ca),
            anchors.path().join(format!("wxemu-{}.crt", ca.tag()))
        );
    }
}
