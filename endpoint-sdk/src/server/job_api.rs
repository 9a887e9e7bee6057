//! The worker-facing job API: what a worker process (ours, or the official Python SDK's) calls
//! through its `RUNPOD_WEBHOOK_*` URLs.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::public::read_body;
use super::{ApiError, AppState};
use crate::local::JobReport;
use crate::protocol::limits::RESULT_LIMIT;
use crate::protocol::{FailureKind, JobFailure};

#[derive(Deserialize)]
pub(crate) struct TakeQuery {
    batch_size: Option<usize>,
}

pub(crate) async fn take(
    State(s): State<AppState>,
    Path((endpoint, worker)): Path<(String, String)>,
    Query(q): Query<TakeQuery>,
) -> Result<Response, ApiError> {
    take_jobs(s, endpoint, worker, q.batch_size.unwrap_or(1).max(1), false).await
}

pub(crate) async fn take_batch(
    State(s): State<AppState>,
    Path((endpoint, worker)): Path<(String, String)>,
    Query(q): Query<TakeQuery>,
) -> Result<Response, ApiError> {
    take_jobs(s, endpoint, worker, q.batch_size.unwrap_or(1).max(1), true).await
}

/// A long poll: answers with jobs as soon as there are some, or 204 after the runtime's
/// `take_wait`.
async fn take_jobs(
    s: AppState,
    endpoint: String,
    worker: String,
    max: usize,
    batch: bool,
) -> Result<Response, ApiError> {
    let wait = s.runtime.options().take_wait;
    let jobs = tokio::select! {
        jobs = s.runtime.job_take(&endpoint, &worker, max, wait) => jobs?,
        _ = s.stop.cancelled() => Vec::new(),
    };
    if jobs.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if batch {
        Ok(Json(jobs).into_response())
    } else {
        Ok(Json(jobs.into_iter().next().expect("non-empty")).into_response())
    }
}

/// Reads a worker's post: JSON text, whatever its `Content-Type` (the Python SDK sends
/// `application/x-www-form-urlencoded`).
async fn read_json(
    headers: &HeaderMap,
    body: Body,
    route: &str,
    timeout: std::time::Duration,
) -> Result<Value, ApiError> {
    let bytes = read_body(headers, body, RESULT_LIMIT, route, timeout)
        .await
        .map_err(|e| match e.status {
            StatusCode::REQUEST_TIMEOUT => e,
            // The platform answers oversize results with 400; say why.
            _ => ApiError::bad_request(e.message),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of {route} is not valid JSON ({e}); send {{\"output\": ..}} or {{\"error\": \"..\"}}"
        ))
    })
}

pub(crate) async fn done(
    State(s): State<AppState>,
    Path((endpoint, worker, job)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_json(&headers, body, "job-done", s.body_read_timeout).await?;
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request(
            "the body of job-done must be a JSON object: {\"output\": ..} or {\"error\": \"..\"}",
        ));
    };
    let stop_pod = map.get("stopPod").and_then(Value::as_bool).unwrap_or(false);
    // A progress update goes to the job-done URL too, with status IN_PROGRESS.
    if map.get("status").and_then(Value::as_str) == Some("IN_PROGRESS") {
        let output = map.remove("output").unwrap_or(Value::Null);
        s.runtime.job_progress(&endpoint, &worker, &job, output)?;
        return Ok(Json(json!({ "status": "ok" })));
    }
    let error = match map.remove("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) if e.is_empty() => None,
        Some(Value::String(e)) => Some(e),
        Some(Value::Bool(false)) => None,
        // The platform expects a string; a dict would silently end COMPLETED with no output
        // there. Keep the failure and its content instead.
        Some(other) => Some(other.to_string()),
    };
    // A worker can only report a failure; one that stopped its job at the deadline says so in
    // the failure, and the job ends TIMED_OUT, as when the runtime's own timer stops it (the
    // platform records FAILED there; callers read both as `CallError::TimedOut`).
    let outcome = match error {
        Some(e) if JobFailure::from_wire(&e).kind == FailureKind::Timeout => JobReport::TimedOut(e),
        Some(e) => JobReport::Error(e),
        None => JobReport::Output(map.remove("output").unwrap_or(Value::Null)),
    };
    // `isStream=true` marks a generator handler's final post; its body has the same shape.
    s.runtime
        .job_done(&endpoint, &worker, &job, outcome, stop_pod)?;
    Ok(Json(json!({ "status": "ok" })))
}

pub(crate) async fn stream(
    State(s): State<AppState>,
    Path((endpoint, worker, job)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = read_json(&headers, body, "job-stream", s.body_read_timeout).await?;
    let chunk = match body {
        Value::Object(mut map) if map.contains_key("output") => {
            map.remove("output").unwrap_or(Value::Null)
        }
        other => other,
    };
    s.runtime.job_stream(&endpoint, &worker, &job, chunk)?;
    Ok(Json(json!({ "status": "ok" })))
}

pub(crate) async fn ping(
    State(s): State<AppState>,
    Path((endpoint, worker)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    s.runtime.ping(&endpoint, &worker)?;
    Ok(Json(json!({ "status": "ok" })))
}

pub(crate) async fn stop(
    State(s): State<AppState>,
    Path((endpoint, worker)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let wait = s.runtime.options().take_wait;
    let stops = tokio::select! {
        stops = s.runtime.job_stop(&endpoint, &worker, wait) => stops?,
        _ = s.stop.cancelled() => Vec::new(),
    };
    if stops.is_empty() {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Ok(Json(json!({ "jobsToStop": stops })).into_response())
    }
}
