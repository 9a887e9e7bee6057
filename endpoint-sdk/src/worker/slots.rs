//! The jobs running on this worker: their stop tokens, and a signal when a slot frees.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::heartbeat::RunningIds;

/// The jobs running on this worker: their stop tokens, and a signal when a slot frees.
#[derive(Default)]
pub(super) struct Slots {
    jobs: Mutex<HashMap<String, CancellationToken>>,
    pub(super) freed: Notify,
    pub(super) ids: Arc<RunningIds>,
}

impl Slots {
    pub(super) fn len(&self) -> usize {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub(super) fn add(&self, id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), token.clone());
        self.ids.insert(id);
        token
    }

    pub(super) fn remove(&self, id: &str) {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.ids.remove(id);
        self.freed.notify_waiters();
    }

    pub(super) fn stop(&self, id: &str) {
        if let Some(t) = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            t.cancel();
        }
    }
}
