//! PEM and DER: reading a certificate out of a PEM file, parsing it, writing PEM, hex.

use x509_parser::certificate::X509Certificate;

/// The DER of the first `CERTIFICATE` block of a PEM file.
pub(crate) fn pem_certificate_der(pem: &[u8]) -> Result<Vec<u8>, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|e| format!("it is not a PEM certificate ({e})"))?;
    if block.label != "CERTIFICATE" {
        return Err(format!(
            "expected a CERTIFICATE PEM block, found {:?}",
            block.label
        ));
    }
    Ok(block.contents)
}

pub(crate) fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err("trailing data after the certificate".to_owned()),
        Err(e) => Err(format!("invalid X.509 certificate ({e})")),
    }
}

/// PEM with the platform's line endings, like rcgen's `Certificate::pem`.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let eol = if cfg!(windows) { "\r\n" } else { "\n" };
    let mut b64 = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----{eol}");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str(eol);
    }
    out.push_str(&format!("-----END {label}-----{eol}"));
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_encoding_round_trips() {
        for len in [0usize, 1, 2, 3, 47, 48, 49, 300] {
            let der: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let pem = pem_encode("CERTIFICATE", &der);
            let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("parses");
            assert_eq!(block.label, "CERTIFICATE");
            assert_eq!(block.contents, der, "length {len}");
        }
    }
}
