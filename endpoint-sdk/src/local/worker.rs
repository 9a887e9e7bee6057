//! A simulated worker: cold start, `init` once, then up to `concurrency` jobs at a time, each
//! under its execution timeout, until the janitor stops it (idle timeout) or the runtime shuts
//! down.

use std::sync::{Arc, Weak};
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

    let slots = Arc::new(Semaphore::new(ep.config.concurrency.max(1) as usize));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.cancelled() => break,
        };
        let jobs = ep
            .take_wait(&id, 1, false, Duration::from_secs(3600), &stop)
            .await;
        let Some(job) = jobs.into_iter().next() else {
            if stop.is_cancelled() || !ep.worker_alive(&id) {
                break;
            }
            continue;
        };
        tokio::spawn(run_job(
            ep.clone(),
            def.clone(),
            state.clone(),
            id.clone(),
            job,
            permit,
        ));
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
    job: TakenJob,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    let (session, input) = crate::session::unwrap(job.input.clone());
    let ctx = Ctx::builder(ep.name(), &job.id)
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
    let ctx = match ep.shared.runtime.get() {
        Some(rt) => ctx.client(Client::local_weak(rt.clone()), ep.config.max_steps),
        None => ctx,
    }
    .build();
    let mut handle = tokio::spawn(def.run(&state, ctx, input));
    let deadline = job.deadline;
    let overdue = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        r = &mut handle => match r {
            Ok(Ok(v)) => Some(Outcome::Output(v)),
            Ok(Err(failure)) => Some(Outcome::Error(failure.to_wire())),
            Err(join) if join.is_panic() => {
                let msg = panic_message(&*join.into_panic());
                Some(Outcome::Error(
                    JobFailure::new(FailureKind::Panic, format!("the handler panicked: {msg}")).to_wire(),
                ))
            }
            Err(_) => None,
        },
        _ = overdue => {
            handle.abort();
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
        _ = job.cancel.cancelled() => {
            handle.abort();
            None
        }
    };
    if let Some(outcome) = outcome {
        ep.complete(&worker, &job.id, outcome, false);
    }
}
