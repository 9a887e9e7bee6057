//! The calls a job made, with each one's queue delay and execution time, so a caller can print
//! the waterfall of a fan-out. Each call is a span of the job's trace: its W3C `traceparent`
//! travels to the callee in the job's input envelope (see [`crate::protocol::trace_context`]),
//! so the callee's job joins the same trace wherever it runs, and each record names the call's
//! span and its parent (the span of the job, or client, that made it), from which the tree of a
//! request is rebuilt across processes.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use serde::{Deserialize, Serialize};

use crate::protocol::JobStatus;
use crate::protocol::trace_context::{SpanId, TraceId, TraceParent};

/// One call, as the caller saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The callee.
    pub endpoint: String,
    /// The call's span: the parent span the callee's job names in its `traceparent`.
    pub span_id: SpanId,
    /// The span the call was made in: the calling job's (or the client's).
    pub parent_id: SpanId,
    /// The callee's job (the last attempt's).
    pub job_id: Option<String>,
    /// The worker that ran it.
    pub worker_id: Option<String>,
    /// Its final status; `None` if the call ended without one (e.g. the transport failed).
    pub status: Option<JobStatus>,
    /// When the call started, from the start of the trace.
    pub started: Duration,
    /// When it ended, from the start of the trace.
    pub ended: Duration,
    /// Time in the callee's queue (the platform's `delayTime`).
    pub queue_delay: Option<Duration>,
    /// Time running (the platform's `executionTime`).
    pub execution: Option<Duration>,
    /// Attempts made (more than one after retries).
    pub attempts: u32,
    /// The error, for a call that failed.
    pub error: Option<String>,
}

/// The calls made in one span of a trace: one job's, or one client's outside any job.
#[derive(Debug)]
pub struct Trace {
    trace_id: TraceId,
    span_id: SpanId,
    /// The trace id in hex, written when first asked for.
    id: std::sync::OnceLock<String>,
    start: Instant,
    /// The wall clock at `start`: where exported spans place the calls.
    wall_start: SystemTime,
    calls: Mutex<Vec<CallRecord>>,
}

impl Trace {
    /// The calls of span `span_id` of trace `trace_id`, starting now.
    pub fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        Trace {
            trace_id,
            span_id,
            id: std::sync::OnceLock::new(),
            start: Instant::now(),
            wall_start: SystemTime::now(),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// A new trace, as a client outside any job starts one.
    pub fn root() -> Self {
        Trace::new(TraceId::random(), SpanId::random())
    }

    /// The trace id, as 32 hex digits.
    pub fn id(&self) -> &str {
        self.id.get_or_init(|| self.trace_id.to_string())
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span the calls are made in (the job's, or the client's).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// What a call in span `call` hands its callee.
    pub(crate) fn context_for(&self, call: SpanId) -> TraceParent {
        TraceParent::new(self.trace_id, call)
    }

    /// Time since the trace started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The wall-clock time at `offset` from the start of the trace (a record's `started` or
    /// `ended`).
    pub fn wall_time(&self, offset: Duration) -> SystemTime {
        self.wall_start + offset
    }

    pub(crate) fn offset(&self, t: Instant) -> Duration {
        t.saturating_duration_since(self.start)
    }

    pub(crate) fn push(&self, record: CallRecord) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    /// Every call so far, in the order they ended.
    pub fn records(&self) -> Vec<CallRecord> {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone();
        calls.sort_by_key(|c| c.started);
        calls
    }

    /// The waterfall: one line per call, a bar showing when it waited (`░`) and ran (`█`).
    pub fn waterfall(&self, width: usize) -> String {
        waterfall(&self.records(), width)
    }
}

/// Renders call records as a waterfall, `width` characters for the bars.
pub fn waterfall(calls: &[CallRecord], width: usize) -> String {
    let Some(end) = calls.iter().map(|c| c.ended).max() else {
        return "(no calls)\n".to_string();
    };
    let total = end.as_secs_f64().max(1e-3);
    let col = |d: Duration| ((d.as_secs_f64() / total) * width as f64).round() as usize;
    let name_w = calls
        .iter()
        .map(|c| c.endpoint.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    for c in calls {
        let start = col(c.started).min(width);
        let queue = c.queue_delay.map_or(0, col);
        let stop = col(c.ended).clamp(start, width);
        let mut bar = vec![' '; width];
        for (i, slot) in bar
            .iter_mut()
            .enumerate()
            .take(stop.max(start + 1).min(width))
            .skip(start)
        {
            *slot = if i < start + queue { '░' } else { '█' };
        }
        let bar: String = bar.into_iter().collect();
        let status = c.status.map_or("ERROR", |s| s.as_str());
        let ms =
            |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{}ms", d.as_millis()));
        out.push_str(&format!(
            "{:<name_w$} |{bar}| {:>9} {:<11} queue {:>7} run {:>7} worker {}{}\n",
            c.endpoint,
            format!("{}ms", (c.ended - c.started).as_millis()),
            status,
            ms(c.queue_delay),
            ms(c.execution),
            c.worker_id.as_deref().unwrap_or("-"),
            if c.attempts > 1 {
                format!(" ({} attempts)", c.attempts)
            } else {
                String::new()
            }
        ));
    }
    out
}
