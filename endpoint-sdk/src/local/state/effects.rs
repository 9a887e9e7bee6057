//! What a transition wants done once the endpoint's lock is released.

use crate::local::RuntimeEvent;
use crate::local::state::JobRecord;
use crate::protocol::StatusObject;
use tokio_util::sync::CancellationToken;

/// Side effects decided under the lock, carried out by the shell after it.
#[derive(Default)]
pub(crate) struct Effects {
    /// Whether anyone listens to the events of each job's queueing and start (if not, the
    /// transitions do not make them).
    pub(crate) job_starts: bool,
    /// Whether anyone listens to each job's end.
    pub(crate) job_ends: bool,
    /// Events, in the order they happened.
    pub(crate) events: Vec<RuntimeEvent>,
    /// Final statuses to post to webhooks.
    pub(crate) webhooks: Vec<(String, StatusObject)>,
    /// Jobs became available to take: wake a waiting taker.
    pub(crate) jobs_ready: bool,
    /// An external worker has jobs to stop: wake the `job-stop` polls.
    pub(crate) stops_ready: bool,
    /// The scaler may want a worker now rather than at its next tick.
    pub(crate) wake_scaler: bool,
    /// Workers that were stopped: their tokens are cancelled.
    pub(crate) stopped: Vec<CancellationToken>,
    /// A record that left the retention window, dropped once the lock is released.
    pub(crate) dropped: Option<Box<JobRecord>>,
}

impl Effects {
    /// Effects for a runtime whose listeners want (`job_starts`, `job_ends`) events.
    pub(crate) fn new(job_starts: bool, job_ends: bool) -> Self {
        Effects {
            job_starts,
            job_ends,
            ..Effects::default()
        }
    }

    /// Records an event.
    pub(crate) fn event(&mut self, e: RuntimeEvent) {
        self.events.push(e);
    }
}
