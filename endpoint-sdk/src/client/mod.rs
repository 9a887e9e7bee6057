//! Typed calls between endpoints, and from plain client code.
//!
//! `#[endpoint]` generates, on the handle type named after the function:
//!
//! - `scrape::call(&ctx, input) -> Result<Output, CallError<Error>>`: submit, wait, decode;
//! - `scrape::submit(&ctx, input) -> Result<JobHandle<scrape>, _>`: `status()`, `wait()`,
//!   `cancel()`, `stream()`;
//! - `scrape::fan_out(&ctx, inputs)`: bounded, results in input order, one `Result` per input;
//!   `.fail_fast()` stops at the first failure and cancels the rest.
//!
//! The caller is a job's [`Ctx`] or a [`Client`] (outside any endpoint). Every call
//! carries the caller's **deadline** (the child's `policy.executionTimeout` is the smaller of its
//! own ceiling and the caller's remaining budget, and no call starts once the budget is spent),
//! its **cancellation** (cancelling, timing out or dropping the caller cancels its in-flight
//! children on the platform), its **trace** (each call's queue delay and execution time are
//! recorded), and its **step budget** (`max_steps`). Failures that may pass (transport errors,
//! 429, 5xx, a lost worker) are **retried** with exponential back-off and jitter, within the
//! deadline; the callee's own error never is.

mod error;
mod fan_out;
pub mod http;
pub mod trace;
mod transport;

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use error::CallError;
pub use fan_out::{DEFAULT_CONCURRENCY, FanOut, FanOutFailFast};
pub use http::{HttpRoutes, HttpTransport};
pub use trace::{CallRecord, Trace};
pub use transport::{Transport, TransportError};

use crate::endpoint::Endpoint;
use crate::handler::Ctx;
use crate::protocol::{FailureKind, JobFailure, JobStatus, StatusObject};
use crate::protocol::{Policy, RunRequest};

/// How long past the caller's deadline a call keeps waiting (see `SubmittedJob::submit`).
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// Retries of a call: only for failures that may pass, within the caller's deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 means no retry.
    pub max_attempts: u32,
    /// The first back-off.
    pub initial_backoff: Duration,
    /// The longest back-off.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The back-off before attempt `attempt + 1`: exponential, with full jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(ms / 2 + fastrand::u64(0..=ms / 2))
    }
}

/// Options of one call (or of every call to an endpoint, see [`Client::endpoint_options`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Retries.
    pub retry: RetryPolicy,
    /// The longest the caller waits for this call (queue and run), in addition to its deadline.
    pub timeout: Option<Duration>,
    /// Submit as low priority (does not trigger scaling).
    pub low_priority: bool,
    /// The job's TTL on the platform.
    pub ttl: Option<Duration>,
    /// The session the job belongs to (see [`crate::session`]): it travels in the job's input,
    /// and jobs of one session resume its checkpointed steps.
    pub session: Option<String>,
}

impl CallOptions {
    /// Options with `retry`.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Options with a wait bound.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Options for a job of session `id`.
    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.session = Some(id.into());
        self
    }
}

/// Makes calls from code outside any endpoint (a script, a web backend, a test), over a
/// transport: in-process into a local runtime, or HTTP to the platform or `app dev`.
///
/// ```no_run
/// # async fn demo() {
/// use endpoint_sdk::client::{Client, HttpRoutes};
/// // The cloud, with ENDPOINT_ID_<NAME> and RUNPOD_API_KEY from the environment:
/// let cloud = Client::from_env();
/// // `app dev` on this machine:
/// let dev = Client::http(HttpRoutes::new("http://127.0.0.1:8000/v2"));
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn Transport>,
    defaults: CallOptions,
    per_endpoint: Arc<std::collections::HashMap<String, CallOptions>>,
    trace: Arc<Trace>,
    max_steps: Option<u32>,
    steps: Arc<Steps>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.transport.describe())
            .field("defaults", &self.defaults)
            .finish()
    }
}

