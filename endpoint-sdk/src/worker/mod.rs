//! The production worker: a binary built with this SDK, in a Runpod Serverless container,
//! speaking the platform's worker protocol (the same one as the official Python SDK), with the
//! known ways to lose results or hang removed:
//!
//! - the next job-take starts as soon as a slot frees (no 1 s sleep when slots are busy);
//! - the execution timeout is enforced in the worker too, so a job ends with a clear error even
//!   if the platform's own limit is off;
//! - a panicking handler fails its job and the worker goes on;
//! - a handler that ignores cancellation (a blocking loop) is abandoned: its job fails, and the
//!   worker asks to be replaced (`stopPod`) instead of running on with a stuck thread;
//! - a result above the platform's 20 MB limit becomes a clear error instead of vanishing;
//! - results are retried with back-off; progress and stream posts always precede the result;
//! - the job-stop channel stops cancelled and timed-out jobs;
//! - 429 and 5xx from job-take are backed off;
//! - SIGTERM stops taking jobs and drains the running ones;
//! - handlers run on their own threads and the heartbeat on its own, so neither can starve the
//!   job loop or the ping.

pub mod env;
mod heartbeat;
pub(crate) mod log;
mod platform;
mod test_input;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use env::{EnvError, WorkerEnv};
pub use test_input::{TestInputError, run_test_input};

use crate::handler::{
    Ctx, EndpointDef, InitError, JobSink, Outcome, Placement, WorkerState, execute, panic_message,
};
use crate::protocol::limits::RESULT_LIMIT;
use crate::protocol::vars::ENDPOINT_NAME;
use crate::protocol::{JobFailure, JobObject, envelope};
use heartbeat::{Heartbeat, RunningIds};
use platform::{Backoff, Platform, Take};

/// Why the worker stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerExit {
    /// SIGTERM or Ctrl-C: it stopped taking jobs and finished the running ones.
    Drained,
    /// A handler ignored cancellation; the worker asked the platform to replace it.
    Replaced,
}

/// What stops a worker before it takes a job.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The platform's variables are missing or invalid.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The per-worker initialiser failed.
    #[error(transparent)]
    Init(#[from] InitError),
    /// The binary holds several endpoints and none was selected, or an unknown one.
    #[error("{0}")]
    Select(String),
    /// The handler threads could not start.
    #[error("the handler runtime could not start: {0}")]
    Runtime(std::io::Error),
    /// The session store (`SESSION_STORE_URL`) is unusable.
    #[error(transparent)]
    Sessions(crate::session::StoreError),
}

/// Picks the endpoint this worker serves: the only one, or the one named by `name`
/// ([`ENDPOINT_NAME`] or `--endpoint`).
pub fn select(defs: &[EndpointDef], name: Option<&str>) -> Result<EndpointDef, WorkerError> {
    // An empty variable (as container templates often leave it) means "not set".
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let names = || defs.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => defs.iter().find(|d| d.name() == n).cloned().ok_or_else(|| {
            WorkerError::Select(format!(
                "{ENDPOINT_NAME}={n}: this binary has no endpoint named `{n}`; endpoints: {}",
                names()
            ))
        }),
        None => match defs {
            [one] => Ok(one.clone()),
            [] => Err(WorkerError::Select(
                "this binary has no endpoint: annotate a handler with #[endpoint(..)]".into(),
            )),
            _ => Err(WorkerError::Select(format!(
                "this binary has {} endpoints ({}); set {ENDPOINT_NAME} to the one this worker serves",
                defs.len(),
                names()
            ))),
        },
    }
}

/// The jobs running on this worker: their stop tokens, and a signal when a slot frees.
#[derive(Default)]
struct Slots {
    jobs: Mutex<HashMap<String, CancellationToken>>,
    freed: Notify,
    ids: Arc<RunningIds>,
}

impl Slots {
    fn len(&self) -> usize {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn add(&self, id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), token.clone());
        self.ids.insert(id);
        token
    }

    fn remove(&self, id: &str) {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.ids.remove(id);
        self.freed.notify_waiters();
    }

    fn stop(&self, id: &str) {
        if let Some(t) = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            t.cancel();
        }
    }
}

