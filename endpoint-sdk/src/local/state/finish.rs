//! A job reaches a final state: its worker reports it, it is cancelled or purged, or it runs
//! past its deadline. The first final state wins; the result is kept for its retention window,
//! and the endpoint keeps at most its cap of results.

use serde_json::Value;
use tokio::time::Instant;

use super::{Effects, EndpointState};
use crate::local::RuntimeEvent;
use crate::protocol::{JobStatus, StatusObject};

/// How a worker ends a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobReport {
    /// Finished with an output.
    Output(Value),
    /// Failed; the wire `error` string.
    Error(String),
    /// Ran past its deadline (reported by the worker itself).
    TimedOut(String),
}

/// The input of a job that no longer needs it (one shared value, not an allocation per job).
fn null_input() -> std::sync::Arc<Value> {
    static NULL: std::sync::LazyLock<std::sync::Arc<Value>> =
        std::sync::LazyLock::new(|| std::sync::Arc::new(Value::Null));
    NULL.clone()
}

impl EndpointState {
    /// Moves job `id` to a final state (a no-op if it already is in one).
    pub(crate) fn finish(
        &mut self,
        id: &str,
        status: JobStatus,
        output: Option<Value>,
        error: Option<String>,
        now: Instant,
        fx: &mut Effects,
    ) {
        let settings = &self.settings;
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        if job.status.is_final() {
            return;
        }
        let was_running = job.status == JobStatus::InProgress;
        job.status = status;
        job.finished = Some(now);
        if output.is_some() || status != JobStatus::Completed {
            job.output = output;
        }
        job.error = error;
        let retention = if job.sync {
            settings.sync_retention
        } else {
            settings.run_retention
        };
        let retain_until = (now + retention).min(job.expires_at);
        job.retain_until = Some(retain_until);
        // Only a failed or timed-out job can be retried: others do not need their input.
        if !settings.keep_inputs && !matches!(status, JobStatus::Failed | JobStatus::TimedOut) {
            job.input = null_input();
        }
        if let Some(cancel) = job.cancel.take() {
            cancel.cancel();
        }
        job.signal();
        match status {
            JobStatus::Completed => self.stats.completed += 1,
            JobStatus::Failed | JobStatus::TimedOut => self.stats.failed += 1,
            _ => {}
        }
        if fx.job_ends {
            let ms = |d: Option<std::time::Duration>| {
                std::time::Duration::from_millis(d.map_or(0, |d| d.as_millis() as u64))
            };
            fx.event(RuntimeEvent::JobFinished {
                endpoint: settings.name.clone(),
                job: job.id.clone(),
                worker: job.worker.clone(),
                status,
                delay: ms(job.delay()),
                execution: ms(job.execution(now)),
                error: job.error.clone(),
            });
        }
        if let Some(url) = &job.webhook {
            fx.webhooks.push((url.clone(), job.status_object(now)));
        }
        let worker = job.worker.clone();
        let key = job.id.clone();
        let session = job.session.clone();
        self.finished.push_back((retain_until, key));
        if let Some(w) = worker.as_ref().and_then(|w| self.workers.get_mut(&**w)) {
            if let Some(session) = session {
                self.holders
                    .insert(session, worker.clone().expect("the job has a worker"));
            }
            w.release(id, now);
            // An external worker learns through job-stop that a job it runs has ended.
            if was_running
                && w.external
                && matches!(status, JobStatus::Cancelled | JobStatus::TimedOut)
            {
                w.pending_stop.push(id.to_string());
                fx.stops_ready = true;
            }
        }
        if !was_running {
            self.queue.retain(|q| &**q != id);
            self.low_queue.retain(|q| &**q != id);
        }
        self.enforce_retention_cap(fx);
    }

    /// The retention cap, kept one for one as jobs end (every final state passes through
    /// [`finish`](Self::finish)): the oldest result's memory serves the next job, instead of a
    /// second's worth being freed by the sweep (and paged in again) at once. The job that just
    /// ended always stays.
    fn enforce_retention_cap(&mut self, fx: &mut Effects) {
        while self.finished.len() > self.settings.max_retained_results {
            let (_, old) = self.finished.pop_front().expect("longer than the cap");
            if self.jobs.get(&old).is_some_and(|j| j.status.is_final()) {
                let record = self.jobs.remove(&old);
                if fx.dropped.is_none() {
                    fx.dropped = record;
                }
            }
        }
    }

    /// A worker reports a job's end. `None` when the job is unknown; a report for a job that
    /// already ended (cancelled, timed out) or that another worker now runs is ignored (the
    /// first final state wins) and answers `Some(None)`; an accepted one answers the job's
    /// status object when `want_status`.
    pub(crate) fn complete(
        &mut self,
        worker: &str,
        id: &str,
        report: JobReport,
        want_status: bool,
        now: Instant,
        fx: &mut Effects,
    ) -> Option<Option<StatusObject>> {
        if let Some(w) = self.workers.get_mut(worker) {
            w.last_seen = now;
        }
        let job = self.jobs.get(id)?;
        if job.status != JobStatus::InProgress || job.worker.as_deref() != Some(worker) {
            tracing::debug!(
                endpoint = &*self.settings.name,
                job = id,
                worker,
                "ignored a result for a job that ended or moved to another worker"
            );
            return Some(None);
        }
        let (status, output, error) = match report {
            JobReport::Output(v) => (JobStatus::Completed, Some(v), None),
            JobReport::Error(e) => (JobStatus::Failed, None, Some(e)),
            JobReport::TimedOut(e) => (JobStatus::TimedOut, None, Some(e)),
        };
        self.finish(id, status, output, error, now, fx);
        Some(
            want_status
                .then(|| self.jobs.get(id).map(|j| j.status_object(now)))
                .flatten(),
        )
    }

