//! The `#[endpoint]` attribute. Use it through `endpoint-sdk`, which documents it.
//!
//! A thin shell: `endpoint-config` parses and validates the arguments (so its rules are unit
//! tested, and reused at run time); this crate reads the handler's signature and generates code.

mod expand;
mod signature;

use proc_macro::TokenStream;

/// Turns an `async fn` into a Runpod Serverless endpoint whose configuration is checked at
/// compile time. See the `endpoint-sdk` crate for the attribute reference.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::endpoint(args.into(), item.into()).into()
}
