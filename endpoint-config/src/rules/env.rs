//! Environment rules: the names in `env(KEY = "value", ..)` and `secrets = [KEY, ..]` must be
//! valid variable names, not reserved (by the SDK, or the `RUNPOD_` prefix), and each set once
//! across both.

use std::borrow::Cow;

use crate::diagnostic::Diagnostics;
use crate::model::{EnvVar, Text};
use crate::spec::{Name, Spec};

/// Whether `s` is a portable environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One variable name from `env(..)` or `secrets = [..]`: valid, not set by the SDK or the
/// platform, and not already set (`seen` holds the names so far and where each was set).
fn check_env_key<S: Copy>(
    d: &mut Diagnostics<S>,
    k: &Name<S>,
    seen: &mut Vec<(String, &'static str)>,
    here: &'static str,
) -> bool {
    if !is_env_name(&k.value) {
        d.error(
            k.span,
            format!("`{}` is not a valid environment variable name", k.value),
        )
        .with_help("use letters, digits and `_`, not starting with a digit");
        return false;
    }
    if crate::vars::is_managed(&k.value) {
        d.error(
            k.span,
            format!(
                "`{}` is set by the SDK (it selects the endpoint a worker serves, or routes \
                 calls between endpoints)",
                k.value
            ),
        )
        .with_help("choose another name; `app deploy` writes these variables itself");
        return false;
    }
    if k.value.starts_with(crate::vars::RUNPOD_PREFIX) {
        d.error(
            k.span,
            format!(
                "`{}`: the `RUNPOD_` prefix is reserved for variables the platform sets",
                k.value
            ),
        )
        .with_help("choose another name");
        return false;
    }
    if let Some((_, first)) = seen.iter().find(|(name, _)| *name == k.value) {
        let msg = if *first == here {
            format!(
                "environment variable `{}` is set twice in `{here}`",
                k.value
            )
        } else {
            format!(
                "environment variable `{}` is in both `{first}` and `{here}`",
                k.value
            )
        };
        d.error(k.span, msg).with_help(
            "`env(..)` sets a value in the manifest; `secrets = [..]` copies a value from the \
             deployer's environment without writing it anywhere: keep one",
        );
        return false;
    }
    seen.push((k.value.clone(), here));
    true
}

/// `env(..)` then `secrets = [..]`; a variable that breaks a rule is left out.
pub(super) fn check_env<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
) -> (Vec<EnvVar>, Vec<Text>) {
    let mut seen = Vec::new();
    let mut env = Vec::new();
    for (k, v) in &spec.env {
        if check_env_key(d, k, &mut seen, "env(..)") {
            env.push(EnvVar {
                key: Cow::Owned(k.value.clone()),
                value: Cow::Owned(v.value.clone()),
            });
        }
    }
    let mut secrets = Vec::new();
    for k in &spec.secrets {
        if check_env_key(d, k, &mut seen, "secrets") {
            secrets.push(Cow::Owned(k.value.clone()));
        }
    }
    (env, secrets)
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{name, run, spec};
    use super::*;

    #[test]
    fn valid_variables_and_secrets_are_kept_in_order() {
        let mut s = spec();
        s.env = vec![
            (name("HF_HOME", 1), name("/runpod-volume/hf", 2)),
            (name("_DEBUG", 3), name("1", 4)),
        ];
        s.secrets = vec![name("HF_TOKEN", 5)];
        let ((env, secrets), problems) = run(|d| check_env(&s, d));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(env.len(), 2);
        assert_eq!(
            (&*env[0].key, &*env[0].value),
            ("HF_HOME", "/runpod-volume/hf")
        );
        assert_eq!(env[1].key, "_DEBUG");
        assert_eq!(secrets, ["HF_TOKEN"]);
    }

    #[test]
    fn invalid_and_reserved_names_are_refused_on_their_token() {
        let mut s = spec();
        s.env = vec![
            (name("HF-HOME", 1), name("x", 2)),
            (name("9LIVES", 3), name("x", 4)),
            (name("RUNPOD_POD_ID", 5), name("x", 6)),
        ];
        s.secrets = vec![name(crate::vars::ENDPOINT_NAME, 7)];
        let ((env, secrets), problems) = run(|d| check_env(&s, d));
        assert!(env.is_empty() && secrets.is_empty());
        let got: Vec<_> = problems.iter().map(|p| p.span).collect();
        assert_eq!(got, [1, 3, 5, 7]);
        assert_eq!(
            problems[0].message,
            "`HF-HOME` is not a valid environment variable name"
        );
        assert_eq!(
            problems[0].help,
            ["use letters, digits and `_`, not starting with a digit"]
        );
        assert!(
            problems[2]
                .message
                .contains("the `RUNPOD_` prefix is reserved")
        );
        assert!(problems[3].message.contains("is set by the SDK"));
    }

    #[test]
    fn a_name_set_twice_says_where_it_was_first_set() {
        let mut s = spec();
        s.env = vec![
            (name("A", 1), name("1", 2)),
            (name("A", 3), name("2", 4)),
            (name("B", 5), name("3", 6)),
        ];
        s.secrets = vec![name("B", 7)];
        let ((env, secrets), problems) = run(|d| check_env(&s, d));
        assert_eq!(env.len(), 2, "the first of each is kept");
        assert!(secrets.is_empty());
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].span, 3);
        assert_eq!(
            problems[0].message,
            "environment variable `A` is set twice in `env(..)`"
        );
        assert_eq!(problems[1].span, 7);
        assert_eq!(
            problems[1].message,
            "environment variable `B` is in both `env(..)` and `secrets`"
        );
    }
}
