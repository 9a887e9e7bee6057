//! The options of a call: retries, a wait bound, priority, TTL, the session it belongs to.

use std::time::Duration;

/// Retries of a call: only for failures that may pass, within the caller's deadline, and never
/// in a way that could run the callee twice.
///
/// - Reads (status, the long poll, the stream) are retried on transport failures, 429 and 5xx
///   (after the server's `Retry-After`), and on a 404 in the first
///   [`NOT_FOUND_GRACE`](super::NOT_FOUND_GRACE) after the submit, while the job propagates. A
///   retried read re-attaches to the same job: nothing is cancelled or submitted again.
/// - A submit is sent again only when the failure proves that no job was created: the
///   connection could not be made, or the server answered 429 or 503. After any other failure
///   (a reset, a 500, 502 or 504, a timeout) the job may exist; the call fails with
///   [`CallError::Transport`](super::CallError::Transport) instead.
/// - A job that failed because its worker was lost is submitted again: it is final, so the new
///   job cannot overlap it.
///
/// `max_attempts` bounds the submits; with `max_attempts = 1` ([`RetryPolicy::none`]) nothing
/// is retried, reads included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 means no retry.
    pub max_attempts: u32,
    /// The first back-off.
    pub initial_backoff: Duration,
    /// The longest back-off.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The back-off before attempt `attempt + 1`: exponential, with full jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(ms / 2 + fastrand::u64(0..=ms / 2))
    }
}

/// Options of one call (or of every call to an endpoint, see [`Client::endpoint_options`](super::Client::endpoint_options)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Retries.
    pub retry: RetryPolicy,
    /// The longest the caller waits for this call (queue and run), in addition to its deadline.
    /// Like a deadline, it reaches the callee (its `Ctx::deadline()`, and the policy's
    /// `executionTimeout`, never below the platform's 5 s), so a call made outside any job
    /// bounds the whole tree of jobs beneath it.
    pub timeout: Option<Duration>,
    /// Submit as low priority (does not trigger scaling).
    pub low_priority: bool,
    /// The job's TTL on the platform.
    pub ttl: Option<Duration>,
    /// A URL the platform posts the job's final status object to.
    pub webhook: Option<String>,
    /// The session the job belongs to (see [`crate::session`]): it travels in the job's input,
    /// and jobs of one session resume its checkpointed steps.
    pub session: Option<String>,
}

impl CallOptions {
    /// Options with `retry`.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Options with a wait bound.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Options for a job of session `id`.
    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.session = Some(id.into());
        self
    }

    /// Options whose jobs have their final status posted to `url` by the platform.
    pub fn webhook(mut self, url: impl Into<String>) -> Self {
        self.webhook = Some(url.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let b = p.backoff(attempt);
            let cap = (p.initial_backoff * 2u32.pow(attempt - 1)).min(p.max_backoff);
            assert!(
                b <= cap && b >= cap / 2,
                "attempt {attempt}: {b:?} vs cap {cap:?}"
            );
        }
    }
}
