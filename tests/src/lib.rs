//! Endpoints shared by the workspace's tests. Linking this crate registers them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use endpoint_sdk::prelude::*;
use serde_json::Value;

/// How many times `echo` ran (the load test counts duplicates with it).
pub static ECHO_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Returns its input.
#[endpoint(cpu = "cpu3c-1-2", workers = (1, 8), concurrency = 8, execution_timeout_ms = 60_000)]
pub async fn echo(v: Value) -> Value {
    ECHO_CALLS.fetch_add(1, Ordering::Relaxed);
    v
}

/// Sleeps `ms`, then returns it.
#[endpoint(cpu = "cpu3c-1-2", workers = (0, 2), execution_timeout_ms = 60_000)]
pub async fn nap(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Fails with its own error type.
#[endpoint(cpu = "cpu3c-1-2", execution_timeout_ms = 60_000)]
pub async fn refuse(reason: String) -> Result<u32, String> {
    Err(format!("refused: {reason}"))
}

/// Streams `n` chunks, then returns `n`.
#[endpoint(cpu = "cpu3c-1-2", execution_timeout_ms = 60_000)]
pub async fn count(ctx: &Ctx, n: u32) -> u32 {
    for i in 0..n {
        ctx.stream(i);
    }
    n
}
