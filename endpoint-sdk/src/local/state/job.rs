//! A job as the runtime keeps it, and as it hands it to a worker.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::protocol::envelope::{Deadline, JobMeta};
use crate::protocol::trace_context::{SpanId, TraceId, TraceParent};
use crate::protocol::{JobObject, JobStatus, StatusObject};

/// A job id as the runtime keeps it: one allocation shared by the job map, the queue, the
/// worker's running set, the retention list and the events.
pub(crate) type JobId = Arc<str>;

/// A new job id as the platform makes them: a random version-4 UUID (from the thread-local
/// generator: no system call per job) with the `-u1` suffix, and `sync-` before it for a
/// `/runsync` job. Ids need to be unique, not secret: the API key guards the API.
pub(crate) fn new_job_id(sync: bool) -> JobId {
    use crate::protocol::hex::write;
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    let mut buf = *b"sync-00000000-0000-4000-0000-000000000000-u1";
    let id = &mut buf[5..];
    write(&mut id[0..8], u128::from(a >> 32));
    write(&mut id[9..13], u128::from((a >> 16) & 0xffff));
    write(&mut id[15..18], u128::from(a & 0x0fff));
    write(&mut id[19..23], u128::from(((b >> 48) & 0x3fff) | 0x8000));
    write(&mut id[24..36], u128::from(b & 0xffff_ffff_ffff));
    let text = std::str::from_utf8(if sync { &buf } else { &buf[5..] }).unwrap_or_default();
    Arc::from(text)
}

/// One job.
pub(crate) struct JobRecord {
    pub(crate) id: JobId,
    pub(crate) input: Arc<Value>,
    pub(crate) webhook: Option<String>,
    pub(crate) s3_config: Option<Value>,
    pub(crate) execution_timeout: Option<Duration>,
    pub(crate) low_priority: bool,
    /// Submitted with `/runsync` (its result is kept for a shorter window).
    pub(crate) sync: bool,
    pub(crate) status: JobStatus,
    pub(crate) submitted: Instant,
    pub(crate) started: Option<Instant>,
    pub(crate) finished: Option<Instant>,
    /// Shared with the worker's record.
    pub(crate) worker: Option<Arc<str>>,
    pub(crate) output: Option<Value>,
    pub(crate) error: Option<String>,
    /// Its stream chunks: those not read yet, and a tail of those read.
    pub(crate) stream: super::stream::JobStream,
    pub(crate) attempts: u32,
    /// Made when the job starts (only a running job has anything to stop) and dropped when it
    /// ends, so a retained result does not hold one.
    pub(crate) cancel: Option<CancellationToken>,
    /// Made by the first `wait` on the job (most jobs have nobody waiting on them this way).
    pub(crate) notify: Option<watch::Sender<JobStatus>>,
    /// Made by the first reader that long-polls the job's stream: woken by each chunk and by
    /// the job's end.
    pub(crate) stream_notify: Option<Arc<tokio::sync::Notify>>,
    pub(crate) expires_at: Instant,
    pub(crate) retain_until: Option<Instant>,
    /// The trace: the caller's (from the input's `traceparent`) or, for a job nobody in a trace
    /// called, a new one; and the caller's call the job descends from.
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span: Option<SpanId>,
    pub(crate) session: Option<String>,
    /// When the caller stops waiting (from its envelope).
    pub(crate) caller_deadline: Option<Deadline>,
}

impl JobRecord {
    /// Time in the queue: until it started (or ended, if it never started).
    pub(crate) fn delay(&self) -> Option<Duration> {
        self.started
            .or(self.finished)
            .map(|s| s.saturating_duration_since(self.submitted))
    }

    /// Time running: until it ended, or until `now`.
    pub(crate) fn execution(&self, now: Instant) -> Option<Duration> {
        self.started
            .map(|s| self.finished.unwrap_or(now).saturating_duration_since(s))
    }

    /// The status object the API answers for this job at `now`.
    pub(crate) fn status_object(&self, now: Instant) -> StatusObject {
        StatusObject {
            id: self.id.to_string(),
            status: self.status,
            delay_time: self.delay().map(|d| d.as_millis() as u64),
            execution_time: self.execution(now).map(|d| d.as_millis() as u64),
            worker_id: self.worker.as_deref().map(str::to_string),
            output: self.output.clone(),
            error: self.error.clone(),
        }
    }

    /// Tells whoever waits on the job its new status.
    pub(crate) fn signal(&self) {
        if let Some(notify) = &self.notify {
            notify.send_replace(self.status);
        }
        if let Some(readers) = &self.stream_notify {
            readers.notify_waiters();
        }
    }

    /// Past its TTL, or past its result's retention.
    pub(crate) fn expired(&self, now: Instant) -> bool {
        self.expires_at <= now || self.retain_until.is_some_and(|r| r <= now)
    }

    /// When a running job's execution budget ends, if it has one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        Some(self.started? + self.execution_timeout?)
    }
}

/// A job handed to a worker.
#[derive(Debug, Clone)]
pub(crate) struct TakenJob {
    pub(crate) id: JobId,
    /// Shared with the job's record: read, never copied.
    pub(crate) input: Arc<Value>,
    pub(crate) webhook: Option<String>,
    pub(crate) s3_config: Option<Value>,
    /// When the job must end, if it has a ceiling.
    pub(crate) deadline: Option<Instant>,
    pub(crate) execution_timeout: Option<Duration>,
    /// Fired when the job is cancelled, expires or times out.
    pub(crate) cancel: CancellationToken,
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span: Option<SpanId>,
    pub(crate) session: Option<String>,
    pub(crate) caller_deadline: Option<Deadline>,
    /// Time it spent in the queue (the platform's `delayTime`).
    pub(crate) queue_delay: Duration,
}

impl TakenJob {
    /// What the job's envelope says.
    pub(crate) fn meta(&self) -> JobMeta {
        JobMeta {
            session: self.session.clone(),
            deadline: self.caller_deadline,
            traceparent: self.parent_span.map(|p| TraceParent::new(self.trace_id, p)),
        }
    }

    /// The job object a worker process receives from `job-take`: its input inside its
    /// envelope again.
    pub(crate) fn to_wire(&self) -> JobObject {
        JobObject {
            id: self.id.to_string(),
            input: self.meta().wrapped(&self.input),
            webhook: self.webhook.clone(),
            s3_config: self.s3_config.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::new_job_id;

    #[test]
    fn job_ids_look_like_the_platforms() {
        let id = new_job_id(false);
        let uuid = id.strip_suffix("-u1").unwrap();
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
        assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(uuid.as_bytes()[14], b'4', "version 4: {id}");
        assert!(
            b"89ab".contains(&uuid.as_bytes()[19]),
            "RFC 4122 variant: {id}"
        );
        let sync = new_job_id(true);
        assert!(sync.starts_with("sync-") && sync.ends_with("-u1"), "{sync}");
        assert_ne!(new_job_id(false), new_job_id(false));
    }
}
