//! The handler: an endpoint's typed function behind a JSON-in, JSON-out interface that every
//! runtime (the local runtime, the production worker, test-input mode) drives the same way, with
//! its per-worker state built once, and the one path that runs a job ([`execute`]).

mod app;
pub(crate) mod backlog;
mod chunks;
mod ctx;
mod def;
mod execute;
mod init;
mod request;
pub(crate) mod span;

use std::future::Future;
use std::sync::Arc;

pub use app::LoadBalanced;
pub use chunks::{Chunks, SendError};
pub use ctx::{Ctx, CtxBuilder, JobSink};
pub use def::{EndpointDef, WorkerState};
pub use execute::{Execution, Outcome, Placement, execute, job_budget};
pub use init::{InitError, InitFn};
#[doc(hidden)]
pub use init::{init_discard, init_none, init_state};
pub use request::RequestScope;

use crate::endpoint::Endpoint;

/// What runs an endpoint's jobs: its per-worker initialiser and its handler. Implemented by
/// `#[endpoint]` next to [`Endpoint`].
pub trait Handler: Endpoint {
    /// Per-worker state built by `init` (`()` without one).
    type State: Send + Sync + 'static;

    /// Builds the per-worker state; runs once per worker before its first job.
    fn init() -> impl Future<Output = Result<Self::State, InitError>> + Send;

    /// Runs one job.
    fn run(
        state: Arc<Self::State>,
        ctx: Ctx,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the handler panicked (payload is not a string)".to_string()
    }
}
