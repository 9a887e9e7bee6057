//! The local runtime's public face: [`LocalRuntime`], Runpod's public endpoint API as methods.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

mod builder;
mod load_balancing;
mod transport;
mod worker_api;

pub use builder::LocalRuntimeBuilder;
pub use transport::LocalTransport;

use super::shared::Shared;
use super::shell::LocalEndpoint;
use super::simulated::{Detachable, run_job};
use super::state::{Direct, JobId};
use super::{RuntimeError, RuntimeEvent, RuntimeOptions};
use crate::client::Client;
use crate::config::EndpointConfig;
use crate::protocol::{Health, JobStatus, RunRequest, StatusObject};

/// The shared core of a [`LocalRuntime`] (a [`Weak`](std::sync::Weak) reference to it lets
/// in-process calls not keep the runtime alive).
pub struct RuntimeHandle {
    pub(crate) endpoints: BTreeMap<String, Arc<LocalEndpoint>>,
    /// The load-balancing endpoints, each behind its balancer.
    pub(crate) balancers: BTreeMap<String, Arc<super::balancer::Balancer>>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: CancellationToken,
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

/// A queue endpoint's simulated GPU memory ([`LocalRuntime::gpu_memory`]), in GB (GiB, as GPU
/// memory is counted).
#[derive(Debug, Clone, serde::Serialize)]
pub struct GpuMemory {
    /// The model's weights, held by every worker.
    pub weights_gb: f64,
    /// The KV cache of one session (one job in flight).
    pub per_session_gb: f64,
    /// Sessions the budget holds per worker.
    pub sessions: u32,
    /// Weights and every session's cache: what each worker's cards must give.
    pub budget_gb: f64,
    /// Each simulated worker's use now.
    pub workers: Vec<WorkerMemory>,
}

/// One worker's simulated GPU memory use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkerMemory {
    /// The worker.
    pub worker: String,
    /// Sessions in flight (jobs running).
    pub sessions: u32,
    /// Weights + sessions × the per-session cache.
    pub used_gb: f64,
}

impl LocalRuntime {
    /// Starts building a runtime.
    pub fn builder() -> LocalRuntimeBuilder {
        LocalRuntimeBuilder::default()
    }

    /// A runtime hosting every endpoint registered in the binary, with the default options.
    pub fn from_registry() -> Result<LocalRuntime, RuntimeError> {
        LocalRuntime::builder().registry().build()
    }

    pub(crate) fn from_handle(inner: Arc<RuntimeHandle>) -> Self {
        LocalRuntime { inner }
    }

    pub(crate) fn weak(&self) -> std::sync::Weak<RuntimeHandle> {
        Arc::downgrade(&self.inner)
    }

    /// A client that calls into this runtime in-process.
    pub fn client(&self) -> Client {
        Client::with_transport(Arc::new(LocalTransport::new(self)))
    }

    pub(crate) fn endpoint(&self, name: &str) -> Result<&Arc<LocalEndpoint>, RuntimeError> {
        if let Some(ep) = self.inner.endpoints.get(name) {
            return Ok(ep);
        }
        if self.inner.balancers.contains_key(name) {
            return Err(RuntimeError::LoadBalancing {
                name: name.to_string(),
            });
        }
        Err(self.unknown(name))
    }

    fn unknown(&self, name: &str) -> RuntimeError {
        let mut known: Vec<String> = self.inner.endpoints.keys().cloned().collect();
        known.extend(self.inner.balancers.keys().cloned());
        known.sort();
        RuntimeError::UnknownEndpoint {
            name: name.to_string(),
            known,
        }
    }

    /// The hosted endpoints' configurations, sorted by name.
    pub fn configs(&self) -> Vec<&EndpointConfig> {
        let mut all: Vec<&EndpointConfig> = self
            .inner
            .endpoints
            .values()
            .map(|e| &*e.config)
            .chain(self.inner.balancers.values().map(|b| &b.def().config))
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// What queue endpoint `name`'s types say of its input and output (see
    /// [`crate::schema`]); nothing for an endpoint it does not host or knows no types of.
    pub fn schemas(&self, name: &str) -> crate::schema::Schemas {
        self.inner
            .endpoints
            .get(name)
            .and_then(|e| e.def.as_ref())
            .map(crate::EndpointDef::schemas)
            .unwrap_or_default()
    }

    /// The runtime's tunables.
    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.shared.options
    }

    /// Subscribes to what happens in the runtime from now on.
    pub fn events(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.inner.shared.sinks.subscribe()
    }

