//! A simulated worker: cold start, `init` once, then up to `concurrency` jobs at a time, each
//! run by the one execution path ([`execute`](crate::handler::execute)) under its execution timeout, until
//! the janitor stops it (idle timeout) or the runtime shuts down. A `/runsync` job that finds
//! nothing queued before it and a free slot starts on that slot at once and runs in the
//! request's task ([`Detachable`]); every other job is taken by the worker's own task.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::shell::LocalEndpoint;
use super::state::stream::UNREAD_LIMIT;
use super::state::{JobReport, Runner, TakenJob};
use crate::handler::backlog::Backlog;
use crate::handler::{Ctx, EndpointDef, JobSink, Outcome, Placement, execute};
use crate::protocol::StatusObject;

/// Runs one simulated worker until it is stopped.
pub(crate) async fn run(ep: Arc<LocalEndpoint>, id: Arc<str>, stop: CancellationToken) {
    let Some(def) = ep.def.clone() else {
        return;
    };
    let started = Instant::now();
    let cold_start = ep.shared.options.cold_start;
    if !cold_start.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(cold_start) => {}
            _ = stop.cancelled() => return,
        }
    }
    let state = tokio::select! {
        r = def.init() => r,
        _ = stop.cancelled() => return,
    };
    let state = match state {
        Ok(s) => s,
        Err(e) => {
            ep.worker_init_failed(&id, e.to_string());
            return;
        }
    };
    let runner = Arc::new(Runner {
        slots: Arc::new(Semaphore::new(ep.config.concurrency.max(1) as usize)),
        state,
        // One client per worker for the jobs' calls (each job gets its own trace and budget).
        client: ep.shared.calls.get().cloned(),
        worker: id,
        session_version: Arc::from(def.session_version()),
    });
    ep.worker_ready(runner.clone(), started.elapsed());
    loop {
        let jobs = ep.take_for(&runner, &stop).await;
        if jobs.is_empty() {
            break;
        }
        for (job, slot) in jobs {
            tokio::spawn(run_job(
                ep.clone(),
                def.clone(),
                runner.clone(),
                job,
                slot,
                false,
            ));
        }
    }
}

/// Where a simulated worker's progress updates and stream chunks go.
struct LocalSink {
    ep: Weak<LocalEndpoint>,
    worker: Arc<str>,
    job: Arc<str>,
    /// The job's unread stream bytes, from its first chunk on: `Chunks::send` waits while
    /// there are too many.
    unread: OnceLock<Arc<Backlog>>,
}

impl JobSink for LocalSink {
    fn progress(&self, value: Value) {
        if let Some(ep) = self.ep.upgrade() {
            ep.progress(&self.worker, &self.job, value);
        }
    }

    fn stream(&self, value: Value) {
        if let Some(ep) = self.ep.upgrade() {
            let meter = self.unread.get().is_none();
            if let Some(unread) = ep.simulated_chunk(&self.worker, &self.job, value, meter) {
                let _ = self.unread.set(unread);
            }
        }
    }

    fn ready(&self) -> crate::BoxFuture<'_, ()> {
        match self.unread.get() {
            Some(unread) => Box::pin(unread.room(UNREAD_LIMIT)),
            None => Box::pin(std::future::ready(())),
        }
    }
}

/// Runs one job on `runner` and reports its end. With `report`, returns the job's status object
/// once it has ended here (`None` when it ended elsewhere: cancelled, expired).
pub(crate) async fn run_job(
    ep: Arc<LocalEndpoint>,
    def: EndpointDef,
    runner: Arc<Runner>,
    job: TakenJob,
    _slot: OwnedSemaphorePermit,
    report: bool,
) -> Option<StatusObject> {
    // The envelope was kept apart from the input: the session id goes to the context.
    let session = job.session;
    // The caller's deadline from the envelope, when it is sooner than the runtime's own.
    let by_caller = job.caller_deadline.map(|d| {
        let left = d.remaining();
        (Instant::now() + left, left)
    });
    let (deadline, timeout) = match by_caller {
        Some((at, left)) if job.deadline.is_none_or(|d| at < d) => (Some(at), Some(left)),
        _ => (job.deadline, job.execution_timeout),
    };
    let worker = &*runner.worker;
    let mut ctx = Ctx::builder(&**ep.name(), &*job.id)
        .worker_id(worker)
        .session(
            session,
            ep.shared.options.sessions.clone(),
            runner.session_version.clone(),
        )
        .trace(job.trace_id, job.parent_span)
        .config(ep.config.clone())
        .deadline(deadline)
        .cancel(job.cancel)
        .sink(Arc::new(LocalSink {
            ep: Arc::downgrade(&ep),
            worker: runner.worker.clone(),
            job: job.id.clone(),
            unread: OnceLock::new(),
        }));
    if let Some(client) = runner.client.clone() {
        ctx = ctx.client(client, ep.config.max_steps);
    }
    let ctx = ctx.build();
    let calls_of = ctx.clone();
    let wall_start = std::time::SystemTime::now();
    let done = execute(
        &def,
        &runner.state,
        ctx,
        job.input,
        timeout,
        &Placement::Inline,
    )
    .await;
    crate::handler::span::job_ended(&calls_of, wall_start, &done.outcome, Some(job.queue_delay));
    // The job's calls, kept with it for the dashboard's waterfall (none made, nothing kept).
    if let Some(calls) = calls_of.calls_made().filter(|c| !c.is_empty()) {
        ep.shared.call_trees.record(&job.id, calls);
    }
    let outcome = match done.outcome {
        // A result the platform would refuse from a worker is refused here too.
        Outcome::Completed(v) => match crate::protocol::limits::json_len(&v) {
            n if n > crate::protocol::limits::RESULT_LIMIT => {
                JobReport::Error(crate::protocol::JobFailure::output_too_large(n).to_wire())
            }
            _ => JobReport::Output(v),
        },
        Outcome::Failed(f) => JobReport::Error(f.to_wire()),
        Outcome::TimedOut(f) => JobReport::TimedOut(f.to_wire()),
        // Ended elsewhere (cancelled, expired, timed out by the janitor).
        Outcome::Stopped => return None,
    };
    if report {
        ep.complete_with_status(worker, &job.id, outcome)
    } else {
        ep.complete(worker, &job.id, outcome, false);
        None
    }
}

/// A job run by the task that asked for it (a `/runsync` request): polled there while that task
/// waits for it, and moved to a task of its own if the asker stops waiting first (its wait is
/// over, or its client went away), so the job always runs to its end.
pub(crate) struct Detachable<T: Send + 'static>(Option<Pin<Box<dyn Future<Output = T> + Send>>>);

impl<T: Send + 'static> Detachable<T> {
    pub(crate) fn new(job: impl Future<Output = T> + Send + 'static) -> Self {
        Detachable(Some(Box::pin(job)))
    }
}

impl<T: Send + 'static> Future for Detachable<T> {
    type Output = T;

    /// Must not be polled again once it has returned `Ready`.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let job = self
            .0
            .as_mut()
            .expect("a Detachable is not polled after it ended");
        let done = job.as_mut().poll(cx);
        if done.is_ready() {
            self.0 = None;
        }
        done
    }
}

impl<T: Send + 'static> Drop for Detachable<T> {
    fn drop(&mut self) {
        if let Some(job) = self.0.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            // Its output (a status object) has nobody to go to any more.
            rt.spawn(async move {
                job.await;
            });
        }
    }
}
