//! The production worker: a binary built with this SDK, in a Runpod Serverless container,
//! speaking the platform's worker protocol (the same one as the official Python SDK), with the
//! known ways to lose results or hang removed:
//!
//! - the next job-take starts as soon as a slot frees (no 1 s sleep when slots are busy), and a
//!   job's result is posted while the next job runs, at most `concurrency` results at once;
//! - the execution timeout is enforced in the worker too, so a job ends with a clear error even
//!   if the platform's own limit is off;
//! - a panicking handler fails its job and the worker goes on;
//! - a handler that ignores cancellation (a blocking loop) is abandoned: its job fails, and the
//!   worker asks to be replaced (`stopPod`) instead of running on with a stuck thread;
//! - a result above the platform's 20 MB limit becomes a clear error instead of vanishing;
//! - results are retried with back-off; progress and stream posts always precede the result;
//! - the job-stop channel stops cancelled and timed-out jobs;
//! - 429 and 5xx from job-take are backed off;
//! - SIGTERM stops taking jobs and drains the running ones;
//! - handlers run on the worker's event loop, in their job's task (a job crosses no thread); one
//!   that holds the loop (CPU work, a blocking call) moves the endpoint's later jobs to handler
//!   threads, and one that holds it past its deadline fails its job and has the worker replaced
//!   (a watchdog thread acts for the held loop); the heartbeat has a thread of its own, so no
//!   handler can starve the ping.

mod app;
pub mod env;
mod heartbeat;
mod job;
pub(crate) mod log;
mod metrics_port;
mod platform;
mod posts;
mod serve;
mod slots;
mod test_input;
mod urls;
mod watch;

pub use app::{AppEnv, serve_app, serve_app_until};
pub use env::{EnvError, WorkerEnv};
pub use metrics_port::serve_metrics_from_env;
pub use serve::{run, run_until};
pub use test_input::{TestInputError, run_test_input};

use crate::handler::{EndpointDef, InitError};
use crate::protocol::vars::ENDPOINT_NAME;

/// Why the worker stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerExit {
    /// SIGTERM or Ctrl-C: it stopped taking jobs and finished the running ones.
    Drained,
    /// A handler ignored cancellation; the worker asked the platform to replace it.
    Replaced,
}

/// What stops a worker before it takes a job.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The platform's variables are missing or invalid.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The per-worker initialiser failed.
    #[error(transparent)]
    Init(#[from] InitError),
    /// The binary holds several endpoints and none was selected, or an unknown one.
    #[error("{0}")]
    Select(String),
    /// The handler threads could not start.
    #[error("the handler runtime could not start: {0}")]
    Runtime(std::io::Error),
    /// The session store (`SESSION_STORE_URL`) is unusable.
    #[error(transparent)]
    Sessions(crate::session::StoreError),
}

/// Picks the endpoint this worker serves: the only one, or the one named by `name`
/// ([`ENDPOINT_NAME`] or `--endpoint`).
pub fn select(defs: &[EndpointDef], name: Option<&str>) -> Result<EndpointDef, WorkerError> {
    // An empty variable (as container templates often leave it) means "not set".
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let names = || defs.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => defs.iter().find(|d| d.name() == n).cloned().ok_or_else(|| {
            WorkerError::Select(format!(
                "{ENDPOINT_NAME}={n}: this binary has no endpoint named `{n}`; endpoints: {}",
                names()
            ))
        }),
        None => match defs {
            [one] => Ok(one.clone()),
            [] => Err(WorkerError::Select(crate::registry::NO_ENDPOINT.into())),
            _ => Err(WorkerError::Select(format!(
                "this binary has {} endpoints ({}); set {ENDPOINT_NAME} to the one this worker serves",
                defs.len(),
                names()
            ))),
        },
    }
}
