//! The `#[endpoint]` attribute. Use it through `endpoint-sdk`, which documents it.
//!
//! A thin shell: `endpoint-config` parses the arguments, validates them, reads the handler's
//! signature and writes the config as tokens (so all of it is unit tested, and the rules are
//! reused at run time); this crate puts the generated items together.

mod app;
mod callees;
mod expand;
mod external;
mod impls;
mod methods;

use proc_macro::TokenStream;

/// Turns an `async fn` into a Runpod Serverless endpoint whose configuration is checked at
/// compile time. See the `endpoint-sdk` crate for the attribute reference.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::endpoint(args.into(), item.into()).into()
}

/// Declares an endpoint not built with this SDK (worker-vllm, a custom image, an existing
/// endpoint id) on a unit struct, so that `calls = [..]` can name it and its calls carry the
/// caller's step budget, deadline, cancellation and trace. See `endpoint_sdk::external`.
#[proc_macro_attribute]
pub fn external(args: TokenStream, item: TokenStream) -> TokenStream {
    external::external(args.into(), item.into()).into()
}