    /// Cancels a queued or running job (`/cancel`); a final job stays as it is. Returns its
    /// status object, `None` when the job is unknown.
    pub(crate) fn cancel(
        &mut self,
        id: &str,
        now: Instant,
        fx: &mut Effects,
    ) -> Option<StatusObject> {
        self.finish(id, JobStatus::Cancelled, None, None, now, fx);
        self.jobs.get(id).map(|j| j.status_object(now))
    }

    /// Cancels every queued job (`/purge-queue`); running jobs go on. Returns how many.
    pub(crate) fn purge(&mut self, now: Instant, fx: &mut Effects) -> usize {
        let mut queued: Vec<_> = self.queue.drain(..).collect();
        queued.extend(self.low_queue.drain(..));
        let mut removed = 0;
        for id in &queued {
            if self
                .jobs
                .get(id)
                .is_some_and(|j| j.status == JobStatus::InQueue)
            {
                removed += 1;
            }
            self.finish(id, JobStatus::Cancelled, None, None, now, fx);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use super::JobReport;
    use crate::local::RuntimeEvent;
    use crate::protocol::JobStatus;

    #[test]
    fn the_first_final_state_wins_and_reports_from_elsewhere_are_ignored() {
        let (mut st, t0) = state(settings());
        let id = submit(&mut st, t0, 1);
        ready_worker(&mut st, "w", false, t0);
        st.take("w", 1, false, t0, &mut fx());
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(
            st.complete(
                "other",
                &id,
                JobReport::Output(json!(0)),
                false,
                t1,
                &mut fx()
            ),
            Some(None),
            "another worker's report is ignored"
        );
        let mut fx = fx();
        let done = st
            .complete("w", &id, JobReport::Output(json!(7)), true, t1, &mut fx)
            .unwrap()
            .unwrap();
        assert_eq!(
            (done.status, done.output, done.execution_time),
            (JobStatus::Completed, Some(json!(7)), Some(2_000))
        );
        assert!(st.workers["w"].running.is_empty());
        assert_eq!(st.workers["w"].idle_since, t1);
        assert_eq!(st.stats.completed, 1);
        assert!(matches!(
            &fx.events[0],
            RuntimeEvent::JobFinished { status: JobStatus::Completed, execution, .. }
                if *execution == Duration::from_secs(2)
        ));
        // A late failure report does not change the result.
        st.complete(
            "w",
            &id,
            JobReport::Error("late".into()),
            false,
            t1,
            &mut super::super::testing::fx(),
        );
        assert_eq!(st.jobs[&id].status, JobStatus::Completed);
        assert_eq!(
            st.complete(
                "w",
                "nope",
                JobReport::Output(json!(1)),
                false,
                t1,
                &mut super::super::testing::fx()
            ),
            None
        );
    }

    #[test]
    fn cancelling_a_queued_job_removes_it_and_a_running_external_job_is_stopped() {
        let (mut st, t0) = state(settings());
        let running = submit(&mut st, t0, 1);
        let queued = submit(&mut st, t0, 2);
        ready_worker(&mut st, "ext", true, t0);
        st.take("ext", 1, true, t0, &mut fx());
        let mut fx = fx();
        assert_eq!(
            st.cancel(&queued, t0, &mut fx).unwrap().status,
            JobStatus::Cancelled
        );
        assert!(st.queue.is_empty());
        assert!(!fx.stops_ready);
        st.cancel(&running, t0, &mut fx);
        assert!(fx.stops_ready);
        assert_eq!(st.workers["ext"].pending_stop, vec![running.to_string()]);
        assert!(st.cancel("nope", t0, &mut fx).is_none());
    }

    #[test]
    fn results_beyond_the_cap_go_oldest_first_and_purge_cancels_the_queue() {
        let mut s = settings();
        s.max_retained_results = 2;
        let (mut st, t0) = state(s);
        let ids: Vec<_> = (0..3).map(|i| submit(&mut st, t0, i)).collect();
        for id in &ids {
            st.cancel(id, t0, &mut fx());
        }
        assert!(
            !st.jobs.contains_key(&ids[0]),
            "the oldest result is dropped"
        );
        assert!(st.jobs.contains_key(&ids[1]) && st.jobs.contains_key(&ids[2]));

        let q: Vec<_> = (0..3).map(|i| submit(&mut st, t0, i)).collect();
        assert_eq!(st.purge(t0, &mut fx()), 3);
        assert!(st.queue.is_empty());
        assert_eq!(st.jobs[&q[2]].status, JobStatus::Cancelled);
    }
}
