//! External workers that neither ping nor take jobs for the lost-worker window are lost: their
//! running jobs go back to the queue, or fail once they have had their attempts.

use tokio::time::Instant;

use super::{Effects, EndpointState};
use crate::local::{RuntimeEvent, StopReason};
use crate::protocol::{FailureKind, JobFailure, JobStatus};

impl EndpointState {
    /// Removes the lost external workers and requeues or fails their jobs.
    pub(crate) fn reap_lost(&mut self, now: Instant, fx: &mut Effects) {
        let lost_after = self.settings.lost_after;
        let lost: Vec<_> = self
            .workers
            .iter()
            .filter(|(_, w)| w.external && now.saturating_duration_since(w.last_seen) > lost_after)
            .map(|(id, _)| id.clone())
            .collect();
        for worker in lost {
            let w = self.workers.remove(&worker).expect("listed above");
            self.holders.retain(|_, h| *h != worker);
            for id in w.running {
                if self.requeue_lost(&id, fx) {
                    fx.event(RuntimeEvent::JobRequeued {
                        endpoint: self.settings.name.clone(),
                        job: id.clone(),
                        worker: worker.clone(),
                    });
                    continue;
                }
                let Some(job) = self.jobs.get(&id) else {
                    continue;
                };
                if job.status != JobStatus::InProgress {
                    continue;
                }
                let error = JobFailure::new(
                    FailureKind::WorkerLost,
                    format!(
                        "worker {worker} stopped responding while running the job (attempt {} \
                         of {})",
                        job.attempts, self.settings.max_attempts
                    ),
                )
                .to_wire();
                self.finish(&id, JobStatus::Failed, None, Some(error), now, fx);
            }
            fx.event(RuntimeEvent::WorkerStopped {
                endpoint: self.settings.name.clone(),
                worker,
                reason: StopReason::Lost,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use crate::local::{RuntimeEvent, StopReason};
    use crate::protocol::{FailureKind, JobFailure, JobStatus};

    #[test]
    fn a_silent_external_worker_is_lost_its_job_requeued_then_failed_after_the_last_attempt() {
        let mut s = settings();
        s.max_attempts = 2;
        let (mut st, t0) = state(s);
        let id = submit(&mut st, t0, 1);
        ready_worker(&mut st, "a", true, t0);
        st.take("a", 1, true, t0, &mut fx());
        st.reap_lost(t0 + Duration::from_secs(30), &mut fx());
        assert!(
            st.workers.contains_key("a"),
            "30 s is the window, not past it"
        );
        let mut fx1 = fx();
        let t1 = t0 + Duration::from_secs(31);
        st.reap_lost(t1, &mut fx1);
        assert!(!st.workers.contains_key("a"));
        assert_eq!(st.jobs[&id].status, JobStatus::InQueue);
        assert!(
            matches!(&fx1.events[0], RuntimeEvent::JobRequeued { worker, .. } if &**worker == "a")
        );
        assert!(matches!(
            &fx1.events[1],
            RuntimeEvent::WorkerStopped {
                reason: StopReason::Lost,
                ..
            }
        ));

        ready_worker(&mut st, "b", true, t1);
        st.take("b", 1, true, t1, &mut fx());
        st.reap_lost(t1 + Duration::from_secs(31), &mut fx());
        let job = &st.jobs[&id];
        assert_eq!(job.status, JobStatus::Failed);
        let f = JobFailure::from_wire(job.error.as_deref().unwrap());
        assert_eq!(f.kind, FailureKind::WorkerLost);
        assert!(f.message.contains("attempt 2 of 2"), "{}", f.message);
    }
}
