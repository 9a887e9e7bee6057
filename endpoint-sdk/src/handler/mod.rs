//! The handler: an endpoint's typed function behind a JSON-in, JSON-out interface that every
//! runtime (local, worker, tests) drives the same way, with its per-worker state built once.

mod ctx;
mod init;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::EndpointConfig;
use crate::job::{FailureKind, JobFailure};

pub use ctx::{Ctx, CtxBuilder, JobSink};
pub use init::{InitError, InitFn};
#[doc(hidden)]
pub use init::{init_discard, init_none, init_state};

/// A boxed, sendable future: what erased handlers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An endpoint: a handler function with its configuration. Implemented by `#[endpoint]` on a
/// unit struct named after the function (`scrape` the function, `scrape` the endpoint type).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an endpoint",
    label = "not an `#[endpoint]` function",
    note = "`calls = [..]` and typed calls take functions annotated with `#[endpoint(..)]`"
)]
pub trait Endpoint: Send + Sync + 'static {
    /// What the handler takes: the job's `input`.
    type Input: Serialize + DeserializeOwned + Send + 'static;
    /// What the handler returns on success: the job's `output`.
    type Output: Serialize + DeserializeOwned + Send + 'static;
    /// The handler's own error type, carried to callers intact.
    type Error: Serialize + DeserializeOwned + fmt::Display + Send + 'static;
    /// Per-worker state built by `init` (`()` without one).
    type State: Send + Sync + 'static;

    /// The endpoint's name (`name = ..`, or the function's name).
    const NAME: &'static str;
    /// The endpoint's configuration, checked at compile time.
    const CONFIG: &'static EndpointConfig;
    /// The version of the crate that defines the endpoint (its `CARGO_PKG_VERSION`): the
    /// version tag of its sessions, so a session stored by another build is refused.
    const BUILD: &'static str;

    /// Builds the per-worker state; runs once per worker before its first job.
    fn init() -> impl Future<Output = Result<Self::State, InitError>> + Send;

    /// Runs one job.
    fn run(
        state: Arc<Self::State>,
        ctx: Ctx,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}

/// A worker's state, built by [`EndpointDef::init`] and shared by the jobs the worker runs.
#[derive(Clone)]
pub struct WorkerState(Arc<dyn Any + Send + Sync>);

impl fmt::Debug for WorkerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WorkerState(..)")
    }
}

trait ErasedHandler: Send + Sync {
    fn init(&self) -> BoxFuture<'static, Result<WorkerState, InitError>>;
    fn run(
        &self,
        state: WorkerState,
        ctx: Ctx,
        input: Arc<Value>,
    ) -> BoxFuture<'static, Result<Value, JobFailure>>;
    fn rust_path(&self) -> &'static str;
    fn build(&self) -> &'static str;
}

struct Typed<E>(PhantomData<fn() -> E>);

impl<E: Endpoint> ErasedHandler for Typed<E> {
    fn init(&self) -> BoxFuture<'static, Result<WorkerState, InitError>> {
        Box::pin(async {
            let state = E::init().await?;
            Ok(WorkerState(Arc::new(state)))
        })
    }

    fn run(
        &self,
        state: WorkerState,
        ctx: Ctx,
        input: Arc<Value>,
    ) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let state = state.0.downcast::<E::State>().map_err(|_| {
                JobFailure::new(
                    FailureKind::Init,
                    format!("worker state of `{}` has the wrong type", E::NAME),
                )
            })?;
            let input: E::Input = decode_input::<E>(&input)?;
            match E::run(state, ctx, input).await {
                Ok(output) => serde_json::to_value(output).map_err(|e| {
                    JobFailure::new(
                        FailureKind::Output,
                        format!(
                            "the output of `{}` could not be serialized as JSON: {e}",
                            E::NAME
                        ),
                    )
                }),
                Err(err) => Err(JobFailure {
                    kind: FailureKind::Handler,
                    message: err.to_string(),
                    detail: serde_json::to_value(&err).ok(),
                }),
            }
        })
    }

    fn rust_path(&self) -> &'static str {
        std::any::type_name::<E>()
    }

    fn build(&self) -> &'static str {
        E::BUILD
    }
}

