//! `EndpointDef`: an endpoint as the runtimes see it, its configuration and its handler behind
//! JSON.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{Ctx, Handler, InitError, LoadBalanced};
use crate::boxed::BoxFuture;
use crate::config::EndpointConfig;
use crate::protocol::{FailureKind, JobFailure, envelope};

/// A worker's state, built by [`EndpointDef::init`] and shared by the jobs the worker runs.
#[derive(Clone)]
pub struct WorkerState(Arc<dyn Any + Send + Sync>);

impl WorkerState {
    /// A state holding nothing (a worker that runs no handler: the simulator's).
    pub(crate) fn empty() -> Self {
        WorkerState(Arc::new(()))
    }

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
    fn schemas(&self) -> crate::schema::Schemas;
}

/// A load-balancing endpoint's app builder, behind its state's type.
trait ErasedApp: Send + Sync {
    fn init(&self) -> BoxFuture<'static, Result<WorkerState, InitError>>;
    fn app(&self, state: &WorkerState) -> Option<axum::Router>;
    fn rust_path(&self) -> &'static str;
    fn build(&self) -> &'static str;
}

struct TypedApp<E>(PhantomData<fn() -> E>);

impl<E: LoadBalanced> ErasedApp for TypedApp<E> {
    fn init(&self) -> BoxFuture<'static, Result<WorkerState, InitError>> {
        Box::pin(async {
            let state = E::init().await?;
            Ok(WorkerState(Arc::new(state)))
        })
    }

    fn app(&self, state: &WorkerState) -> Option<axum::Router> {
        let state = state.0.clone().downcast::<E::State>().ok()?;
        Some(E::app(state))
    }

    fn rust_path(&self) -> &'static str {
        std::any::type_name::<E>()
    }

    fn build(&self) -> &'static str {
        E::BUILD
    }
}

/// What runs an endpoint: a job handler, or a load-balancing endpoint's app.
#[derive(Clone)]
enum Body {
    Jobs(Arc<dyn ErasedHandler>),
    App(Arc<dyn ErasedApp>),
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

    fn schemas(&self) -> crate::schema::Schemas {
        E::schemas()
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
    body: Body,
}

impl fmt::Debug for EndpointDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointDef")
            .field("name", &self.config.name)
            .field("rust_path", &self.rust_path())
            .finish()
    }
}

impl EndpointDef {
    /// The definition of queue endpoint `E`.
    pub fn of<E: Handler>() -> Self {
        EndpointDef {
            config: E::CONFIG.clone(),
            body: Body::Jobs(Arc::new(Typed::<E>(PhantomData))),
        }
    }

    /// The definition of load-balancing endpoint `E`.
    pub fn app_of<E: LoadBalanced>() -> Self {
        EndpointDef {
            config: E::CONFIG.clone(),
            body: Body::App(Arc::new(TypedApp::<E>(PhantomData))),
        }
    }

    /// The endpoint's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Whether this is a load-balancing endpoint (an app that takes HTTP requests) rather than
    /// a queue endpoint (a handler that takes jobs).
    pub fn is_load_balancer(&self) -> bool {
        matches!(self.body, Body::App(_))
    }

    /// The JSON Schema of a queue endpoint's input and output and an example input, as far as
    /// its types say (see [`crate::schema`]); nothing for a load-balancing endpoint.
    pub fn schemas(&self) -> crate::schema::Schemas {
        match &self.body {
            Body::Jobs(h) => h.schemas(),
            Body::App(_) => crate::schema::Schemas::default(),
        }
    }

    /// The Rust path of the endpoint's handle type, e.g. `my_app::scrape`.
    pub fn rust_path(&self) -> &'static str {
        match &self.body {
            Body::Jobs(h) => h.rust_path(),
            Body::App(a) => a.rust_path(),
        }
    }

    /// The version tag of this endpoint's sessions: `<name>@<crate version>`.
    pub fn session_version(&self) -> String {
        let build = match &self.body {
            Body::Jobs(h) => h.build(),
            Body::App(a) => a.build(),
        };
        format!("{}@{build}", self.config.name)
    }

    /// Runs the per-worker initialiser (a no-op without `init`).
    pub fn init(&self) -> BoxFuture<'static, Result<WorkerState, InitError>> {
        match &self.body {
            Body::Jobs(h) => h.init(),
            Body::App(a) => a.init(),
        }
    }

    /// A load-balancing endpoint's app, built from a worker's `state` (from [`Self::init`]).
    /// `None` for a queue endpoint.
    pub fn app(&self, state: &WorkerState) -> Option<axum::Router> {
        match &self.body {
            Body::App(a) => a.app(state),
            Body::Jobs(_) => None,
        }
    }

    /// The handler's future for one job: decodes the input (inside its session envelope, if
    /// any), calls the handler, encodes the output. A panic propagates; runtimes use
    /// [`execute`](super::execute), which catches it and enforces the deadline. A
    /// load-balancing endpoint takes no jobs: its future fails at once, saying so.
    pub fn run(
        &self,
        state: &WorkerState,
        ctx: Ctx,
        input: impl Into<Arc<Value>>,
    ) -> BoxFuture<'static, Result<Value, JobFailure>> {
        match &self.body {
            Body::Jobs(h) => h.run(state.clone(), ctx, input.into()),
            Body::App(_) => {
                let failure = JobFailure::new(
                    FailureKind::Input,
                    format!(
                        "`{}` is a load-balancing endpoint: it serves HTTP requests, not jobs",
                        self.config.name
                    ),
                );
                Box::pin(std::future::ready(Err(failure)))
            }
        }
    }
}
