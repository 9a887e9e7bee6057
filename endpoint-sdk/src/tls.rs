//! The TLS configuration of every HTTP client the SDK builds: rustls (with the `ring` provider)
//! verifying servers against the platform's root certificates (`rustls-platform-verifier`, as
//! reqwest's default does), those roots read once per process, at the first TLS handshake.
//!
//! Reading the system's roots (on Linux: a bundle and a directory of ~150 files) is what building
//! a client costs; reqwest does it for every client it builds. A worker builds two or more (the loop's
//! and the heartbeat's, which must not share connections), and a worker whose job server speaks
//! plain HTTP (`app dev`) needs none: here no client reads them until a server presents a
//! certificate, and all share what was read.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The client configuration for reqwest's `tls_backend_preconfigured`: the process's verifier,
/// TLS 1.2 and 1.3.
pub(crate) fn client_config() -> rustls::ClientConfig {
    let verifier = verifier();
    rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}

/// The process's verifier (its roots not read yet, or read once).
fn verifier() -> Arc<LazyVerifier> {
    static VERIFIER: OnceLock<Arc<LazyVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            crate::install_tls_provider();
            let provider = CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(default_provider()));
            Arc::new(LazyVerifier {
                provider,
                platform: OnceLock::new(),
            })
        })
        .clone()
}

#[allow(deprecated)] // See `install_tls_provider`: ring stays the provider.
fn default_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Whether the process has read its root certificates (for tests: a plain-HTTP worker never
/// does).
#[doc(hidden)]
pub fn roots_read() -> bool {
    verifier().platform.get().is_some()
}

/// The platform's verifier, made (its roots read) when a server first presents a certificate.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    platform: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn platform(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.platform
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(|e| {
                rustls::Error::General(format!(
                    "the system's root certificates could not be read: {e}"
                ))
            })
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    // A handshake's signature is checked with the provider's algorithms alone, as the platform
    // verifier does: no roots needed.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
