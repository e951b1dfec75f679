//! The TLS side of the listener: a rustls server config for the leaf
//! certificate from [`wxemu_certs`], TLS 1.2 and 1.3, ALPN h2 and http/1.1.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub fn server_config(
    material: &wxemu_certs::Material,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(
            // The CA after the leaf: see wxemu_certs::InterceptCa (the leaf's
            // chain there) for the browser that only sees what is sent.
            vec![
                CertificateDer::from(material.leaf_cert_der.clone()),
                CertificateDer::from(material.ca_cert_der.clone()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                material.leaf_key_pkcs8_der.clone(),
            )),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
