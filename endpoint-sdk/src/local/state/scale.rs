//! Workers arrive: the scaler decides how many simulated workers to start, each starts
//! (cold start, then `init`) and becomes ready, or fails its `init` and is stopped, with a
//! growing back-off before the next one tries.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Effects, EndpointState, Runner, WorkerPhase, WorkerRecord};
use crate::local::scaler::{ScalerInput, desired_workers};
use crate::local::{RuntimeEvent, StopReason};

impl EndpointState {
    /// How many simulated workers to start now.
    pub(crate) fn scale(&self, now: Instant) -> usize {
        if !self.settings.simulate || self.init_backoff_until.is_some_and(|b| b > now) {
            return 0;
        }
        let oldest = self
            .queue
            .iter()
            .find_map(|id| self.jobs.get(id))
            .map_or(Duration::ZERO, |j| {
                now.saturating_duration_since(j.submitted)
            });
        let current = self.workers.len();
        let want = desired_workers(&ScalerInput {
            scaler: self.settings.scaler,
            workers: self.settings.workers,
            queued: self.queue.len(),
            in_progress: self.workers.values().map(|w| w.running.len()).sum(),
            oldest_wait: oldest,
            current,
            starting: self
                .workers
                .values()
                .filter(|w| w.phase == WorkerPhase::Starting)
                .count(),
        });
        want.saturating_sub(current)
    }

    /// Registers a new simulated worker (starting); returns its id and stop token.
    pub(crate) fn add_simulated(
        &mut self,
        id: Arc<str>,
        now: Instant,
        fx: &mut Effects,
    ) -> CancellationToken {
        let mut record = WorkerRecord::new(WorkerPhase::Starting, false, now);
        self.workers_started += 1;
        record.arrival = self.workers_started;
        let stop = record.stop.clone();
        self.workers.insert(id.clone(), record);
        fx.event(RuntimeEvent::WorkerStarting {
            endpoint: self.settings.name.clone(),
            worker: id,
        });
        stop
    }

    /// A simulated worker finished its cold start and `init`, after `startup`.
    pub(crate) fn worker_ready(
        &mut self,
        runner: Arc<Runner>,
        startup: Duration,
        now: Instant,
        fx: &mut Effects,
    ) {
        self.init_failures = 0;
        self.init_backoff_until = None;
        let Some(w) = self.workers.get_mut(&*runner.worker) else {
            return;
        };
        w.phase = WorkerPhase::Ready;
        w.idle_since = now;
        fx.event(RuntimeEvent::WorkerReady {
            endpoint: self.settings.name.clone(),
            worker: runner.worker.clone(),
            startup,
            external: false,
        });
        w.runner = Some(runner);
        fx.jobs_ready = true;
    }

    /// A simulated worker's `init` failed: it stops, and the next one waits a growing back-off
    /// (250 ms doubling, up to 32 s).
    pub(crate) fn init_failed(
        &mut self,
        worker: &str,
        message: String,
        now: Instant,
        fx: &mut Effects,
    ) {
        self.init_failures += 1;
        let backoff = Duration::from_millis(250u64 << self.init_failures.min(7));
        self.init_backoff_until = Some(now + backoff);
        self.stop_worker(worker, StopReason::InitFailed(message), fx);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Semaphore;

    use super::super::testing::{fx, settings, state, submit};
    use super::super::{Runner, WorkerPhase};
    use crate::handler::WorkerState;
    use crate::local::{RuntimeEvent, StopReason};

    #[test]
    fn a_queue_gets_a_worker_which_starts_then_becomes_ready() {
        let (mut st, t0) = state(settings());
        assert_eq!(st.scale(t0), 0, "nothing to do, minimum 0");
        submit(&mut st, t0, 1);
        assert_eq!(st.scale(t0), 1);
        let id: Arc<str> = "w".into();
        let stop = st.add_simulated(id.clone(), t0, &mut fx());
        assert_eq!(st.workers["w"].phase, WorkerPhase::Starting);
        assert_eq!(st.scale(t0), 0, "one is starting");
        let runner = Arc::new(Runner {
            slots: Arc::new(Semaphore::new(1)),
            state: WorkerState::new(()),
            client: None,
            worker: id,
            session_version: "e@0".into(),
        });
        let mut fx = fx();
        st.worker_ready(runner, Duration::from_secs(3), t0, &mut fx);
        assert_eq!(st.workers["w"].phase, WorkerPhase::Ready);
        assert!(fx.jobs_ready);
        assert!(matches!(
            &fx.events[0],
            RuntimeEvent::WorkerReady { startup, external: false, .. } if *startup == Duration::from_secs(3)
        ));
        assert!(!stop.is_cancelled());
    }

    #[test]
    fn a_failed_init_stops_the_worker_and_backs_off_the_next_one() {
        let mut s = settings();
        s.simulate = true;
        let (mut st, t0) = state(s);
        submit(&mut st, t0, 1);
        let stop = st.add_simulated("w".into(), t0, &mut fx());
        let mut fx = fx();
        st.init_failed("w", "no weights".into(), t0, &mut fx);
        assert!(!st.workers.contains_key("w"));
        fx.stopped.iter().for_each(|t| t.cancel());
        assert!(stop.is_cancelled());
        assert!(matches!(
            &fx.events[0],
            RuntimeEvent::WorkerStopped { reason: StopReason::InitFailed(m), .. } if m == "no weights"
        ));
        assert_eq!(st.health().workers.unhealthy, 1);
        assert_eq!(st.scale(t0 + Duration::from_millis(499)), 0, "backing off");
        assert_eq!(st.scale(t0 + Duration::from_millis(500)), 1);
    }

    #[test]
    fn an_endpoint_served_externally_starts_no_worker() {
        let mut s = settings();
        s.simulate = false;
        let (mut st, t0) = state(s);
        submit(&mut st, t0, 1);
        assert_eq!(st.scale(t0), 0);
    }
}
