//! The runtime's job API for worker processes (`job-take`, `job-done`, `job-stream`, `ping`,
//! `job-stop`), as methods: what [`server`](crate::server) serves at `/v2/{endpoint}/job-*`,
//! through the same transitions the simulated workers use.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::LocalRuntime;
use crate::local::RuntimeError;
use crate::local::shell::LocalEndpoint;
use crate::local::state::{ChunkTaken, JobReport};
use crate::protocol::JobObject;

impl LocalRuntime {
    /// Endpoint `name`, if worker processes serve it (`served_externally`, or known only by its
    /// config): the jobs of an endpoint the runtime simulates are its own workers'.
    fn external(&self, name: &str) -> Result<&Arc<LocalEndpoint>, RuntimeError> {
        let ep = self.endpoint(name)?;
        if ep.simulated() {
            return Err(RuntimeError::Simulated {
                endpoint: name.to_string(),
            });
        }
        Ok(ep)
    }

    /// `job-take`: up to `max` jobs for `worker`, waiting up to `wait` for one. A worker seen
    /// for the first time attaches (ready); a retired one gets nothing. Empty when the wait ran
    /// out. Cancel-safe: a job is taken only when the call returns it.
    pub async fn job_take(
        &self,
        endpoint: &str,
        worker: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<JobObject>, RuntimeError> {
        let taken = self.external(endpoint)?.take_wait(worker, max, wait).await;
        Ok(taken.iter().map(|j| j.to_wire()).collect())
    }

    /// `job-done`: `worker` reports job `id`'s end; `stop_pod` asks for the worker to be
    /// replaced. A report for a job that already ended (cancelled, timed out) or that another
    /// worker now runs is ignored: the first final state wins.
    pub fn job_done(
        &self,
        endpoint: &str,
        worker: &str,
        id: &str,
        report: JobReport,
        stop_pod: bool,
    ) -> Result<(), RuntimeError> {
        let ep = self.external(endpoint)?;
        ep.complete(worker, id, report, stop_pod)
            .then_some(())
            .ok_or_else(|| unknown(endpoint, id))
    }

    /// A progress update (`job-done` with status `IN_PROGRESS`): while the job runs, its status
    /// shows `output`.
    pub fn job_progress(
        &self,
        endpoint: &str,
        worker: &str,
        id: &str,
        output: Value,
    ) -> Result<(), RuntimeError> {
        self.external(endpoint)?
            .progress(worker, id, output)
            .then_some(())
            .ok_or_else(|| unknown(endpoint, id))
    }

    /// `job-stream`: a stream chunk of job `id`, or several batched in one post by a worker
    /// that fell behind (`{"$chunks": [..]}`, kept or refused together). Refused while the
    /// job's stream holds more than 8 MB that `/stream` has not read
    /// ([`RuntimeError::StreamFull`]: post it again later).
    pub fn job_stream(
        &self,
        endpoint: &str,
        worker: &str,
        id: &str,
        chunk: Value,
    ) -> Result<(), RuntimeError> {
        match self.external(endpoint)?.stream_chunks(
            worker,
            id,
            crate::protocol::batch::unbatch(chunk),
        ) {
            ChunkTaken::Kept => Ok(()),
            ChunkTaken::Unknown => Err(unknown(endpoint, id)),
            ChunkTaken::Full(full) => Err(RuntimeError::StreamFull {
                endpoint: endpoint.to_string(),
                id: id.to_string(),
                unread: full.unread,
            }),
        }
    }

    /// `ping`: a heartbeat from `worker` (a worker seen for the first time attaches).
    pub fn ping(&self, endpoint: &str, worker: &str) -> Result<(), RuntimeError> {
        self.external(endpoint)?.ping(worker);
        Ok(())
    }

    /// `job-stop`: the jobs `worker` must stop (cancelled or timed out while it ran them),
    /// waiting up to `wait` for some. Cancel-safe.
    pub async fn job_stop(
        &self,
        endpoint: &str,
        worker: &str,
        wait: Duration,
    ) -> Result<Vec<String>, RuntimeError> {
        Ok(self.external(endpoint)?.stops_wait(worker, wait).await)
    }
}

fn unknown(endpoint: &str, id: &str) -> RuntimeError {
    RuntimeError::UnknownJob {
        endpoint: endpoint.to_string(),
        id: id.to_string(),
    }
}
