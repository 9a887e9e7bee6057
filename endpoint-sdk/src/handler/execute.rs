//! The one path that runs a job, whichever runtime asks: the local runtime's simulated workers,
//! the production worker and test-input mode. It races the handler against the job's deadline
//! and cancellation (both carried by its [`Ctx`]), turns a panic into a failure, and says how the
//! job ended in one set of words.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;
use tracing::Instrument;

use super::{Ctx, EndpointDef, WorkerState, panic_message};
use crate::protocol::JobFailure;

/// How long a handler stopped on another thread has to end before it counts as stuck.
const STUCK_GRACE: Duration = Duration::from_secs(2);

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The handler returned an output.
    Completed(Value),
    /// The handler returned its error, panicked, or its input or output did not fit its types.
    Failed(JobFailure),
    /// The deadline passed first; the handler was stopped.
    TimedOut(JobFailure),
    /// The job was cancelled from outside (by a caller, the platform, its TTL): there is nothing
    /// to report, the handler was stopped.
    Stopped,
}

/// Where the handler's future is polled.
#[derive(Debug, Clone)]
pub enum Placement {
    /// In the task that executes the job: dropping the execution stops the handler.
    Inline,
    /// On another runtime's threads (the production worker's handler threads), so that a
    /// handler that blocks its thread cannot starve the caller; one that ignores being stopped
    /// is reported as stuck.
    On(tokio::runtime::Handle),
}

/// A job's end.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// How it ended.
    pub outcome: Outcome,
    /// The handler, stopped on its thread, did not end within two seconds: its thread is lost.
    pub stuck: bool,
}

/// A job's execution budget: the endpoint's ceiling, or what the job's caller has left (from
/// its envelope, see [`crate::protocol::envelope::Deadline`]) when that is sooner. Enforced by
/// [`execute`] through the `Ctx`'s deadline, and the one a handler sees in `Ctx::deadline()`,
/// so a callee's own calls are clamped to it at any depth.
pub fn job_budget(ceiling: Option<Duration>, caller_left: Option<Duration>) -> Option<Duration> {
    match (ceiling, caller_left) {
        (Some(c), Some(l)) => Some(c.min(l)),
        (c, l) => c.or(l),
    }
}

/// Runs one job of `def` to its end: the handler against the deadline and the cancellation of
/// `ctx`. `timeout` is the job's execution timeout, named in the failure when it passes.
pub async fn execute(
    def: &EndpointDef,
    state: &WorkerState,
    ctx: Ctx,
    input: Arc<Value>,
    timeout: Option<Duration>,
    placement: &Placement,
) -> Execution {
    let deadline = ctx.deadline();
    let cancel = ctx.cancel_token();
    let handler = CatchUnwind(def.run(state, ctx, input));
    let overdue = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    let ended = match placement {
        Placement::Inline => {
            // The handler first: one that ends at its first poll never sets a timer.
            tokio::select! {
                biased;
                r = handler => Ended::Returned(r),
                _ = overdue => Ended::TimedOut,
                _ = cancel.cancelled() => Ended::Stopped,
            }
        }
        Placement::On(runtime) => {
            // The handler's logs and calls belong to the job's span (its request id) there too.
            let mut task = runtime.spawn(handler.instrument(tracing::Span::current()));
            // The handler's end first, then the deadline: a job both overdue and cancelled
            // timed out.
            let ended = tokio::select! {
                biased;
                r = &mut task => Ended::Returned(r.unwrap_or_else(|join| Err(join.into_panic()))),
                _ = overdue => Ended::TimedOut,
                _ = cancel.cancelled() => Ended::Stopped,
            };
            if matches!(ended, Ended::TimedOut | Ended::Stopped) {
                cancel.cancel();
                task.abort();
                let stuck = tokio::time::timeout(STUCK_GRACE, &mut task).await.is_err();
                if stuck {
                    return Execution {
                        outcome: ended.outcome(timeout, deadline),
                        stuck: true,
                    };
                }
            }
            ended
        }
    };
    Execution {
        outcome: ended.outcome(timeout, deadline),
        stuck: false,
    }
}

type Caught = Result<Result<Value, JobFailure>, Box<dyn std::any::Any + Send>>;

enum Ended {
    Returned(Caught),
    TimedOut,
    Stopped,
}

impl Ended {
    /// How the job ended, its deadline `deadline`. A job stopped once its deadline had passed
    /// timed out: the cancellation can win the race with the job's own timer (the production
    /// worker's watchdog cancels a job at its deadline while the job's loop is held, before that
    /// loop's timer can fire).
    fn outcome(self, timeout: Option<Duration>, deadline: Option<tokio::time::Instant>) -> Outcome {
        match self {
            Ended::Returned(Ok(Ok(v))) => Outcome::Completed(v),
            Ended::Returned(Ok(Err(failure))) => Outcome::Failed(failure),
            Ended::Returned(Err(panic)) => {
                Outcome::Failed(JobFailure::panicked(&panic_message(&*panic)))
            }
            Ended::TimedOut => Outcome::TimedOut(JobFailure::timed_out(timeout)),
            Ended::Stopped if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) => {
                Outcome::TimedOut(JobFailure::timed_out(timeout))
            }
            Ended::Stopped => Outcome::Stopped,
        }
    }
}

/// A future whose panics become `Err(payload)`.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::job_budget;
    use std::time::Duration;

    #[test]
    fn a_job_gets_the_sooner_of_its_ceiling_and_its_callers_deadline() {
        let s = Duration::from_secs;
        assert_eq!(job_budget(Some(s(60)), Some(s(8))), Some(s(8)));
        assert_eq!(job_budget(Some(s(5)), Some(s(8))), Some(s(5)));
        assert_eq!(job_budget(None, Some(s(8))), Some(s(8)));
        assert_eq!(job_budget(Some(s(60)), None), Some(s(60)));
        assert_eq!(job_budget(None, None), None);
    }
}
