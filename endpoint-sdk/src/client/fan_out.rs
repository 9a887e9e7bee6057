//! Fan-out: one call per input, at most `concurrency` at once; results in input order, or one by
//! one as they complete ([`FanOut::as_completed`]).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::{CallError, CallOptions, CallScope, call_in_scope};
use crate::endpoint::Endpoint;

/// One call's outcome.
type Outcome<E> = Result<<E as Endpoint>::Output, CallError<<E as Endpoint>::Error>>;

/// The default bound on calls in flight.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// A fan-out to endpoint `E`; `.await` it for one `Result` per input, in input order.
///
/// ```text
/// let pages = scrape::fan_out(&ctx, urls).concurrency(3).await;          // every result
/// let pages = scrape::fan_out(&ctx, urls).fail_fast().await?;            // all or nothing
/// ```
#[must_use = "a fan-out does nothing until awaited"]
pub struct FanOut<E: Endpoint> {
    scope: CallScope,
    inputs: Vec<E::Input>,
    concurrency: usize,
    options: Option<CallOptions>,
}

impl<E: Endpoint> FanOut<E> {
    pub(crate) fn new(scope: CallScope, inputs: Vec<E::Input>) -> Self {
        FanOut {
            scope,
            inputs,
            concurrency: DEFAULT_CONCURRENCY,
            options: None,
        }
    }

    /// At most `n` calls in flight (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Options of every call of the fan-out.
    pub fn options(mut self, options: CallOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// Stop at the first failure, cancel the calls in flight, and return that failure.
    pub fn fail_fast(self) -> FanOutFailFast<E> {
        FanOutFailFast { inner: self }
    }

    /// The results one by one as the calls complete, each with its input's index: a
    /// [`futures_core::Stream`] of `(index, result)`. Dropping it cancels the calls in flight.
    pub fn as_completed(self) -> AsCompleted<E> {
        let mut calls = Calls::start(self);
        calls.fill();
        AsCompleted { calls }
    }

    async fn run(self, fail_fast: bool) -> Vec<Outcome<E>> {
        let n = self.inputs.len();
        let mut results: Vec<Option<Outcome<E>>> = (0..n).map(|_| None).collect();
        let mut calls = Calls::start(self);
        calls.fill();
        while let Some(joined) = calls.set.join_next().await {
            let (i, result) = joined_or_panic(joined);
            let failed = result.is_err();
            results[i] = Some(result);
            if failed && fail_fast {
                calls.set.abort_all();
                break;
            }
            calls.spawn_next();
        }
        drop(calls);
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(CallError::Cancelled {
                        endpoint: E::NAME.into(),
                        job_id: None,
                    })
                })
            })
            .collect()
    }
}

/// The calls of a fan-out in flight, and the inputs still to call. Dropping the set (the
/// fan-out dropped, or fail-fast) aborts every call in flight; each call's guard then cancels
/// its job on the platform.
struct Calls<E: Endpoint> {
    scope: CallScope,
    options: Option<CallOptions>,
    concurrency: usize,
    pending: std::iter::Enumerate<std::vec::IntoIter<E::Input>>,
    set: JoinSet<(usize, Outcome<E>)>,
}

impl<E: Endpoint> Calls<E> {
    fn start(f: FanOut<E>) -> Self {
        Calls {
            scope: f.scope,
            options: f.options,
            concurrency: f.concurrency,
            pending: f.inputs.into_iter().enumerate(),
            set: JoinSet::new(),
        }
    }

    /// Starts calls up to the bound.
    fn fill(&mut self) {
        while self.set.len() < self.concurrency && self.spawn_next() {}
    }

    /// Starts the next input's call, if any is left.
    fn spawn_next(&mut self) -> bool {
        let Some((i, input)) = self.pending.next() else {
            return false;
        };
        let (scope, options) = (self.scope.clone(), self.options.clone());
        // In the span of the job that fans out, so each call's `called` line is the job's.
        let call = async move { (i, call_in_scope::<E>(&scope, input, options).await) };
        self.set.spawn(call.instrument(tracing::Span::current()));
        true
    }
}

fn joined_or_panic<T>(joined: Result<T, tokio::task::JoinError>) -> T {
    joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A fan-out's results as they complete: see [`FanOut::as_completed`].
#[must_use = "a stream does nothing unless polled"]
pub struct AsCompleted<E: Endpoint> {
    calls: Calls<E>,
}

impl<E: Endpoint> Stream for AsCompleted<E> {
    type Item = (usize, Outcome<E>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.calls.set.poll_join_next(cx) {
            Poll::Ready(Some(joined)) => {
                let item = joined_or_panic(joined);
                self.calls.spawn_next();
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<E: Endpoint> Unpin for AsCompleted<E> {}

impl<E: Endpoint> AsCompleted<E> {
    /// The next result to complete, with its input's index; `None` once every call is done.
    pub async fn next(&mut self) -> Option<(usize, Outcome<E>)> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<E: Endpoint> IntoFuture for FanOut<E> {
    type Output = Vec<Result<E::Output, CallError<E::Error>>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run(false))
    }
}

/// A fan-out that stops at the first failure; `.await` it for every output in input order, or
/// the first failure.
#[must_use = "a fan-out does nothing until awaited"]
pub struct FanOutFailFast<E: Endpoint> {
    inner: FanOut<E>,
}

impl<E: Endpoint> IntoFuture for FanOutFailFast<E> {
    type Output = Result<Vec<E::Output>, CallError<E::Error>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let results = self.inner.run(true).await;
            // The first failure in completion order is what stopped the fan-out; report a real
            // failure over the cancellations it caused.
            let mut outputs = Vec::with_capacity(results.len());
            let mut cancelled = None;
            for r in results {
                match r {
                    Ok(o) => outputs.push(o),
                    Err(CallError::Cancelled {
                        job_id: None,
                        endpoint,
                    }) => {
                        cancelled.get_or_insert(CallError::Cancelled {
                            job_id: None,
                            endpoint,
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
            match cancelled {
                Some(e) => Err(e),
                None => Ok(outputs),
            }
        })
    }
}
