//! The trust roots of every HTTPS client a deployable makes (the AWS SDK's, the backend client's), read
//! once from the system's CA bundle.
//!
//! Left to themselves, each TLS client loads the platform's roots on its own: the bundle file and then,
//! one by one, every certificate file of the certificate directory (on Debian, some 300 files holding the
//! same roots as the bundle). That was the largest part of the Lambda's cold start. Here the bundle file is
//! read once, on first use; only where a platform has no bundle file are the native roots loaded the usual
//! way.

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The system's trust roots, as PEM (for the AWS SDK) and as a root store (for rustls clients).
#[derive(Debug)]
pub struct SystemRoots {
    /// The CA bundle, PEM.
    pub pem: Vec<u8>,
    /// The same roots, parsed.
    pub store: Arc<RootCertStore>,
}

/// The system roots, read on first use.
///
/// # Panics
/// Never: a platform without roots gets an empty store, and TLS handshakes then fail and say why.
pub fn system_roots() -> &'static SystemRoots {
    static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
    ROOTS.get_or_init(load)
}

fn load() -> SystemRoots {
    let bundle = openssl_probe::probe().cert_file.and_then(|path| std::fs::read(path).ok());
    let pem = match bundle {
        Some(pem) => pem,
        // No bundle file: every root the platform has, however it keeps them.
        None => rustls_native_certs_pem(),
    };
    let mut store = RootCertStore::empty();
    let certs = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok);
    let (_added, _ignored) = store.add_parsable_certificates(certs);
    SystemRoots { pem, store: Arc::new(store) }
}

/// The platform's roots from its certificate directories, as one PEM blob.
fn rustls_native_certs_pem() -> Vec<u8> {
    let probe = openssl_probe::probe();
    let mut pem = Vec::new();
    for dir in probe.cert_dir {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                pem.extend_from_slice(&bytes);
                pem.push(b'\n');
            }
        }
    }
    pem
}

/// A rustls client configuration on ring with the system roots: for HTTP clients of the deployables.
pub fn client_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions, TLS 1.2 and 1.3")
        .with_root_certificates(system_roots().store.clone())
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_roots_are_read_once_and_hold_certificates() {
        let roots = system_roots();
        assert!(roots.store.len() > 10, "a CA bundle has many roots: {}", roots.store.len());
        assert!(std::ptr::eq(roots, system_roots()), "read once");
        let config = client_config();
        assert!(config.alpn_protocols.is_empty());
    }
}
