//! The callee checks: for each endpoint in `calls = [..]`, a `const` assertion that its
//! execution timeout fits inside this endpoint's. The attribute sees only its own endpoint's
//! config, so the compiler evaluates the rule (`callee_bounded`, `callee_fits`) over both.

use endpoint_config::parse::SpanRange;
use endpoint_config::{EndpointConfig, Lint, callee_not_below_message, callee_unbounded_message};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Ident, Path};

/// The assertions, spanned on each callee. None when this endpoint has no ceiling (nothing to
/// fit inside) or opts out with `allow(callee_timeout)`. `caller_config` is the expression of
/// this endpoint's `CONFIG` (through `Endpoint` or `LoadBalanced`).
pub fn checks(
    fn_name: &Ident,
    caller_config: &TokenStream,
    calls: &[Path],
    config: &EndpointConfig,
    krate: &Path,
) -> TokenStream {
    let Some(caller_ms) = config.execution_timeout_ms else {
        return TokenStream::new();
    };
    if config.allows(Lint::CalleeTimeout) {
        return TokenStream::new();
    }
    let caller = fn_name.to_string();
    let mut out = TokenStream::new();
    for callee in calls {
        let span = SpanRange::of(callee).start;
        let callee_name = quote!(#callee).to_string().replace(' ', "");
        let unbounded = callee_unbounded_message(&caller, caller_ms, &callee_name);
        let below = callee_not_below_message(&caller, caller_ms, &callee_name);
        out.extend(quote_spanned! {span=>
            const _: () = ::core::assert!(
                #krate::__private::callee_bounded(
                    <#callee as #krate::__private::AnyEndpoint>::CONFIG,
                    #caller_config,
                ),
                #unbounded
            );
            const _: () = ::core::assert!(
                #krate::__private::callee_fits(
                    <#callee as #krate::__private::AnyEndpoint>::CONFIG,
                    #caller_config,
                ),
                #below
            );
        });
    }
    out
}
