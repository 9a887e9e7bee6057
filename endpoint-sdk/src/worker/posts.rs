//! Progress updates and stream chunks of one job, posted to the platform in order, before its
//! result.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::platform::Platform;
use crate::handler::JobSink;

enum Posted {
    Progress(Value),
    Stream(Value),
    Flush(oneshot::Sender<()>),
}

/// Progress updates and stream chunks of one job, posted in order by one task.
pub(super) struct OrderedPosts {
    tx: mpsc::UnboundedSender<Posted>,
}

impl JobSink for OrderedPosts {
    fn progress(&self, value: Value) {
        let _ = self.tx.send(Posted::Progress(value));
    }

    fn stream(&self, value: Value) {
        let _ = self.tx.send(Posted::Stream(value));
    }
}

impl OrderedPosts {
    pub(super) fn start(platform: Platform, job: String) -> Arc<OrderedPosts> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let result = match p {
                    Posted::Progress(v) => platform.progress(&job, &v).await,
                    Posted::Stream(v) => platform.stream(&job, &v).await,
                    Posted::Flush(done) => {
                        let _ = done.send(());
                        return;
                    }
                };
                if let Err(e) = result {
                    tracing::warn!(job = %job, "an update was not delivered: {e}");
                }
            }
        });
        Arc::new(OrderedPosts { tx })
    }

    /// Waits until every update sent so far is posted.
    pub(super) async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Posted::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}
