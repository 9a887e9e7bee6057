//! A load-balancing endpoint (a function returning a `Router`): a unit struct named after the
//! function, with `LoadBalanced` implemented (its name, config, state and app), its
//! registration, and the callee checks.

use endpoint_config::EndpointConfig;
use endpoint_config::parse::ParsedAttr;
use endpoint_config::signature::{AppSig, AppState, HandlerFn};
use endpoint_config::tokens::config_expr;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::Path;

use crate::callees;
use crate::impls::init_body;

/// Everything generated next to an app builder.
pub struct GeneratedApp<'a> {
    pub func: &'a HandlerFn,
    pub parsed: &'a ParsedAttr,
    pub config: &'a EndpointConfig,
    pub app: &'a AppSig,
    pub krate: &'a Path,
}

impl ToTokens for GeneratedApp<'_> {
    fn to_tokens(&self, out: &mut TokenStream) {
        let (func, config, krate) = (self.func, self.config, self.krate);
        let (fn_name, vis) = (&func.sig.ident, &func.vis);
        let name = config.name.as_ref();
        let cfg = quote!(#krate::__private::config);
        let calls = &self.parsed.calls;
        let names: Vec<_> = calls
            .iter()
            .map(|p| quote!(<#p as #krate::__private::AnyEndpoint>::NAME))
            .collect();
        let config_expr = config_expr(config, &cfg, &names);
        let state_ty = self
            .app
            .state_type()
            .map_or(quote!(()), ToTokens::to_token_stream);
        let init = init_body(self.parsed, self.app.state_type(), krate);
        let build = if !self.app.usable {
            quote! {
                let _ = __state;
                ::core::unreachable!("only generated next to a compile error")
            }
        } else {
            match &self.app.state {
                Some(AppState::Arc(_)) => quote!(#fn_name(__state)),
                Some(AppState::Ref(_)) => quote!(#fn_name(&*__state)),
                None => quote!({ let _ = __state; #fn_name() }),
            }
        };
        let caller_config = quote!(<#fn_name as #krate::__private::LoadBalanced>::CONFIG);
        let callee_checks = callees::checks(fn_name, &caller_config, calls, config, krate);
        let doc = format!(
            "The `{name}` load-balancing endpoint: the app [`{fn_name}`](fn@{fn_name}) builds, \
             served on Runpod Serverless. Its configuration is \
             `<{fn_name} as LoadBalanced>::CONFIG`."
        );
        let client_doc = format!(
            "An HTTP client of the `{name}` endpoint, in the caller's scope (its deadline, trace \
             and step budget): `.post(\"/path\").json(&body).send()`, or `.conversation(id)` for \
             requests pinned to the worker that holds a session."
        );
        out.extend(quote! {
            #[doc = #doc]
            #[allow(non_camel_case_types)]
            #vis struct #fn_name {}

            impl #krate::__private::LoadBalanced for #fn_name {
                type State = #state_ty;

                const NAME: &'static str = #name;
                const CONFIG: &'static #cfg::EndpointConfig = #config_expr;
                const BUILD: &'static str = ::core::env!("CARGO_PKG_VERSION");

                fn init() -> impl ::core::future::Future<Output = ::core::result::Result<
                    Self::State, #krate::__private::InitError>> + ::core::marker::Send
                { #init }

                fn app(__state: #krate::__private::Arc<Self::State>) -> #krate::__private::Router {
                    #build
                }
            }

            impl #krate::__private::AnyEndpoint for #fn_name {
                const NAME: &'static str = <Self as #krate::__private::LoadBalanced>::NAME;
                const CONFIG: &'static #cfg::EndpointConfig = <Self as #krate::__private::LoadBalanced>::CONFIG;
            }

            impl #fn_name {
                #[doc = #client_doc]
                #vis fn client(caller: &impl #krate::__private::Caller) -> #krate::__private::LbClient {
                    #krate::__private::LbClient::new(caller, <Self as #krate::__private::LoadBalanced>::NAME)
                }
            }

            #krate::__private::inventory::submit! {
                #krate::__private::Registration::app::<#fn_name>()
            }

            #callee_checks
        });
    }
}
