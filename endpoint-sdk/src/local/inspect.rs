//! What the runtime shows of its jobs besides their status objects (the dashboard reads these):
//! a job's input, its stream so far (every chunk, read or not), the calls it made and its
//! trace; and the recent jobs.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::protocol::StatusObject;

/// Everything the runtime knows of one job.
#[derive(Debug, Clone, Serialize)]
pub struct JobDetail {
    /// Its endpoint.
    pub endpoint: String,
    /// Its status object, as `/status` answers it.
    pub status: StatusObject,
    /// Its input (without the envelope).
    pub input: Value,
    /// The stream chunks it wrote that the runtime still holds, oldest first: every one not
    /// read yet, and the most recent 1 MB of those read.
    pub stream: Vec<Value>,
    /// Chunks written before `stream`'s first: read and no longer kept.
    pub stream_dropped: u64,
    /// The calls it made once it ended, each with its callee's own calls.
    #[serde(serialize_with = "super::call_trees::as_slice")]
    pub calls: std::sync::Arc<[super::CallNode]>,
    /// Its W3C trace id.
    pub trace_id: String,
    /// How long ago it was submitted.
    pub age: Duration,
}

/// A job in a list.
#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    /// Its endpoint.
    pub endpoint: String,
    /// Its status object.
    pub status: StatusObject,
    /// How long ago it was submitted.
    pub age: Duration,
}
