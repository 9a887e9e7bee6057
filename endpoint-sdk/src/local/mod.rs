//! The local runtime: every endpoint of the binary on one machine, with the platform's semantics
//! (per-endpoint FIFO queue, simulated workers between `workers.min` and `workers.max`, the
//! scaler, idle timeout, `concurrency`, per-worker `init`, cold starts, execution timeouts, job
//! policies, result retention, webhooks). In-process, no sockets needed; the
//! [`server`](crate::server) puts Runpod's HTTP API in front of it.
//!
//! Inside, each endpoint is a pure state machine (`state`: one file per transition) behind a
//! thin async shell (`shell`) that holds its lock, wakes its waiters and carries out what each
//! transition asks for. Time comes from `tokio::time`, so the whole runtime runs on a paused
//! clock: a test (or a simulation) lives through the platform's real timeouts in milliseconds.
//!
//! ```
//! use endpoint_sdk::local::LocalRuntime;
//! use endpoint_sdk::prelude::*;
//! use serde_json::json;
//!
//! #[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 10_000)]
//! async fn double(x: u64) -> u64 {
//!     x * 2
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = LocalRuntime::builder().endpoint::<double>().build()?;
//! let status = runtime.run_sync("double", json!(21).into(), std::time::Duration::from_secs(5)).await?;
//! assert_eq!(status.output, Some(json!(42)));
//! # Ok(()) }
//! ```

pub(crate) mod balancer;
mod call_trees;
mod error;
pub mod events;
mod inspect;
mod janitor;
mod metrics_sink;
mod options;
mod runtime;
pub(crate) mod scaler;
mod shared;
mod shell;
mod simulated;
pub(crate) mod state;

pub use call_trees::CallNode;
pub use error::RuntimeError;
pub use events::{EventSink, Interest, RuntimeEvent, StopReason};
pub use inspect::{JobDetail, JobSummary};
pub use metrics_sink::MetricsSink;
pub use options::RuntimeOptions;
pub use runtime::{
    GpuMemory, LocalRuntime, LocalRuntimeBuilder, LocalTransport, RuntimeHandle, WorkerMemory,
};
pub use state::JobReport;
