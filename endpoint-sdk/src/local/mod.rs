//! The local runtime: every endpoint of the binary on one machine, with the platform's semantics
//! (per-endpoint FIFO queue, simulated workers between `workers.min` and `workers.max`, the
//! scaler, idle timeout, `concurrency`, per-worker `init`, cold starts, execution timeouts, job
//! policies, result retention, webhooks). In-process, no sockets needed; the
//! [`server`](crate::server) puts Runpod's HTTP API in front of it.
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

mod endpoint;
pub mod events;
pub mod scaler;
mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub(crate) use endpoint::{EndpointRuntime, Outcome};
pub use events::{RuntimeEvent, StopReason};

use crate::config::EndpointConfig;
use crate::handler::{Endpoint, EndpointDef};
use crate::job::{JobStatus, StatusObject};

/// A job submission: the body of `/run` and `/runsync`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    /// The job's input (required by the platform).
    pub input: Value,
    /// Called with the final status object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// Per-job execution timeout, TTL and priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// Passed through to the worker, never echoed back.
    #[serde(default, rename = "s3Config", skip_serializing_if = "Option::is_none")]
    pub s3_config: Option<Value>,
    /// The trace this job belongs to (an extension of this SDK; the platform ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

impl From<Value> for RunRequest {
    fn from(input: Value) -> Self {
        RunRequest {
            input,
            ..RunRequest::default()
        }
    }
}

/// A job's execution policy, in the platform's units (milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Overrides the endpoint's execution timeout for this job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_timeout: Option<u64>,
    /// Total lifespan from submission; past it the job is deleted, even mid-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The job does not trigger scaling and is taken after the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_priority: Option<bool>,
}

/// `/health`: job counts and worker counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Job counts.
    pub jobs: HealthJobs,
    /// Worker counts.
    pub workers: HealthWorkers,
}

/// Job counts of `/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthJobs {
    /// Completed since start.
    pub completed: u64,
    /// Failed or timed out since start.
    pub failed: u64,
    /// Running now.
    pub in_progress: u64,
    /// Waiting now.
    pub in_queue: u64,
    /// Retried since start.
    pub retried: u64,
}

/// Worker counts of `/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthWorkers {
    /// Ready, with no job.
    pub idle: u64,
    /// Cold-starting or running `init`.
    pub initializing: u64,
    /// Ready (idle + running).
    pub ready: u64,
    /// Running at least one job.
    pub running: u64,
    /// Never set locally (the platform throttles when GPUs are scarce).
    pub throttled: u64,
    /// 1 while the endpoint's workers fail their `init`, else 0.
    pub unhealthy: u64,
}

/// What the local runtime refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    /// No endpoint has this name.
    #[error("no endpoint named `{name}`; endpoints: {}", known.join(", "))]
    UnknownEndpoint {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// No job has this id (never submitted, or its result expired).
    #[error(
        "no job `{id}` on endpoint `{endpoint}`: it was never submitted, or its result expired"
    )]
    UnknownJob {
        /// The endpoint.
        endpoint: String,
        /// The id asked for.
        id: String,
    },
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// Too many jobs are waiting.
    #[error("the queue of `{endpoint}` is full ({limit} jobs waiting); retry later")]
    QueueFull {
        /// The endpoint.
        endpoint: String,
        /// Its queue limit.
        limit: usize,
    },
    /// `/retry` applies to failed and timed-out jobs only.
    #[error("job `{id}` is {status}: only FAILED and TIMED_OUT jobs can be retried")]
    NotRetryable {
        /// The job.
        id: String,
        /// Its status.
        status: JobStatus,
    },
    /// The runtime needs a Tokio runtime to run its workers.
    #[error("the local runtime must be built inside a Tokio runtime (e.g. in `#[tokio::main]`)")]
    NoTokio,
    /// Two endpoints share a name, or a callee is missing.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

