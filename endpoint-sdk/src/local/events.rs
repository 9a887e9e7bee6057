//! What happens inside the local runtime, as a stream of events: for `app dev`'s log, progress
//! displays, and tests that assert on scaling.

use std::time::Duration;

use crate::job::JobStatus;

/// Why a worker stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Idle longer than the endpoint's idle timeout, above the worker minimum.
    IdleTimeout,
    /// Its per-worker `init` failed.
    InitFailed(String),
    /// An external worker stopped pinging and taking jobs.
    Lost,
    /// It asked to be replaced (`stopPod`).
    Replaced,
    /// The runtime shut down.
    Shutdown,
}

/// One thing that happened in the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeEvent {
    /// A worker was started (its cold start and `init` follow).
    WorkerStarting {
        /// Endpoint name.
        endpoint: String,
        /// Worker id.
        worker: String,
    },
    /// A worker finished starting and takes jobs.
    WorkerReady {
        /// Endpoint name.
        endpoint: String,
        /// Worker id.
        worker: String,
        /// Cold start plus `init`.
        startup: Duration,
        /// Whether the worker is an external process attached over the job API.
        external: bool,
    },
    /// A worker stopped.
    WorkerStopped {
        /// Endpoint name.
        endpoint: String,
        /// Worker id.
        worker: String,
        /// Why.
        reason: StopReason,
    },
    /// A job entered the queue.
    JobQueued {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// Its execution timeout (the policy's, or the endpoint's).
        execution_timeout: Option<Duration>,
        /// The trace it belongs to.
        trace_id: String,
    },
    /// A worker took a job.
    JobStarted {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// Worker id.
        worker: String,
        /// Time in the queue.
        delay: Duration,
    },
    /// A job reached a final state.
    JobFinished {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// The worker that ran it, if one did.
        worker: Option<String>,
        /// Final status.
        status: JobStatus,
        /// Time in the queue.
        delay: Duration,
        /// Time running.
        execution: Duration,
        /// The error of a failed job.
        error: Option<String>,
    },
    /// A job of a lost worker was put back in the queue.
    JobRequeued {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// The lost worker.
        worker: String,
    },
}
