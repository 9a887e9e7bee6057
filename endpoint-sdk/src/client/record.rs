//! The record of one call in its caller's trace, and its line in the caller's log: written when
//! the call ends, or, if the call is dropped first (its job was stopped at its deadline, a
//! sibling of a fail-fast fan-out failed), when it is dropped, so that the trace's tree has
//! every call of a job that did not finish.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{CallRecord, Trace};
use crate::protocol::trace_context::SpanId;
use crate::protocol::{JobStatus, StatusObject};

/// What a call has done so far: the submits it sent, and the job it waits on (the last
/// attempt's) as soon as its id is known.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub(super) sent: u32,
    pub(super) job_id: Option<String>,
}

/// A call under way, recorded once.
pub(super) struct CallRecorder {
    trace: Arc<Trace>,
    endpoint: &'static str,
    span: SpanId,
    started: Instant,
    pub(super) progress: Progress,
    done: bool,
    /// How a call that has no job (to an external API) ended.
    outcome: Option<JobStatus>,
}

impl CallRecorder {
    /// The call of span `span` to `endpoint`, started at `started`.
    pub(super) fn new(
        trace: Arc<Trace>,
        endpoint: &'static str,
        span: SpanId,
        started: Instant,
    ) -> Self {
        CallRecorder {
            trace,
            endpoint,
            span,
            started,
            progress: Progress::default(),
            done: false,
            outcome: None,
        }
    }

    /// When the call started.
    pub(super) fn started(&self) -> Instant {
        self.started
    }

    /// The call ended: with the job's final status, or an error.
    pub(super) fn finish(mut self, status: Option<&StatusObject>, error: Option<String>) {
        self.done = true;
        self.record(status, error);
    }

    /// A call without a job (a request to an external API) ended: completed, or with an error.
    pub(super) fn finish_plain(mut self, error: Option<String>) {
        self.done = true;
        self.outcome = Some(if error.is_none() {
            JobStatus::Completed
        } else {
            JobStatus::Failed
        });
        self.record(None, error);
    }

    fn record(&self, status: Option<&StatusObject>, error: Option<String>) {
        let ended = Instant::now();
        let trace = &self.trace;
        let job_id = status
            .map(|s| s.id.as_str())
            .or(self.progress.job_id.as_deref());
        // One line per call in the caller's log (inside its job's span on a worker), with the
        // ids that tie the trace's tree together across processes.
        tracing::info!(
            trace_id = trace.id(),
            span_id = %self.span,
            parent_id = %trace.span_id(),
            job_id = job_id.unwrap_or("-"),
            status = status.map(|s| s.status).or(self.outcome).map_or(if self.done { "ERROR" } else { "DROPPED" }, |s| s.as_str()),
            "called `{}` in {:?}",
            self.endpoint,
            ended.saturating_duration_since(self.started)
        );
        trace.push(CallRecord {
            endpoint: self.endpoint.to_string(),
            span_id: self.span,
            parent_id: trace.span_id(),
            job_id: job_id.map(str::to_string),
            worker_id: status.and_then(|s| s.worker_id.clone()),
            status: status.map(|s| s.status).or(self.outcome),
            started: trace.offset(self.started),
            ended: trace.offset(ended),
            queue_delay: status.and_then(|s| s.delay_time).map(Duration::from_millis),
            execution: status
                .and_then(|s| s.execution_time)
                .map(Duration::from_millis),
            attempts: self.progress.sent,
            error,
        });
    }
}

impl Drop for CallRecorder {
    fn drop(&mut self) {
        if !self.done {
            self.record(
                None,
                Some(
                    "the call was dropped before its result was read (its caller stopped: a \
                     deadline, a cancellation, a failed sibling); a job still running was \
                     cancelled"
                        .into(),
                ),
            );
        }
    }
}
