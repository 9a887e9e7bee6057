//! A worker's answer as the balancer passes it on: streamed as it comes (server-sent events and
//! chunked bodies arrive unbuffered), counted in flight until it ends or the caller drops it,
//! and cut off if the worker is lost mid-body.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::{Balancer, SimWorker};

/// Ends a request's count in flight when dropped.
pub(super) struct Release {
    balancer: Arc<Balancer>,
    worker: Arc<str>,
}

impl Release {
    pub(super) fn new(balancer: Arc<Balancer>, worker: Arc<str>) -> Self {
        Release { balancer, worker }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        self.balancer.release(&self.worker);
    }
}

/// `inner`, holding `release` until it ends, and ending with an error if `worker` is stopped
/// first. Its size (a known length stays a `Content-Length`) and trailers pass through.
pub(super) fn guarded(inner: Body, release: Release, worker: Arc<SimWorker>) -> Body {
    Body::new(Guarded {
        inner,
        release: Some(release),
        worker,
        stop: None,
    })
}

struct Guarded {
    inner: Body,
    /// `None` once the body has ended.
    release: Option<Release>,
    worker: Arc<SimWorker>,
    /// The worker's stop, waited on only once the body has to wait for its app (an answer
    /// written at once costs no waiter).
    stop: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
}

type Polled = Poll<Option<Result<Frame<Bytes>, axum::Error>>>;

impl Guarded {
    fn lost(&mut self) -> Polled {
        self.release = None;
        Poll::Ready(Some(Err(axum::Error::new(
            "the worker was lost while it sent this answer",
        ))))
    }
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Polled {
        if self.release.is_none() {
            return Poll::Ready(None);
        }
        if self.worker.stop.is_cancelled() {
            return self.lost();
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.release = None;
                Poll::Ready(None)
            }
            Poll::Ready(some) => Poll::Ready(some),
            Poll::Pending => {
                let worker = self.worker.clone();
                let stop = self
                    .stop
                    .get_or_insert_with(|| Box::pin(worker.stop.clone().cancelled_owned()));
                if stop.as_mut().poll(cx).is_ready() {
                    return self.lost();
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
