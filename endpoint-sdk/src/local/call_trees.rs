//! The calls each recent job made, nested: a job's calls carry their callees' own calls, taken
//! when the job ended (its callees had ended before it). A call tree outlives the records of
//! the calls' jobs (a `/runsync` job's is kept a minute), so the dashboard shows a fan-out of
//! fan-outs to its last level for as long as the top job is known.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::client::CallRecord;

/// One call, with the calls its callee's job made.
#[derive(Debug, Clone, Serialize)]
pub struct CallNode {
    /// The call, as the caller saw it.
    #[serde(flatten)]
    pub call: CallRecord,
    /// The calls its job made (none known for a job run by an external worker).
    #[serde(serialize_with = "as_slice")]
    pub calls: Arc<[CallNode]>,
}

/// Serializes shared nodes as a list (serde's `Arc` support needs its `rc` feature).
pub(crate) fn as_slice<S: serde::Serializer>(v: &Arc<[CallNode]>, s: S) -> Result<S::Ok, S::Error> {
    v[..].serialize(s)
}

/// The call trees of the last `cap` jobs that made calls.
#[derive(Debug)]
pub(crate) struct CallTrees {
    cap: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    trees: HashMap<String, Arc<[CallNode]>>,
    order: VecDeque<String>,
}

impl CallTrees {
    pub(crate) fn new(cap: usize) -> Self {
        CallTrees {
            cap,
            inner: Mutex::default(),
        }
    }

    /// Records the calls job `id` made, each with the tree its callee's job left.
    pub(crate) fn record(&self, id: &str, calls: Vec<CallRecord>) {
        if calls.is_empty() || self.cap == 0 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let nodes: Arc<[CallNode]> = calls
            .into_iter()
            .map(|call| {
                let calls = call
                    .job_id
                    .as_ref()
                    .and_then(|j| inner.trees.get(j).cloned())
                    .unwrap_or_else(|| Arc::from([]));
                CallNode { call, calls }
            })
            .collect();
        if inner.trees.insert(id.to_string(), nodes).is_none() {
            inner.order.push_back(id.to_string());
        }
        while inner.order.len() > self.cap {
            if let Some(old) = inner.order.pop_front() {
                inner.trees.remove(&old);
            }
        }
    }

    /// The calls job `id` made, nested (none if it made none, or is forgotten).
    pub(crate) fn get(&self, id: &str) -> Arc<[CallNode]> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .trees
            .get(id)
            .cloned()
            .unwrap_or_else(|| Arc::from([]))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::protocol::trace_context::SpanId;

    fn call(endpoint: &str, job: &str) -> CallRecord {
        CallRecord {
            endpoint: endpoint.into(),
            span_id: SpanId::random(),
            parent_id: SpanId::random(),
            job_id: Some(job.into()),
            worker_id: None,
            status: None,
            started: Duration::ZERO,
            ended: Duration::from_millis(3),
            queue_delay: None,
            execution: None,
            attempts: 1,
            error: None,
        }
    }

    #[test]
    fn a_job_keeps_its_callees_calls_and_the_oldest_trees_go_first() {
        let trees = CallTrees::new(2);
        trees.record("leaf-caller", vec![call("leaf", "l1")]);
        trees.record("top", vec![call("mid", "leaf-caller"), call("leaf", "l2")]);
        let top = trees.get("top");
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].calls[0].call.endpoint, "leaf");
        assert!(top[1].calls.is_empty());
        // A third job pushes out the oldest tree; the top's nested copy stays whole.
        trees.record("other", vec![call("leaf", "l3")]);
        assert!(trees.get("leaf-caller").is_empty());
        assert_eq!(trees.get("top")[0].calls.len(), 1);
        trees.record("none", vec![]);
        assert!(trees.get("none").is_empty());
    }
}
