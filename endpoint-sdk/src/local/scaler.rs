//! How many workers an endpoint wants, from its scaler and its queue. A pure function, so the
//! platform's rules are tested without running anything.
//!
//! - **Request count** (`request_count(v)`): `ceil((queued + in progress) / v)` workers.
//! - **Queue delay** (`queue_delay(v)`): one more worker once the oldest queued job has waited
//!   longer than `v` seconds and no worker is already starting; a queue with no worker at all
//!   always gets one (a job never waits on a scaler with nothing to run it).
//!
//! Either way the result is clamped to `workers = (min, max)`. Jobs submitted with
//! `policy.lowPriority` are not counted: they never trigger scaling. Scaling down is not the
//! scaler's business: an idle worker above the minimum stops after the idle timeout.

use std::time::Duration;

use crate::config::{Scaler, Workers};

/// What the scaler looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalerInput {
    /// The endpoint's scaler.
    pub scaler: Scaler,
    /// The endpoint's worker bounds.
    pub workers: Workers,
    /// Queued jobs that count for scaling (not low priority).
    pub queued: usize,
    /// Jobs running now.
    pub in_progress: usize,
    /// How long the oldest counted queued job has waited.
    pub oldest_wait: Duration,
    /// Workers that exist now (starting, idle or busy).
    pub current: usize,
    /// Of those, workers still starting (cold start or init).
    pub starting: usize,
}

/// The number of workers the endpoint should have now.
pub fn desired_workers(i: &ScalerInput) -> usize {
    let min = i.workers.min as usize;
    let max = i.workers.max as usize;
    let want = match i.scaler {
        Scaler::RequestCount(v) => (i.queued + i.in_progress).div_ceil(v.max(1) as usize),
        Scaler::QueueDelay(v) => {
            if i.queued > 0 && i.current == 0 {
                1
            } else if i.queued > 0
                && i.starting == 0
                && i.oldest_wait > Duration::from_secs(u64::from(v))
            {
                i.current + 1
            } else {
                i.current
            }
        }
    };
    want.clamp(min, max.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(scaler: Scaler, min: u32, max: u32) -> ScalerInput {
        ScalerInput {
            scaler,
            workers: Workers { min, max },
            queued: 0,
            in_progress: 0,
            oldest_wait: Duration::ZERO,
            current: 0,
            starting: 0,
        }
    }

    #[test]
    fn request_count_is_ceil_of_work_over_value_within_bounds() {
        let mut i = input(Scaler::RequestCount(4), 1, 5);
        assert_eq!(desired_workers(&i), 1, "never below min");
        i.queued = 5;
        i.in_progress = 4;
        assert_eq!(desired_workers(&i), 3, "ceil(9 / 4)");
        i.queued = 100;
        assert_eq!(desired_workers(&i), 5, "never above max");
    }

    #[test]
    fn queue_delay_adds_one_worker_once_the_oldest_job_waited_too_long() {
        let mut i = input(Scaler::QueueDelay(2), 0, 3);
        assert_eq!(desired_workers(&i), 0, "scale to zero when idle");
        i.queued = 10;
        assert_eq!(desired_workers(&i), 1, "a queue always gets a first worker");
        i.current = 1;
        i.oldest_wait = Duration::from_secs(1);
        assert_eq!(desired_workers(&i), 1, "not waited long enough");
        i.oldest_wait = Duration::from_secs(3);
        assert_eq!(desired_workers(&i), 2);
        i.starting = 1;
        assert_eq!(desired_workers(&i), 1, "a worker is already starting");
        i.starting = 0;
        i.current = 3;
        assert_eq!(desired_workers(&i), 3, "never above max");
    }

    #[test]
    fn min_workers_are_kept_even_without_work() {
        let i = input(Scaler::QueueDelay(4), 3, 20);
        assert_eq!(desired_workers(&i), 3);
    }
}
