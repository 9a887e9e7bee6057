//! Scaling rules: the scaler (`queue_delay(seconds)` or `request_count(jobs)`, value at least 1)
//! and the one combination the platform refuses, `idle_timeout` with the request-count scaler.

use crate::diagnostic::Diagnostics;
use crate::model::{Scaler, defaults};
use crate::spec::Spec;
use crate::suggest::did_you_mean;

/// A scaler's kind without case or underscores (`queue_delay`, `QUEUE_DELAY` and `queueDelay`
/// are one kind).
fn normal_kind(written: &str) -> String {
    written.to_ascii_lowercase().replace('_', "")
}

/// `idle_timeout` cannot be combined with `scaler = request_count(..)`.
pub(super) fn check_idle_with_request_count<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) {
    if let (Some(idle), Some(scaler)) = (&spec.idle_timeout, &spec.scaler)
        && normal_kind(&scaler.kind.value) == "requestcount"
    {
        d.error(
            idle.span,
            "`idle_timeout` cannot be combined with `scaler = request_count(..)`: the platform \
             refuses it (the request-count scaler retires idle workers itself)",
        )
        .with_help(
            "remove `idle_timeout`, or use `scaler = queue_delay(seconds)` to keep idle workers \
             up for a while",
        );
    }
}

/// The scaler as written: a known kind and a value of at least 1. Defaults to
/// `queue_delay(4)`.
pub(super) fn check_scaler<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Scaler {
    match &spec.scaler {
        None => Scaler::QueueDelay(defaults::SCALER_VALUE),
        Some(s) => {
            let value = if s.value.value < 1 {
                d.error(
                    s.value.span,
                    format!("scaler value {} must be at least 1", s.value.value),
                )
                .with_help(
                    "`queue_delay(N)`: add a worker once a job has waited N seconds; \
                     `request_count(N)`: one worker per N queued or running jobs",
                );
                defaults::SCALER_VALUE
            } else {
                u32::try_from(s.value.value).unwrap_or(u32::MAX)
            };
            let kind = normal_kind(&s.kind.value);
            match kind.as_str() {
                "queuedelay" => Scaler::QueueDelay(value),
                "requestcount" => Scaler::RequestCount(value),
                _ => {
                    let diag = d.error(s.kind.span, format!("unknown scaler `{}`", s.kind.value));
                    if let Some(m) = did_you_mean(&s.kind.value, ["queue_delay", "request_count"]) {
                        diag.with_help(format!("did you mean `{m}`?"));
                    }
                    diag.with_help(
                        "use `scaler = queue_delay(seconds)` or `scaler = request_count(jobs)`",
                    );
                    Scaler::QueueDelay(value)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{int, name, run, spec, validate_rendered};
    use super::*;
    use crate::spec::ScalerSpec;

    fn scaler(kind: &str, value: i128) -> ScalerSpec<u32> {
        ScalerSpec {
            kind: name(kind, 1),
            value: int(value, 2),
            span: 3,
        }
    }

    #[test]
    fn both_kinds_in_any_spelling_and_the_default() {
        let mut s = spec();
        assert_eq!(
            run(|d| check_scaler(&s, d)),
            (Scaler::QueueDelay(defaults::SCALER_VALUE), vec![])
        );
        s.scaler = Some(scaler("request_count", 8));
        assert_eq!(
            run(|d| check_scaler(&s, d)),
            (Scaler::RequestCount(8), vec![])
        );
        s.scaler = Some(scaler("QUEUE_DELAY", 2));
        assert_eq!(
            run(|d| check_scaler(&s, d)),
            (Scaler::QueueDelay(2), vec![])
        );
    }

    #[test]
    fn an_unknown_kind_gets_the_nearest_and_a_zero_value_is_refused() {
        let mut s = spec();
        s.scaler = Some(scaler("queue_dealy", 0));
        let (out, problems) = run(|d| check_scaler(&s, d));
        assert_eq!(out, Scaler::QueueDelay(defaults::SCALER_VALUE));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].span, 2);
        assert_eq!(problems[0].message, "scaler value 0 must be at least 1");
        assert_eq!(problems[1].span, 1);
        assert_eq!(problems[1].message, "unknown scaler `queue_dealy`");
        assert_eq!(problems[1].help[0], "did you mean `queue_delay`?");
    }

    #[test]
    fn idle_timeout_is_refused_next_to_the_request_count_scaler_only() {
        let mut s = spec();
        s.idle_timeout = Some(int(30, 5));
        s.scaler = Some(scaler("requestCount", 4));
        let (_, problems) = run(|d| check_idle_with_request_count(&s, d));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 5);
        assert!(
            problems[0]
                .message
                .contains("`idle_timeout` cannot be combined with `scaler = request_count(..)`")
        );

        s.scaler = Some(scaler("queue_delay", 4));
        assert!(run(|d| check_idle_with_request_count(&s, d)).1.is_empty());
    }

    #[test]
    fn validate_reports_the_combination_before_the_scaler_itself() {
        let mut s = spec();
        s.cpu = Some(name("cpu3g-2-8", 6));
        s.execution_timeout_ms = Some(int(60_000, 4));
        s.idle_timeout = Some(int(30, 5));
        s.scaler = Some(scaler("request_count", 0));
        let problems = validate_rendered(&s);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("`idle_timeout` cannot be combined"));
        assert!(problems[1].starts_with("scaler value 0 must be at least 1"));
    }
}