/// Runs the worker loop for `def` until SIGTERM (drained) or a stuck handler (replaced).
pub async fn run(def: EndpointDef, env: WorkerEnv) -> Result<WorkerExit, WorkerError> {
    let shutdown = CancellationToken::new();
    let signals = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stop requested: taking no more jobs, finishing the running ones");
        signals.cancel();
    });
    run_until(def, env, shutdown).await
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs the worker loop until `shutdown` is cancelled (then drains) or a handler gets stuck.
pub async fn run_until(
    def: EndpointDef,
    env: WorkerEnv,
    shutdown: CancellationToken,
) -> Result<WorkerExit, WorkerError> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let handlers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("handler")
        .enable_all()
        .build()
        .map_err(WorkerError::Runtime)?;
    let platform = Platform::new(env.clone());
    let sessions = crate::session::Sessions::from_env().map_err(WorkerError::Sessions)?;
    tracing::info!(
        endpoint = def.name(),
        worker = %env.worker_id,
        concurrency = def.config.concurrency,
        "worker starting"
    );

    let state = match handlers.spawn(def.init()).await {
        Ok(Ok(state)) => state,
        Ok(Err(e)) => {
            tracing::error!("{e}");
            heartbeat::report_unhealthy(&env, "init", &e.to_string()).await;
            handlers.shutdown_background();
            return Err(WorkerError::Init(e));
        }
        Err(join) => {
            let e = InitError {
                init: "init".into(),
                message: format!("panicked: {}", panic_message(&*join.into_panic())),
            };
            tracing::error!("{e}");
            heartbeat::report_unhealthy(&env, "init", &e.to_string()).await;
            handlers.shutdown_background();
            return Err(WorkerError::Init(e));
        }
    };

    let slots = Arc::new(Slots::default());
    let _heartbeat = Heartbeat::start(&env, slots.ids.clone());
    let replace = CancellationToken::new();
    let stopper = tokio::spawn(stop_channel(
        platform.clone(),
        slots.clone(),
        shutdown.clone(),
    ));
    let concurrency = def.config.concurrency.max(1) as usize;
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut unavailable_since: Option<Instant> = None;
    let job = JobRunner {
        def: def.clone(),
        state,
        platform: platform.clone(),
        slots: slots.clone(),
        handlers: handlers.handle().clone(),
        replace: replace.clone(),
        client: crate::client::Client::from_env(),
        sessions,
        session_version: Arc::from(def.session_version()),
    };

    loop {
        if shutdown.is_cancelled() || replace.is_cancelled() {
            break;
        }
        let freed = slots.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        let running = slots.len();
        if running >= concurrency {
            tokio::select! {
                _ = &mut freed => {}
                _ = shutdown.cancelled() => {}
                _ = replace.cancelled() => {}
            }
            continue;
        }
        let asked = Instant::now();
        let take = tokio::select! {
            t = platform.take(concurrency - running, running > 0) => t,
            _ = shutdown.cancelled() => break,
            _ = replace.cancelled() => break,
        };
        match take {
            Take::Jobs(jobs) => {
                if let Some(since) = unavailable_since.take() {
                    tracing::info!("job server reachable again after {:?}", since.elapsed());
                }
                backoff.reset();
                for wire in jobs {
                    let token = slots.add(&wire.id);
                    tokio::spawn(job.clone().run(wire, token));
                }
            }
            Take::Empty => {
                if let Some(since) = unavailable_since.take() {
                    tracing::info!("job server reachable again after {:?}", since.elapsed());
                }
                backoff.reset();
                // A server that answers at once instead of holding the poll open: do not spin.
                if asked.elapsed() < Duration::from_millis(20) {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
            Take::Unavailable { reason, throttled } => {
                let wait = if throttled {
                    Duration::from_secs(5)
                } else {
                    backoff.next_wait()
                };
                if unavailable_since.is_none() {
                    unavailable_since = Some(Instant::now());
                    tracing::warn!("{reason}; retrying with back-off");
                } else {
                    tracing::debug!("{reason}; retrying in {wait:?}");
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.cancelled() => {}
                    _ = replace.cancelled() => {}
                }
            }
        }
    }

    // Drain: the running jobs finish and post their results.
    loop {
        let freed = slots.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        if slots.len() == 0 {
            break;
        }
        freed.await;
    }
    stopper.abort();
    handlers.shutdown_background();
    if replace.is_cancelled() {
        tracing::error!(
            "a handler ignored cancellation; exiting so the platform replaces this worker"
        );
        Ok(WorkerExit::Replaced)
    } else {
        tracing::info!("worker stopped: every running job finished");
        Ok(WorkerExit::Drained)
    }
}

/// Listens on the job-stop channel and stops the named jobs.
async fn stop_channel(platform: Platform, slots: Arc<Slots>, shutdown: CancellationToken) {
    let mut quiet = false;
    loop {
        let asked = Instant::now();
        let stops = tokio::select! {
            s = platform.stops() => s,
            _ = shutdown.cancelled() => return,
        };
        match stops {
            Some(ids) => {
                quiet = false;
                for id in ids {
                    tracing::info!(job = %id, "the platform asked to stop this job");
                    slots.stop(&id);
                }
            }
            None => {
                if !quiet {
                    tracing::debug!("the job-stop channel is unavailable; retrying every second");
                    quiet = true;
                }
            }
        }
        // At least a second between polls that come back at once (as the Python SDK does).
        if asked.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_secs(1) - asked.elapsed()).await;
        }
    }
}

