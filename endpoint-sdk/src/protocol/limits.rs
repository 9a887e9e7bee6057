//! The platform's size and time limits, as the public API and the worker protocol apply them.

use std::ops::RangeInclusive;
use std::time::Duration;

/// The largest `/run` body the platform accepts.
pub const RUN_LIMIT: usize = 10 * 1024 * 1024;
/// The largest `/runsync` body the platform accepts.
pub const RUNSYNC_LIMIT: usize = 20 * 1024 * 1024;
/// The largest `job-done` body the platform accepts (results above it are refused with 400).
pub const RESULT_LIMIT: usize = 20 * 1024 * 1024;

/// The length of `value` as JSON, counted without keeping the text.
pub fn json_len(value: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, value);
    c.0
}

const WEEK_MS: u64 = 7 * 24 * 3600 * 1000;
/// `policy.executionTimeout`, in ms: 5 s to 7 days.
pub const POLICY_EXECUTION_TIMEOUT_MS: RangeInclusive<u64> = 5_000..=WEEK_MS;
/// `policy.ttl`, in ms: 10 s to 7 days.
pub const POLICY_TTL_MS: RangeInclusive<u64> = 10_000..=WEEK_MS;
/// The smallest execution timeout the platform accepts.
pub const MIN_EXECUTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The wait `/runsync` and `/status-sync` use when the request names none.
pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(90);
/// The range of `?wait=` on `/runsync` and `/status-sync`.
pub const SYNC_WAIT: RangeInclusive<Duration> = Duration::from_secs(1)..=Duration::from_secs(300);
