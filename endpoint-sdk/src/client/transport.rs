//! How a call reaches an endpoint: a [`Transport`] moves jobs, untyped (JSON in, status objects
//! out). Over HTTP to any Runpod-compatible API ([`super::http`]), or in-process into a local
//! runtime (`local::LocalTransport`, which lives with the runtime).

use std::time::Duration;

use serde_json::Value;

use crate::boxed::BoxFuture;
use crate::protocol::{JobStatus, RunRequest, StatusObject};

/// A transport failure, before any typing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Could not reach the platform, or it answered 429/5xx: a read is worth retrying.
    #[error("{message}")]
    Unavailable {
        /// What happened.
        message: String,
        /// How long the server asked to wait first (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// Whether the failure proves the request was not acted on, so that a submit can be
        /// sent again without risking a second job: the connection could not be made, or the
        /// server answered 429 or 503 (it refused the request before handling it). A request
        /// that was sent and then lost its answer (a reset, a 502 from a proxy, a timeout) may
        /// have created a job.
        not_acted_on: bool,
    },
    /// The platform refused the request: retrying will not help.
    #[error("the platform refused the request ({}): {message}", status.map_or("no status".to_string(), |s| s.to_string()))]
    Rejected {
        /// HTTP status, when there is one.
        status: Option<u16>,
        /// The platform's message.
        message: String,
    },
}

impl TransportError {
    /// A failure whose request may have been acted on.
    pub fn unavailable(message: impl Into<String>) -> Self {
        TransportError::Unavailable {
            message: message.into(),
            retry_after: None,
            not_acted_on: false,
        }
    }

    /// A failure that proves the request was not acted on.
    pub fn not_acted_on(message: impl Into<String>) -> Self {
        TransportError::Unavailable {
            message: message.into(),
            retry_after: None,
            not_acted_on: true,
        }
    }
}

/// A job submitted by [`Transport::run`], on its way.
pub struct Running<'a> {
    /// Its id, when the transport knows it before the exchange ends (in process it does; over
    /// HTTP the answer brings it).
    pub id: Option<String>,
    /// Its status at the end of the exchange.
    pub status: BoxFuture<'a, Result<StatusObject, TransportError>>,
}

/// Moves jobs to and from endpoints.
pub trait Transport: Send + Sync {
    /// Queues a job; returns its id.
    fn submit(
        &self,
        endpoint: &str,
        req: RunRequest,
    ) -> BoxFuture<'_, Result<String, TransportError>>;
    /// Submits a job and waits up to `wait` for it in the same exchange, where the transport
    /// has one (in process: the job runs at once on a free slot, in the caller's task; over
    /// HTTP: `/runsync?wait=`); returns its status, final or current, with its id. Dropping the
    /// future before it answers cancels the job it created (the transport knows its id, or
    /// learns it when the answer arrives). By default: [`submit`](Self::submit), and the job
    /// `IN_QUEUE` at once.
    fn run(&self, endpoint: &str, req: RunRequest, wait: Duration) -> Running<'_> {
        let _ = wait;
        let submitted = self.submit(endpoint, req);
        Running {
            id: None,
            status: Box::pin(async move { Ok(StatusObject::queued(submitted.await?)) }),
        }
    }
    /// Waits up to `wait` for a job to be final; returns its status either way.
    fn wait(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> BoxFuture<'_, Result<StatusObject, TransportError>>;
    /// A job's status now.
    fn status(
        &self,
        endpoint: &str,
        id: &str,
    ) -> BoxFuture<'_, Result<StatusObject, TransportError>>;
    /// Cancels a job.
    fn cancel(&self, endpoint: &str, id: &str) -> BoxFuture<'_, Result<(), TransportError>>;
    /// Stream chunks produced since the last call, and the job's status, waiting up to `wait`
    /// for the first new chunk or the job's end (zero: answer at once).
    fn stream(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> BoxFuture<'_, Result<(JobStatus, Vec<Value>), TransportError>>;
    /// Sends an HTTP request to load-balancing endpoint `endpoint` (its path as the endpoint's
    /// app sees it) and returns the answer, its body streamed as it arrives. By default the
    /// transport has no way to reach one.
    fn http(
        &self,
        endpoint: &str,
        request: axum::http::Request<axum::body::Body>,
    ) -> BoxFuture<'_, Result<axum::http::Response<axum::body::Body>, TransportError>> {
        let _ = request;
        let message = format!(
            "{} cannot reach load-balancing endpoint `{endpoint}`",
            self.describe()
        );
        Box::pin(std::future::ready(Err(TransportError::Rejected {
            status: None,
            message,
        })))
    }
    /// A short description for logs (`in-process`, `http://127.0.0.1:8000`).
    fn describe(&self) -> String;
}
