//! `app manifest`: every endpoint of the binary with its full configuration, as versioned JSON.
//!
//! Schema (version 1):
//!
//! ```text
//! {
//!   "manifest_version": 1,
//!   "app": "<binary name>",
//!   "sdk_version": "<endpoint-sdk version>",
//!   "endpoints": [
//!     { "rust_path": "<crate>::<fn>", "config": <EndpointConfig as JSON> }, ...   (sorted by name)
//!   ]
//! }
//! ```
//!
//! `config` is [`EndpointConfig`](crate::config::EndpointConfig) serialized with serde:
//! `name`, `hardware` (`{"kind":"gpu","selection":[{"kind":"type"|"pool"|"any","id":..}],
//! "count","min_cuda_version"}` or `{"kind":"cpu","flavor"}`), `workers` (`{"min","max"}`),
//! `idle_timeout_s`, `execution_timeout_ms`, `concurrency`, `scaler` (`{"kind":"QUEUE_DELAY"|
//! "REQUEST_COUNT","value"}`), `datacenters`, `volumes`, `env`, `secrets` (names only),
//! `flashboot`, `min_vram_gb`, `interactive`, `calls` (callee endpoint names: the call graph),
//! `has_init`, `allow`.

use serde::{Deserialize, Serialize};

use crate::config::EndpointConfig;
use crate::handler::EndpointDef;

/// The current manifest schema version.
pub const MANIFEST_VERSION: u32 = 1;

/// Every endpoint of an application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema version ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// The application (binary) name.
    pub app: String,
    /// The SDK version that wrote the manifest.
    pub sdk_version: String,
    /// The endpoints, sorted by name.
    pub endpoints: Vec<ManifestEndpoint>,
}

/// One endpoint in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEndpoint {
    /// The Rust path of the endpoint's handler.
    pub rust_path: String,
    /// Its configuration.
    pub config: EndpointConfig,
}

impl Manifest {
    /// The manifest of `defs` for application `app`.
    pub fn new(app: impl Into<String>, defs: &[EndpointDef]) -> Self {
        let mut endpoints: Vec<ManifestEndpoint> = defs
            .iter()
            .map(|d| ManifestEndpoint {
                rust_path: d.rust_path().to_string(),
                config: d.config.clone(),
            })
            .collect();
        endpoints.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        Manifest {
            manifest_version: MANIFEST_VERSION,
            app: app.into(),
            sdk_version: env!("CARGO_PKG_VERSION").to_string(),
            endpoints,
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serializes")
    }
}
