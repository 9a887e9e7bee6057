//! Arrivals: the times at which requests reach the traffic's endpoint, from the scenario's
//! pattern. Time-varying rates (the daily curve, bursts) are drawn by thinning: candidates at
//! the highest rate, each kept with the probability of the rate at its time over the highest.

use std::time::Duration;

use super::SimulateError;
use super::draw::exponential;
use super::scenario::{Pattern, TrafficSpec};

/// Arrival times in order, as offsets from the start.
pub(crate) struct Arrivals {
    kind: Kind,
    rng: fastrand::Rng,
    t: f64,
    end: f64,
}

enum Kind {
    Constant {
        gap: f64,
    },
    Rate {
        max: f64,
        rate: Box<dyn Fn(f64) -> f64 + Send>,
    },
    Listed {
        times: std::vec::IntoIter<f64>,
    },
}

fn need(value: Option<f64>, pattern: &str, key: &str, what: &str) -> Result<f64, SimulateError> {
    match value {
        Some(v) if v.is_finite() && v > 0.0 => Ok(v),
        Some(v) => Err(SimulateError::Scenario(format!(
            "traffic: `{key} = {v}` must be a number above 0 ({what})"
        ))),
        None => Err(SimulateError::Scenario(format!(
            "traffic: `pattern = \"{pattern}\"` needs `{key}` ({what})"
        ))),
    }
}

impl Arrivals {
    /// The arrivals of `spec` during `duration`, drawn from `seed`.
    pub(crate) fn new(
        spec: &TrafficSpec,
        duration: Duration,
        seed: u64,
    ) -> Result<Arrivals, SimulateError> {
        let rate = || {
            need(
                spec.rate,
                pattern_name(spec.pattern),
                "rate",
                "arrivals per second",
            )
        };
        let kind = match spec.pattern {
            Pattern::Constant => Kind::Constant { gap: 1.0 / rate()? },
            Pattern::Poisson => {
                let r = rate()?;
                Kind::Rate {
                    max: r,
                    rate: Box::new(move |_| r),
                }
            }
            Pattern::Daily => {
                let r = rate()?;
                let ratio = spec.peak_ratio.unwrap_or(3.0);
                if !(ratio.is_finite() && ratio >= 1.0) {
                    return Err(SimulateError::Scenario(format!(
                        "traffic: `peak_ratio = {ratio}` must be at least 1 (the busiest rate \
                         over the quietest)"
                    )));
                }
                // 1 + a·cos(..) averages 1 over a day and peaks at (1 + a) / (1 − a) = ratio.
                let a = (ratio - 1.0) / (ratio + 1.0);
                let peak = spec.peak_hour.unwrap_or(14.0) * 3600.0;
                let day = 86_400.0;
                Kind::Rate {
                    max: r * (1.0 + a),
                    rate: Box::new(move |t| {
                        r * (1.0 + a * (std::f64::consts::TAU * (t - peak) / day).cos())
                    }),
                }
            }
            Pattern::Bursts => {
                let r = rate()?;
                let burst_rate = need(
                    spec.burst_rate,
                    "bursts",
                    "burst_rate",
                    "arrivals per second during a burst",
                )?;
                let every = spec.every.map(|s| s.0.as_secs_f64()).unwrap_or(0.0);
                let burst = spec.burst.map(|s| s.0.as_secs_f64()).unwrap_or(0.0);
                if every <= 0.0 || burst <= 0.0 || burst > every {
                    return Err(SimulateError::Scenario(
                        "traffic: `pattern = \"bursts\"` needs `every` and `burst` (durations, \
                         the burst no longer than the period), e.g. every = \"10m\", burst = \"30s\""
                            .into(),
                    ));
                }
                Kind::Rate {
                    max: r.max(burst_rate),
                    rate: Box::new(move |t| if t % every < burst { burst_rate } else { r }),
                }
            }
            Pattern::Csv => {
                let file = spec.file.as_ref().ok_or_else(|| {
                    SimulateError::Scenario(
                        "traffic: `pattern = \"csv\"` needs `file` (one arrival per line, in \
                         seconds from the start)"
                            .into(),
                    )
                })?;
                Kind::Listed {
                    times: read_times(file)?.into_iter(),
                }
            }
        };
        if duration.is_zero() {
            return Err(SimulateError::Scenario(
                "`duration` is 0: give the time during which requests arrive, e.g. \"24h\"".into(),
            ));
        }
        Ok(Arrivals {
            kind,
            rng: fastrand::Rng::with_seed(seed),
            t: 0.0,
            end: duration.as_secs_f64(),
        })
    }
}

fn pattern_name(p: Pattern) -> &'static str {
    match p {
        Pattern::Constant => "constant",
        Pattern::Poisson => "poisson",
        Pattern::Daily => "daily",
        Pattern::Bursts => "bursts",
        Pattern::Csv => "csv",
    }
}

