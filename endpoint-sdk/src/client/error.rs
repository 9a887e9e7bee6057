//! What a typed call can end with besides its output.

use std::fmt;
use std::time::Duration;

use crate::protocol::FailureKind;

/// Why a call to an endpoint did not produce its output. `E` is the callee's own error type,
/// carried across the wire intact.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError<E> {
    /// The callee returned its own error.
    #[error("{0}")]
    Endpoint(E),
    /// The callee's job failed otherwise (a panic, bad input, an oversize result, a failed
    /// `init`, a lost worker, or an error from a worker that is not this SDK's).
    #[error("`{endpoint}` job {job_id} failed ({kind:?}): {message}")]
    Failed {
        /// The callee.
        endpoint: String,
        /// The failed job.
        job_id: String,
        /// What went wrong.
        kind: FailureKind,
        /// The callee's message.
        message: String,
    },
    /// The callee's job ran past its execution timeout, or the caller's deadline passed while
    /// it waited (the job was then cancelled).
    #[error("`{endpoint}` job {job_id} timed out after {:.1} s", after.as_secs_f64())]
    TimedOut {
        /// The callee.
        endpoint: String,
        /// The job.
        job_id: String,
        /// How long the caller waited.
        after: Duration,
    },
    /// The job was cancelled (by the caller, or on the platform).
    #[error("{}", cancelled(endpoint, job_id))]
    Cancelled {
        /// The callee.
        endpoint: String,
        /// The job, if it was submitted.
        job_id: Option<String>,
    },
    /// The caller's execution budget was spent before the call could start.
    #[error("not calling `{endpoint}`: the caller's execution budget is spent")]
    DeadlineExceeded {
        /// The callee.
        endpoint: String,
    },
    /// The job's step budget (`max_steps`) is spent: no more calls from this job.
    #[error(
        "not calling `{endpoint}`: this job has made its {limit} calls (`max_steps = {limit}`); \
         a runaway loop? raise `max_steps` if the agent needs more"
    )]
    StepBudgetExhausted {
        /// The callee that was not called.
        endpoint: String,
        /// The budget.
        limit: u32,
    },
    /// The calling endpoint does not list the callee in its `calls = [..]`. On the platform the
    /// call would have nowhere to go (deploy wires `ENDPOINT_ID_*` only for declared callees),
    /// so it is refused everywhere, before anything is sent.
    #[error(
        "endpoint `{caller}` calls `{callee}`, which is not in its `calls = [..]`: deployed, the \
         call would fail, since only declared callees are wired. Add the callee's function to \
         `calls = [..]` in `{caller}`'s #[endpoint(..)]"
    )]
    Undeclared {
        /// The calling endpoint.
        caller: String,
        /// The callee it did not declare.
        callee: String,
    },
    /// The platform could not be reached or answered 429/5xx, after the retries that were
    /// safe. With a `job_id`, the job was submitted and the call lost touch with it while
    /// waiting: it was not submitted again, and may still run (read it by its id).
    #[error("{}", unreachable(endpoint, job_id, message))]
    Transport {
        /// The callee.
        endpoint: String,
        /// The job, when it was submitted.
        job_id: Option<String>,
        /// What happened.
        message: String,
    },
    /// The platform refused the call (unknown endpoint, bad key, bad request).
    #[error("{}", refused(endpoint, status, message))]
    Rejected {
        /// The callee.
        endpoint: String,
        /// The HTTP status, when there is one.
        status: Option<u16>,
        /// The platform's message.
        message: String,
    },
    /// The callee's output does not match its output type (a different build on the other
    /// side?).
    #[error("`{endpoint}` job {job_id} returned an output of another shape: {message}")]
    Decode {
        /// The callee.
        endpoint: String,
        /// The job.
        job_id: String,
        /// What did not match.
        message: String,
    },
}

impl<E> CallError<E> {
    /// Whether retrying may help: transport errors (including 429 and 5xx) and lost workers.
    /// Never the callee's own error.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Transport { .. } => true,
            CallError::Failed { kind, .. } => *kind == FailureKind::WorkerLost,
            _ => false,
        }
    }

    /// The callee's own error, if that is what this is.
    pub fn endpoint_error(&self) -> Option<&E> {
        match self {
            CallError::Endpoint(e) => Some(e),
            _ => None,
        }
    }

    /// The same error with the callee's error type changed (e.g. to carry it up as text).
    pub fn map_endpoint<F>(self, f: impl FnOnce(E) -> F) -> CallError<F> {
        match self {
            CallError::Endpoint(e) => CallError::Endpoint(f(e)),
            CallError::Failed {
                endpoint,
                job_id,
                kind,
                message,
            } => CallError::Failed {
                endpoint,
                job_id,
                kind,
                message,
            },
            CallError::TimedOut {
                endpoint,
                job_id,
                after,
            } => CallError::TimedOut {
                endpoint,
                job_id,
                after,
            },
            CallError::Cancelled { endpoint, job_id } => CallError::Cancelled { endpoint, job_id },
            CallError::DeadlineExceeded { endpoint } => CallError::DeadlineExceeded { endpoint },
            CallError::StepBudgetExhausted { endpoint, limit } => {
                CallError::StepBudgetExhausted { endpoint, limit }
            }
            CallError::Undeclared { caller, callee } => CallError::Undeclared { caller, callee },
            CallError::Transport {
                endpoint,
                job_id,
                message,
            } => CallError::Transport {
                endpoint,
                job_id,
                message,
            },
            CallError::Rejected {
                endpoint,
                status,
                message,
            } => CallError::Rejected {
                endpoint,
                status,
                message,
            },
            CallError::Decode {
                endpoint,
                job_id,
                message,
            } => CallError::Decode {
                endpoint,
                job_id,
                message,
            },
        }
    }
}

impl<E: fmt::Display> CallError<E> {
    /// The message, with `endpoint_error` describing the callee's own error (e.g. to record a
    /// call without the callee's details).
    pub fn describe_with(&self, endpoint_error: impl Fn(&E) -> String) -> String {
        match self {
            CallError::Endpoint(e) => endpoint_error(e),
            other => other.to_string(),
        }
    }
}

fn cancelled(endpoint: &str, job_id: &Option<String>) -> String {
    match job_id {
        Some(id) => format!("`{endpoint}` job {id} was cancelled"),
        None => format!("the call to `{endpoint}` was cancelled before it started"),
    }
}

fn unreachable(endpoint: &str, job_id: &Option<String>, message: &str) -> String {
    match job_id {
        Some(id) => format!(
            "lost touch with `{endpoint}` job {id}: {message}; it was not submitted again and \
             may still run"
        ),
        None => format!("the call to `{endpoint}` failed: {message}"),
    }
}

fn refused(endpoint: &str, status: &Option<u16>, message: &str) -> String {
    match status {
        Some(s) => format!("`{endpoint}` refused the call ({s}): {message}"),
        None => format!("`{endpoint}` refused the call: {message}"),
    }
}
