//! Fan-out: one call per input, at most `concurrency` at once, results in input order.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

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

    async fn run(self, fail_fast: bool) -> Vec<Outcome<E>> {
        let n = self.inputs.len();
        let mut results: Vec<Option<Outcome<E>>> = (0..n).map(|_| None).collect();
        let mut pending = self.inputs.into_iter().enumerate();
        // Dropping the set (this future dropped, or fail-fast) aborts every call in flight;
        // each call's guard then cancels its job on the platform.
        let mut set = tokio::task::JoinSet::new();
        let mut spawn_next = |set: &mut tokio::task::JoinSet<_>| {
            if let Some((i, input)) = pending.next() {
                let scope = self.scope.clone();
                let options = self.options.clone();
                set.spawn(async move { (i, call_in_scope::<E>(&scope, input, options).await) });
                true
            } else {
                false
            }
        };
        for _ in 0..self.concurrency {
            if !spawn_next(&mut set) {
                break;
            }
        }
        while let Some(joined) = set.join_next().await {
            let (i, result) = match joined {
                Ok(r) => r,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            };
            let failed = result.is_err();
            results[i] = Some(result);
            if failed && fail_fast {
                set.abort_all();
                break;
            }
            spawn_next(&mut set);
        }
        drop(set);
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
