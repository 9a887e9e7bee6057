//! The public endpoint API, as `https://api.runpod.ai/v2/{endpoint}` answers it.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_LENGTH};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::protocol::limits::{DEFAULT_SYNC_WAIT, RUN_LIMIT, RUNSYNC_LIMIT, SYNC_WAIT};
use crate::protocol::{RunRequest, StatusObject};

/// Reads a body of at most `limit` bytes, refusing larger ones with a clear 413.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    route: &str,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body exceeds the {} MB limit of {route}; pass large data by \
                 reference (e.g. a URL or `s3Config`) instead of inline",
                limit / (1024 * 1024)
            ),
        )
    };
    if let Some(len) = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        // The limit, or a body that broke off or is malformed (bad chunked encoding).
        Ok(Err(e)) if is_length_limit(&e) => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::bad_request(format!(
            "the request body of {route} could not be read: {}; send it whole, with a \
             Content-Length or valid chunked encoding",
            crate::http::error_chain(&e)
        ))),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body of {route} did not arrive within {} s{}; send the whole body \
                 at once (is its Content-Length right?)",
                timeout.as_secs(),
                headers
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .map(|n| format!(" (it announced {n} bytes)"))
                    .unwrap_or_default()
            ),
        )),
    }
}

/// Whether reading a body failed on its size limit (axum's `to_bytes` error wraps
/// http-body-util's `LengthLimitError`).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Parses a `/run` or `/runsync` body (once, straight into a `RunRequest`; the error says which
/// rule the body broke).
fn parse_run(bytes: &[u8]) -> Result<RunRequest, ApiError> {
    let no_input =
        || ApiError::bad_request("the request body has no `input`: send {\"input\": {...}}");
    match serde_json::from_slice::<RunRequest>(bytes) {
        Ok(req) if req.input.is_null() => Err(no_input()),
        Ok(req) => {
            if let Some(policy) = &req.policy {
                policy
                    .validate()
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
            }
            Ok(req)
        }
        Err(e) if e.is_syntax() || e.is_eof() => Err(ApiError::bad_request(format!(
            "the request body is not valid JSON ({e}); send {{\"input\": {{...}}}}"
        ))),
        Err(_) if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') => Err(
            ApiError::bad_request("the request body must be a JSON object: {\"input\": {...}}"),
        ),
        Err(e) if e.to_string().starts_with("missing field `input`") => Err(no_input()),
        Err(e) => Err(ApiError::bad_request(format!(
            "the request body is malformed: {e}"
        ))),
    }
}

// The handlers below take the whole request rather than a `HeaderMap` extractor, which would copy
// every header of every request to read one.

pub(crate) async fn run(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    s.runtime.endpoint(&endpoint)?;
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, RUN_LIMIT, "/run", s.body_read_timeout).await?;
    let id = s.runtime.submit(&endpoint, parse_run(&bytes)?)?;
    Ok(Json(json!({ "id": id, "status": "IN_QUEUE" })))
}

#[derive(Deserialize)]
pub(crate) struct WaitQuery {
    wait: Option<u64>,
}

fn wait_of(q: &WaitQuery) -> Duration {
    q.wait
        .map_or(DEFAULT_SYNC_WAIT, Duration::from_millis)
        .clamp(*SYNC_WAIT.start(), *SYNC_WAIT.end())
}

pub(crate) async fn runsync(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    Query(q): Query<WaitQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    s.runtime.endpoint(&endpoint)?;
    let (parts, body) = req.into_parts();
    let bytes = read_body(
        &parts.headers,
        body,
        RUNSYNC_LIMIT,
        "/runsync",
        s.body_read_timeout,
    )
    .await?;
    let status = s
        .runtime
        .run_sync(&endpoint, parse_run(&bytes)?, wait_of(&q))
        .await?;
    Ok(status_response(status))
}

