//! `wxemu trust env`: the environment a backend (Node, Python, curl/OpenSSL, Ruby, Go…)
//! needs to trust wxemu, in the syntax of the user's shell, and the keytool line for Java.
//!
//! `NODE_EXTRA_CA_CERTS` *adds* to Node's roots, so it points at `ca.pem`. The others
//! *replace* the default roots, so they point at `ca-bundle.pem`: the system bundle plus
//! our CA, written next to `ca.pem`, so that the backend still reaches real HTTPS sites.
//!
//! `trust env --intercept` ([`intercept_lines`]) is for a backend whose WeChat calls go
//! through wxemu's proxy: the proxy variables, and the same two kinds of CA file, holding
//! the interception CA *and* the fast-login CA (when it exists), so that evaluating both
//! `trust env` outputs, in either order, never leaves one of them untrusted.

use std::path::{Path, PathBuf};

use super::CaCert;

/// The combined bundle's file name in the data directory.
pub const BUNDLE_FILE: &str = "ca-bundle.pem";
/// Interception: the combined bundle (system roots + both wxemu CAs).
pub const INTERCEPT_BUNDLE_FILE: &str = "intercept-ca-bundle.pem";
/// Interception: both wxemu CAs and nothing else, for `NODE_EXTRA_CA_CERTS`.
pub const INTERCEPT_EXTRA_FILE: &str = "intercept-extra-cas.pem";

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
    let path = crate::fsutil::parent(&ca.path).join(BUNDLE_FILE);
    write_pem_set(&path, &[ca], system_bundles)?;
    Ok(path)
}

/// The two files `trust env --intercept` points at, written next to `intercept`:
/// ([`INTERCEPT_EXTRA_FILE`]: `intercept` plus `fast_login` if given;
/// [`INTERCEPT_BUNDLE_FILE`]: the first existing system bundle plus the same).
pub fn write_intercept_files(
    intercept: &CaCert,
    fast_login: Option<&CaCert>,
    system_bundles: &[PathBuf],
) -> Result<(PathBuf, PathBuf), crate::Error> {
    let dir = crate::fsutil::parent(&intercept.path);
    let cas: Vec<&CaCert> = std::iter::once(intercept).chain(fast_login).collect();
    let extra = dir.join(INTERCEPT_EXTRA_FILE);
    write_pem_set(&extra, &cas, &[])?;
    let bundle = dir.join(INTERCEPT_BUNDLE_FILE);
    write_pem_set(&bundle, &cas, system_bundles)?;
    Ok((extra, bundle))
}

