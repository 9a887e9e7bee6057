//! `app call <endpoint> [JSON | @file]`: one job, from the terminal. Against `app dev` (or any
//! Runpod-compatible API) when `--url`/`RUNPOD_ENDPOINT_BASE_URL` names one, the cloud when
//! `RUNPOD_API_KEY` is set, and in this process otherwise. Progress updates and stream chunks are
//! printed as they arrive (to stderr and stdout), then the output; the exit code says how the job
//! ended. A load-balancing endpoint takes `--path` (and `--method`) and prints its answer as it
//! streams.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::client::{CallRecord, HttpRoutes, HttpTransport, Trace, Transport};
use crate::local::LocalRuntime;
use crate::protocol::envelope::JobMeta;
use crate::protocol::trace_context::SpanId;
use crate::protocol::{JobFailure, JobStatus, RunRequest, StatusObject};
use crate::{Error, Result};

/// Options of `call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// The endpoint to call.
    pub endpoint: String,
    /// The job's input as JSON, `@path` to read it from a file, or `-` for standard input.
    /// Default: `{}`.
    pub input: Option<String>,
    /// The API's base, up to `/v2` (`app dev`: `http://127.0.0.1:8000/v2`); else
    /// `RUNPOD_ENDPOINT_BASE_URL`; else the cloud with `RUNPOD_API_KEY`; else in this process.
    #[arg(long, env = crate::protocol::vars::RUNPOD_ENDPOINT_BASE_URL)]
    pub url: Option<String>,
    /// Give up (and cancel the job) after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// A load-balancing endpoint's path (e.g. `/turn`).
    #[arg(long)]
    pub path: Option<String>,
    /// A load-balancing request's method (default: POST with an input, GET without).
    #[arg(long)]
    pub method: Option<String>,
}

/// Where the call goes.
enum Target {
    Remote(Arc<dyn Transport>, String),
    Local(LocalRuntime),
}

impl Target {
    fn pick(args: &CallArgs) -> Result<Target> {
        let key = std::env::var(crate::protocol::vars::RUNPOD_API_KEY)
            .ok()
            .filter(|k| !k.is_empty());
        let base = match (&args.url, &key) {
            (Some(url), _) => url.clone(),
            (None, Some(_)) => "https://api.runpod.ai/v2".to_string(),
            (None, None) => {
                let runtime = LocalRuntime::from_registry()?;
                return Ok(Target::Local(runtime));
            }
        };
        let mut routes = HttpRoutes::new(base.clone()).api_key(key);
        for (k, v) in std::env::vars() {
            if let Some(suffix) = k.strip_prefix(crate::protocol::vars::ENDPOINT_ID_PREFIX) {
                routes = routes.id(&suffix.to_ascii_lowercase().replace('_', "-"), v);
            }
        }
        Ok(Target::Remote(Arc::new(HttpTransport::new(routes)), base))
    }

    fn transport(&self) -> Arc<dyn Transport> {
        match self {
            Target::Remote(t, _) => t.clone(),
            Target::Local(rt) => Arc::new(crate::local::LocalTransport::new(rt)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Remote(_, base) => base.clone(),
            Target::Local(_) => {
                "this process (no app dev named: --url or RUNPOD_ENDPOINT_BASE_URL)".into()
            }
        }
    }
}

/// The input: JSON text, `@file`, `-` (stdin), or `{}`.
fn read_input(arg: Option<&str>) -> Result<Value> {
    let text = match arg {
        None => return Ok(Value::Object(Default::default())),
        Some("-") => std::io::read_to_string(std::io::stdin()).map_err(|source| Error::Io {
            context: "reading the input from standard input".into(),
            source,
        })?,
        Some(a) => match a.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).map_err(|source| Error::Io {
                context: format!("reading the input from {path}"),
                source,
            })?,
            None => a.to_string(),
        },
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "the input is not JSON ({e}); pass it as '{{\"key\": \"value\"}}', @file.json or -"
        ))
    })
}

