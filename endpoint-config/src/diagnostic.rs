//! Problems found in an endpoint's configuration, each tied to the span of the token that caused
//! it. The span type is generic: `proc_macro2::Span` in the attribute, `()` at run time.

use std::fmt;

use crate::lint::{Level, Lint};

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The endpoint does not compile.
    Error,
    /// The endpoint compiles, with a warning.
    Warning,
}

/// One problem: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic<S> {
    /// Error or warning.
    pub severity: Severity,
    /// The offending token.
    pub span: S,
    /// What is wrong, one sentence.
    pub message: String,
    /// How to fix it: the valid choices, the corrected attribute.
    pub help: Vec<String>,
    /// The rule, when the problem can be opted out of with `allow(..)`.
    pub lint: Option<Lint>,
}

impl<S> Diagnostic<S> {
    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// The message with its help lines, as the compiler shows it (rustc indents the lines
    /// after the first under the message).
    pub fn render(&self) -> String {
        let mut out = self.message.clone();
        for h in &self.help {
            out.push_str("\nhelp: ");
            out.push_str(h);
        }
        if let Some(lint) = self.lint {
            out.push_str(&format!(
                "\nnote: to opt out, add `allow({})` to the attribute",
                lint.name()
            ));
        }
        out
    }
}

impl<S> fmt::Display for Diagnostic<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// The collector every check writes into; nothing stops at the first problem.
#[derive(Debug, Clone)]
pub struct Diagnostics<S> {
    items: Vec<Diagnostic<S>>,
    allowed: Vec<Lint>,
}

impl<S> Default for Diagnostics<S> {
    fn default() -> Self {
        Diagnostics {
            items: Vec::new(),
            allowed: Vec::new(),
        }
    }
}

impl<S: Copy> Diagnostics<S> {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error and returns it for help lines.
    pub fn error(&mut self, span: S, message: impl Into<String>) -> &mut Diagnostic<S> {
        self.push(Diagnostic {
            severity: Severity::Error,
            span,
            message: message.into(),
            help: Vec::new(),
            lint: None,
        })
    }

    /// Records a problem governed by `lint`: an error or a warning per the rule's level, or
    /// nothing when the rule is allowed. Returns `None` when allowed.
    pub fn lint(
        &mut self,
        lint: Lint,
        span: S,
        message: impl Into<String>,
    ) -> Option<&mut Diagnostic<S>> {
        if self.allowed.contains(&lint) {
            return None;
        }
        let severity = match lint.level() {
            Level::Deny => Severity::Error,
            Level::Warn => Severity::Warning,
        };
        Some(self.push(Diagnostic {
            severity,
            span,
            message: message.into(),
            help: Vec::new(),
            lint: Some(lint),
        }))
    }

    fn push(&mut self, d: Diagnostic<S>) -> &mut Diagnostic<S> {
        self.items.push(d);
        self.items.last_mut().expect("just pushed")
    }

    /// Marks a rule as opted out of.
    pub fn allow(&mut self, lint: Lint) {
        if !self.allowed.contains(&lint) {
            self.allowed.push(lint);
        }
    }

    /// Whether a rule is opted out of.
    pub fn is_allowed(&self, lint: Lint) -> bool {
        self.allowed.contains(&lint)
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Every problem, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic<S>> {
        self.items.iter()
    }

    /// Takes every problem out.
    pub fn into_vec(self) -> Vec<Diagnostic<S>> {
        self.items
    }
}

impl<S> Diagnostic<S> {
    /// Adds a help line in place (for use on `&mut` returned by the collector).
    pub fn with_help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help.push(help.into());
        self
    }
}
