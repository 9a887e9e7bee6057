//! One job on the production worker: its `Ctx`, the one execution path (on the event loop, or
//! on the handler threads once a handler blocked the loop), and its result posted (after its
//! updates), with the platform's size limit enforced.

use std::sync::Arc;

use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::platform::Platform;
use super::posts::OrderedPosts;
use super::slots::Slots;
use super::watch::{LoopWatch, WatchedJob};
use crate::handler::{Ctx, EndpointDef, Outcome, WorkerState, execute, job_budget};
use crate::metrics::WorkerHandles;
use crate::protocol::limits::RESULT_LIMIT;
use crate::protocol::{FailureKind, JobFailure, JobObject, envelope};

/// Tokio's panic when `block_in_place` is called off a multi-threaded runtime (the event loop).
const BLOCK_IN_PLACE_PANIC: &str =
    "can call blocking only when running on the multi-threaded runtime";

pub(super) struct JobRunner {
    pub(super) def: EndpointDef,
    pub(super) state: WorkerState,
    pub(super) platform: Platform,
    pub(super) slots: Arc<Slots>,
    /// The handler threads, for the jobs of a handler that blocked the loop.
    pub(super) handlers: tokio::runtime::Handle,
    /// What the loop is polling, shared with the watchdog.
    pub(super) watch: Arc<LoopWatch>,
    pub(super) replace: CancellationToken,
    pub(super) client: crate::client::Client,
    /// The endpoint's config, shared by its jobs' contexts.
    pub(super) config: Arc<crate::config::EndpointConfig>,
    pub(super) sessions: crate::session::Sessions,
    /// The endpoint's session version tag, made once for the worker's jobs.
    pub(super) session_version: Arc<str>,
    /// The endpoint's metrics, looked up once.
    pub(super) metrics: Arc<WorkerHandles>,
    /// Results being delivered at once, at most the endpoint's concurrency. A job's next one
    /// starts while its result is posted; unbounded, a worker behind slow posts had a request
    /// (and a pooled connection with its buffers) in flight for every job it had finished.
    pub(super) delivering: tokio::sync::Semaphore,
}

impl JobRunner {
    pub(super) async fn run(self: Arc<Self>, wire: JobObject, stop: CancellationToken) {
        let span = tracing::info_span!("job", request_id = %wire.id);
        self.run_in_span(wire, stop).instrument(span).await
    }