impl Client {
    /// A client over any transport.
    pub fn with_transport(transport: Arc<dyn Transport>) -> Self {
        Client {
            transport,
            defaults: CallOptions::default(),
            per_endpoint: Arc::default(),
            trace: Arc::new(Trace::new(uuid::Uuid::new_v4().to_string())),
            max_steps: None,
            steps: Arc::new(Steps::new(None)),
        }
    }

    /// Calls over HTTP.
    pub fn http(routes: HttpRoutes) -> Self {
        Client::with_transport(Arc::new(HttpTransport::new(routes)))
    }

    /// Calls over HTTP with routes and key from the environment ([`HttpRoutes::from_env`]).
    pub fn from_env() -> Self {
        Client::http(HttpRoutes::from_env())
    }

    /// Default options of every call.
    pub fn options(mut self, options: CallOptions) -> Self {
        self.defaults = options;
        self
    }

    /// Options of every call to endpoint `name` (e.g. no retries for a non-idempotent one).
    pub fn endpoint_options(mut self, name: impl Into<String>, options: CallOptions) -> Self {
        Arc::make_mut(&mut self.per_endpoint).insert(name.into(), options);
        self
    }

    /// A budget of calls through this client (each fan-out item counts).
    pub fn max_steps(mut self, steps: u32) -> Self {
        self.max_steps = Some(steps);
        self.steps = Arc::new(Steps::new(Some(steps)));
        self
    }

    /// The calls made through this client outside any job.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Calls this client may still make, `None` without a limit.
    pub fn steps_left(&self) -> Option<u32> {
        self.steps.left()
    }

    fn options_for(&self, endpoint: &str) -> CallOptions {
        self.per_endpoint
            .get(endpoint)
            .cloned()
            .unwrap_or_else(|| self.defaults.clone())
    }

    /// The same client, for one job: its own trace and step budget.
    pub(crate) fn for_job(&self, trace_id: &str, max_steps: Option<u32>) -> Client {
        Client {
            trace: Arc::new(Trace::new(trace_id)),
            max_steps,
            steps: Arc::new(Steps::new(max_steps)),
            ..self.clone()
        }
    }
}

/// A step budget.
#[derive(Debug)]
pub(crate) struct Steps {
    limit: Option<u32>,
    used: AtomicU32,
}

impl Steps {
    fn new(limit: Option<u32>) -> Self {
        Steps {
            limit,
            used: AtomicU32::new(0),
        }
    }

    /// Takes a step; `Err(limit)` when the budget is spent.
    fn take(&self) -> Result<(), u32> {
        let used = self.used.fetch_add(1, Ordering::SeqCst);
        match self.limit {
            Some(limit) if used >= limit => Err(limit),
            _ => Ok(()),
        }
    }

    /// Steps left, `None` without a limit.
    pub(crate) fn left(&self) -> Option<u32> {
        self.limit
            .map(|l| l.saturating_sub(self.used.load(Ordering::SeqCst)))
    }
}

/// What a caller brings to a call: where calls go, the deadline, the cancellation, the trace
/// and the step budget.
#[derive(Clone)]
pub struct CallScope {
    client: Client,
    deadline: Option<Instant>,
    cancel: CancellationToken,
}

impl CallScope {
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Who makes a call: a job's [`Ctx`] (its deadline, cancellation, trace, step budget), or a
/// [`Client`].
pub trait Caller {
    /// The scope of calls made by this caller.
    fn call_scope(&self) -> CallScope;
}

impl Caller for Client {
    fn call_scope(&self) -> CallScope {
        CallScope {
            client: self.clone(),
            deadline: None,
            cancel: CancellationToken::new(),
        }
    }
}

impl Caller for Ctx {
    fn call_scope(&self) -> CallScope {
        CallScope {
            client: self.client(),
            deadline: self.deadline(),
            cancel: self.cancel_token(),
        }
    }
}

impl<C: Caller> Caller for &C {
    fn call_scope(&self) -> CallScope {
        (**self).call_scope()
    }
}

fn from_transport<E>(endpoint: &str, e: TransportError) -> CallError<E> {
    match e {
        TransportError::Unavailable(message) => CallError::Transport {
            endpoint: endpoint.to_string(),
            message,
        },
        TransportError::Rejected { status, message } => CallError::Rejected {
            endpoint: endpoint.to_string(),
            status,
            message,
        },
    }
}

/// Cancels a submitted job on the platform if the call is dropped before it ends (the caller
/// was cancelled, timed out, or failed).
struct CancelOnDrop {
    transport: Arc<dyn Transport>,
    endpoint: &'static str,
    job: Option<String>,
}

impl CancelOnDrop {
    fn disarm(&mut self) {
        self.job = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(job) = self.job.take() else { return };
        let transport = self.transport.clone();
        let endpoint = self.endpoint;
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = transport.cancel(endpoint, &job).await {
                    tracing::warn!(endpoint, job = %job, "could not cancel an abandoned call: {e:?}");
                }
            });
        }
    }
}

