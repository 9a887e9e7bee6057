//! Helpers every family of rules shares: the range check on integers (with its message) and the
//! way numbers are written back to the user (`604_800_000`). No rule lives here.

use crate::diagnostic::Diagnostics;
use crate::spec::Int;

/// Checks that an integer lies in `range`; reports and returns `None` otherwise.
pub(super) fn in_range<S: Copy>(
    d: &mut Diagnostics<S>,
    v: &Int<S>,
    range: std::ops::RangeInclusive<i128>,
    key: &str,
    unit: &str,
) -> Option<i128> {
    if range.contains(&v.value) {
        Some(v.value)
    } else {
        let diag = d.error(
            v.span,
            format!(
                "`{key} = {}` is out of range: the platform accepts {} to {} {unit}",
                group(v.value),
                group(*range.start()),
                group(*range.end())
            ),
        );
        let clamped = v.value.clamp(*range.start(), *range.end());
        diag.with_help(format!("e.g. `{key} = {}`", group(clamped)));
        None
    }
}

/// Writes an integer with `_` every three digits, as a Rust literal would (`604_800_000`).
pub fn group(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && digits.len() > 3 {
            out.push('_');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Builders for the rules' unit tests: specs whose spans are numbers, so a test can say which
/// token a problem is reported on.
#[cfg(test)]
pub(super) mod testing {
    use crate::diagnostic::{Diagnostic, Diagnostics};
    use crate::spec::{Int, Name, Spanned, Spec};

    /// The span of the attribute as a whole (and of the function's name).
    pub const ATTR: u32 = 0;

    /// A spec for `fn handler` with nothing set.
    pub fn spec() -> Spec<u32> {
        Spec::new(name("handler", ATTR), ATTR)
    }

    /// A name written at `span`.
    pub fn name(value: &str, span: u32) -> Name<u32> {
        Spanned::new(value.to_string(), span)
    }

    /// An integer written at `span`.
    pub fn int(value: i128, span: u32) -> Int<u32> {
        Spanned::new(value, span)
    }

    /// Runs one check on a fresh collector; returns its result and what it reported.
    pub fn run<T>(check: impl FnOnce(&mut Diagnostics<u32>) -> T) -> (T, Vec<Diagnostic<u32>>) {
        let mut d = Diagnostics::new();
        let out = check(&mut d);
        (out, d.into_vec())
    }

    /// Everything `validate` reports on `spec`, as rendered messages.
    pub fn validate_rendered(spec: &Spec<u32>) -> Vec<String> {
        let (_, problems) = run(|d| super::super::validate(spec, d));
        problems.iter().map(Diagnostic::render).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{int, run};
    use super::*;

    #[test]
    fn group_writes_digits_in_threes_like_a_rust_literal() {
        assert_eq!(group(604_800_000), "604_800_000");
        assert_eq!(group(5_000), "5_000");
        assert_eq!(group(999), "999");
        assert_eq!(group(-12_345), "-12_345");
        assert_eq!(group(0), "0");
    }

    #[test]
    fn in_range_accepts_both_ends_and_refuses_outside_with_the_nearest_valid_value() {
        let (ok, problems) = run(|d| {
            (
                in_range(d, &int(1, 1), 1..=3600, "idle_timeout", "seconds"),
                in_range(d, &int(3600, 2), 1..=3600, "idle_timeout", "seconds"),
            )
        });
        assert_eq!(ok, (Some(1), Some(3600)));
        assert!(problems.is_empty(), "{problems:?}");

        let (out, problems) = run(|d| in_range(d, &int(4000, 7), 1..=3600, "idle_timeout", "s"));
        assert_eq!(out, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 7);
        assert_eq!(
            problems[0].message,
            "`idle_timeout = 4_000` is out of range: the platform accepts 1 to 3_600 s"
        );
        assert_eq!(problems[0].help, ["e.g. `idle_timeout = 3_600`"]);
    }
}
