//! `EndpointDef`: an endpoint as the runtimes see it, its configuration and its handler behind
//! JSON.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{Ctx, Handler, InitError};
use crate::boxed::BoxFuture;
use crate::config::EndpointConfig;
use crate::protocol::{FailureKind, JobFailure, envelope};

/// A worker's state, built by [`EndpointDef::init`] and shared by the jobs the worker runs.
#[derive(Clone)]
pub struct WorkerState(Arc<dyn Any + Send + Sync>);

impl WorkerState {
    /// A worker state holding `state` (the runtimes build theirs with [`EndpointDef::init`]).
    #[cfg(test)]
    pub(crate) fn new(state: impl Any + Send + Sync) -> Self {
        WorkerState(Arc::new(state))
    }
}

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

impl<E: Handler> ErasedHandler for Typed<E> {
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
fn decode_input<E: Handler>(input: &Value) -> Result<E::Input, JobFailure> {
    E::Input::deserialize(envelope::inner(input)).map_err(|e| {
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
    pub fn of<E: Handler>() -> Self {
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

    /// The handler's future for one job: decodes the input (inside its session envelope, if
    /// any), calls the handler, encodes the output. A panic propagates; runtimes use
    /// [`execute`](super::execute), which catches it and enforces the deadline.
    pub fn run(
        &self,
        state: &WorkerState,
        ctx: Ctx,
        input: impl Into<Arc<Value>>,
    ) -> BoxFuture<'static, Result<Value, JobFailure>> {
        self.handler.run(state.clone(), ctx, input.into())
    }
}
