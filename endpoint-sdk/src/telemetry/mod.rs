//! OpenTelemetry traces: every job, and every call a job (or a client) makes, becomes a span,
//! exported over OTLP (HTTP/protobuf) when the standard variables ask for it.
//!
//! Spans reuse the ids the SDK already gives jobs and calls (the W3C trace context that travels
//! in a job's envelope, see [`crate::protocol::trace_context`]), so the spans of an orchestrator
//! and of its callees join one tree whichever processes run them:
//!
//! ```text
//! invoke_agent research        (the orchestrator's job; a job that made calls)
//! ├── call search              (its call: the callee's queue delay and run, as the caller saw them)
//! │   └── execute_tool search  (the callee's job, on its worker; a job that made none)
//! └── call summarize
//!     └── execute_tool summarize
//! ```
//!
//! Names and `gen_ai.*` attributes follow OpenTelemetry's GenAI semantic conventions; the rest
//! use the platform's words (`runpod.endpoint`, `runpod.job.id`, `runpod.worker.id`,
//! `runpod.job.status`, `runpod.job.delay_time_ms`, `runpod.job.execution_time_ms`).
//!
//! `endpoint_sdk::main()` starts the exporter for `app dev`, `app call` and the worker when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the other
//! `OTEL_*` variables (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_TRACES_SAMPLER`, ..) mean what
//! the specification says. An application with its own `main` calls [`Telemetry::from_env`].
//! Built without the `otel` feature, the SDK exports nothing and says so once.

#[cfg(feature = "otel")]
mod otlp;

use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime};

use crate::client::Trace;
use crate::protocol::JobStatus;
use crate::protocol::trace_context::{SpanId, TraceId};

/// The variables that turn the export on.
pub const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Why the exporter did not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The environment asks for something this build cannot do.
    #[error("{0}")]
    Config(String),
    /// The OTLP exporter refused its configuration.
    #[error(
        "the OTLP exporter did not start: {0}; check OTEL_EXPORTER_OTLP_ENDPOINT (e.g. \
         http://127.0.0.1:4318) and OTEL_EXPORTER_OTLP_HEADERS"
    )]
    Exporter(String),
}

/// The running exporter. Keep it for the life of the process and call
/// [`Telemetry::shutdown`] at the end, which sends the spans not sent yet.
#[derive(Debug)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: opentelemetry_sdk::trace::SdkTracerProvider,
}

impl Telemetry {
    /// Starts the OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not `true`);
    /// `Ok(None)` otherwise, and when an exporter already runs in this process. `service` names
    /// the process unless `OTEL_SERVICE_NAME` does.
    pub fn from_env(service: &str) -> Result<Option<Telemetry>, TelemetryError> {
        let wanted = ENDPOINT_VARS
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
        let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim() == "true")
            || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.trim() == "none");
        if !wanted || disabled {
            return Ok(None);
        }
        // The exporter's HTTP client is the SDK's reqwest on rustls, which needs a provider.
        crate::install_tls_provider();
        Self::start(service)
    }

    #[cfg(feature = "otel")]
    fn start(service: &str) -> Result<Option<Telemetry>, TelemetryError> {
        Ok(otlp::start(service)?.map(|provider| Telemetry { provider }))
    }

    #[cfg(not(feature = "otel"))]
    fn start(_service: &str) -> Result<Option<Telemetry>, TelemetryError> {
        tracing::warn!(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set, but endpoint-sdk was built without its `otel` \
             feature: no traces are exported (enable the feature, on by default)"
        );
        Ok(None)
    }

    /// Sends the spans not sent yet and stops the exporter (waiting at most its export timeout,
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`, 10 s by default).
    pub async fn shutdown(self) {
        #[cfg(feature = "otel")]
        {
            let provider = self.provider;
            // The batch exporter's shutdown blocks until its thread has sent the last batch.
            let _ = tokio::task::spawn_blocking(move || otlp::shutdown(&provider)).await;
        }
    }
}

/// Runs `command` with the OTLP exporter on when the environment asks for it
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`), as service `service` unless `OTEL_SERVICE_NAME` says
/// otherwise; sends the last spans before returning.
pub(crate) async fn traced<T>(
    service: &str,
    command: impl Future<Output = crate::Result<T>>,
) -> crate::Result<T> {
    let telemetry = Telemetry::from_env(service).map_err(|e| crate::Error::Usage(e.to_string()))?;
    let result = command.await;
    if let Some(t) = telemetry {
        t.shutdown().await;
    }
    result
}

