//! What the local runtime refuses, and why.

use crate::protocol::{JobStatus, PolicyError};

/// What the local runtime refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    /// No endpoint has this name.
    #[error("no endpoint named `{name}`; endpoints: {}", known.join(", "))]
    UnknownEndpoint {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// A job was sent to a load-balancing endpoint.
    #[error(
        "`{name}` is a load-balancing endpoint: it takes HTTP requests (`app dev` serves them \
         at /lb/{name}/<path>, a client with `{name}::client(..)`), not jobs"
    )]
    LoadBalancing {
        /// The endpoint.
        name: String,
    },
    /// An HTTP request was sent to a queue endpoint.
    #[error(
        "`{name}` is a queue endpoint: it takes jobs (/v2/{name}/run or runsync), not HTTP \
         requests"
    )]
    NotLoadBalancing {
        /// The endpoint.
        name: String,
    },
    /// No job has this id (never submitted, or its result expired).
    #[error(
        "no job `{id}` on endpoint `{endpoint}`: it was never submitted, or its result expired"
    )]
    UnknownJob {
        /// The endpoint.
        endpoint: String,
        /// The id asked for.
        id: String,
    },
    /// The job's `policy` is outside the platform's ranges.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Too many jobs are waiting.
    #[error("the queue of `{endpoint}` is full ({limit} jobs waiting); retry later")]
    QueueFull {
        /// The endpoint.
        endpoint: String,
        /// Its queue limit.
        limit: usize,
    },
    /// A worker's stream chunk was refused: the job's stream holds more than 8 MB that
    /// nobody has read yet.
    #[error(
        "the stream of job `{id}` on `{endpoint}` holds {unread} bytes that /stream has not read \
         (the limit is 8 MB); post the chunk again once the reader has caught up"
    )]
    StreamFull {
        /// The endpoint.
        endpoint: String,
        /// The job.
        id: String,
        /// Bytes not read yet.
        unread: usize,
    },
    /// `/retry` applies to failed and timed-out jobs only.
    #[error("job `{id}` is {status}: only FAILED and TIMED_OUT jobs can be retried")]
    NotRetryable {
        /// The job.
        id: String,
        /// Its status.
        status: JobStatus,
    },
    /// A worker process called the job API of an endpoint whose workers the runtime simulates:
    /// its jobs are not theirs to take or report.
    #[error(
        "endpoint `{endpoint}` is run by app dev's own simulated workers, so a worker process \
         cannot take its jobs or report on them; start app dev with `--external {endpoint}` to \
         serve it with your own workers"
    )]
    Simulated {
        /// The endpoint.
        endpoint: String,
    },
    /// The runtime needs a Tokio runtime to run its workers.
    #[error("the local runtime must be built inside a Tokio runtime (e.g. in `#[tokio::main]`)")]
    NoTokio,
    /// Two endpoints share a name, or a callee is missing.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}
