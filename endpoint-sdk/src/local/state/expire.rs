//! Time runs out for a job: a running job passes its execution timeout (it ends `TIMED_OUT`,
//! whoever notices first: this sweep or the worker itself), any job passes its TTL (it is
//! deleted, even mid-run), a result passes its retention window (it is dropped).

use tokio::time::Instant;

use super::{Effects, EndpointState, JobId};
use crate::protocol::{JobFailure, JobStatus};

impl EndpointState {
    /// Ends the running jobs past their deadline.
    pub(crate) fn expire_overdue(&mut self, now: Instant, fx: &mut Effects) {
        let overdue: Vec<JobId> = self
            .workers
            .values()
            .flat_map(|w| w.running.iter())
            .filter(|id| {
                self.jobs
                    .get(*id)
                    .and_then(|j| j.deadline())
                    .is_some_and(|d| d <= now)
            })
            .cloned()
            .collect();
        for id in overdue {
            let timeout = self.jobs[&id].execution_timeout;
            let error = JobFailure::timed_out(timeout).to_wire();
            self.finish(&id, JobStatus::TimedOut, None, Some(error), now, fx);
        }
    }

    /// Every `sweep_every`: deletes the jobs past their TTL and the results past their
    /// retention window.
    pub(crate) fn sweep(&mut self, now: Instant, fx: &mut Effects) {
        if now < self.next_sweep {
            return;
        }
        let sweep_every = self.settings.sweep_every;
        self.next_sweep = now + sweep_every;
        let mut gone: Vec<JobId> = Vec::new();
        // Results past their window (the cap is kept as jobs finish).
        while let Some((until, _)) = self.finished.front() {
            if *until > now {
                break;
            }
            let (_, id) = self.finished.pop_front().expect("peeked");
            if self.jobs.get(&id).is_some_and(|j| j.status.is_final()) {
                gone.push(id);
            }
        }
        // Unfinished jobs past their TTL (the queue and what runs), read only when one may
        // have expired; the scan also finds the next moment one may.
        if self.next_expiry.is_some_and(|e| e <= now) {
            let mut next: Option<Instant> = None;
            for id in self
                .queue
                .iter()
                .chain(self.low_queue.iter())
                .chain(self.workers.values().flat_map(|w| w.running.iter()))
            {
                match self.jobs.get(id).map(|j| j.expires_at) {
                    Some(at) if at <= now => gone.push(id.clone()),
                    Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
                    None => {}
                }
            }
            self.next_expiry = next;
        }
        // Finished jobs whose TTL is shorter than their retention window.
        gone.extend(
            self.finished
                .iter()
                .take_while(|(until, _)| *until <= now + sweep_every)
                .filter(|(_, id)| self.jobs.get(id).is_some_and(|j| j.expires_at <= now))
                .map(|(_, id)| id.clone()),
        );
        for id in gone {
            self.delete(&id, now, fx);
        }
    }

    /// Deletes job `id` whatever its state (its TTL passed): a running job is stopped.
    fn delete(&mut self, id: &JobId, now: Instant, fx: &mut Effects) {
        let Some(job) = self.jobs.remove(id) else {
            return;
        };
        if let Some(cancel) = &job.cancel {
            cancel.cancel();
        }
        if job.status == JobStatus::InQueue {
            self.queue.retain(|q| q != id);
            self.low_queue.retain(|q| q != id);
        }
        if let Some(w) = job.worker.as_ref().and_then(|w| self.workers.get_mut(&**w))
            && w.release(id, now)
            && w.external
        {
            w.pending_stop.push(id.to_string());
            fx.stops_ready = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use crate::protocol::{JobFailure, JobStatus, Policy, RunRequest};

    #[test]
    fn a_running_job_past_its_deadline_ends_timed_out_and_stops_its_handler() {
        let mut s = settings();
        s.execution_timeout = Some(Duration::from_secs(5));
        let (mut st, t0) = state(s);
        let id = submit(&mut st, t0, 1);
        ready_worker(&mut st, "w", false, t0);
        let taken = st.take("w", 1, false, t0, &mut fx());
        st.expire_overdue(t0 + Duration::from_millis(4_999), &mut fx());
        assert_eq!(st.jobs[&id].status, JobStatus::InProgress);
        st.expire_overdue(t0 + Duration::from_secs(5), &mut fx());
        let job = &st.jobs[&id];
        assert_eq!(job.status, JobStatus::TimedOut);
        assert_eq!(
            JobFailure::from_wire(job.error.as_deref().unwrap()).message,
            "the job ran past its execution timeout of 5000 ms and was stopped"
        );
        assert!(
            taken[0].cancel.is_cancelled(),
            "the handler is told to stop"
        );
    }

    #[test]
    fn the_ttl_deletes_queued_and_running_jobs_and_results_expire_after_their_window() {
        let mut s = settings();
        s.run_retention = Duration::from_secs(30);
        let (mut st, t0) = state(s);
        let ttl = |n| RunRequest {
            policy: Some(Policy {
                ttl: Some(10_000),
                ..Policy::default()
            }),
            ..RunRequest::from(json!(n))
        };
        let running = st.enqueue(t0, ttl(1), false, false, &mut fx()).unwrap().0;
        let queued = st.enqueue(t0, ttl(2), false, false, &mut fx()).unwrap().0;
        let done = submit(&mut st, t0, 3);
        ready_worker(&mut st, "w", false, t0);
        let taken = st.take("w", 1, false, t0, &mut fx());
        st.cancel(&done, t0, &mut fx());

        st.sweep(t0 + Duration::from_secs(10), &mut fx());
        assert!(!st.jobs.contains_key(&running) && !st.jobs.contains_key(&queued));
        assert!(taken[0].cancel.is_cancelled(), "the running job is stopped");
        assert!(st.workers["w"].running.is_empty());
        assert!(st.jobs.contains_key(&done), "its result is kept 30 s");
        assert!(st.visible(&done, t0 + Duration::from_secs(30)).is_none());
        st.sweep(t0 + Duration::from_secs(31), &mut fx());
        assert!(!st.jobs.contains_key(&done));
    }

    #[test]
    fn a_later_job_with_a_shorter_ttl_expires_first_and_the_sweep_reads_the_queue_only_when_due() {
        let (mut st, t0) = state(settings());
        let ttl = |n, ms| RunRequest {
            policy: Some(Policy {
                ttl: Some(ms),
                ..Policy::default()
            }),
            ..RunRequest::from(json!(n))
        };
        let s = Duration::from_secs;
        let long = st
            .enqueue(t0, ttl(1, 60_000), false, false, &mut fx())
            .unwrap()
            .0;
        assert_eq!(st.next_expiry, Some(t0 + s(60)));
        st.sweep(t0 + s(1), &mut fx());
        assert_eq!(st.next_expiry, Some(t0 + s(60)), "nothing was due: no scan");
        let short = st
            .enqueue(t0 + s(2), ttl(2, 5_000), false, false, &mut fx())
            .unwrap()
            .0;
        assert_eq!(st.next_expiry, Some(t0 + s(7)));
        st.sweep(t0 + s(6), &mut fx());
        assert!(st.jobs.contains_key(&short));
        st.sweep(t0 + s(7), &mut fx());
        assert!(!st.jobs.contains_key(&short) && st.jobs.contains_key(&long));
        assert_eq!(
            st.next_expiry,
            Some(t0 + s(60)),
            "the scan found the next one due"
        );
        st.sweep(t0 + s(60), &mut fx());
        assert!(!st.jobs.contains_key(&long));
        assert_eq!(st.next_expiry, None);
    }
}
