//! Progress updates and stream chunks of one job, posted to the platform in order, before its
//! result. A post costs a network round trip: while one is in flight, the chunks that follow
//! are gathered and go together in the next post (see [`crate::protocol::batch`]), each post
//! under the platform's 1 MB chunk limit. Chunks not yet posted are bounded
//! ([`BACKLOG_LIMIT`]): past it, the handler's `Chunks::send` waits.

use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::platform::Platform;
use crate::handler::JobSink;
use crate::handler::backlog::Backlog;
use crate::protocol::batch::{BATCH_LIMIT, post_body};

/// The most bytes of chunks a job holds before they are posted.
pub(super) const BACKLOG_LIMIT: usize = 8 * 1024 * 1024;

enum Posted {
    Progress(Value),
    /// A chunk, serialized.
    Stream(Vec<u8>),
    Flush(oneshot::Sender<()>),
}

/// Progress updates and stream chunks of one job, posted in order by one task, started by
/// the first of them: most jobs send none, and pay for no task.
pub(super) struct OrderedPosts {
    platform: Platform,
    job: String,
    /// The worker's own runtime, where the posting task runs (not the handlers' threads: a
    /// handler that blocks them must not hold its posts back).
    runtime: tokio::runtime::Handle,
    poster: OnceLock<Poster>,
    /// The endpoint's stream chunks (the process's metrics).
    chunks: prometheus_client::metrics::counter::Counter,
}

/// The posting task's queue, and the bytes of chunks not yet posted.
struct Poster {
    tx: mpsc::UnboundedSender<Posted>,
    backlog: Arc<Backlog>,
}

impl JobSink for OrderedPosts {
    fn progress(&self, value: Value) {
        let _ = self.poster().tx.send(Posted::Progress(value));
    }

    fn stream(&self, value: Value) {
        self.chunks.inc();
        let bytes = serde_json::to_vec(&value).expect("a JSON value serializes");
        let poster = self.poster();
        poster.backlog.add(bytes.len());
        let _ = poster.tx.send(Posted::Stream(bytes));
    }

    fn ready(&self) -> crate::BoxFuture<'_, ()> {
        match self.poster.get() {
            Some(p) => Box::pin(p.backlog.room(BACKLOG_LIMIT)),
            None => Box::pin(std::future::ready(())),
        }
    }
}

impl OrderedPosts {
    /// The posts of job `job`; call it on the worker's own runtime.
    pub(super) fn start(
        platform: Platform,
        job: String,
        chunks: prometheus_client::metrics::counter::Counter,
    ) -> Arc<OrderedPosts> {
        Arc::new(OrderedPosts {
            platform,
            job,
            runtime: tokio::runtime::Handle::current(),
            poster: OnceLock::new(),
            chunks,
        })
    }

    fn poster(&self) -> &Poster {
        self.poster.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let backlog = Arc::new(Backlog::default());
            let (platform, job) = (self.platform.clone(), self.job.clone());
            self.runtime
                .spawn(post_all(platform, job, rx, backlog.clone()));
            Poster { tx, backlog }
        })
    }

    /// Waits until every update sent so far is posted.
    pub(super) async fn flush(&self) {
        let Some(poster) = self.poster.get() else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if poster.tx.send(Posted::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Posts everything in order: each progress update alone, consecutive chunks together.
async fn post_all(
    platform: Platform,
    job: String,
    mut rx: mpsc::UnboundedReceiver<Posted>,
    backlog: Arc<Backlog>,
) {
    let mut next = None;
    loop {
        let posted = match next.take() {
            Some(p) => p,
            None => match rx.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        let result = match posted {
            Posted::Progress(v) => platform.progress(&job, &v).await,
            Posted::Stream(first) => {
                let (batch, after) = gather(first, &mut rx);
                next = after;
                let size: usize = batch.iter().map(Vec::len).sum();
                let posted = platform.stream_body(&job, post_body(&batch)).await;
                backlog.taken(size);
                posted
            }
            Posted::Flush(done) => {
                let _ = done.send(());
                return;
            }
        };
        if let Err(e) = result {
            tracing::warn!(job = %job, "an update was not delivered: {e}");
        }
    }
}

/// `first` and the chunks already waiting behind it, up to the size of one post; and what
/// came after them, if it was taken.
fn gather(
    first: Vec<u8>,
    rx: &mut mpsc::UnboundedReceiver<Posted>,
) -> (Vec<Vec<u8>>, Option<Posted>) {
    // Room for the batch's own bytes: `{"output":{"$chunks":[` .. `]}}` and the commas.
    const FRAME: usize = 32;
    let mut size = first.len() + FRAME;
    let mut batch = vec![first];
    while let Ok(posted) = rx.try_recv() {
        match posted {
            Posted::Stream(c) if size + c.len() < BATCH_LIMIT => {
                size += c.len() + 1;
                batch.push(c);
            }
            other => return (batch, Some(other)),
        }
    }
    (batch, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn consecutive_chunks_go_together_up_to_the_limit_and_the_rest_waits_its_turn() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for chunk in [
            b"1".to_vec(),
            vec![b'2'; BATCH_LIMIT / 2],
            vec![b'3'; BATCH_LIMIT / 2],
        ] {
            tx.send(Posted::Stream(chunk)).unwrap();
        }
        tx.send(Posted::Progress(Value::Null)).unwrap();
        let (first, after) = gather(b"0".to_vec(), &mut rx);
        assert_eq!(first.len(), 3, "0, 1 and 2 fit in one post");
        assert!(matches!(after, Some(Posted::Stream(c)) if c[0] == b'3'));
        let (second, after) = gather(b"4".to_vec(), &mut rx);
        assert_eq!(second.len(), 1);
        assert!(
            matches!(after, Some(Posted::Progress(_))),
            "a progress update is its own post"
        );
    }
}
