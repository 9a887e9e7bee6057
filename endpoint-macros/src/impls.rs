//! The handle type: a unit struct named after the function, with `Endpoint` (its types, name
//! and config) and `Handler` (how a worker builds its state and runs a job) implemented.

use endpoint_config::EndpointConfig;
use endpoint_config::parse::{ParsedAttr, SpanRange};
use endpoint_config::signature::{Arg, HandlerFn, HandlerSig};
use endpoint_config::tokens::config_expr;
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Path;

use crate::{callees, methods};

/// Everything generated next to the handler.
pub struct Generated<'a> {
    pub func: &'a HandlerFn,
    pub parsed: &'a ParsedAttr,
    pub config: &'a EndpointConfig,
    pub sig: &'a HandlerSig,
    pub krate: &'a Path,
}

impl ToTokens for Generated<'_> {
    fn to_tokens(&self, out: &mut TokenStream) {
        let (func, config, sig, krate) = (self.func, self.config, self.sig, self.krate);
        let (fn_name, vis) = (&func.sig.ident, &func.vis);
        let name = config.name.as_ref();
        let (input_ty, input_struct) = self.input_type();
        let output_ty = &sig.output;
        let no_error = quote!(#krate::__private::NoError);
        let error_ty = sig
            .error
            .as_ref()
            .map_or(no_error, ToTokens::to_token_stream);
        let chunk_ty = sig
            .chunk
            .as_ref()
            .map_or(quote!(#krate::__private::Json), ToTokens::to_token_stream);
        let state_ty = sig
            .state
            .as_ref()
            .map_or(quote!(()), ToTokens::to_token_stream);
        let cfg = quote!(#krate::__private::config);
        let calls = &self.parsed.calls;
        let names: Vec<_> = calls
            .iter()
            .map(|p| quote!(<#p as #krate::__private::AnyEndpoint>::NAME))
            .collect();
        let config_expr = config_expr(config, &cfg, &names);
        let init_body = init_body(self.parsed, self.sig.state.as_ref(), krate);
        let run_body = self.run_body();
        let schemas = self.schemas(&input_ty);
        let methods = methods::typed(fn_name, vis, name, sig, krate, &input_ty);
        let caller_config = quote!(<#fn_name as #krate::__private::Endpoint>::CONFIG);
        let callee_checks = callees::checks(fn_name, &caller_config, calls, config, krate);
        let doc = format!(
            "The `{name}` endpoint: [`{fn_name}`](fn@{fn_name}) running on Runpod Serverless. \
             Its configuration is `<{fn_name} as Endpoint>::CONFIG`."
        );
        out.extend(quote! {
            #input_struct

            #[doc = #doc]
            #[allow(non_camel_case_types)]
            #vis struct #fn_name {}

            impl #krate::__private::Endpoint for #fn_name {
                type Input = #input_ty;
                type Output = #output_ty;
                type Error = #error_ty;
                type Chunk = #chunk_ty;

                const NAME: &'static str = #name;
                const BUILD: &'static str = ::core::env!("CARGO_PKG_VERSION");
                const CONFIG: &'static #cfg::EndpointConfig = #config_expr;

                #schemas
            }

            impl #krate::__private::Handler for #fn_name {
                type State = #state_ty;

                fn init() -> impl ::core::future::Future<Output = ::core::result::Result<
                    Self::State, #krate::__private::InitError>> + ::core::marker::Send
                { #init_body }

                #[allow(unused_variables, clippy::unit_arg)]
                fn run(__state: #krate::__private::Arc<Self::State>, __ctx: #krate::__private::Ctx, __input: Self::Input)
                    -> impl ::core::future::Future<Output = ::core::result::Result<Self::Output, Self::Error>> + ::core::marker::Send
                { async move { #run_body } }
            }

            impl #krate::__private::AnyEndpoint for #fn_name {
                const NAME: &'static str = <Self as #krate::__private::Endpoint>::NAME;
                const CONFIG: &'static #cfg::EndpointConfig = <Self as #krate::__private::Endpoint>::CONFIG;
            }

            #methods

            #krate::__private::inventory::submit! {
                #krate::__private::Registration::of::<#fn_name>()
            }

            #callee_checks
        });
    }
}

impl Generated<'_> {
    /// The input type: none, the single parameter's type, or a struct keyed by parameter name
    /// (with `From` a tuple of the parameters, for `fan_out`). `NoInput` when a parameter is
    /// `impl Trait`: that is reported, and the type has nothing it could name.
    fn input_type(&self) -> (TokenStream, TokenStream) {
        let (sig, krate) = (self.sig, self.krate);
        if !sig.input_is_concrete() || sig.inputs.is_empty() {
            return (quote!(#krate::__private::NoInput), TokenStream::new());
        }
        if let [only] = &sig.inputs[..] {
            let ty = &only.ty;
            return (quote!(#ty), TokenStream::new());
        }
        let struct_name = format_ident!("__{}_input", self.func.sig.ident);
        let vis = &self.func.vis;
        let idents: Vec<_> = sig.inputs.iter().map(|i| &i.ident).collect();
        let wire = sig.inputs.iter().map(|i| &i.wire_name);
        let tys: Vec<_> = sig.inputs.iter().map(|i| &i.ty).collect();
        let serde_path = format!(
            "{}::__private::serde",
            quote!(#krate).to_string().replace(' ', "")
        );
        let input_struct = quote! {
            impl ::core::convert::From<(#(#tys,)*)> for #struct_name {
                fn from((#(#idents,)*): (#(#tys,)*)) -> Self {
                    #struct_name { #(#idents),* }
                }
            }

            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(#krate::__private::serde::Serialize, #krate::__private::serde::Deserialize)]
            #[serde(crate = #serde_path)]
            #vis struct #struct_name {
                #( #[serde(rename = #wire)] pub #idents: #tys, )*
            }
        };
        (quote!(#struct_name), input_struct)
    }

    /// `Endpoint::schemas`: each type asked for its JSON Schema (and the input for an example),
    /// without requiring it to have one; the input made of several parameters is an object of
    /// theirs. Nothing when the signature is unusable (reported): the trait's default stands.
    fn schemas(&self, input_ty: &TokenStream) -> TokenStream {
        let (sig, krate) = (self.sig, self.krate);
        if !sig.usable {
            return TokenStream::new();
        }
        let probe = quote!(#krate::__private::schema::Probe);
        let output_ty = &sig.output;
        let (input, example) = if sig.inputs.len() > 1 && sig.input_is_concrete() {
            let wire: Vec<_> = sig.inputs.iter().map(|i| &i.wire_name).collect();
            let tys: Vec<_> = sig.inputs.iter().map(|i| &i.ty).collect();
            (
                quote!(#krate::__private::schema::object(::std::vec![
                    #( (#wire, (&#probe::<#tys>::new()).schema()), )*
                ])),
                quote!(#krate::__private::schema::example_object(::std::vec![
                    #( (#wire, (&#probe::<#tys>::new()).example()), )*
                ])),
            )
        } else {
            (
                quote!((&#probe::<#input_ty>::new()).schema()),
                quote!((&#probe::<#input_ty>::new()).example()),
            )
        };
        quote! {
            #[allow(clippy::needless_borrow)]
            fn schemas() -> #krate::__private::schema::Schemas {
                #[allow(unused_imports)]
                use #krate::__private::schema::{
                    ExampleViaDefault as _, ExampleViaNothing as _, ViaJsonSchema as _,
                    ViaNothing as _,
                };
                #krate::__private::schema::Schemas {
                    input: #input,
                    output: (&#probe::<#output_ty>::new()).schema(),
                    example: #example,
                }
            }
        }
    }

    /// `Handler::run`: the handler called with the context, the state and the input's fields.
    /// When the signature is unusable (reported), a body of the right type that never runs.
    fn run_body(&self) -> TokenStream {
        let sig = self.sig;
        if !sig.usable {
            return quote! {
                let _ = (__state, __ctx, __input);
                ::core::unreachable!("only generated next to a compile error")
            };
        }
        let call_args = sig.args.iter().map(|a| match a {
            Arg::Ctx { by_ref: true } => quote!(&__ctx),
            Arg::Ctx { by_ref: false } => quote!(__ctx),
            Arg::State => quote!(&*__state),
            Arg::Chunks => quote!(__chunks),
            Arg::Input(_) if sig.inputs.len() == 1 => quote!(__input),
            Arg::Input(i) => {
                let id = &sig.inputs[*i].ident;
                quote!(__input.#id)
            }
        });
        let fn_name = &self.func.sig.ident;
        let ret = if sig.error.is_some() {
            quote!(__result)
        } else {
            quote!(::core::result::Result::Ok(__result))
        };
        // Made before the call: the context may move into it.
        let chunks = sig.chunk.as_ref().map(|_| {
            let krate = self.krate;
            quote!(let __chunks = #krate::__private::Chunks::new(::core::clone::Clone::clone(&__ctx));)
        });
        quote! {
            let _ = &__state;
            #chunks
            let __result = #fn_name(#(#call_args),*).await;
            #ret
        }
    }
}

/// `init()`: the `init = ..` function's state (of type `state` when the function takes it), or
/// nothing. Shared by queue handlers and load-balancing apps.
pub fn init_body(parsed: &ParsedAttr, state: Option<&syn::Type>, krate: &Path) -> TokenStream {
    let Some(path) = &parsed.init else {
        return quote!(#krate::__private::init_none());
    };
    let text = quote!(#path).to_string().replace(' ', "");
    let span = SpanRange::of(path).start;
    match state {
        Some(state) => {
            quote_spanned!(span=> #krate::__private::init_state::<#state, _>(#text, #path))
        }
        None => quote_spanned!(span=> #krate::__private::init_discard(#text, #path)),
    }
}
