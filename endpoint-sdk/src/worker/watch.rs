//! Handlers run on the worker's event loop, in the task of their job: a job crosses no thread
//! (handing each job to a pool and back cost a short job a third of its time). The watch makes
//! sure a handler that blocks that loop cannot hide or stall the worker for good:
//!
//! - each poll of a job is timed; one that holds the loop for [`BLOCKING_POLL`] or more (CPU
//!   work, a blocking call) moves the endpoint's later jobs to the handler threads, where they
//!   can block without holding back the job-takes and posts, and says so once in the log;
//! - the loop beats every [`WATCHDOG_TICK`]; a watchdog thread notices when it stops (held by a
//!   job's poll, or by a task a handler spawned), says what holds it, cancels the jobs whose
//!   deadline passes meanwhile (a handler that checks its `Ctx` stops), and once the job whose
//!   poll holds the loop is [`STUCK_GRACE`] past its deadline (or a task holds it that long
//!   past a job's), fails the overdue jobs (and, saying why, the others the held loop has),
//!   asks the platform to replace this worker (`stopPod`) and ends the worker, as the loop
//!   itself does for a stuck handler thread. The loop, should it run again, takes and posts
//!   nothing more.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

impl WatchedJob {
    /// Whether the job's budget ended at least `by` before `now`.
    fn overdue(&self, now: Instant, by: Duration) -> bool {
        self.deadline.is_some_and(|d| now >= d + by)
    }
}

/// What the loop is doing, shared with the watchdog.
pub(super) struct LoopWatch {
    /// The job whose poll the loop is in, and since when.
    polling: Mutex<Option<(Arc<WatchedJob>, Instant)>>,
    /// The jobs the loop runs.
    jobs: Mutex<Vec<Arc<WatchedJob>>>,
    /// When the loop last ran its beat (nanoseconds after `epoch`): a loop held by anything (a
    /// job's poll, a task a handler spawned) stops beating.
    beat: AtomicU64,
    epoch: Instant,
    /// Set once a handler held the loop: the endpoint's later jobs run on the handler threads.
    on_threads: AtomicBool,
    /// Set by the watchdog before it fails the held loop's jobs: the loop, if it runs again,
    /// takes no job and posts no result (the watchdog has posted them).
    replaced: AtomicBool,
    /// Set when the loop has ended: the watchdog stops.
    ended: AtomicBool,
}

impl Default for LoopWatch {
    fn default() -> Self {
        LoopWatch {
            polling: Mutex::default(),
            jobs: Mutex::default(),
            beat: AtomicU64::new(0),
            epoch: Instant::now(),
            on_threads: AtomicBool::new(false),
            replaced: AtomicBool::new(false),
            ended: AtomicBool::new(false),
        }
    }
}

impl LoopWatch {
    fn polling(&self) -> std::sync::MutexGuard<'_, Option<(Arc<WatchedJob>, Instant)>> {
        self.polling.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, Vec<Arc<WatchedJob>>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The loop runs: its beat, every [`WATCHDOG_TICK`], until the loop ends.
    pub(super) async fn beat(&self) {
        loop {
            self.touch();
            tokio::time::sleep(WATCHDOG_TICK).await;
        }
    }

    /// One beat: the loop runs now.
    fn touch(&self) {
        let at = self.epoch.elapsed().as_nanos() as u64;
        self.beat.store(at, Ordering::Relaxed);
    }

    /// Whether the watchdog has failed this loop's jobs and ended the worker: a job's result
    /// is no longer posted, and no job is taken.
    pub(super) fn replaced(&self) -> bool {
        self.replaced.load(Ordering::SeqCst)
    }

    /// The loop has ended (drained): the watchdog stops watching.
    pub(super) fn end(&self) {
        self.ended.store(true, Ordering::SeqCst);
    }

    /// How long the loop has not beaten.
    fn held(&self, now: Instant) -> Duration {
        let last = self.epoch + Duration::from_nanos(self.beat.load(Ordering::Relaxed));
        now.saturating_duration_since(last)
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
        self.jobs().push(job.clone());
        Watched {
            watch: self,
            job,
            exec,
        }
        .await
    }
}

/// A job's execution, each poll timed; the job leaves the watch when this ends or is dropped.
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
        // The loop runs again: a beat before the poll is cleared, so that the watchdog never
        // sees a loop that is polling nothing and has not beaten since this poll began.
        self.watch.touch();
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

impl<F> Drop for Watched<'_, F> {
    fn drop(&mut self) {
        self.watch.jobs().retain(|j| !Arc::ptr_eq(j, &self.job));
    }
}

