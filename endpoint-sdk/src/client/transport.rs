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
    /// Could not reach the platform, or it answered 429/5xx: worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// The platform refused the request: retrying will not help.
    #[error("the platform refused the request ({}): {message}", status.map_or("no status".to_string(), |s| s.to_string()))]
    Rejected {
        /// HTTP status, when there is one.
        status: Option<u16>,
        /// The platform's message.
        message: String,
    },
}

/// Moves jobs to and from endpoints.
pub trait Transport: Send + Sync {
    /// Queues a job; returns its id.
    fn submit(
        &self,
        endpoint: &str,
        req: RunRequest,
    ) -> BoxFuture<'_, Result<String, TransportError>>;
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
    /// Stream chunks produced since the last call, and the job's status.
    fn stream(
        &self,
        endpoint: &str,
        id: &str,
    ) -> BoxFuture<'_, Result<(JobStatus, Vec<Value>), TransportError>>;
    /// A short description for logs (`in-process`, `http://127.0.0.1:8000`).
    fn describe(&self) -> String;
}
