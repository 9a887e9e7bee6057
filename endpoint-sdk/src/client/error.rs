//! What a typed call can end with besides its output.

use std::fmt;
use std::time::Duration;

use crate::protocol::FailureKind;

/// Why a call to an endpoint did not produce its output. `E` is the callee's own error type,
/// carried across the wire intact.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError<E> {
    /// The callee returned its own error.
    Endpoint(E),
    /// The callee's job failed otherwise (a panic, bad input, an oversize result, a failed
    /// `init`, a lost worker, or an error from a worker that is not this SDK's).
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
    TimedOut {
        /// The callee.
        endpoint: String,
        /// The job.
        job_id: String,
        /// How long the caller waited.
        after: Duration,
    },
    /// The job was cancelled (by the caller, or on the platform).
    Cancelled {
        /// The callee.
        endpoint: String,
        /// The job, if it was submitted.
        job_id: Option<String>,
    },
    /// The caller's execution budget was spent before the call could start.
    DeadlineExceeded {
        /// The callee.
        endpoint: String,
    },
    /// The job's step budget (`max_steps`) is spent: no more calls from this job.
    StepBudgetExhausted {
        /// The callee that was not called.
        endpoint: String,
        /// The budget.
        limit: u32,
    },
    /// The platform could not be reached or answered 429/5xx (retried before giving up).
    Transport {
        /// The callee.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// The platform refused the call (unknown endpoint, bad key, bad request).
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
            CallError::Transport { endpoint, message } => {
                CallError::Transport { endpoint, message }
            }
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

impl<E> CallError<E> {
    /// The message, with `endpoint` describing the callee's own error.
    pub fn describe_with(&self, endpoint_error: impl Fn(&E) -> String) -> String {
        struct Show<'a, E, F>(&'a CallError<E>, F);
        impl<E, F: Fn(&E) -> String> fmt::Display for Show<'_, E, F> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, &self.1)
            }
        }
        Show(self, endpoint_error).to_string()
    }

    fn write(
        &self,
        f: &mut fmt::Formatter<'_>,
        endpoint_error: &dyn Fn(&E) -> String,
    ) -> fmt::Result {
        match self {
            CallError::Endpoint(e) => f.write_str(&endpoint_error(e)),
            CallError::Failed {
                endpoint,
                job_id,
                kind,
                message,
            } => write!(f, "`{endpoint}` job {job_id} failed ({kind:?}): {message}"),
            CallError::TimedOut {
                endpoint,
                job_id,
                after,
            } => write!(
                f,
                "`{endpoint}` job {job_id} timed out after {:.1} s",
                after.as_secs_f64()
            ),
            CallError::Cancelled { endpoint, job_id } => match job_id {
                Some(id) => write!(f, "`{endpoint}` job {id} was cancelled"),
                None => write!(
                    f,
                    "the call to `{endpoint}` was cancelled before it started"
                ),
            },
            CallError::DeadlineExceeded { endpoint } => write!(
                f,
                "not calling `{endpoint}`: the caller's execution budget is spent"
            ),
            CallError::StepBudgetExhausted { endpoint, limit } => write!(
                f,
                "not calling `{endpoint}`: this job has made its {limit} calls (`max_steps = {limit}`); \
                 a runaway loop? raise `max_steps` if the agent needs more"
            ),
            CallError::Transport { endpoint, message } => {
                write!(f, "could not reach `{endpoint}`: {message}")
            }
            CallError::Rejected {
                endpoint,
                status,
                message,
            } => match status {
                Some(s) => write!(f, "`{endpoint}` refused the call ({s}): {message}"),
                None => write!(f, "`{endpoint}` refused the call: {message}"),
            },
            CallError::Decode {
                endpoint,
                job_id,
                message,
            } => write!(
                f,
                "`{endpoint}` job {job_id} returned an output of another shape: {message}"
            ),
        }
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, &|e: &E| e.to_string())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for CallError<E> {}
