//! What happens inside the local runtime, as a stream of events: for `app dev`'s log, progress
//! displays, and tests that assert on scaling.

use std::time::Duration;

use crate::job::JobStatus;

/// Why a worker stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Idle longer than the endpoint's idle timeout, above the worker minimum.
    IdleTimeout,
    /// Its per-worker `init` failed.
    InitFailed(String),
    /// An external worker stopped pinging and taking jobs.
    Lost,
    /// It asked to be replaced (`stopPod`).
    Replaced,
    /// The runtime shut down.
    Shutdown,
}

/// One thing that happened in the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeEvent {
    /// A worker was started (its cold start and `init` follow).
    WorkerStarting {
        /// Endpoint name.
        endpoint: String,
        /// Worker id.
        worker: String,
    },
    /// A worker finished starting and takes jobs.
    WorkerReady {
        /// Endpoint name.
        endpoint: String,
        /// Worker id.
        worker: String,
        /// Cold start plus `init`.
        startup: Duration,
        /// Whether the worker is an external process attached over the job API.
        external: bool,
    },
    /// A worker stopped.
    WorkerStopped {
        /// Endpoint name.
        endpoint: String,
        /// Worker id.
        worker: String,
        /// Why.
        reason: StopReason,
    },
    /// A job entered the queue.
    JobQueued {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// Its execution timeout (the policy's, or the endpoint's).
        execution_timeout: Option<Duration>,
        /// The trace it belongs to.
        trace_id: String,
    },
    /// A worker took a job.
    JobStarted {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// Worker id.
        worker: String,
        /// Time in the queue.
        delay: Duration,
    },
    /// A job reached a final state.
    JobFinished {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// The worker that ran it, if one did.
        worker: Option<String>,
        /// Final status.
        status: JobStatus,
        /// Time in the queue.
        delay: Duration,
        /// Time running.
        execution: Duration,
        /// The error of a failed job.
        error: Option<String>,
    },
    /// A job of a lost worker was put back in the queue.
    JobRequeued {
        /// Endpoint name.
        endpoint: String,
        /// Job id.
        job: String,
        /// The lost worker.
        worker: String,
    },
}

impl RuntimeEvent {
    /// Whether `app dev`'s log writes a line for this event: not for a job's queueing or start,
    /// and a job's end reaches it as a [`FinishedJob`].
    pub(crate) fn logged(&self) -> bool {
        !matches!(
            self,
            RuntimeEvent::JobQueued { .. }
                | RuntimeEvent::JobStarted { .. }
                | RuntimeEvent::JobFinished { .. }
        )
    }
}

/// A job's end as the runtime records it for its listeners: the ids shared, not copied. It
/// becomes a [`RuntimeEvent::JobFinished`] only for subscribers of the event stream; the log
/// writes its line from it directly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FinishedJob {
    pub(crate) endpoint: std::borrow::Cow<'static, str>,
    pub(crate) job: std::sync::Arc<str>,
    pub(crate) worker: Option<std::sync::Arc<str>>,
    pub(crate) status: JobStatus,
    pub(crate) delay: Duration,
    pub(crate) execution: Duration,
    pub(crate) error: Option<String>,
}

impl FinishedJob {
    pub(crate) fn to_event(&self) -> RuntimeEvent {
        RuntimeEvent::JobFinished {
            endpoint: self.endpoint.to_string(),
            job: self.job.to_string(),
            worker: self.worker.as_deref().map(str::to_string),
            status: self.status,
            delay: self.delay,
            execution: self.execution,
            error: self.error.clone(),
        }
    }
}

/// What happened, in the order it happened: an event, or a job's end (see [`FinishedJob`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LogItem {
    /// Any event.
    Event(RuntimeEvent),
    /// A job's end.
    JobFinished(FinishedJob),
}

/// The events for `app dev`'s log, handed over in batches: moved, not cloned per reader as the
/// broadcast channel does, and only the ones that make a line.
pub(crate) struct LogQueue {
    events: std::sync::Mutex<Vec<LogItem>>,
    dropped: std::sync::atomic::AtomicU64,
    ready: tokio::sync::Notify,
}

impl LogQueue {
    /// The most events waiting for the log; past it, events are counted, not kept.
    const MAX: usize = 65_536;

    pub(crate) fn new() -> Self {
        LogQueue {
            events: std::sync::Mutex::new(Vec::new()),
            dropped: std::sync::atomic::AtomicU64::new(0),
            ready: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LogItem>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push(&self, e: LogItem) {
        let mut q = self.lock();
        if q.len() >= Self::MAX {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let first = q.is_empty();
        q.push(e);
        drop(q);
        if first {
            self.ready.notify_one();
        }
    }

    /// Waits for events and swaps them into `batch` (which should be empty). Returns how many
    /// were dropped since the last batch because the log fell behind.
    pub(crate) async fn next_batch(&self, batch: &mut Vec<LogItem>) -> u64 {
        loop {
            {
                let mut q = self.lock();
                if !q.is_empty() {
                    std::mem::swap(&mut *q, batch);
                    return self.dropped.swap(0, std::sync::atomic::Ordering::Relaxed);
                }
            }
            self.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped(worker: &str) -> LogItem {
        LogItem::Event(RuntimeEvent::WorkerStopped {
            endpoint: "e".into(),
            worker: worker.into(),
            reason: StopReason::IdleTimeout,
        })
    }

    #[tokio::test]
    async fn the_log_queue_hands_over_events_in_order_and_counts_what_it_could_not_keep() {
        let q = LogQueue::new();
        q.push(stopped("w1"));
        q.push(stopped("w2"));
        let mut batch = Vec::new();
        assert_eq!(q.next_batch(&mut batch).await, 0);
        assert_eq!(batch, vec![stopped("w1"), stopped("w2")]);
        batch.clear();

        // A reader waiting on an empty queue wakes for the next event.
        let q = std::sync::Arc::new(q);
        let reader = tokio::spawn({
            let q = q.clone();
            async move {
                let mut batch = Vec::new();
                q.next_batch(&mut batch).await;
                batch
            }
        });
        tokio::task::yield_now().await;
        q.push(stopped("w3"));
        assert_eq!(reader.await.unwrap(), vec![stopped("w3")]);

        for i in 0..LogQueue::MAX + 5 {
            q.push(stopped(&i.to_string()));
        }
        assert_eq!(q.next_batch(&mut batch).await, 5, "five past the limit");
        assert_eq!(batch.len(), LogQueue::MAX);
        assert_eq!(batch[0], stopped("0"), "the oldest are kept");
    }
}
