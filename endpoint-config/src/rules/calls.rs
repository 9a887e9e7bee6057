//! Call rules: `calls = [..]` lists each endpoint once, `max_steps` (the most calls one job
//! makes) is at least 1, and a callee's execution timeout fits inside its caller's. The last one
//! is a pair of `const fn`s: the attribute can only see the caller's own configuration, so it
//! checks each callee with a `const` assertion over both configs, evaluated by the compiler.

use std::borrow::Cow;

use crate::diagnostic::Diagnostics;
use crate::model::{EndpointConfig, Text};
use crate::spec::Spec;

use super::support::group;

/// Whether a callee's execution timeout is below its caller's (a callee must finish inside its
/// caller's ceiling). True when either has none: [`callee_bounded`] covers that case.
pub const fn callee_fits(callee: &EndpointConfig, caller: &EndpointConfig) -> bool {
    match (callee.execution_timeout_ms, caller.execution_timeout_ms) {
        (Some(callee), Some(caller)) => callee < caller,
        _ => true,
    }
}

/// Whether a callee has a ceiling whenever its caller has one.
pub const fn callee_bounded(callee: &EndpointConfig, caller: &EndpointConfig) -> bool {
    !(callee.execution_timeout_ms.is_none() && caller.execution_timeout_ms.is_some())
}

/// The error when `caller` (with a ceiling of `caller_ms`) calls `callee`, which has none.
pub fn callee_unbounded_message(caller: &str, caller_ms: u64, callee: &str) -> String {
    let ms = group(i128::from(caller_ms));
    format!(
        "endpoint `{caller}` (execution_timeout_ms = {ms}) calls `{callee}`, which has no \
         execution timeout and could outlive its caller. Give `{callee}` an execution_timeout_ms \
         below {ms}, or add `allow(callee_timeout)` to `{caller}`"
    )
}

/// The error when `callee`'s ceiling is not below `caller`'s (`caller_ms`).
pub fn callee_not_below_message(caller: &str, caller_ms: u64, callee: &str) -> String {
    let ms = group(i128::from(caller_ms));
    format!(
        "endpoint `{caller}` (execution_timeout_ms = {ms}) calls `{callee}`, whose \
         execution_timeout_ms is not below it: a callee must finish inside its caller's ceiling. \
         Lower `{callee}`'s below {ms}, raise `{caller}`'s, or add `allow(callee_timeout)` to \
         `{caller}`"
    )
}

/// `calls = [..]`: each endpoint listed once (the later ones are reported and left out).
pub(super) fn check_calls<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Vec<Text> {
    let mut calls: Vec<Text> = Vec::new();
    for c in &spec.calls {
        if calls.iter().any(|x| *x == c.value) {
            d.error(c.span, format!("`{}` is listed twice in `calls`", c.value))
                .with_help("list each endpoint once");
        } else {
            calls.push(Cow::Owned(c.value.clone()));
        }
    }
    calls
}

/// `max_steps = N`: at least 1 (and within `u32`); `None` when unset or invalid.
pub(super) fn check_max_steps<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Option<u32> {
    match &spec.max_steps {
        None => None,
        Some(v) if v.value < 1 || v.value > i128::from(u32::MAX) => {
            d.error(
                v.span,
                format!("`max_steps = {}` must be at least 1", group(v.value)),
            )
            .with_help(
                "it caps the calls one job makes to other endpoints; remove it for no limit",
            );
            None
        }
        Some(v) => Some(v.value as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{int, name, run, spec};
    use super::*;

    fn with_timeout(ms: Option<u64>) -> EndpointConfig {
        EndpointConfig {
            execution_timeout_ms: ms,
            ..EndpointConfig::new("e")
        }
    }

    #[test]
    fn a_callee_must_end_inside_its_callers_ceiling() {
        let (short, long, none) = (
            with_timeout(Some(5_000)),
            with_timeout(Some(60_000)),
            with_timeout(None),
        );
        assert!(callee_fits(&short, &long));
        assert!(!callee_fits(&long, &short));
        assert!(!callee_fits(&long, &long), "equal is not below");
        assert!(callee_bounded(&short, &long) && callee_bounded(&none, &none));
        assert!(!callee_bounded(&none, &long));
        assert!(callee_bounded(&long, &none));
    }

    #[test]
    fn callee_messages_name_both_ends_and_the_fixes() {
        let m = callee_unbounded_message("plan", 60_000, "scrape");
        assert!(m.starts_with("endpoint `plan` (execution_timeout_ms = 60_000) calls `scrape`"));
        assert!(
            m.contains("Give `scrape` an execution_timeout_ms below 60_000"),
            "{m}"
        );
        let m = callee_not_below_message("plan", 60_000, "scrape");
        assert!(
            m.contains("Lower `scrape`'s below 60_000, raise `plan`'s"),
            "{m}"
        );
        assert!(m.ends_with("add `allow(callee_timeout)` to `plan`"), "{m}");
    }

    #[test]
    fn each_callee_is_listed_once() {
        let mut s = spec();
        s.calls = vec![name("scrape", 1), name("embed", 2), name("scrape", 3)];
        let (calls, problems) = run(|d| check_calls(&s, d));
        assert_eq!(calls, ["scrape", "embed"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 3);
        assert_eq!(problems[0].message, "`scrape` is listed twice in `calls`");
        assert_eq!(problems[0].help, ["list each endpoint once"]);
    }

    #[test]
    fn max_steps_is_at_least_one_and_optional() {
        let mut s = spec();
        assert_eq!(run(|d| check_max_steps(&s, d)), (None, vec![]));
        s.max_steps = Some(int(1, 4));
        assert_eq!(run(|d| check_max_steps(&s, d)), (Some(1), vec![]));

        s.max_steps = Some(int(0, 4));
        let (steps, problems) = run(|d| check_max_steps(&s, d));
        assert_eq!(steps, None);
        assert_eq!(problems[0].span, 4);
        assert_eq!(problems[0].message, "`max_steps = 0` must be at least 1");

        s.max_steps = Some(int(i128::from(u32::MAX) + 1, 4));
        let (_, problems) = run(|d| check_max_steps(&s, d));
        assert_eq!(
            problems[0].message,
            "`max_steps = 4_294_967_296` must be at least 1"
        );
    }
}
