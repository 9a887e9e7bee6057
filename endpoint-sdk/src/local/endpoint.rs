//! One endpoint inside the local runtime: its queue, its jobs, its workers, and every job state
//! transition. Simulated workers and external workers (over the HTTP job API) take and finish
//! jobs through the same methods, so the platform's rules are written once.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustc_hash::FxBuildHasher;
use serde_json::Value;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;

use super::events::{FinishedJob, LogItem, RuntimeEvent, StopReason};
use super::scaler::{ScalerInput, desired_workers};
use super::{Health, HealthJobs, HealthWorkers, Policy, RunRequest, RuntimeError, Shared};
use crate::client::Client;
use crate::config::EndpointConfig;
use crate::handler::{EndpointDef, WorkerState};
use crate::job::{FailureKind, JobFailure, JobStatus, StatusObject};

/// A job handed to a worker.
#[derive(Debug, Clone)]
pub struct TakenJob {
    /// Job id.
    pub id: String,
    /// Its input (shared with the job's record: read, never copied).
    pub input: Arc<Value>,
    /// Webhook, passed through as the platform does.
    pub webhook: Option<String>,
    /// `s3Config`, passed through.
    pub s3_config: Option<Value>,
    /// When the job must end (its execution budget), if it has a ceiling.
    pub deadline: Option<Instant>,
    /// The job's execution timeout, if it has one.
    pub execution_timeout: Option<Duration>,
    /// Fired when the job is cancelled or times out.
    pub cancel: CancellationToken,
    /// The trace the job belongs to.
    pub trace_id: String,
}

impl TakenJob {
    /// The job object a worker receives from `job-take`.
    pub fn to_wire(&self) -> Value {
        let mut job = serde_json::Map::new();
        job.insert("id".into(), Value::String(self.id.clone()));
        job.insert("input".into(), (*self.input).clone());
        if let Some(w) = &self.webhook {
            job.insert("webhook".into(), Value::String(w.clone()));
        }
        if let Some(s3) = &self.s3_config {
            job.insert("s3Config".into(), s3.clone());
        }
        Value::Object(job)
    }
}

/// How a worker ends a job.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Finished with an output.
    Output(Value),
    /// Failed; the wire `error` string.
    Error(String),
    /// Ran past its deadline (reported by the worker itself).
    TimedOut(String),
}

/// What a ready simulated worker offers to run jobs: its slots (one per job it may run at
/// once) and the state its `init` made.
pub(crate) struct Runner {
    /// Free slots: a job holds one while it runs.
    pub(crate) slots: Arc<Semaphore>,
    /// The worker's state.
    pub(crate) state: WorkerState,
    /// The client for the calls of its jobs.
    pub(crate) client: Option<Client>,
    /// The worker's id.
    pub(crate) worker: Arc<str>,
    /// The version tag of the endpoint's sessions (made once per worker, not per job).
    pub(crate) session_version: Arc<str>,
}

/// A `/runsync` job started on a worker's free slot, for its caller to run.
pub(crate) struct Direct {
    pub(crate) job: TakenJob,
    pub(crate) runner: Arc<Runner>,
    pub(crate) slot: OwnedSemaphorePermit,
}

/// A job id as the runtime keeps it: one allocation shared by the job map, the queue, the
/// worker's running set and the retention list.
pub(crate) type JobId = Arc<str>;

pub(crate) struct JobRecord {
    id: JobId,
    input: Arc<Value>,
    webhook: Option<String>,
    s3_config: Option<Value>,
    execution_timeout: Option<Duration>,
    low_priority: bool,
    sync: bool,
    status: JobStatus,
    submitted: Instant,
    started: Option<Instant>,
    finished: Option<Instant>,
    /// Shared with the worker's runner (a simulated worker) or with the take that started it.
    worker: Option<Arc<str>>,
    output: Option<Value>,
    error: Option<String>,
    stream: Vec<Value>,
    streamed: usize,
    attempts: u32,
    /// Made when the job starts (only a running job has anything to stop) and dropped when it
    /// ends, so a retained result does not hold one.
    cancel: Option<CancellationToken>,
    /// Made by the first `wait` on the job (most jobs have nobody waiting on them this way).
    notify: Option<watch::Sender<JobStatus>>,
    expires_at: Instant,
    retain_until: Option<Instant>,
    /// The caller's trace; `None`: the job starts its own, named by its id.
    trace_id: Option<String>,
    session: Option<String>,
}

impl JobRecord {
    /// Time in the queue: until it started (or ended, if it never started).
    fn delay(&self) -> Option<Duration> {
        self.started
            .or(self.finished)
            .map(|s| s.saturating_duration_since(self.submitted))
    }

    /// Time running: until it ended, or until now.
    fn execution(&self) -> Option<Duration> {
        self.started.map(|s| {
            self.finished
                .unwrap_or_else(Instant::now)
                .saturating_duration_since(s)
        })
    }

    fn status_object(&self) -> StatusObject {
        let delay = self.delay();
        let execution = self.execution();
        StatusObject {
            id: self.id.to_string(),
            status: self.status,
            delay_time: delay.map(|d| d.as_millis() as u64),
            execution_time: execution.map(|d| d.as_millis() as u64),
            worker_id: self.worker.as_deref().map(str::to_string),
            output: self.output.clone(),
            error: self.error.clone(),
        }
    }

    /// Tells whoever waits on the job (`wait`) its new status.
    fn signal(&self, status: JobStatus) {
        if let Some(notify) = &self.notify {
            notify.send_replace(status);
        }
    }

