//! Random draws: service times (fixed, or log-normal from a median and a 99th percentile) and
//! the exponential gaps of Poisson arrivals, from a seeded generator so that a run repeats.

use std::time::Duration;

use super::scenario::Service;

/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874;

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]: ln is finite
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An exponential draw of mean `1 / rate`.
pub(crate) fn exponential(rng: &mut fastrand::Rng, rate: f64) -> f64 {
    -(1.0 - rng.f64()).ln() / rate
}

/// A service time drawn from `service`.
pub(crate) fn service(rng: &mut fastrand::Rng, service: &Service) -> Duration {
    match *service {
        Service::Fixed(d) => d.0,
        Service::Percentiles { p50, p99 } => {
            let m = p50.0.as_secs_f64().max(1e-6);
            let sigma = ((p99.0.as_secs_f64().max(m)) / m).ln() / Z99;
            Duration::from_secs_f64(m * (sigma * normal(rng)).exp())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::scenario::Span;
    use super::*;

    #[test]
    fn a_log_normal_service_has_the_median_and_99th_percentile_it_was_given() {
        let mut rng = fastrand::Rng::with_seed(3);
        let s = Service::Percentiles {
            p50: Span(Duration::from_secs(2)),
            p99: Span(Duration::from_secs(10)),
        };
        let mut v: Vec<f64> = (0..200_000)
            .map(|_| service(&mut rng, &s).as_secs_f64())
            .collect();
        v.sort_by(f64::total_cmp);
        let (p50, p99) = (v[v.len() / 2], v[v.len() * 99 / 100]);
        assert!((p50 - 2.0).abs() < 0.05, "{p50}");
        assert!((p99 - 10.0).abs() < 0.4, "{p99}");
        let fixed = Service::Fixed(Span(Duration::from_millis(800)));
        assert_eq!(service(&mut rng, &fixed), Duration::from_millis(800));
    }

    #[test]
    fn exponential_gaps_have_the_mean_of_the_rate() {
        let mut rng = fastrand::Rng::with_seed(5);
        let n = 100_000;
        let mean = (0..n).map(|_| exponential(&mut rng, 4.0)).sum::<f64>() / f64::from(n);
        assert!((mean - 0.25).abs() < 0.005, "{mean}");
    }
}
