//! Endpoints shared by the workspace's tests. Linking this crate registers them.

pub mod hostile;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use endpoint_sdk::prelude::*;
use endpoint_sdk::schemars::{self, JsonSchema};
use serde_json::Value;

/// How many times `echo` ran (the load test counts duplicates with it).
pub static ECHO_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Returns its input.
#[endpoint(cpu = "cpu3c-2-4", workers = (1, 8), concurrency = 8, execution_timeout_ms = 60_000)]
pub async fn echo(v: Value) -> Value {
    ECHO_CALLS.fetch_add(1, Ordering::Relaxed);
    v
}

/// What `greet` takes: an input its JSON Schema describes field by field (the dashboard's form
/// and the manifest read it).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, JsonSchema)]
pub struct Greeting {
    /// Who to greet.
    pub name: String,
    /// How many times.
    pub times: u8,
    /// In capitals.
    pub loud: bool,
}

/// Greets `name`, `times` times.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
pub async fn greet(g: Greeting) -> String {
    let one = format!("hello, {}!", g.name);
    let all = vec![one; usize::from(g.times.max(1))].join(" ");
    if g.loud { all.to_uppercase() } else { all }
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

/// Worker tests: blocks its thread for `ms` when positive, waits (cancellably) for `-ms` when
/// negative.
#[endpoint(cpu = "cpu3c-2-4", concurrency = 4, execution_timeout_ms = 60_000)]
pub async fn hold_or_wait(ms: i64) -> i64 {
    if ms >= 0 {
        std::thread::sleep(Duration::from_millis(ms as u64));
    } else {
        tokio::time::sleep(Duration::from_millis(ms.unsigned_abs())).await;
    }
    ms
}

/// Worker tests: spawns a task that blocks its thread for good, and waits (cancellably).
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 5_000)]
pub async fn spawn_spin(_x: u32) -> u32 {
    tokio::spawn(async {
        loop {
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    std::future::pending::<()>().await;
    0
}

/// Worker tests: blocks its thread for `ms` (CPU-bound work, or a blocking call).
#[endpoint(cpu = "cpu3c-2-4", concurrency = 4, execution_timeout_ms = 60_000)]
pub async fn block(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Worker tests: blocks for `ms` inside `tokio::task::block_in_place`, which needs a
/// multi-threaded runtime.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn blocking_section(ms: u64) -> u64 {
    tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(ms)));
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

/// Worker tests: streams `0..n` as fast as it can, then returns `n`.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 120_000)]
pub async fn fast_tokens(tokens: Chunks<u32>, n: u32) -> Result<u32, String> {
    for i in 0..n {
        tokens.send(i).await.map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// Worker tests: how many milliseconds its job has left, as its `Ctx` sees it.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
pub async fn time_left(ctx: Ctx, _x: u32) -> u64 {
    let deadline = ctx.deadline().expect("a job always has a deadline here");
    deadline
        .saturating_duration_since(tokio::time::Instant::now())
        .as_millis() as u64
}

/// Worker tests, a three-level tree: the top calls the middle, which calls the leaf, and the leaf
/// itself, at once; each leaf says how many milliseconds its job has left, and the top returns
/// the smaller.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 120_000, calls = [chain_mid, time_left])]
pub async fn chain_top(ctx: Ctx, x: u32) -> Result<u64, String> {
    let (deep, near) = tokio::join!(chain_mid::call(&ctx, x), time_left::call(&ctx, x));
    let deep = deep.map_err(|e| e.to_string())?;
    Ok(deep.min(near.map_err(|e| e.to_string())?))
}

/// The middle of the chain: calls the leaf through a fan-out (of one), whose calls run in tasks
/// of their own and must still be logged in this job's span.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000, calls = [time_left])]
pub async fn chain_mid(ctx: Ctx, x: u32) -> Result<u64, String> {
    let mut results = time_left::fan_out(&ctx, [x]).await;
    results.remove(0).map_err(|e| e.to_string())
}

fn fail_init() -> Result<(), String> {
    Err("model weights missing at /runpod-volume/w.bin".into())
}

/// Worker tests: its per-worker init fails.
#[endpoint(cpu = "cpu3c-2-4", init = fail_init, execution_timeout_ms = 60_000)]
pub async fn init_fails() -> u32 {
    1
}

/// How many times `tally` ran for each tag (the session tests count re-executions with it).
pub static TALLIES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A callee that records each call: `tag` is `<session>/<step>/<n>`; it returns `<step>/<n>`.
#[endpoint(cpu = "cpu3c-2-4", workers = (1, 4), concurrency = 8, execution_timeout_ms = 30_000)]
pub async fn tally(tag: String) -> String {
    TALLIES.lock().unwrap().push(tag.clone());
    tag.split_once('/')
        .map_or(tag.clone(), |(_, rest)| rest.to_string())
}

/// A session-checkpointed orchestrator: `plan` (one call), `gather` (a fan-out of three), a slow
/// `think` step (the window in which the chaos test kills its worker), then `write` (one call).
/// The answer depends only on the question, so a resumed run and an undisturbed one agree.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 120_000, calls = [tally])]
pub async fn session_agent(ctx: Ctx, question: String) -> Result<String, String> {
    let s = ctx.session().await.map_err(|e| e.to_string())?;
    let sid = ctx.session_id().to_string();
    let tag = |step: &str, n: u32| format!("{sid}/{step}/{n}");
    let plan: String = s
        .try_step("plan", || tally::call(&ctx, tag("plan", 1)))
        .await
        .map_err(|e| e.to_string())?;
    let gather: Vec<String> = s
        .try_step("gather", || async {
            tally::fan_out(&ctx, (1..=3).map(|n| tag("gather", n)))
                .fail_fast()
                .await
        })
        .await
        .map_err(|e| e.to_string())?;
    s.put(
        "notes",
        &format!("{question}: planned {plan}, gathered {}", gather.len()),
    )
    .await
    .map_err(|e| e.to_string())?;
    ctx.progress("thinking");
    let thought: String = s
        .step("think", || async {
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            format!("thought about {question}")
        })
        .await
        .map_err(|e| e.to_string())?;
    let written: String = s
        .try_step("write", || tally::call(&ctx, tag("write", 1)))
        .await
        .map_err(|e| e.to_string())?;
    let notes: String = s
        .get("notes")
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    Ok(format!(
        "{notes}; {thought}; {plan} {} {written}",
        gather.join(" ")
    ))
}

/// `app call` tests: streams `first`, waits until the file `gate` exists (at most 30 s), streams
/// `second`, returns 2.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
pub async fn gated_ticks(ctx: Ctx, gate: String) -> u32 {
    ctx.stream("first");
    for _ in 0..1500 {
        if std::path::Path::new(&gate).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ctx.stream("second");
    2
}

/// Appends `what key` to the file named by `SOAK_STEP_LOG`, if set (one write, so lines of
/// several processes do not interleave).
fn soak_log(what: &str, key: &str) {
    use std::io::Write;
    if let Ok(path) = std::env::var("SOAK_STEP_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = f.write_all(format!("{what} {key}\n").as_bytes());
    }
}

/// The soak's session endpoint (`scripts/soak.sh`): three checkpointed steps. Each logs `start`
/// before it runs and `done` once its checkpoint is stored, so the soak can tell whether a
/// finished step ever ran again (a `start` after a `done` of the same session and step).
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 4), concurrency = 4, execution_timeout_ms = 60_000)]
pub async fn soak_steps(ctx: Ctx, ms: u64) -> Result<u64, String> {
    let s = ctx.session().await.map_err(|e| e.to_string())?;
    let sid = ctx.session_id().to_string();
    let mut total = 0;
    for step in ["a", "b", "c"] {
        let key = format!("{sid}/{step}");
        let v: u64 = s
            .step(step, || async {
                soak_log("start", &key);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                ms
            })
            .await
            .map_err(|e| e.to_string())?;
        soak_log("done", &key);
        total += v;
    }
    Ok(total)
}

/// The state of a worker of `soak_chat`: the turns of each conversation it holds.
#[derive(Default)]
pub struct SoakSeat {
    turns: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

async fn soak_seat() -> Result<SoakSeat, String> {
    Ok(SoakSeat::default())
}

/// A turn of a `soak_chat` conversation: how many tokens to stream, and how far apart.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SoakTurn {
    /// Tokens in the answer.
    pub tokens: u32,
    /// Milliseconds between them.
    pub gap_ms: u64,
}

/// The soak's load-balancing endpoint (`scripts/soak.sh`): each worker counts the turns of the
/// conversations it holds (the session id) and answers a turn as server-sent events
/// `<turn>:<i>`, then `done`. A conversation that stays on its worker sees its turns counted
/// 1, 2, 3, ..; one that moved starts again at 1 on its new worker. Workers retire after 3 idle
/// seconds, so conversations keep losing theirs.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 3), scaler = request_count(2), idle_timeout = 3,
           init = soak_seat, execution_timeout_ms = 30_000)]
