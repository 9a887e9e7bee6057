//! A job's span and a load-balancing request's, made from its `Ctx` when it ends and handed to
//! [`crate::telemetry`] (which exports them while an exporter runs).

use std::time::{Duration, SystemTime};

use super::Outcome;
use super::ctx::{Ctx, CtxInner};
use crate::protocol::JobStatus;
use crate::telemetry::{self, JobSpan, RequestSpan};

fn of(ctx: &CtxInner, started: SystemTime, status: JobStatus) -> JobSpan<'_> {
    JobSpan {
        endpoint: &ctx.endpoint,
        job_id: &ctx.job_id,
        worker_id: &ctx.worker_id,
        trace_id: ctx.trace_id,
        span_id: ctx.span_id,
        parent: ctx.parent_span,
        started,
        ended: SystemTime::now(),
        status,
        error: None,
        queue_delay: None,
        http: None,
    }
}

impl Ctx {
    /// Exports the span of the job this context ran, which started at `started` and ended with
    /// `outcome`, and of its calls (`queue_delay`: the job's time in the queue, when the runtime
    /// knows it). Nothing happens unless an exporter runs.
    pub(crate) fn job_ended(
        &self,
        started: SystemTime,
        outcome: &Outcome,
        queue_delay: Option<Duration>,
    ) {
        if !telemetry::enabled() {
            return;
        }
        let (status, error) = match outcome {
            Outcome::Completed(_) => (JobStatus::Completed, None),
            Outcome::Failed(f) => (JobStatus::Failed, Some(f.message.as_str())),
            Outcome::TimedOut(f) => (JobStatus::TimedOut, Some(f.message.as_str())),
            Outcome::Stopped => (JobStatus::Cancelled, None),
        };
        let job = JobSpan {
            error,
            queue_delay,
            ..of(&self.inner, started, status)
        };
        telemetry::job_ended(&job, self.calls_trace());
    }
}

/// Exports the span of a load-balancing request whose context is gone (its handler, and any
/// body it streamed, are done with it), with the calls it made.
pub(super) fn request_ended(ctx: &CtxInner, request: &RequestSpan) {
    let code = request.status_code();
    // No answer (the client went away first), or a server error.
    let failed = code == 0 || code >= 500;
    let error = if code == 0 {
        "the request ended before the app answered".to_string()
    } else {
        format!("HTTP {code}")
    };
    let status = if failed {
        JobStatus::Failed
    } else {
        JobStatus::Completed
    };
    let job = JobSpan {
        error: failed.then_some(error.as_str()),
        http: Some((&request.method, &request.path, code)),
        ..of(ctx, request.started, status)
    };
    telemetry::job_ended(&job, ctx.client.get().map(|c| c.trace()));
}
