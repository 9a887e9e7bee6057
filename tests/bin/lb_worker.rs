//! A binary holding one load-balancing endpoint, `greeter`, run as a worker process by
//! `tests/lb_worker.rs`. Its `init` waits for the file named by `LB_INIT_GATE` (so a test sees
//! the health check answer 204 first) and fails when `LB_INIT_FAIL` is set.

use std::sync::Arc;
use std::time::Duration;

use endpoint_sdk::axum::extract::{Path, Query, State};
use endpoint_sdk::axum::response::sse::{Event, Sse};
use endpoint_sdk::axum::routing::{get, post};
use endpoint_sdk::axum::{Json, Router};
use endpoint_sdk::prelude::*;
use serde_json::{Value, json};

/// The worker's state.
pub struct Greeter {
    greeting: String,
}

async fn load() -> Result<Greeter, String> {
    if let Ok(why) = std::env::var("LB_INIT_FAIL") {
        return Err(why);
    }
    if let Ok(gate) = std::env::var("LB_INIT_GATE") {
        while !std::path::Path::new(&gate).exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(Greeter {
        greeting: "hello".into(),
    })
}

#[endpoint(name = "greeter", cpu = "cpu3c-2-4", init = load, execution_timeout_ms = 30_000)]
pub fn greeter(state: Arc<Greeter>) -> Router {
    Router::new()
        .route("/hello/{name}", get(hello))
        .route("/slow", post(slow))
        .route("/whoami", get(whoami))
        .route("/tokens", get(tokens))
        .with_state(state)
}

async fn hello(State(g): State<Arc<Greeter>>, Path(name): Path<String>) -> String {
    format!("{}, {name}", g.greeting)
}

#[derive(serde::Deserialize)]
struct Wait {
    ms: u64,
}

/// Answers after `ms` milliseconds (a request in flight while the worker is told to stop).
async fn slow(Query(w): Query<Wait>) -> Json<Value> {
    tracing::info!("slow request started");
    tokio::time::sleep(Duration::from_millis(w.ms)).await;
    Json(json!({ "slept_ms": w.ms }))
}

/// What the request's `Ctx` knows.
async fn whoami(ctx: Ctx) -> Json<Value> {
    Json(json!({
        "request_id": ctx.job_id(),
        "worker_id": ctx.worker_id(),
        "trace_id": ctx.trace_id(),
        "remaining_ms": ctx.remaining().map(|r| r.as_millis() as u64),
        "session": ctx.session_id(),
    }))
}

#[derive(serde::Deserialize)]
struct Count {
    n: u32,
    gap_ms: u64,
}

/// `n` server-sent events, `gap_ms` apart.
async fn tokens(
    Query(c): Query<Count>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        for i in 0..c.n {
            if tx
                .send(Ok(Event::default().data(i.to_string())))
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(c.gap_ms)).await;
        }
    });
    Sse::new(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

#[tokio::main]
async fn main() -> endpoint_sdk::Result<()> {
    endpoint_sdk::main().await
}
