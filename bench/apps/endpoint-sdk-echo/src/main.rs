//! An echo worker built with endpoint-sdk, as a user writes one: the job's input is its output.
//! `ENDPOINT_NAME` picks the concurrency (the worker benchmark runs both).

use endpoint_sdk::prelude::*;
use serde_json::Value;

/// The echo at concurrency 1.
#[endpoint(name = "echo-c1", cpu = "cpu3c-2-4", workers = (0, 1), concurrency = 1,
           execution_timeout_ms = 60_000)]
async fn echo_c1(v: Value) -> Value {
    v
}

/// The echo at concurrency 16.
#[endpoint(name = "echo-c16", cpu = "cpu3c-2-4", workers = (0, 1), concurrency = 16,
           execution_timeout_ms = 60_000)]
async fn echo_c16(v: Value) -> Value {
    v
}

#[tokio::main]
async fn main() -> endpoint_sdk::Result<()> {
    endpoint_sdk::main().await
}
