//! `app dev`'s log: one line per worker event and per finished job, on stderr. It is an
//! [`EventSink`] of the runtime like any other; under load its lines are written in batches, so
//! logging every job costs little.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use crate::local::{EventSink, Interest, RuntimeEvent};
use crate::protocol::JobFailure;

/// How long the log rests after a batch: the most a line is late.
const LOG_BATCH: Duration = Duration::from_millis(25);

/// The events waiting for the log, handed over in batches.
pub(super) struct DevLog {
    events: Mutex<Vec<RuntimeEvent>>,
    dropped: AtomicU64,
    ready: Notify,
}

impl DevLog {
    /// The most events waiting for the log; past it, events are counted, not kept.
    const MAX: usize = 65_536;

    pub(super) fn new() -> Self {
        DevLog {
            events: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RuntimeEvent>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for events and swaps them into `batch` (which should be empty). Returns how many
    /// were dropped since the last batch because the log fell behind.
    async fn next_batch(&self, batch: &mut Vec<RuntimeEvent>) -> u64 {
        loop {
            {
                let mut q = self.lock();
                if !q.is_empty() {
                    std::mem::swap(&mut *q, batch);
                    return self.dropped.swap(0, Ordering::Relaxed);
                }
            }
            self.ready.notified().await;
        }
    }

    /// Writes the log to stderr until the task is aborted: after a batch it rests a moment
    /// ([`LOG_BATCH`]) while events gather, so it wakes a few dozen times a second rather than
    /// once per event.
    pub(super) async fn run(self: Arc<Self>) {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
        let mut batch = Vec::new();
        loop {
            let dropped = self.next_batch(&mut batch).await;
            // One time stamp per batch: a batch spans at most LOG_BATCH.
            let stamp = time_of_day();
            if dropped > 0 {
                let _ = writeln!(
                    out,
                    "{stamp} {dropped} runtime events were not logged (too many at once)"
                );
            }
            for e in batch.drain(..) {
                let _ = write_event(&mut out, &stamp, &e);
            }
            let _ = out.flush();
            tokio::time::sleep(LOG_BATCH).await;
        }
    }
}

impl EventSink for DevLog {
    fn interest(&self) -> Interest {
        // A job's queueing and start make no line.
        Interest {
            job_starts: false,
            job_ends: true,
        }
    }

    fn event(&self, e: &RuntimeEvent) {
        let mut q = self.lock();
        if q.len() >= Self::MAX {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let first = q.is_empty();
        q.push(e.clone());
        drop(q);
        if first {
            self.ready.notify_one();
        }
    }
}

/// The time of day (UTC) for log lines.
fn time_of_day() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let s = t.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        t.subsec_millis()
    )
}

/// Writes the log line of an event (if it has one), after `stamp`.
fn write_event(out: &mut impl Write, stamp: &str, e: &RuntimeEvent) -> std::io::Result<()> {
    match e {
        RuntimeEvent::WorkerStarting { endpoint, worker } => {
            writeln!(out, "{stamp} [{endpoint}] worker {worker} starting")
        }
        RuntimeEvent::WorkerReady {
            endpoint,
            worker,
            startup,
            external: true,
        } => {
            let _ = startup;
            writeln!(
                out,
                "{stamp} [{endpoint}] external worker {worker} attached"
            )
        }
        RuntimeEvent::WorkerReady {
            endpoint,
            worker,
            startup,
            external: false,
        } => writeln!(
            out,
            "{stamp} [{endpoint}] worker {worker} ready after {startup:?}"
        ),
        RuntimeEvent::WorkerStopped {
            endpoint,
            worker,
            reason,
        } => writeln!(
            out,
            "{stamp} [{endpoint}] worker {worker} stopped: {reason:?}"
        ),
        RuntimeEvent::JobRequeued {
            endpoint,
            job,
            worker,
        } => writeln!(
            out,
            "{stamp} [{endpoint}] job {job} requeued: worker {worker} was lost"
        ),
        RuntimeEvent::JobFinished {
            endpoint,
            job,
            worker,
            status,
            delay,
            execution,
            error,
        } => {
            write!(
                out,
                "{stamp} [{endpoint}] job {job} on worker {}: {status}, queued {} ms, ran {} ms",
                worker.as_deref().unwrap_or("-"),
                delay.as_millis(),
                execution.as_millis()
            )?;
            match error {
                Some(err) => writeln!(out, ": {}", JobFailure::from_wire(err)),
                None => writeln!(out),
            }
        }
        // Queued and started jobs have no line of their own.
        RuntimeEvent::JobQueued { .. } | RuntimeEvent::JobStarted { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{FailureKind, JobStatus};

    fn line(e: RuntimeEvent) -> String {
        let mut out = Vec::new();
        write_event(&mut out, "12:00:00.000", &e).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn finished(
        job: &str,
        worker: Option<&str>,
        status: JobStatus,
        error: Option<String>,
    ) -> RuntimeEvent {
        RuntimeEvent::JobFinished {
            endpoint: "echo".into(),
            job: job.into(),
            worker: worker.map(Into::into),
            status,
            delay: Duration::from_millis(3),
            execution: Duration::from_millis(40),
            error,
        }
    }

    #[test]
    fn the_dev_log_has_one_line_per_finished_job_with_its_error() {
        assert_eq!(
            line(finished("j1", Some("w1"), JobStatus::Completed, None)),
            "12:00:00.000 [echo] job j1 on worker w1: COMPLETED, queued 3 ms, ran 40 ms\n"
        );
        let error = JobFailure::new(FailureKind::Input, "expected a string").to_wire();
        let failed = line(finished("j2", None, JobStatus::Failed, Some(error)));
        assert!(
            failed.starts_with("12:00:00.000 [echo] job j2 on worker -: FAILED")
                && failed.contains("expected a string")
                && failed.ends_with('\n'),
            "{failed}"
        );
        // Queued and started jobs have no line of their own.
        assert_eq!(
            line(RuntimeEvent::JobQueued {
                endpoint: "echo".into(),
                job: "j3".into(),
                execution_timeout: None,
                trace_id: crate::protocol::trace_context::TraceId::random(),
            }),
            ""
        );
    }

    #[tokio::test]
    async fn the_log_hands_over_events_in_order_and_counts_what_it_could_not_keep() {
        let log = Arc::new(DevLog::new());
        let stopped = |w: &str| RuntimeEvent::WorkerStarting {
            endpoint: "e".into(),
            worker: w.into(),
        };
        log.event(&stopped("w1"));
        log.event(&stopped("w2"));
        let mut batch = Vec::new();
        assert_eq!(log.next_batch(&mut batch).await, 0);
        assert_eq!(batch, vec![stopped("w1"), stopped("w2")]);
        batch.clear();

        // A reader waiting on an empty queue wakes for the next event.
        let reader = tokio::spawn({
            let log = log.clone();
            async move {
                let mut batch = Vec::new();
                log.next_batch(&mut batch).await;
                batch
            }
        });
        tokio::task::yield_now().await;
        log.event(&stopped("w3"));
        assert_eq!(reader.await.unwrap(), vec![stopped("w3")]);

        for i in 0..DevLog::MAX + 5 {
            log.event(&stopped(&i.to_string()));
        }
        assert_eq!(log.next_batch(&mut batch).await, 5, "five past the limit");
        assert_eq!(batch.len(), DevLog::MAX);
        assert_eq!(batch[0], stopped("0"), "the oldest are kept");
    }
}
