//! Worker rules: the bounds (`workers = (min, max)`), the jobs one worker runs at once
//! (`concurrency`, with the `high_concurrency` warning), and the warm worker an interactive
//! endpoint keeps (`interactive_cold_start`).

use crate::diagnostic::Diagnostics;
use crate::lint::Lint;
use crate::model::{Workers, defaults, limits};
use crate::spec::Spec;

/// The worker bounds (`workers = max` or `(min, max)`): not negative, max at least 1, min at
/// most max. Defaults when unset or invalid.
pub(super) fn check_workers<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Workers {
    let Some(w) = &spec.workers else {
        return Workers {
            min: defaults::WORKERS.0,
            max: defaults::WORKERS.1,
        };
    };
    let mut ok = true;
    let min_v = w.min.as_ref().map_or(0, |m| m.value);
    for v in w.min.iter().chain(std::iter::once(&w.max)) {
        if v.value < 0 {
            ok = false;
            d.error(v.span, format!("workers cannot be negative: {}", v.value))
                .with_help(
                    "write `workers = (min, max)` with 0 ≤ min ≤ max, e.g. `workers = (0, 3)`",
                );
        } else if v.value > i128::from(u32::MAX) {
            ok = false;
            d.error(
                v.span,
                format!("{} workers is more than the platform can run", v.value),
            );
        }
    }
    if ok && w.max.value == 0 {
        ok = false;
        d.error(
            w.max.span,
            "max workers = 0: the endpoint could never run a job",
        )
        .with_help("allow at least one worker, e.g. `workers = (0, 1)`");
    }
    if ok && min_v > w.max.value {
        ok = false;
        let span = w.min.as_ref().map_or(w.span, |m| m.span);
        d.error(
            span,
            format!("workers min ({min_v}) cannot exceed max ({})", w.max.value),
        )
        .with_help(format!(
            "write `workers = (min, max)` with min ≤ max, e.g. `workers = ({}, {})`",
            w.max.value, min_v
        ));
    }
    if ok {
        Workers {
            min: min_v as u32,
            max: w.max.value as u32,
        }
    } else {
        Workers {
            min: defaults::WORKERS.0,
            max: defaults::WORKERS.1,
        }
    }
}

/// `concurrency`: at least 1 and within `u32`; warns above [`limits::HIGH_CONCURRENCY`].
pub(super) fn check_concurrency<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> u32 {
    match &spec.concurrency {
        Some(v) if v.value < 1 => {
            d.error(
                v.span,
                format!(
                    "`concurrency = {}`: a worker must run at least one job at a time",
                    v.value
                ),
            )
            .with_help("use `concurrency = 1` (one job per worker) or more for async handlers");
            defaults::CONCURRENCY
        }
        Some(v) => match u32::try_from(v.value) {
            Ok(c) => {
                if c > limits::HIGH_CONCURRENCY
                    && let Some(diag) = d.lint(
                        Lint::HighConcurrency,
                        v.span,
                        format!(
                            "`concurrency = {c}` runs more than {} jobs at once on one worker",
                            limits::HIGH_CONCURRENCY
                        ),
                    )
                {
                    diag.with_help(
                        "one worker's memory and CPU are shared by all its jobs; prefer more \
                         workers (`workers = (min, max)`) over very high concurrency",
                    );
                }
                c
            }
            Err(_) => {
                d.error(v.span, format!("`concurrency = {}` is too large", v.value));
                defaults::CONCURRENCY
            }
        },
        None => defaults::CONCURRENCY,
    }
}

