//! A job enters the endpoint (`/run`, `/runsync`, a typed call): it is queued, or, for a
//! `/runsync` job with nothing queued before it, started at once on a free slot of a ready
//! simulated worker.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::job::new_job_id;
use super::{Effects, EndpointState, JobId, JobRecord, Runner, TakenJob};
use crate::local::{RuntimeError, RuntimeEvent};
use crate::protocol::trace_context::TraceId;
use crate::protocol::{JobStatus, RunRequest, envelope};

/// A `/runsync` job started on a worker's free slot, for its caller to run.
pub(crate) struct Direct {
    pub(crate) job: TakenJob,
    pub(crate) runner: Arc<Runner>,
    pub(crate) slot: OwnedSemaphorePermit,
}

impl EndpointState {
    /// Adds a job. With `direct`, a job that nothing is queued before (and that has no session,
    /// whose affinity the queue serves) starts on a free slot of a ready simulated worker, and
    /// is returned for the caller to run.
    pub(crate) fn enqueue(
        &mut self,
        now: Instant,
        req: RunRequest,
        sync: bool,
        direct: bool,
        fx: &mut Effects,
    ) -> Result<(JobId, Option<Direct>), RuntimeError> {
        if self.queued() >= self.settings.queue_limit {
            return Err(RuntimeError::QueueFull {
                endpoint: self.settings.name.to_string(),
                limit: self.settings.queue_limit,
            });
        }
        let mut record = self.record(now, req, sync);
        let id = record.id.clone();
        if fx.job_starts {
            fx.event(RuntimeEvent::JobQueued {
                endpoint: self.settings.name.clone(),
                job: id.clone(),
                execution_timeout: record.execution_timeout,
                trace_id: record.trace_id,
            });
        }
        let free = (direct && record.session.is_none() && self.queued() == 0)
            .then(|| self.free_slot())
            .flatten();
        let started = match free {
            Some((worker, runner, slot)) => {
                if let Some(w) = self.workers.get_mut(&*worker) {
                    w.running.insert(id.clone());
                }
                let job = super::take::start(&self.settings.name, &mut record, &worker, now, fx);
                Some(Direct { job, runner, slot })
            }
            None => {
                self.enqueue_id(id.clone(), record.low_priority, true);
                fx.jobs_ready = true;
                fx.wake_scaler = !record.low_priority
                    && self.settings.simulate
                    && self.workers.len() < self.settings.workers.max as usize;
                None
            }
        };
        self.next_expiry = Some(
            self.next_expiry
                .map_or(record.expires_at, |e| e.min(record.expires_at)),
        );
        self.jobs.insert(id.clone(), Box::new(record));
        Ok((id, started))
    }

    fn record(&self, now: Instant, req: RunRequest, sync: bool) -> JobRecord {
        let policy = req.policy.unwrap_or_default();
        let execution_timeout = match policy.execution_timeout {
            Some(ms) => Some(Duration::from_millis(ms)),
            None => self.settings.execution_timeout,
        };
        let ttl = policy
            .ttl
            .map_or(self.settings.default_ttl, Duration::from_millis);
        // The envelope is kept apart from the input: an in-process caller hands it over as it
        // is, one over HTTP sends it inside the input.
        let (meta, input) = if req.meta.is_empty() {
            envelope::split(req.input)
        } else {
            (req.meta, req.input)
        };
        let (trace_id, parent_span) = match meta.traceparent {
            Some(tp) => (tp.trace_id, Some(tp.parent_id)),
            None => (TraceId::random(), None),
        };
        JobRecord {
            id: new_job_id(sync),
            input: Arc::new(input),
            webhook: req.webhook,
            s3_config: req.s3_config,
            execution_timeout,
            low_priority: policy.low_priority.unwrap_or(false),
            sync,
            status: JobStatus::InQueue,
            submitted: now,
            started: None,
            finished: None,
            worker: None,
            output: None,
            error: None,
            stream: Default::default(),
            attempts: 0,
            cancel: None,
            notify: None,
            stream_notify: None,
            expires_at: now + ttl,
            retain_until: None,
            trace_id,
            parent_span,
            session: meta.session,
            caller_deadline: meta.deadline,
        }
    }

