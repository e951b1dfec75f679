//! `wxemu trust env`: the environment a backend (Node, Python, curl/OpenSSL, Ruby, Go…)
//! needs to trust wxemu, in the syntax of the user's shell, and the keytool line for Java.
//!
//! `NODE_EXTRA_CA_CERTS` *adds* to Node's roots, so it points at `ca.pem`. The others
//! *replace* the default roots, so they point at `ca-bundle.pem`: the system bundle plus
//! our CA, written next to `ca.pem`, so that the backend still reaches real HTTPS sites.

use std::path::{Path, PathBuf};

use super::CaCert;

/// The combined bundle's file name in the data directory.
pub const BUNDLE_FILE: &str = "ca-bundle.pem";

/// Shell syntaxes `trust env` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// sh, bash, zsh, dash…: `export NAME='value'`.
    Posix,
    /// fish: `set -gx NAME 'value'`.
    Fish,
    /// PowerShell: `$env:NAME = 'value'`.
    PowerShell,
    /// cmd.exe: `set "NAME=value"`.
    Cmd,
}

impl Shell {
    /// Parses `--shell` values.
    pub fn parse(name: &str) -> Option<Shell> {
        match name.to_ascii_lowercase().as_str() {
            "sh" | "bash" | "zsh" | "dash" | "ksh" | "posix" => Some(Shell::Posix),
            "fish" => Some(Shell::Fish),
            "powershell" | "pwsh" => Some(Shell::PowerShell),
            "cmd" | "cmd.exe" => Some(Shell::Cmd),
            _ => None,
        }
    }

    /// The shell in use, from `$SHELL` (unix) or the environment PowerShell sets.
    pub fn detect() -> Shell {
        if let Some(shell) = std::env::var_os("SHELL") {
            let name = Path::new(&shell)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(s) = Shell::parse(&name) {
                return s;
            }
        }
        if cfg!(windows) {
            // PowerShell sets PSModulePath for its children; cmd.exe does not (by default).
            if std::env::var_os("PSModulePath").is_some() {
                Shell::PowerShell
            } else {
                Shell::Cmd
            }
        } else {
            Shell::Posix
        }
    }

    fn comment(self) -> &'static str {
        match self {
            Shell::Cmd => "REM",
            _ => "#",
        }
    }

    /// One assignment line, quoted for this shell.
    pub fn set(self, name: &str, value: &str) -> String {
        match self {
            Shell::Posix => format!("export {name}='{}'", value.replace('\'', r"'\''")),
            Shell::Fish => format!(
                "set -gx {name} '{}'",
                value.replace('\\', r"\\").replace('\'', r"\'")
            ),
            Shell::PowerShell => format!("$env:{name} = '{}'", value.replace('\'', "''")),
            Shell::Cmd => format!("set \"{name}={value}\""),
        }
    }
}

/// The system bundles we know, first existing one wins (Debian, Fedora, openSUSE, Arch,
/// Alpine, macOS Homebrew OpenSSL).
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/var/lib/ca-certificates/ca-bundle.pem",
    "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Writes `<data dir>/ca-bundle.pem`: the first system bundle of `system_bundles` that
/// exists (without our CA if it is already in there) plus our CA. Returns its path.
pub fn write_bundle(ca: &CaCert, system_bundles: &[PathBuf]) -> Result<PathBuf, crate::Error> {
    let dir = crate::fsutil::parent(&ca.path).to_owned();
    let path = dir.join(BUNDLE_FILE);
    let mut out = String::new();
    if let Some(system) = system_bundles.iter().find_map(|p| std::fs::read(p).ok()) {
        for der in super::pem_certificates(&system) {
            if super::sha256_hex(&der) != ca.sha256 {
                out.push_str(&crate::pem_encode("CERTIFICATE", &der));
            }
        }
    }
    out.push_str(&crate::pem_encode("CERTIFICATE", &ca.der));
    let tmp = crate::fsutil::write_temp(&path, out.as_bytes(), crate::fsutil::CERT_MODE)?;
    crate::fsutil::replace(tmp, &path)?;
    Ok(path)
}

/// The lines `wxemu trust env` prints.
pub fn lines(shell: Shell, ca: &CaCert, bundle: &Path) -> Vec<String> {
    let ca_path = ca.path.display().to_string();
    let bundle = bundle.display().to_string();
    let c = shell.comment();
    let eval_hint = match shell {
        Shell::Posix => "eval \"$(wxemu trust env)\"",
        Shell::Fish => "wxemu trust env --shell fish | source",
        Shell::PowerShell => "wxemu trust env --shell powershell | Invoke-Expression",
        Shell::Cmd => "run these lines, or set the variables in the backend's environment",
    };
    vec![
        format!("{c} Trust the wxemu CA in backends started from this shell: {eval_hint}"),
        format!("{c} Node.js adds this CA to its own roots:"),
        shell.set("NODE_EXTRA_CA_CERTS", &ca_path),
        format!("{c} Python requests/httpx, OpenSSL-based tools (curl, Ruby, PHP), Go on Linux: system roots + wxemu CA"),
        shell.set("REQUESTS_CA_BUNDLE", &bundle),
        shell.set("SSL_CERT_FILE", &bundle),
        format!("{c} Java (once, as root/Administrator; JDK 9+):"),
        format!(
            "{c}   keytool -importcert -noprompt -trustcacerts -cacerts -storepass changeit -alias wxemu-{} -file \"{ca_path}\"",
            ca.tag()
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_per_shell() {
        let v = r"/it's/a\path";
        assert_eq!(Shell::Posix.set("A", v), r"export A='/it'\''s/a\path'");
        assert_eq!(Shell::Fish.set("A", v), r"set -gx A '/it\'s/a\\path'");
        assert_eq!(Shell::PowerShell.set("A", v), r"$env:A = '/it''s/a\path'");
        assert_eq!(Shell::Cmd.set("A", "C:\\x"), "set \"A=C:\\x\"");
        assert_eq!(Shell::parse("zsh"), Some(Shell::Posix));
        assert_eq!(Shell::parse("pwsh"), Some(Shell::PowerShell));
        assert_eq!(Shell::parse("tcsh"), None);
    }

    #[test]
    fn bundle_is_system_plus_ours_without_duplicates() {
        let data = tempfile::tempdir().expect("tempdir");
        let ca = CaCert::ensure(data.path()).expect("ca");
        let other_dir = tempfile::tempdir().expect("tempdir");
        let other = CaCert::ensure(other_dir.path()).expect("ca");
        let system = data.path().join("system.pem");
        std::fs::write(
            &system,
            format!(
                "{}{}",
                crate::pem_encode("CERTIFICATE", &other.der),
                crate::pem_encode("CERTIFICATE", &ca.der)
            ),
        )
        .expect("write");
        let bundle = write_bundle(&ca, &[data.path().join("absent.pem"), system]).expect("bundle");
        let certs = super::super::pem_certificates(&std::fs::read(&bundle).expect("read"));
        assert_eq!(certs, [other.der.clone(), ca.der.clone()]);

        let lines = lines(Shell::Posix, &ca, &bundle);
        let text = lines.join("\n");
        assert!(text.contains(&format!(
            "export NODE_EXTRA_CA_CERTS='{}'",
            ca.path.display()
        )));
        assert!(text.contains(&format!("export SSL_CERT_FILE='{}'", bundle.display())));
        assert!(text.contains(&format!("export REQUESTS_CA_BUNDLE='{}'", bundle.display())));
        assert!(text.contains("keytool -importcert"));
    }
}
