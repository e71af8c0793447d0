//! rustls client configuration with an explicit crypto provider.
//!
//! The runway binary links both ring and aws-lc-rs, so rustls cannot pick a
//! process-level default by itself (it panics instead). Every config here is
//! built with `builder_with_provider(aws-lc-rs)`, which never consults the
//! process default.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::PushError;

/// A client config trusting the webpki roots plus `extra_ca_pem` (tests use a
/// self-signed CA), advertising the given ALPN protocols.
pub(crate) fn client_config(
    extra_ca_pem: Option<&str>,
    alpn: &[&[u8]],
) -> Result<rustls::ClientConfig, PushError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|_| {
                PushError::InvalidConfig("ca_pem is not a PEM certificate bundle".into())
            })?;
            roots.add(cert).map_err(|_| {
                PushError::InvalidConfig("ca_pem holds a certificate rustls rejects".into())
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(PushError::InvalidConfig(
                "ca_pem holds no certificate".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| PushError::InvalidConfig("TLS provider has no usable protocol".into()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}
