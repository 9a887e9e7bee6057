//! The `allow(..)` rule: each name must be a rule that can be opted out of (see [`Lint`]); the
//! ones that are get switched off in the collector before any other rule runs.

use std::borrow::Cow;

use crate::diagnostic::Diagnostics;
use crate::lint::Lint;
use crate::model::Text;
use crate::spec::Spec;
use crate::suggest::did_you_mean;

/// Opts out of the rules named in `allow(..)`; reports every unknown name. Returns the canonical
/// names of the rules allowed.
pub(super) fn check_allow<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Vec<Text> {
    let mut out: Vec<Text> = Vec::new();
    for a in &spec.allow {
        match Lint::from_name(&a.value) {
            Some(lint) => {
                d.allow(lint);
                out.push(Cow::Borrowed(lint.name()));
            }
            None => {
                let names = Lint::ALL.map(|l| l.name());
                let diag = d.error(a.span, format!("unknown rule `{}` in `allow(..)`", a.value));
                if let Some(m) = did_you_mean(&a.value, names) {
                    diag.with_help(format!("did you mean `{m}`?"));
                }
                diag.with_help(format!("rules that can be allowed: {}", names.join(", ")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{name, run, spec};
    use super::*;

    #[test]
    fn a_known_rule_is_allowed_and_kept_by_its_name() {
        let mut s = spec();
        s.allow = vec![name("high_concurrency", 3)];
        let (allowed, problems) = run(|d| {
            let allowed = check_allow(&s, d);
            assert!(d.is_allowed(Lint::HighConcurrency));
            assert!(!d.is_allowed(Lint::NoExecutionTimeout));
            allowed
        });
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(allowed, ["high_concurrency"]);
    }

    #[test]
    fn an_unknown_rule_is_refused_with_the_nearest_name_and_the_list() {
        let mut s = spec();
        s.allow = vec![name("high_concurency", 4)];
        let (allowed, problems) = run(|d| check_allow(&s, d));
        assert!(allowed.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 4);
        assert_eq!(
            problems[0].message,
            "unknown rule `high_concurency` in `allow(..)`"
        );
        assert_eq!(problems[0].help[0], "did you mean `high_concurrency`?");
        assert!(problems[0].help[1].starts_with("rules that can be allowed: no_execution_timeout"));
    }

    #[test]
    fn an_allowed_rule_no_longer_reports() {
        let mut s = spec();
        s.allow = vec![name("no_execution_timeout", 1)];
        // Without `execution_timeout_ms`, only the opted-out rule would have fired.
        let problems = super::super::support::testing::validate_rendered(&s);
        assert!(
            problems
                .iter()
                .all(|p| !p.contains("missing `execution_timeout_ms`")),
            "{problems:?}"
        );
    }
}
