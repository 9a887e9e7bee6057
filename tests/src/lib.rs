//! Endpoints shared by the workspace's tests. Linking this crate registers them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use endpoint_sdk::prelude::*;
use serde_json::Value;

/// How many times `echo` ran (the load test counts duplicates with it).
pub static ECHO_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Returns its input.
#[endpoint(cpu = "cpu3c-2-4", workers = (1, 8), concurrency = 8, execution_timeout_ms = 60_000)]
pub async fn echo(v: Value) -> Value {
    ECHO_CALLS.fetch_add(1, Ordering::Relaxed);
    v
}

/// Sleeps `ms`, then returns it.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 60_000)]
pub async fn nap(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

/// Fails with its own error type.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn refuse(reason: String) -> Result<u32, String> {
    Err(format!("refused: {reason}"))
}

/// Streams `n` chunks, then returns `n`.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn count(ctx: &Ctx, n: u32) -> u32 {
    for i in 0..n {
        ctx.stream(i);
    }
    n
}

/// Worker tests: an async handler that never finishes (the worker's own timeout ends it).
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 5_000)]
pub async fn hang_async(_x: u32) -> u32 {
    std::future::pending::<()>().await;
    0
}

/// Worker tests: a handler that ignores cancellation (a blocking loop).
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 5_000)]
pub async fn spin_forever(_x: u32) -> u32 {
    loop {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Worker tests: blocks its thread for `ms` (CPU-bound work, or a blocking call).
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn block(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Worker tests: panics when asked to.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn panicky(what: String) -> String {
    if what == "panic" {
        panic!("asked to panic");
    }
    what
}

/// Worker tests: returns a string of `mb` megabytes.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn big_output(mb: usize) -> String {
    "x".repeat(mb * 1024 * 1024)
}

/// Worker tests: `n` progress updates and stream chunks, then the result.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn chatty(ctx: Ctx, n: u32) -> String {
    for i in 0..n {
        ctx.progress(i);
        ctx.stream(format!("chunk-{i}"));
    }
    "done".to_string()
}

fn fail_init() -> Result<(), String> {
    Err("model weights missing at /runpod-volume/w.bin".into())
}

/// Worker tests: its per-worker init fails.
#[endpoint(cpu = "cpu3c-2-4", init = fail_init, execution_timeout_ms = 60_000)]
pub async fn init_fails() -> u32 {
    1
}
