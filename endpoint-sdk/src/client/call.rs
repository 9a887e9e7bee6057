//! One typed call: submit, wait (within the caller's deadline, cancelled with the caller),
//! decode, retry what may pass; and the record of it in the caller's trace.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::record::{CallRecorder, Progress};
use super::{
    CallError, CallOptions, CallScope, Caller, RetryPolicy, Transport, TransportError, retry,
};
use crate::endpoint::Endpoint;
use crate::protocol::envelope::{Deadline, JobMeta};
use crate::protocol::trace_context::SpanId;
use crate::protocol::{FailureKind, JobFailure, JobStatus, Policy, RunRequest, StatusObject};

/// How long past the caller's deadline a call keeps waiting (see `SubmittedJob::attached`).
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

pub(super) fn from_transport<E>(endpoint: &str, e: TransportError) -> CallError<E> {
    from_transport_for(endpoint, None, e)
}

/// The error of a call that lost touch with its job `id` (after the reads' retries).
pub(super) fn from_transport_for<E>(
    endpoint: &str,
    job_id: Option<&str>,
    e: TransportError,
) -> CallError<E> {
    match e {
        TransportError::Unavailable { message, .. } => CallError::Transport {
            endpoint: endpoint.to_string(),
            job_id: job_id.map(str::to_string),
            message,
        },
        TransportError::Rejected { status, message } => CallError::Rejected {
            endpoint: endpoint.to_string(),
            status,
            message,
        },
    }
}

/// The error of a submit that failed: when it may have created a job, the message says so.
fn from_submit<E>(endpoint: &str, e: TransportError) -> CallError<E> {
    match e {
        TransportError::Unavailable {
            message,
            not_acted_on: false,
            ..
        } => CallError::Transport {
            endpoint: endpoint.to_string(),
            job_id: None,
            message: format!(
                "{message}; the submit may have created a job whose id was lost with the \
                 answer, so it was not sent again (such a job runs at most until its deadline or \
                 its endpoint's execution timeout)"
            ),
        },
        other => from_transport(endpoint, other),
    }
}

/// Cancels a submitted job on the platform once every holder is dropped before it ends (the
/// caller was cancelled, timed out, or failed). The job's handle and the streams taken from it
/// share one guard, so a stream being read keeps its job alive.
pub(super) struct CancelOnDrop {
    transport: Arc<dyn Transport>,
    endpoint: &'static str,
    job: std::sync::Mutex<Option<String>>,
}

impl CancelOnDrop {
    pub(super) fn new(
        transport: Arc<dyn Transport>,
        endpoint: &'static str,
        job: Option<String>,
    ) -> Arc<Self> {
        Arc::new(CancelOnDrop {
            transport,
            endpoint,
            job: std::sync::Mutex::new(job),
        })
    }

    /// The job is final, cancelled or let go: nothing to cancel.
    pub(super) fn disarm(&self) {
        self.take();
    }

