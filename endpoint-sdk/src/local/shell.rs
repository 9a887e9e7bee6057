//! The async shell around one endpoint's state machine: the state behind a lock, the
//! notifications that wake waiting workers and readers, and the effects of each transition
//! carried out once the lock is released. Simulated workers and external workers (over the
//! HTTP job API) take and finish jobs through the same methods.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::RuntimeError;
use super::inspect::{JobDetail, JobSummary};
use super::shared::Shared;
use super::state::stream::{self, UNREAD_HARD_LIMIT, UNREAD_LIMIT};
use super::state::{ChunkTaken, JobReport};
use super::state::{Direct, Effects, EndpointState, JobId, Runner, Settings, TakenJob};
use crate::config::EndpointConfig;
use crate::handler::EndpointDef;
use crate::handler::backlog::Backlog;
use crate::protocol::{Health, JobStatus, RunRequest, StatusObject};

/// One endpoint of the local runtime.
pub(crate) struct LocalEndpoint {
    pub(crate) config: Arc<EndpointConfig>,
    pub(crate) def: Option<EndpointDef>,
    pub(crate) shared: Arc<Shared>,
    name: Arc<str>,
    simulate: bool,
    state: Mutex<EndpointState>,
    job_ready: Notify,
    stops_ready: Notify,
    /// Wakes the janitor (a job may need a worker now).
    pub(crate) wake: Notify,
    /// Workers waiting for a job now: a new job goes straight to one of them, and the janitor
    /// need not be woken to scale.
    waiting_takers: AtomicUsize,
    /// Stream chunks written by its jobs (the process's metrics).
    chunks: prometheus_client::metrics::counter::Counter,
}