/// Reads a job's input (inside its session envelope, if it has one) without copying it.
fn decode_input<E: Endpoint>(input: &Value) -> Result<E::Input, JobFailure> {
    let input = match crate::session::peek(input) {
        Some(_) => &input[crate::session::INPUT_KEY],
        None => input,
    };
    E::Input::deserialize(input).map_err(|e| {
        JobFailure::new(
            FailureKind::Input,
            format!(
                "the input does not match `{}`, the input type of endpoint `{}`: {e}",
                std::any::type_name::<E::Input>(),
                E::NAME
            ),
        )
    })
}

/// An endpoint as the runtimes see it: its configuration and its handler behind JSON.
///
/// Runtimes take definitions from the [registry](crate::registry) by default; a test can adjust
/// a definition's config (e.g. a shorter execution timeout) before handing it to a runtime.
#[derive(Clone)]
pub struct EndpointDef {
    /// The endpoint's configuration.
    pub config: EndpointConfig,
    handler: Arc<dyn ErasedHandler>,
}

impl fmt::Debug for EndpointDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointDef")
            .field("name", &self.config.name)
            .field("rust_path", &self.handler.rust_path())
            .finish()
    }
}

impl EndpointDef {
    /// The definition of endpoint `E`.
    pub fn of<E: Endpoint>() -> Self {
        EndpointDef {
            config: E::CONFIG.clone(),
            handler: Arc::new(Typed::<E>(PhantomData)),
        }
    }

    /// The endpoint's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The Rust path of the endpoint's handle type, e.g. `my_app::scrape`.
    pub fn rust_path(&self) -> &'static str {
        self.handler.rust_path()
    }

    /// The version tag of this endpoint's sessions: `<name>@<crate version>`.
    pub fn session_version(&self) -> String {
        format!("{}@{}", self.config.name, self.handler.build())
    }

    /// Runs the per-worker initialiser (a no-op without `init`).
    pub fn init(&self) -> BoxFuture<'static, Result<WorkerState, InitError>> {
        self.handler.init()
    }

    /// Runs one job: decodes the input (inside its session envelope, if any), calls the
    /// handler, encodes the output. A panic in the handler propagates; runtimes catch it and
    /// report [`FailureKind::Panic`] (see [`panic_message`]).
    pub fn run(
        &self,
        state: &WorkerState,
        ctx: Ctx,
        input: impl Into<Arc<Value>>,
    ) -> BoxFuture<'static, Result<Value, JobFailure>> {
        self.handler.run(state.clone(), ctx, input.into())
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the handler panicked (payload is not a string)".to_string()
    }
}

/// The input type of an endpoint whose handler takes no input parameter. It reads any JSON
/// (Runpod drops empty inputs, so callers send `{}` or Flash's `{"__empty": true}`) and writes `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoInput;

impl Serialize for NoInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

impl<'de> serde::Deserialize<'de> for NoInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| NoInput)
    }
}

/// The error type of an endpoint whose handler cannot fail (it returns a value, not a `Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum NoError {}

impl fmt::Display for NoError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for NoError {}

/// Whether a callee's execution timeout fits inside its caller's: used by the `const`
/// assertions that `calls = [..]` generates.
#[doc(hidden)]
pub const fn callee_fits(callee: &EndpointConfig, caller: &EndpointConfig) -> bool {
    match (callee.execution_timeout_ms, caller.execution_timeout_ms) {
        (Some(callee), Some(caller)) => callee < caller,
        _ => true,
    }
}

/// Whether a callee has a ceiling whenever its caller has one.
#[doc(hidden)]
pub const fn callee_bounded(callee: &EndpointConfig, caller: &EndpointConfig) -> bool {
    !(callee.execution_timeout_ms.is_none() && caller.execution_timeout_ms.is_some())
}
