//! The `#[endpoint]` attribute. Use it through `endpoint-sdk`, which documents it.
//!
//! A thin shell: `endpoint-config` parses the arguments, validates them, reads the handler's
//! signature and writes the config as tokens (so all of it is unit tested, and the rules are
//! reused at run time); this crate puts the generated items together.

mod app;
mod callees;
mod expand;
mod impls;
mod methods;

use proc_macro::TokenStream;

/// Turns an `async fn` into a Runpod Serverless endpoint whose configuration is checked at
/// compile time. See the `endpoint-sdk` crate for the attribute reference.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::endpoint(args.into(), item.into()).into()
}
