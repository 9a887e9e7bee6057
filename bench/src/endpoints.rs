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

/// A stream chunk of the stream benchmark, stamped with when it was written.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Tick {
    /// Its place in the stream.
    pub seq: u32,
    /// When it was written: nanoseconds since [`stamp`]'s epoch (meaningful in this process).
    pub at_ns: u64,
}

/// Nanoseconds since this process's first call.
pub fn stamp() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// The pause before each chunk of a paced stream after the first: a producer of about a
/// thousand tokens a second, whose reader is waiting when each chunk is written.
pub const PACE: std::time::Duration = std::time::Duration::from_millis(1);

/// The stream benchmark's producer: `n` stamped chunks, as fast as it can, or (`paced`) one
/// every [`PACE`].
#[endpoint(name = "ticks", cpu = "cpu3c-2-4", workers = (1, 1), concurrency = 8,
           execution_timeout_ms = 300_000)]
pub async fn ticks(out: Chunks<Tick>, n: u32, paced: bool) -> Result<u32, String> {
    for seq in 0..n {
        if paced && seq > 0 {
            tokio::time::sleep(PACE).await;
        }
        let tick = Tick {
            seq,
            at_ns: stamp(),
        };
        out.send(tick).await.map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// The stream benchmark's orchestrator: relays `ticks`' stream into its own.
#[endpoint(name = "ticks-relay", cpu = "cpu3c-2-4", workers = (1, 1), concurrency = 8,
           execution_timeout_ms = 600_000, calls = [ticks])]
pub async fn ticks_relay(ctx: Ctx, out: Chunks<Tick>, n: u32, paced: bool) -> Result<u32, String> {
    out.forward(ticks::stream(&ctx, n, paced))
        .await
        .map_err(|e| e.to_string())
}

/// The load-balancing benchmark's app: an echo and a server-sent event stream whose first event
/// is written at once. The same router is served bare by `bench-app floor-lb`.
pub fn lb_router() -> axum::Router {
    use axum::response::sse::{Event, Sse};
    axum::Router::new()
        .route(
            "/echo",
            axum::routing::post(|body: axum::body::Bytes| async move { body }),
        )
        .route(
            "/sse",
            axum::routing::get(|| async {
                let first = Ok::<_, std::convert::Infallible>(Event::default().data("first"));
                Sse::new(futures_util::stream::iter([first]))
            }),
        )
}

/// The load-balancing benchmark's endpoint: [`lb_router`] behind `bench-app dev`'s balancer, on
/// one always-on worker that takes every request in flight.
#[endpoint(name = "lb-echo", cpu = "cpu3c-2-4", workers = (1, 1),
           scaler = request_count(1000), execution_timeout_ms = 60_000)]
pub fn lb_echo() -> axum::Router {
    lb_router()
}

/// The simulate benchmark's caller: three calls to `sim-leaf` in parallel, then 300 ms of
/// its own work.
#[endpoint(name = "sim-top", cpu = "cpu3c-2-4", workers = (1, 20), execution_timeout_ms = 60_000,
           calls = [sim_leaf])]
pub async fn sim_top(ctx: Ctx, n: u64) -> Result<u64, String> {
    let done = sim_leaf::fan_out(&ctx, vec![n; 3]).concurrency(3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    Ok(done.iter().filter(|r| r.is_ok()).count() as u64)
}

/// The simulate benchmark's callee: 100 ms of work.
#[endpoint(name = "sim-leaf", cpu = "cpu3c-2-4", workers = (1, 10), concurrency = 4,
           execution_timeout_ms = 30_000)]
pub async fn sim_leaf(n: u64) -> u64 {
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    n
}