/// Tunables of the local runtime. The defaults are the platform's.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Delay before a simulated worker runs `init` (a cold start). Default: none.
    pub cold_start: Duration,
    /// How long a `/run` job's result is kept. Default: 30 minutes.
    pub run_retention: Duration,
    /// How long a `/runsync` job's result is kept. Default: 1 minute.
    pub sync_retention: Duration,
    /// The most finished results an endpoint keeps: beyond it, the oldest go first, before the
    /// end of their window (so memory stays bounded under any load). At least the last one is
    /// kept. Default: 100 000.
    pub max_retained_results: usize,
    /// A job's lifespan when its policy has no `ttl`. Default: 24 hours.
    pub default_ttl: Duration,
    /// An external worker is lost when it neither pings nor takes jobs for this long.
    /// Default: 30 s (three missed pings at the platform's 10 s interval).
    pub lost_after: Duration,
    /// Attempts a job gets when its worker is lost; after the last one it fails. Default: 3.
    pub max_attempts: u32,
    /// How long a `job-take` long poll waits for a job before answering 204. Default: 20 s.
    pub take_wait: Duration,
    /// Overrides every endpoint's idle timeout (tests). Default: the endpoint's own.
    pub idle_timeout: Option<Duration>,
    /// Overrides the queue limit (default `max(50, 500 × max workers)`).
    pub queue_limit: Option<usize>,
    /// Housekeeping interval. Default: 50 ms.
    pub tick: Duration,
    /// How often expired jobs and results are swept. Default: 1 s.
    pub sweep_every: Duration,
    /// Webhook attempts after the first. Default: 2.
    pub webhook_retries: u32,
    /// Delay between webhook attempts. Default: 10 s.
    pub webhook_retry_delay: Duration,
    /// Where jobs keep their sessions. Default: this process's memory.
    pub sessions: crate::session::Sessions,
    /// How long a job of a session waits for the worker holding that session (if it is alive
    /// and busy) before any worker may take it. Default: 2 s.
    pub affinity_wait: Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cold_start: Duration::ZERO,
            run_retention: Duration::from_secs(30 * 60),
            sync_retention: Duration::from_secs(60),
            max_retained_results: 100_000,
            default_ttl: Duration::from_secs(24 * 3600),
            lost_after: Duration::from_secs(30),
            max_attempts: 3,
            take_wait: Duration::from_secs(20),
            idle_timeout: None,
            queue_limit: None,
            tick: Duration::from_millis(50),
            sweep_every: Duration::from_secs(1),
            webhook_retries: 2,
            webhook_retry_delay: Duration::from_secs(10),
            sessions: crate::session::Sessions::memory(),
            affinity_wait: Duration::from_secs(2),
        }
    }
}

/// State shared by every endpoint of one runtime.
pub(crate) struct Shared {
    pub(crate) options: RuntimeOptions,
    pub(crate) events: broadcast::Sender<RuntimeEvent>,
    /// `app dev`'s log, once it started.
    pub(crate) log: std::sync::OnceLock<Arc<events::LogQueue>>,
    /// The runtime itself, for the in-process calls of the jobs it runs.
    pub(crate) runtime: std::sync::OnceLock<std::sync::Weak<RuntimeHandle>>,
}

impl Shared {
    /// Whether anyone subscribed to the runtime's events (if not, the events of a job's queueing
    /// and start are not made).
    pub(crate) fn listening(&self) -> bool {
        self.events.receiver_count() > 0
    }

    /// Whether a job's end makes an event: someone subscribed, or the log runs.
    pub(crate) fn listening_to_ends(&self) -> bool {
        self.listening() || self.log.get().is_some()
    }

    /// Sends an event to the subscribers and, if it makes a line, to the log.
    pub(crate) fn emit(&self, e: RuntimeEvent) {
        match self.log.get().filter(|_| e.logged()) {
            Some(log) => {
                if self.listening() {
                    let _ = self.events.send(e.clone());
                }
                log.push(events::LogItem::Event(e));
            }
            None => {
                let _ = self.events.send(e);
            }
        }
    }

    /// Reports a job's end: as an event to the subscribers, as it is to the log.
    pub(crate) fn job_finished(&self, f: events::FinishedJob) {
        if self.listening() {
            let _ = self.events.send(f.to_event());
        }
        if let Some(log) = self.log.get() {
            log.push(events::LogItem::JobFinished(f));
        }
    }

    /// Reports what a transition recorded, in order.
    pub(crate) fn report(&self, item: events::LogItem) {
        match item {
            events::LogItem::Event(e) => self.emit(e),
            events::LogItem::JobFinished(f) => self.job_finished(f),
        }
    }

    /// Posts a final status to a webhook, with the platform's retries.
    pub(crate) fn send_webhook(&self, url: String, body: StatusObject) {
        let retries = self.options.webhook_retries;
        let delay = self.options.webhook_retry_delay;
        tokio::spawn(async move {
            let client = crate::http::client();
            for attempt in 0..=retries {
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) => tracing::warn!(%url, status = %r.status(), attempt, "webhook refused"),
                    Err(e) => tracing::warn!(%url, error = %e, attempt, "webhook failed"),
                }
                if attempt < retries {
                    tokio::time::sleep(delay).await;
                }
            }
        });
    }
}

/// Builds a [`LocalRuntime`].
#[derive(Default)]
pub struct LocalRuntimeBuilder {
    defs: Vec<EndpointDef>,
    external: Vec<EndpointConfig>,
    served_externally: Vec<String>,
    options: RuntimeOptions,
    events: Option<broadcast::Sender<RuntimeEvent>>,
    log: Option<Arc<events::LogQueue>>,
}

impl LocalRuntimeBuilder {
    /// Hosts endpoint `E`.
    pub fn endpoint<E: Endpoint>(self) -> Self {
        self.definition(EndpointDef::of::<E>())
    }

