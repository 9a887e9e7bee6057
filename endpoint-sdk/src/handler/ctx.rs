//! `Ctx`: what a handler knows about the job it runs, and its way to reach the platform.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use serde::Serialize;

use crate::client::Trace;
use crate::client::{CallRecord, CallScope, Caller, Client};
use crate::config::EndpointConfig;
use crate::protocol::trace_context::{SpanId, TraceId, TraceParent};
use crate::session::{Session, SessionError, Sessions};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Where a running job's progress updates and stream chunks go: the local runtime's job record,
/// or the worker's ordered posts to the platform.
pub trait JobSink: Send + Sync {
    /// A progress update (the job's `output` while it runs).
    fn progress(&self, value: Value);
    /// A stream chunk (read by `/stream/{id}`).
    fn stream(&self, value: Value);
    /// Waits while the sink is too far behind to take more chunks (back-pressure on a
    /// producer faster than the posts). Ready at once by default.
    fn ready(&self) -> crate::BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// The context of one job: its id, its deadline, its cancellation, and (through the typed
/// handles) the way to call other endpoints. Cheap to clone.
///
/// A handler receives it by declaring a parameter of type `Ctx` or `&Ctx`:
///
/// ```
/// use endpoint_sdk::prelude::*;
///
/// #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
/// async fn whoami(ctx: &Ctx) -> String {
///     format!("job {} on {}", ctx.job_id(), ctx.worker_id())
/// }
/// ```
#[derive(Clone)]
pub struct Ctx {
    pub(crate) inner: Arc<CtxInner>,
}

pub(crate) struct CtxInner {
    pub(crate) job_id: String,
    pub(crate) endpoint: String,
    pub(crate) worker_id: String,
    /// The trace, and its id in hex (as [`Ctx::trace_id`] shows it).
    pub(crate) trace_id: TraceId,
    pub(crate) trace_hex: std::sync::OnceLock<String>,
    /// The job's own span, and the caller's call it descends from.
    pub(crate) span_id: SpanId,
    pub(crate) parent_span: Option<SpanId>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: CancellationToken,
    pub(crate) sink: Option<Arc<dyn JobSink>>,
    /// The worker's client; the job's own (with its trace and step budget) is made from it on
    /// first use.
    pub(crate) base_client: Option<Client>,
    pub(crate) max_steps: Option<u32>,
    /// The endpoint's config, when the runtime gives it: its declared callees, env and secrets.
    pub(crate) endpoint_config: Option<Arc<EndpointConfig>>,
    pub(crate) client: std::sync::OnceLock<Client>,
    pub(crate) session_id: Option<String>,
    pub(crate) sessions: Option<Sessions>,
    /// `None`: the endpoint's name serves as the tag.
    pub(crate) session_version: Option<Arc<str>>,
    pub(crate) session: tokio::sync::OnceCell<Session>,
    /// A load-balancing request's span, exported when the last clone of its context goes (its
    /// handler and any body it streams are done with it). `None` for jobs, whose runtimes
    /// export their spans, and when no exporter runs.
    pub(crate) request_span: Option<crate::telemetry::RequestSpan>,
}

impl CtxInner {
    /// The job's span, started at `started` and ending now, completed unless told otherwise.
    pub(crate) fn job_span(&self, started: std::time::SystemTime) -> crate::telemetry::JobSpan<'_> {
        crate::telemetry::JobSpan {
            endpoint: &self.endpoint,
            job_id: &self.job_id,
            worker_id: &self.worker_id,
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent: self.parent_span,
            started,
            ended: std::time::SystemTime::now(),
            status: crate::protocol::JobStatus::Completed,
            error: None,
            queue_delay: None,
            http: None,
        }
    }
}

impl Drop for CtxInner {
    fn drop(&mut self) {
        if let Some(request) = &self.request_span {
            let calls = self.client.get().map(|c| c.trace());
            request.ended(self.job_span(request.started), calls);
        }
    }
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("job_id", &self.inner.job_id)
            .field("endpoint", &self.inner.endpoint)
            .field("worker_id", &self.inner.worker_id)
            .field("trace_id", &self.inner.trace_id)
            .field("span_id", &self.inner.span_id)
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl Ctx {
    /// A context for running a handler outside any runtime (a test, a script): job id `local`,
    /// no deadline.
    pub fn detached(endpoint: impl Into<String>) -> Ctx {
        Ctx::builder(endpoint, "local").build()
    }

    /// Starts a context for job `job_id` of `endpoint` (for runtimes and tests).
    pub fn builder(endpoint: impl Into<String>, job_id: impl Into<String>) -> CtxBuilder {
        CtxBuilder {
            job_id: job_id.into(),
            endpoint: endpoint.into(),
            worker_id: None,
            trace: None,
            deadline: None,
            cancel: None,
            sink: None,
            base_client: None,
            max_steps: None,
            endpoint_config: None,
            session_id: None,
            sessions: None,
            session_version: None,
            request_span: None,
        }
    }

    /// The job's id.
    pub fn job_id(&self) -> &str {
        &self.inner.job_id
    }

    /// The name of the endpoint running the job.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The worker running the job.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// The W3C trace id (32 hex digits) that follows the job through every call it makes, in
    /// this process and across processes: the caller's, or a new one for a job nobody in a
    /// trace called.
    pub fn trace_id(&self) -> &str {
        self.inner
            .trace_hex
            .get_or_init(|| self.inner.trace_id.to_string())
    }

    /// The job's own span in its trace: the parent of every call it makes.
    pub fn span_id(&self) -> SpanId {
        self.inner.span_id
    }

    /// The span of the call that submitted the job (from its `traceparent`), if a caller in a
    /// trace submitted it.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.inner.parent_span
    }

