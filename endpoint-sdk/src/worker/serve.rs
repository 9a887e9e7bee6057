//! The worker loop: take jobs while slots are free, back off while the job server is away, listen
//! on the job-stop channel, and drain on SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::heartbeat::{self, Heartbeat};
use super::job::JobRunner;
use super::platform::{Backoff, Platform, Take};
use super::slots::Slots;
use super::watch::{LoopWatch, Watchdog};
use super::{WorkerEnv, WorkerError, WorkerExit};
use crate::handler::{EndpointDef, InitError, WorkerState, panic_message};

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
pub(super) async fn wait_for_signal() {
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
pub(super) async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs the worker loop until `shutdown` is cancelled (then drains) or a handler gets stuck.
///
/// The loop (job-takes, the jobs and their handlers, their posts, the job-stop channel) runs on
/// one thread of its own with a single-threaded runtime: a job crosses no thread, which is most
/// of what a short job costs (a thread woken is a context switch). A handler that holds that
/// loop (CPU work, a blocking call) moves the endpoint's later jobs to a pool of handler
/// threads, and a watchdog thread fails a job whose handler holds the loop past its deadline
/// and has the worker replaced (`worker/watch.rs`); the heartbeat has a thread of its own.
pub async fn run_until(
    def: EndpointDef,
    env: WorkerEnv,
    shutdown: CancellationToken,
) -> Result<WorkerExit, WorkerError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (stuck_tx, stuck_rx) = tokio::sync::oneshot::channel();
    let watch = Arc::new(LoopWatch::default());
    let slots = Arc::new(Slots::default());
    let _watchdog = Watchdog::start(watch.clone(), env.clone(), slots.ids.clone(), move || {
        let _ = stuck_tx.send(());
    })
    .map_err(WorkerError::Runtime)?;
    std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || {
            let ended = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => {
                    let ended = rt.block_on(serve(def, env, shutdown, Loop { watch, slots }));
                    // Not waiting for blocking tasks handlers left (a timed-out job's).
                    rt.shutdown_background();
                    ended
                }
                Err(e) => Err(WorkerError::Runtime(e)),
            };
            let _ = tx.send(ended);
        })
        .map_err(WorkerError::Runtime)?;
    tokio::select! {
        ended = rx => ended.unwrap_or_else(|_| {
            Err(WorkerError::Runtime(std::io::Error::other(
                "the worker loop's thread panicked",
            )))
        }),
        // The loop's thread is held by a stuck handler: it is left behind.
        Ok(()) = stuck_rx => Ok(WorkerExit::Replaced),
    }
}

/// What the loop shares with the watchdog.
struct Loop {
    watch: Arc<LoopWatch>,
    slots: Arc<Slots>,
}

/// The worker loop, on its own thread (see [`run_until`]).
async fn serve(
    def: EndpointDef,
    env: WorkerEnv,
    shutdown: CancellationToken,
    shared: Loop,
) -> Result<WorkerExit, WorkerError> {
    // The loop's beat, for the watchdog (from the start: init runs on the handler threads).
    let beat = tokio::spawn({
        let watch = shared.watch.clone();
        async move { watch.beat().await }
    });
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
    let state = match init_state(&handlers, &def).await {
        Ok(state) => state,
        Err(e) => {
            tracing::error!("{e}");
            heartbeat::report_unhealthy(&env, "init", &e.to_string()).await;
            handlers.shutdown_background();
            return Err(WorkerError::Init(e));
        }
    };

    let slots = shared.slots;
    let _heartbeat = Heartbeat::start(&env, slots.ids.clone());
    let stopper = tokio::spawn(stop_channel(
        platform.clone(),
        slots.clone(),
        shutdown.clone(),
    ));
    let concurrency = def.config.concurrency.max(1) as usize;
    let job = Arc::new(JobRunner {
        def: def.clone(),
        state,
        platform,
        slots: slots.clone(),
        handlers: handlers.handle().clone(),
        watch: shared.watch,
        replace: CancellationToken::new(),
        client: crate::client::Client::from_env(),
        config: Arc::new(def.config.clone()),
        sessions,
        session_version: Arc::from(def.session_version()),
        metrics: Arc::new(crate::metrics::global().worker_handles(def.name())),
        delivering: tokio::sync::Semaphore::new(concurrency),
    });
    take_jobs(&job, concurrency, &shutdown).await;
    drain(&slots).await;
    job.watch.end();
    stopper.abort();
    beat.abort();
    handlers.shutdown_background();
    if job.replace.is_cancelled() {
        tracing::error!(
            "a handler ignored cancellation; exiting so the platform replaces this worker"
        );
        Ok(WorkerExit::Replaced)
    } else {
        tracing::info!("worker stopped: every running job finished");
        Ok(WorkerExit::Drained)
    }
}

