//! The HTTP client shared by webhooks, the worker and typed calls: one connection pool per
//! process, rustls with the `ring` provider (no system OpenSSL needed).

use std::sync::OnceLock;

/// The process-wide HTTP client.
pub(crate) fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // Another part of the process may have installed a provider already; either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .user_agent(concat!("endpoint-sdk/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client's configuration is static and valid")
        })
        .clone()
}
