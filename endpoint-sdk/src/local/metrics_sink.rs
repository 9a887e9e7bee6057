//! The runtime's events into the process's metrics ([`crate::metrics`]): jobs that ended with
//! their queue delay and execution time, jobs run again, workers' cold starts. `app dev` adds
//! it; a runtime without it makes no per-job events for it.

use super::events::{EventSink, Interest, RuntimeEvent};

/// Records the runtime's events in [`crate::metrics::global`].
#[derive(Debug, Default)]
pub struct MetricsSink;

impl EventSink for MetricsSink {
    fn interest(&self) -> Interest {
        Interest {
            job_starts: false,
            job_ends: true,
        }
    }

    fn event(&self, e: &RuntimeEvent) {
        let m = crate::metrics::global();
        match e {
            RuntimeEvent::JobFinished {
                endpoint,
                status,
                delay,
                execution,
                ..
            } => {
                m.job_ended(endpoint, status.as_str(), *execution);
                m.queue_delay(endpoint, *delay);
            }
            RuntimeEvent::JobRequeued { endpoint, .. } => m.job_requeued(endpoint),
            RuntimeEvent::WorkerReady {
                endpoint,
                startup,
                external: false,
                ..
            } => m.cold_start(endpoint, *startup),
            _ => {}
        }
    }
}
