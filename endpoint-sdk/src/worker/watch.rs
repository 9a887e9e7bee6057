//! Handlers run on the worker's event loop, in the task of their job: a job crosses no thread
//! (handing each job to a pool and back cost a short job a third of its time). The watch makes
//! sure a handler that blocks that loop cannot hide or stall the worker for good:
//!
//! - each poll of a job is timed; one that holds the loop for [`BLOCKING_POLL`] or more (CPU
//!   work, a blocking call) moves the endpoint's later jobs to the handler threads, where they
//!   can block without holding back the job-takes and posts, and says so once in the log;
//! - a watchdog thread reads what the loop is polling: when a job's deadline passes while its
//!   handler still holds the loop, it cancels the job (a handler that checks its `Ctx` stops),
//!   and if the handler still holds the loop [`STUCK_GRACE`] later, the watchdog fails that job
//!   (and, with a reason, the others the stuck loop holds), asks the platform to replace this
//!   worker (`stopPod`) and ends the worker, as the loop itself does for a stuck handler thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use std::{future::Future, pin::Pin};

use tokio_util::sync::CancellationToken;

use super::env::WorkerEnv;
use super::heartbeat::RunningIds;
use super::platform::Platform;
use crate::handler::{Execution, Placement};
use crate::protocol::{FailureKind, JobFailure};

/// A poll of a job that holds the loop this long moves the endpoint's later jobs to the handler
/// threads (tokio's guidance is well under a millisecond between awaits).
pub(super) const BLOCKING_POLL: Duration = Duration::from_millis(10);

/// How long a handler that holds the loop past its deadline (and was cancelled) has to return
/// before the worker counts it as stuck: the same grace a stuck handler thread gets.
pub(super) const STUCK_GRACE: Duration = Duration::from_secs(2);

/// How often the watchdog looks.
const WATCHDOG_TICK: Duration = Duration::from_millis(200);

/// After this long in one poll, the watchdog says which job holds the loop (once per poll).
const SAY_BLOCKED_AFTER: Duration = Duration::from_secs(1);

/// A job as the watch sees it.
pub(super) struct WatchedJob {
    pub(super) id: String,
    /// When the job's budget ends.
    pub(super) deadline: Option<Instant>,
    /// The job's budget, named in its failure.
    pub(super) timeout: Option<Duration>,
    pub(super) cancel: CancellationToken,
}

/// What the loop is polling, shared with the watchdog.
#[derive(Default)]
pub(super) struct LoopWatch {
    polling: Mutex<Option<(Arc<WatchedJob>, Instant)>>,
    /// Set once a handler held the loop: the endpoint's later jobs run on the handler threads.
    on_threads: AtomicBool,
}

impl LoopWatch {
    fn polling(&self) -> std::sync::MutexGuard<'_, Option<(Arc<WatchedJob>, Instant)>> {
        self.polling.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the next job's handler runs: on the loop, or on `threads` once a handler blocked it.
    pub(super) fn placement(&self, threads: &tokio::runtime::Handle) -> Placement {
        if self.on_threads.load(Ordering::Relaxed) {
            Placement::On(threads.clone())
        } else {
            Placement::Inline
        }
    }

    /// Moves the endpoint's later jobs to the handler threads (`why`, said once).
    pub(super) fn move_to_threads(&self, why: &str) {
        if !self.on_threads.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{why}: this worker now runs the endpoint's jobs on its handler threads. Move \
                 blocking work into tokio::task::spawn_blocking to keep jobs on the event loop, \
                 where each costs less"
            );
        }
    }

    /// Runs `job`'s execution with each of its polls timed and shown to the watchdog.
    pub(super) async fn run<F>(&self, job: Arc<WatchedJob>, exec: Pin<&mut F>) -> Execution
    where
        F: Future<Output = Execution>,
    {
        Watched {
            watch: self,
            job,
            exec,
        }
        .await
    }
}

