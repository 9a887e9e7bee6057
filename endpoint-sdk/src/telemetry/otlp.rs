//! The OTLP exporter (the OpenTelemetry project's SDK), and spans built from the SDK's records
//! with the ids the jobs and calls already carry.

use std::cell::Cell;
use std::sync::OnceLock;

use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, Status, TraceContextExt, TraceFlags, TraceState, Tracer,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SdkTracer, SdkTracerProvider};

use super::{JobSpan, TelemetryError};
use crate::client::{CallRecord, Trace};
use crate::protocol::JobStatus;
use crate::protocol::trace_context::{SpanId, TraceId};

static TRACER: OnceLock<SdkTracer> = OnceLock::new();

pub(super) fn enabled() -> bool {
    TRACER.get().is_some()
}

pub(super) fn start(service: &str) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    if enabled() {
        return Ok(None);
    }
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Ok(p) = std::env::var(var)
            && !p.trim().is_empty()
            && p.trim() != "http/protobuf"
        {
            return Err(TelemetryError::Config(format!(
                "{var}={p}: endpoint-sdk exports OTLP over HTTP/protobuf only; set {var}=http/protobuf \
                 and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port (4318)"
            )));
        }
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(service.to_string());
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(KnownIds::default())
        .with_resource(resource.build())
        .build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "endpoint-sdk");
    if TRACER.set(tracer).is_err() {
        // Another thread started one first; this one goes.
        shutdown(&provider);
        return Ok(None);
    }
    Ok(Some(provider))
}

pub(super) fn shutdown(provider: &SdkTracerProvider) {
    if let Err(e) = provider.shutdown() {
        tracing::warn!("the OTLP exporter did not send its last spans: {e}");
    }
}

thread_local! {
    /// The ids the next span built on this thread takes (see [`KnownIds`]).
    static NEXT: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
}

/// The SDK's id generator, told the ids of the span about to be built: a job's and a call's
/// spans keep the ids their trace context already carries (the callee's job names its caller's
/// call as parent before any span exists). Random ids otherwise.
#[derive(Debug, Default)]
struct KnownIds(RandomIdGenerator);

impl IdGenerator for KnownIds {
    fn new_trace_id(&self) -> opentelemetry::trace::TraceId {
        match NEXT.get() {
            Some((t, _)) => otel_trace(t),
            None => self.0.new_trace_id(),
        }
    }

    fn new_span_id(&self) -> opentelemetry::trace::SpanId {
        match NEXT.get() {
            Some((_, s)) => otel_span(s),
            None => self.0.new_span_id(),
        }
    }
}

fn otel_trace(t: TraceId) -> opentelemetry::trace::TraceId {
    opentelemetry::trace::TraceId::from_bytes(t.to_bytes())
}

fn otel_span(s: SpanId) -> opentelemetry::trace::SpanId {
    opentelemetry::trace::SpanId::from_bytes(s.to_bytes())
}

/// Starts span `builder` of trace `trace` with id `span` under `parent`.
fn start_span(
    tracer: &SdkTracer,
    builder: opentelemetry::trace::SpanBuilder,
    parent: &Context,
    trace: TraceId,
    span: SpanId,
) -> opentelemetry_sdk::trace::Span {
    NEXT.set(Some((trace, span)));
    let started = tracer.build_with_context(builder, parent);
    NEXT.set(None);
    started
}

/// The context of a span known only by its ids (the caller's call, in another process).
fn remote(trace: TraceId, span: SpanId) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        otel_trace(trace),
        otel_span(span),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Marks a span that did not complete, as the conventions say (`error.type` and an error status).
fn failed(span: &mut impl opentelemetry::trace::Span, status: &str, error: Option<&str>) {
    span.set_attribute(KeyValue::new("error.type", status.to_string()));
    span.set_status(Status::error(error.unwrap_or(status).to_string()));
}