/// The `policy.executionTimeout` a child is submitted with: the smaller of its own ceiling and
/// the caller's remaining budget (never below the platform's 5 s minimum), or `None` when the
/// budget is not tighter than the ceiling (the endpoint's own setting then applies).
pub fn child_execution_timeout(
    ceiling: Option<Duration>,
    remaining: Option<Duration>,
) -> Option<Duration> {
    let remaining = remaining?;
    if ceiling.is_some_and(|c| c <= remaining) {
        return None;
    }
    Some(remaining.max(crate::protocol::limits::MIN_EXECUTION_TIMEOUT))
}

/// Decodes a final status into the callee's output or error.
fn decode<E: Endpoint>(
    st: &StatusObject,
    waited: Duration,
) -> Result<E::Output, CallError<E::Error>> {
    let endpoint = E::NAME.to_string();
    match st.status {
        JobStatus::Completed => serde_json::from_value(st.output.clone().unwrap_or(Value::Null))
            .map_err(|e| CallError::Decode {
                endpoint,
                job_id: st.id.clone(),
                message: format!("expected `{}`: {e}", std::any::type_name::<E::Output>()),
            }),
        JobStatus::Failed => {
            let failure = JobFailure::from_wire(
                st.error
                    .as_deref()
                    .unwrap_or("the job failed without an error"),
            );
            if failure.kind == FailureKind::Handler
                && let Some(detail) = &failure.detail
                && let Ok(e) = serde_json::from_value::<E::Error>(detail.clone())
            {
                return Err(CallError::Endpoint(e));
            }
            Err(CallError::Failed {
                endpoint,
                job_id: st.id.clone(),
                kind: failure.kind,
                message: failure.message,
            })
        }
        JobStatus::TimedOut => Err(CallError::TimedOut {
            endpoint,
            job_id: st.id.clone(),
            after: waited,
        }),
        JobStatus::Cancelled => Err(CallError::Cancelled {
            endpoint,
            job_id: Some(st.id.clone()),
        }),
        JobStatus::InQueue | JobStatus::InProgress => {
            unreachable!("decode is called on final statuses")
        }
    }
}

