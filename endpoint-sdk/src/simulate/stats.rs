//! What a run counts, in fixed memory however long it runs: latency histograms with 1 %
//! buckets, counts by outcome, and worker time integrated exactly between the events that change
//! it.

use std::time::Duration;

use serde::Serialize;

use crate::protocol::JobStatus;

/// Buckets per factor of e: each bucket is about 1 % wide.
const PER_E: f64 = 100.0;
/// The smallest value told apart (0.1 ms); below it, the first bucket.
const FLOOR_MS: f64 = 0.1;
/// Buckets up to about 10⁸ ms (a day is 8.6·10⁷).
const BUCKETS: usize = 1_400;

/// A latency histogram: fixed size, percentiles within 1 %.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum_ms: f64,
    max_ms: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            n: 0,
            sum_ms: 0.0,
            max_ms: 0.0,
        }
    }
}

impl Histogram {
    pub(crate) fn record(&mut self, d: Duration) {
        let ms = d.as_secs_f64() * 1000.0;
        let i = if ms <= FLOOR_MS {
            0
        } else {
            (((ms / FLOOR_MS).ln() * PER_E) as usize + 1).min(BUCKETS - 1)
        };
        self.counts[i] += 1;
        self.n += 1;
        self.sum_ms += ms;
        self.max_ms = self.max_ms.max(ms);
    }

    pub(crate) fn count(&self) -> u64 {
        self.n
    }

    /// The `q` quantile (0..=1) in milliseconds; 0 when empty.
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                if i == 0 {
                    return FLOOR_MS.min(self.max_ms);
                }
                // The bucket's middle, never past the largest value seen.
                let mid = FLOOR_MS * ((i as f64 - 0.5) / PER_E).exp();
                return mid.min(self.max_ms);
            }
        }
        self.max_ms
    }

    pub(crate) fn mean_ms(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum_ms / self.n as f64
        }
    }

    pub(crate) fn summary(&self) -> Percentiles {
        Percentiles {
            p50_ms: round(self.quantile_ms(0.50)),
            p95_ms: round(self.quantile_ms(0.95)),
            p99_ms: round(self.quantile_ms(0.99)),
            mean_ms: round(self.mean_ms()),
            max_ms: round(self.max_ms),
        }
    }
}

fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

/// Percentiles of a latency, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// The median.
    pub p50_ms: f64,
    /// The 95th percentile.
    pub p95_ms: f64,
    /// The 99th percentile.
    pub p99_ms: f64,
    /// The mean.
    pub mean_ms: f64,
    /// The largest.
    pub max_ms: f64,
}

/// How jobs ended, by final status.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Ends {
    /// Ended completed.
    pub completed: u64,
    /// Ended failed (the handler's error, or a lost worker).
    pub failed: u64,
    /// Ended by their execution timeout.
    pub timed_out: u64,
    /// Cancelled (a call whose caller ended first).
    pub cancelled: u64,
}

impl Ends {
    /// Counts one job that ended `status`.
    pub(crate) fn count(&mut self, status: JobStatus) {
        match status {
            JobStatus::Completed => self.completed += 1,
            JobStatus::TimedOut => self.timed_out += 1,
            JobStatus::Cancelled => self.cancelled += 1,
            _ => self.failed += 1,
        }
    }

    /// Every job that ended.
    pub fn total(&self) -> u64 {
        self.completed + self.failed + self.timed_out + self.cancelled
    }
}

/// Workers of one endpoint by state, integrated over time.
#[derive(Debug, Clone, Default)]
pub(crate) struct WorkerTime {
    /// Workers now: starting, idle (ready, no job), running (ready, with jobs).
    pub(crate) now: [u32; 3],
    /// Worker-seconds in each state so far.
    pub(crate) seconds: [f64; 3],
    /// The most workers at once in each state, and in all.
    pub(crate) peak: [u32; 3],
    pub(crate) peak_alive: u32,
    /// Seconds with more workers alive than the minimum (priced as flex workers).
    pub(crate) flex_seconds: f64,
    since: Duration,
}

/// A worker's state, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Starting = 0,
    Idle = 1,
    Running = 2,
}

impl WorkerTime {
    /// Accumulates up to `t` at the current counts (`min`: the endpoint's active workers).
    pub(crate) fn advance(&mut self, t: Duration, min: u32) {
        let dt = t.saturating_sub(self.since).as_secs_f64();
        if dt > 0.0 {
            for (s, n) in self.seconds.iter_mut().zip(self.now) {
                *s += dt * f64::from(n);
            }
            self.flex_seconds += dt * f64::from(self.alive().saturating_sub(min));
        }
        self.since = self.since.max(t);
    }

    pub(crate) fn alive(&self) -> u32 {
        self.now.iter().sum()
    }

    /// The workers now are `now` (starting, idle, running), from time `t`.
    pub(crate) fn set(&mut self, now: [u32; 3], t: Duration, min: u32) {
        self.advance(t, min);
        self.now = now;
        for (p, n) in self.peak.iter_mut().zip(now) {
            *p = (*p).max(n);
        }
        self.peak_alive = self.peak_alive.max(self.alive());
    }

    /// A worker moves from `from` (none: it starts) to `to` (none: it stops), at time `t`.
    pub(crate) fn change(&mut self, from: Option<Phase>, to: Option<Phase>, t: Duration, min: u32) {
        self.advance(t, min);
        if let Some(f) = from {
            self.now[f as usize] = self.now[f as usize].saturating_sub(1);
        }
        if let Some(to) = to {
            self.now[to as usize] += 1;
            self.peak[to as usize] = self.peak[to as usize].max(self.now[to as usize]);
        }
        self.peak_alive = self.peak_alive.max(self.alive());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_one_percent() {
        let mut h = Histogram::default();
        for ms in 1..=10_000u64 {
            h.record(Duration::from_millis(ms));
        }
        for (q, want) in [(0.5, 5_000.0), (0.95, 9_500.0), (0.99, 9_900.0)] {
            let got = h.quantile_ms(q);
            assert!((got - want).abs() / want < 0.01, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.count(), 10_000);
        assert!((h.mean_ms() - 5_000.5).abs() < 1e-6);
        assert_eq!(Histogram::default().quantile_ms(0.5), 0.0);
        let mut tiny = Histogram::default();
        tiny.record(Duration::ZERO);
        assert_eq!(tiny.quantile_ms(0.99), 0.0);
    }

    #[test]
    fn worker_time_integrates_between_changes() {
        let mut w = WorkerTime::default();
        let s = Duration::from_secs;
        w.change(None, Some(Phase::Starting), s(0), 1);
        w.change(Some(Phase::Starting), Some(Phase::Idle), s(10), 1);
        w.change(None, Some(Phase::Starting), s(20), 1);
        w.change(Some(Phase::Idle), Some(Phase::Running), s(30), 1);
        w.change(Some(Phase::Running), None, s(40), 1);
        w.advance(s(50), 1);
        assert_eq!(w.seconds, [10.0 + 30.0, 20.0, 10.0]);
        assert_eq!(w.peak_alive, 2);
        // Two workers alive from 20 s to 40 s, one of them beyond the minimum.
        assert_eq!(w.flex_seconds, 20.0);
    }
}
