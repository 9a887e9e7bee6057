//! Rules a user may opt out of with `allow(..)`. Platform limits (ranges, unknown names) are
//! not here: the platform would reject those, so there is nothing to opt out of.

use std::fmt;

/// A named rule of the production checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lint {
    /// Every endpoint states an execution timeout (deny by default).
    NoExecutionTimeout,
    /// An interactive endpoint keeps at least one warm worker (deny by default).
    InteractiveColdStart,
    /// A callee's execution timeout is below its caller's (deny by default).
    CalleeTimeout,
    /// `gpu = ANY` or several pools without a `min_vram_gb` floor (warning).
    GpuWithoutVramFloor,
    /// A GPU priority list with fewer than 5 max workers (warning).
    GpuFallbackNeedsFiveWorkers,
    /// `concurrency` above 100 (warning).
    HighConcurrency,
}

/// How a rule reports when not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A compile error.
    Deny,
    /// A compiler warning.
    Warn,
}

impl Lint {
    /// Every rule, in the order the docs list them.
    pub const ALL: [Lint; 6] = [
        Lint::NoExecutionTimeout,
        Lint::InteractiveColdStart,
        Lint::CalleeTimeout,
        Lint::GpuWithoutVramFloor,
        Lint::GpuFallbackNeedsFiveWorkers,
        Lint::HighConcurrency,
    ];

    /// The name written in `allow(..)`.
    pub const fn name(self) -> &'static str {
        match self {
            Lint::NoExecutionTimeout => "no_execution_timeout",
            Lint::InteractiveColdStart => "interactive_cold_start",
            Lint::CalleeTimeout => "callee_timeout",
            Lint::GpuWithoutVramFloor => "gpu_without_vram_floor",
            Lint::GpuFallbackNeedsFiveWorkers => "gpu_fallback_needs_five_workers",
            Lint::HighConcurrency => "high_concurrency",
        }
    }

    /// Whether the rule is an error or a warning.
    pub const fn level(self) -> Level {
        match self {
            Lint::NoExecutionTimeout | Lint::InteractiveColdStart | Lint::CalleeTimeout => {
                Level::Deny
            }
            Lint::GpuWithoutVramFloor
            | Lint::GpuFallbackNeedsFiveWorkers
            | Lint::HighConcurrency => Level::Warn,
        }
    }

    /// The rule named `name`, if any.
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