/// Builds the per-worker state on the handler threads; a panic is an init failure.
async fn init_state(
    handlers: &tokio::runtime::Runtime,
    def: &EndpointDef,
) -> Result<WorkerState, InitError> {
    match handlers.spawn(def.init()).await {
        Ok(result) => result,
        Err(join) => Err(InitError {
            init: "init".into(),
            message: format!("panicked: {}", panic_message(&*join.into_panic())),
        }),
    }
}

/// Takes jobs while slots are free (a job's slot frees when its handler returns, so the next
/// job is taken while its result is posted), until `shutdown` or a stuck handler asks to stop.
async fn take_jobs(job: &Arc<JobRunner>, concurrency: usize, shutdown: &CancellationToken) {
    let (slots, replace) = (&job.slots, &job.replace);
    let mut server = ServerState::default();
    while !shutdown.is_cancelled() && !replace.is_cancelled() && !job.watch.replaced() {
        let freed = slots.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        let running = slots.handlers();
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
            t = job.platform.take(concurrency - running, slots.len() > 0) => t,
            _ = shutdown.cancelled() => break,
            _ = replace.cancelled() => break,
        };
        let pause = match take {
            Take::Jobs(jobs) => {
                server.reachable();
                for wire in jobs {
                    let token = slots.add(&wire.id);
                    tokio::spawn(job.clone().run(wire, token));
                }
                None
            }
            // A server that answers at once instead of holding the poll open: do not spin.
            Take::Empty => {
                server.reachable();
                (asked.elapsed() < Duration::from_millis(20)).then_some(Duration::from_millis(100))
            }
            Take::Unavailable { reason, throttled } => Some(server.unavailable(&reason, throttled)),
        };
        if let Some(wait) = pause {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => {}
                _ = replace.cancelled() => {}
            }
        }
    }
}

/// Whether the job server answers, and the back-off while it does not.
struct ServerState {
    backoff: Backoff,
    unavailable_since: Option<Instant>,
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState {
            backoff: Backoff::new(Duration::from_millis(200), Duration::from_secs(10)),
            unavailable_since: None,
        }
    }
}

impl ServerState {
    fn reachable(&mut self) {
        if let Some(since) = self.unavailable_since.take() {
            tracing::info!("job server reachable again after {:?}", since.elapsed());
        }
        self.backoff.reset();
    }

    /// How long to wait before the next take (5 s when throttled, else the back-off's next).
    fn unavailable(&mut self, reason: &str, throttled: bool) -> Duration {
        let wait = if throttled {
            Duration::from_secs(5)
        } else {
            self.backoff.next_wait()
        };
        if self.unavailable_since.is_none() {
            self.unavailable_since = Some(Instant::now());
            tracing::warn!("{reason}; retrying with back-off");
        } else {
            tracing::debug!("{reason}; retrying in {wait:?}");
        }
        wait
    }
}

/// Waits until the running jobs have finished and posted their results.
async fn drain(slots: &Slots) {
    loop {
        let freed = slots.freed.notified();
        tokio::pin!(freed);
        freed.as_mut().enable();
        if slots.len() == 0 {
            break;
        }
        freed.await;
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
            Some(ids) if !ids.is_empty() => {
                quiet = false;
                for id in ids {
                    tracing::info!(job = %id, "the platform asked to stop this job");
                    slots.stop(&id);
                }
                // Another stop may follow at once (a fan-out cancelled): listen again now.
                continue;
            }
            Some(_) => quiet = false,
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
