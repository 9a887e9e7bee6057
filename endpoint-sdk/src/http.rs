//! The HTTP client shared by webhooks, the worker and typed calls: one connection pool per
//! process, rustls with the `ring` provider (no system OpenSSL needed).

use std::sync::OnceLock;

/// Percent-encodes a URL component (unreserved characters and `,` stay as they are).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The start of a response body, for error messages (at most 300 characters).
pub(crate) fn snippet(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// An error with its causes, `: `-separated (a reqwest error's own text says little: "error
/// sending request"; its sources say why).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The process-wide HTTP client.
pub(crate) fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(new_client).clone()
}

/// A client with connections of its own: for a thread whose runtime must not depend on another's
/// (a pooled connection is driven by the runtime that opened it).
pub(crate) fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("endpoint-sdk/", env!("CARGO_PKG_VERSION")))
        // The process's roots, read at the first TLS handshake and shared (see `crate::tls`).
        .tls_backend_preconfigured(crate::tls::client_config())
        .build()
        .expect("the HTTP client's configuration is static and valid")
}
