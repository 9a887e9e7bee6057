//! Helpers for the transitions' unit tests: a state with made-up settings, driven at made-up
//! times, no task and no socket.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::{Effects, EndpointState, JobId, Settings, WorkerPhase, WorkerRecord};
use crate::config::{Scaler, Workers};
use crate::protocol::RunRequest;

/// Settings with the platform's defaults and `workers = (0, 3)`.
pub(crate) fn settings() -> Settings {
    Settings {
        name: Arc::from("e"),
        workers: Workers { min: 0, max: 3 },
        scaler: Scaler::QueueDelay(4),
        execution_timeout: Some(Duration::from_secs(60)),
        idle_timeout: Duration::from_secs(60),
        simulate: true,
        queue_limit: 100,
        run_retention: Duration::from_secs(1800),
        sync_retention: Duration::from_secs(60),
        max_retained_results: 100,
        default_ttl: Duration::from_secs(24 * 3600),
        lost_after: Duration::from_secs(30),
        max_attempts: 3,
        affinity_wait: Duration::from_secs(2),
        sweep_every: Duration::from_secs(1),
        keep_inputs: false,
    }
}

/// A state with `settings`, at time `t0`.
pub(crate) fn state(settings: Settings) -> (EndpointState, Instant) {
    let t0 = Instant::now();
    (EndpointState::new(Arc::new(settings), t0), t0)
}

/// Effects that record every event.
pub(crate) fn fx() -> Effects {
    Effects::new(true, true)
}

/// Queues a job with input `n`.
pub(crate) fn submit(st: &mut EndpointState, now: Instant, n: u64) -> JobId {
    st.enqueue(now, RunRequest::from(json!(n)), false, false, &mut fx())
        .expect("queued")
        .0
}

/// Adds a ready worker (`external` or simulated without a runner).
pub(crate) fn ready_worker(
    st: &mut EndpointState,
    id: &str,
    external: bool,
    now: Instant,
) -> Arc<str> {
    let id: Arc<str> = Arc::from(id);
    st.workers.insert(
        id.clone(),
        WorkerRecord::new(WorkerPhase::Ready, external, now),
    );
    id
}
