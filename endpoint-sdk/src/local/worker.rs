//! A simulated worker: cold start, `init` once, then up to `concurrency` jobs at a time, each
//! under its execution timeout, until the janitor stops it (idle timeout) or the runtime shuts
//! down.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::endpoint::{EndpointRuntime, Outcome, TakenJob};
use crate::client::Client;
use crate::handler::{Ctx, EndpointDef, JobSink, WorkerState, panic_message};
use crate::job::{FailureKind, JobFailure};

/// Runs one simulated worker until it is stopped.
pub(crate) async fn run(ep: Arc<EndpointRuntime>, id: String, stop: CancellationToken) {
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
    ep.worker_ready(&id, started.elapsed());

    // One client per worker for the jobs' calls (each job gets its own trace and budget).
    let client = ep
        .shared
        .runtime
        .get()
        .map(|rt| Client::local_weak(rt.clone()));
    let slots = Arc::new(Semaphore::new(ep.config.concurrency.max(1) as usize));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.cancelled() => break,
        };
        // Every free slot takes a job in one go: under load, one wake-up starts many jobs.
        let free = 1 + slots.available_permits();
        let jobs = ep
            .take_wait(&id, free, false, Duration::from_secs(3600), &stop)
            .await;
        if jobs.is_empty() {
            if stop.is_cancelled() || !ep.worker_alive(&id) {
                break;
            }
            continue;
        }
        let mut first = Some(permit);
        for job in jobs {
            // Only this loop takes slots, so the ones counted free are still free.
            let permit = match first.take() {
                Some(p) => p,
                None => slots
                    .clone()
                    .try_acquire_owned()
                    .expect("a slot counted free is still free"),
            };
            tokio::spawn(run_job(
                ep.clone(),
                def.clone(),
                state.clone(),
                id.clone(),
                client.clone(),
                job,
                permit,
            ));
        }
    }
}

/// Where a simulated worker's progress updates and stream chunks go.
struct LocalSink {
    ep: Weak<EndpointRuntime>,
    worker: String,
    job: String,
}

impl JobSink for LocalSink {
    fn progress(&self, value: Value) {
        if let Some(ep) = self.ep.upgrade() {
            ep.progress(&self.worker, &self.job, value);
        }
    }

    fn stream(&self, value: Value) {
        if let Some(ep) = self.ep.upgrade() {
            ep.stream_chunk(&self.worker, &self.job, value);
        }
    }
}

async fn run_job(
    ep: Arc<EndpointRuntime>,
    def: EndpointDef,
    state: WorkerState,
    worker: String,
    client: Option<Client>,
    job: TakenJob,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    // The handler reads the input inside its session envelope; the id goes to the context.
    let session = crate::session::peek(&job.input).map(str::to_string);
    let input = job.input;
    let mut ctx = Ctx::builder(ep.name(), &job.id)
        .worker_id(&worker)
        .session(
            session,
            ep.shared.options.sessions.clone(),
            def.session_version(),
        )
        .trace_id(&job.trace_id)
        .deadline(job.deadline)
        .cancel(job.cancel.clone())
        .sink(Arc::new(LocalSink {
            ep: Arc::downgrade(&ep),
            worker: worker.clone(),
            job: job.id.clone(),
        }));
    if let Some(client) = client {
        ctx = ctx.client(client, ep.config.max_steps);
    }
    // Polled here, not on a task of its own: dropping it (timeout, cancellation) stops it, and
    // a panic inside it is caught.
    let handler = CatchUnwind(def.run(&state, ctx.build(), input));
    let deadline = job.deadline;
    let overdue = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        r = handler => match r {
            Ok(Ok(v)) => Some(Outcome::Output(v)),
            Ok(Err(failure)) => Some(Outcome::Error(failure.to_wire())),
            Err(panic) => {
                let msg = panic_message(&*panic);
                Some(Outcome::Error(
                    JobFailure::new(FailureKind::Panic, format!("the handler panicked: {msg}")).to_wire(),
                ))
            }
        },
        _ = overdue => {
            let ms = job.execution_timeout.map_or(0, |t| t.as_millis());
            Some(Outcome::TimedOut(
                JobFailure::new(
                    FailureKind::Timeout,
                    format!("the job ran past its execution timeout of {ms} ms and was stopped"),
                )
                .to_wire(),
            ))
        }
        // Ended elsewhere (cancelled, expired, timed out by the janitor): stop the handler.
        _ = job.cancel.cancelled() => None,
    };
    if let Some(outcome) = outcome {
        ep.complete(&worker, &job.id, outcome, false);
    }
}

/// A future whose panics become `Err(payload)`.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