    /// Hosts an endpoint definition (e.g. one whose config a test adjusted).
    pub fn definition(mut self, def: EndpointDef) -> Self {
        self.defs.push(def);
        self
    }

    /// Hosts every endpoint registered in the binary.
    pub fn registry(mut self) -> Self {
        self.defs.extend(crate::registry::endpoints());
        self
    }

    /// Hosts an endpoint whose handler is not in this binary: only external workers (e.g. the
    /// official Python worker) attached over the job API run its jobs.
    pub fn external_endpoint(mut self, config: EndpointConfig) -> Self {
        self.external.push(config);
        self
    }

    /// Runs no simulated workers for endpoint `name`: external workers serve it.
    pub fn served_externally(mut self, name: impl Into<String>) -> Self {
        self.served_externally.push(name.into());
        self
    }

    /// Where jobs keep their sessions (e.g. a Redis store shared with external workers).
    pub fn sessions(mut self, sessions: crate::session::Sessions) -> Self {
        self.options.sessions = sessions;
        self
    }

    /// Simulated cold start before each worker's `init`.
    pub fn cold_start(mut self, delay: Duration) -> Self {
        self.options.cold_start = delay;
        self
    }

    /// Every tunable at once.
    pub fn options(mut self, options: RuntimeOptions) -> Self {
        self.options = options;
        self
    }

    /// Adjusts the tunables.
    pub fn with_options(mut self, f: impl FnOnce(&mut RuntimeOptions)) -> Self {
        f(&mut self.options);
        self
    }

    /// Subscribes to the runtime's events before it starts, so that the first ones (the
    /// minimum workers starting) are not missed.
    pub fn events(&mut self) -> broadcast::Receiver<RuntimeEvent> {
        self.events
            .get_or_insert_with(|| broadcast::channel(16_384).0)
            .subscribe()
    }

    /// The queue of `app dev`'s log, in place before the first worker starts (so its line is
    /// not missed).
    pub(crate) fn log_queue(&mut self) -> Arc<events::LogQueue> {
        self.log
            .get_or_insert_with(|| Arc::new(events::LogQueue::new()))
            .clone()
    }

    /// Starts the runtime. Must be called inside a Tokio runtime.
    pub fn build(self) -> Result<LocalRuntime, RuntimeError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RuntimeError::NoTokio);
        }
        crate::registry::check(&self.defs)?;
        let events = self.events.unwrap_or_else(|| broadcast::channel(16_384).0);
        let shared = Arc::new(Shared {
            options: self.options,
            events,
            log: self.log.map(std::sync::OnceLock::from).unwrap_or_default(),
            runtime: std::sync::OnceLock::new(),
        });
        let shutdown = CancellationToken::new();
        let mut endpoints = BTreeMap::new();
        let all = self
            .defs
            .into_iter()
            .map(|d| (d.config.clone(), Some(d)))
            .chain(self.external.into_iter().map(|c| (c, None)));
        for (config, def) in all {
            let name = config.name.to_string();
            let simulate = def.is_some() && !self.served_externally.contains(&name);
            let ep = Arc::new(EndpointRuntime::new(config, def, simulate, shared.clone()));
            endpoints.insert(name, ep);
        }
        let handle = Arc::new(RuntimeHandle {
            endpoints,
            shared: shared.clone(),
            shutdown: shutdown.clone(),
        });
        // Set before any worker starts: a worker takes the runtime from here for its calls.
        let _ = shared.runtime.set(Arc::downgrade(&handle));
        for ep in handle.endpoints.values() {
            tokio::spawn(janitor(ep.clone(), shutdown.clone()));
        }
        Ok(LocalRuntime { inner: handle })
    }
}

async fn janitor(ep: Arc<EndpointRuntime>, shutdown: CancellationToken) {
    let tick = ep.shared.options.tick;
    loop {
        for _ in 0..ep.tick() {
            let (id, stop) = ep.add_simulated_worker();
            tokio::spawn(worker::run(ep.clone(), id, stop));
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = ep.wake.notified() => {}
            _ = shutdown.cancelled() => {
                ep.shutdown();
                return;
            }
        }
    }
}

/// The shared core of a [`LocalRuntime`] (a [`Weak`](std::sync::Weak) reference to it lets
/// in-process calls not keep the runtime alive).
pub struct RuntimeHandle {
    endpoints: BTreeMap<String, Arc<EndpointRuntime>>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
}

impl Drop for RuntimeHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The local runtime. Cheap to clone; stops its workers when the last clone is dropped or on
/// [`LocalRuntime::shutdown`].
#[derive(Clone)]
pub struct LocalRuntime {
    inner: Arc<RuntimeHandle>,
}

