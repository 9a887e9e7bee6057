//! Bytes of a job's stream that its reader has not taken yet, and a wait for room: the
//! back-pressure behind [`Chunks::send`](super::Chunks::send). The production worker counts the
//! chunks not yet posted to the platform; the local runtime, the chunks `/stream` has not read.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Bytes of chunks written and not yet taken, and a wake-up for producers waiting for room.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    bytes: AtomicUsize,
    drained: Notify,
}

impl Backlog {
    /// `n` more bytes wait.
    pub(crate) fn add(&self, n: usize) {
        self.bytes.fetch_add(n, Ordering::AcqRel);
    }

    /// `n` bytes were taken: wakes the producers waiting for room.
    pub(crate) fn taken(&self, n: usize) {
        let _ = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                Some(b.saturating_sub(n))
            });
        self.drained.notify_waiters();
    }

    /// Nothing waits any more (the job starts over, or ended).
    pub(crate) fn clear(&self) {
        self.bytes.store(0, Ordering::Release);
        self.drained.notify_waiters();
    }

    /// The bytes waiting.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }

    /// Waits while more than `limit` bytes wait.
    pub(crate) async fn room(&self, limit: usize) {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.bytes() <= limit {
                return;
            }
            drained.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_producer_far_ahead_of_its_reader_waits_until_it_catches_up() {
        let backlog = Arc::new(Backlog::default());
        backlog.add(100);
        backlog.room(100).await;
        backlog.add(1);
        let waiting = tokio::spawn({
            let backlog = backlog.clone();
            async move { backlog.room(100).await }
        });
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        assert!(!waiting.is_finished(), "past the limit, the producer waits");
        backlog.taken(50);
        waiting.await.unwrap();
        backlog.add(500);
        backlog.clear();
        backlog.room(0).await;
    }
}
