//! A worker takes queued jobs and starts them: the normal queue before the low-priority one,
//! and a job of a session waits a while for the live worker that holds its session.

use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Effects, EndpointState, JobId, JobRecord, TakenJob, WorkerPhase, WorkerRecord};
use crate::local::RuntimeEvent;
use crate::protocol::JobStatus;

/// The most queued jobs one take passes over while they wait for their session's worker.
const MAX_PASSED: usize = 256;

impl EndpointState {
    /// Takes up to `max` queued jobs for `worker`. An external worker seen for the first time
    /// is registered (ready); a worker that is starting, stopped or retired takes nothing.
    pub(crate) fn take(
        &mut self,
        worker: &str,
        max: usize,
        external: bool,
        now: Instant,
        fx: &mut Effects,
    ) -> Vec<TakenJob> {
        let worker_id = if external {
            match self.touch_external(worker, now, fx) {
                Some(id) => id,
                None => return Vec::new(),
            }
        } else {
            match self.workers.get_key_value(worker) {
                Some((id, _)) => id.clone(),
                None => return Vec::new(),
            }
        };
        if !self
            .workers
            .get(worker)
            .is_some_and(WorkerRecord::takes_jobs)
        {
            return Vec::new();
        }
        let mut taken = Vec::new();
        let mut passed: Vec<JobId> = Vec::new();
        while taken.len() < max {
            let Some(id) = self
                .queue
                .pop_front()
                .or_else(|| self.low_queue.pop_front())
            else {
                break;
            };
            let Some(job) = self.jobs.get(&id) else {
                continue;
            };
            if job.status != JobStatus::InQueue {
                continue;
            }
            if passed.len() < MAX_PASSED && self.waits_for_holder(job, worker, now) {
                passed.push(id);
                continue;
            }
            let job = self.jobs.get_mut(&id).expect("looked up above");
            taken.push(start(&self.settings.name, job, &worker_id, now, fx));
        }
        // Passed-over jobs keep their place at the front, in order.
        for id in passed.into_iter().rev() {
            let low = self.jobs.get(&id).is_some_and(|j| j.low_priority);
            self.enqueue_id(id, low, false);
        }
        if let Some(w) = self.workers.get_mut(worker) {
            w.running.extend(taken.iter().map(|t| t.id.clone()));
        }
        // Another waiter may take what is left.
        fx.jobs_ready |= !taken.is_empty() && self.queued() > 0;
        taken
    }

    /// Whether `job` should wait for the live worker that holds its session (not `worker`).
    fn waits_for_holder(&self, job: &JobRecord, worker: &str, now: Instant) -> bool {
        let Some(holder) = job.session.as_ref().and_then(|s| self.holders.get(s)) else {
            return false;
        };
        &**holder != worker
            && self.workers.contains_key(holder)
            && now.saturating_duration_since(job.submitted) < self.settings.affinity_wait
    }

    /// Registers or refreshes an external worker; `None` when it was retired.
    pub(crate) fn touch_external(
        &mut self,
        worker: &str,
        now: Instant,
        fx: &mut Effects,
    ) -> Option<Arc<str>> {
        if self.retired.iter().any(|r| &**r == worker) {
            return None;
        }
        if let Some((id, _)) = self.workers.get_key_value(worker) {
            let id = id.clone();
            self.workers.get_mut(worker).expect("present").last_seen = now;
            return Some(id);
        }
        let id: Arc<str> = Arc::from(worker);
        self.workers
            .insert(id.clone(), WorkerRecord::new(WorkerPhase::Ready, true, now));
        fx.event(RuntimeEvent::WorkerReady {
            endpoint: self.settings.name.clone(),
            worker: id.clone(),
            startup: std::time::Duration::ZERO,
            external: true,
        });
        Some(id)
    }
}

