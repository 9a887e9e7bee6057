//! A job's span, made from its `Ctx` and `Outcome` when its host says it ended, and handed to
//! [`crate::telemetry`] (which exports it while an exporter runs). A load-balancing request's
//! span is made when its `Ctx` is dropped (`CtxInner`'s `Drop`).

use std::time::{Duration, SystemTime};

use super::Outcome;
use super::ctx::Ctx;
use crate::protocol::JobStatus;
use crate::telemetry::{self, JobSpan};

/// Exports the span of the job `ctx` ran, which started at `started` and ended with `outcome`,
/// and of its calls (`queue_delay`: the job's time in the queue, when the runtime knows it).
/// Nothing happens unless an exporter runs.
pub(crate) fn job_ended(
    ctx: &Ctx,
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
        status,
        error,
        queue_delay,
        ..ctx.inner.job_span(started)
    };
    telemetry::job_ended(&job, ctx.calls_trace());
}