/// Arrival times from a file: one number of seconds per line (the first column of a CSV row;
/// a header line and blank lines are skipped), sorted.
fn read_times(path: &std::path::Path) -> Result<Vec<f64>, SimulateError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SimulateError::Scenario(format!(
            "traffic: cannot read {}: {e} (a relative `file` is read from the scenario file's \
             directory)",
            path.display()
        ))
    })?;
    let mut times = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let cell = line.split(',').next().unwrap_or("").trim();
        if cell.is_empty() {
            continue;
        }
        match cell.parse::<f64>() {
            Ok(t) if t.is_finite() && t >= 0.0 => times.push(t),
            _ if n == 0 => {} // a header
            _ => {
                return Err(SimulateError::Scenario(format!(
                    "traffic: {} line {}: `{cell}` is not a number of seconds ≥ 0",
                    path.display(),
                    n + 1
                )));
            }
        }
    }
    if times.is_empty() {
        return Err(SimulateError::Scenario(format!(
            "traffic: {} has no arrival (write one time per line, in seconds from the start)",
            path.display()
        )));
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

impl Iterator for Arrivals {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let t = match &mut self.kind {
            Kind::Constant { gap } => {
                let t = self.t;
                self.t += *gap;
                t
            }
            Kind::Rate { max, rate } => loop {
                self.t += exponential(&mut self.rng, *max);
                if self.t >= self.end || self.rng.f64() * *max < rate(self.t) {
                    break self.t;
                }
            },
            Kind::Listed { times } => times.next()?,
        };
        (t < self.end).then(|| Duration::from_secs_f64(t))
    }
}

#[cfg(test)]
mod tests {
    use super::super::scenario::Span;
    use super::*;

    fn spec(pattern: Pattern, rate: f64) -> TrafficSpec {
        TrafficSpec {
            pattern,
            rate: Some(rate),
            ..TrafficSpec::default()
        }
    }

    #[test]
    fn constant_and_poisson_arrive_at_their_rate() {
        let hour = Duration::from_secs(3600);
        let c: Vec<_> = Arrivals::new(&spec(Pattern::Constant, 2.0), hour, 1)
            .unwrap()
            .collect();
        assert_eq!(c.len(), 7200);
        assert_eq!(c[1] - c[0], Duration::from_millis(500));
        let p = Arrivals::new(&spec(Pattern::Poisson, 2.0), hour, 1)
            .unwrap()
            .count();
        assert!((7000..7400).contains(&p), "{p}");
    }

    #[test]
    fn a_daily_curve_peaks_where_it_was_told_with_the_mean_it_was_given() {
        let s = TrafficSpec {
            peak_ratio: Some(4.0),
            peak_hour: Some(14.0),
            ..spec(Pattern::Daily, 5.0)
        };
        let day: Vec<_> = Arrivals::new(&s, Duration::from_secs(86_400), 9)
            .unwrap()
            .collect();
        let mean = day.len() as f64 / 86_400.0;
        assert!((mean - 5.0).abs() < 0.1, "{mean}");
        let per_hour = |h: u64| day.iter().filter(|t| t.as_secs() / 3600 == h).count() as f64;
        let ratio = per_hour(14) / per_hour(2);
        assert!((3.4..4.6).contains(&ratio), "{ratio}");
    }

    #[test]
    fn bursts_come_every_period_and_a_csv_gives_its_times() {
        let s = TrafficSpec {
            every: Some(Span(Duration::from_secs(600))),
            burst: Some(Span(Duration::from_secs(30))),
            burst_rate: Some(50.0),
            ..spec(Pattern::Bursts, 1.0)
        };
        let v: Vec<_> = Arrivals::new(&s, Duration::from_secs(3600), 2)
            .unwrap()
            .collect();
        let in_bursts = v.iter().filter(|t| t.as_secs() % 600 < 30).count();
        assert!(
            in_bursts > 8000 && v.len() - in_bursts < 3500,
            "{in_bursts} of {}",
            v.len()
        );

        let dir = std::env::temp_dir().join(format!("arrivals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.csv");
        std::fs::write(&file, "seconds,user\n0.5,a\n2,b\n\n1.25,c\n9999,d\n").unwrap();
        let s = TrafficSpec {
            file: Some(file.clone()),
            ..spec(Pattern::Csv, 1.0)
        };
        let v: Vec<_> = Arrivals::new(&s, Duration::from_secs(60), 0)
            .unwrap()
            .collect();
        assert_eq!(
            v,
            [500, 1250, 2000].map(Duration::from_millis),
            "sorted, past the end dropped"
        );
        std::fs::write(&file, "1\nsoon\n").unwrap();
        let e = Arrivals::new(&s, Duration::from_secs(60), 0).err().unwrap();
        assert!(e.to_string().contains("line 2"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_pattern_without_what_it_needs_says_what_to_write() {
        let s = TrafficSpec {
            rate: None,
            ..spec(Pattern::Daily, 1.0)
        };
        let e = Arrivals::new(&s, Duration::from_secs(1), 0).err().unwrap();
        assert!(e.to_string().contains("needs `rate`"), "{e}");
    }
}