/// The watchdog thread; stops when dropped.
pub(super) struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `watch`; `stuck` is called (on the watchdog's thread) once the loop is
    /// held past a job's deadline and its jobs have been failed.
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
                if let Some(held) = watch_until_stuck(&watch, &stopped) {
                    // The loop takes and posts nothing more (`replaced`), so these are the
                    // jobs it has, each failed once.
                    fail_stuck(&env, &held, &running.snapshot());
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

/// A loop held past its jobs' deadlines: what holds it, and the jobs overdue.
struct Held {
    /// The job whose poll holds the loop, if it is one.
    holder: Option<String>,
    overdue: Vec<Arc<WatchedJob>>,
}

/// Watches until stopped (`None`) or the loop is held past a deadline and its grace.
fn watch_until_stuck(watch: &LoopWatch, stop: &AtomicBool) -> Option<Held> {
    let mut said = None;
    while !stop.load(Ordering::Relaxed) && !watch.ended.load(Ordering::SeqCst) {
        std::thread::park_timeout(WATCHDOG_TICK);
        let now = Instant::now();
        // What holds the loop first: a poll's end beats before it clears itself, so a loop
        // seen polling nothing has its beat up to date.
        let polled = watch.polling().clone();
        let held = match &polled {
            Some((_, since)) => now.saturating_duration_since(*since),
            None => watch.held(now),
        };
        if held < SAY_BLOCKED_AFTER || watch.ended.load(Ordering::SeqCst) {
            continue;
        }
        let beat = watch.beat.load(Ordering::Relaxed);
        if said != Some(beat) {
            said = Some(beat);
            match &polled {
                Some((job, _)) => tracing::warn!(
                    job = %job.id,
                    "this job's handler has held the worker's event loop for {held:?} in one \
                     poll; other jobs wait for it"
                ),
                None => tracing::warn!(
                    "the worker's event loop has not run for {held:?}: a task holds it (one a \
                     handler spawned?); spawn blocking work with tokio::task::spawn_blocking"
                ),
            }
        }
        // The loop's own timers cannot fire: cancel the overdue jobs (a handler that checks its
        // `Ctx` stops).
        let jobs = watch.jobs().clone();
        for job in jobs.iter().filter(|j| j.overdue(now, Duration::ZERO)) {
            job.cancel.cancel();
        }
        // Stuck: the job whose poll holds the loop is past its deadline and the grace (a job
        // that holds it within its own budget only delays the others, whose timeouts the loop
        // reports when it runs again); or a task holds it, past some job's deadline and grace.
        let stuck = match &polled {
            Some((job, _)) => held >= STUCK_GRACE && job.overdue(now, STUCK_GRACE),
            None => held >= STUCK_GRACE && jobs.iter().any(|j| j.overdue(now, STUCK_GRACE)),
        };
        if stuck {
            watch.replaced.store(true, Ordering::SeqCst);
            return Some(Held {
                holder: polled.map(|(job, _)| job.id.clone()),
                overdue: jobs
                    .into_iter()
                    .filter(|j| j.overdue(now, Duration::ZERO))
                    .collect(),
            });
        }
    }
    None
}

/// Fails the overdue jobs (asking to be replaced) and the other jobs the held loop has.
fn fail_stuck(env: &WorkerEnv, held: &Held, running: &[String]) {
    let holder = match &held.holder {
        Some(job) => format!("job {job}'s handler"),
        None => "a task (one a handler spawned?)".to_string(),
    };
    tracing::error!(
        "{holder} has held the worker's event loop past a job's deadline and ignored \
         cancellation: failing its jobs and exiting so the platform replaces this worker"
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
    let lost = JobFailure::new(
        FailureKind::WorkerLost,
        format!(
            "the worker running this job is being replaced: {holder} held its event loop and \
             ignored cancellation; submit the job again"
        ),
    )
    .to_wire();
    let mut posts: Vec<(String, String)> = held
        .overdue
        .iter()
        .map(|job| {
            let mut failure = JobFailure::timed_out(job.timeout);
            failure.message.push_str(
                "; the handler ignored cancellation and blocked the worker's thread, so this \
                 worker asks to be replaced",
            );
            (job.id.clone(), failure.to_wire())
        })
        .collect();
    for id in running {
        if !posts.iter().any(|(p, _)| p == id) {
            posts.push((id.clone(), lost.clone()));
        }
    }
    rt.block_on(async {
        for (id, error) in posts {
            let body = serde_json::json!({ "error": error, "stopPod": true });
            if let Err(e) = platform.done(&id, &body, false).await {
                tracing::error!(job = %id, "the failure was not delivered: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::Outcome;

    #[tokio::test]
    async fn a_poll_beats_the_loop_before_it_stops_showing_its_job() {
        let watch = LoopWatch::default();
        std::thread::sleep(Duration::from_millis(30));
        assert!(
            watch.held(Instant::now()) >= Duration::from_millis(30),
            "no beat since the watch began"
        );
        let job = Arc::new(WatchedJob {
            id: "j1".into(),
            deadline: None,
            timeout: None,
            cancel: CancellationToken::new(),
        });
        let exec = std::pin::pin!(async {
            Execution {
                outcome: Outcome::Completed(serde_json::json!(1)),
                stuck: false,
            }
        });
        let done = watch.run(job, exec).await;
        assert_eq!(done.outcome, Outcome::Completed(serde_json::json!(1)));
        assert!(watch.polling().is_none(), "no poll shown once it ended");
        assert!(watch.jobs().is_empty(), "the job left the watch");
        assert!(
            watch.held(Instant::now()) < Duration::from_millis(30),
            "a loop that just polled is not held"
        );
    }
}
