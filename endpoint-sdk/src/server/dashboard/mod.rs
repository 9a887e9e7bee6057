//! `app dev`'s dashboard: a page at the root URL (for a browser; the API's JSON index for
//! anything else) with every endpoint's checked configuration and kind, its workers and queue
//! over time, the live jobs, a job's detail (input, output or error, its stream as it arrives,
//! its calls as a waterfall across levels), and a form to send a job. The page is one file
//! embedded in the binary (no build step); it reads:
//!
//! - `GET /_dev/state`: the endpoints (config, kind, health, the JSON Schema of their input and
//!   output and an example input when their types give them) and the recent jobs;
//! - `GET /_dev/jobs/{endpoint}/{id}`: a job's detail with its call tree;
//! - `GET /_dev/events`: server-sent events: `state` every second, `job` as jobs move;
//! - `GET /_dev/simulate`: the endpoints under `app simulate`'s scenario, as a page.

mod simulate;
mod tree;

pub(crate) use simulate::simulate;

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_core::Stream;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::local::{LocalRuntime, RuntimeEvent};

/// The page.
const PAGE: &str = include_str!("page.html");

/// `GET /`: the page for a browser, the JSON index otherwise.
pub(crate) async fn root(state: State<AppState>, req: Request) -> Response {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        Html(PAGE).into_response()
    } else {
        super::public::index(state).await.into_response()
    }
}

/// One endpoint as the page shows it; with its schemas and example input for the form (sent
/// once, not every second).
fn endpoint_json(rt: &LocalRuntime, c: &crate::config::EndpointConfig, schemas: bool) -> Value {
    let kind = if c.load_balancer().is_some() {
        "load-balancing"
    } else {
        "queue"
    };
    let gpus: Vec<&str> = c.gpu_types().iter().map(|t| t.id).collect();
    let mut v = json!({
        "name": c.name,
        "kind": kind,
        "config": c,
        "gpu_types": gpus,
        "health": rt.health(&c.name).ok(),
        "gpu_memory": rt.gpu_memory(&c.name).ok().flatten(),
    });
    if schemas {
        v["schemas"] = json!(rt.schemas(&c.name));
    }
    v
}

fn job_json(j: &crate::local::JobSummary) -> Value {
    json!({
        "endpoint": j.endpoint,
        "id": j.status.id,
        "status": j.status.status,
        "delay_ms": j.status.delay_time,
        "execution_ms": j.status.execution_time,
        "worker": j.status.worker_id,
        "age_ms": j.age.as_millis() as u64,
    })
}

fn state_json(rt: &LocalRuntime, schemas: bool) -> Value {
    let endpoints: Vec<Value> = rt
        .configs()
        .into_iter()
        .map(|c| endpoint_json(rt, c, schemas))
        .collect();
    let jobs: Vec<Value> = rt.recent_jobs(50).iter().map(job_json).collect();
    json!({ "endpoints": endpoints, "jobs": jobs })
}

/// `GET /_dev/state`.
pub(crate) async fn state(State(s): State<AppState>) -> Json<Value> {
    Json(state_json(&s.runtime, true))
}

/// `GET /_dev/jobs/{endpoint}/{id}`: the job, and its calls as a tree with offsets in ms from
/// the job's start.
pub(crate) async fn job(
    State(s): State<AppState>,
    Path((endpoint, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let detail = s.runtime.job_detail(&endpoint, &id)?;
    let calls = tree::calls(&detail.calls, 0.0);
    Ok(Json(json!({
        "endpoint": detail.endpoint,
        "status": detail.status,
        "input": detail.input,
        "stream": detail.stream,
        "stream_dropped": detail.stream_dropped,
        "trace_id": detail.trace_id,
        "calls": calls,
    })))
}

/// `GET /_dev/events`: `state` every second, `job` when a job is queued, starts or ends, and
/// `worker` when a worker starts, is ready or stops.
pub(crate) async fn events(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rt = s.runtime.clone();
    let mut events = rt.events();
    let stop = s.stop.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(256);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let next = tokio::select! {
                _ = tick.tick() => Some(Event::default().event("state").data(state_json(&rt, false).to_string())),
                e = events.recv() => match e {
                    Ok(e) => event_json(&e).map(|(name, v)| Event::default().event(name).data(v.to_string())),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                    Err(_) => return,
                },
                _ = stop.cancelled() => return,
            };
            if let Some(ev) = next
                && tx.send(ev).await.is_err()
            {
                return;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|e| e.map(Ok)));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A runtime event as the page reads it.
fn event_json(e: &RuntimeEvent) -> Option<(&'static str, Value)> {
    Some(match e {
        RuntimeEvent::JobQueued { endpoint, job, .. } => (
            "job",
            json!({"endpoint": &**endpoint, "id": &**job, "status": "IN_QUEUE"}),
        ),
        RuntimeEvent::JobStarted {
            endpoint,
            job,
            worker,
            delay,
        } => (
            "job",
            json!({"endpoint": &**endpoint, "id": &**job, "status": "IN_PROGRESS", "worker": &**worker,
                   "delay_ms": delay.as_millis() as u64}),
        ),
        RuntimeEvent::JobFinished {
            endpoint,
            job,
            worker,
            status,
            delay,
            execution,
            ..
        } => (
            "job",
            json!({"endpoint": &**endpoint, "id": &**job, "status": status, "worker": worker.as_deref(),
                   "delay_ms": delay.as_millis() as u64,
                   "execution_ms": execution.as_millis() as u64}),
        ),
        RuntimeEvent::WorkerStarting { endpoint, worker } => (
            "worker",
            json!({"endpoint": &**endpoint, "worker": &**worker, "state": "starting"}),
        ),
        RuntimeEvent::WorkerReady {
            endpoint, worker, ..
        } => (
            "worker",
            json!({"endpoint": &**endpoint, "worker": &**worker, "state": "ready"}),
        ),
        RuntimeEvent::WorkerStopped {
            endpoint, worker, ..
        } => (
            "worker",
            json!({"endpoint": &**endpoint, "worker": &**worker, "state": "stopped"}),
        ),
        RuntimeEvent::JobRequeued { .. } => return None,
    })
}
