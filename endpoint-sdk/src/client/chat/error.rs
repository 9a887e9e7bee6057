//! Why a chat request to an external endpoint has no answer.

/// Why a chat request to an external endpoint has no (whole) answer. Each message names the
/// endpoint and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The calling endpoint does not list the external one in `calls = [..]`.
    #[error(
        "endpoint `{caller}` calls `{callee}`, which is not in its `calls = [..]`: deployed, the \
         call would fail, since only declared callees are wired. Add the external endpoint's \
         struct to `calls = [..]` in `{caller}`'s #[endpoint(..)]"
    )]
    Undeclared {
        /// The calling endpoint.
        caller: String,
        /// The external endpoint.
        callee: String,
    },
    /// The calling job has used its `max_steps`.
    #[error(
        "not calling `{endpoint}`: this job has made its {limit} calls (`max_steps = {limit}`); \
         a runaway loop? raise `max_steps` if the agent needs more"
    )]
    StepBudgetExhausted {
        /// The external endpoint.
        endpoint: String,
        /// The budget.
        limit: u32,
    },
    /// Nothing says where the endpoint is.
    #[error("external endpoint `{endpoint}` has no address: {how}")]
    NotConfigured {
        /// The external endpoint.
        endpoint: String,
        /// What to set.
        how: String,
    },
    /// Neither the request nor the attribute names a model.
    #[error(
        "no model for `{endpoint}`: name the served model with `.model(\"..\")` on the request or \
         `model = \"..\"` (or `model = env(\"VAR\")`) in its `#[external]` attribute"
    )]
    NoModel {
        /// The external endpoint.
        endpoint: String,
    },
    /// The caller's deadline, or the request's own limit, passed.
    #[error(
        "`{endpoint}` did not finish within {limit} ({tokens} tokens had arrived); the request \
         was abandoned"
    )]
    DeadlineExceeded {
        /// The external endpoint.
        endpoint: String,
        /// Pieces of the answer received before the deadline.
        tokens: usize,
        /// Which limit it was: the caller's deadline, or the request's own (the external's
        /// `execution_timeout_ms`, or `.timeout(..)`).
        limit: String,
    },
    /// The caller was cancelled.
    #[error("the request to `{endpoint}` was cancelled with its caller")]
    Cancelled {
        /// The external endpoint.
        endpoint: String,
    },
    /// The endpoint could not be reached, after every retry.
    #[error("could not reach `{endpoint}` at {url} after {attempts} attempt(s): {message}")]
    Unreachable {
        /// The external endpoint.
        endpoint: String,
        /// Where the request went.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        message: String,
    },
    /// The endpoint answered with an error status (after every retry, for one that may pass).
    #[error("`{endpoint}` answered {status} after {attempts} attempt(s): {body}")]
    Status {
        /// The external endpoint.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The start of the answer's body.
        body: String,
    },
    /// The answer broke off after part of it had reached the caller; it is not retried, since
    /// the caller has the first tokens already.
    #[error(
        "the answer of `{endpoint}` broke off after {tokens} tokens: {message}; not retried, as \
         its first tokens were delivered"
    )]
    CutOff {
        /// The external endpoint.
        endpoint: String,
        /// Pieces of the answer received.
        tokens: usize,
        /// What happened.
        message: String,
    },
    /// The answer is not an OpenAI-compatible chat completion, or carries an error.
    #[error("the answer of `{endpoint}` is not a chat completion: {message}")]
    Invalid {
        /// The external endpoint.
        endpoint: String,
        /// What did not fit.
        message: String,
    },
}