/// Marks a queued job as running on `worker` and hands it out (the worker's running set is
/// the caller's to update).
pub(crate) fn start(
    endpoint: &Arc<str>,
    job: &mut JobRecord,
    worker: &Arc<str>,
    now: Instant,
    fx: &mut Effects,
) -> TakenJob {
    job.status = JobStatus::InProgress;
    job.started = Some(now);
    job.worker = Some(worker.clone());
    job.attempts += 1;
    job.signal();
    if fx.job_starts {
        fx.event(RuntimeEvent::JobStarted {
            endpoint: endpoint.clone(),
            job: job.id.clone(),
            worker: worker.clone(),
            delay: now.saturating_duration_since(job.submitted),
        });
    }
    TakenJob {
        id: job.id.clone(),
        input: job.input.clone(),
        webhook: job.webhook.clone(),
        s3_config: job.s3_config.clone(),
        deadline: job.deadline(),
        execution_timeout: job.execution_timeout,
        cancel: job
            .cancel
            .get_or_insert_with(CancellationToken::new)
            .clone(),
        trace_id: job.trace_id,
        parent_span: job.parent_span,
        session: job.session.clone(),
        caller_deadline: job.caller_deadline,
        queue_delay: now.saturating_duration_since(job.submitted),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use super::super::{WorkerPhase, WorkerRecord};
    use crate::local::RuntimeEvent;
    use crate::protocol::{JobStatus, Policy, RunRequest, envelope};

    #[test]
    fn jobs_are_taken_in_order_normal_before_low_priority() {
        let (mut st, t0) = state(settings());
        let low = st
            .enqueue(
                t0,
                RunRequest {
                    policy: Some(Policy {
                        low_priority: Some(true),
                        ..Policy::default()
                    }),
                    ..RunRequest::from(json!(0))
                },
                false,
                false,
                &mut fx(),
            )
            .unwrap()
            .0;
        let a = submit(&mut st, t0, 1);
        let b = submit(&mut st, t0, 2);
        ready_worker(&mut st, "w", false, t0);
        let t1 = t0 + Duration::from_millis(30);
        let mut fx = fx();
        let taken = st.take("w", 2, false, t1, &mut fx);
        let ids: Vec<_> = taken.iter().map(|t| t.id.clone()).collect();
        assert_eq!(ids, [a.clone(), b.clone()]);
        assert!(
            fx.jobs_ready,
            "the low-priority job is left for another taker"
        );
        let job = &st.jobs[&a];
        assert_eq!(
            (job.status, job.attempts, job.worker.as_deref()),
            (JobStatus::InProgress, 1, Some("w"))
        );
        assert_eq!(taken[0].deadline, Some(t1 + Duration::from_secs(60)));
        assert!(st.workers["w"].running.contains(&a));
        assert_eq!(
            fx.events[0],
            RuntimeEvent::JobStarted {
                endpoint: "e".into(),
                job: a,
                worker: "w".into(),
                delay: Duration::from_millis(30),
            }
        );
        assert_eq!(
            st.take("w", 5, false, t1, &mut super::super::testing::fx())[0].id,
            low
        );
    }

    #[test]
    fn starting_stopped_and_retired_workers_take_nothing_and_new_external_workers_attach() {
        let (mut st, t0) = state(settings());
        submit(&mut st, t0, 1);
        st.workers.insert(
            "cold".into(),
            WorkerRecord::new(WorkerPhase::Starting, false, t0),
        );
        assert!(st.take("cold", 1, false, t0, &mut fx()).is_empty());
        assert!(st.take("unknown", 1, false, t0, &mut fx()).is_empty());
        let w = ready_worker(&mut st, "stopped", false, t0);
        st.workers[&*w].stop.cancel();
        assert!(st.take("stopped", 1, false, t0, &mut fx()).is_empty());
        st.retired.push_back("old".into());
        assert!(st.take("old", 1, true, t0, &mut fx()).is_empty());
        assert!(
            !st.workers.contains_key("old"),
            "a retired worker does not come back"
        );

        let mut fx = fx();
        assert_eq!(st.take("ext", 1, true, t0, &mut fx).len(), 1);
        assert!(st.workers["ext"].external);
        assert!(matches!(
            &fx.events[0],
            RuntimeEvent::WorkerReady { worker, external: true, .. } if &**worker == "ext"
        ));
    }

    #[test]
    fn a_sessions_job_waits_a_while_for_the_worker_that_holds_the_session() {
        let (mut st, t0) = state(settings());
        ready_worker(&mut st, "holder", false, t0);
        ready_worker(&mut st, "other", false, t0);
        st.holders.insert("s1".into(), "holder".into());
        let input = envelope::wrap("s1", json!(1));
        let mine = st
            .enqueue(t0, RunRequest::from(input), false, false, &mut fx())
            .unwrap()
            .0;
        let plain = submit(&mut st, t0, 2);
        // Another worker passes over the session's job and takes the next one.
        let taken = st.take("other", 2, false, t0, &mut fx());
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].id, plain);
        assert_eq!(st.queue.front(), Some(&mine), "it keeps its place");
        // Once the affinity wait has passed, any worker may take it.
        let later = t0 + st.settings.affinity_wait;
        assert_eq!(st.take("other", 1, false, later, &mut fx())[0].id, mine);
    }
}