/// A job (or a load-balancing request) that ended, as its span shows it.
#[derive(Debug)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct JobSpan<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) job_id: &'a str,
    pub(crate) worker_id: &'a str,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The caller's call, when a caller in a trace submitted the job.
    pub(crate) parent: Option<SpanId>,
    pub(crate) started: SystemTime,
    pub(crate) ended: SystemTime,
    pub(crate) status: JobStatus,
    pub(crate) error: Option<&'a str>,
    /// Time in the queue, when the runtime knows it (the platform's `delayTime`).
    pub(crate) queue_delay: Option<Duration>,
    /// A load-balancing request's method, path and response status.
    pub(crate) http: Option<(&'a str, &'a str, u16)>,
}

/// Exports the span of a job (or request) that ended and of the calls it made (`calls`: its
/// client's trace, if it used its client). Nothing happens unless an exporter runs.
pub(crate) fn job_ended(job: &JobSpan<'_>, calls: Option<&Trace>) {
    #[cfg(feature = "otel")]
    otlp::job_ended(job, calls);
    #[cfg(not(feature = "otel"))]
    let _ = (job, calls);
}

/// A load-balancing request in progress, for its span: made only while an exporter runs.
#[derive(Debug)]
pub(crate) struct RequestSpan {
    pub(crate) started: SystemTime,
    pub(crate) method: String,
    pub(crate) path: String,
    /// The response's status, once the app answered (0 before).
    status: AtomicU16,
}

impl RequestSpan {
    /// A request starting now, if an exporter runs.
    pub(crate) fn start(method: &str, path: &str) -> Option<RequestSpan> {
        enabled().then(|| RequestSpan {
            started: SystemTime::now(),
            method: method.to_string(),
            path: path.to_string(),
            status: AtomicU16::new(0),
        })
    }

    /// The app answered with `status`.
    pub(crate) fn answered(&self, status: u16) {
        self.status.store(status, Ordering::Relaxed);
    }

    /// Exports the request's span (`span`: its context's, from its start to now) and its calls,
    /// with the response's status: an error when the app never answered or answered 5xx.
    pub(crate) fn ended(&self, span: JobSpan<'_>, calls: Option<&Trace>) {
        let code = self.status.load(Ordering::Relaxed);
        let failed = code == 0 || code >= 500;
        let error = if code == 0 {
            "the request ended before the app answered".to_string()
        } else {
            format!("HTTP {code}")
        };
        let job = JobSpan {
            status: if failed {
                JobStatus::Failed
            } else {
                JobStatus::Completed
            },
            error: failed.then_some(error.as_str()),
            http: Some((&self.method, &self.path, code)),
            ..span
        };
        job_ended(&job, calls);
    }
}

/// Exports the calls a client made outside any job (`app call`), under a span named `name`
/// that covers them. Nothing happens unless an exporter runs.
pub(crate) fn client_ended(name: &str, trace: &Trace) {
    #[cfg(feature = "otel")]
    otlp::client_ended(name, trace);
    #[cfg(not(feature = "otel"))]
    let _ = (name, trace);
}

/// Whether an exporter runs in this process.
pub fn enabled() -> bool {
    #[cfg(feature = "otel")]
    return otlp::enabled();
    #[cfg(not(feature = "otel"))]
    false
}