/// A job submitted to endpoint `E`, not yet waited for.
pub struct SubmittedJob<E: Endpoint> {
    scope: CallScope,
    id: String,
    started: Instant,
    wait_until: Option<Instant>,
    guard: CancelOnDrop,
    _endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> SubmittedJob<E> {
    async fn submit(
        scope: &CallScope,
        input: &Value,
        options: &CallOptions,
    ) -> Result<SubmittedJob<E>, CallError<E::Error>> {
        let endpoint = E::NAME;
        if scope.cancel.is_cancelled() {
            return Err(CallError::Cancelled {
                endpoint: endpoint.into(),
                job_id: None,
            });
        }
        let remaining = scope.remaining();
        if remaining.is_some_and(|r| r.is_zero()) {
            return Err(CallError::DeadlineExceeded {
                endpoint: endpoint.into(),
            });
        }
        let timeout = child_execution_timeout(E::CONFIG.execution_timeout(), remaining);
        let policy = Policy {
            execution_timeout: timeout.map(|t| t.as_millis() as u64),
            ttl: options.ttl.map(|t| t.as_millis().max(10_000) as u64),
            low_priority: options.low_priority.then_some(true),
        };
        let input = match &options.session {
            Some(id) => crate::protocol::envelope::wrap(id, input.clone()),
            None => input.clone(),
        };
        let req = RunRequest {
            input,
            policy: (policy != Policy::default()).then_some(policy),
            trace_id: Some(scope.client.trace.id().to_string()),
            ..RunRequest::default()
        };
        let started = Instant::now();
        let id = scope
            .client
            .transport
            .submit(endpoint, req)
            .await
            .map_err(|e| from_transport(endpoint, e))?;
        // Past the caller's deadline, the caller's runtime ends the caller (and, dropping this
        // call, cancels the job); the grace lets that happen first, so the caller ends
        // TIMED_OUT rather than failing on its child's timeout.
        let by_deadline = scope.deadline.map(|d| d + DEADLINE_GRACE);
        let wait_until = match (by_deadline, options.timeout) {
            (Some(d), Some(t)) => Some(d.min(started + t)),
            (d, t) => d.or(t.map(|t| started + t)),
        };
        Ok(SubmittedJob {
            scope: scope.clone(),
            guard: CancelOnDrop {
                transport: scope.client.transport.clone(),
                endpoint,
                job: Some(id.clone()),
            },
            id,
            started,
            wait_until,
            _endpoint: PhantomData,
        })
    }

    /// Waits for the job to be final (through the transport: a long poll over HTTP), the
    /// caller's deadline, or its cancellation; the job is cancelled on the platform in the last
    /// two cases.
    async fn wait_final(&mut self) -> Result<StatusObject, CallError<E::Error>> {
        let endpoint = E::NAME;
        let transport = self.scope.client.transport.clone();
        loop {
            let chunk = match self.wait_until {
                Some(u) => u
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_secs(30)),
                None => Duration::from_secs(30),
            };
            let over = async {
                match self.wait_until {
                    Some(u) => tokio::time::sleep_until(u).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                st = transport.wait(endpoint, &self.id, chunk) => {
                    let st = st.map_err(|e| from_transport(endpoint, e))?;
                    if st.status.is_final() {
                        self.guard.disarm();
                        return Ok(st);
                    }
                }
                _ = over => {
                    let _ = transport.cancel(endpoint, &self.id).await;
                    self.guard.disarm();
                    return Err(CallError::TimedOut {
                        endpoint: endpoint.into(),
                        job_id: self.id.clone(),
                        after: self.started.elapsed(),
                    });
                }
                _ = self.scope.cancel.cancelled() => {
                    let _ = transport.cancel(endpoint, &self.id).await;
                    self.guard.disarm();
                    return Err(CallError::Cancelled { endpoint: endpoint.into(), job_id: Some(self.id.clone()) });
                }
            }
        }
    }
}

fn record_call(
    trace: &Trace,
    endpoint: &str,
    started: Instant,
    attempts: u32,
    status: Option<&StatusObject>,
    error: Option<String>,
) {
    trace.push(CallRecord {
        endpoint: endpoint.to_string(),
        job_id: status.map(|s| s.id.clone()),
        worker_id: status.and_then(|s| s.worker_id.clone()),
        status: status.map(|s| s.status),
        started: trace.offset(started),
        ended: trace.offset(Instant::now()),
        queue_delay: status.and_then(|s| s.delay_time).map(Duration::from_millis),
        execution: status
            .and_then(|s| s.execution_time)
            .map(Duration::from_millis),
        attempts,
        error,
    });
}

/// Calls endpoint `E`: submits `input`, waits, and decodes the result, with retries. Used by
/// the generated `E::call`.
#[doc(hidden)]
pub async fn call<E: Endpoint>(
    caller: &impl Caller,
    input: E::Input,
    options: Option<CallOptions>,
) -> Result<E::Output, CallError<E::Error>> {
    let scope = caller.call_scope();
    call_in_scope::<E>(&scope, input, options).await
}

pub(crate) async fn call_in_scope<E: Endpoint>(
    scope: &CallScope,
    input: E::Input,
    options: Option<CallOptions>,
) -> Result<E::Output, CallError<E::Error>> {
    let endpoint = E::NAME;
    let options = options.unwrap_or_else(|| scope.client.options_for(endpoint));
    scope
        .client
        .steps
        .take()
        .map_err(|limit| CallError::StepBudgetExhausted {
            endpoint: endpoint.into(),
            limit,
        })?;
    let input = serde_json::to_value(input).map_err(|e| CallError::Rejected {
        endpoint: endpoint.into(),
        status: None,
        message: format!("the input could not be serialized as JSON: {e}"),
    })?;
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = async {
            let mut job = SubmittedJob::<E>::submit(scope, &input, &options).await?;
            let st = job.wait_final().await?;
            Ok::<_, CallError<E::Error>>(st)
        }
        .await;
        let (status, outcome) = match result {
            Ok(st) => {
                let outcome = decode::<E>(&st, started.elapsed());
                (Some(st), outcome)
            }
            Err(e) => (None, Err(e)),
        };
        let retry = match &outcome {
            Err(e) if e.is_retryable() && attempt < options.retry.max_attempts => {
                let wait = options.retry.backoff(attempt);
                let fits = scope.remaining().is_none_or(|r| r > wait);
                fits.then_some(wait)
            }
            _ => None,
        };
        match retry {
            Some(wait) => {
                if let Err(e) = &outcome {
                    tracing::debug!(
                        endpoint,
                        attempt,
                        "retrying in {wait:?}: {}",
                        e.describe_with(|_| String::new())
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = scope.cancel.cancelled() => {
                        record_call(&scope.client.trace, endpoint, started, attempt, status.as_ref(), Some("cancelled".into()));
                        return Err(CallError::Cancelled { endpoint: endpoint.into(), job_id: status.map(|s| s.id) });
                    }
                }
            }
            None => {
                let error = outcome
                    .as_ref()
                    .err()
                    .map(|e| e.describe_with(|_| "the endpoint returned its own error".into()));
                record_call(
                    &scope.client.trace,
                    endpoint,
                    started,
                    attempt,
                    status.as_ref(),
                    error,
                );
                return outcome;
            }
        }
    }
}

/// A job submitted with `E::submit`: check it, wait for it, cancel it, read its stream.
/// Dropping the handle before the job ends cancels it; call [`JobHandle::detach`] to let it run.
pub struct JobHandle<E: Endpoint> {
    job: SubmittedJob<E>,
}

impl<E: Endpoint> JobHandle<E> {
    /// The job's id.
    pub fn id(&self) -> &str {
        &self.job.id
    }

