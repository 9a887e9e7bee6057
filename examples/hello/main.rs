//! The smallest application: one endpoint, and the SDK's command line.
//!
//! `cargo run --example hello -- manifest` prints the endpoint's configuration.

use endpoint_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// What `greet` takes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Greeting {
    /// Who to greet.
    pub name: String,
}

/// Says hello. Runs on the smallest CPU worker, at most two at once, ten seconds at most.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 10_000)]
async fn greet(input: Greeting) -> String {
    format!("Hello, {}!", input.name)
}

#[tokio::main]
async fn main() -> endpoint_sdk::Result<()> {
    endpoint_sdk::main().await
}
