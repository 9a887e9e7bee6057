//! Which failures are retried, and how: the rule that keeps a call from running its child twice.
//!
//! - **Reads** (status, the long poll, the stream) are retried on any transport failure, 429
//!   and 5xx (after `Retry-After` when the server sent one), with jittered back-off, until the
//!   call's wait bound; a 404 in the first [`NOT_FOUND_GRACE`] after the submit is retried too,
//!   while the new job propagates. Retrying a read re-attaches to the same job id: nothing is
//!   cancelled, nothing is submitted again.
//! - **A submit** is sent again only when the failure proves that no job was created: the
//!   connection could not be made, or the server answered 429 or 503, refusing the request
//!   before handling it. After any other failure (a reset connection, a 500, 502 or 504 from a
//!   proxy, a timeout) the job may exist, and the caller gets the error instead.
//! - **A final status** is retried (as a new job) only when the job failed because its worker
//!   was lost, which the platform would also retry.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::{RetryPolicy, TransportError};

/// How long after a submit a 404 on a read means "not propagated yet" rather than "no such job".
pub const NOT_FOUND_GRACE: Duration = Duration::from_secs(10);

/// Consecutive failed reads given up on when the call has no wait bound.
const READS_WITHOUT_BOUND: u32 = 10;

/// Whether a failed submit may be sent again: only when no job can have been created.
pub(super) fn submit_retryable(e: &TransportError) -> bool {
    matches!(
        e,
        TransportError::Unavailable {
            not_acted_on: true,
            ..
        }
    )
}

/// The pause before sending a submit again after `e` (attempt `attempt` failed).
pub(super) fn pause(policy: &RetryPolicy, attempt: u32, e: &TransportError) -> Duration {
    let backoff = policy.backoff(attempt);
    match e {
        TransportError::Unavailable {
            retry_after: Some(after),
            ..
        } => backoff.max(*after),
        _ => backoff,
    }
}

/// The pause before the read after the `failures`-th consecutive failure `e`, or `None` when
/// the read should not be retried.
fn read_pause(
    policy: &RetryPolicy,
    e: &TransportError,
    failures: u32,
    submitted: Option<Instant>,
) -> Option<Duration> {
    if policy.max_attempts <= 1 {
        return None;
    }
    match e {
        TransportError::Unavailable { .. } => Some(pause(policy, failures, e)),
        TransportError::Rejected {
            status: Some(404), ..
        } if submitted.is_some_and(|s| s.elapsed() < NOT_FOUND_GRACE) => {
            Some(pause(policy, failures, e))
        }
        TransportError::Rejected { .. } => None,
    }
}

/// Runs the read `f` until it succeeds, retrying what [`read_pause`] allows before `until`
/// (`submitted`: when this caller submitted the job, for the 404 grace; `None` for a job found
/// by its id, whose 404 means it does not exist)
/// (with no bound, at most [`READS_WITHOUT_BOUND`] failures in a row).
pub(super) async fn read<T, F, Fut>(
    callee: &str,
    policy: &RetryPolicy,
    submitted: Option<Instant>,
    until: Option<Instant>,
    mut f: F,
) -> Result<T, TransportError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TransportError>>,
{
    let mut failures = 0;
    loop {
        let e = match f().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        failures += 1;
        let Some(wait) = read_pause(policy, &e, failures, submitted) else {
            return Err(e);
        };
        let fits = match until {
            Some(u) => Instant::now() + wait < u,
            None => failures < READS_WITHOUT_BOUND,
        };
        if !fits {
            return Err(e);
        }
        tracing::debug!(failures, "a read failed, retrying in {wait:?}: {e}");
        crate::metrics::global().call_retried(callee);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown() -> TransportError {
        TransportError::unavailable("status-sync answered 502 Bad Gateway")
    }

    #[test]
    fn only_a_failure_that_proves_no_job_lets_a_submit_go_again() {
        assert!(submit_retryable(&TransportError::not_acted_on(
            "connection refused"
        )));
        assert!(!submit_retryable(&unknown()));
        assert!(!submit_retryable(&TransportError::Rejected {
            status: Some(400),
            message: "bad input".into()
        }));
    }

    #[tokio::test(start_paused = true)]
    async fn reads_are_retried_through_transient_failures_and_a_fresh_404() {
        let policy = RetryPolicy::default();
        let mut answers = vec![Err(unknown()), Err(not_found()), Ok(7)].into_iter();
        let submitted = Instant::now();
        let got = read("e", &policy, Some(submitted), None, || {
            std::future::ready(answers.next().unwrap())
        })
        .await;
        assert_eq!(got, Ok(7));
    }

    /// How many times `read` asks before giving up, when every answer is `e`.
    async fn attempts(
        submitted: Option<Instant>,
        until: Option<Instant>,
        e: TransportError,
    ) -> u32 {
        let mut calls = 0;
        let got: Result<(), _> = read("e", &RetryPolicy::default(), submitted, until, || {
            calls += 1;
            std::future::ready(Err(e.clone()))
        })
        .await;
        assert!(got.is_err());
        calls
    }

    fn not_found() -> TransportError {
        TransportError::Rejected {
            status: Some(404),
            message: "no such job".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_404_long_after_the_submit_or_for_a_job_found_by_id_is_not_retried() {
        let submitted = Instant::now();
        tokio::time::advance(NOT_FOUND_GRACE).await;
        assert_eq!(attempts(Some(submitted), None, not_found()).await, 1);
        // A job found by its id was not just submitted: its 404 means it does not exist.
        assert_eq!(attempts(None, None, not_found()).await, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_the_bound_ends_the_retries() {
        let policy = RetryPolicy::default();
        let e = TransportError::Unavailable {
            message: "429".into(),
            retry_after: Some(Duration::from_secs(30)),
            not_acted_on: true,
        };
        assert!(pause(&policy, 1, &e) >= Duration::from_secs(30));
        let start = Instant::now();
        let until = start + Duration::from_secs(20);
        assert_eq!(
            attempts(Some(start), Some(until), e).await,
            1,
            "a 30 s Retry-After does not fit a 20 s bound"
        );
        assert_eq!(
            attempts(Some(start), None, unknown()).await,
            READS_WITHOUT_BOUND
        );
    }
}