    /// The ready simulated worker started first that has a free slot, and the slot: direct
    /// jobs pack onto the workers up longest, so the newest idle out first (and the choice
    /// never depends on the workers' random ids).
    fn free_slot(&self) -> Option<(Arc<str>, Arc<Runner>, OwnedSemaphorePermit)> {
        let (id, w) = self
            .workers
            .iter()
            .filter(|(_, w)| {
                !w.external
                    && w.takes_jobs()
                    && w.runner
                        .as_ref()
                        .is_some_and(|r| r.slots.available_permits() > 0)
            })
            .min_by_key(|(_, w)| w.arrival)?;
        let runner = w.runner.clone()?;
        let slot = runner.slots.clone().try_acquire_owned().ok()?;
        Some((id.clone(), runner, slot))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;
    use tokio::sync::Semaphore;

    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use super::super::{Runner, WorkerPhase};
    use crate::handler::WorkerState;
    use crate::local::{RuntimeError, RuntimeEvent};
    use crate::protocol::{JobStatus, Policy, RunRequest};

    #[test]
    fn a_job_is_queued_with_its_policy_and_the_event_names_its_trace() {
        let (mut st, t0) = state(settings());
        let mut fx = fx();
        let req = RunRequest {
            policy: Some(Policy {
                execution_timeout: Some(9_000),
                ttl: Some(20_000),
                low_priority: None,
            }),
            ..RunRequest::from(json!(1))
        };
        let (id, direct) = st.enqueue(t0, req, false, false, &mut fx).unwrap();
        assert!(direct.is_none());
        let job = &st.jobs[&id];
        assert_eq!(job.status, JobStatus::InQueue);
        assert_eq!(job.execution_timeout, Some(Duration::from_secs(9)));
        assert_eq!(job.expires_at, t0 + Duration::from_secs(20));
        assert_eq!(st.queue.front(), Some(&id));
        assert!(fx.jobs_ready && fx.wake_scaler);
        assert_eq!(
            fx.events,
            vec![RuntimeEvent::JobQueued {
                endpoint: "e".into(),
                job: id.clone(),
                execution_timeout: Some(Duration::from_secs(9)),
                trace_id: st.jobs[&id].trace_id,
            }]
        );
        // Without a policy, the endpoint's ceiling and the default TTL apply.
        let id = submit(&mut st, t0, 2);
        assert_eq!(
            st.jobs[&id].execution_timeout,
            Some(Duration::from_secs(60))
        );
        assert!(!id.starts_with("sync-"));
    }

    #[test]
    fn a_full_queue_refuses_the_job() {
        let mut s = settings();
        s.queue_limit = 2;
        let (mut st, t0) = state(s);
        submit(&mut st, t0, 1);
        submit(&mut st, t0, 2);
        let Err(err) = st.enqueue(t0, RunRequest::from(json!(3)), false, false, &mut fx()) else {
            panic!("a third job fits a queue of two");
        };
        assert!(
            matches!(err, RuntimeError::QueueFull { limit: 2, .. }),
            "{err}"
        );
        assert_eq!(st.jobs.len(), 2, "the refused job left nothing behind");
    }

    #[test]
    fn a_sync_job_starts_on_a_free_slot_and_queues_once_the_slots_are_taken() {
        let (mut st, t0) = state(settings());
        let worker = ready_worker(&mut st, "w1", false, t0);
        st.workers.get_mut(&*worker).unwrap().runner = Some(Arc::new(Runner {
            slots: Arc::new(Semaphore::new(1)),
            state: WorkerState::new(()),
            client: None,
            worker: worker.clone(),
            session_version: Arc::from("e@0"),
        }));
        let mut fx = fx();
        let (id, direct) = st
            .enqueue(t0, RunRequest::from(json!(1)), true, true, &mut fx)
            .unwrap();
        let direct = direct.expect("a free slot");
        assert!(id.starts_with("sync-"));
        assert_eq!(&*direct.job.id, &*id);
        assert_eq!(st.jobs[&id].status, JobStatus::InProgress);
        assert!(st.workers[&*worker].running.contains(&id));
        assert!(st.queue.is_empty() && !fx.jobs_ready);
        // The slot is held by the first job: the next one waits in the queue.
        let (id2, direct2) = st
            .enqueue(t0, RunRequest::from(json!(2)), true, true, &mut fx)
            .unwrap();
        assert!(direct2.is_none());
        assert_eq!(st.queue.front(), Some(&id2));
        drop(direct);
        // A starting worker offers no slot.
        st.workers.get_mut(&*worker).unwrap().phase = WorkerPhase::Starting;
        st.queue.clear();
        let (_, direct3) = st
            .enqueue(t0, RunRequest::from(json!(3)), true, true, &mut fx)
            .unwrap();
        assert!(direct3.is_none());
    }
}
