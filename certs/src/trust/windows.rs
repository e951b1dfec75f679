//! The Windows ROOT store, through the `certutil.exe` that ships with Windows (not NSS's
//! certutil). The machine-wide store needs an elevated prompt; without one, wxemu falls
//! back to the current user's ROOT store, where Windows asks for confirmation in a dialog.
//! Edge, Chrome and most Windows programs use these stores; Firefox uses NSS (or, with
//! `security.enterprise_roots.enabled`, these too).
//!
//! Compiled and unit-tested everywhere (command construction, error recognition); only run
//! on Windows.

use super::{run, CaCert, Cmd, Outcome, StoreReport, TrustTargets};

const LABEL: &str = "Windows ROOT store";

/// Which ROOT store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// LocalMachine\Root: every user; needs Administrator.
    Machine,
    /// CurrentUser\Root: this user; Windows shows a confirmation dialog.
    User,
}

fn base(targets: &TrustTargets, scope: Scope) -> Cmd {
    let cmd = Cmd::new(&targets.windows_certutil);
    match scope {
        Scope::Machine => cmd,
        Scope::User => cmd.arg("-user"),
    }
}

/// `certutil [-user] -addstore -f Root ca.pem`.
pub fn add_cmd(targets: &TrustTargets, ca: &CaCert, scope: Scope) -> Cmd {
    base(targets, scope)
        .arg("-addstore")
        .arg("-f")
        .arg("Root")
        .arg(&ca.path)
}

/// `certutil [-user] -delstore Root <SHA-1>`: removes exactly our certificate.
pub fn delete_cmd(targets: &TrustTargets, ca: &CaCert, scope: Scope) -> Cmd {
    base(targets, scope)
        .arg("-delstore")
        .arg("Root")
        .arg(&ca.sha1)
}

/// `certutil [-user] -store Root <SHA-1>`: succeeds when the certificate is there.
pub fn find_cmd(targets: &TrustTargets, ca: &CaCert, scope: Scope) -> Cmd {
    base(targets, scope).arg("-store").arg("Root").arg(&ca.sha1)
}

/// Whether certutil's output says it lacked the rights (E_ACCESSDENIED).
pub fn is_access_denied(output: &str) -> bool {
    let lower = output.to_ascii_lowercase();
    lower.contains("0x80070005")
        || lower.contains("access is denied")
        || lower.contains("e_accessdenied")
}

fn present(ca: &CaCert, targets: &TrustTargets, scope: Scope) -> Result<bool, String> {
    Ok(run(&find_cmd(targets, ca, scope), targets)?.success)
}

fn missing_tool(targets: &TrustTargets) -> Option<StoreReport> {
    super::find_program(&targets.windows_certutil)
        .is_none()
        .then(|| {
            StoreReport::new(
                LABEL,
                Outcome::Skipped,
                format!(
                    "{} not found (not Windows?)",
                    targets.windows_certutil.display()
                ),
            )
        })
}

pub fn install(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    if let Some(skip) = missing_tool(targets) {
        return skip;
    }
    let result = (|| -> super::Step {
        for scope in [Scope::Machine, Scope::User] {
            if present(ca, targets, scope)? {
                return Ok((Outcome::Already, format!("{scope:?}\\Root")));
            }
        }
        let out = run(&add_cmd(targets, ca, Scope::Machine), targets)?;
        if out.success {
            return Ok((Outcome::Done, "LocalMachine\\Root".to_owned()));
        }
        if !is_access_denied(&format!("{}{}", out.stdout, out.stderr)) {
            return Err(format!("certutil -addstore failed: {}", out.summary()));
        }
        let cmd = add_cmd(targets, ca, Scope::User);
        let out = run(&cmd, targets)?;
        if out.success {
            Ok((
                Outcome::Done,
                "CurrentUser\\Root (not elevated: run from an Administrator prompt for all users)"
                    .to_owned(),
            ))
        } else {
            Err(format!("`{}` failed: {}", cmd.display(), out.summary()))
        }
    })();
    StoreReport::from_step(LABEL, result)
}

pub fn uninstall(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    if let Some(skip) = missing_tool(targets) {
        return skip;
    }
    let result = (|| -> super::Step {
        let mut removed = Vec::new();
        for scope in [Scope::Machine, Scope::User] {
            if !present(ca, targets, scope)? {
                continue;
            }
            let cmd = delete_cmd(targets, ca, scope);
            let out = run(&cmd, targets)?;
            if !out.success {
                let hint = if is_access_denied(&out.stdout) {
                    " (run from an Administrator prompt)"
                } else {
                    ""
                };
                return Err(format!(
                    "`{}` failed: {}{hint}",
                    cmd.display(),
                    out.summary()
                ));
            }
            removed.push(format!("{scope:?}\\Root"));
        }
        if removed.is_empty() {
            Ok((Outcome::Already, "not installed".to_owned()))
        } else {
            Ok((
                Outcome::Done,
                format!("removed from {}", removed.join(", ")),
            ))
        }
    })();
    StoreReport::from_step(LABEL, result)
}

pub fn status(ca: &CaCert, targets: &TrustTargets) -> StoreReport {
    if let Some(skip) = missing_tool(targets) {
        return skip;
    }
    let result = (|| -> Result<Option<Scope>, String> {
        for scope in [Scope::Machine, Scope::User] {
            if present(ca, targets, scope)? {
                return Ok(Some(scope));
            }
        }
        Ok(None)
    })();
    let found = result.map(|scope| scope.map(|scope| format!("{scope:?}\\Root")));
    StoreReport::from_status(LABEL, ca, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_errors() {
        let data = tempfile::tempdir().expect("tempdir");
        let ca = CaCert::ensure(data.path()).expect("ca");
        let t = TrustTargets {
            windows_certutil: "certutil.exe".into(),
            ..TrustTargets::for_this_os()
        };
        assert_eq!(
            add_cmd(&t, &ca, Scope::Machine).display(),
            format!("certutil.exe -addstore -f Root {}", ca.path.display())
        );
        assert_eq!(
            delete_cmd(&t, &ca, Scope::User).display(),
            format!("certutil.exe -user -delstore Root {}", ca.sha1)
        );
        assert!(is_access_denied(
            "CertUtil: -addstore command FAILED: 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)"
        ));
        assert!(is_access_denied("Access is denied."));
        assert!(!is_access_denied(
            "CertUtil: -store command completed successfully."
        ));
    }
}