/// Counts a worker waiting for a job while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl LocalEndpoint {
    pub(crate) fn new(
        config: EndpointConfig,
        def: Option<EndpointDef>,
        simulate: bool,
        shared: Arc<Shared>,
    ) -> Self {
        let settings = Arc::new(Settings::new(&config, &shared.options, simulate));
        LocalEndpoint {
            chunks: crate::metrics::global().stream_chunks(&settings.name),
            name: settings.name.clone(),
            simulate,
            state: Mutex::new(EndpointState::new(settings, Instant::now())),
            config: Arc::new(config),
            def,
            shared,
            job_ready: Notify::new(),
            stops_ready: Notify::new(),
            wake: Notify::new(),
            waiting_takers: AtomicUsize::new(0),
        }
    }

    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn lock(&self) -> MutexGuard<'_, EndpointState> {
        // A panic while holding the lock cannot leave a half-made transition visible: every
        // transition is written so the state stays consistent at each statement.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a transition under the lock and carries out its effects after it.
    fn transition<T>(&self, f: impl FnOnce(&mut EndpointState, Instant, &mut Effects) -> T) -> T {
        let sinks = &self.shared.sinks;
        let mut fx = Effects::new(sinks.wants_job_starts(), sinks.wants_job_ends());
        let out = {
            let mut st = self.lock();
            f(&mut st, Instant::now(), &mut fx)
        };
        self.apply(fx);
        out
    }

    fn apply(&self, fx: Effects) {
        for e in fx.events {
            self.shared.sinks.emit(e);
        }
        for (url, body) in fx.webhooks {
            self.shared.send_webhook(url, body);
        }
        for stop in fx.stopped {
            stop.cancel();
        }
        if fx.stops_ready {
            self.stops_ready.notify_waiters();
        }
        if fx.jobs_ready {
            self.job_ready.notify_one();
        }
        // No worker is waiting for a job: the scaler may start one now rather than at its next
        // tick.
        if fx.wake_scaler && self.waiting_takers.load(Ordering::Relaxed) == 0 {
            self.wake.notify_one();
        }
        drop(fx.dropped);
    }

    fn unknown_job(&self, id: &str) -> RuntimeError {
        RuntimeError::UnknownJob {
            endpoint: self.name.to_string(),
            id: id.to_string(),
        }
    }

    // ------------------------------------------------------------ the public API

    pub(crate) fn submit(&self, req: RunRequest) -> Result<JobId, RuntimeError> {
        self.transition(|st, now, fx| st.enqueue(now, req, false, false, fx))
            .map(|(id, _)| id)
    }

    /// Submits a `/runsync` job; see [`EndpointState::enqueue`] for when it starts at once.
    pub(crate) fn submit_sync(
        &self,
        req: RunRequest,
    ) -> Result<(JobId, Option<Direct>), RuntimeError> {
        let direct = self.simulate;
        self.transition(|st, now, fx| st.enqueue(now, req, true, direct, fx))
    }

    pub(crate) fn status(&self, id: &str) -> Result<StatusObject, RuntimeError> {
        self.lock()
            .status(id, Instant::now())
            .ok_or_else(|| self.unknown_job(id))
    }

    /// Waits until the job is final or `timeout` passes; returns its status either way.
    pub(crate) async fn wait(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<StatusObject, RuntimeError> {
        let mut rx = {
            let mut st = self.lock();
            let now = Instant::now();
            let job = st.jobs.get_mut(id).ok_or_else(|| self.unknown_job(id))?;
            if job.status.is_final() {
                return Ok(job.status_object(now));
            }
            let status = job.status;
            job.notify
                .get_or_insert_with(|| watch::channel(status).0)
                .subscribe()
        };
        let until = deadline_in(timeout);
        loop {
            if rx.borrow_and_update().is_final() {
                break;
            }
            match tokio::time::timeout_at(until, rx.changed()).await {
                Ok(Ok(())) => continue,
                // The record was dropped (TTL) or the wait is over.
                Ok(Err(_)) | Err(_) => break,
            }
        }
        self.status(id)
    }

    pub(crate) fn cancel(&self, id: &str) -> Result<StatusObject, RuntimeError> {
        let st = self.transition(|st, now, fx| st.cancel(id, now, fx));
        self.wake.notify_one();
        st.ok_or_else(|| self.unknown_job(id))
    }

    pub(crate) fn retry(&self, id: &str) -> Result<StatusObject, RuntimeError> {
        self.transition(|st, now, fx| st.retry(id, now, fx))
    }

    pub(crate) fn purge_queue(&self) -> usize {
        self.transition(|st, now, fx| st.purge(now, fx))
    }

    pub(crate) fn stream(&self, id: &str) -> Result<(JobStatus, Vec<Value>), RuntimeError> {
        self.lock()
            .read_stream(id, Instant::now())
            .ok_or_else(|| self.unknown_job(id))
    }

    /// The stream's unread chunks, waiting up to `wait` for the first of them or the job's end:
    /// a long poll that answers the moment there is something to say.
    pub(crate) async fn stream_wait(
        &self,
        id: &str,
        wait: Duration,
    ) -> Result<(JobStatus, Vec<Value>), RuntimeError> {
        let until = deadline_in(wait);
        loop {
            let readers = {
                let mut st = self.lock();
                let job = st.jobs.get_mut(id).ok_or_else(|| self.unknown_job(id))?;
                job.stream_notify
                    .get_or_insert_with(Default::default)
                    .clone()
            };
            // Registered before reading, so a chunk that comes in between still wakes it.
            let woken = readers.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let (status, chunks) = self.stream(id)?;
            if !chunks.is_empty() || status.is_final() || Instant::now() >= until {
                return Ok((status, chunks));
            }
            tokio::select! {
                _ = &mut woken => {}
                _ = tokio::time::sleep_until(until) => return self.stream(id),
            }
        }
    }

    pub(crate) fn health(&self) -> Health {
        self.lock().health()
    }

    /// Each simulated worker and the jobs it runs now.
    pub(crate) fn running_per_worker(&self) -> Vec<(Arc<str>, usize)> {
        let st = self.lock();
        st.workers
            .iter()
            .filter(|(_, w)| !w.external)
            .map(|(id, w)| (id.clone(), w.running.len()))
            .collect()
    }

    // ------------------------------------------------------------ the worker side

    /// Takes up to `max` queued jobs for `worker`, without waiting.
    pub(crate) fn take(&self, worker: &str, max: usize, external: bool) -> Vec<TakenJob> {
        self.transition(|st, now, fx| st.take(worker, max, external, now, fx))
    }

    /// Takes jobs for a simulated worker, one per free slot of its `runner`, waiting (with no
    /// slot held, so that `/runsync` can start a job on a free slot directly) until there is
    /// one. Empty when the worker is stopped.
    pub(crate) async fn take_for(
        &self,
        runner: &Runner,
        stop: &CancellationToken,
    ) -> Vec<(TakenJob, OwnedSemaphorePermit)> {
        loop {
            let mut slots = tokio::select! {
                p = runner.slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                _ = stop.cancelled() => return Vec::new(),
            };
            let notified = self.job_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Every free slot takes a job in one go: under load, one wake-up starts many jobs.
            let free = runner.slots.available_permits();
            if free > 0
                && let Ok(more) = runner.slots.clone().try_acquire_many_owned(free as u32)
            {
                slots.merge(more);
            }
            let taken = self.take(&runner.worker, slots.num_permits(), false);
            if !taken.is_empty() {
                return taken
                    .into_iter()
                    .map(|job| {
                        let slot = slots.split(1).expect("one slot per job taken");
                        (job, slot)
                    })
                    .collect();
            }
            drop(slots);
            if stop.is_cancelled() {
                return Vec::new();
            }
            let _waiting = Waiting::new(&self.waiting_takers);
            tokio::select! {
                _ = &mut notified => {}
                _ = stop.cancelled() => return Vec::new(),
            }
            // Woken for a job with no slot free (jobs started directly took them meanwhile): pass
            // the wake-up on, or the job would wait for this worker while another one idles.
            if runner.slots.available_permits() == 0 {
                self.job_ready.notify_one();
            }
        }
    }

    /// Takes up to `max` jobs for an external worker, waiting up to `wait` for one to arrive
    /// (the job-take long poll). Cancel-safe: a job is taken only when the call returns it.
    pub(crate) async fn take_wait(
        &self,
        worker: &str,
        max: usize,
        wait: Duration,
    ) -> Vec<TakenJob> {
        let until = deadline_in(wait);
        loop {
            let notified = self.job_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let taken = self.take(worker, max, true);
            if !taken.is_empty() {
                return taken;
            }
            let _waiting = Waiting::new(&self.waiting_takers);
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => return Vec::new(),
            }
        }
    }

    /// Whether the runtime runs this endpoint's jobs on its own simulated workers.
    pub(crate) fn simulated(&self) -> bool {
        self.simulate
    }

    /// A worker reports a job's end. `false` when the job is unknown (a report for a job that
    /// already ended, or that another worker now runs, is ignored: the first final state wins).
    pub(crate) fn complete(
        &self,
        worker: &str,
        id: &str,
        report: JobReport,
        stop_pod: bool,
    ) -> bool {
        self.transition(|st, now, fx| {
            let known = st.complete(worker, id, report, false, now, fx).is_some();
            if stop_pod {
                st.stop_worker(worker, super::StopReason::Replaced, fx);
            }
            known
        })
    }

    /// [`complete`](Self::complete) for the job's own runner, which also wants the job's status
    /// object (read under the same lock): `None` if the report was ignored.
    pub(crate) fn complete_with_status(
        &self,
        worker: &str,
        id: &str,
        report: JobReport,
    ) -> Option<StatusObject> {
        self.transition(|st, now, fx| st.complete(worker, id, report, true, now, fx))
            .flatten()
    }

    pub(crate) fn progress(&self, worker: &str, id: &str, value: Value) -> bool {
        self.lock().progress(worker, id, value)
    }

    /// Keeps the calls job `id` made, for the dashboard.
    /// Everything the runtime knows of job `id`.
    pub(crate) fn detail(&self, id: &str) -> Result<JobDetail, RuntimeError> {
        let now = Instant::now();
        let st = self.lock();
        let job = st.jobs.get(id).ok_or_else(|| self.unknown_job(id))?;
        let (stream, stream_dropped) = job.stream.kept();
        Ok(JobDetail {
            endpoint: self.name.to_string(),
            status: job.status_object(now),
            input: (*job.input).clone(),
            stream,
            stream_dropped,
            calls: self.shared.call_trees.get(id),
            trace_id: job.trace_id.to_string(),
            age: now.saturating_duration_since(job.submitted),
        })
    }

    /// The `limit` most recent jobs the runtime still holds, newest first.
    pub(crate) fn recent(&self, limit: usize) -> Vec<JobSummary> {
        let now = Instant::now();
        let st = self.lock();
        let mut jobs: Vec<&crate::local::state::JobRecord> =
            st.jobs.values().map(|j| &**j).collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.submitted));
        jobs.into_iter()
            .take(limit)
            .map(|j| JobSummary {
                endpoint: self.name.to_string(),
                status: j.status_object(now),
                age: now.saturating_duration_since(j.submitted),
            })
            .collect()
    }

    /// A worker process's stream chunks (one post): refused together while the job's stream
    /// holds more than [`UNREAD_LIMIT`] bytes unread (the worker posts them again).
    pub(crate) fn stream_chunks(&self, worker: &str, id: &str, values: Vec<Value>) -> ChunkTaken {
        self.keep_chunks(worker, id, values, UNREAD_LIMIT, false).0
    }

    /// A simulated handler's stream chunk, and (with `meter`) the count of the job's unread
    /// bytes that its `Chunks::send` waits on. A handler that keeps streaming without waiting
    /// until [`UNREAD_HARD_LIMIT`] bytes are unread fails its job.
    pub(crate) fn simulated_chunk(
        &self,
        worker: &str,
        id: &str,
        value: Value,
        meter: bool,
    ) -> Option<Arc<Backlog>> {
        let (taken, unread) = self.keep_chunks(worker, id, vec![value], UNREAD_HARD_LIMIT, meter);
        if let ChunkTaken::Full(full) = taken {
            let error = stream::overflow_error(id, full.unread);
            self.transition(|st, now, fx| {
                st.finish(id, JobStatus::Failed, None, Some(error), now, fx)
            });
        }
        unread
    }

    /// Keeps `values` (all or none) unless more than `limit` bytes are unread.
    fn keep_chunks(
        &self,
        worker: &str,
        id: &str,
        values: Vec<Value>,
        limit: usize,
        meter: bool,
    ) -> (ChunkTaken, Option<Arc<Backlog>>) {
        let n = values.len() as u64;
        let (taken, readers, unread) = {
            let mut st = self.lock();
            let taken = st.stream_chunks(worker, id, values, limit);
            let job = st.jobs.get_mut(id);
            let readers = job.as_ref().and_then(|j| j.stream_notify.clone());
            let unread = job.filter(|_| meter).map(|j| j.stream.unread());
            (taken, readers, unread)
        };
        if taken == ChunkTaken::Kept {
            self.chunks.inc_by(n);
            if let Some(readers) = readers {
                readers.notify_waiters();
            }
        }
        (taken, unread)
    }

    pub(crate) fn ping(&self, worker: &str) {
        self.transition(|st, now, fx| st.ping(worker, now, fx));
    }

    /// Jobs `worker` must stop (cancelled or timed out while it ran them), waiting up to `wait`.
    pub(crate) async fn stops_wait(&self, worker: &str, wait: Duration) -> Vec<String> {
        let until = deadline_in(wait);
        loop {
            let notified = self.stops_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let stops = self.lock().take_stops(worker, Instant::now());
            if !stops.is_empty() {
                return stops;
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => return Vec::new(),
            }
        }
    }

    // ------------------------------------------------------------ simulated workers

    /// Registers a new simulated worker (starting); returns its stop token.
    pub(crate) fn add_simulated_worker(&self, id: Arc<str>) -> CancellationToken {
        self.transition(|st, now, fx| st.add_simulated(id, now, fx))
    }

    pub(crate) fn worker_ready(&self, runner: Arc<Runner>, startup: Duration) {
        self.transition(|st, now, fx| st.worker_ready(runner, startup, now, fx));
    }

    pub(crate) fn worker_init_failed(&self, worker: &str, message: String) {
        tracing::error!(endpoint = &*self.name, worker, "{message}");
        self.transition(|st, now, fx| st.init_failed(worker, message, now, fx));
    }

    /// One round of housekeeping; returns how many simulated workers to start.
    pub(crate) fn tick(&self) -> usize {
        self.transition(|st, now, fx| st.tick(now, fx))
    }

    /// Stops every worker (runtime shutdown).
    pub(crate) fn shutdown(&self) {
        self.transition(|st, _, fx| st.stop_all(fx));
        self.job_ready.notify_waiters();
    }
}

/// `wait` from now; a wait too long to represent (`Duration::MAX`) is a year.
fn deadline_in(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 86_400))
}
