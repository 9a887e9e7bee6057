//! The endpoint's name: written with `name = ".."` or taken from the handler function's name, it
//! must be a name the platform accepts (ASCII letters, digits, `-` and `_`, at most
//! [`limits::NAME_LEN`] characters, not ending in the FlashBoot suffix `-fb`).

use std::borrow::Cow;

use crate::diagnostic::Diagnostics;
use crate::model::{Text, limits};
use crate::spec::Spec;

/// Whether `name` is a valid endpoint name.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && name.len() <= limits::NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.ends_with("-fb")
}

/// The endpoint's name (explicit, or the function's without `r#`); reports it when invalid, and
/// says why.
pub(super) fn check_name<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Text {
    let (value, span, explicit) = match &spec.name {
        Some(n) => (n.value.clone(), n.span, true),
        None => (
            spec.fn_name.value.trim_start_matches("r#").to_string(),
            spec.fn_name.span,
            false,
        ),
    };
    if !is_valid_name(&value) {
        let why = if value.is_empty() {
            "it is empty".to_string()
        } else if value.len() > limits::NAME_LEN {
            format!("it is longer than {} characters", limits::NAME_LEN)
        } else if value.ends_with("-fb") {
            "the `-fb` suffix is reserved by the platform for FlashBoot".to_string()
        } else {
            "it must start with a letter or digit and contain only ASCII letters, digits, `-` \
             and `_`"
                .to_string()
        };
        let diag = d.error(
            span,
            format!("`{value}` is not a valid endpoint name: {why}"),
        );
        if !explicit {
            diag.with_help(
                "the name comes from the function's name; set one with `name = \"my-endpoint\"`",
            );
        } else {
            diag.with_help("e.g. `name = \"web-retrieval\"`");
        }
    }
    Cow::Owned(value)
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{name, run, spec};
    use super::*;

    #[test]
    fn valid_names_and_the_reserved_suffix() {
        assert!(is_valid_name("web-retrieval"));
        assert!(is_valid_name("embed_v2"));
        assert!(is_valid_name(&"a".repeat(limits::NAME_LEN)));
        assert!(!is_valid_name(&"a".repeat(limits::NAME_LEN + 1)));
        assert!(!is_valid_name("-leading-dash"));
        assert!(!is_valid_name("embed-fb"));
        assert!(!is_valid_name("émbed"));
        assert!(!is_valid_name(""));
    }

    #[test]
    fn the_function_name_is_used_without_raw_prefix() {
        let mut s = spec();
        s.fn_name = name("r#match", 9);
        let (out, problems) = run(|d| check_name(&s, d));
        assert_eq!(out, "match");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_explicit_name_with_the_flashboot_suffix_is_refused_on_its_token() {
        let mut s = spec();
        s.name = Some(name("embed-fb", 5));
        let (_, problems) = run(|d| check_name(&s, d));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 5);
        assert_eq!(
            problems[0].message,
            "`embed-fb` is not a valid endpoint name: the `-fb` suffix is reserved by the \
             platform for FlashBoot"
        );
        assert_eq!(problems[0].help, ["e.g. `name = \"web-retrieval\"`"]);
    }

    #[test]
    fn a_bad_function_name_points_to_the_name_key() {
        let mut s = spec();
        s.fn_name = name("_private", 2);
        let (_, problems) = run(|d| check_name(&s, d));
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("it must start with a letter or digit")
        );
        assert!(problems[0].help[0].contains("set one with `name = \"my-endpoint\"`"));
    }
}
