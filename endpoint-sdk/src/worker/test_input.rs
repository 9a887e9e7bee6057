//! One-shot local test mode, like the Python SDK's: run one job from `--test-input '<json>'` or
//! `./test_input.json`, print its result, exit 0 on success and 1 on failure.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::handler::{Ctx, EndpointDef, InitError, Outcome, Placement, execute};
use crate::protocol::{JobStatus, StatusObject, envelope};
use crate::session::{Sessions, StoreError};

/// Why a test job could not run.
#[derive(Debug, thiserror::Error)]
pub enum TestInputError {
    /// Neither `--test-input` nor `./test_input.json`.
    #[error(
        "no test input: pass --test-input '{{\"input\": {{...}}}}' or create ./test_input.json"
    )]
    Missing,
    /// The test input is not JSON.
    #[error("the test input is not valid JSON: {0}")]
    NotJson(serde_json::Error),
    /// The test input has no `input`.
    #[error("the test input has no `input`: write {{\"input\": {{...}}}}")]
    NoInput,
    /// The per-worker initialiser failed.
    #[error(transparent)]
    Init(#[from] InitError),
    /// The session store is unusable.
    #[error(transparent)]
    Sessions(#[from] StoreError),
}

/// Runs one job locally. Returns the status object, or why the job could not run.
pub async fn run_test_input(
    def: &EndpointDef,
    inline: Option<&str>,
) -> Result<StatusObject, TestInputError> {
    let text = match inline {
        Some(t) => t.to_string(),
        None => std::fs::read_to_string(Path::new("test_input.json"))
            .map_err(|_| TestInputError::Missing)?,
    };
    let job: Value = serde_json::from_str(&text).map_err(TestInputError::NotJson)?;
    let Some(input) = job.get("input").cloned() else {
        return Err(TestInputError::NoInput);
    };
    let id = job
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("local_test")
        .to_string();
    let meta = envelope::meta(&input);
    let session = meta.session;
    let state = def.init().await?;
    let started = tokio::time::Instant::now();
    let caller_left = meta.deadline.map(|d| d.remaining());
    let timeout = crate::handler::job_budget(def.config.execution_timeout(), caller_left);
    let ctx = Ctx::builder(def.name(), &id)
        .deadline(timeout.map(|t| started + t))
        .config(std::sync::Arc::new(def.config.clone()))
        .traceparent(meta.traceparent)
        .session(session, Sessions::from_env()?, def.session_version())
        .build();
    let done = execute(
        def,
        &state,
        ctx,
        Arc::new(input),
        timeout,
        &Placement::Inline,
    )
    .await;
    let (status, output, error) = match done.outcome {
        Outcome::Completed(v) => (JobStatus::Completed, Some(v), None),
        Outcome::Failed(f) => (JobStatus::Failed, None, Some(f.to_wire())),
        Outcome::TimedOut(f) => (JobStatus::TimedOut, None, Some(f.to_wire())),
        // Nothing cancels a test job.
        Outcome::Stopped => (JobStatus::Cancelled, None, None),
    };
    Ok(StatusObject {
        id,
        status,
        delay_time: Some(0),
        execution_time: Some(started.elapsed().as_millis() as u64),
        worker_id: None,
        output,
        error,
    })
}
