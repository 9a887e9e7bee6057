//! The calls a job made, with each one's queue delay and execution time, so a caller can print
//! the waterfall of a fan-out. The trace id travels with each call (`RunRequest::trace_id`).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use serde::{Deserialize, Serialize};

use crate::protocol::JobStatus;

/// One call, as the caller saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The callee.
    pub endpoint: String,
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

/// The calls of one trace (one job, or one client outside any job).
#[derive(Debug)]
pub struct Trace {
    id: String,
    start: Instant,
    calls: Mutex<Vec<CallRecord>>,
}

impl Trace {
    /// A trace named `id`, starting now.
    pub fn new(id: impl Into<String>) -> Self {
        Trace {
            id: id.into(),
            start: Instant::now(),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The trace id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Time since the trace started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
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