    /// The job's status now.
    pub async fn status(&self) -> Result<JobStatus, CallError<E::Error>> {
        self.job
            .scope
            .client
            .transport
            .status(E::NAME, &self.job.id)
            .await
            .map(|s| s.status)
            .map_err(|e| from_transport(E::NAME, e))
    }

    /// Waits for the result (within the caller's deadline).
    pub async fn wait(mut self) -> Result<E::Output, CallError<E::Error>> {
        let st = self.job.wait_final().await;
        let status = st.as_ref().ok().cloned();
        let outcome = st.and_then(|st| decode::<E>(&st, self.job.started.elapsed()));
        record_call(
            &self.job.scope.client.trace,
            E::NAME,
            self.job.started,
            1,
            status.as_ref(),
            outcome
                .as_ref()
                .err()
                .map(|e| e.describe_with(|_| "the endpoint returned its own error".into())),
        );
        outcome
    }

    /// Cancels the job on the platform.
    pub async fn cancel(mut self) -> Result<(), CallError<E::Error>> {
        self.job.guard.disarm();
        self.job
            .scope
            .client
            .transport
            .cancel(E::NAME, &self.job.id)
            .await
            .map_err(|e| from_transport(E::NAME, e))
    }

    /// Lets the job run on after the handle is dropped.
    pub fn detach(mut self) -> String {
        self.job.guard.disarm();
        self.job.id.clone()
    }

