//! A submitted job's stream, typed: [`ChunkStream`], a [`futures_core::Stream`] of the job's
//! chunks, each once and in order, read with a long poll that answers the moment a chunk is
//! written (in process, and over HTTP from `app dev`; a server that answers empty reads at once
//! is paced instead). It shares its job's guard: dropping it and the job's handle before the job
//! ends cancels the job.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::time::Instant;

use super::call::{CancelOnDrop, SubmittedJob, from_transport_for};
use super::{CallError, RetryPolicy, Transport, TransportError, retry};
use crate::boxed::BoxFuture;
use crate::endpoint::Endpoint;
use crate::protocol::JobStatus;

/// How long one read of a stream waits for a chunk before it asks again.
const STREAM_WAIT: Duration = Duration::from_secs(30);

type Read = BoxFuture<'static, Result<(JobStatus, Vec<Value>), TransportError>>;

/// A job's stream chunks, typed as the endpoint's [`Endpoint::Chunk`], in order; the stream
/// ends once the job is final and every chunk was read.
pub struct ChunkStream<E: Endpoint> {
    transport: Arc<dyn Transport>,
    id: String,
    retry: RetryPolicy,
    submitted: Option<Instant>,
    /// The job's guard, shared with its handle: the job is not cancelled while this is read.
    guard: Arc<CancelOnDrop>,
    buffered: VecDeque<Value>,
    read: Option<Read>,
    done: bool,
    _endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> ChunkStream<E> {
    pub(super) fn new(job: &SubmittedJob<E>) -> Self {
        ChunkStream {
            transport: job.scope.client.transport.clone(),
            id: job.id.clone(),
            retry: job.retry.clone(),
            submitted: job.submitted,
            guard: Arc::clone(&job.guard),
            buffered: VecDeque::new(),
            read: None,
            done: false,
            _endpoint: PhantomData,
        }
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The next chunk; `None` once the job is final and every chunk was read.
    pub async fn next(&mut self) -> Option<Result<E::Chunk, CallError<E::Error>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next chunk, decoded as `T` (for an endpoint that streams JSON with `Ctx::stream`).
    pub async fn next_as<T: DeserializeOwned>(&mut self) -> Option<Result<T, CallError<E::Error>>> {
        let raw = std::future::poll_fn(|cx| self.poll_raw(cx)).await?;
        Some(raw.and_then(|v| self.decode(v)))
    }

    fn decode<T: DeserializeOwned>(&self, v: Value) -> Result<T, CallError<E::Error>> {
        serde_json::from_value(v).map_err(|e| CallError::Decode {
            endpoint: E::NAME.into(),
            job_id: self.id.clone(),
            message: format!(
                "a stream chunk is not a `{}`: {e}",
                std::any::type_name::<T>()
            ),
        })
    }

    /// The next chunk as JSON, reading the stream when none is buffered.
    fn poll_raw(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Value, CallError<E::Error>>>> {
        loop {
            if let Some(c) = self.buffered.pop_front() {
                return Poll::Ready(Some(Ok(c)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let read = self.read.get_or_insert_with(|| {
                read_stream(
                    self.transport.clone(),
                    E::NAME,
                    self.id.clone(),
                    self.retry.clone(),
                    self.submitted,
                )
            });
            let answer = ready!(read.as_mut().poll(cx));
            self.read = None;
            match answer {
                Ok((status, chunks)) => {
                    // A post that carried several chunks (from a worker that fell behind).
                    self.buffered
                        .extend(chunks.into_iter().flat_map(crate::protocol::batch::unbatch));
                    if status.is_final() {
                        self.done = true;
                        self.guard.disarm();
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(from_transport_for(E::NAME, Some(&self.id), e))));
                }
            }
        }
    }
}

/// One long-polled read of the stream, retried as reads are.
fn read_stream(
    transport: Arc<dyn Transport>,
    endpoint: &'static str,
    id: String,
    policy: RetryPolicy,
    submitted: Option<Instant>,
) -> Read {
    Box::pin(async move {
        retry::read(endpoint, &policy, submitted, None, || {
            transport.stream(endpoint, &id, STREAM_WAIT)
        })
        .await
    })
}

impl<E: Endpoint> Stream for ChunkStream<E> {
    type Item = Result<E::Chunk, CallError<E::Error>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let raw = ready!(self.poll_raw(cx));
        Poll::Ready(raw.map(|r| r.and_then(|v| self.decode(v))))
    }
}

// Nothing in it is pinned: the read in flight is boxed.
impl<E: Endpoint> Unpin for ChunkStream<E> {}