    /// Past its TTL, or past its result's retention (the sweep removes it soon; readers must
    /// not see it meanwhile).
    fn expired(&self, now: Instant) -> bool {
        self.expires_at <= now || self.retain_until.is_some_and(|r| r <= now)
    }

    fn deadline(&self) -> Option<Instant> {
        Some(self.started? + self.execution_timeout?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkerPhase {
    Starting,
    Ready,
}

pub(crate) struct WorkerRecord {
    phase: WorkerPhase,
    external: bool,
    running: HashSet<JobId, FxBuildHasher>,
    idle_since: Instant,
    last_seen: Instant,
    stop: CancellationToken,
    pending_stop: Vec<String>,
    /// A ready simulated worker's slots and state: a `/runsync` job may start on it directly.
    runner: Option<Arc<Runner>>,
}

#[derive(Default)]
struct Stats {
    completed: u64,
    failed: u64,
    retried: u64,
}

struct State {
    /// Jobs waiting, FIFO. Only `IN_QUEUE` jobs are in it (ids of jobs removed elsewhere are
    /// skipped when popped).
    queue: VecDeque<JobId>,
    /// Low-priority jobs: taken after the others, never counted for scaling.
    low_queue: VecDeque<JobId>,
    /// Boxed, so growing the map moves pointers, not records.
    /// Keyed by ids this runtime made (random, not chosen by clients): a fast hash is safe.
    jobs: HashMap<JobId, Box<JobRecord>, FxBuildHasher>,
    workers: BTreeMap<String, WorkerRecord>,
    stats: Stats,
    init_failures: u32,
    init_backoff_until: Option<Instant>,
    next_sweep: Instant,
    /// Finished jobs in the order they finished, with the end of their retention window
    /// (the window is fixed per kind, so this is also nearly expiry order). Entries of jobs
    /// retried or removed meanwhile are skipped.
    finished: VecDeque<(Instant, JobId)>,
    /// Workers that asked to be replaced (`stopPod`): their late pings and takes are ignored so
    /// they do not come back. Oldest forgotten first.
    retired: VecDeque<String>,
    /// Session → the worker that ran its last job (affinity).
    holders: HashMap<String, String>,
}

/// Side effects decided under the lock and carried out after it is released.
#[derive(Default)]
struct Effects {
    events: Vec<LogItem>,
    webhooks: Vec<(String, StatusObject)>,
    wake_stops: bool,
    /// A record that left the retention window, dropped once the lock is released.
    dropped: Option<Box<JobRecord>>,
}

/// One endpoint of the local runtime.
pub(crate) struct EndpointRuntime {
    pub(crate) config: EndpointConfig,
    pub(crate) def: Option<EndpointDef>,
    pub(crate) simulate: bool,
    pub(crate) shared: Arc<Shared>,
    state: Mutex<State>,
    job_ready: Notify,
    stops_ready: Notify,
    pub(crate) wake: Notify,
    /// Workers waiting in `take_wait` now: a new job goes straight to one of them, and the
    /// janitor need not be woken to scale.
    waiting_takers: AtomicUsize,
}

/// Counts a worker waiting for a job while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The input of a job that no longer needs it (one shared value, not an allocation per job).
fn null_input() -> Arc<Value> {
    static NULL: std::sync::LazyLock<Arc<Value>> =
        std::sync::LazyLock::new(|| Arc::new(Value::Null));
    NULL.clone()
}

/// A job id as the platform makes them: a random version-4 UUID (from the thread-local
/// generator: no system call per job) with the `-u1` suffix, and `sync-` before it for a
/// `/runsync` job. Written into one allocation, shared by every structure that refers to the
/// job. Ids need to be unique, not secret: the API key guards the API.
fn job_id(sync: bool) -> JobId {
    use std::io::Write as _;
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    let mut buf = [0u8; 48];
    let mut out = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(
        out,
        "{}{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}-u1",
        if sync { "sync-" } else { "" },
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    );
    let len = out.position() as usize;
    Arc::from(std::str::from_utf8(&buf[..len]).expect("hex digits and dashes"))
}

fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

impl EndpointRuntime {
    pub(crate) fn new(
        config: EndpointConfig,
        def: Option<EndpointDef>,
        simulate: bool,
        shared: Arc<Shared>,
    ) -> Self {
        EndpointRuntime {
            config,
            def,
            simulate,
            shared,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                low_queue: VecDeque::new(),
                jobs: HashMap::default(),
                workers: BTreeMap::new(),
                stats: Stats::default(),
                init_failures: 0,
                init_backoff_until: None,
                next_sweep: Instant::now(),
                finished: VecDeque::new(),
                retired: VecDeque::new(),
                holders: HashMap::new(),
            }),
            job_ready: Notify::new(),
            stops_ready: Notify::new(),
            wake: Notify::new(),
            waiting_takers: AtomicUsize::new(0),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-made transition visible: every
        // transition is written so the state stays consistent at each statement.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn apply(&self, fx: Effects) {
        for item in fx.events {
            self.shared.report(item);
        }
        for (url, body) in fx.webhooks {
            self.shared.send_webhook(url, body);
        }
        if fx.wake_stops {
            self.stops_ready.notify_waiters();
        }
        drop(fx.dropped);
    }

    /// The most jobs that may wait in the queue: the platform answers 429 past
    /// `max(50, 500 × max workers)`.
    fn queue_limit(&self) -> usize {
        self.shared
            .options
            .queue_limit
            .unwrap_or_else(|| 50.max(500 * self.config.workers.max as usize))
    }

    // ---------------------------------------------------------------- the public API

    pub(crate) fn submit(&self, req: RunRequest, sync: bool) -> Result<String, RuntimeError> {
        self.enqueue(req, sync, false).map(|(id, _)| id.to_string())
    }

    /// Submits a `/runsync` job and, when nothing is queued before it and a ready simulated
    /// worker has a free slot, starts it on that worker at once: the caller runs it
    /// ([`Direct`]) instead of waking the worker, saving two task hand-offs per job.
    pub(crate) fn submit_direct(
        &self,
        req: RunRequest,
    ) -> Result<(JobId, Option<Direct>), RuntimeError> {
        self.enqueue(req, true, self.simulate)
    }

    fn enqueue(
        &self,
        req: RunRequest,
        sync: bool,
        direct: bool,
    ) -> Result<(JobId, Option<Direct>), RuntimeError> {
        let policy = req.policy.clone().unwrap_or_default();
        let execution_timeout = match policy.execution_timeout {
            Some(ms) => Some(Duration::from_millis(ms)),
            None => self.config.execution_timeout(),
        };
        let ttl = policy
            .ttl
            .map_or(self.shared.options.default_ttl, Duration::from_millis);
        let id = job_id(sync);
        let now = Instant::now();
        let session = crate::session::peek(&req.input).map(str::to_string);
        let record = JobRecord {
            id: id.clone(),
            input: Arc::new(req.input),
            webhook: req.webhook,
            s3_config: req.s3_config,
            execution_timeout,
            low_priority: policy.low_priority.unwrap_or(false),
            sync,
            status: JobStatus::InQueue,
            submitted: now,
            started: None,
            finished: None,
            worker: None,
            output: None,
            error: None,
            stream: Vec::new(),
            streamed: 0,
            attempts: 0,
            cancel: None,
            notify: None,
            expires_at: now + ttl,
            retain_until: None,
            trace_id: req.trace_id,
            session,
        };
        let trace_id = self
            .shared
            .listening()
            .then(|| record.trace_id.clone().unwrap_or_else(|| id.to_string()));
        let mut fx = Effects::default();
        let mut started = None;
        let can_grow = {
            let mut st = self.lock();
            let st = &mut *st;
            let limit = self.queue_limit();
            if st.queue.len() + st.low_queue.len() >= limit {
                return Err(RuntimeError::QueueFull {
                    endpoint: self.name().to_string(),
                    limit,
                });
            }
            // A session's job goes through the queue, for its worker affinity.
            let free = if direct
                && record.session.is_none()
                && st.queue.is_empty()
                && st.low_queue.is_empty()
            {
                st.workers.values_mut().find_map(|w| {
                    if w.phase != WorkerPhase::Ready || w.external || w.stop.is_cancelled() {
                        return None;
                    }
                    let runner = w.runner.clone()?;
                    let slot = runner.slots.clone().try_acquire_owned().ok()?;
                    Some((w, runner, slot))
                })
            } else {
                None
            };
            let mut record = Box::new(record);
            match free {
                Some((w, runner, slot)) => {
                    w.running.insert(id.clone());
                    let job = self.start(&mut record, &runner.worker, now, &mut fx);
                    started = Some(Direct { job, runner, slot });
                }
                None if record.low_priority => st.low_queue.push_back(id.clone()),
                None => st.queue.push_back(id.clone()),
            }
            st.jobs.insert(id.clone(), record);
            self.simulate && st.workers.len() < self.config.workers.max as usize
        };
        if let Some(trace_id) = trace_id {
            self.shared.emit(RuntimeEvent::JobQueued {
                endpoint: self.name().to_string(),
                job: id.to_string(),
                execution_timeout,
                trace_id,
            });
        }
        if started.is_some() {
            self.apply(fx);
            return Ok((id, started));
        }
        self.job_ready.notify_one();
        // No worker is waiting for a job: the scaler may start one now rather than at its next
        // tick (pointless at the maximum).
        if can_grow && self.waiting_takers.load(Ordering::Relaxed) == 0 {
            self.wake.notify_one();
        }
        Ok((id, None))
    }

    fn unknown_job(&self, id: &str) -> RuntimeError {
        RuntimeError::UnknownJob {
            endpoint: self.name().to_string(),
            id: id.to_string(),
        }
    }

    pub(crate) fn status(&self, id: &str) -> Result<StatusObject, RuntimeError> {
        let st = self.lock();
        st.jobs
            .get(id)
            .filter(|j| !j.expired(Instant::now()))
            .map(|j| j.status_object())
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
            let job = st.jobs.get_mut(id).ok_or_else(|| self.unknown_job(id))?;
            if job.status.is_final() {
                return Ok(job.status_object());
            }
            let status = job.status;
            job.notify
                .get_or_insert_with(|| watch::channel(status).0)
                .subscribe()
        };
        let until = tokio::time::Instant::now() + timeout;
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
        let mut fx = Effects::default();
        let status = {
            let mut st = self.lock();
            let job = st.jobs.get(id).ok_or_else(|| self.unknown_job(id))?;
            if !job.status.is_final() {
                Self::finish(
                    &mut st,
                    &self.config,
                    &self.shared,
                    id,
                    JobStatus::Cancelled,
                    None,
                    None,
                    &mut fx,
                );
            }
            st.jobs.get(id).map(|j| j.status_object()).expect("present")
        };
        self.apply(fx);
        self.wake.notify_one();
        Ok(status)
    }

    pub(crate) fn retry(&self, id: &str) -> Result<StatusObject, RuntimeError> {
        let status = {
            let mut st = self.lock();
            let job = st.jobs.get_mut(id).ok_or_else(|| self.unknown_job(id))?;
            if !matches!(job.status, JobStatus::Failed | JobStatus::TimedOut) {
                return Err(RuntimeError::NotRetryable {
                    id: id.to_string(),
                    status: job.status,
                });
            }
            job.status = JobStatus::InQueue;
            job.output = None;
            job.error = None;
            job.started = None;
            job.finished = None;
            job.worker = None;
            job.retain_until = None;
            job.stream.clear();
            job.streamed = 0;
            job.submitted = Instant::now();
            job.cancel = None;
            job.signal(JobStatus::InQueue);
            let status = job.status_object();
            let low = job.low_priority;
            let key = job.id.clone();
            st.stats.retried += 1;
            if low {
                st.low_queue.push_back(key);
            } else {
                st.queue.push_back(key);
            }
            status
        };
        self.job_ready.notify_one();
        self.wake.notify_one();
        Ok(status)
    }

    pub(crate) fn purge_queue(&self) -> usize {
        let mut fx = Effects::default();
        let removed = {
            let mut st = self.lock();
            let mut queued: Vec<JobId> = st.queue.drain(..).collect();
            queued.extend(st.low_queue.drain(..));
            for id in &queued {
                Self::finish(
                    &mut st,
                    &self.config,
                    &self.shared,
                    id,
                    JobStatus::Cancelled,
                    None,
                    None,
                    &mut fx,
                );
            }
            queued.len()
        };
        self.apply(fx);
        removed
    }

    /// The stream chunks produced since the last call, and the job's status.
    pub(crate) fn stream(&self, id: &str) -> Result<(JobStatus, Vec<Value>), RuntimeError> {
        let mut st = self.lock();
        let job = st
            .jobs
            .get_mut(id)
            .filter(|j| !j.expired(Instant::now()))
            .ok_or_else(|| self.unknown_job(id))?;
        let chunks = job.stream[job.streamed..].to_vec();
        job.streamed = job.stream.len();
        Ok((job.status, chunks))
    }

    pub(crate) fn health(&self) -> Health {
        let st = self.lock();
        let mut in_progress = 0;
        let mut in_queue = 0;
        for j in st.jobs.values() {
            match j.status {
                JobStatus::InQueue => in_queue += 1,
                JobStatus::InProgress => in_progress += 1,
                _ => {}
            }
        }
        let mut w = HealthWorkers::default();
        for worker in st.workers.values() {
            match (worker.phase, worker.running.is_empty()) {
                (WorkerPhase::Starting, _) => w.initializing += 1,
                (WorkerPhase::Ready, true) => w.idle += 1,
                (WorkerPhase::Ready, false) => w.running += 1,
            }
        }
        w.ready = w.idle + w.running;
        w.unhealthy = u64::from(st.init_failures.min(1));
        Health {
            jobs: HealthJobs {
                completed: st.stats.completed,
                failed: st.stats.failed,
                in_progress,
                in_queue,
                retried: st.stats.retried,
            },
            workers: w,
        }
    }

    // ---------------------------------------------------------------- the worker side

    fn touch_worker<'a>(
        st: &'a mut State,
        worker: &str,
        external: bool,
    ) -> Option<&'a mut WorkerRecord> {
        if st.retired.iter().any(|r| r == worker) {
            return None;
        }
        let now = Instant::now();
        let w = st
            .workers
            .entry(worker.to_string())
            .or_insert_with(|| WorkerRecord {
                phase: WorkerPhase::Ready,
                external,
                running: HashSet::default(),
                idle_since: now,
                last_seen: now,
                stop: CancellationToken::new(),
                pending_stop: Vec::new(),
                runner: None,
            });
        w.last_seen = now;
        Some(w)
    }

    /// Takes up to `max` queued jobs for `worker`, without waiting. A worker that is starting
    /// or has been stopped takes nothing.
    pub(crate) fn take(&self, worker: &str, max: usize, external: bool) -> Vec<TakenJob> {
        let mut fx = Effects::default();
        let taken = {
            let mut st = self.lock();
            if external {
                let is_new = !st.workers.contains_key(worker);
                if Self::touch_worker(&mut st, worker, true).is_some() && is_new {
                    fx.events.push(LogItem::Event(RuntimeEvent::WorkerReady {
                        endpoint: self.name().to_string(),
                        worker: worker.to_string(),
                        startup: Duration::ZERO,
                        external: true,
                    }));
                }
            }
            match st.workers.get(worker) {
                Some(w) if w.phase == WorkerPhase::Ready && !w.stop.is_cancelled() => {}
                _ => return Vec::new(),
            }
            let now = Instant::now();
            let affinity_wait = self.shared.options.affinity_wait;
            let mut taken = Vec::new();
            let mut passed: Vec<JobId> = Vec::new();
            let mut started: Vec<JobId> = Vec::new();
            // Made once per take, shared by the jobs it starts.
            let mut worker_id: Option<Arc<str>> = None;
            while taken.len() < max {
                let Some(id) = st.queue.pop_front().or_else(|| st.low_queue.pop_front()) else {
                    break;
                };
                let Some(job) = st.jobs.get(&id) else {
                    continue;
                };
                if job.status != JobStatus::InQueue {
                    continue;
                }
                // A session's job waits a while for the live worker that holds the session.
                if let Some(holder) = job.session.as_ref().and_then(|s| st.holders.get(s))
                    && holder != worker
                    && st.workers.contains_key(holder)
                    && now.saturating_duration_since(job.submitted) < affinity_wait
                    && passed.len() < 256
                {
                    passed.push(id);
                    continue;
                }
                let Some(job) = st.jobs.get_mut(&id) else {
                    continue;
                };
                let worker_id = worker_id.get_or_insert_with(|| Arc::from(worker));
                taken.push(self.start(job, worker_id, now, &mut fx));
                started.push(id);
            }
            // Passed-over jobs keep their place at the front, in order.
            for id in passed.into_iter().rev() {
                let low = st.jobs.get(&id).is_some_and(|j| j.low_priority);
                if low {
                    st.low_queue.push_front(id);
                } else {
                    st.queue.push_front(id);
                }
            }
            if let Some(w) = st.workers.get_mut(worker) {
                w.running.extend(started);
            }
            taken
        };
        self.apply(fx);
        if !taken.is_empty() {
            // Another waiter may be able to take what is left.
            let st = self.lock();
            if !st.queue.is_empty() || !st.low_queue.is_empty() {
                self.job_ready.notify_one();
            }
        }
        taken
    }

    /// Marks a queued job as running on `worker` and hands it out (the worker's `running` set is
    /// the caller's to update).
    fn start(
        &self,
        job: &mut JobRecord,
        worker: &Arc<str>,
        now: Instant,
        fx: &mut Effects,
    ) -> TakenJob {
        job.status = JobStatus::InProgress;
        job.started = Some(now);
        job.worker = Some(worker.clone());
        job.attempts += 1;
        job.signal(JobStatus::InProgress);
        if self.shared.listening() {
            fx.events.push(LogItem::Event(RuntimeEvent::JobStarted {
                endpoint: self.name().to_string(),
                job: job.id.to_string(),
                worker: worker.to_string(),
                delay: now.saturating_duration_since(job.submitted),
            }));
        }
        TakenJob {
            id: job.id.to_string(),
            input: job.input.clone(),
            webhook: job.webhook.clone(),
            s3_config: job.s3_config.clone(),
            deadline: job.deadline(),
            execution_timeout: job.execution_timeout,
            cancel: job
                .cancel
                .get_or_insert_with(CancellationToken::new)
                .clone(),
            trace_id: job.trace_id.clone().unwrap_or_else(|| job.id.to_string()),
        }
    }

    /// Takes jobs for a simulated worker, one per free slot of its `runner`, waiting (with no
    /// slot held, so that `/runsync` can start a job on a free slot directly) until there is one.
    /// Empty when the worker is stopped.
    pub(crate) async fn take_for(
        &self,
        worker: &str,
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
            let taken = self.take(worker, slots.num_permits(), false);
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
            if !self.worker_alive(worker) {
                return Vec::new();
            }
            self.waiting_takers.fetch_add(1, Ordering::Relaxed);
            let _waiting = Waiting(&self.waiting_takers);
            tokio::select! {
                _ = &mut notified => {}
                _ = stop.cancelled() => return Vec::new(),
            }
        }
    }

    /// Takes up to `max` jobs, waiting up to `wait` for one to arrive (the job-take long poll).
    pub(crate) async fn take_wait(
        &self,
        worker: &str,
        max: usize,
        external: bool,
        wait: Duration,
        stop: &CancellationToken,
    ) -> Vec<TakenJob> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.job_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let taken = self.take(worker, max, external);
            if !taken.is_empty() {
                return taken;
            }
            self.waiting_takers.fetch_add(1, Ordering::Relaxed);
            let _waiting = Waiting(&self.waiting_takers);
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => return Vec::new(),
                _ = stop.cancelled() => return Vec::new(),
            }
        }
    }

    /// A worker reports a job's end. Returns `false` when the job is unknown to the runtime.
    /// A report for a job that already ended (cancelled, timed out) or that another worker now
    /// runs is ignored: the first final state wins.
    pub(crate) fn complete(
        &self,
        worker: &str,
        id: &str,
        outcome: Outcome,
        stop_pod: bool,
    ) -> bool {
        self.complete_inner(worker, id, outcome, stop_pod, false).0
    }

    /// [`complete`](Self::complete) for the job's own runner, which also wants the job's status
    /// object (read under the same lock): `None` if the report was ignored.
    pub(crate) fn complete_with_status(
        &self,
        worker: &str,
        id: &str,
        outcome: Outcome,
    ) -> Option<StatusObject> {
        self.complete_inner(worker, id, outcome, false, true).1
    }

    fn complete_inner(
        &self,
        worker: &str,
        id: &str,
        outcome: Outcome,
        stop_pod: bool,
        want_status: bool,
    ) -> (bool, Option<StatusObject>) {
        let mut fx = Effects::default();
        let mut status_object = None;
        let known = {
            let mut st = self.lock();
            if let Some(w) = st.workers.get_mut(worker) {
                w.last_seen = Instant::now();
            }
            match st.jobs.get(id) {
                None => false,
                Some(job) => {
                    if job.status == JobStatus::InProgress && job.worker.as_deref() == Some(worker)
                    {
                        let (status, output, error) = match outcome {
                            Outcome::Output(v) => (JobStatus::Completed, Some(v), None),
                            Outcome::Error(e) => (JobStatus::Failed, None, Some(e)),
                            Outcome::TimedOut(e) => (JobStatus::TimedOut, None, Some(e)),
                        };
                        Self::finish(
                            &mut st,
                            &self.config,
                            &self.shared,
                            id,
                            status,
                            output,
                            error,
                            &mut fx,
                        );
                        if want_status {
                            status_object = st.jobs.get(id).map(|j| j.status_object());
                        }
                    } else {
                        tracing::debug!(
                            endpoint = self.name(),
                            job = id,
                            worker,
                            "ignored a result for a job that ended or moved to another worker"
                        );
                    }
                    true
                }
            }
        };
        if stop_pod {
            self.stop_worker(worker, StopReason::Replaced);
        }
        self.apply(fx);
        (known, status_object)
    }

    /// Applies an update from `worker` to job `id` while that worker runs it (updates that come
    /// late, or from another worker, are dropped). Returns `false` when the job is unknown.
    fn update_running(&self, worker: &str, id: &str, update: impl FnOnce(&mut JobRecord)) -> bool {
        let mut st = self.lock();
        match st.jobs.get_mut(id) {
            None => false,
            Some(job) => {
                if job.status == JobStatus::InProgress && job.worker.as_deref() == Some(worker) {
                    update(job);
                }
                true
            }
        }
    }

    /// A progress update: the job stays `IN_PROGRESS` and its `output` shows the update.
    pub(crate) fn progress(&self, worker: &str, id: &str, value: Value) -> bool {
        self.update_running(worker, id, |job| job.output = Some(value))
    }

    /// A stream chunk.
    pub(crate) fn stream_chunk(&self, worker: &str, id: &str, value: Value) -> bool {
        self.update_running(worker, id, |job| job.stream.push(value))
    }

    /// A heartbeat from an external worker.
    pub(crate) fn ping(&self, worker: &str) {
        let is_new = {
            let mut st = self.lock();
            let new = !st.workers.contains_key(worker);
            Self::touch_worker(&mut st, worker, true).is_some() && new
        };
        if is_new {
            self.shared.emit(RuntimeEvent::WorkerReady {
                endpoint: self.name().to_string(),
                worker: worker.to_string(),
                startup: Duration::ZERO,
                external: true,
            });
        }
    }

    /// Jobs `worker` must stop (cancelled or timed out while it ran them), waiting up to `wait`.
    pub(crate) async fn stops_wait(&self, worker: &str, wait: Duration) -> Vec<String> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.stops_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                if let Some(w) = st.workers.get_mut(worker) {
                    w.last_seen = Instant::now();
                    if !w.pending_stop.is_empty() {
                        return std::mem::take(&mut w.pending_stop);
                    }
                }
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => return Vec::new(),
            }
        }
    }

    // ---------------------------------------------------------------- transitions

    /// Moves a job to a final state (no-op if it already is in one).
    #[allow(clippy::too_many_arguments)]
    fn finish(
        st: &mut State,
        config: &EndpointConfig,
        shared: &Shared,
        id: &str,
        status: JobStatus,
        output: Option<Value>,
        error: Option<String>,
        fx: &mut Effects,
    ) {
        let Some(job) = st.jobs.get_mut(id) else {
            return;
        };
        if job.status.is_final() {
            return;
        }
        let was_running = job.status == JobStatus::InProgress;
        let now = Instant::now();
        job.status = status;
        job.finished = Some(now);
        if output.is_some() || status != JobStatus::Completed {
            job.output = output;
        }
        job.error = error;
        let retention = if job.sync {
            shared.options.sync_retention
        } else {
            shared.options.run_retention
        };
        let retain_until = (now + retention).min(job.expires_at);
        job.retain_until = Some(retain_until);
        // Only a failed or timed-out job can be retried: others do not need their input.
        if !matches!(status, JobStatus::Failed | JobStatus::TimedOut) {
            job.input = null_input();
        }
        if let Some(cancel) = job.cancel.take() {
            cancel.cancel();
        }
        job.signal(status);
        match status {
            JobStatus::Completed => st.stats.completed += 1,
            JobStatus::Failed | JobStatus::TimedOut => st.stats.failed += 1,
            _ => {}
        }
        let job = &st.jobs[id];
        let listening = shared.listening_to_ends();
        if listening {
            let ms =
                |d: Option<Duration>| Duration::from_millis(d.map_or(0, |d| d.as_millis() as u64));
            fx.events.push(LogItem::JobFinished(FinishedJob {
                endpoint: config.name.clone(),
                job: job.id.clone(),
                worker: job.worker.clone(),
                status,
                delay: ms(job.delay()),
                execution: ms(job.execution()),
                error: job.error.clone(),
            }));
        }
        if let Some(url) = &job.webhook {
            fx.webhooks.push((url.clone(), job.status_object()));
        }
        let worker = job.worker.clone();
        st.finished.push_back((retain_until, job.id.clone()));
        if let (Some(session), Some(w)) = (job.session.clone(), &worker)
            && st.workers.contains_key(&**w)
        {
            st.holders.insert(session, w.to_string());
        }
        if let Some(worker) = worker
            && let Some(w) = st.workers.get_mut(&*worker)
        {
            w.running.remove(id);
            if w.running.is_empty() {
                w.idle_since = now;
            }
            // An external worker learns through job-stop that a job it runs has ended.
            if was_running
                && w.external
                && matches!(status, JobStatus::Cancelled | JobStatus::TimedOut)
            {
                w.pending_stop.push(id.to_string());
                fx.wake_stops = true;
            }
        }
        if !was_running {
            st.queue.retain(|q| &**q != id);
            st.low_queue.retain(|q| &**q != id);
        }
        // The retention cap, enforced here (every final state passes through) one for one: the
        // oldest result's memory serves the next job, instead of a second's worth being freed by
        // the sweep (and paged in again) at once. The job that just ended always stays.
        while st.finished.len() > shared.options.max_retained_results.max(1) {
            let (_, old) = st.finished.pop_front().expect("longer than the cap");
            if st.jobs.get(&old).is_some_and(|j| j.status.is_final()) {
                let record = st.jobs.remove(&old);
                if fx.dropped.is_none() {
                    fx.dropped = record;
                }
            }
        }
    }

    /// Stops a worker: it takes no more jobs; a simulated worker's task ends.
    pub(crate) fn stop_worker(&self, worker: &str, reason: StopReason) {
        let removed = {
            let mut st = self.lock();
            st.holders.retain(|_, w| w != worker);
            if reason == StopReason::Replaced {
                const REMEMBERED: usize = 4096;
                if st.retired.len() == REMEMBERED {
                    st.retired.pop_front();
                }
                st.retired.push_back(worker.to_string());
            }
            st.workers.remove(worker)
        };
        if let Some(w) = removed {
            w.stop.cancel();
            self.shared.emit(RuntimeEvent::WorkerStopped {
                endpoint: self.name().to_string(),
                worker: worker.to_string(),
                reason,
            });
        }
    }

    // ---------------------------------------------------------------- simulated workers

    /// Registers a new simulated worker (starting) and returns its id and stop token.
    pub(crate) fn add_simulated_worker(&self) -> (String, CancellationToken) {
        let id = random_id(14);
        let stop = CancellationToken::new();
        let now = Instant::now();
        self.lock().workers.insert(
            id.clone(),
            WorkerRecord {
                phase: WorkerPhase::Starting,
                external: false,
                running: HashSet::default(),
                idle_since: now,
                last_seen: now,
                stop: stop.clone(),
                pending_stop: Vec::new(),
                runner: None,
            },
        );
        self.shared.emit(RuntimeEvent::WorkerStarting {
            endpoint: self.name().to_string(),
            worker: id.clone(),
        });
        (id, stop)
    }

    pub(crate) fn worker_ready(&self, worker: &str, startup: Duration, runner: Arc<Runner>) {
        {
            let mut st = self.lock();
            st.init_failures = 0;
            st.init_backoff_until = None;
            match st.workers.get_mut(worker) {
                Some(w) => {
                    w.phase = WorkerPhase::Ready;
                    w.idle_since = Instant::now();
                    w.runner = Some(runner);
                }
                None => return,
            }
        }
        self.shared.emit(RuntimeEvent::WorkerReady {
            endpoint: self.name().to_string(),
            worker: worker.to_string(),
            startup,
            external: false,
        });
        self.job_ready.notify_one();
    }

    pub(crate) fn worker_init_failed(&self, worker: &str, message: String) {
        {
            let mut st = self.lock();
            st.init_failures += 1;
            let backoff = Duration::from_millis(250u64 << st.init_failures.min(7));
            st.init_backoff_until = Some(Instant::now() + backoff);
        }
        tracing::error!(endpoint = self.name(), worker, "{message}");
        self.stop_worker(worker, StopReason::InitFailed(message));
    }

    // ---------------------------------------------------------------- the janitor

    /// One round of housekeeping: timeouts, expiry, lost and idle workers, scaling. Returns how
    /// many simulated workers to start.
    pub(crate) fn tick(&self) -> usize {
        let mut fx = Effects::default();
        let opts = &self.shared.options;
        let now = Instant::now();
        let mut to_stop: Vec<(String, StopReason)> = Vec::new();
        let mut requeued = false;
        let start = {
            let mut st = self.lock();
            let st = &mut *st;

            // Execution timeouts of running jobs (simulated workers also enforce their own).
            let overdue: Vec<JobId> = st
                .workers
                .values()
                .flat_map(|w| w.running.iter())
                .filter(|id| {
                    st.jobs
                        .get(*id)
                        .and_then(|j| j.deadline())
                        .is_some_and(|d| d <= now)
                })
                .cloned()
                .collect();
            for id in overdue {
                let ms = st.jobs[&id]
                    .execution_timeout
                    .unwrap_or_default()
                    .as_millis();
                let error = JobFailure::new(
                    FailureKind::Timeout,
                    format!("the job ran past its execution timeout of {ms} ms and was stopped"),
                )
                .to_wire();
                Self::finish(
                    st,
                    &self.config,
                    &self.shared,
                    &id,
                    JobStatus::TimedOut,
                    None,
                    Some(error),
                    &mut fx,
                );
            }

            // Lost external workers: their jobs go back to the queue (or fail after retries).
            let lost: Vec<String> = st
                .workers
                .iter()
                .filter(|(_, w)| {
                    w.external && now.saturating_duration_since(w.last_seen) > opts.lost_after
                })
                .map(|(id, _)| id.clone())
                .collect();
            for worker in lost {
                let w = st.workers.remove(&worker).expect("listed above");
                st.holders.retain(|_, h| *h != worker);
                for id in w.running {
                    let Some(job) = st.jobs.get_mut(&id) else {
                        continue;
                    };
                    if job.status != JobStatus::InProgress {
                        continue;
                    }
                    if job.attempts < opts.max_attempts {
                        job.status = JobStatus::InQueue;
                        job.started = None;
                        job.worker = None;
                        job.output = None;
                        job.signal(JobStatus::InQueue);
                        if job.low_priority {
                            st.low_queue.push_front(id.clone());
                        } else {
                            st.queue.push_front(id.clone());
                        }
                        requeued = true;
                        fx.events.push(LogItem::Event(RuntimeEvent::JobRequeued {
                            endpoint: self.name().to_string(),
                            job: id.to_string(),
                            worker: worker.clone(),
                        }));
                    } else {
                        let error = JobFailure::new(
                            FailureKind::WorkerLost,
                            format!(
                                "worker {worker} stopped responding while running the job \
                                 (attempt {} of {})",
                                job.attempts, opts.max_attempts
                            ),
                        )
                        .to_wire();
                        Self::finish(
                            st,
                            &self.config,
                            &self.shared,
                            &id,
                            JobStatus::Failed,
                            None,
                            Some(error),
                            &mut fx,
                        );
                    }
                }
                fx.events.push(LogItem::Event(RuntimeEvent::WorkerStopped {
                    endpoint: self.name().to_string(),
                    worker,
                    reason: StopReason::Lost,
                }));
            }

            // TTL (hard, even mid-run) and result retention.
            if now >= st.next_sweep {
                st.next_sweep = now + opts.sweep_every;
                let mut gone: Vec<JobId> = Vec::new();
                // Results past their window (the cap is kept as jobs finish).
                while let Some((until, _)) = st.finished.front() {
                    if *until > now {
                        break;
                    }
                    let (_, id) = st.finished.pop_front().expect("peeked");
                    if st.jobs.get(&id).is_some_and(|j| j.status.is_final()) {
                        gone.push(id);
                    }
                }
                // Unfinished jobs past their TTL (few: the queue and what runs).
                for id in st
                    .queue
                    .iter()
                    .chain(st.low_queue.iter())
                    .chain(st.workers.values().flat_map(|w| w.running.iter()))
                {
                    if st.jobs.get(id).is_some_and(|j| j.expires_at <= now) {
                        gone.push(id.clone());
                    }
                }
                // Finished jobs whose TTL is shorter than their retention window.
                gone.extend(
                    st.finished
                        .iter()
                        .take_while(|(until, _)| *until <= now + opts.sweep_every)
                        .filter(|(_, id)| st.jobs.get(id).is_some_and(|j| j.expires_at <= now))
                        .map(|(_, id)| id.clone()),
                );
                for id in gone {
                    let Some(job) = st.jobs.remove(&id) else {
                        continue;
                    };
                    if let Some(cancel) = &job.cancel {
                        cancel.cancel();
                    }
                    if job.status == JobStatus::InQueue {
                        st.queue.retain(|q| *q != id);
                        st.low_queue.retain(|q| *q != id);
                    }
                    if let Some(worker) = &job.worker
                        && let Some(w) = st.workers.get_mut(&**worker)
                        && w.running.remove(&id)
                    {
                        if w.external {
                            w.pending_stop.push(id.to_string());
                            fx.wake_stops = true;
                        }
                        if w.running.is_empty() {
                            w.idle_since = now;
                        }
                    }
                }
            }

            // Idle workers above the minimum stop after the idle timeout.
            let idle_timeout = opts
                .idle_timeout
                .unwrap_or_else(|| self.config.idle_timeout());
            let mut count = st.workers.len();
            let min = self.config.workers.min as usize;
            let idle: Vec<String> = st
                .workers
                .iter()
                .filter(|(_, w)| {
                    !w.external
                        && w.phase == WorkerPhase::Ready
                        && w.running.is_empty()
                        && now.saturating_duration_since(w.idle_since) >= idle_timeout
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in idle {
                if count <= min {
                    break;
                }
                count -= 1;
                to_stop.push((id, StopReason::IdleTimeout));
            }

            // Scale up.
            if !self.simulate || st.init_backoff_until.is_some_and(|b| b > now) {
                0
            } else {
                let queued = st.queue.len();
                let oldest = st
                    .queue
                    .iter()
                    .find_map(|id| st.jobs.get(id))
                    .map_or(Duration::ZERO, |j| {
                        now.saturating_duration_since(j.submitted)
                    });
                let in_progress = st.workers.values().map(|w| w.running.len()).sum();
                let current = count;
                let starting = st
                    .workers
                    .values()
                    .filter(|w| w.phase == WorkerPhase::Starting)
                    .count();
                let want = desired_workers(&ScalerInput {
                    scaler: self.config.scaler,
                    workers: self.config.workers,
                    queued,
                    in_progress,
                    oldest_wait: oldest,
                    current,
                    starting,
                });
                want.saturating_sub(current)
            }
        };
        for (id, reason) in to_stop {
            self.stop_worker(&id, reason);
        }
        self.apply(fx);
        if requeued {
            self.job_ready.notify_one();
        }
        start
    }

    /// Stops every worker (runtime shutdown).
    pub(crate) fn shutdown(&self) {
        let workers: Vec<String> = self.lock().workers.keys().cloned().collect();
        for w in workers {
            self.stop_worker(&w, StopReason::Shutdown);
        }
        self.job_ready.notify_waiters();
    }

    /// Whether `worker` still exists and may keep running.
    pub(crate) fn worker_alive(&self, worker: &str) -> bool {
        self.lock().workers.contains_key(worker)
    }
}

impl Policy {
    /// Checks the platform's ranges: `executionTimeout` 5 s to 7 days, `ttl` 10 s to 7 days.
    pub fn validate(&self) -> Result<(), String> {
        const WEEK: u64 = 7 * 24 * 3600 * 1000;
        if let Some(ms) = self.execution_timeout
            && !(5_000..=WEEK).contains(&ms)
        {
            return Err(format!(
                "policy.executionTimeout = {ms} ms is out of range: the platform accepts 5000 ms to 7 days"
            ));
        }
        if let Some(ms) = self.ttl
            && !(10_000..=WEEK).contains(&ms)
        {
            return Err(format!(
                "policy.ttl = {ms} ms is out of range: the platform accepts 10000 ms to 7 days"
            ));
        }
        Ok(())
    }
}
