//! Typed calls between endpoints, and from plain client code.
//!
//! `#[endpoint]` generates, on the handle type named after the function:
//!
//! - `scrape::call(&ctx, input) -> Result<Output, CallError<Error>>`: submit, wait, decode;
//! - `scrape::submit(&ctx, input) -> Result<JobHandle<scrape>, _>`: `status()`, `wait()`,
//!   `cancel()`, `stream()`;
//! - `scrape::fan_out(&ctx, inputs)`: bounded, results in input order, one `Result` per input;
//!   `.fail_fast()` stops at the first failure and cancels the rest.
//!
//! The caller is a job's [`Ctx`](crate::Ctx) or a [`Client`] (outside any endpoint). Every call
//! carries the caller's **deadline** (the child's `policy.executionTimeout` is the smaller of its
//! own ceiling and the caller's remaining budget, and no call starts once the budget is spent),
//! its **cancellation** (cancelling, timing out or dropping the caller cancels its in-flight
//! children on the platform), its **trace** (each call's queue delay and execution time are
//! recorded), and its **step budget** (`max_steps`). Failures that may pass are **retried** with
//! exponential back-off and jitter, within the deadline, and never in a way that could run the
//! child twice: reads are retried on the same job id, a submit only when no job can have been
//! created (the connection failed, or 429/503), a finished job only when its worker was lost.
//! The callee's own error never is. The module `retry` holds the whole rule.

mod call;
mod caller;
mod chat;
mod chunk_stream;
mod error;
mod fan_out;
mod handle;
mod http;
mod lb;
mod options;
mod record;
mod retry;
mod sse;
mod stream;
pub mod trace;
mod transport;

pub(crate) use call::call_in_scope;
pub use call::{call, child_execution_timeout};
pub use caller::{CallScope, Caller, Client};
pub use chat::{ChatAnswer, ChatError, ChatMessage, ChatRequest, ChatStream, Usage};
pub use chunk_stream::ChunkStream;
pub use error::CallError;
pub use fan_out::{AsCompleted, DEFAULT_CONCURRENCY, FanOut, FanOutFailFast};
pub use handle::{JobHandle, JobState, attach, submit};
pub use http::{HttpRoutes, HttpTransport};
pub use lb::{Conversation, LbClient, LbError, LbRequest, LbResponse, MOVED_FROM_HEADER, PinMode};
pub use options::{CallOptions, RetryPolicy};
pub use retry::NOT_FOUND_GRACE;
pub use sse::{SseEvent, SseStream};
pub use stream::{CallStream, stream};
pub use trace::{CallRecord, Trace};
pub use transport::{Running, Transport, TransportError};

use crate::endpoint::Endpoint;

/// Starts a fan-out to endpoint `E`. Used by the generated `E::fan_out`.
#[doc(hidden)]
pub fn fan_out<E: Endpoint, I>(caller: &impl Caller, inputs: I) -> FanOut<E>
where
    I: IntoIterator,
    I::Item: Into<E::Input>,
{
    FanOut::new(
        caller.call_scope(),
        inputs.into_iter().map(Into::into).collect(),
    )
}
