//! One-shot local test mode, like the Python SDK's: run one job from `--test-input '<json>'` or
//! `./test_input.json`, print its result, exit 0 on success and 1 on failure.

use std::path::Path;

use serde_json::Value;

use crate::handler::{Ctx, EndpointDef, panic_message};
use crate::job::{FailureKind, JobFailure, JobStatus, StatusObject};

/// Runs one job locally. Returns the status object, or a message when there is no usable input.
pub async fn run_test_input(
    def: &EndpointDef,
    inline: Option<&str>,
) -> Result<StatusObject, String> {
    let text = match inline {
        Some(t) => t.to_string(),
        None => std::fs::read_to_string(Path::new("test_input.json")).map_err(|_| {
            "no test input: pass --test-input '{\"input\": {...}}' or create ./test_input.json"
                .to_string()
        })?,
    };
    let job: Value = serde_json::from_str(&text)
        .map_err(|e| format!("the test input is not valid JSON: {e}"))?;
    let Some(input) = job.get("input").cloned() else {
        return Err("the test input has no `input`: write {\"input\": {...}}".to_string());
    };
    let id = job
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("local_test")
        .to_string();
    let started = std::time::Instant::now();
    let session = crate::session::peek(&input).map(str::to_string);
    let state = def.init().await.map_err(|e| e.to_string())?;
    let ctx = Ctx::builder(def.name(), &id)
        .deadline(def.config.execution_timeout().map(|t| started + t))
        .session(
            session,
            crate::session::Sessions::from_env().map_err(|e| e.to_string())?,
            def.session_version(),
        )
        .build();
    let run = tokio::spawn(def.run(&state, ctx, input));
    let result = match def.config.execution_timeout() {
        Some(t) => tokio::time::timeout(t, run).await.ok(),
        None => Some(run.await),
    };
    let (status, output, error) = match result {
        None => (
            JobStatus::TimedOut,
            None,
            Some(
                JobFailure::new(
                    FailureKind::Timeout,
                    "the job ran past its execution timeout",
                )
                .to_wire(),
            ),
        ),
        Some(Ok(Ok(v))) => (JobStatus::Completed, Some(v), None),
        Some(Ok(Err(f))) => (JobStatus::Failed, None, Some(f.to_wire())),
        Some(Err(join)) => (
            JobStatus::Failed,
            None,
            Some(
                JobFailure::new(
                    FailureKind::Panic,
                    format!(
                        "the handler panicked: {}",
                        panic_message(&*join.into_panic())
                    ),
                )
                .to_wire(),
            ),
        ),
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
