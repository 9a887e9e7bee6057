//! The local runtime's tunables. The defaults are the platform's.

use std::time::Duration;

/// Tunables of the local runtime. The defaults are the platform's.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Delay before a simulated worker runs `init` (a cold start). Default: none.
    pub cold_start: Duration,
    /// How long a `/run` job's result is kept. Default: 30 minutes.
    pub run_retention: Duration,
    /// How long a `/runsync` job's result is kept. Default: 1 minute.
    pub sync_retention: Duration,
    /// The most finished results an endpoint keeps: beyond it, the oldest go first, before the
    /// end of their window (so memory stays bounded under any load). At least the last one is
    /// kept. Default: 100 000.
    pub max_retained_results: usize,
    /// A job's lifespan when its policy has no `ttl`. Default: 24 hours.
    pub default_ttl: Duration,
    /// An external worker is lost when it neither pings nor takes jobs for this long.
    /// Default: 30 s (three missed pings at the platform's 10 s interval).
    pub lost_after: Duration,
    /// Attempts a job gets when its worker is lost; after the last one it fails. Default: 3.
    pub max_attempts: u32,
    /// How long a `job-take` long poll waits for a job before answering 204. Default: 20 s.
    pub take_wait: Duration,
    /// Overrides every endpoint's idle timeout (tests). Default: the endpoint's own.
    pub idle_timeout: Option<Duration>,
    /// Overrides the queue limit (default `max(50, 500 × max workers)`).
    pub queue_limit: Option<usize>,
    /// Housekeeping interval. Default: 50 ms.
    pub tick: Duration,
    /// How often expired jobs and results are swept. Default: 1 s.
    pub sweep_every: Duration,
    /// Webhook attempts after the first. Default: 2.
    pub webhook_retries: u32,
    /// Delay between webhook attempts. Default: 10 s.
    pub webhook_retry_delay: Duration,
    /// Where jobs keep their sessions. Default: this process's memory.
    pub sessions: crate::session::Sessions,
    /// How long a job of a session waits for the worker holding that session (if it is alive
    /// and busy) before any worker may take it. Default: 2 s.
    pub affinity_wait: Duration,
    /// Keep every finished job's input while its result is kept (`app dev`'s dashboard shows
    /// it); by default only a failed or timed-out job's is kept (for `/retry`).
    pub keep_inputs: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cold_start: Duration::ZERO,
            run_retention: Duration::from_secs(30 * 60),
            sync_retention: Duration::from_secs(60),
            max_retained_results: 100_000,
            default_ttl: Duration::from_secs(24 * 3600),
            lost_after: Duration::from_secs(30),
            max_attempts: 3,
            take_wait: Duration::from_secs(20),
            idle_timeout: None,
            queue_limit: None,
            tick: Duration::from_millis(50),
            sweep_every: Duration::from_secs(1),
            webhook_retries: 2,
            webhook_retry_delay: Duration::from_secs(10),
            sessions: crate::session::Sessions::memory(),
            affinity_wait: Duration::from_secs(2),
            keep_inputs: false,
        }
    }
}
