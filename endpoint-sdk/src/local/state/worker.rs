//! A worker as the runtime keeps it: simulated (started by the runtime) or external (a process
//! attached over the job API).

use std::collections::HashSet;
use std::sync::Arc;

use rustc_hash::FxBuildHasher;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::JobId;
use crate::client::Client;
use crate::handler::WorkerState;

/// Where a worker is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkerPhase {
    /// Cold-starting or running `init`.
    Starting,
    /// Takes jobs.
    Ready,
}

/// What a ready simulated worker offers to run jobs: its slots (one per job it may run at
/// once) and the state its `init` made.
pub(crate) struct Runner {
    /// Free slots: a job holds one while it runs.
    pub(crate) slots: Arc<Semaphore>,
    /// The worker's state.
    pub(crate) state: WorkerState,
    /// The client for the calls of its jobs.
    pub(crate) client: Option<Client>,
    /// The worker's id.
    pub(crate) worker: Arc<str>,
    /// The version tag of the endpoint's sessions (made once per worker, not per job).
    pub(crate) session_version: Arc<str>,
}

/// One worker.
pub(crate) struct WorkerRecord {
    pub(crate) phase: WorkerPhase,
    pub(crate) external: bool,
    pub(crate) running: HashSet<JobId, FxBuildHasher>,
    pub(crate) idle_since: Instant,
    pub(crate) last_seen: Instant,
    /// Cancelled when the worker is stopped.
    pub(crate) stop: CancellationToken,
    /// Jobs an external worker must stop (they ended while it ran them): `job-stop` answers them.
    pub(crate) pending_stop: Vec<String>,
    /// A ready simulated worker's slots and state: a `/runsync` job may start on it directly.
    pub(crate) runner: Option<Arc<Runner>>,
    /// The order in which the endpoint's simulated workers were started.
    pub(crate) arrival: u64,
}

impl WorkerRecord {
    /// A worker seen for the first time at `now`.
    pub(crate) fn new(phase: WorkerPhase, external: bool, now: Instant) -> Self {
        WorkerRecord {
            phase,
            external,
            running: HashSet::default(),
            idle_since: now,
            last_seen: now,
            stop: CancellationToken::new(),
            pending_stop: Vec::new(),
            runner: None,
            arrival: 0,
        }
    }

    /// Whether the worker may take jobs.
    pub(crate) fn takes_jobs(&self) -> bool {
        self.phase == WorkerPhase::Ready && !self.stop.is_cancelled()
    }

    /// Job `id` no longer runs here.
    pub(crate) fn release(&mut self, id: &str, now: Instant) -> bool {
        let was = self.running.remove(id);
        if was && self.running.is_empty() {
            self.idle_since = now;
        }
        was
    }
}

/// A new simulated worker id: 14 random lower-case letters and digits, as the platform's.
pub(crate) fn new_worker_id() -> Arc<str> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = (0..14)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    Arc::from(id)
}