/// The status object as the platform answers it: the whole object once final, only `id` and
/// `status` while the job is unfinished.
fn status_response(status: StatusObject) -> Response {
    if status.status.is_final() {
        Json(status).into_response()
    } else {
        Json(json!({ "id": status.id, "status": status.status })).into_response()
    }
}

pub(crate) async fn status(
    State(s): State<AppState>,
    Path((endpoint, id)): Path<(String, String)>,
) -> Result<Json<StatusObject>, ApiError> {
    Ok(Json(s.runtime.status(&endpoint, &id)?))
}

pub(crate) async fn status_sync(
    State(s): State<AppState>,
    Path((endpoint, id)): Path<(String, String)>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<StatusObject>, ApiError> {
    Ok(Json(s.runtime.wait(&endpoint, &id, wait_of(&q)).await?))
}

/// `/stream/{id}`: the chunks not read before, each handed out once; with `?wait=<ms>`, a long
/// poll that answers as soon as there is a chunk or the job ends (at once without it, as the
/// official clients expect).
pub(crate) async fn stream(
    State(s): State<AppState>,
    Path((endpoint, id)): Path<(String, String)>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<StreamAnswer>, ApiError> {
    let (status, chunks) = match q.wait {
        Some(ms) => {
            let wait = Duration::from_millis(ms).min(*SYNC_WAIT.end());
            s.runtime.stream_wait(&endpoint, &id, wait).await?
        }
        None => s.runtime.stream(&endpoint, &id)?,
    };
    let stream = chunks
        .into_iter()
        .map(|output| StreamItem { output })
        .collect();
    Ok(Json(StreamAnswer { id, status, stream }))
}

/// A `/stream` answer: `{"id", "status", "stream": [{"output": chunk}, ..]}`.
#[derive(serde::Serialize)]
pub(crate) struct StreamAnswer {
    id: String,
    status: crate::protocol::JobStatus,
    stream: Vec<StreamItem>,
}

#[derive(serde::Serialize)]
struct StreamItem {
    output: Value,
}

pub(crate) async fn cancel(
    State(s): State<AppState>,
    Path((endpoint, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let st = s.runtime.cancel(&endpoint, &id)?;
    Ok(Json(json!({ "id": st.id, "status": st.status })))
}

pub(crate) async fn retry(
    State(s): State<AppState>,
    Path((endpoint, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let st = s.runtime.retry(&endpoint, &id)?;
    Ok(Json(json!({ "id": st.id, "status": st.status })))
}

pub(crate) async fn purge_queue(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let removed = s.runtime.purge_queue(&endpoint)?;
    Ok(Json(json!({ "removed": removed, "status": "completed" })))
}

pub(crate) async fn health(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
) -> Result<Json<crate::protocol::Health>, ApiError> {
    Ok(Json(s.runtime.health(&endpoint)?))
}

/// `GET /metrics`: the process's metrics, with each endpoint's queue, jobs in progress and
/// workers as they are now.
pub(crate) async fn metrics(State(s): State<AppState>) -> Response {
    let m = crate::metrics::global();
    for c in s.runtime.configs() {
        if let Ok(h) = s.runtime.health(&c.name) {
            m.set_state(&c.name, &h);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        m.render(),
    )
        .into_response()
}

/// `GET /`: what this server hosts.
pub(crate) async fn index(State(s): State<AppState>) -> Json<Value> {
    let endpoints: Vec<Value> = s
        .runtime
        .configs()
        .into_iter()
        .map(|c| match c.load_balancer() {
            Some(_) => json!({ "name": c.name, "base": format!("/lb/{}", c.name) }),
            None => json!({ "name": c.name, "run": format!("/v2/{}/run", c.name) }),
        })
        .collect();
    Json(json!({ "endpoints": endpoints }))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such route: the API is /v2/{endpoint}/run|runsync|status/{id}|stream/{id}|\
         cancel/{id}|retry/{id}|purge-queue|health, and /lb/{endpoint}/<path> for a \
         load-balancing endpoint (GET / lists the endpoints)",
    )
}