enum Posted {
    Progress(Value),
    Stream(Value),
    Flush(oneshot::Sender<()>),
}

/// Progress updates and stream chunks of one job, posted in order by one task.
struct OrderedPosts {
    tx: mpsc::UnboundedSender<Posted>,
}

impl JobSink for OrderedPosts {
    fn progress(&self, value: Value) {
        let _ = self.tx.send(Posted::Progress(value));
    }

    fn stream(&self, value: Value) {
        let _ = self.tx.send(Posted::Stream(value));
    }
}

impl OrderedPosts {
    fn start(platform: Platform, job: String) -> Arc<OrderedPosts> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let result = match p {
                    Posted::Progress(v) => platform.progress(&job, &v).await,
                    Posted::Stream(v) => platform.stream(&job, &v).await,
                    Posted::Flush(done) => {
                        let _ = done.send(());
                        return;
                    }
                };
                if let Err(e) = result {
                    tracing::warn!(job = %job, "an update was not delivered: {e}");
                }
            }
        });
        Arc::new(OrderedPosts { tx })
    }

    /// Waits until every update sent so far is posted.
    async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Posted::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

#[derive(Clone)]
struct JobRunner {
    def: EndpointDef,
    state: WorkerState,
    platform: Platform,
    slots: Arc<Slots>,
    handlers: tokio::runtime::Handle,
    replace: CancellationToken,
    client: crate::client::Client,
    sessions: crate::session::Sessions,
    /// The endpoint's session version tag, made once for the worker's jobs.
    session_version: Arc<str>,
}

impl JobRunner {
    async fn run(self, wire: JobObject, stop: CancellationToken) {
        let span = tracing::info_span!("job", request_id = %wire.id);
        self.run_in_span(wire, stop).instrument(span).await
    }

    async fn run_in_span(self, job: JobObject, stop: CancellationToken) {
        let id = job.id;
        let session = envelope::peek(&job.input).map(str::to_string);
        let started = Instant::now();
        let timeout = self.def.config.execution_timeout();
        let posts = OrderedPosts::start(self.platform.clone(), id.clone());
        let ctx = Ctx::builder(self.def.name(), &id)
            .worker_id(&self.platform.env().worker_id)
            .deadline(timeout.map(|t| started + t))
            .cancel(stop)
            .sink(posts.clone())
            .client(self.client.clone(), self.def.config.max_steps)
            .session(session, self.sessions.clone(), self.session_version.clone())
            .build();
        tracing::info!("job started");
        let placement = Placement::On(self.handlers.clone());
        let input = Arc::new(job.input);
        let done = execute(&self.def, &self.state, ctx, input, timeout, &placement)
            .instrument(tracing::Span::current())
            .await;
        if done.stuck {
            tracing::error!("the handler ignored cancellation: its thread is stuck");
            self.replace.cancel();
        }
        posts.flush().await;
        let mut body = match done.outcome {
            Outcome::Stopped => {
                // The platform already ended the job; it expects no result.
                tracing::info!("job stopped by the platform after {:?}", started.elapsed());
                if done.stuck {
                    let _ = self
                        .platform
                        .done(&id, &serde_json::json!({ "stopPod": true }), false)
                        .await;
                }
                self.slots.remove(&id);
                return;
            }
            Outcome::TimedOut(mut failure) => {
                if done.stuck {
                    failure.message.push_str(
                        "; the handler ignored cancellation, so this worker asks to be replaced",
                    );
                }
                failure_body(failure)
            }
            Outcome::Completed(output) => serde_json::json!({ "output": output }),
            Outcome::Failed(failure) => failure_body(failure),
        };
        // A result the platform would refuse becomes a clear error instead of vanishing.
        let size = serde_json::to_vec(&body).map_or(0, |b| b.len());
        if size > RESULT_LIMIT {
            body = failure_body(JobFailure::output_too_large(size));
        }
        if done.stuck {
            body["stopPod"] = Value::Bool(true);
        }
        let failed = body.get("error").is_some();
        match self.platform.done(&id, &body, false).await {
            Ok(()) if failed => tracing::warn!(
                "job failed after {:?}: {}",
                started.elapsed(),
                JobFailure::from_wire(body["error"].as_str().unwrap_or_default())
            ),
            Ok(()) => tracing::info!("job completed in {:?}", started.elapsed()),
            Err(e) => tracing::error!("the result was not delivered: {e}"),
        }
        self.slots.remove(&id);
    }
}

fn failure_body(f: JobFailure) -> Value {
    serde_json::json!({ "error": f.to_wire() })
}
