//! A job's calls as a tree across levels, each call placed on the root job's timeline: a
//! call's start and end are offsets from the start of the job that made it, and a callee's own
//! calls are placed from when its job started (the call's start plus its queue delay).

use serde_json::{Value, json};

use crate::local::CallNode;

/// The calls of a job that started `at` ms into the root job, with their own calls nested.
pub(super) fn calls(nodes: &[CallNode], at: f64) -> Vec<Value> {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    nodes
        .iter()
        .map(|n| {
            let c = &n.call;
            let start = at + ms(c.started);
            let queued = c.queue_delay.map_or(0.0, ms);
            json!({
                "endpoint": c.endpoint,
                "job_id": c.job_id,
                "status": c.status,
                "worker": c.worker_id,
                "start_ms": start,
                "queue_ms": queued,
                "end_ms": at + ms(c.ended),
                "error": c.error.as_deref().map(|e| crate::protocol::JobFailure::from_wire(e).message),
                "calls": calls(&n.calls, start + queued),
            })
        })
        .collect()
}
