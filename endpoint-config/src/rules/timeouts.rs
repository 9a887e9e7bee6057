//! Timeout rules: how long an idle worker stays up (`idle_timeout`, 1 s to 1 h) and the ceiling
//! on one job (`execution_timeout_ms`, 5 s to 7 days, required unless
//! `allow(no_execution_timeout)`).

use crate::diagnostic::Diagnostics;
use crate::lint::Lint;
use crate::model::{defaults, limits};
use crate::spec::Spec;

use super::support::in_range;

/// `idle_timeout` in seconds, within [`limits::IDLE_TIMEOUT_S`]; the default when unset or out
/// of range.
pub(super) fn check_idle_timeout<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> u32 {
    spec.idle_timeout
        .as_ref()
        .and_then(|v| in_range(d, v, limits::IDLE_TIMEOUT_S, "idle_timeout", "seconds"))
        .map_or(defaults::IDLE_TIMEOUT_S, |v| v as u32)
}

/// `execution_timeout_ms`, within [`limits::EXECUTION_TIMEOUT_MS`]. Missing, it is the
/// `no_execution_timeout` rule (deny by default; `None` only when allowed).
pub(super) fn check_execution_timeout<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
) -> Option<u64> {
    match &spec.execution_timeout_ms {
        Some(v) => in_range(
            d,
            v,
            limits::EXECUTION_TIMEOUT_MS,
            "execution_timeout_ms",
            "milliseconds (5 s to 7 days)",
        )
        // Out of range: checks that depend on it (a callee's timeout below its caller's) see
        // the nearest valid value, so the one mistake is not reported twice.
        .or_else(|| {
            Some(v.value.clamp(
                *limits::EXECUTION_TIMEOUT_MS.start(),
                *limits::EXECUTION_TIMEOUT_MS.end(),
            ))
        })
        .map(|v| v as u64),
        None => {
            if let Some(diag) = d.lint(
                Lint::NoExecutionTimeout,
                spec.attr_span,
                "missing `execution_timeout_ms`: every endpoint needs a ceiling, so that a stuck \
                 job cannot hold a worker (and its GPU) forever",
            ) {
                diag.with_help(
                    "add e.g. `execution_timeout_ms = 600_000` (10 minutes; the platform allows \
                     5_000 ms to 7 days)",
                );
                Some(600_000)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{ATTR, int, run, spec};
    use super::*;

    #[test]
    fn idle_timeout_in_range_is_kept_and_out_of_range_falls_back() {
        let mut s = spec();
        assert_eq!(
            run(|d| check_idle_timeout(&s, d)).0,
            defaults::IDLE_TIMEOUT_S
        );

        s.idle_timeout = Some(int(3600, 1));
        assert_eq!(run(|d| check_idle_timeout(&s, d)), (3600, vec![]));

        s.idle_timeout = Some(int(0, 1));
        let (v, problems) = run(|d| check_idle_timeout(&s, d));
        assert_eq!(v, defaults::IDLE_TIMEOUT_S);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].message,
            "`idle_timeout = 0` is out of range: the platform accepts 1 to 3_600 seconds"
        );
        assert_eq!(problems[0].help, ["e.g. `idle_timeout = 1`"]);
    }

    #[test]
    fn five_seconds_is_the_shortest_execution_timeout() {
        let mut s = spec();
        s.execution_timeout_ms = Some(int(5_000, 2));
        assert_eq!(
            run(|d| check_execution_timeout(&s, d)),
            (Some(5_000), vec![])
        );

        s.execution_timeout_ms = Some(int(4_999, 2));
        let (v, problems) = run(|d| check_execution_timeout(&s, d));
        assert_eq!(
            v,
            Some(5_000),
            "the nearest valid value, so callees are not re-reported"
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 2);
        assert_eq!(
            problems[0].message,
            "`execution_timeout_ms = 4_999` is out of range: the platform accepts 5_000 to \
             604_800_000 milliseconds (5 s to 7 days)"
        );
    }

    #[test]
    fn a_timeout_above_seven_days_is_clamped_to_seven_days() {
        let mut s = spec();
        s.execution_timeout_ms = Some(int(604_800_001, 2));
        let (v, problems) = run(|d| check_execution_timeout(&s, d));
        assert_eq!(v, Some(604_800_000));
        assert_eq!(
            problems[0].help,
            ["e.g. `execution_timeout_ms = 604_800_000`"]
        );
    }

    #[test]
    fn a_missing_execution_timeout_is_refused_unless_allowed() {
        let s = spec();
        let (v, problems) = run(|d| check_execution_timeout(&s, d));
        assert_eq!(v, Some(600_000));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, ATTR);
        assert_eq!(problems[0].lint, Some(Lint::NoExecutionTimeout));
        assert!(
            problems[0]
                .message
                .starts_with("missing `execution_timeout_ms`")
        );
        assert!(problems[0].help[0].contains("`execution_timeout_ms = 600_000`"));

        let (v, problems) = run(|d| {
            d.allow(Lint::NoExecutionTimeout);
            check_execution_timeout(&s, d)
        });
        assert_eq!((v, problems.len()), (None, 0));
    }
}