/// A job's execution, each poll timed.
struct Watched<'a, F> {
    watch: &'a LoopWatch,
    job: Arc<WatchedJob>,
    exec: Pin<&'a mut F>,
}

impl<F: Future<Output = Execution>> Future for Watched<'_, F> {
    type Output = Execution;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Execution> {
        let since = Instant::now();
        *self.watch.polling() = Some((self.job.clone(), since));
        let r = self.exec.as_mut().poll(cx);
        *self.watch.polling() = None;
        let took = since.elapsed();
        if took >= BLOCKING_POLL {
            self.watch.move_to_threads(&format!(
                "job {}'s handler held the worker's event loop for {took:?} in one poll (CPU \
                 work or a blocking call)",
                self.job.id
            ));
        }
        r
    }
}

/// The watchdog thread; stops when dropped.
pub(super) struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `watch`; `stuck` is called (on the watchdog's thread) once a handler that
    /// holds the loop is stuck and its jobs have been failed.
    pub(super) fn start(
        watch: Arc<LoopWatch>,
        env: WorkerEnv,
        running: Arc<RunningIds>,
        stuck: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Watchdog> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                if let Some(job) = watch_until_stuck(&watch, &stopped) {
                    fail_stuck(&env, &job, &running.snapshot());
                    stuck();
                }
            })?;
        Ok(Watchdog {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Watches until stopped (`None`) or a job's handler is stuck on the loop (that job).
fn watch_until_stuck(watch: &LoopWatch, stop: &AtomicBool) -> Option<Arc<WatchedJob>> {
    let mut said: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(WATCHDOG_TICK);
        let Some((job, since)) = watch.polling().clone() else {
            continue;
        };
        let now = Instant::now();
        if now - since >= SAY_BLOCKED_AFTER && said != Some(since) {
            said = Some(since);
            tracing::warn!(
                job = %job.id,
                "this job's handler has held the worker's event loop for {:?} in one poll; \
                 other jobs wait for it",
                now - since
            );
        }
        let Some(deadline) = job.deadline else {
            continue;
        };
        if now >= deadline && !job.cancel.is_cancelled() {
            job.cancel.cancel();
        }
        if now >= deadline + STUCK_GRACE && since + STUCK_GRACE <= now {
            return Some(job);
        }
    }
    None
}

/// Fails the stuck job (asking to be replaced) and the other jobs its loop holds.
fn fail_stuck(env: &WorkerEnv, job: &WatchedJob, running: &[String]) {
    tracing::error!(
        job = %job.id,
        "the handler ignored cancellation and holds the worker's event loop: failing its jobs \
         and exiting so the platform replaces this worker"
    );
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("the watchdog could not post the failures: {e}");
            return;
        }
    };
    // Not the loop's connections: they are driven by the loop's runtime, which is held.
    let platform = Platform::with_own_connections(env.clone());
    let mut timed_out = JobFailure::timed_out(job.timeout);
    timed_out.message.push_str(
        "; the handler ignored cancellation and blocked the worker's thread, so this worker \
         asks to be replaced",
    );
    let lost = JobFailure::new(
        FailureKind::WorkerLost,
        format!(
            "the worker running this job is being replaced: job {}'s handler blocked its event \
             loop and ignored cancellation; submit the job again",
            job.id
        ),
    );
    rt.block_on(async {
        let mut posts = vec![(job.id.as_str(), timed_out.to_wire())];
        posts.extend(
            running
                .iter()
                .filter(|id| **id != job.id)
                .map(|id| (id.as_str(), lost.to_wire())),
        );
        for (id, error) in posts {
            let body = serde_json::json!({ "error": error, "stopPod": true });
            let bytes = serde_json::to_vec(&body).expect("a JSON value serializes");
            if let Err(e) = platform.done_body(id, bytes, false).await {
                tracing::error!(job = %id, "the failure was not delivered: {e}");
            }
        }
    });
}