pub(super) fn job_ended(job: &JobSpan<'_>, calls: Option<&Trace>) {
    let Some(tracer) = TRACER.get() else { return };
    let records = calls.map(Trace::records).unwrap_or_default();
    // A job that called other endpoints acted as an agent; one that called none, as a tool.
    let (op, name_key) = if records.is_empty() {
        ("execute_tool", "gen_ai.tool.name")
    } else {
        ("invoke_agent", "gen_ai.agent.name")
    };
    let mut attrs = vec![
        KeyValue::new("gen_ai.operation.name", op),
        KeyValue::new(name_key, job.endpoint.to_string()),
        KeyValue::new("runpod.endpoint", job.endpoint.to_string()),
        KeyValue::new("runpod.job.id", job.job_id.to_string()),
        KeyValue::new("runpod.worker.id", job.worker_id.to_string()),
        KeyValue::new("runpod.job.status", job.status.as_str()),
        KeyValue::new(
            "runpod.job.execution_time_ms",
            ms(job.ended.duration_since(job.started).unwrap_or_default()),
        ),
    ];
    if records.is_empty() {
        attrs.push(KeyValue::new("gen_ai.tool.call.id", job.job_id.to_string()));
    }
    if let Some(d) = job.queue_delay {
        attrs.push(KeyValue::new("runpod.job.delay_time_ms", ms(d)));
    }
    if let Some((method, path, code)) = job.http {
        attrs.push(KeyValue::new("http.request.method", method.to_string()));
        attrs.push(KeyValue::new("url.path", path.to_string()));
        if code != 0 {
            attrs.push(KeyValue::new("http.response.status_code", i64::from(code)));
        }
    }
    let builder = tracer
        .span_builder(format!("{op} {}", job.endpoint))
        .with_kind(SpanKind::Server)
        .with_start_time(job.started)
        .with_attributes(attrs);
    let parent = job
        .parent
        .map_or_else(Context::new, |p| remote(job.trace_id, p));
    let mut span = start_span(tracer, builder, &parent, job.trace_id, job.span_id);
    if job.status != JobStatus::Completed {
        failed(&mut span, job.status.as_str(), job.error);
    }
    let cx = Context::new().with_span(span);
    if let Some(trace) = calls {
        for call in &records {
            call_span(tracer, &cx, trace, call);
        }
    }
    cx.span().end_with_timestamp(job.ended);
}

pub(super) fn client_ended(name: &str, trace: &Trace) {
    let Some(tracer) = TRACER.get() else { return };
    let records = trace.records();
    let Some(end) = records.iter().map(|c| c.ended).max() else {
        return;
    };
    let endpoints: Vec<&str> = records.iter().map(|c| c.endpoint.as_str()).collect();
    let builder = tracer
        .span_builder(name.to_string())
        .with_kind(SpanKind::Internal)
        .with_start_time(trace.wall_time(std::time::Duration::ZERO))
        .with_attributes([KeyValue::new("runpod.endpoint", endpoints.join(","))]);
    let mut span = start_span(
        tracer,
        builder,
        &Context::new(),
        trace.trace_id(),
        trace.span_id(),
    );
    // The client failed if a call it made did.
    if let Some((status, error)) = records.iter().find_map(call_failure) {
        failed(&mut span, status, error.as_deref());
    }
    let cx = Context::new().with_span(span);
    for call in &records {
        call_span(tracer, &cx, trace, call);
    }
    cx.span().end_with_timestamp(trace.wall_time(end));
}

/// How a call that did not complete ended: its status and its error's message (a job's error
/// travels as the platform's JSON).
fn call_failure(call: &CallRecord) -> Option<(&'static str, Option<String>)> {
    if call.status == Some(JobStatus::Completed) {
        return None;
    }
    let status = call.status.map_or("ERROR", |s| s.as_str());
    let error = call
        .error
        .as_deref()
        .map(|e| crate::protocol::JobFailure::from_wire(e).message);
    Some((status, error))
}

/// One call, as its caller saw it: from its submission to its result, with the callee's queue
/// delay and run as the platform reported them.
fn call_span(tracer: &SdkTracer, parent: &Context, trace: &Trace, call: &CallRecord) {
    let mut attrs = vec![
        KeyValue::new("runpod.endpoint", call.endpoint.clone()),
        KeyValue::new("runpod.call.attempts", i64::from(call.attempts)),
    ];
    let optional = [
        ("runpod.job.id", call.job_id.clone()),
        ("runpod.worker.id", call.worker_id.clone()),
        (
            "runpod.job.status",
            call.status.map(|s| s.as_str().to_string()),
        ),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            attrs.push(KeyValue::new(key, v));
        }
    }
    if let Some(d) = call.queue_delay {
        attrs.push(KeyValue::new("runpod.job.delay_time_ms", ms(d)));
    }
    if let Some(d) = call.execution {
        attrs.push(KeyValue::new("runpod.job.execution_time_ms", ms(d)));
    }
    let builder = tracer
        .span_builder(format!("call {}", call.endpoint))
        .with_kind(SpanKind::Client)
        .with_start_time(trace.wall_time(call.started))
        .with_attributes(attrs);
    let mut span = start_span(tracer, builder, parent, trace.trace_id(), call.span_id);
    if let Some((status, error)) = call_failure(call) {
        failed(&mut span, status, error.as_deref());
    }
    span.end_with_timestamp(trace.wall_time(call.ended));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_the_same_in_both_crates() {
        let (t, s) = (TraceId::random(), SpanId::random());
        assert_eq!(otel_trace(t).to_string(), t.to_string());
        assert_eq!(otel_span(s).to_string(), s.to_string());
    }

    #[test]
    fn the_next_span_takes_the_ids_it_was_told_then_random_ones() {
        let ids = KnownIds::default();
        let (t, s) = (TraceId::random(), SpanId::random());
        NEXT.set(Some((t, s)));
        assert_eq!(ids.new_trace_id(), otel_trace(t));
        assert_eq!(ids.new_span_id(), otel_span(s));
        NEXT.set(None);
        assert_ne!(ids.new_span_id(), otel_span(s));
    }
}
