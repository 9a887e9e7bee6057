//! A call whose chunks are read as they are written: [`CallStream`], what the generated
//! `E::stream(..)` returns (submit, the chunks as a [`futures_core::Stream`], then the final
//! output).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::{CallError, Caller, ChunkStream, JobHandle};
use crate::boxed::BoxFuture;
use crate::endpoint::Endpoint;

/// A call whose chunks are read as they are written: what `E::stream(&caller, input)` returns.
/// It submits on first poll, yields each chunk ([`Endpoint::Chunk`]) once and in order, and ends
/// when the job ends; [`output`](Self::output) then gives the job's final output. A failure
/// (the submit, the transport, a chunk that does not decode) is the stream's last item; the job's
/// own failure comes from `output`. Dropping it before the job ends cancels the job.
pub struct CallStream<E: Endpoint> {
    state: State<E>,
}

enum State<E: Endpoint> {
    Submitting(BoxFuture<'static, Result<JobHandle<E>, CallError<E::Error>>>),
    Reading(Box<(JobHandle<E>, ChunkStream<E>)>),
    /// The submit failed: its error was the stream's last item; `output` repeats what it said.
    Failed(String),
}

/// Starts a streamed call of endpoint `E`. Used by the generated `E::stream`.
#[doc(hidden)]
pub fn stream<E: Endpoint>(caller: &impl Caller, input: E::Input) -> CallStream<E> {
    let scope = caller.call_scope();
    CallStream {
        state: State::Submitting(Box::pin(super::handle::submit_in_scope::<E>(scope, input))),
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
            State::Reading(reading) => Some(reading.0.id()),
            _ => None,
        }
    }

    /// The job's final output (its typed error, or a timeout, ..): waits for the job to end,
    /// leaving any chunk not read yet.
    pub async fn output(self) -> Result<E::Output, CallError<E::Error>> {
        match self.state {
            State::Submitting(submit) => submit.await?.wait().await,
            State::Reading(reading) => {
                // The handle holds the job: dropping the chunks does not cancel it.
                let (job, chunks) = *reading;
                drop(chunks);
                job.wait().await
            }
            State::Failed(message) => Err(CallError::Rejected {
                endpoint: E::NAME.into(),
                status: None,
                message: format!("the call failed before its job started: {message}"),
            }),
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
                        let chunks = job.stream();
                        self.state = State::Reading(Box::new((job, chunks)));
                    }
                    Err(e) => {
                        let message = e.describe_with(|_| "the endpoint refused the call".into());
                        self.state = State::Failed(message);
                        return Poll::Ready(Some(Err(e)));
                    }
                },
                State::Reading(reading) => return Pin::new(&mut reading.1).poll_next(cx),
                State::Failed(..) => return Poll::Ready(None),
            }
        }
    }
}

impl<E: Endpoint> Unpin for CallStream<E> {}
