//! A worker's answer as the balancer passes it on: streamed as it comes (server-sent events and
//! chunked bodies arrive unbuffered), counted in flight until it ends or the caller drops it,
//! and cut off if the worker is lost mid-body.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream, Bytes};
use futures_core::Stream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::Balancer;

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

/// `inner`, holding `release` until it ends, and ending with an error if `stop` fires first.
pub(super) fn guarded(inner: Body, release: Release, stop: CancellationToken) -> Body {
    Body::from_stream(Guarded {
        inner: inner.into_data_stream(),
        release: Some(release),
        stop: Box::pin(stop.cancelled_owned()),
    })
}

struct Guarded {
    inner: BodyDataStream,
    /// `None` once the body has ended.
    release: Option<Release>,
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Stream for Guarded {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.release.is_none() {
            return Poll::Ready(None);
        }
        if self.stop.as_mut().poll(cx).is_ready() {
            self.release = None;
            return Poll::Ready(Some(Err(axum::Error::new(
                "the worker was lost while it sent this answer",
            ))));
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.release = None;
        }
        next
    }
}
