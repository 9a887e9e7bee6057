//! `Chunks<T>`: how a handler streams typed chunks while it runs, before it returns its output.
//! A handler takes it as a parameter; the chunk type `T` becomes the endpoint's
//! [`Endpoint::Chunk`](crate::Endpoint::Chunk), checked at compile time, and callers read the
//! chunks with the generated `E::stream(..)`.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;

use super::Ctx;
use crate::client::{CallError, CallStream};
use crate::endpoint::Endpoint;

/// The sending side of a job's stream of `T` chunks. Chunks reach readers in the order they
/// are sent, each once, and always before the job's result.
///
/// ```
/// use endpoint_sdk::prelude::*;
///
/// #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
/// async fn count_to(tokens: Chunks<String>, n: u32) -> Result<u32, String> {
///     for i in 0..n {
///         tokens.send(format!("token {i}")).await.map_err(|e| e.to_string())?;
///     }
///     Ok(n)
/// }
/// ```
pub struct Chunks<T> {
    ctx: Ctx,
    _chunk: PhantomData<fn(T)>,
}

/// A chunk that could not be sent: the job was cancelled (its caller went away or its deadline
/// passed), or the chunk is not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Nobody will read it: stop producing.
    #[error("the job was cancelled: nobody reads its stream any more")]
    Cancelled,
    /// The chunk failed to serialize.
    #[error("the chunk could not be serialized as JSON: {0}")]
    Serialize(String),
}

impl<T> Chunks<T> {
    /// The stream of the job `ctx` runs.
    pub fn new(ctx: Ctx) -> Self {
        Chunks {
            ctx,
            _chunk: PhantomData,
        }
    }

    /// The job's context.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }
}

impl<T: Serialize> Chunks<T> {
    /// Sends one chunk. It waits only when the stream is far behind (the production worker
    /// holds at most a few MB of chunks not yet posted), so a fast producer is slowed to what
    /// the network carries rather than filling memory.
    pub async fn send(&self, chunk: T) -> Result<(), SendError> {
        self.ctx.stream_ready().await;
        self.try_send(chunk)
    }

    /// Sends one chunk without waiting, even when the stream is far behind: for callbacks that
    /// cannot wait (prefer [`send`](Self::send)).
    pub fn try_send(&self, chunk: T) -> Result<(), SendError> {
        if self.ctx.is_cancelled() {
            return Err(SendError::Cancelled);
        }
        let value = serde_json::to_value(chunk).map_err(|e| SendError::Serialize(e.to_string()))?;
        self.ctx.stream(value);
        Ok(())
    }

    /// Relays a callee's stream into this one, chunk by chunk as they arrive, and returns the
    /// callee's output: an orchestrator streams what it calls in one line,
    /// `chunks.forward(writer::stream(&ctx, prompt)).await`. A relay whose own job is cancelled
    /// stops, and dropping the callee's stream cancels the callee.
    pub async fn forward<E>(
        &self,
        mut from: CallStream<E>,
    ) -> Result<E::Output, CallError<E::Error>>
    where
        E: Endpoint<Chunk = T>,
    {
        while let Some(chunk) = from.next().await {
            if self.send(chunk?).await.is_err() {
                return Err(CallError::Cancelled {
                    endpoint: E::NAME.into(),
                    job_id: from.id().map(str::to_string),
                });
            }
        }
        from.output().await
    }
}

impl<T> fmt::Debug for Chunks<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunks")
            .field("job", &self.ctx.job_id())
            .field("chunk", &std::any::type_name::<T>())
            .finish()
    }
}
