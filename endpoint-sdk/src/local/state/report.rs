//! What workers report while jobs run (progress, stream chunks, heartbeats, the jobs they must
//! stop), and what readers see (a job's status and new stream chunks, `/health`).

use serde_json::Value;
use tokio::time::Instant;

use super::stream::StreamFull;
use super::{Effects, EndpointState, JobRecord, WorkerPhase};
use crate::protocol::{Health, HealthJobs, HealthWorkers, JobStatus, StatusObject};

/// What became of a stream chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkTaken {
    /// Kept (or dropped because the job no longer runs on the worker that sent it).
    Kept,
    /// No such job.
    Unknown,
    /// Refused: the stream holds too much unread.
    Full(StreamFull),
}

impl EndpointState {
    /// Applies an update from `worker` to job `id` while that worker runs it (updates that come
    /// late, or from another worker, are dropped). `false` when the job is unknown.
    fn update_running(
        &mut self,
        worker: &str,
        id: &str,
        update: impl FnOnce(&mut JobRecord),
    ) -> bool {
        match self.jobs.get_mut(id) {
            None => false,
            Some(job) => {
                if job.status == JobStatus::InProgress && job.worker.as_deref() == Some(worker) {
                    update(job);
                }
                true
            }
        }
    }

    /// A progress update: the job stays `IN_PROGRESS` and its `output` shows the update.
    pub(crate) fn progress(&mut self, worker: &str, id: &str, value: Value) -> bool {
        self.update_running(worker, id, |job| job.output = Some(value))
    }

    /// Stream chunks (one post's: all or none), kept unless the job's stream holds more than
    /// `limit` bytes unread.
    pub(crate) fn stream_chunks(
        &mut self,
        worker: &str,
        id: &str,
        values: Vec<Value>,
        limit: usize,
    ) -> ChunkTaken {
        let mut full = None;
        let known = self.update_running(worker, id, |job| {
            full = job.stream.push(values, limit).err();
        });
        match (known, full) {
            (false, _) => ChunkTaken::Unknown,
            (true, Some(full)) => ChunkTaken::Full(full),
            (true, None) => ChunkTaken::Kept,
        }
    }

    /// A heartbeat from an external worker (which registers it, if new and not retired).
    pub(crate) fn ping(&mut self, worker: &str, now: Instant, fx: &mut Effects) {
        let _ = self.touch_external(worker, now, fx);
    }

    /// The jobs `worker` must stop; a poll counts as a sign of life.
    pub(crate) fn take_stops(&mut self, worker: &str, now: Instant) -> Vec<String> {
        match self.workers.get_mut(worker) {
            Some(w) => {
                w.last_seen = now;
                std::mem::take(&mut w.pending_stop)
            }
            None => Vec::new(),
        }
    }

    /// Job `id`'s status object, unless it is unknown or expired.
    pub(crate) fn status(&self, id: &str, now: Instant) -> Option<StatusObject> {
        self.visible(id, now).map(|j| j.status_object(now))
    }

    /// The stream chunks produced since the last read, and the job's status.
    pub(crate) fn read_stream(
        &mut self,
        id: &str,
        now: Instant,
    ) -> Option<(JobStatus, Vec<Value>)> {
        let job = self.jobs.get_mut(id).filter(|j| !j.expired(now))?;
        Some((job.status, job.stream.read()))
    }

    /// Job and worker counts.
    pub(crate) fn health(&self) -> Health {
        let mut jobs = HealthJobs {
            completed: self.stats.completed,
            failed: self.stats.failed,
            retried: self.stats.retried,
            ..HealthJobs::default()
        };
        for j in self.jobs.values() {
            match j.status {
                JobStatus::InQueue => jobs.in_queue += 1,
                JobStatus::InProgress => jobs.in_progress += 1,
                _ => {}
            }
        }
        let mut w = HealthWorkers::default();
        for worker in self.workers.values() {
            match (worker.phase, worker.running.is_empty()) {
                (WorkerPhase::Starting, _) => w.initializing += 1,
                (WorkerPhase::Ready, true) => w.idle += 1,
                (WorkerPhase::Ready, false) => w.running += 1,
            }
        }
        w.ready = w.idle + w.running;
        w.unhealthy = u64::from(self.init_failures.min(1));
        Health { jobs, workers: w }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::stream::UNREAD_LIMIT;
    use super::super::testing::{fx, ready_worker, settings, state, submit};
    use crate::protocol::JobStatus;

    #[test]
    fn updates_count_only_from_the_running_worker_and_chunks_are_read_once() {
        let (mut st, t0) = state(settings());
        let id = submit(&mut st, t0, 1);
        ready_worker(&mut st, "w", false, t0);
        assert!(
            st.progress("w", &id, json!("early")),
            "known, but not running yet"
        );
        assert_eq!(st.jobs[&id].output, None);
        st.take("w", 1, false, t0, &mut fx());
        assert!(st.progress("w", &id, json!({"done": 1})));
        assert!(st.progress("intruder", &id, json!("x")));
        assert_eq!(st.status(&id, t0).unwrap().output, Some(json!({"done": 1})));
        st.stream_chunks("w", &id, vec![json!("a")], UNREAD_LIMIT);
        st.stream_chunks("w", &id, vec![json!("b")], UNREAD_LIMIT);
        assert_eq!(
            st.read_stream(&id, t0),
            Some((JobStatus::InProgress, vec![json!("a"), json!("b")]))
        );
        assert_eq!(
            st.read_stream(&id, t0),
            Some((JobStatus::InProgress, vec![]))
        );
        assert!(!st.progress("w", "nope", json!(1)));
        let h = st.health();
        assert_eq!(
            (h.jobs.in_progress, h.workers.running, h.workers.ready),
            (1, 1, 1)
        );
    }

    #[test]
    fn a_job_stop_poll_hands_over_the_pending_stops_once() {
        let (mut st, t0) = state(settings());
        let id = submit(&mut st, t0, 1);
        ready_worker(&mut st, "ext", true, t0);
        st.take("ext", 1, true, t0, &mut fx());
        st.cancel(&id, t0, &mut fx());
        assert_eq!(st.take_stops("ext", t0), vec![id.to_string()]);
        assert!(st.take_stops("ext", t0).is_empty());
    }
}
