//! The macOS System keychain, through `security` (run with sudo: the System keychain and
//! admin trust settings belong to root). Trusting the CA there covers Safari, Chrome and
//! every other app using the system's verifier; Firefox uses its own NSS database.
//!
//! Compiled and unit-tested everywhere (command construction, output parsing); only run
//! on macOS.

use super::{run, CaCert, Cmd, Outcome, StoreReport, TrustTargets};

/// Where `security add-trusted-cert -d` puts admin-trusted roots.
pub const SYSTEM_KEYCHAIN: &str = "/Library/Keychains/System.keychain";

const LABEL: &str = "macOS System keychain";

/// `security add-trusted-cert -d -r trustRoot -k <keychain> ca.pem`, as root.
pub fn add_cmd(targets: &TrustTargets, ca: &CaCert) -> Cmd {
    Cmd::new(&targets.security)
        .arg("add-trusted-cert")
        .arg("-d")
        .arg("-r")
        .arg("trustRoot")
        .arg("-k")
        .arg(&targets.macos_keychain)
        .arg(&ca.path)
        .as_root(true)
}

/// `security remove-trusted-cert -d ca.pem`: drops the admin trust setting, as root.
pub fn remove_trust_cmd(targets: &TrustTargets, ca: &CaCert) -> Cmd {
    Cmd::new(&targets.security)
        .arg("remove-trusted-cert")
        .arg("-d")
        .arg(&ca.path)
        .as_root(true)
}

/// `security delete-certificate -Z <SHA-1> <keychain>`: deletes exactly our certificate.
pub fn delete_cmd(targets: &TrustTargets, ca: &CaCert) -> Cmd {
    Cmd::new(&targets.security)
        .arg("delete-certificate")
        .arg("-Z")
        .arg(&ca.sha1)
        .arg(&targets.macos_keychain)
        .as_root(true)
}

/// `security find-certificate -a -Z -c wxemu <keychain>`: lists candidates with hashes.
pub fn find_cmd(targets: &TrustTargets) -> Cmd {
    Cmd::new(&targets.security)
        .arg("find-certificate")
        .arg("-a")
        .arg("-Z")
        .arg("-c")
        .arg("wxemu")
        .arg(&targets.macos_keychain)
}

/// `security verify-cert -c ca.pem -p ssl`: succeeds when the system trusts the CA.
pub fn verify_cmd(targets: &TrustTargets, ca: &CaCert) -> Cmd {
    Cmd::new(&targets.security)
        .arg("verify-cert")
        .arg("-c")
        .arg(&ca.path)
        .arg("-p")
        .arg("ssl")
}

/// The SHA-1 hashes in `security find-certificate -Z` output (`SHA-1 hash: 0A1B…`).
pub fn parse_sha1_hashes(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SHA-1 hash:"))
        .map(|h| h.trim().to_ascii_uppercase())
        .collect()
}

fn in_keychain(ca: &CaCert, targets: &TrustTargets) -> Result<bool, String> {
    let out = run(&find_cmd(targets), targets)?;
    // "could not be found" exits non-zero: simply absent.
    Ok(out.success && parse_sha1_hashes(&out.stdout).contains(&ca.sha1))
}

fn trusted(ca: &CaCert, targets: &TrustTargets) -> Result<bool, String> {
    Ok(in_keychain(ca, targets)? && run(&verify_cmd(targets, ca), targets)?.success)
}

fn missing_tool(targets: &TrustTargets) -> Option<StoreReport> {
    super::find_program(&targets.security).is_none().then(|| {
        StoreReport::new(
            LABEL,
            Outcome::Skipped,
            format!("{} not found (not macOS?)", targets.security.display()),
        )
    })
}

fn checked(cmd: &Cmd, targets: &TrustTargets) -> Result<bool, String> {
    let out = run(cmd, targets)?;
    if out.success {
        Ok(out.via_sudo)
    } else {
        Err(format!("`{}` failed: {}", cmd.display(), out.summary()))
    }
}

pub fn install(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    if let Some(skip) = missing_tool(targets) {
        return skip;
    }
    let result = (|| -> super::Step {
        if trusted(ca, targets)? {
            return Ok((Outcome::Already, String::new()));
        }
        let sudo = checked(&add_cmd(targets, ca), targets)?;
        Ok((
            Outcome::Done,
            format!(
                "security add-trusted-cert{}",
                if sudo { " (via sudo)" } else { "" }
            ),
        ))
    })();
    StoreReport::from_step(LABEL, result)
}

pub fn uninstall(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    if let Some(skip) = missing_tool(targets) {
        return skip;
    }
    let result = (|| -> super::Step {
        if !in_keychain(ca, targets)? {
            return Ok((Outcome::Already, "not installed".to_owned()));
        }
        // The trust setting may already be gone; deleting the certificate is what counts.
        let _ = run(&remove_trust_cmd(targets, ca), targets);
        let sudo = checked(&delete_cmd(targets, ca), targets)?;
        Ok((
            Outcome::Done,
            format!(
                "deleted SHA-1 {}{}",
                ca.sha1,
                if sudo { " (via sudo)" } else { "" }
            ),
        ))
    })();
    StoreReport::from_step(LABEL, result)
}

pub fn status(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    if let Some(skip) = missing_tool(targets) {
        return skip;
    }
    let found = trusted(ca, targets).map(|yes| yes.then(String::new));
    StoreReport::from_status(LABEL, ca, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_parsing() {
        let data = tempfile::tempdir().expect("tempdir");
        let ca = CaCert::ensure(data.path()).expect("ca");
        let t = TrustTargets::for_this_os();
        let add = add_cmd(&t, &ca);
        assert!(add.root);
        assert_eq!(
            add.display(),
            format!(
                "/usr/bin/security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {}",
                ca.path.display()
            )
        );
        assert_eq!(
            delete_cmd(&t, &ca).display(),
            format!(
                "/usr/bin/security delete-certificate -Z {} /Library/Keychains/System.keychain",
                ca.sha1
            )
        );
        let out = "SHA-256 hash: 00FF\nSHA-1 hash: ab12\nkeychain: \"/Library/Keychains/System.keychain\"\n    SHA-1 hash: CD34\n";
        assert_eq!(parse_sha1_hashes(out), ["AB12", "CD34"]);
    }
}