pub fn soak_chat(seat: std::sync::Arc<SoakSeat>) -> endpoint_sdk::axum::Router {
    endpoint_sdk::axum::Router::new()
        .route("/turn", endpoint_sdk::axum::routing::post(soak_turn))
        .with_state(seat)
}

async fn soak_turn(
    ctx: Ctx,
    endpoint_sdk::axum::extract::State(seat): endpoint_sdk::axum::extract::State<
        std::sync::Arc<SoakSeat>,
    >,
    endpoint_sdk::axum::Json(t): endpoint_sdk::axum::Json<SoakTurn>,
) -> endpoint_sdk::axum::response::sse::Sse<
    impl futures_core::Stream<
        Item = Result<endpoint_sdk::axum::response::sse::Event, std::convert::Infallible>,
    >,
> {
    use endpoint_sdk::axum::response::sse::{Event, Sse};
    let turn = {
        let mut turns = seat.turns.lock().unwrap_or_else(|e| e.into_inner());
        let n = turns.entry(ctx.session_id().to_string()).or_insert(0);
        *n += 1;
        *n
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        for i in 0..t.tokens {
            let event = Event::default().data(format!("{turn}:{i}"));
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(t.gap_ms)).await;
        }
        let _ = tx.send(Ok(Event::default().data("done"))).await;
    });
    Sse::new(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}
