//! How a failed job's error travels on the wire, and the one wording of each way a job fails
//! that this SDK's workers report.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

    /// A job that ran past its execution timeout and was stopped: the one wording, whichever
    /// side (the runtime, a worker) noticed it first.
    pub fn timed_out(timeout: Option<Duration>) -> Self {
        let message = match timeout {
            Some(t) => format!(
                "the job ran past its execution timeout of {} ms and was stopped",
                t.as_millis()
            ),
            None => "the job ran past its execution timeout and was stopped".to_string(),
        };
        JobFailure::new(FailureKind::Timeout, message)
    }

    /// A handler that panicked with `message`.
    pub fn panicked(message: &str) -> Self {
        JobFailure::new(
            FailureKind::Panic,
            format!("the handler panicked: {message}"),
        )
    }

    /// A result of `bytes` bytes, above what the platform accepts.
    pub fn output_too_large(bytes: usize) -> Self {
        JobFailure::new(
            FailureKind::Output,
            format!(
                "the result is {:.1} MB, above the platform's {} MB limit: return a reference to \
                 the data (a URL, an S3 key, a file on the network volume) instead",
                bytes as f64 / 1_048_576.0,
                super::limits::RESULT_LIMIT / 1_048_576
            ),
        )
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
}
