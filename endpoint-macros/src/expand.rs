//! The expansion, put together: the handler as written, the handle type with its trait impls
//! and typed methods (or, for a function that builds a `Router`, a load-balancing endpoint's),
//! its registration, the callee checks, and every problem found.
//!
//! Everything generated refers to the SDK through `<crate>::__private` (`::endpoint_sdk` or the
//! `crate = ".."` override) and to the standard library by absolute path, so it compiles under
//! `#![no_implicit_prelude]`.

use endpoint_config::parse::parse_attr;
use endpoint_config::report::compile_tokens;
use endpoint_config::signature::{
    analyze, analyze_app, literal_routes, parse_handler, returns_router,
};
use endpoint_config::{Diagnostics, validate};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Path;

use crate::app::GeneratedApp;
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
    let mut parsed = parse_attr(args, &func.sig.ident, &mut d);
    // A function that builds a `Router` declares a load-balancing endpoint.
    let router = returns_router(&func.sig);
    if router.is_some() {
        parsed.spec.load_balancer = router;
        parsed.spec.app_routes = literal_routes(&func.body);
    }
    let config = validate(&parsed.spec, &mut d);
    let krate: Path = parsed
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::endpoint_sdk));

    let mut out = func.to_token_stream();
    if router.is_some() {
        let app = analyze_app(&func.sig, parsed.init.is_some(), &mut d);
        GeneratedApp {
            func: &func,
            parsed: &parsed,
            config: &config,
            app: &app,
            krate: &krate,
        }
        .to_tokens(&mut out);
    } else {
        let sig = analyze(&func.sig, parsed.init.is_some(), &mut d);
        Generated {
            func: &func,
            parsed: &parsed,
            config: &config,
            sig: &sig,
            krate: &krate,
        }
        .to_tokens(&mut out);
    }
    for diag in d.iter() {
        out.extend(compile_tokens(diag));
    }
    out
}