/// An interactive endpoint keeps a warm worker: a minimum of 0 makes its first user wait for a
/// cold start (`interactive_cold_start`, deny by default).
pub(super) fn check_warm_worker<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    workers: Workers,
    interactive: bool,
) {
    if interactive && workers.min == 0 {
        let span = spec
            .workers
            .as_ref()
            .map(|w| w.min.as_ref().map_or(w.span, |m| m.span))
            .or(spec.interactive.as_ref().map(|i| i.span))
            .unwrap_or(spec.attr_span);
        if let Some(diag) = d.lint(
            Lint::InteractiveColdStart,
            span,
            "an interactive endpoint with a worker minimum of 0 makes its first user wait for a \
             cold start (often 20–90 s on a GPU)",
        ) {
            let gpu_list = spec.gpu.as_ref().is_some_and(|g| g.items.len() > 1);
            let max = if gpu_list {
                workers.max.max(limits::FALLBACK_MIN_WORKERS)
            } else {
                workers.max.max(1)
            };
            diag.with_help(format!("keep a warm worker: `workers = (1, {max})`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{int, name, run, spec};
    use super::*;
    use crate::spec::{NameList, Spanned, WorkersSpec};

    fn workers(min: Option<i128>, max: i128) -> WorkersSpec<u32> {
        WorkersSpec {
            min: min.map(|m| int(m, 1)),
            max: int(max, 2),
            span: 3,
        }
    }

    #[test]
    fn bounds_are_kept_and_unset_means_the_default() {
        let mut s = spec();
        let (w, problems) = run(|d| check_workers(&s, d));
        assert_eq!((w.min, w.max), defaults::WORKERS);
        assert!(problems.is_empty());

        s.workers = Some(workers(Some(2), 5));
        let (w, problems) = run(|d| check_workers(&s, d));
        assert_eq!((w.min, w.max), (2, 5));
        assert!(problems.is_empty(), "{problems:?}");

        s.workers = Some(workers(None, 4));
        let (w, _) = run(|d| check_workers(&s, d));
        assert_eq!((w.min, w.max), (0, 4), "`workers = N` means (0, N)");
    }

    #[test]
    fn min_above_max_is_refused_on_the_min_with_the_pair_swapped() {
        let mut s = spec();
        s.workers = Some(workers(Some(5), 2));
        let (w, problems) = run(|d| check_workers(&s, d));
        assert_eq!((w.min, w.max), defaults::WORKERS);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 1);
        assert_eq!(problems[0].message, "workers min (5) cannot exceed max (2)");
        assert!(problems[0].help[0].contains("e.g. `workers = (2, 5)`"));
    }

    #[test]
    fn zero_max_and_negative_bounds_are_refused() {
        let mut s = spec();
        s.workers = Some(workers(Some(0), 0));
        let (_, problems) = run(|d| check_workers(&s, d));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 2);
        assert!(
            problems[0]
                .message
                .contains("the endpoint could never run a job")
        );

        s.workers = Some(workers(Some(-1), 3));
        let (_, problems) = run(|d| check_workers(&s, d));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "workers cannot be negative: -1");
    }

    #[test]
    fn concurrency_must_be_positive_and_warns_when_very_high() {
        let mut s = spec();
        s.concurrency = Some(int(8, 4));
        assert_eq!(run(|d| check_concurrency(&s, d)), (8, vec![]));

        s.concurrency = Some(int(0, 4));
        let (c, problems) = run(|d| check_concurrency(&s, d));
        assert_eq!(c, defaults::CONCURRENCY);
        assert!(
            problems[0]
                .message
                .contains("a worker must run at least one job at a time")
        );

        s.concurrency = Some(int(i128::from(limits::HIGH_CONCURRENCY) + 1, 4));
        let (c, problems) = run(|d| check_concurrency(&s, d));
        assert_eq!(c, limits::HIGH_CONCURRENCY + 1, "a warning keeps the value");
        assert_eq!(problems[0].severity, crate::Severity::Warning);
        assert_eq!(problems[0].lint, Some(Lint::HighConcurrency));
        assert!(
            problems[0]
                .message
                .contains("runs more than 100 jobs at once")
        );

        s.concurrency = Some(int(i128::from(limits::HIGH_CONCURRENCY), 4));
        assert!(
            run(|d| check_concurrency(&s, d)).1.is_empty(),
            "100 is fine"
        );
    }

    #[test]
    fn an_interactive_endpoint_without_a_warm_worker_is_refused() {
        let mut s = spec();
        s.interactive = Some(Spanned::new(true, 6));
        s.workers = Some(workers(Some(0), 3));
        let w = Workers { min: 0, max: 3 };
        let (_, problems) = run(|d| check_warm_worker(&s, d, w, true));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 1, "on the minimum");
        assert_eq!(problems[0].severity, crate::Severity::Error);
        assert!(
            problems[0]
                .message
                .contains("makes its first user wait for a cold start")
        );
        assert_eq!(problems[0].help, ["keep a warm worker: `workers = (1, 3)`"]);

        // With a GPU priority list, the fix also lets the platform fall back.
        s.gpu = Some(NameList {
            items: vec![name("ADA_24", 7), name("AMPERE_80", 8)],
            is_list: true,
            span: 9,
        });
        let (_, problems) = run(|d| check_warm_worker(&s, d, w, true));
        assert_eq!(problems[0].help, ["keep a warm worker: `workers = (1, 5)`"]);

        let warm = Workers { min: 1, max: 3 };
        assert!(run(|d| check_warm_worker(&s, d, warm, true)).1.is_empty());
        assert!(run(|d| check_warm_worker(&s, d, w, false)).1.is_empty());
    }
}