    /// Reads the job's stream chunks (for endpoints that call `ctx.stream(..)`).
    pub fn stream(&self) -> ChunkStream {
        ChunkStream {
            transport: self.job.scope.client.transport.clone(),
            endpoint: E::NAME,
            id: self.job.id.clone(),
            buffered: std::collections::VecDeque::new(),
            done: false,
        }
    }
}

/// A job's stream chunks, in order.
pub struct ChunkStream {
    transport: Arc<dyn Transport>,
    endpoint: &'static str,
    id: String,
    buffered: std::collections::VecDeque<Value>,
    done: bool,
}

impl ChunkStream {
    /// The next chunk; `None` once the job is final and every chunk was read.
    pub async fn next(&mut self) -> Option<Result<Value, CallError<String>>> {
        let mut idle = Duration::from_millis(10);
        loop {
            if let Some(c) = self.buffered.pop_front() {
                return Some(Ok(c));
            }
            if self.done {
                return None;
            }
            match self.transport.stream(self.endpoint, &self.id).await {
                Ok((status, chunks)) => {
                    self.buffered.extend(chunks);
                    if status.is_final() {
                        self.done = true;
                    } else if self.buffered.is_empty() {
                        tokio::time::sleep(idle).await;
                        idle = (idle * 2).min(Duration::from_millis(500));
                    }
                }
                Err(e) => return Some(Err(from_transport(self.endpoint, e))),
            }
        }
    }

    /// The next chunk, decoded as `T`.
    pub async fn next_as<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Option<Result<T, CallError<String>>> {
        let endpoint = self.endpoint;
        let id = self.id.clone();
        self.next().await.map(|r| {
            r.and_then(|v| {
                serde_json::from_value(v).map_err(|e| CallError::Decode {
                    endpoint: endpoint.into(),
                    job_id: id,
                    message: e.to_string(),
                })
            })
        })
    }
}

/// Submits a job to endpoint `E` and returns its handle. Used by the generated `E::submit`.
#[doc(hidden)]
pub async fn submit<E: Endpoint>(
    caller: &impl Caller,
    input: E::Input,
) -> Result<JobHandle<E>, CallError<E::Error>> {
    let scope = caller.call_scope();
    let options = scope.client.options_for(E::NAME);
    scope
        .client
        .steps
        .take()
        .map_err(|limit| CallError::StepBudgetExhausted {
            endpoint: E::NAME.into(),
            limit,
        })?;
    let input = serde_json::to_value(input).map_err(|e| CallError::Rejected {
        endpoint: E::NAME.into(),
        status: None,
        message: format!("the input could not be serialized as JSON: {e}"),
    })?;
    let job = SubmittedJob::<E>::submit(&scope, &input, &options).await?;
    Ok(JobHandle { job })
}

/// Starts a fan-out to endpoint `E`. Used by the generated `E::fan_out`.
#[doc(hidden)]
pub fn fan_out<E: Endpoint, I>(caller: &impl Caller, inputs: I) -> FanOut<E>
where
    I: IntoIterator,
    I::Item: Into<E::Input>,
{
    FanOut::new(
        caller.call_scope(),
        inputs.into_iter().map(Into::into).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_child_timeout_is_the_smaller_of_ceiling_and_budget_never_below_five_seconds() {
        let s = Duration::from_secs;
        // The budget is looser than the ceiling: the endpoint's own setting applies.
        assert_eq!(child_execution_timeout(Some(s(30)), Some(s(100))), None);
        assert_eq!(
            child_execution_timeout(Some(s(30)), Some(s(12))),
            Some(s(12))
        );
        assert_eq!(child_execution_timeout(Some(s(30)), Some(s(1))), Some(s(5)));
        assert_eq!(child_execution_timeout(None, Some(s(40))), Some(s(40)));
        assert_eq!(child_execution_timeout(Some(s(30)), None), None);
        assert_eq!(child_execution_timeout(None, None), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let b = p.backoff(attempt);
            let cap = (p.initial_backoff * 2u32.pow(attempt - 1)).min(p.max_backoff);
            assert!(
                b <= cap && b >= cap / 2,
                "attempt {attempt}: {b:?} vs cap {cap:?}"
            );
        }
    }

    #[test]
    fn a_step_budget_counts_every_step() {
        let steps = Steps::new(Some(2));
        assert!(steps.take().is_ok());
        assert!(steps.take().is_ok());
        assert_eq!(steps.take(), Err(2));
        assert_eq!(steps.left(), Some(0));
        assert!(Steps::new(None).take().is_ok());
    }
}
