//! A submitted job's handle (`E::submit`): check it, wait for it, cancel it, read its stream.

use serde_json::Value;

use tokio::time::Instant;

use super::call::{Submit, SubmittedJob, decode, from_transport, from_transport_for};
use super::chunk_stream::ChunkStream;
use super::record::{CallRecorder, Progress};
use super::{CallError, CallOptions, Caller, retry};
use crate::endpoint::Endpoint;
use crate::protocol::JobStatus;
use crate::protocol::trace_context::SpanId;

/// A job submitted with `E::submit` (or found again with `E::job`): check it, wait for it,
/// cancel it, read its stream. Dropping a handle from `E::submit` before the job ends cancels
/// it, unless a stream taken from it is still being read; call [`JobHandle::detach`] to let it
/// run. A handle from `E::job` never cancels on drop.
pub struct JobHandle<E: Endpoint> {
    job: SubmittedJob<E>,
}

impl<E: Endpoint> JobHandle<E> {
    /// The job's id.
    pub fn id(&self) -> &str {
        &self.job.id
    }

    /// The job's state now: its status, its latest progress while it runs, and once it is
    /// final its typed result (transient failures are retried, see [`super::RetryPolicy`]).
    pub async fn status(&self) -> Result<JobState<E>, CallError<E::Error>> {
        let (job, transport) = (&self.job, &self.job.scope.client.transport);
        let st = retry::read(E::NAME, &job.retry, job.submitted, None, || {
            transport.status(E::NAME, &job.id)
        })
        .await
        .map_err(|e| from_transport_for(E::NAME, Some(&job.id), e))?;
        if st.status.is_final() {
            job.guard.disarm();
            let result = decode::<E>(&st, job.started.elapsed());
            return Ok(JobState {
                status: st.status,
                progress: None,
                result: Some(result),
            });
        }
        let running = st.status == JobStatus::InProgress;
        Ok(JobState {
            status: st.status,
            progress: st.output.filter(|_| running),
            result: None,
        })
    }

    /// Waits for the result (within the caller's deadline).
    pub async fn wait(self) -> Result<E::Output, CallError<E::Error>> {
        let rec = self.recorder();
        self.wait_recorded(rec).await
    }

    /// The record of waiting on this job, in the caller's trace.
    pub(super) fn recorder(&self) -> CallRecorder {
        let job = &self.job;
        let mut rec = CallRecorder::new(
            job.scope.client.trace.clone(),
            E::NAME,
            job.span,
            job.started,
        );
        rec.progress = Progress {
            sent: 1,
            job_id: Some(job.id.clone()),
        };
        rec
    }

    /// Waits for the result, finishing `rec` with it.
    pub(super) async fn wait_recorded(
        mut self,
        rec: CallRecorder,
    ) -> Result<E::Output, CallError<E::Error>> {
        let st = self.job.wait_final().await;
        let status = st.as_ref().ok().cloned();
        let outcome = st.and_then(|st| decode::<E>(&st, self.job.started.elapsed()));
        let error = outcome
            .as_ref()
            .err()
            .map(|e| e.describe_with(|_| "the endpoint returned its own error".into()));
        rec.finish(status.as_ref(), error);
        outcome
    }

    /// Cancels the job on the platform.
    pub async fn cancel(self) -> Result<(), CallError<E::Error>> {
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
    pub fn detach(self) -> String {
        self.job.guard.disarm();
        self.job.id.clone()
    }

    /// Reads the job's stream: its chunks, typed, each once and in order (a
    /// [`futures_core::Stream`]). The stream keeps the job alive while it is read, after the
    /// handle is dropped.
    pub fn stream(&self) -> ChunkStream<E> {
        ChunkStream::new(&self.job)
    }
}

/// A job's state, as [`JobHandle::status`] reads it.
pub struct JobState<E: Endpoint> {
    /// Its status.
    pub status: JobStatus,
    /// While it runs: its latest progress update (`ctx.progress(..)`), if any.
    pub progress: Option<Value>,
    /// Once final: its typed output, or why there is none.
    pub result: Option<Result<E::Output, CallError<E::Error>>>,
}

impl<E: Endpoint> std::fmt::Debug for JobState<E>
where
    E::Output: std::fmt::Debug,
    E::Error: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobState")
            .field("status", &self.status)
            .field("progress", &self.progress)
            .field("result", &self.result)
            .finish()
    }
}

/// Submits a job to endpoint `E` and returns its handle. Used by the generated `E::submit`.
#[doc(hidden)]
pub async fn submit<E: Endpoint>(
    caller: &impl Caller,
    input: E::Input,
    options: Option<CallOptions>,
) -> Result<JobHandle<E>, CallError<E::Error>> {
    submit_in_scope(caller.call_scope(), input, options).await
}

/// Submits a job in the scope of a caller (its deadline, cancellation, trace, steps), with
/// `options` or the client's for `E`.
pub(super) async fn submit_in_scope<E: Endpoint>(
    scope: super::CallScope,
    input: E::Input,
    options: Option<CallOptions>,
) -> Result<JobHandle<E>, CallError<E::Error>> {
    scope.check_declared(E::NAME)?;
    let options = options.unwrap_or_else(|| scope.client.options_for(E::NAME));
    scope
        .take_step()
        .map_err(|limit| CallError::StepBudgetExhausted {
            endpoint: E::NAME.into(),
            limit,
        })?;
    let input = serde_json::to_value(input).map_err(|e| CallError::Rejected {
        endpoint: E::NAME.into(),
        status: None,
        message: format!("the input could not be serialized as JSON: {e}"),
    })?;
    let job = SubmittedJob::<E>::submit(
        &scope,
        &input,
        &options,
        SpanId::random(),
        Submit::Only,
        &mut Progress::default(),
        Instant::now(),
    )
    .await?;
    Ok(JobHandle { job })
}

/// The job `id` of endpoint `E`, found again by its id (after a restart, or from another
/// process): wait for it, check it, cancel it or stream it. Sends nothing; a job that does not
/// exist shows as an error when the handle is used. Used by the generated `E::job`.
pub fn attach<E: Endpoint>(caller: &impl Caller, id: impl Into<String>) -> JobHandle<E> {
    let scope = caller.call_scope();
    let options = scope.client.options_for(E::NAME);
    JobHandle {
        job: SubmittedJob::attached(
            &scope,
            id.into(),
            &options,
            false,
            SpanId::random(),
            Instant::now(),
        ),
    }
}
