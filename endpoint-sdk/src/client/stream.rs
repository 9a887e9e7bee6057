//! A call whose chunks are read as they are written: [`CallStream`], what the generated
//! `E::stream(..)` returns (submit, the chunks as a [`futures_core::Stream`], then the final
//! output).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::record::CallRecorder;
use super::{CallError, CallOptions, Caller, ChunkStream, JobHandle};
use crate::boxed::BoxFuture;
use crate::endpoint::Endpoint;

/// A call whose chunks are read as they are written: what `E::stream(&caller, input)` returns.
/// It submits on first poll, yields each chunk ([`Endpoint::Chunk`]) once and in order, and ends
/// when the job ends; [`output`](Self::output) then tells how the call ended: the job's output,
/// its own error, or why the call failed (a submit that failed ends the stream at once, with
/// no item). Losing touch with the job (the server went away, after the reads' retries) is the
/// stream's last item, and `output` returns it too, without waiting again; a chunk that does not
/// decode is an error item, and the stream goes on. Dropping it
/// before the job ends cancels the job in the background ([`cancel`](Self::cancel) waits for
/// it); the call is in the caller's trace either way.
pub struct CallStream<E: Endpoint> {
    state: State<E>,
}

enum State<E: Endpoint> {
    Submitting(BoxFuture<'static, Result<JobHandle<E>, CallError<E::Error>>>),
    Reading(Box<Reading<E>>),
    /// The submit failed: the stream has ended; `output` returns the error.
    Failed(CallError<E::Error>),
}

struct Reading<E: Endpoint> {
    job: JobHandle<E>,
    chunks: ChunkStream<E>,
    rec: CallRecorder,
    /// The stream lost touch with the job: `output` says so at once.
    lost: Option<(String, Option<String>, String)>,
}

/// Starts a streamed call of endpoint `E`. Used by the generated `E::stream`.
#[doc(hidden)]
pub fn stream<E: Endpoint>(
    caller: &impl Caller,
    input: E::Input,
    options: Option<CallOptions>,
) -> CallStream<E> {
    let scope = caller.call_scope();
    let submit = super::handle::submit_in_scope::<E>(scope, input, options);
    CallStream {
        state: State::Submitting(Box::pin(submit)),
    }
}

impl<E: Endpoint> CallStream<E> {
    /// The next chunk; `None` once the job has ended and every chunk was read.
    pub async fn next(&mut self) -> Option<Result<E::Chunk, CallError<E::Error>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The job's id, once submitted.
    pub fn id(&self) -> Option<&str> {
        match &self.state {
            State::Reading(reading) => Some(reading.job.id()),
            _ => None,
        }
    }

    /// Cancels the job and waits until the platform has the request, where dropping the stream
    /// only starts the cancel in the background (which a program that exits right after the drop
    /// never sends). A stream whose submit is still in flight waits for its answer, then
    /// cancels; one whose submit failed, or whose job has ended, has nothing to cancel.
    pub async fn cancel(self) -> Result<(), CallError<E::Error>> {
        match self.state {
            State::Submitting(submit) => match submit.await {
                Ok(job) => job.cancel().await,
                Err(_) => Ok(()),
            },
            State::Reading(reading) => {
                let Reading {
                    job, chunks, rec, ..
                } = *reading;
                drop(chunks);
                rec.finish(None, Some("cancelled by its caller".into()));
                job.cancel().await
            }
            State::Failed(_) => Ok(()),
        }
    }

    /// How the call ended: the job's output, its typed error, a timeout, or why the call failed.
    /// Waits for the job to end, leaving any chunk not read yet.
    pub async fn output(self) -> Result<E::Output, CallError<E::Error>> {
        match self.state {
            State::Submitting(submit) => submit.await?.wait().await,
            State::Reading(reading) => {
                let Reading {
                    job,
                    chunks,
                    rec,
                    lost,
                } = *reading;
                // The handle holds the job: dropping the chunks does not cancel it.
                drop(chunks);
                if let Some((endpoint, job_id, message)) = lost {
                    rec.finish(None, Some(message.clone()));
                    return Err(CallError::Transport {
                        endpoint,
                        job_id,
                        message,
                    });
                }
                job.wait_recorded(rec).await
            }
            State::Failed(e) => Err(e),
        }
    }
}

impl<E: Endpoint> Stream for CallStream<E> {
    type Item = Result<E::Chunk, CallError<E::Error>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match &mut self.state {
                State::Submitting(submit) => match ready!(submit.as_mut().poll(cx)) {
                    Ok(job) => {
                        let (chunks, rec) = (job.stream(), job.recorder());
                        let reading = Reading {
                            job,
                            chunks,
                            rec,
                            lost: None,
                        };
                        self.state = State::Reading(Box::new(reading));
                    }
                    Err(e) => {
                        self.state = State::Failed(e);
                        return Poll::Ready(None);
                    }
                },
                State::Reading(reading) => {
                    let item = ready!(Pin::new(&mut reading.chunks).poll_next(cx));
                    if let Some(Err(CallError::Transport {
                        endpoint,
                        job_id,
                        message,
                    })) = &item
                    {
                        reading.lost = Some((endpoint.clone(), job_id.clone(), message.clone()));
                    }
                    return Poll::Ready(item);
                }
                State::Failed(_) => return Poll::Ready(None),
            }
        }
    }
}

impl<E: Endpoint> Unpin for CallStream<E> {}
