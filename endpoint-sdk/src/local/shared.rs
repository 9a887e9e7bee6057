//! What every endpoint of one runtime shares: the options, the event sinks, and the client of
//! the in-process calls its jobs make.

use std::sync::OnceLock;

use super::RuntimeOptions;
use super::events::Sinks;
use crate::client::Client;
use crate::protocol::StatusObject;

/// State shared by every endpoint of one runtime.
pub(crate) struct Shared {
    pub(crate) options: RuntimeOptions,
    pub(crate) sinks: Sinks,
    /// Calls into this runtime, for the jobs it runs; set once the runtime is built, before any
    /// worker starts.
    pub(crate) calls: OnceLock<Client>,
    /// The calls the recent jobs made, nested (the dashboard's waterfall).
    pub(crate) call_trees: super::call_trees::CallTrees,
}

impl Shared {
    /// Posts a final status to a webhook, with the platform's retries.
    pub(crate) fn send_webhook(&self, url: String, body: StatusObject) {
        let retries = self.options.webhook_retries;
        let delay = self.options.webhook_retry_delay;
        tokio::spawn(async move {
            let client = crate::http::client();
            for attempt in 0..=retries {
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) => tracing::warn!(%url, status = %r.status(), attempt, "webhook refused"),
                    Err(e) => tracing::warn!(%url, error = %e, attempt, "webhook failed"),
                }
                if attempt < retries {
                    tokio::time::sleep(delay).await;
                }
            }
        });
    }
}