    async fn run_in_span(self: Arc<Self>, job: JobObject, stop: CancellationToken) {
        let id = job.id;
        let slot = HandlerSlot(&self.slots);
        if stop.is_cancelled() {
            // The stop overtook the job-take answer: the platform already ended the job.
            tracing::info!("job stopped by the platform before it started");
            self.slots.remove(&id);
            return;
        }
        let meta = envelope::meta(&job.input);
        let session = meta.session;
        let started = Instant::now();
        // The platform enforces the ceiling; the caller's deadline reaches us in the envelope.
        let caller_left = meta.deadline.map(|d| d.remaining());
        let timeout = job_budget(self.def.config.execution_timeout(), caller_left);
        let deadline = timeout.map(|t| started + t);
        let chunks = self.metrics.chunks.clone();
        let posts = OrderedPosts::start(self.platform.clone(), id.clone(), chunks);
        let ctx = Ctx::builder(self.def.name(), &id)
            .worker_id(&self.platform.env().worker_id)
            .deadline(deadline)
            .cancel(stop)
            .sink(posts.clone())
            .client(self.client.clone(), self.def.config.max_steps)
            .config(self.config.clone())
            .traceparent(meta.traceparent)
            .session(session, self.sessions.clone(), self.session_version.clone())
            .build();
        tracing::info!(
            trace_id = ctx.trace_id(),
            span_id = %ctx.span_id(),
            parent_id = %ctx.parent_span_id().map(|p| p.to_string()).unwrap_or_default(),
            "job started"
        );
        let placement = self.watch.placement(&self.handlers);
        let inline = matches!(placement, crate::handler::Placement::Inline);
        let watched = Arc::new(WatchedJob {
            id: id.clone(),
            deadline: deadline.map(Instant::into_std),
            timeout,
            cancel: ctx.cancel_token(),
        });
        let input = Arc::new(job.input);
        let running = Running::start(&self.metrics);
        let (of_job, wall_start) = (ctx.clone(), std::time::SystemTime::now());
        let exec = std::pin::pin!(
            execute(&self.def, &self.state, ctx, input, timeout, &placement)
                .instrument(tracing::Span::current())
        );
        let mut done = self.watch.run(watched, exec).await;
        if let Outcome::Failed(f) = &mut done.outcome
            && inline
            && f.kind == FailureKind::Panic
            && f.message.contains(BLOCK_IN_PLACE_PANIC)
        {
            self.watch
                .move_to_threads("a handler called tokio::task::block_in_place on the event loop");
            f.message.push_str(
                "; block_in_place needs a multi-threaded runtime: this worker runs the \
                 endpoint's next jobs on its handler threads, where it works (or use \
                 tokio::task::spawn_blocking)",
            );
        }
        running.ended(&done.outcome, started.elapsed());
        // The platform knows the job's queue delay; the worker does not.
        crate::handler::span::job_ended(&of_job, wall_start, &done.outcome, None);
        if done.stuck {
            tracing::error!("the handler ignored cancellation: its thread is stuck");
            self.replace.cancel();
        }
        if self.watch.replaced() {
            // The watchdog failed this job when the loop was held, and ends the worker.
            self.slots.remove(&id);
            return;
        }
        // The handler returned: the next job may start while this one's result is posted
        // (unless it is stuck: then the worker takes no more), once a delivery is free. A job
        // waiting for one keeps its slot, so the worker takes no more jobs than it can deliver.
        let delivers = !matches!(done.outcome, Outcome::Stopped) || done.stuck;
        let _delivering = if delivers {
            Some(self.delivering.acquire().await)
        } else {
            None
        };
        drop(slot);
        posts.flush().await;
        let body = match done.outcome {
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
        // Serialized once: its size checked, then posted as it is.
        let serialize = |mut body: Value| {
            if done.stuck {
                body["stopPod"] = Value::Bool(true);
            }
            let bytes = serde_json::to_vec(&body).expect("a JSON value serializes");
            (body, bytes)
        };
        let (mut body, mut bytes) = serialize(body);
        // A result the platform would refuse becomes a clear error instead of vanishing.
        if bytes.len() > RESULT_LIMIT {
            (body, bytes) = serialize(failure_body(JobFailure::output_too_large(bytes.len())));
        }
        let failed = body.get("error").is_some();
        match self.platform.done_body(&id, bytes, false).await {
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

/// A job's handler slot, freed when dropped (when the handler returns, or the job ends before
/// it starts).
struct HandlerSlot<'a>(&'a Slots);

impl Drop for HandlerSlot<'_> {
    fn drop(&mut self) {
        self.0.handler_ended();
    }
}

/// A job counted among the worker's jobs in progress (the process's metrics) until it ends.
struct Running<'a>(&'a WorkerHandles);

impl<'a> Running<'a> {
    fn start(m: &'a WorkerHandles) -> Running<'a> {
        m.in_progress.inc();
        Running(m)
    }

    /// The job ended with `outcome` after `took`.
    fn ended(self, outcome: &Outcome, took: std::time::Duration) {
        let m = self.0;
        match outcome {
            Outcome::Completed(_) => m.completed.inc(),
            Outcome::Failed(_) => m.failed.inc(),
            Outcome::TimedOut(_) => m.timed_out.inc(),
            Outcome::Stopped => m.cancelled.inc(),
        };
        m.execution.observe(took.as_secs_f64());
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.in_progress.dec();
    }
}