    /// Queues a job (`/run`); returns its id.
    pub fn submit(&self, endpoint: &str, request: RunRequest) -> Result<String, RuntimeError> {
        if let Some(p) = &request.policy {
            p.validate()?;
        }
        Ok(self.endpoint(endpoint)?.submit(request)?.to_string())
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
            p.validate()?;
        }
        let ep = self.endpoint(endpoint)?;
        let (id, direct) = ep.submit_sync(request)?;
        let Some(d) = direct else {
            return ep.wait(&id, wait).await;
        };
        // Started on a free slot: run it here rather than hand it to the worker's task and wait
        // to be told it ended (it moves to a task of its own if this wait ends first).
        run_for(ep, &id, wait, run_here(ep, d)).await
    }

    /// Runs a job for an in-process call: on a free slot, it starts at once and runs in the
    /// caller's task (no hand-off to the worker's task, nobody to wake) for up to `wait`, then
    /// in a task of its own; otherwise it is queued. Returns its status, final or current. A
    /// job dropped before it ends is cancelled, as the caller's handle would cancel it. The job
    /// is submitted before this returns, with its id; the future runs it.
    pub(crate) fn run_for_call(
        &self,
        endpoint: &str,
        request: RunRequest,
        wait: Duration,
    ) -> Result<
        (
            JobId,
            impl Future<Output = Result<StatusObject, RuntimeError>> + Send + 'static + use<>,
        ),
        RuntimeError,
    > {
        if let Some(p) = &request.policy {
            p.validate()?;
        }
        let ep = self.endpoint(endpoint)?.clone();
        let (id, direct) = ep.submit_sync(request)?;
        // Made now, not on the first poll: a future dropped unpolled still cancels its job.
        let started = direct.map(|d| {
            let guard = CancelUnlessEnded {
                ep: ep.clone(),
                id: Some(id.clone()),
            };
            (guard, run_here(&ep, d))
        });
        Ok((id.clone(), async move {
            let Some((guard, job)) = started else {
                return ep.status(&id);
            };
            let status = run_for(&ep, &id, wait, job).await;
            guard.disarm();
            status
        }))
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

    /// Like [`stream`](Self::stream), waiting up to `wait` for the first unread chunk or the
    /// job's end (`/stream/{id}?wait=`).
    pub async fn stream_wait(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> Result<(JobStatus, Vec<Value>), RuntimeError> {
        self.endpoint(endpoint)?.stream_wait(id, wait).await
    }

    /// Everything the runtime knows of job `id` of `endpoint` (the dashboard's job page).
    pub fn job_detail(
        &self,
        endpoint: &str,
        id: &str,
    ) -> Result<crate::local::JobDetail, RuntimeError> {
        self.endpoint(endpoint)?.detail(id)
    }

    /// The `limit` most recent jobs the runtime holds, across its endpoints, newest first.
    pub fn recent_jobs(&self, limit: usize) -> Vec<crate::local::JobSummary> {
        let mut all: Vec<crate::local::JobSummary> = self
            .inner
            .endpoints
            .values()
            .flat_map(|e| e.recent(limit))
            .collect();
        all.sort_by_key(|j| j.age);
        all.truncate(limit);
        all
    }

    /// Job and worker counts (`/health`); for a load-balancing endpoint, its requests in
    /// flight and waiting, and its workers.
    pub fn health(&self, endpoint: &str) -> Result<Health, RuntimeError> {
        if let Some(b) = self.inner.balancers.get(endpoint) {
            return Ok(b.health());
        }
        Ok(self.endpoint(endpoint)?.health())
    }

    /// The simulated GPU memory of a queue endpoint's workers, from its `model(..)` budget:
    /// weights, plus the KV cache of each job in flight (a session each). `None` without
    /// `model(..)`.
    pub fn gpu_memory(&self, endpoint: &str) -> Result<Option<GpuMemory>, RuntimeError> {
        let ep = self.endpoint(endpoint)?;
        let Some(m) = ep.config.model.as_ref() else {
            return Ok(None);
        };
        let b = m.budget();
        let workers = ep
            .running_per_worker()
            .into_iter()
            .map(|(worker, running)| WorkerMemory {
                worker: worker.to_string(),
                sessions: running as u32,
                used_gb: b.weights_gib + running as f64 * b.kv_per_session_gib,
            })
            .collect();
        Ok(Some(GpuMemory {
            weights_gb: b.weights_gib,
            per_session_gb: b.kv_per_session_gib,
            sessions: m.sessions,
            budget_gb: b.needed_gib,
            workers,
        }))
    }

    /// Stops every worker and the housekeeping tasks.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }
}

/// A job started on a free slot (`Direct`), to run in the task that awaits it.
fn run_here(ep: &Arc<LocalEndpoint>, d: Direct) -> Detachable<Option<StatusObject>> {
    let def = ep
        .def
        .clone()
        .expect("a simulated endpoint has its definition");
    Detachable::new(run_job(ep.clone(), def, d.runner, d.job, d.slot, true))
}

/// Runs `job` for up to `wait`; its final status, or its current one when it is still running
/// (in a task of its own from then on) or ended elsewhere.
async fn run_for(
    ep: &LocalEndpoint,
    id: &str,
    wait: Duration,
    job: Detachable<Option<StatusObject>>,
) -> Result<StatusObject, RuntimeError> {
    match tokio::time::timeout(wait, job).await {
        Ok(Some(status)) => Ok(status),
        _ => ep.status(id),
    }
}

/// Cancels a job of an in-process call whose future was dropped before the job ended.
struct CancelUnlessEnded {
    ep: Arc<LocalEndpoint>,
    id: Option<JobId>,
}

impl CancelUnlessEnded {
    fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for CancelUnlessEnded {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = self.ep.cancel(&id);
        }
    }
}
