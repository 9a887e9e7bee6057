//! A [`Diagnostic`] as the tokens that make the compiler show it (feature `syn`): an error is a
//! `compile_error!` spanned on the offending tokens; a warning is the use of a deprecated item,
//! since stable Rust has no other way for a macro to warn.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Lint;
use crate::parse::SpanRange;

/// The tokens that show `diag` to the user, emitted next to the generated code.
pub fn compile_tokens(diag: &Diagnostic<SpanRange>) -> TokenStream {
    match diag.severity {
        Severity::Error => diag.span.error(diag.render()).to_compile_error(),
        Severity::Warning => {
            let lint = diag.lint.map_or("endpoint_warning", Lint::name);
            let item = format_ident!("{}", lint, span = diag.span.start);
            let note = diag.render();
            quote! {
                const _: () = {
                    #[deprecated(note = #note)]
                    #[allow(non_camel_case_types)]
                    struct #item;
                    let _ = #item;
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compile_tokens;
    use crate::diagnostic::Diagnostics;
    use crate::lint::Lint;
    use crate::parse::SpanRange;
    use proc_macro2::Span;

    #[test]
    fn errors_are_compile_errors_and_warnings_deprecated_items() {
        let mut d = Diagnostics::new();
        let at = SpanRange::single(Span::call_site());
        d.error(at, "bad").with_help("fix it");
        d.lint(Lint::HighConcurrency, at, "risky");
        let out: Vec<String> = d.iter().map(|x| compile_tokens(x).to_string()).collect();
        assert!(
            out[0].contains("compile_error") && out[0].contains("bad\\nhelp: fix it"),
            "{}",
            out[0]
        );
        assert!(
            out[1].contains("deprecated") && out[1].contains("struct high_concurrency"),
            "{}",
            out[1]
        );
    }
}
