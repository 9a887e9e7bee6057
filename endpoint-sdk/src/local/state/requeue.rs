//! A job goes back to the queue: a failed or timed-out job retried with `/retry` (same id and
//! input), or a running job whose worker was lost (while it has attempts left).

use tokio::time::Instant;

use super::{Effects, EndpointState};
use crate::local::RuntimeError;
use crate::protocol::{JobStatus, StatusObject};

impl EndpointState {
    /// `/retry`: queues a failed or timed-out job again, same id and input.
    pub(crate) fn retry(
        &mut self,
        id: &str,
        now: Instant,
        fx: &mut Effects,
    ) -> Result<StatusObject, RuntimeError> {
        let Some(job) = self.jobs.get_mut(id) else {
            return Err(RuntimeError::UnknownJob {
                endpoint: self.settings.name.to_string(),
                id: id.to_string(),
            });
        };
        if !matches!(job.status, JobStatus::Failed | JobStatus::TimedOut) {
            return Err(RuntimeError::NotRetryable {
                id: id.to_string(),
                status: job.status,
            });
        }
        job.status = JobStatus::InQueue;
        job.output = None;
        job.error = None;
        job.started = None;
        job.finished = None;
        job.worker = None;
        job.retain_until = None;
        job.stream.clear();
        job.submitted = now;
        job.cancel = None;
        job.signal();
        let status = job.status_object(now);
        let (key, low) = (job.id.clone(), job.low_priority);
        self.stats.retried += 1;
        self.enqueue_id(key, low, true);
        fx.jobs_ready = true;
        fx.wake_scaler = true;
        Ok(status)
    }

    /// A running job of a lost worker: back to the front of its queue if it has attempts left
    /// (returns true), else it stays for the caller to fail.
    pub(crate) fn requeue_lost(&mut self, id: &str, fx: &mut Effects) -> bool {
        let max_attempts = self.settings.max_attempts;
        let Some(job) = self.jobs.get_mut(id) else {
            return false;
        };
        if job.status != JobStatus::InProgress || job.attempts >= max_attempts {
            return false;
        }
        job.status = JobStatus::InQueue;
        job.started = None;
        job.worker = None;
        job.output = None;
        job.signal();
        let (key, low) = (job.id.clone(), job.low_priority);
        self.enqueue_id(key, low, false);
        fx.jobs_ready = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use crate::local::RuntimeError;
    use crate::local::state::JobReport;
    use crate::protocol::JobStatus;

    #[test]
    fn only_failed_and_timed_out_jobs_are_retried_under_the_same_id() {
        let (mut st, t0) = state(settings());
        let id = submit(&mut st, t0, 1);
        assert!(matches!(
            st.retry(&id, t0, &mut fx()),
            Err(RuntimeError::NotRetryable {
                status: JobStatus::InQueue,
                ..
            })
        ));
        ready_worker(&mut st, "w", false, t0);
        st.take("w", 1, false, t0, &mut fx());
        st.complete(
            "w",
            &id,
            JobReport::Error("boom".into()),
            false,
            t0,
            &mut fx(),
        );
        let t1 = t0 + Duration::from_secs(5);
        let status = st.retry(&id, t1, &mut fx()).unwrap();
        assert_eq!((status.status, status.error), (JobStatus::InQueue, None));
        assert_eq!(st.jobs[&id].submitted, t1);
        assert_eq!(st.queue.back(), Some(&id));
        assert_eq!(st.stats.retried, 1);
        assert!(matches!(
            st.retry("nope", t1, &mut fx()),
            Err(RuntimeError::UnknownJob { .. })
        ));
    }

    #[test]
    fn a_lost_workers_job_goes_to_the_front_while_it_has_attempts_left() {
        let mut s = settings();
        s.max_attempts = 2;
        let (mut st, t0) = state(s);
        let id = submit(&mut st, t0, 1);
        let other = submit(&mut st, t0, 2);
        ready_worker(&mut st, "w", false, t0);
        st.take("w", 1, false, t0, &mut fx());
        assert!(st.requeue_lost(&id, &mut fx()));
        assert_eq!(st.queue.front(), Some(&id));
        assert_eq!(st.queue.back(), Some(&other));
        st.take("w", 1, false, t0, &mut fx());
        assert!(!st.requeue_lost(&id, &mut fx()), "two attempts made");
    }
}
