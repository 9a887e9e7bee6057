//! The item under `#[endpoint]`, read leniently: the signature is parsed, the body is kept as
//! opaque tokens and emitted as written. rustc parses an attribute's item before the attribute
//! runs and reports a syntax error in the body itself, once, with its own help; the endpoint's
//! handle type is still generated from the signature, so call sites get no second error. (Adding
//! syn's error for the same token would show the mistake twice.)

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

/// An `fn` item whose body has not been parsed.
pub struct HandlerFn {
    /// Outer attributes (`#[doc]`, `#[allow]`, ..).
    pub attrs: Vec<Attribute>,
    /// Its visibility, which the generated handle type shares.
    pub vis: Visibility,
    /// Its signature, fully parsed.
    pub sig: Signature,
    /// The body, `{ .. }`, as tokens.
    pub body: Group,
    /// The item as written.
    original: TokenStream,
}

impl Parse for HandlerFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body: Group = input.parse()?;
        if body.delimiter() != Delimiter::Brace {
            return Err(syn::Error::new(
                body.span(),
                "expected the function's body `{ .. }`",
            ));
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function's body"));
        }
        Ok(HandlerFn {
            attrs,
            vis,
            sig,
            body,
            original: TokenStream::new(),
        })
    }
}

/// Reads `item` as a handler, or the error to show when it is not a function: it names what the
/// attribute was put on and how to write a handler.
pub fn parse_handler(item: TokenStream) -> Result<HandlerFn, syn::Error> {
    let mut f = syn::parse2::<HandlerFn>(item.clone()).map_err(|_| not_a_function(item.clone()))?;
    f.original = item;
    Ok(f)
}

/// The function as written.
impl ToTokens for HandlerFn {
    fn to_tokens(&self, out: &mut TokenStream) {
        out.extend(self.original.clone());
    }
}

fn not_a_function(item: TokenStream) -> syn::Error {
    let what = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(_)) => "a struct",
        Ok(syn::Item::Enum(_)) => "an enum",
        Ok(syn::Item::Impl(_)) => "an impl block",
        Ok(syn::Item::Mod(_)) => "a module",
        Ok(syn::Item::Trait(_)) => "a trait",
        Ok(syn::Item::Const(_) | syn::Item::Static(_)) => "a constant",
        _ => "this item",
    };
    let span = item
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    syn::Error::new(
        span,
        format!(
            "#[endpoint] goes on an `async fn` (the endpoint's handler), not on {what}\n\
             help: write `#[endpoint(..)] async fn name(input: Input) -> Output {{ .. }}`"
        ),
    )
}