impl LocalRuntime {
    /// Starts building a runtime.
    pub fn builder() -> LocalRuntimeBuilder {
        LocalRuntimeBuilder::default()
    }

    pub(crate) fn weak(&self) -> std::sync::Weak<RuntimeHandle> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn from_handle(inner: Arc<RuntimeHandle>) -> Self {
        LocalRuntime { inner }
    }

    /// A client that calls into this runtime in-process.
    pub fn client(&self) -> crate::client::Client {
        crate::client::Client::local(self)
    }

    /// A runtime hosting every endpoint registered in the binary, with the default options.
    pub fn from_registry() -> Result<LocalRuntime, RuntimeError> {
        LocalRuntime::builder().registry().build()
    }

    pub(crate) fn endpoint(&self, name: &str) -> Result<&Arc<EndpointRuntime>, RuntimeError> {
        self.inner
            .endpoints
            .get(name)
            .ok_or_else(|| RuntimeError::UnknownEndpoint {
                name: name.to_string(),
                known: self.inner.endpoints.keys().cloned().collect(),
            })
    }

    /// The hosted endpoints' configurations, sorted by name.
    pub fn configs(&self) -> Vec<&EndpointConfig> {
        self.inner.endpoints.values().map(|e| &e.config).collect()
    }

    /// The runtime's tunables.
    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.shared.options
    }

    /// Subscribes to what happens in the runtime from now on.
    pub fn events(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.inner.shared.events.subscribe()
    }

    /// Queues a job (`/run`); returns its id.
    pub fn submit(&self, endpoint: &str, request: RunRequest) -> Result<String, RuntimeError> {
        if let Some(p) = &request.policy {
            p.validate().map_err(RuntimeError::BadRequest)?;
        }
        self.endpoint(endpoint)?.submit(request, false)
    }

    /// Queues a job and waits up to `wait` for it (`/runsync`). Returns the final status
    /// object, or the job's current (unfinished) status when the wait ran out.
    pub async fn run_sync(
        &self,
        endpoint: &str,
        request: RunRequest,
        wait: Duration,
    ) -> Result<StatusObject, RuntimeError> {
        if let Some(p) = &request.policy {
            p.validate().map_err(RuntimeError::BadRequest)?;
        }
        let ep = self.endpoint(endpoint)?;
        let (id, direct) = ep.submit_direct(request)?;
        let Some(d) = direct else {
            return ep.wait(&id, wait).await;
        };
        // Started on a free slot: run it here rather than hand it to the worker's task and wait
        // to be told it ended (it moves to a task of its own if this wait ends first).
        let def = ep
            .def
            .clone()
            .expect("a simulated endpoint has its definition");
        let job = worker::Detachable::new(worker::run_job(
            ep.clone(),
            def,
            d.runner,
            d.job,
            d.slot,
            true,
        ));
        match tokio::time::timeout(wait, job).await {
            Ok(Some(status)) => Ok(status),
            // Still running (it goes on in a task of its own), or ended elsewhere.
            _ => ep.status(&id),
        }
    }

    /// A job's status object (`/status/{id}`).
    pub fn status(&self, endpoint: &str, id: &str) -> Result<StatusObject, RuntimeError> {
        self.endpoint(endpoint)?.status(id)
    }

    /// Waits up to `timeout` for a job to finish; returns its status either way.
    pub async fn wait(
        &self,
        endpoint: &str,
        id: &str,
        timeout: Duration,
    ) -> Result<StatusObject, RuntimeError> {
        self.endpoint(endpoint)?.wait(id, timeout).await
    }

    /// Cancels a queued or running job (`/cancel/{id}`).
    pub fn cancel(&self, endpoint: &str, id: &str) -> Result<StatusObject, RuntimeError> {
        self.endpoint(endpoint)?.cancel(id)
    }

    /// Queues a failed or timed-out job again, same id and input (`/retry/{id}`).
    pub fn retry(&self, endpoint: &str, id: &str) -> Result<StatusObject, RuntimeError> {
        self.endpoint(endpoint)?.retry(id)
    }

    /// Removes every queued job (`/purge-queue`); running jobs go on. Returns how many.
    pub fn purge_queue(&self, endpoint: &str) -> Result<usize, RuntimeError> {
        Ok(self.endpoint(endpoint)?.purge_queue())
    }

    /// Stream chunks produced since the last call (`/stream/{id}`), and the job's status.
    pub fn stream(
        &self,
        endpoint: &str,
        id: &str,
    ) -> Result<(JobStatus, Vec<Value>), RuntimeError> {
        self.endpoint(endpoint)?.stream(id)
    }

    /// Job and worker counts (`/health`).
    pub fn health(&self, endpoint: &str) -> Result<Health, RuntimeError> {
        Ok(self.endpoint(endpoint)?.health())
    }

    /// Stops every worker and the housekeeping tasks.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }
}