    /// The job to cancel now, if this call owns it and it is not final (then disarmed).
    pub(super) fn take(&self) -> Option<String> {
        self.job.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let job = self.job.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        let Some(job) = job else { return };
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

/// When a call that started waiting at `started` stops: the caller's deadline (with a grace:
/// past it, the caller's runtime ends the caller, which cancels the job, so the caller ends
/// TIMED_OUT rather than failing on its child's timeout), or the call's timeout, if sooner.
fn wait_until(scope: &CallScope, options: &CallOptions, started: Instant) -> Option<Instant> {
    // A bound too far to represent (`Duration::MAX`: "no limit") is no bound.
    let by_deadline = scope.deadline.and_then(|d| d.checked_add(DEADLINE_GRACE));
    let by_timeout = options.timeout.and_then(|t| started.checked_add(t));
    match (by_deadline, by_timeout) {
        (Some(d), Some(t)) => Some(d.min(t)),
        (d, t) => d.or(t),
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
pub(super) fn decode<E: Endpoint>(
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
            // A worker that stopped its job at the deadline reports a failure (the platform
            // has no other way for it to say so): a timeout all the same.
            if failure.kind == FailureKind::Timeout {
                return Err(CallError::TimedOut {
                    endpoint,
                    job_id: st.id.clone(),
                    after: waited,
                });
            }
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
pub(crate) struct SubmittedJob<E: Endpoint> {
    pub(super) scope: CallScope,
    pub(super) id: String,
    /// The call's span in the caller's trace (the parent of the job's).
    pub(super) span: SpanId,
    pub(super) started: Instant,
    /// When this call submitted the job (`None`: found by its id).
    pub(super) submitted: Option<Instant>,
    wait_until: Option<Instant>,
    pub(super) retry: RetryPolicy,
    pub(super) guard: Arc<CancelOnDrop>,
    /// Its final status, when the exchange that submitted it already brought it.
    done: Option<StatusObject>,
    _endpoint: PhantomData<fn() -> E>,
}

/// How a call submits its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Submit {
    /// Submit, and wait for the result in the same exchange if the transport can
    /// ([`Transport::run`]): a typed call.
    AndWait,
    /// Submit only: a handle.
    Only,
}

impl<E: Endpoint> SubmittedJob<E> {
    /// Submits `input`, sending it again only after a failure that proves no job was created
    /// (see [`super::retry`]); `progress` counts the submits sent and names the job as soon as
    /// its id is known. The job descends from the caller's span `span` (the call's). The call's
    /// timeout counts from `started` (when the call began), across every attempt and exchange.
    pub(super) async fn submit(
        scope: &CallScope,
        input: &Value,
        options: &CallOptions,
        span: SpanId,
        how: Submit,
        progress: &mut Progress,
        started: Instant,
    ) -> Result<SubmittedJob<E>, CallError<E::Error>> {
        let endpoint = E::NAME;
        let st = loop {
            // Built for each attempt: the child's timeout is what the caller has left now.
            let req = Self::request(scope, input, options, span, started)?;
            progress.sent += 1;
            let sent = match how {
                Submit::AndWait => {
                    Self::run(scope, req, options, started, &mut progress.job_id).await?
                }
                Submit::Only => scope
                    .client
                    .transport
                    .submit(endpoint, req)
                    .await
                    .map(StatusObject::queued),
            };
            let e = match sent {
                Ok(st) => break st,
                Err(e) => e,
            };
            let attempts = &progress.sent;
            let wait = retry::pause(&options.retry, *attempts, &e);
            let again = retry::submit_retryable(&e)
                && *attempts < options.retry.max_attempts
                && scope.remaining().is_none_or(|r| r > wait);
            if !again {
                return Err(from_submit(endpoint, e));
            }
            tracing::debug!(
                endpoint,
                attempt = *attempts,
                "submitting again in {wait:?}: {e}"
            );
            crate::metrics::global().call_retried(endpoint);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = scope.cancel.cancelled() => {
                    return Err(CallError::Cancelled { endpoint: endpoint.into(), job_id: None });
                }
            }
        };
        if st.status.is_final() {
            let mut job = Self::attached(scope, st.id.clone(), options, false, span, started);
            job.done = Some(st);
            return Ok(job);
        }
        Ok(Self::attached(scope, st.id, options, true, span, started))
    }

    /// Submits and waits in one exchange ([`Transport::run`]), for as long as the caller would
    /// wait (at most 30 s at a time); the caller's cancellation drops the exchange, which
    /// cancels the job it created.
    async fn run(
        scope: &CallScope,
        req: RunRequest,
        options: &CallOptions,
        started: Instant,
        job_id: &mut Option<String>,
    ) -> Result<Result<StatusObject, TransportError>, CallError<E::Error>> {
        let until = wait_until(scope, options, started);
        let wait = until.map_or(Duration::from_secs(30), |u| {
            u.saturating_duration_since(Instant::now())
                .min(Duration::from_secs(30))
        });
        let running = scope.client.transport.run(E::NAME, req, wait);
        job_id.clone_from(&running.id);
        tokio::select! {
            biased;
            st = running.status => Ok(st),
            _ = scope.cancel.cancelled() => Err(CallError::Cancelled {
                endpoint: E::NAME.into(),
                job_id: running.id,
            }),
        }
    }

    /// The job `id`, submitted by this call (`owned`: cancelled when dropped before it ends) or
    /// found again by its id (left alone when dropped), waited on since `started`.
    pub(super) fn attached(
        scope: &CallScope,
        id: String,
        options: &CallOptions,
        owned: bool,
        span: SpanId,
        started: Instant,
    ) -> Self {
        let wait_until = wait_until(scope, options, started);
        let armed = owned.then(|| id.clone());
        SubmittedJob {
            scope: scope.clone(),
            guard: CancelOnDrop::new(scope.client.transport.clone(), E::NAME, armed),
            id,
            span,
            started,
            submitted: owned.then_some(started),
            wait_until,
            retry: options.retry.clone(),
            done: None,
            _endpoint: PhantomData,
        }
    }

    /// The `/run` request: the input (in its envelope, with the session, the caller's deadline
    /// and the call's trace context; as it is for a `plain_input` endpoint), and the policy with
    /// the child's execution timeout clamped to the caller's remaining budget. Refused once the
    /// caller is cancelled or out of time.
    fn request(
        scope: &CallScope,
        input: &Value,
        options: &CallOptions,
        span: SpanId,
        started: Instant,
    ) -> Result<RunRequest, CallError<E::Error>> {
        let endpoint = E::NAME;
        let plain = E::CONFIG.plain_input;
        if plain && options.session.is_some() {
            return Err(CallError::Rejected {
                endpoint: endpoint.into(),
                status: None,
                message: "it is declared `plain_input`: its workers take the input as it is, so \
                          a session cannot reach them; call it without `CallOptions::session`, \
                          or drop `plain_input` if its workers are built with this SDK"
                    .into(),
            });
        }
        if scope.cancel.is_cancelled() {
            return Err(CallError::Cancelled {
                endpoint: endpoint.into(),
                job_id: None,
            });
        }
        // The caller waits until its deadline or the call's timeout, whichever is sooner: the
        // child is told that much, and bounded by it.
        let by_timeout = options.timeout.map(|t| {
            started
                .checked_add(t)
                .map_or(t, |u| u.saturating_duration_since(Instant::now()))
        });
        let most =
            Duration::from_millis(*crate::protocol::limits::POLICY_EXECUTION_TIMEOUT_MS.end());
        let remaining = match (scope.remaining(), by_timeout) {
            (Some(r), Some(t)) => Some(r.min(t)),
            (r, t) => r.or(t),
        }
        .map(|r| r.min(most));
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
        // The deadline and the trace context travel in the input's envelope, where any SDK
        // worker finds them (the platform hands workers the input, not the policy).
        let meta = if plain {
            JobMeta::default()
        } else {
            JobMeta {
                session: options.session.clone(),
                deadline: remaining.map(Deadline::in_),
                traceparent: Some(scope.client.trace.context_for(span)),
            }
        };
        Ok(RunRequest {
            input: input.clone(),
            meta,
            webhook: options.webhook.clone(),
            policy: (policy != Policy::default()).then_some(policy),
            ..RunRequest::default()
        })
    }

    /// Waits for the job to be final (through the transport: a long poll over HTTP), the
    /// caller's deadline, or its cancellation; the job is cancelled on the platform in the last
    /// two cases.
    pub(super) async fn wait_final(&mut self) -> Result<StatusObject, CallError<E::Error>> {
        let endpoint = E::NAME;
        if let Some(st) = self.done.take() {
            return Ok(st);
        }
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
            // Transient failures are retried on this same job (never cancelled, never submitted
            // again); when the reads give up, the job is left to run and the error names it.
            let read = retry::read(
                E::NAME,
                &self.retry,
                self.submitted,
                self.wait_until,
                || transport.wait(endpoint, &self.id, chunk),
            );
            tokio::select! {
                st = read => {
                    let st = match st {
                        Ok(st) => st,
                        Err(e) => {
                            self.guard.disarm();
                            return Err(from_transport_for(endpoint, Some(&self.id), e));
                        }
                    };
                    if st.status.is_final() {
                        self.guard.disarm();
                        return Ok(st);
                    }
                }
                _ = over => {
                    // Only a job this call submitted is cancelled; one found by its id is left.
                    if let Some(id) = self.guard.take() {
                        let _ = transport.cancel(endpoint, &id).await;
                    }
                    return Err(CallError::TimedOut {
                        endpoint: endpoint.into(),
                        job_id: self.id.clone(),
                        after: self.started.elapsed(),
                    });
                }
                _ = self.scope.cancel.cancelled() => {
                    if let Some(id) = self.guard.take() {
                        let _ = transport.cancel(endpoint, &id).await;
                    }
                    return Err(CallError::Cancelled { endpoint: endpoint.into(), job_id: Some(self.id.clone()) });
                }
            }
        }
    }
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
    scope.check_declared(endpoint)?;
    let options = options.unwrap_or_else(|| scope.client.options_for(endpoint));
    scope
        .take_step()
        .map_err(|limit| CallError::StepBudgetExhausted {
            endpoint: endpoint.into(),
            limit,
        })?;
    let input = serde_json::to_value(input).map_err(|e| CallError::Rejected {
        endpoint: endpoint.into(),
        status: None,
        message: format!("the input could not be serialized as JSON: {e}"),
    })?;
    let span = SpanId::random();
    let mut rec = CallRecorder::new(scope.client.trace.clone(), endpoint, span, Instant::now());
    let started = rec.started();
    loop {
        let submitted = SubmittedJob::<E>::submit(
            scope,
            &input,
            &options,
            span,
            Submit::AndWait,
            &mut rec.progress,
            started,
        )
        .await;
        let (status, outcome) = match submitted {
            Err(e) => (None, Err(e)),
            Ok(mut job) => {
                rec.progress.job_id = Some(job.id.clone());
                match job.wait_final().await {
                    Ok(st) => {
                        let outcome = decode::<E>(&st, started.elapsed());
                        (Some(st), outcome)
                    }
                    Err(e) => (None, Err(e)),
                }
            }
        };
        let attempts = rec.progress.sent;
        // A job that ended because its worker was lost is final: a new one cannot run twice.
        let lost = matches!(
            &outcome,
            Err(CallError::Failed {
                kind: FailureKind::WorkerLost,
                ..
            })
        );
        let wait = options.retry.backoff(attempts);
        let again = lost
            && attempts < options.retry.max_attempts
            && scope.remaining().is_none_or(|r| r > wait);
        if !again {
            let error = outcome
                .as_ref()
                .err()
                .map(|e| e.describe_with(|_| "the endpoint returned its own error".into()));
            rec.finish(status.as_ref(), error);
            return outcome;
        }
        tracing::debug!(
            endpoint,
            attempts,
            "the worker was lost; retrying in {wait:?}"
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = scope.cancel.cancelled() => {
                rec.finish(status.as_ref(), Some("cancelled".into()));
                return Err(CallError::Cancelled { endpoint: endpoint.into(), job_id: status.map(|s| s.id) });
            }
        }
    }
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
}