/// Atomically writes `path`: the certificates of the first readable file of
/// `system_bundles` (none if the list is empty) that are not among `cas`, then `cas`.
fn write_pem_set(
    path: &Path,
    cas: &[&CaCert],
    system_bundles: &[PathBuf],
) -> Result<(), crate::Error> {
    let mut out = String::new();
    if let Some(system) = system_bundles.iter().find_map(|p| std::fs::read(p).ok()) {
        for der in super::pem_certificates(&system) {
            let fingerprint = super::sha256_hex(&der);
            if cas.iter().all(|ca| ca.sha256 != fingerprint) {
                out.push_str(&crate::encoding::pem_encode("CERTIFICATE", &der));
            }
        }
    }
    for ca in cas {
        out.push_str(&crate::encoding::pem_encode("CERTIFICATE", &ca.der));
    }
    let tmp = crate::fsutil::write_temp(path, out.as_bytes(), crate::fsutil::CERT_MODE)?;
    crate::fsutil::replace(tmp, path)?;
    Ok(())
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

/// Hosts a backend should reach directly even with the proxy variables set: loopback
/// (the site under test, wxemu's own API) and the fast-login name, which the proxy
/// does not play.
pub const INTERCEPT_NO_PROXY: &str = "localhost,127.0.0.1,::1,localhost.weixin.qq.com";

/// The lines `wxemu trust env --intercept` prints: route a backend's HTTP(S) through
/// `proxy_url` (`http://127.0.0.1:PORT`; None in hosts mode, where the names resolve
/// to wxemu already) and trust both CAs (`extra`, `bundle` from
/// [`write_intercept_files`]).
pub fn intercept_lines(
    shell: Shell,
    proxy_url: Option<&str>,
    extra: &Path,
    bundle: &Path,
) -> Vec<String> {
    let extra = extra.display().to_string();
    let bundle = bundle.display().to_string();
    let c = shell.comment();
    let mut lines = Vec::new();
    if let Some(proxy_url) = proxy_url {
        let eval_hint = match shell {
            Shell::Posix => "eval \"$(wxemu trust env --intercept)\"",
            Shell::Fish => "wxemu trust env --intercept --shell fish | source",
            Shell::PowerShell => {
                "wxemu trust env --intercept --shell powershell | Invoke-Expression"
            }
            Shell::Cmd => "run these lines, or set the variables in the backend's environment",
        };
        lines.extend([
            format!("{c} Send a backend's WeChat API calls to wxemu's proxy: {eval_hint}"),
            format!("{c} (needs `wxemu serve --proxy-port PORT`; other hosts are tunnelled unless --proxy-offline)"),
        ]);
        // Lower- and upper-case: curl and Python read the former, Go and others the latter.
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            lines.push(shell.set(name, proxy_url));
        }
        for name in ["NO_PROXY", "no_proxy"] {
            lines.push(shell.set(name, INTERCEPT_NO_PROXY));
        }
        lines.extend([
            format!("{c} Node.js 24+ honours the proxy variables with this; older Node needs a proxy agent:"),
            shell.set("NODE_USE_ENV_PROXY", "1"),
        ]);
    } else {
        // Hosts mode: the names already resolve to wxemu; a proxy variable
        // here would send every other call of the backend to a proxy that
        // is not running.
        lines.push(format!(
            "{c} Hosts mode (`wxemu serve --intercept-port 443`, names mapped to 127.0.0.1): the CAs only"
        ));
    }
    lines.extend([
        format!("{c} Node.js adds these CAs (interception + fast-login) to its own roots:"),
        shell.set("NODE_EXTRA_CA_CERTS", &extra),
        format!("{c} Python requests/httpx, OpenSSL-based tools, Go on Linux: system roots + both wxemu CAs"),
        shell.set("REQUESTS_CA_BUNDLE", &bundle),
        shell.set("SSL_CERT_FILE", &bundle),
        shell.set("CURL_CA_BUNDLE", &bundle),
    ]);
    lines
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
                crate::encoding::pem_encode("CERTIFICATE", &other.der),
                crate::encoding::pem_encode("CERTIFICATE", &ca.der)
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

    #[test]
    fn intercept_files_hold_both_cas_and_the_system_roots() {
        let data = tempfile::tempdir().expect("tempdir");
        let fast = CaCert::ensure(data.path()).expect("fast-login CA");
        let intercept =
            CaCert::ensure_of(data.path(), crate::CaKind::Intercept).expect("intercept CA");
        assert_ne!(fast.sha256, intercept.sha256);
        let root_dir = tempfile::tempdir().expect("tempdir");
        let root = CaCert::ensure(root_dir.path()).expect("a stand-in system root");
        let system = data.path().join("system.pem");
        std::fs::write(
            &system,
            format!(
                "{}{}",
                crate::encoding::pem_encode("CERTIFICATE", &root.der),
                crate::encoding::pem_encode("CERTIFICATE", &intercept.der)
            ),
        )
        .expect("write");

        let (extra, bundle) =
            write_intercept_files(&intercept, Some(&fast), &[system]).expect("write");
        let read = |p: &Path| super::super::pem_certificates(&std::fs::read(p).expect("read"));
        assert_eq!(read(&extra), [intercept.der.clone(), fast.der.clone()]);
        assert_eq!(
            read(&bundle),
            [root.der.clone(), intercept.der.clone(), fast.der.clone()]
        );
        assert_eq!(extra.file_name().unwrap(), INTERCEPT_EXTRA_FILE);

        let (extra_only, _) = write_intercept_files(&intercept, None, &[]).expect("write");
        assert_eq!(read(&extra_only), std::slice::from_ref(&intercept.der));

        let text = intercept_lines(
            Shell::Posix,
            Some("http://127.0.0.1:14080"),
            &extra,
            &bundle,
        )
        .join("\n");
        assert!(text.contains("export HTTPS_PROXY='http://127.0.0.1:14080'"));
        assert!(text.contains("export http_proxy='http://127.0.0.1:14080'"));
        assert!(text.contains(&format!("export NO_PROXY='{INTERCEPT_NO_PROXY}'")));
        assert!(text.contains(&format!("export NODE_EXTRA_CA_CERTS='{}'", extra.display())));
        assert!(text.contains(&format!("export REQUESTS_CA_BUNDLE='{}'", bundle.display())));
        let fish = intercept_lines(Shell::Fish, Some("http://127.0.0.1:1"), &extra, &bundle);
        assert!(fish
            .iter()
            .any(|l| l == "set -gx HTTPS_PROXY 'http://127.0.0.1:1'"));
        // Hosts mode: the CAs, and no proxy variable of any case.
        let hosts = intercept_lines(Shell::Posix, None, &extra, &bundle).join("\n");
        assert!(!hosts.to_lowercase().contains("proxy"), "{hosts}");
        assert!(hosts.contains(&format!("export SSL_CERT_FILE='{}'", bundle.display())));
    }
}
