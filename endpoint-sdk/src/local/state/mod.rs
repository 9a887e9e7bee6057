//! One endpoint of the local runtime as a pure state machine: its queues, its jobs, its
//! workers, and every transition between their states, in files named after the transitions.
//!
//! Nothing here spawns a task, opens a socket or reads a clock: each transition takes the time
//! (`now`) and records what it wants done outside the lock in [`Effects`] (events for the sinks,
//! webhooks to post, takers to wake). The async shell ([`super::shell`]) holds the state behind a
//! lock, drives the transitions and carries out their effects; the unit tests drive them
//! directly, with made-up times.

mod effects;
mod enqueue;
mod expire;
mod finish;
mod job;
mod reap;
mod report;
mod requeue;
mod retire;
mod scale;
mod settings;
pub(crate) mod stream;
mod take;
#[cfg(test)]
mod testing;
mod worker;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use rustc_hash::FxBuildHasher;
use tokio::time::Instant;

pub(crate) use effects::Effects;
pub(crate) use enqueue::Direct;
pub use finish::JobReport;
pub(crate) use job::{JobId, JobRecord, TakenJob};
pub(crate) use report::ChunkTaken;
pub(crate) use settings::Settings;
pub(crate) use worker::{Runner, WorkerPhase, WorkerRecord, new_worker_id};

/// Counts kept since the endpoint started (for `/health`).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) retried: u64,
}

/// Workers remembered as retired (asked to be replaced), so their late pings do not bring them
/// back; the oldest is forgotten first.
const RETIRED_REMEMBERED: usize = 4096;

/// The state of one endpoint.
pub(crate) struct EndpointState {
    pub(crate) settings: Arc<Settings>,
    /// Jobs waiting, FIFO. Only `IN_QUEUE` jobs are in it (ids of jobs removed elsewhere are
    /// skipped when popped).
    pub(crate) queue: VecDeque<JobId>,
    /// Low-priority jobs: taken after the others, never counted for scaling.
    pub(crate) low_queue: VecDeque<JobId>,
    /// Boxed, so growing the map moves pointers, not records. Keyed by ids this runtime made
    /// (random, not chosen by clients): a fast hash is safe.
    pub(crate) jobs: HashMap<JobId, Box<JobRecord>, FxBuildHasher>,
    pub(crate) workers: BTreeMap<Arc<str>, WorkerRecord>,
    pub(crate) stats: Stats,
    /// Consecutive failed `init`s, and when the next worker may try again.
    pub(crate) init_failures: u32,
    pub(crate) init_backoff_until: Option<Instant>,
    pub(crate) next_sweep: Instant,
    /// No unfinished job's TTL ends before this (`None`: no job yet), so the sweep scans the
    /// queue and the running jobs only when one may have expired: a queue of thousands is not
    /// read every second.
    pub(crate) next_expiry: Option<Instant>,
    /// Simulated workers started so far (each one's `arrival`).
    pub(crate) workers_started: u64,
    /// Finished jobs in the order they finished, with the end of their retention window (the
    /// window is fixed per kind, so this is also nearly expiry order). Entries of jobs retried
    /// or removed meanwhile are skipped.
    pub(crate) finished: VecDeque<(Instant, JobId)>,
    pub(crate) retired: VecDeque<Arc<str>>,
    /// Session → the worker that ran its last job (affinity).
    pub(crate) holders: HashMap<String, Arc<str>>,
}

impl EndpointState {
    /// An endpoint with no job and no worker.
    pub(crate) fn new(settings: Arc<Settings>, now: Instant) -> Self {
        EndpointState {
            settings,
            queue: VecDeque::new(),
            low_queue: VecDeque::new(),
            jobs: HashMap::default(),
            workers: BTreeMap::new(),
            stats: Stats::default(),
            init_failures: 0,
            init_backoff_until: None,
            next_sweep: now,
            next_expiry: None,
            workers_started: 0,
            finished: VecDeque::new(),
            retired: VecDeque::new(),
            holders: HashMap::new(),
        }
    }

    /// Jobs waiting, both priorities.
    pub(crate) fn queued(&self) -> usize {
        self.queue.len() + self.low_queue.len()
    }

    /// The record of job `id`, unless it expired (the sweep removes it soon; readers must not
    /// see it meanwhile).
    pub(crate) fn visible(&self, id: &str, now: Instant) -> Option<&JobRecord> {
        self.jobs.get(id).map(|j| &**j).filter(|j| !j.expired(now))
    }

    /// One round of housekeeping: execution timeouts, lost workers, TTLs and retention, idle
    /// workers. Returns how many simulated workers the scaler wants started.
    pub(crate) fn tick(&mut self, now: Instant, fx: &mut Effects) -> usize {
        self.expire_overdue(now, fx);
        self.reap_lost(now, fx);
        self.sweep(now, fx);
        self.retire_idle(now, fx);
        self.scale(now)
    }

    /// Puts a job back at the end (`back`) or the front of its queue.
    fn enqueue_id(&mut self, id: JobId, low_priority: bool, back: bool) {
        let q = if low_priority {
            &mut self.low_queue
        } else {
            &mut self.queue
        };
        if back {
            q.push_back(id);
        } else {
            q.push_front(id);
        }
    }
}
