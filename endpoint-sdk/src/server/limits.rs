//! What `app dev`'s server gives any one client before it moves on: the limits that keep it
//! serving everyone else while some clients are slow, broken or hostile.
//!
//! | limit | default | past it |
//! |---|---|---|
//! | connections open at once | 10 000 | a new connection is answered `503` and closed |
//! | time to send a request's headers | 10 s | the connection is closed (slow-loris) |
//! | header size | hyper's ~400 KB | `431 Request Header Fields Too Large` |
//! | time to send a request's body | 30 s | `408`, saying how much of the announced body came |
//! | body size | 10 MB `/run`, 20 MB `/runsync` and results | `413` (`400` for a worker's result) |
//! | JSON nesting | 127 levels (serde_json's limit of 128) | `400`, naming the recursion limit |
//! | jobs queued per endpoint | max(50, 500 × `workers.max`) ([`RuntimeOptions::queue_limit`](crate::local::RuntimeOptions)) | `429` with `Retry-After: 1` |
//! | a job's stream chunks not read by `/stream` | 8 MB (each chunk counted as its JSON + 64 bytes) | a worker's `job-stream` post gets `429` with `Retry-After: 1` (the production worker retries it); a simulated handler's `Chunks::send` waits for the reader; one streaming without waiting (`ctx.stream`) fails its job past 16 MB |
//! | a job's stream chunks already read | the most recent 1 MB, for the dashboard | older ones are dropped (the dashboard says how many) |
//! | finished results kept | `--keep-results N` per endpoint, each at most 20 MB | the oldest result is dropped |
//!
//! A worker that takes jobs and never answers loses them when its heartbeat stops (they are
//! queued again, then fail after their last attempt), and a worker process may take the jobs of
//! endpoints left to worker processes only (`409` otherwise).

use std::time::Duration;

/// The server's limits per client (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections open at once; past it a new connection gets `503` and is closed.
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// The longest a client may take to send a request's body.
    pub body_read_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}
