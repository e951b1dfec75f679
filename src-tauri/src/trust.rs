//! Is wxemu's CA trusted by the system, and how to trust it.
//!
//! Only a hint for the dashboard: on Debian-like systems the CA is trusted
//! when it is in the system bundle; elsewhere the answer is "unknown".
//! Browsers with their own store (Firefox, Chromium's NSS db) are not
//! checked here.

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum TrustStatus {
    Trusted,
    NotTrusted,
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustInfo {
    pub ca_path: String,
    pub status: TrustStatus,
    /// Shell commands that trust the CA on this OS.
    pub commands: Vec<String>,
}

/// Where Debian/Ubuntu keep the bundle `update-ca-certificates` builds.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub fn info(ca_path: &Path) -> TrustInfo {
    let shown = ca_path.display().to_string();
    TrustInfo {
        status: status(ca_path, Path::new(SYSTEM_BUNDLE)),
        commands: commands(&shown),
        ca_path: shown,
    }
}

fn status(ca_path: &Path, bundle: &Path) -> TrustStatus {
    if !cfg!(target_os = "linux") {
        return TrustStatus::Unknown;
    }
    let (Ok(ca), Ok(bundle)) = (
        std::fs::read_to_string(ca_path),
        std::fs::read_to_string(bundle),
    ) else {
        return TrustStatus::Unknown;
    };
    let Some(ca) = pem_bodies(&ca).into_iter().next() else {
        return TrustStatus::Unknown;
    };
    if pem_bodies(&bundle).contains(&ca) {
        TrustStatus::Trusted
    } else {
        TrustStatus::NotTrusted
    }
}

/// The base64 bodies of the PEM certificates in `text`, whitespace removed.
fn pem_bodies(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            current = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            out.extend(current.take());
        } else if let Some(body) = current.as_mut() {
            body.push_str(line);
        }
    }
    out
}

fn commands(ca: &str) -> Vec<String> {
    if cfg!(target_os = "macos") {
        vec![format!(
            "sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain '{ca}'"
        )]
    } else if cfg!(windows) {
        vec![format!("certutil -user -addstore Root \"{ca}\"")]
    } else {
        vec![
            format!("sudo cp '{ca}' /usr/local/share/ca-certificates/wxemu-ca.crt"),
            "sudo update-ca-certificates".to_owned(),
            format!(
                "certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n wxemu -i '{ca}'   # Chromium/Firefox (libnss3-tools)"
            ),
        ]
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn finds_the_ca_in_a_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let ca = wxemu_certs::ensure_ca(dir.path()).unwrap();
        let bundle = dir.path().join("bundle.crt");
        std::fs::write(
            &bundle,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert_eq!(status(&ca, &bundle), TrustStatus::NotTrusted);
        let mut text = std::fs::read_to_string(&bundle).unwrap();
        text.push_str(&std::fs::read_to_string(&ca).unwrap());
        std::fs::write(&bundle, text).unwrap();
        assert_eq!(status(&ca, &bundle), TrustStatus::Trusted);
        assert_eq!(
            status(&dir.path().join("nope.pem"), &bundle),
            TrustStatus::Unknown
        );
    }
}
