//! A job's stream as the runtime keeps it: the chunks `/stream` has not read yet, bounded
//! ([`UNREAD_LIMIT`]), and a short tail of those it has read, for the dashboard
//! ([`READ_TAIL`]).
//!
//! A producer past the bound is held back, never silently cut: `Chunks::send` in a simulated
//! handler waits for the reader, a worker process's `job-stream` post is answered `429` (the
//! production worker retries it), and a simulated handler that streams without waiting
//! (`ctx.stream`, `try_send`) past twice the bound fails its job with an error that says so.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use crate::handler::backlog::Backlog;

/// The most bytes of chunks a job's stream holds that `/stream` has not read: past it,
/// `Chunks::send` waits and a worker's `job-stream` post is answered `429`. A chunk counts as
/// its JSON plus [`CHUNK_OVERHEAD`].
pub(crate) const UNREAD_LIMIT: usize = 8 * 1024 * 1024;

/// What a simulated handler that streams without waiting may leave unread before its job
/// fails.
pub(crate) const UNREAD_HARD_LIMIT: usize = 2 * UNREAD_LIMIT;

/// The bytes of read chunks kept for the dashboard (the most recent; older ones are dropped
/// and counted).
pub(crate) const READ_TAIL: usize = 1024 * 1024;

/// What a chunk costs the runtime beyond its JSON (the value's node and its place in the
/// queue), so a stream of tiny chunks is bounded by what it holds in memory.
pub(crate) const CHUNK_OVERHEAD: usize = 64;

struct Chunk {
    value: Value,
    size: usize,
}

/// The stream of one job.
#[derive(Default)]
pub(crate) struct JobStream {
    chunks: VecDeque<Chunk>,
    /// Where the unread chunks begin in `chunks`.
    unread_from: usize,
    /// Bytes of the read chunks still kept.
    read_bytes: usize,
    /// Read chunks no longer kept.
    dropped: u64,
    /// Bytes not read yet, shared with a simulated handler's sink (made by the first chunk or
    /// the first handler that asks for it).
    unread: Option<Arc<Backlog>>,
}

/// A chunk refused: the stream already holds `unread` bytes nobody has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamFull {
    pub(crate) unread: usize,
}

impl JobStream {
    /// The count of unread bytes, shared with whoever waits for room.
    pub(crate) fn unread(&mut self) -> Arc<Backlog> {
        self.unread.get_or_insert_with(Default::default).clone()
    }

    /// Keeps `values` (one post's chunks: all or none), unless more than `limit` bytes are
    /// unread already.
    pub(crate) fn push(
        &mut self,
        values: impl IntoIterator<Item = Value>,
        limit: usize,
    ) -> Result<(), StreamFull> {
        let unread = self.unread.get_or_insert_with(Default::default);
        let held = unread.bytes();
        if held > limit {
            return Err(StreamFull { unread: held });
        }
        for value in values {
            let size = crate::protocol::limits::json_len(&value) + CHUNK_OVERHEAD;
            unread.add(size);
            self.chunks.push_back(Chunk { value, size });
        }
        Ok(())
    }

    /// The chunks not read yet (marked read), keeping at most [`READ_TAIL`] bytes of read
    /// ones.
    pub(crate) fn read(&mut self) -> Vec<Value> {
        let fresh = self.chunks.range(self.unread_from..);
        let bytes: usize = fresh.clone().map(|c| c.size).sum();
        let out: Vec<Value> = fresh.map(|c| c.value.clone()).collect();
        self.unread_from = self.chunks.len();
        self.read_bytes += bytes;
        if let Some(unread) = &self.unread {
            unread.taken(bytes);
        }
        while self.read_bytes > READ_TAIL && self.unread_from > 0 {
            let old = self.chunks.pop_front().expect("a read chunk is kept");
            self.read_bytes -= old.size;
            self.unread_from -= 1;
            self.dropped += 1;
        }
        out
    }

    /// Forgets every chunk (the job runs again from the start).
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.unread_from = 0;
        self.read_bytes = 0;
        self.dropped = 0;
        if let Some(unread) = &self.unread {
            unread.clear();
        }
    }

    /// The chunks kept (read and unread, oldest first), and how many earlier ones were read
    /// and dropped.
    pub(crate) fn kept(&self) -> (Vec<Value>, u64) {
        (
            self.chunks.iter().map(|c| c.value.clone()).collect(),
            self.dropped,
        )
    }
}

/// The error of a job whose handler streamed past [`UNREAD_HARD_LIMIT`] without waiting.
pub(crate) fn overflow_error(id: &str, unread: usize) -> String {
    format!(
        "the job's stream holds {} MB that nobody has read from /stream/{id} (the limit is {} MB), \
         so the job was stopped; read the stream while the job runs, or send chunks with \
         `Chunks::send`, which waits for the reader instead of failing",
        unread / (1024 * 1024),
        UNREAD_HARD_LIMIT / (1024 * 1024),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chunk(kb: usize) -> Value {
        json!("x".repeat(kb * 1024 - 2 - CHUNK_OVERHEAD))
    }

    #[test]
    fn chunks_are_read_once_in_order_and_a_short_tail_stays_for_the_dashboard() {
        let mut s = JobStream::default();
        for i in 0..3 {
            s.push([json!(i)], UNREAD_LIMIT).unwrap();
        }
        assert_eq!(s.read(), vec![json!(0), json!(1), json!(2)]);
        assert_eq!(s.read(), Vec::<Value>::new());
        s.push([json!(3)], UNREAD_LIMIT).unwrap();
        assert_eq!(s.read(), vec![json!(3)]);
        assert_eq!(s.kept(), (vec![json!(0), json!(1), json!(2), json!(3)], 0));
        assert_eq!(s.unread().bytes(), 0);
        // Past the tail, the oldest read chunks go; unread ones never do.
        for _ in 0..(READ_TAIL / 1024 + 10) {
            s.push([chunk(1)], UNREAD_LIMIT).unwrap();
        }
        let (kept, _) = s.kept();
        assert_eq!(
            kept.len(),
            READ_TAIL / 1024 + 14,
            "nothing unread is dropped"
        );
        assert_eq!(s.read().len(), READ_TAIL / 1024 + 10);
        let (kept, dropped) = s.kept();
        assert_eq!(kept.len(), READ_TAIL / 1024, "a tail of READ_TAIL bytes");
        assert_eq!(kept.len() as u64 + dropped, READ_TAIL as u64 / 1024 + 14);
    }

    #[test]
    fn past_the_limit_a_chunk_is_refused_until_the_reader_catches_up() {
        let mut s = JobStream::default();
        let mut pushed = 0;
        while s.push([chunk(64)], UNREAD_LIMIT).is_ok() {
            pushed += 1;
        }
        assert_eq!(
            pushed,
            UNREAD_LIMIT / (64 * 1024) + 1,
            "one chunk past the limit"
        );
        let full = s.push([chunk(64)], UNREAD_LIMIT).unwrap_err();
        assert_eq!(full.unread, (pushed) * 64 * 1024);
        assert_eq!(s.read().len(), pushed);
        s.push([chunk(64)], UNREAD_LIMIT)
            .expect("room again once read");
        s.clear();
        assert_eq!((s.kept().0.len(), s.unread().bytes()), (0, 0));
    }

    #[test]
    fn the_overflow_error_says_what_to_do() {
        let e = overflow_error("j1", UNREAD_HARD_LIMIT + 5);
        assert!(
            e.contains("/stream/j1") && e.contains("16 MB") && e.contains("Chunks::send"),
            "{e}"
        );
    }
}