    /// The W3C `traceparent` naming this job's span, for requests the handler sends itself (to
    /// a model server, say), so that they join the job's trace.
    pub fn traceparent(&self) -> String {
        TraceParent::new(self.inner.trace_id, self.inner.span_id).to_string()
    }

    /// When the job's execution budget runs out, if it has one (on Tokio's clock, so a test on
    /// a paused clock sees the runtime's deadlines).
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline
    }

    /// The token that cancels the job.
    pub(crate) fn cancel_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// The execution budget left; `None` without a deadline, zero once it has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.inner
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the job was cancelled (by a caller, a timeout, or the platform).
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Completes when the job is cancelled; `select!` on it to stop long work early.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await
    }

    /// Waits until the job's stream can take more chunks (see [`JobSink::ready`]).
    pub(crate) async fn stream_ready(&self) {
        if let Some(sink) = &self.inner.sink {
            sink.ready().await;
        }
    }

    /// Reports progress: while the job runs, its status shows this as `output`. Updates are
    /// delivered in order and always before the job's result.
    pub fn progress(&self, update: impl Serialize) {
        if let (Some(sink), Ok(v)) = (&self.inner.sink, serde_json::to_value(update)) {
            sink.progress(v);
        }
    }

    /// Where this job's calls to other endpoints go: the runtime's transport (in-process
    /// locally, HTTP on the platform). A context built without one calls over HTTP with routes
    /// from the environment ([`Client::from_env`]).
    pub fn client(&self) -> Client {
        self.inner
            .client
            .get_or_init(|| {
                let base = match &self.inner.base_client {
                    Some(c) => c.clone(),
                    None => {
                        static FROM_ENV: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
                        FROM_ENV.get_or_init(Client::from_env).clone()
                    }
                };
                let trace = Trace::new(self.inner.trace_id, self.inner.span_id);
                base.for_job(trace, self.inner.max_steps)
            })
            .clone()
    }

    /// The calls this job has made so far, with their queue delays and execution times (print
    /// them with [`crate::client::trace::waterfall`]).
    pub fn calls(&self) -> Vec<CallRecord> {
        self.client().trace().records()
    }

    /// The calls made so far, if the job used its client at all (unlike [`Ctx::calls`], this
    /// makes no client for a job that made no call).
    pub(crate) fn calls_made(&self) -> Option<Vec<CallRecord>> {
        self.calls_trace().map(Trace::records)
    }

    /// The job's calls with their clock, if the job used its client at all.
    pub(crate) fn calls_trace(&self) -> Option<&Trace> {
        self.inner.client.get().map(|c| c.trace())
    }

    /// An environment variable the endpoint declares, with the value it has deployed: a key
    /// set with `env(KEY = "..")` has that value (locally too, whatever the shell says), and a
    /// name in `secrets = [..]` is read from the process environment (the platform injects
    /// secrets there; locally, export it). `None` for anything the endpoint does not declare:
    /// a variable of the developer's shell would not exist deployed (read the machine's own,
    /// such as `PATH`, with `std::env::var`). A context built without its endpoint's config
    /// reads the process environment.
    pub fn env(&self, key: &str) -> Option<String> {
        let Some(config) = &self.inner.endpoint_config else {
            return std::env::var(key).ok();
        };
        if let Some(var) = config.env.iter().find(|e| e.key == key) {
            return Some(var.value.to_string());
        }
        if config.secrets.iter().any(|s| s == key) {
            return std::env::var(key).ok();
        }
        None
    }

    /// The id of this job's session: the one the caller gave, or the job's id.
    pub fn session_id(&self) -> &str {
        self.inner
            .session_id
            .as_deref()
            .unwrap_or(&self.inner.job_id)
    }

    /// This job's session, opened on first use from the runtime's session store: checkpointed
    /// steps and a key/value area that survive the worker (see [`crate::session`]).
    pub async fn session(&self) -> Result<Session, SessionError> {
        self.inner
            .session
            .get_or_try_init(|| async {
                let sessions = self.inner.sessions.clone().unwrap_or_else(Sessions::memory);
                let version = self
                    .inner
                    .session_version
                    .as_deref()
                    .unwrap_or(&self.inner.endpoint);
                Session::open(&sessions, self.session_id(), version).await
            })
            .await
            .cloned()
    }

    /// Calls this job may still make (`max_steps`); `None` without a limit.
    pub fn steps_left(&self) -> Option<u32> {
        match self.inner.client.get() {
            Some(c) => c.steps_left(),
            None => self.inner.max_steps,
        }
    }

    /// Sends a stream chunk, read by the platform's `/stream/{id}` (e.g. tokens as an LLM
    /// produces them). Chunks are delivered in order and always before the job's result.
    pub fn stream(&self, chunk: impl Serialize) {
        if let (Some(sink), Ok(v)) = (&self.inner.sink, serde_json::to_value(chunk)) {
            sink.stream(v);
        }
    }
}

