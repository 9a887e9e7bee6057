//! Calls into a local runtime in the same process: the [`Transport`] of the runtime's own
//! workers and of in-process clients ([`LocalRuntime::client`]).

use std::sync::Weak;
use std::time::Duration;

use serde_json::Value;

use super::{LocalRuntime, RuntimeHandle};
use crate::boxed::BoxFuture;
use crate::client::{Running, Transport, TransportError};
use crate::local::RuntimeError;
use crate::protocol::{JobStatus, RunRequest, StatusObject};

/// Calls into a local runtime, in the same process.
pub struct LocalTransport {
    runtime: Weak<RuntimeHandle>,
}

impl LocalTransport {
    /// A transport into `runtime`. It does not keep the runtime alive.
    pub fn new(runtime: &LocalRuntime) -> Self {
        LocalTransport {
            runtime: runtime.weak(),
        }
    }

    pub(crate) fn from_weak(runtime: Weak<RuntimeHandle>) -> Self {
        LocalTransport { runtime }
    }

    fn runtime(&self) -> Result<LocalRuntime, TransportError> {
        self.runtime
            .upgrade()
            .map(LocalRuntime::from_handle)
            .ok_or_else(|| TransportError::not_acted_on("the local runtime has shut down"))
    }
}

fn from_runtime(e: RuntimeError) -> TransportError {
    match e {
        RuntimeError::QueueFull { .. } => TransportError::not_acted_on(e.to_string()),
        RuntimeError::UnknownEndpoint { .. } | RuntimeError::UnknownJob { .. } => {
            TransportError::Rejected {
                status: Some(404),
                message: e.to_string(),
            }
        }
        other => TransportError::Rejected {
            status: Some(400),
            message: other.to_string(),
        },
    }
}

impl Transport for LocalTransport {
    fn submit(
        &self,
        endpoint: &str,
        req: RunRequest,
    ) -> BoxFuture<'_, Result<String, TransportError>> {
        let result = self
            .runtime()
            .and_then(|rt| rt.submit(endpoint, req).map_err(from_runtime));
        Box::pin(std::future::ready(result))
    }

    fn run(&self, endpoint: &str, req: RunRequest, wait: Duration) -> Running<'_> {
        let run = self
            .runtime()
            .and_then(|rt| rt.run_for_call(endpoint, req, wait).map_err(from_runtime));
        match run {
            Ok((id, job)) => Running {
                id: Some(id.to_string()),
                status: Box::pin(async move { job.await.map_err(from_runtime) }),
            },
            Err(e) => Running {
                id: None,
                status: Box::pin(std::future::ready(Err(e))),
            },
        }
    }

    fn wait(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> BoxFuture<'_, Result<StatusObject, TransportError>> {
        let (endpoint, id) = (endpoint.to_string(), id.to_string());
        Box::pin(async move {
            let rt = self.runtime()?;
            rt.wait(&endpoint, &id, wait).await.map_err(from_runtime)
        })
    }

    fn status(
        &self,
        endpoint: &str,
        id: &str,
    ) -> BoxFuture<'_, Result<StatusObject, TransportError>> {
        let result = self
            .runtime()
            .and_then(|rt| rt.status(endpoint, id).map_err(from_runtime));
        Box::pin(std::future::ready(result))
    }

    fn cancel(&self, endpoint: &str, id: &str) -> BoxFuture<'_, Result<(), TransportError>> {
        let result = self
            .runtime()
            .and_then(|rt| rt.cancel(endpoint, id).map(drop).map_err(from_runtime));
        Box::pin(std::future::ready(result))
    }

    fn stream(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> BoxFuture<'_, Result<(JobStatus, Vec<Value>), TransportError>> {
        let read = self.runtime().map(|rt| {
            let (endpoint, id) = (endpoint.to_string(), id.to_string());
            async move { rt.stream_wait(&endpoint, &id, wait).await }
        });
        Box::pin(async move { read?.await.map_err(from_runtime) })
    }

    fn http(
        &self,
        endpoint: &str,
        request: axum::http::Request<axum::body::Body>,
    ) -> BoxFuture<'_, Result<axum::http::Response<axum::body::Body>, TransportError>> {
        let endpoint = endpoint.to_string();
        Box::pin(async move {
            let rt = self.runtime()?;
            rt.request(&endpoint, request).await.map_err(from_runtime)
        })
    }

    fn describe(&self) -> String {
        "in-process".to_string()
    }
}
