//! Workers leave: idle ones above the minimum after the idle timeout, and any worker stopped
//! for a reason (its `init` failed, it asked to be replaced, the runtime shuts down).

use std::sync::Arc;

use tokio::time::Instant;

use super::{Effects, EndpointState, RETIRED_REMEMBERED, WorkerPhase};
use crate::local::{RuntimeEvent, StopReason};

impl EndpointState {
    /// Stops the simulated workers idle for the idle timeout, never going below the minimum.
    pub(crate) fn retire_idle(&mut self, now: Instant, fx: &mut Effects) {
        let idle_timeout = self.settings.idle_timeout;
        let min = self.settings.workers.min as usize;
        let mut count = self.workers.len();
        let idle: Vec<Arc<str>> = self
            .workers
            .iter()
            .filter(|(_, w)| {
                !w.external
                    && w.phase == WorkerPhase::Ready
                    && w.running.is_empty()
                    && now.saturating_duration_since(w.idle_since) >= idle_timeout
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in idle {
            if count <= min {
                break;
            }
            count -= 1;
            self.stop_worker(&id, StopReason::IdleTimeout, fx);
        }
    }

    /// Removes a worker: it takes no more jobs; a simulated worker's task ends. A worker that
    /// asked to be replaced is remembered, so that its late pings do not bring it back.
    pub(crate) fn stop_worker(&mut self, worker: &str, reason: StopReason, fx: &mut Effects) {
        self.holders.retain(|_, w| &**w != worker);
        let Some((id, w)) = self.workers.remove_entry(worker) else {
            return;
        };
        if reason == StopReason::Replaced {
            if self.retired.len() == RETIRED_REMEMBERED {
                self.retired.pop_front();
            }
            self.retired.push_back(id.clone());
        }
        fx.stopped.push(w.stop);
        fx.event(RuntimeEvent::WorkerStopped {
            endpoint: self.settings.name.clone(),
            worker: id,
            reason,
        });
    }

    /// Stops every worker (the runtime shuts down).
    pub(crate) fn stop_all(&mut self, fx: &mut Effects) {
        let ids: Vec<Arc<str>> = self.workers.keys().cloned().collect();
        for id in ids {
            self.stop_worker(&id, StopReason::Shutdown, fx);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{fx, ready_worker, settings, state};
    use crate::config::Workers;
    use crate::local::{RuntimeEvent, StopReason};

    #[test]
    fn idle_workers_above_the_minimum_stop_after_the_idle_timeout() {
        let mut s = settings();
        s.workers = Workers { min: 1, max: 3 };
        let (mut st, t0) = state(s);
        for w in ["a", "b", "c"] {
            ready_worker(&mut st, w, false, t0);
        }
        ready_worker(&mut st, "ext", true, t0);
        st.retire_idle(t0 + Duration::from_secs(59), &mut fx());
        assert_eq!(st.workers.len(), 4);
        let mut fx = fx();
        st.retire_idle(t0 + Duration::from_secs(60), &mut fx);
        // Four workers (the external one counts), minimum one: the three simulated ones go;
        // an external worker is never retired.
        assert_eq!(st.workers.len(), 1);
        assert!(st.workers.contains_key("ext"));
        assert_eq!(fx.stopped.len(), 3);
        st.workers.clear();
        for w in ["a", "b"] {
            ready_worker(&mut st, w, false, t0);
        }
        st.retire_idle(
            t0 + Duration::from_secs(60),
            &mut super::super::testing::fx(),
        );
        assert_eq!(st.workers.len(), 1, "never below the minimum");
        assert!(fx.events.iter().all(|e| matches!(
            e,
            RuntimeEvent::WorkerStopped {
                reason: StopReason::IdleTimeout,
                ..
            }
        )));
    }

    #[test]
    fn a_replaced_worker_is_remembered_and_does_not_come_back() {
        let (mut st, t0) = state(settings());
        ready_worker(&mut st, "w", true, t0);
        st.holders.insert("s".into(), "w".into());
        st.stop_worker("w", StopReason::Replaced, &mut fx());
        assert!(st.holders.is_empty(), "its sessions go to other workers");
        assert!(st.touch_external("w", t0, &mut fx()).is_none());
        assert!(!st.workers.contains_key("w"));
    }
}
