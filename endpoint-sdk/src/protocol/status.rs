//! Where a job is in its life, and the status object the public API answers with
//! (`shared/reference/runpod-protocol.md` §3).

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

impl StatusObject {
    /// Job `id`, just queued: nothing known of it yet.
    pub fn queued(id: String) -> Self {
        StatusObject {
            id,
            status: JobStatus::InQueue,
            delay_time: None,
            execution_time: None,
            worker_id: None,
            output: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
