//! A job's calls as a tree across levels, each call placed on the root job's timeline: a
//! call's start and end are offsets from the start of the job that made it, and a callee's own
//! calls are placed from when its job started (the call's start plus its queue delay).

use serde_json::{Value, json};

use crate::local::{JobDetail, LocalRuntime};

/// How deep the tree goes (an agent's fan-out of fan-outs is rarely deeper).
const MAX_DEPTH: usize = 6;

/// The calls of `job`, which started `at` ms into the root job, with their own calls nested.
pub(super) fn calls(rt: &LocalRuntime, job: &JobDetail, at: f64, depth: usize) -> Vec<Value> {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    job.calls
        .iter()
        .map(|c| {
            let start = at + ms(c.started);
            let queued = c.queue_delay.map_or(0.0, ms);
            let children = match (&c.job_id, depth < MAX_DEPTH) {
                (Some(id), true) => rt
                    .job_detail(&c.endpoint, id)
                    .map(|d| calls(rt, &d, start + queued, depth + 1))
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            json!({
                "endpoint": c.endpoint,
                "job_id": c.job_id,
                "status": c.status,
                "worker": c.worker_id,
                "start_ms": start,
                "queue_ms": queued,
                "end_ms": at + ms(c.ended),
                "error": c.error,
                "calls": children,
            })
        })
        .collect()
}
