//! What happens inside the local runtime, as events, and where they go: any number of
//! [`EventSink`]s (`app dev`'s log is one, a metrics exporter another) and the runtime's own
//! broadcast stream ([`LocalRuntime::events`](super::LocalRuntime::events)). The runtime knows
//! nothing of who listens, only whether anyone wants the events every job makes.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::protocol::JobStatus;
use crate::protocol::trace_context::TraceId;

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

/// One thing that happened in the runtime. Ids are shared with the runtime's records, so an
/// event costs no copy of them.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeEvent {
    /// A worker was started (its cold start and `init` follow).
    WorkerStarting {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Worker id.
        worker: Arc<str>,
    },
    /// A worker finished starting and takes jobs.
    WorkerReady {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Worker id.
        worker: Arc<str>,
        /// Cold start plus `init`.
        startup: Duration,
        /// Whether the worker is an external process attached over the job API.
        external: bool,
    },
    /// A worker stopped.
    WorkerStopped {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Worker id.
        worker: Arc<str>,
        /// Why.
        reason: StopReason,
    },
    /// A job entered the queue.
    JobQueued {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Job id.
        job: Arc<str>,
        /// Its execution timeout (the policy's, or the endpoint's).
        execution_timeout: Option<Duration>,
        /// The trace it belongs to.
        trace_id: TraceId,
    },
    /// A worker took a job.
    JobStarted {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Job id.
        job: Arc<str>,
        /// Worker id.
        worker: Arc<str>,
        /// Time in the queue.
        delay: Duration,
    },
    /// A job reached a final state.
    JobFinished {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Job id.
        job: Arc<str>,
        /// The worker that ran it, if one did.
        worker: Option<Arc<str>>,
        /// Final status.
        status: JobStatus,
        /// Time in the queue.
        delay: Duration,
        /// Time running.
        execution: Duration,
        /// The error of a failed job (the wire's `error` string).
        error: Option<String>,
    },
    /// A job of a lost worker was put back in the queue.
    JobRequeued {
        /// Endpoint name.
        endpoint: Arc<str>,
        /// Job id.
        job: Arc<str>,
        /// The lost worker.
        worker: Arc<str>,
    },
}

/// The events a sink wants, beyond the workers' (always sent): each kind costs the runtime
/// an event per job, made only when someone wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interest {
    /// [`RuntimeEvent::JobQueued`] and [`RuntimeEvent::JobStarted`].
    pub job_starts: bool,
    /// [`RuntimeEvent::JobFinished`].
    pub job_ends: bool,
}

impl Interest {
    /// Every event.
    pub const ALL: Interest = Interest {
        job_starts: true,
        job_ends: true,
    };

    fn wants(&self, e: &RuntimeEvent) -> bool {
        match e {
            RuntimeEvent::JobQueued { .. } | RuntimeEvent::JobStarted { .. } => self.job_starts,
            RuntimeEvent::JobFinished { .. } => self.job_ends,
            _ => true,
        }
    }
}

/// Somewhere the runtime's events go. Called outside the runtime's locks, in the order the
/// events happened on each endpoint; it must not block (hand the event to a queue).
pub trait EventSink: Send + Sync + 'static {
    /// Which per-job events this sink wants.
    fn interest(&self) -> Interest {
        Interest::ALL
    }

    /// Receives one event.
    fn event(&self, event: &RuntimeEvent);
}

/// The sinks of one runtime, and its broadcast stream.
pub(crate) struct Sinks {
    sinks: Vec<Arc<dyn EventSink>>,
    interest: Interest,
    broadcast: broadcast::Sender<RuntimeEvent>,
}

impl Sinks {
    pub(crate) fn new(
        sinks: Vec<Arc<dyn EventSink>>,
        broadcast: broadcast::Sender<RuntimeEvent>,
    ) -> Self {
        let interest = sinks.iter().fold(Interest::default(), |acc, s| {
            let i = s.interest();
            Interest {
                job_starts: acc.job_starts || i.job_starts,
                job_ends: acc.job_ends || i.job_ends,
            }
        });
        Sinks {
            sinks,
            interest,
            broadcast,
        }
    }

    fn subscribed(&self) -> bool {
        self.broadcast.receiver_count() > 0
    }

    /// Whether anyone wants the events of each job's queueing and start.
    pub(crate) fn wants_job_starts(&self) -> bool {
        self.interest.job_starts || self.subscribed()
    }

    /// Whether anyone wants each job's end.
    pub(crate) fn wants_job_ends(&self) -> bool {
        self.interest.job_ends || self.subscribed()
    }

    /// A new subscription to the broadcast stream.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.broadcast.subscribe()
    }

    /// Sends an event to every sink that wants it.
    pub(crate) fn emit(&self, e: RuntimeEvent) {
        for s in &self.sinks {
            if s.interest().wants(&e) {
                s.event(&e);
            }
        }
        if self.subscribed() {
            let _ = self.broadcast.send(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<RuntimeEvent>>, Interest);

    impl EventSink for Recorder {
        fn interest(&self) -> Interest {
            self.1
        }
        fn event(&self, e: &RuntimeEvent) {
            self.0.lock().unwrap().push(e.clone());
        }
    }

    #[test]
    fn sinks_get_the_events_they_want_and_subscribers_get_all() {
        let ends = Arc::new(Recorder(
            Mutex::default(),
            Interest {
                job_starts: false,
                job_ends: true,
            },
        ));
        let sinks = Sinks::new(vec![ends.clone()], broadcast::channel(8).0);
        assert!(!sinks.wants_job_starts() && sinks.wants_job_ends());
        let started = RuntimeEvent::JobStarted {
            endpoint: "e".into(),
            job: "j".into(),
            worker: "w".into(),
            delay: Duration::ZERO,
        };
        let stopped = RuntimeEvent::WorkerStopped {
            endpoint: "e".into(),
            worker: "w".into(),
            reason: StopReason::Lost,
        };
        sinks.emit(started.clone());
        sinks.emit(stopped.clone());
        assert_eq!(*ends.0.lock().unwrap(), vec![stopped.clone()]);

        let mut rx = sinks.subscribe();
        assert!(sinks.wants_job_starts(), "a subscriber wants everything");
        sinks.emit(started.clone());
        assert_eq!(rx.try_recv().unwrap(), started);
    }
}
