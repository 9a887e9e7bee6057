//! The platform's job model: statuses, the status object, and how a failed job's error travels
//! on the wire. Shapes follow Runpod's public API (`shared/reference/runpod-protocol.md` §3).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting for a worker.
    InQueue,
    /// A worker runs it.
    InProgress,
    /// Finished with an output.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
    /// Ran past its execution timeout, or expired in the queue.
    TimedOut,
}

impl JobStatus {
    /// Whether the job has reached a final state.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::InQueue | JobStatus::InProgress)
    }

    /// The platform's spelling, e.g. `IN_QUEUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::InQueue => "IN_QUEUE",
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelled => "CANCELLED",
            JobStatus::TimedOut => "TIMED_OUT",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status object returned by `/status`, `/runsync` and webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusObject {
    /// The job id.
    pub id: String,
    /// Its status.
    pub status: JobStatus,
    /// Milliseconds the job waited in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_time: Option<u64>,
    /// Milliseconds the job ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_time: Option<u64>,
    /// The worker that ran (or runs) it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// The output; while running, the latest progress update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The error of a failed job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a job failed, as this SDK's workers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The handler returned its own error type.
    Handler,
    /// The handler panicked.
    Panic,
    /// The job's input does not match the endpoint's input type.
    Input,
    /// The handler's output could not be serialized, or is larger than the platform accepts.
    Output,
    /// The job ran past its execution timeout.
    Timeout,
    /// The per-worker initialiser failed.
    Init,
    /// The worker running the job was lost.
    WorkerLost,
    /// Reported by a worker that is not this SDK's (e.g. the Python SDK), or unparseable.
    Other,
}

/// A failed job's error. On the wire it is the `error` string of the status object, holding
/// this as JSON text (`error_type`, `error_message` as the Python SDK writes them, plus
/// `error_detail`: the endpoint's own error value, so a typed caller gets it back intact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFailure {
    /// What went wrong.
    #[serde(rename = "error_type")]
    pub kind: FailureKind,
    /// A human-readable message.
    #[serde(rename = "error_message")]
    pub message: String,
    /// The endpoint's error value, for [`FailureKind::Handler`].
    #[serde(
        rename = "error_detail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub detail: Option<Value>,
}

impl JobFailure {
    /// A failure of `kind` with `message`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        JobFailure {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    /// The text for the wire's `error` field.
    pub fn to_wire(&self) -> String {
        serde_json::to_string(self).expect("a JobFailure always serializes")
    }

    /// Reads a wire `error` string. Errors from other workers (plain text, or the Python SDK's
    /// JSON with a `<class '...'>` error type) become [`FailureKind::Other`] with their message.
    pub fn from_wire(error: &str) -> Self {
        if let Ok(f) = serde_json::from_str::<JobFailure>(error) {
            return f;
        }
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(error)
            && let Some(Value::String(msg)) = map.get("error_message")
        {
            return JobFailure::new(FailureKind::Other, msg.clone());
        }
        JobFailure::new(FailureKind::Other, error)
    }
}

impl fmt::Display for JobFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JobFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_round_trip_and_foreign_errors_are_read() {
        let mut f = JobFailure::new(FailureKind::Handler, "page not found");
        f.detail = Some(serde_json::json!({"NotFound": {"url": "http://x"}}));
        assert_eq!(JobFailure::from_wire(&f.to_wire()), f);

        let python = r#"{"error_type": "<class 'ValueError'>", "error_message": "bad", "error_traceback": "..."}"#;
        let read = JobFailure::from_wire(python);
        assert_eq!(
            (read.kind, read.message.as_str()),
            (FailureKind::Other, "bad")
        );
        assert_eq!(JobFailure::from_wire("boom").message, "boom");
    }

    #[test]
    fn status_object_uses_the_platform_field_names() {
        let s = StatusObject {
            id: "j1".into(),
            status: JobStatus::Completed,
            delay_time: Some(3),
            execution_time: Some(40),
            worker_id: Some("w1".into()),
            output: Some(serde_json::json!(1)),
            error: None,
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":"j1","status":"COMPLETED","delayTime":3,"executionTime":40,"workerId":"w1","output":1})
        );
    }
}
