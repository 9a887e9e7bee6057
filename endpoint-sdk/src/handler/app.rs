//! A load-balancing endpoint as the runtimes see it: the app its function builds (an axum
//! `Router`) from the worker's state, once per worker. `#[endpoint]` on a function returning a
//! `Router` implements [`LoadBalanced`]; the platform (or `app dev`'s balancer) sends the app
//! HTTP requests directly, with no queue and no job.

use std::future::Future;
use std::sync::Arc;

use super::InitError;
use crate::config::EndpointConfig;

/// A load-balancing endpoint: its name, configuration, per-worker state and app. Implemented
/// by `#[endpoint]` on a unit struct named after the function that builds the app.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a load-balancing endpoint",
    note = "a load-balancing endpoint is an `#[endpoint(..)]` function that returns an axum `Router`"
)]
pub trait LoadBalanced: Send + Sync + 'static {
    /// Per-worker state built by `init` (`()` without one).
    type State: Send + Sync + 'static;

    /// The endpoint's name (`name = ..`, or the function's name).
    const NAME: &'static str;
    /// The endpoint's configuration, checked at compile time.
    const CONFIG: &'static EndpointConfig;
    /// The version of the crate that defines the endpoint: the version tag of its sessions.
    const BUILD: &'static str;

    /// Builds the per-worker state; runs once per worker, while the health check answers 204.
    fn init() -> impl Future<Output = Result<Self::State, InitError>> + Send;

    /// Builds the worker's app from its state.
    fn app(state: Arc<Self::State>) -> axum::Router;
}