/// Runs `call`. Exit status: success only when the job completed.
pub(crate) async fn call(args: CallArgs) -> Result<()> {
    let input = read_input(args.input.as_deref())?;
    let target = Target::pick(&args)?;
    let load_balancing =
        crate::registry::find(&args.endpoint).is_some_and(|d| d.is_load_balancer());
    if load_balancing || args.path.is_some() {
        return super::call_lb::call_lb(&args, &*target.transport(), input).await;
    }
    eprintln!("calling `{}` on {}", args.endpoint, target.describe());
    let transport = target.transport();
    // The call starts a trace: the job and every call it makes join it.
    let call = TracedCall::start();
    let id = transport
        .submit(&args.endpoint, RunRequest::from(call.wrap(input)))
        .await
        .map_err(|e| Error::JobFailed(format!("the submit failed: {e}")))?;
    eprintln!("job {id} · trace {}", call.trace.id());
    let deadline = args
        .timeout
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let watched = watch(&*transport, &args.endpoint, &id);
    let status = tokio::select! {
        s = watched => s?,
        _ = tokio::signal::ctrl_c() => {
            let _ = transport.cancel(&args.endpoint, &id).await;
            return Err(Error::JobFailed(format!("interrupted: job {id} was cancelled")));
        }
        _ = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        } => {
            let _ = transport.cancel(&args.endpoint, &id).await;
            return Err(Error::JobFailed(format!(
                "gave up after {} s: job {id} was cancelled",
                args.timeout.unwrap_or_default()
            )));
        }
    };
    call.ended(&args.endpoint, &status);
    finish(status)
}

/// The one call `app call` makes, as a span of a new trace (exported when OTLP is on).
struct TracedCall {
    trace: Trace,
    span: SpanId,
    started: tokio::time::Instant,
}

impl TracedCall {
    fn start() -> Self {
        TracedCall {
            trace: Trace::root(),
            span: SpanId::random(),
            started: tokio::time::Instant::now(),
        }
    }

    /// The input in an envelope carrying the call's `traceparent`.
    fn wrap(&self, input: Value) -> Value {
        let meta = JobMeta {
            traceparent: Some(self.trace.context_for(self.span)),
            ..JobMeta::default()
        };
        meta.wrap(input)
    }

    fn ended(&self, endpoint: &str, st: &StatusObject) {
        let ms = |v: Option<u64>| v.map(Duration::from_millis);
        self.trace.push(CallRecord {
            endpoint: endpoint.to_string(),
            span_id: self.span,
            parent_id: self.trace.span_id(),
            job_id: Some(st.id.clone()),
            worker_id: st.worker_id.clone(),
            status: Some(st.status),
            started: self.trace.offset(self.started),
            ended: self.trace.elapsed(),
            queue_delay: ms(st.delay_time),
            execution: ms(st.execution_time),
            attempts: 1,
            error: st.error.clone(),
        });
        crate::telemetry::client_ended(&format!("app call {endpoint}"), &self.trace);
    }
}

/// Prints the job's stream chunks (stdout) and progress (stderr) until it ends; its status.
async fn watch(transport: &dyn Transport, endpoint: &str, id: &str) -> Result<StatusObject> {
    let mut last_progress: Option<Value> = None;
    loop {
        let (status, chunks) = transport
            .stream(endpoint, id, Duration::from_secs(1))
            .await
            .map_err(|e| Error::JobFailed(format!("lost touch with job {id}: {e}")))?;
        for c in chunks.into_iter().flat_map(crate::protocol::batch::unbatch) {
            println!("{}", compact(&c));
        }
        let st = transport
            .status(endpoint, id)
            .await
            .map_err(|e| Error::JobFailed(format!("lost touch with job {id}: {e}")))?;
        if st.status.is_final() || status.is_final() {
            return Ok(st);
        }
        if st.status == JobStatus::InProgress && st.output.is_some() && st.output != last_progress {
            eprintln!(
                "progress: {}",
                compact(st.output.as_ref().unwrap_or(&Value::Null))
            );
            last_progress = st.output.clone();
        }
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints the output of a completed job; any other end is the error it carries.
fn finish(st: StatusObject) -> Result<()> {
    let timing = format!(
        "queue {} ms, ran {} ms",
        st.delay_time.unwrap_or_default(),
        st.execution_time.unwrap_or_default()
    );
    match st.status {
        JobStatus::Completed => {
            let out = st.output.unwrap_or(Value::Null);
            println!(
                "{}",
                serde_json::to_string_pretty(&out).unwrap_or_else(|_| out.to_string())
            );
            eprintln!("COMPLETED ({timing})");
            Ok(())
        }
        s => {
            let why = st
                .error
                .as_deref()
                .map(|e| JobFailure::from_wire(e).message)
                .unwrap_or_default();
            Err(Error::JobFailed(format!(
                "job {} ended {s} ({timing}): {why}",
                st.id
            )))
        }
    }
}
