//! The expansion, put together: the handler as written, the handle type with its trait impls
//! and typed methods, its registration, the callee checks, and every problem found.
//!
//! Everything generated refers to the SDK through `<crate>::__private` (`::endpoint_sdk` or the
//! `crate = ".."` override) and to the standard library by absolute path, so it compiles under
//! `#![no_implicit_prelude]`.

use endpoint_config::parse::parse_attr;
use endpoint_config::report::compile_tokens;
use endpoint_config::signature::{analyze, parse_handler};
use endpoint_config::{Diagnostics, validate};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Path;

use crate::impls::Generated;

/// Expands `#[endpoint(args)] item`.
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match parse_handler(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let mut out = item;
            out.extend(e.to_compile_error());
            return out;
        }
    };
    let mut d = Diagnostics::new();
    let parsed = parse_attr(args, &func.sig.ident, &mut d);
    let config = validate(&parsed.spec, &mut d);
    let sig = analyze(&func.sig, parsed.init.is_some(), &mut d);
    let krate: Path = parsed
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::endpoint_sdk));

    let mut out = func.to_token_stream();
    Generated {
        func: &func,
        parsed: &parsed,
        config: &config,
        sig: &sig,
        krate: &krate,
    }
    .to_tokens(&mut out);
    for diag in d.iter() {
        out.extend(compile_tokens(diag));
    }
    out
}