/// Builds a [`Ctx`]. Fields not set take their defaults when [`build`](Self::build) runs
/// (worker `local`, a new trace, a fresh cancellation token), so a runtime that sets them all
/// pays for nothing twice.
pub struct CtxBuilder {
    job_id: String,
    endpoint: String,
    worker_id: Option<String>,
    trace: Option<(TraceId, Option<SpanId>)>,
    deadline: Option<Instant>,
    cancel: Option<CancellationToken>,
    sink: Option<Arc<dyn JobSink>>,
    base_client: Option<Client>,
    max_steps: Option<u32>,
    endpoint_config: Option<Arc<EndpointConfig>>,
    session_id: Option<String>,
    sessions: Option<Sessions>,
    session_version: Option<Arc<str>>,
    request_span: Option<crate::telemetry::RequestSpan>,
}

impl CtxBuilder {
    /// The worker running the job.
    pub fn worker_id(mut self, worker_id: impl Into<String>) -> Self {
        self.worker_id = Some(worker_id.into());
        self
    }

    /// The trace the job belongs to, and the caller's span it descends from (`None`: a root
    /// job). Without it, the job starts a new trace.
    pub fn trace(mut self, trace_id: TraceId, parent: Option<SpanId>) -> Self {
        self.trace = Some((trace_id, parent));
        self
    }

    /// The trace context the job's input envelope carried (`None`: the job starts a new trace).
    pub fn traceparent(mut self, traceparent: Option<TraceParent>) -> Self {
        self.trace = traceparent.map(|tp| (tp.trace_id, Some(tp.parent_id)));
        self
    }

    /// The deadline of the job's execution budget.
    pub fn deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The token that cancels the job.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// The job's session: its id (`None`: the job id), where sessions are stored, and the
    /// version tag of this build's sessions.
    pub fn session(
        mut self,
        id: Option<String>,
        sessions: Sessions,
        version: impl Into<Arc<str>>,
    ) -> Self {
        self.session_id = id;
        self.sessions = Some(sessions);
        self.session_version = Some(version.into());
        self
    }

    /// Where progress updates and stream chunks go.
    pub fn sink(mut self, sink: Arc<dyn JobSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Calls to other endpoints go through `client`, within a budget of `max_steps` calls.
    pub fn client(mut self, client: Client, max_steps: Option<u32>) -> Self {
        // Each job gets its own trace (named by its trace id) and step budget, on first use.
        self.base_client = Some(client);
        self.max_steps = max_steps;
        self
    }

    /// The endpoint's configuration, as its runtime runs it. A call to an endpoint it does not
    /// list in `calls = [..]` then fails at once with
    /// [`CallError::Undeclared`](crate::CallError::Undeclared), as it would on the platform,
    /// where only declared callees are wired; and [`Ctx::env`] answers from its `env(..)` and
    /// `secrets`.
    pub fn config(mut self, config: Arc<EndpointConfig>) -> Self {
        self.endpoint_config = Some(config);
        self
    }

    /// Marks the context as a load-balancing request's, whose span is exported when the
    /// context is dropped.
    pub(crate) fn request_span(mut self, span: Option<crate::telemetry::RequestSpan>) -> Self {
        self.request_span = span;
        self
    }

    /// The context.
    pub fn build(self) -> Ctx {
        let (trace_id, parent_span) = self.trace.unwrap_or_else(|| (TraceId::random(), None));
        Ctx {
            inner: Arc::new(CtxInner {
                job_id: self.job_id,
                endpoint: self.endpoint,
                worker_id: self.worker_id.unwrap_or_else(|| "local".to_string()),
                trace_id,
                trace_hex: std::sync::OnceLock::new(),
                span_id: SpanId::random(),
                parent_span,
                deadline: self.deadline,
                cancel: self.cancel.unwrap_or_default(),
                sink: self.sink,
                base_client: self.base_client,
                max_steps: self.max_steps,
                endpoint_config: self.endpoint_config,
                client: std::sync::OnceLock::new(),
                session_id: self.session_id,
                sessions: self.sessions,
                session_version: self.session_version,
                session: tokio::sync::OnceCell::new(),
                request_span: self.request_span,
            }),
        }
    }
}

/// A job's calls carry its deadline and cancellation: a callee never outlives its caller.
impl Caller for Ctx {
    fn call_scope(&self) -> CallScope {
        CallScope {
            client: self.client(),
            deadline: self.deadline(),
            cancel: self.cancel_token(),
            endpoint_config: self.inner.endpoint_config.clone(),
        }
    }
}
