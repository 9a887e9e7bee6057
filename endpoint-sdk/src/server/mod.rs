//! The local runtime behind Runpod's own HTTP API: the public endpoint API (`/v2/{endpoint}/run`,
//! `runsync`, `status`, `stream`, `cancel`, `retry`, `purge-queue`, `health`), load-balancing
//! endpoints' requests through the local balancer (`/lb/{endpoint}/<path>`), and the
//! worker-facing job API (`job-take`, `job-take-batch`, `job-done`, `job-stream`, `ping`,
//! `job-stop`), so that clients and workers written for the platform, ours or the official
//! Python SDK, run against it unchanged.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use endpoint_sdk::local::LocalRuntime;
//! use endpoint_sdk::server::Server;
//!
//! let runtime = LocalRuntime::from_registry().expect("endpoints are consistent");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! Server::new(runtime).api_key(Some("secret".into())).serve(listener, std::future::pending()).await
//! # }
//! ```

mod auth;
mod dashboard;
mod error;
mod job_api;
mod lb;
mod limits;
mod listen;
mod public;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
pub use limits::ServerLimits;

use crate::local::LocalRuntime;
use crate::simulate::Scenario;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) runtime: LocalRuntime,
    pub(crate) api_key: Option<Arc<str>>,
    pub(crate) stop: CancellationToken,
    /// The scenario `/_dev/simulate` runs (the default one when `None`).
    pub(crate) scenario: Option<Arc<Scenario>>,
    /// The longest a client may take to send a request's body.
    pub(crate) body_read_timeout: std::time::Duration,
}

/// The HTTP server in front of a [`LocalRuntime`].
pub struct Server {
    runtime: LocalRuntime,
    api_key: Option<String>,
    scenario: Option<Arc<Scenario>>,
    limits: ServerLimits,
}

impl Server {
    /// A server for `runtime`, without an API key.
    pub fn new(runtime: LocalRuntime) -> Self {
        Server {
            runtime,
            api_key: None,
            scenario: None,
            limits: ServerLimits::default(),
        }
    }

    /// The limits each client gets ([`ServerLimits`]: connections, header and body deadlines).
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Requires `Authorization: Bearer <key>` on the public API (workers may send the raw key,
    /// as the platform's workers do). `None` leaves the API open.
    pub fn api_key(mut self, key: Option<String>) -> Self {
        self.api_key = key.filter(|k| !k.is_empty());
        self
    }

    /// The scenario the dashboard's simulation (`/_dev/simulate`) runs; the default one
    /// otherwise.
    pub fn scenario(mut self, scenario: Option<Scenario>) -> Self {
        self.scenario = scenario.map(Arc::new);
        self
    }

    /// The routes, for embedding in another axum application.
    pub fn router(&self) -> Router {
        self.router_with(CancellationToken::new())
    }

    fn router_with(&self, stop: CancellationToken) -> Router {
        let state = AppState {
            runtime: self.runtime.clone(),
            api_key: self.api_key.as_deref().map(Arc::from),
            stop,
            scenario: self.scenario.clone(),
            body_read_timeout: self.limits.body_read_timeout,
        };
        let public = Router::new()
            .route("/v2/{endpoint}/run", post(public::run))
            .route("/v2/{endpoint}/runsync", post(public::runsync))
            .route(
                "/v2/{endpoint}/status/{id}",
                get(public::status).post(public::status),
            )
            .route(
                "/v2/{endpoint}/status-sync/{id}",
                get(public::status_sync).post(public::status_sync),
            )
            .route(
                "/v2/{endpoint}/stream/{id}",
                get(public::stream).post(public::stream),
            )
            .route("/v2/{endpoint}/cancel/{id}", post(public::cancel))
            .route("/v2/{endpoint}/retry/{id}", post(public::retry))
            .route("/v2/{endpoint}/purge-queue", post(public::purge_queue))
            .route("/v2/{endpoint}/health", get(public::health))
            // A job's input and output: behind the key, like its status.
            .route("/_dev/jobs/{endpoint}/{id}", get(dashboard::job));
        let workers = Router::new()
            .route("/v2/{endpoint}/job-take/{worker}", get(job_api::take))
            .route(
                "/v2/{endpoint}/job-take-batch/{worker}",
                get(job_api::take_batch),
            )
            .route(
                "/v2/{endpoint}/job-done/{worker}/{job}",
                post(job_api::done),
            )
            .route(
                "/v2/{endpoint}/job-stream/{worker}/{job}",
                post(job_api::stream),
            )
            .route("/v2/{endpoint}/ping/{worker}", get(job_api::ping))
            .route("/v2/{endpoint}/job-stop/{worker}", get(job_api::stop));
        // Errors of the API are JSON, axum's own rejections included.
        let errors = || axum::middleware::from_fn(error::json_errors);
        let (public, workers) = (public.layer(errors()), workers.layer(errors()));
        // Without a key there is nothing to check: no layer, no cost per request.
        let (public, workers) = if state.api_key.is_some() {
            let guard = || axum::middleware::from_fn_with_state(state.clone(), auth::require_key);
            (public.route_layer(guard()), workers.route_layer(guard()))
        } else {
            (public, workers)
        };
        Router::new()
            .route("/", get(dashboard::root))
            .route("/_dev/state", get(dashboard::state))
            .route("/_dev/events", get(dashboard::events))
            .route("/_dev/simulate", get(dashboard::simulate))
            .route("/metrics", get(public::metrics))
            .merge(public)
            .merge(workers)
            // Load-balancing requests (`/lb/{endpoint}/..`) go through the fallback: a matched
            // route would leave its path parameters in the request, where the app's own
            // `Path` extractors would find them.
            .fallback(lb::fallback)
            // Bodies are read with per-route limits (10 MB /run, 20 MB /runsync and results).
            .layer(DefaultBodyLimit::disable())
            .with_state(state)
    }

    /// Serves until `shutdown` completes, then stops taking requests and answers pending long
    /// polls. The runtime keeps running (another server may serve it); stop it with
    /// [`LocalRuntime::shutdown`].
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = CancellationToken::new();
        let app = self.router_with(stop.clone());
        let stopping = stop.clone();
        let result = listen::serve(listener, app, &self.limits, async move {
            shutdown.await;
            stopping.cancel();
        })
        .await;
        stop.cancel();
        result
    }
}
