//! The endpoints the benchmarks run: echoes and a no-op. Linking this crate registers them, so
//! `bench-app dev` serves them and `bench-app worker` (with `ENDPOINT_NAME`) runs them.

use endpoint_sdk::prelude::*;
use serde_json::Value;

/// The `/runsync` benchmark's echo on `bench-app dev`: one always-on worker, up to 64 jobs at
/// once (the highest client concurrency the benchmark uses).
#[endpoint(name = "echo", cpu = "cpu3c-2-4", workers = (1, 1), concurrency = 64,
           execution_timeout_ms = 60_000)]
pub async fn echo(v: Value) -> Value {
    v
}

/// The worker benchmark's echo at concurrency 1.
#[endpoint(name = "echo-c1", cpu = "cpu3c-2-4", workers = (0, 1), concurrency = 1,
           execution_timeout_ms = 60_000)]
pub async fn echo_c1(v: Value) -> Value {
    v
}

/// The worker benchmark's echo at concurrency 16.
#[endpoint(name = "echo-c16", cpu = "cpu3c-2-4", workers = (0, 1), concurrency = 16,
           execution_timeout_ms = 60_000)]
pub async fn echo_c16(v: Value) -> Value {
    v
}

/// The calls benchmark's callee: returns its input. Also a plain function, the direct-call
/// floor.
#[endpoint(name = "noop", cpu = "cpu3c-2-4", workers = (1, 1), concurrency = 64,
           execution_timeout_ms = 60_000)]
pub async fn noop(x: u64) -> u64 {
    x
}
