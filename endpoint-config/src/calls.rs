//! The rules between a caller and its callees (`calls = [..]`), as `const fn`s: the attribute
//! can only see the caller's own configuration, so it checks each callee with a `const`
//! assertion over both configs, evaluated by the compiler.

use crate::EndpointConfig;

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

#[cfg(test)]
mod tests {
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
}
