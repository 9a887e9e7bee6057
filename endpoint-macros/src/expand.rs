//! Code generation. Everything generated refers to the SDK by an absolute path (`::endpoint_sdk`
//! or the `crate = ".."` override), so it compiles under `#![no_implicit_prelude]`.

use endpoint_config::parse::{ParsedAttr, SpanRange, parse_attr};
use endpoint_config::{
    Diagnostic, Diagnostics, EndpointConfig, GpuChoice, Hardware, Lint, Scaler, Severity, validate,
};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{ItemFn, Path};

use crate::signature::{Arg, HandlerSig, analyze};

/// Expands `#[endpoint(args)] item`.
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
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
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let err = syn::Error::new(
                span,
                format!(
                    "#[endpoint] goes on an `async fn` (the endpoint's handler), not on {what}\n\
                     help: write `#[endpoint(..)] async fn name(input: Input) -> Output {{ .. }}`"
                ),
            );
            let mut out = item;
            out.extend(err.to_compile_error());
            return out;
        }
    };
    let mut d = Diagnostics::new();
    let parsed = parse_attr(args, &func.sig.ident, &mut d);
    let config = validate(&parsed.spec, &mut d);
    let sig = analyze(&func, parsed.init.is_some(), &mut d);

    let krate: Path = parsed
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::endpoint_sdk));
    let generated = generate(&func, &parsed, &config, &sig, &krate);

    let mut out = quote!(#func);
    out.extend(generated);
    for diag in d.iter() {
        out.extend(report(diag));
    }
    out
}

/// A compile error, or a warning emitted as a use of a deprecated item (stable Rust has no
/// other way for a macro to warn).
fn report(diag: &Diagnostic<SpanRange>) -> TokenStream {
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

fn generate(
    func: &ItemFn,
    parsed: &ParsedAttr,
    config: &EndpointConfig,
    sig: &HandlerSig,
    krate: &Path,
) -> TokenStream {
    let fn_name = &func.sig.ident;
    let vis = &func.vis;
    let name = config.name.as_ref();
    let config_tokens = config_tokens(config, &parsed.calls, krate);

    // Input type: none, the single parameter's type, or a struct keyed by parameter name.
    let mut input_struct = TokenStream::new();
    let input_ty: TokenStream = match sig.inputs.len() {
        0 => quote!(#krate::__private::NoInput),
        1 => {
            let ty = &sig.inputs[0].ty;
            quote!(#ty)
        }
        _ => {
            let struct_name = format_ident!("__{}_input", fn_name);
            let idents = sig.inputs.iter().map(|i| &i.ident);
            let wire = sig.inputs.iter().map(|i| &i.wire_name);
            let tys = sig.inputs.iter().map(|i| &i.ty);
            let serde_path = format!(
                "{}::__private::serde",
                quote!(#krate).to_string().replace(' ', "")
            );
            let tuple_tys = sig.inputs.iter().map(|i| &i.ty);
            let tuple_tys_again = sig.inputs.iter().map(|i| &i.ty);
            let tuple_idents: Vec<_> = sig.inputs.iter().map(|i| &i.ident).collect();
            let from_tuple = quote! {
                impl ::core::convert::From<(#(#tuple_tys,)*)> for #struct_name {
                    fn from((#(#tuple_idents,)*): (#(#tuple_tys_again,)*)) -> Self {
                        #struct_name { #(#tuple_idents),* }
                    }
                }
            };
            input_struct = quote! {
                #from_tuple
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                #[derive(#krate::__private::serde::Serialize, #krate::__private::serde::Deserialize)]
                #[serde(crate = #serde_path)]
                #vis struct #struct_name {
                    #( #[serde(rename = #wire)] pub #idents: #tys, )*
                }
            };
            quote!(#struct_name)
        }
    };
    let output_ty = &sig.output;
    let error_ty: TokenStream = match &sig.error {
        Some(e) => quote!(#e),
        None => quote!(#krate::__private::NoError),
    };
    let state_ty: TokenStream = match &sig.state {
        Some(t) => quote!(#t),
        None => quote!(()),
    };

    let init_body = match (&parsed.init, &sig.state) {
        (Some(path), Some(state)) => {
            let text = quote!(#path).to_string().replace(' ', "");
            let span = SpanRange::of(path).start;
            quote_spanned!(span=> #krate::__private::init_state::<#state, _>(#text, #path))
        }
        (Some(path), None) => {
            let text = quote!(#path).to_string().replace(' ', "");
            let span = SpanRange::of(path).start;
            quote_spanned!(span=> #krate::__private::init_discard(#text, #path))
        }
        (None, _) => quote!(#krate::__private::init_none()),
    };

    let run_body = if sig.usable {
        let call_args = sig.args.iter().map(|a| match a {
            Arg::Ctx { by_ref: true } => quote!(&__ctx),
            Arg::Ctx { by_ref: false } => quote!(__ctx),
            Arg::State => quote!(&*__state),
            Arg::Input(i) if sig.inputs.len() == 1 => {
                let _ = i;
                quote!(__input)
            }
            Arg::Input(i) => {
                let id = &sig.inputs[*i].ident;
                quote!(__input.#id)
            }
        });
        let ret = if sig.error.is_some() {
            quote!(__result)
        } else {
            quote!(::core::result::Result::Ok(__result))
        };
        quote! {
            let _ = &__state;
            let __result = #fn_name(#(#call_args),*).await;
            #ret
        }
    } else {
        quote! {
            let _ = (__state, __ctx, __input);
            #[allow(unreachable_code)]
            let __never: ::core::result::Result<#output_ty, #error_ty> =
                ::core::unreachable!("only generated next to a compile error");
            #[allow(unreachable_code)]
            __never
        }
    };

    let caller_ms = config.execution_timeout_ms.map_or_else(
        || "none".to_string(),
        |ms| endpoint_config::group(i128::from(ms)),
    );
    let mut callee_checks = TokenStream::new();
    for callee in &parsed.calls {
        let span = SpanRange::of(callee).start;
        let callee_name = quote!(#callee).to_string().replace(' ', "");
        if callee.is_ident(fn_name) {
            callee_checks.extend(
                SpanRange::of(callee)
                    .error(format!(
                        "endpoint `{fn_name}` cannot call itself: its job would wait for a job of \
                         the same endpoint, and once every worker waits, none finishes\n\
                         help: split the work into a separate endpoint and call that"
                    ))
                    .to_compile_error(),
            );
            continue;
        }
        if config.allows(Lint::CalleeTimeout) {
            continue;
        }
        let below = format!(
            "endpoint `{fn_name}` (execution_timeout_ms = {caller_ms}) calls `{callee_name}`, whose \
             execution_timeout_ms is not below it: a callee must finish inside its caller's \
             ceiling. Lower `{callee_name}`'s below {caller_ms}, raise `{fn_name}`'s, or add \
             `allow(callee_timeout)` to `{fn_name}`"
        );
        let unbounded = format!(
            "endpoint `{fn_name}` (execution_timeout_ms = {caller_ms}) calls `{callee_name}`, which \
             has no execution timeout and could outlive its caller. Give `{callee_name}` an \
             execution_timeout_ms below {caller_ms}, or add `allow(callee_timeout)` to `{fn_name}`"
        );
        callee_checks.extend(quote_spanned! {span=>
            const _: () = ::core::assert!(
                #krate::__private::callee_bounded(
                    <#callee as #krate::__private::Endpoint>::CONFIG,
                    <#fn_name as #krate::__private::Endpoint>::CONFIG,
                ),
                #unbounded
            );
            const _: () = ::core::assert!(
                #krate::__private::callee_fits(
                    <#callee as #krate::__private::Endpoint>::CONFIG,
                    <#fn_name as #krate::__private::Endpoint>::CONFIG,
                ),
                #below
            );
        });
    }

    let methods = if sig.usable {
        typed_methods(fn_name, vis, name, sig, krate, &input_ty)
    } else {
        TokenStream::new()
    };

    let doc = format!(
        "The `{name}` endpoint: [`{fn_name}`](fn@{fn_name}) running on Runpod Serverless. \
         Its configuration is `<{fn_name} as Endpoint>::CONFIG`."
    );

    quote! {
        #input_struct

        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #fn_name {}

        impl #krate::__private::Endpoint for #fn_name {
            type Input = #input_ty;
            type Output = #output_ty;
            type Error = #error_ty;

            const NAME: &'static str = #name;
            const BUILD: &'static str = ::core::env!("CARGO_PKG_VERSION");
            const CONFIG: &'static #krate::__private::config::EndpointConfig = #config_tokens;
        }

        impl #krate::__private::Handler for #fn_name {
            type State = #state_ty;

            fn init() -> impl ::core::future::Future<
                Output = ::core::result::Result<Self::State, #krate::__private::InitError>,
            > + ::core::marker::Send {
                #init_body
            }

            #[allow(unused_variables, clippy::unit_arg)]
            fn run(
                __state: #krate::__private::Arc<Self::State>,
                __ctx: #krate::__private::Ctx,
                __input: Self::Input,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<Self::Output, Self::Error>,
            > + ::core::marker::Send {
                async move { #run_body }
            }
        }

        #methods

        #krate::__private::inventory::submit! {
            #krate::__private::Registration::of::<#fn_name>()
        }

        #callee_checks
    }
}

/// `call`, `call_with`, `submit` and `fan_out` on the endpoint's handle type.
fn typed_methods(
    fn_name: &syn::Ident,
    vis: &syn::Visibility,
    name: &str,
    sig: &HandlerSig,
    krate: &Path,
    input_ty: &TokenStream,
) -> TokenStream {
    let params: Vec<TokenStream> = sig
        .inputs
        .iter()
        .map(|i| {
            let (id, ty) = (&i.ident, &i.ty);
            quote!(#id: #ty)
        })
        .collect();
    let input = match sig.inputs.len() {
        0 => quote!(#krate::__private::NoInput),
        1 => {
            let id = &sig.inputs[0].ident;
            quote!(#id)
        }
        _ => {
            let ids = sig.inputs.iter().map(|i| &i.ident);
            quote!(#input_ty { #(#ids),* })
        }
    };
    let result = quote! {
        ::core::result::Result<
            <Self as #krate::__private::Endpoint>::Output,
            #krate::__private::CallError<<Self as #krate::__private::Endpoint>::Error>,
        >
    };
    let call_doc = format!(
        "Calls the `{name}` endpoint and waits for its result, within the caller's deadline; \
         retries transport failures, never the endpoint's own error."
    );
    let fan_doc = format!(
        "Calls the `{name}` endpoint once per input, at most 16 at once (`.concurrency(n)`); \
         `.await` gives one `Result` per input, in input order; `.fail_fast()` stops at the first \
         failure and cancels the rest."
    );
    let submit_doc = format!(
        "Submits a job to the `{name}` endpoint without waiting; the handle can wait, check, \
         cancel or stream it."
    );
    quote! {
        impl #fn_name {
            #[doc = #call_doc]
            #[allow(clippy::too_many_arguments)]
            #vis async fn call(
                caller: &impl #krate::__private::Caller,
                #(#params),*
            ) -> #result {
                #krate::__private::call::<Self>(caller, #input, ::core::option::Option::None).await
            }

            #[doc = #call_doc]
            #[allow(clippy::too_many_arguments)]
            #vis async fn call_with(
                caller: &impl #krate::__private::Caller,
                options: #krate::__private::CallOptions,
                #(#params),*
            ) -> #result {
                #krate::__private::call::<Self>(caller, #input, ::core::option::Option::Some(options)).await
            }

            #[doc = #submit_doc]
            #[allow(clippy::too_many_arguments)]
            #vis async fn submit(
                caller: &impl #krate::__private::Caller,
                #(#params),*
            ) -> ::core::result::Result<
                #krate::__private::JobHandle<Self>,
                #krate::__private::CallError<<Self as #krate::__private::Endpoint>::Error>,
            > {
                #krate::__private::submit::<Self>(caller, #input).await
            }

            #[doc = #fan_doc]
            #vis fn fan_out<I>(caller: &impl #krate::__private::Caller, inputs: I) -> #krate::__private::FanOut<Self>
            where
                I: ::core::iter::IntoIterator,
                I::Item: ::core::convert::Into<<Self as #krate::__private::Endpoint>::Input>,
            {
                #krate::__private::fan_out::<Self, I>(caller, inputs)
            }
        }
    }
}

fn cow_str(s: &str) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(#s))
}

fn cow_slice(items: Vec<TokenStream>) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(&[#(#items),*]))
}

/// The config as a `const` expression.
fn config_tokens(c: &EndpointConfig, calls: &[Path], krate: &Path) -> TokenStream {
    let cfg = quote!(#krate::__private::config);
    let name = cow_str(&c.name);
    let hardware = match &c.hardware {
        Hardware::Gpu {
            selection,
            count,
            min_cuda_version,
        } => {
            let items = selection
                .iter()
                .map(|g| match g {
                    GpuChoice::Any => quote!(#cfg::GpuChoice::Any),
                    GpuChoice::Pool(p) => {
                        let p = cow_str(p);
                        quote!(#cfg::GpuChoice::Pool(#p))
                    }
                    GpuChoice::Type(t) => {
                        let t = cow_str(t);
                        quote!(#cfg::GpuChoice::Type(#t))
                    }
                })
                .collect();
            let selection = cow_slice(items);
            let cuda = cow_str(min_cuda_version);
            quote!(#cfg::Hardware::Gpu { selection: #selection, count: #count, min_cuda_version: #cuda })
        }
        Hardware::Cpu { flavor } => {
            let flavor = cow_str(flavor);
            quote!(#cfg::Hardware::Cpu { flavor: #flavor })
        }
    };
    let (wmin, wmax) = (c.workers.min, c.workers.max);
    let idle = c.idle_timeout_s;
    let exec = match c.execution_timeout_ms {
        Some(ms) => quote!(::core::option::Option::Some(#ms)),
        None => quote!(::core::option::Option::None),
    };
    let concurrency = c.concurrency;
    let scaler = match c.scaler {
        Scaler::QueueDelay(v) => quote!(#cfg::Scaler::QueueDelay(#v)),
        Scaler::RequestCount(v) => quote!(#cfg::Scaler::RequestCount(#v)),
    };
    let datacenters = cow_slice(c.datacenters.iter().map(|d| cow_str(d)).collect());
    let volumes = cow_slice(
        c.volumes
            .iter()
            .map(|v| {
                let (n, s, dc) = (cow_str(&v.name), v.size_gb, cow_str(&v.datacenter));
                quote!(#cfg::NetworkVolume { name: #n, size_gb: #s, datacenter: #dc })
            })
            .collect(),
    );
    let env = cow_slice(
        c.env
            .iter()
            .map(|e| {
                let (k, v) = (cow_str(&e.key), cow_str(&e.value));
                quote!(#cfg::EnvVar { key: #k, value: #v })
            })
            .collect(),
    );
    let secrets = cow_slice(c.secrets.iter().map(|s| cow_str(s)).collect());
    let flashboot = c.flashboot;
    let min_vram = match c.min_vram_gb {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let interactive = c.interactive;
    let calls = cow_slice(
        calls
            .iter()
            .map(
                |p| quote!(::std::borrow::Cow::Borrowed(<#p as #krate::__private::Endpoint>::NAME)),
            )
            .collect(),
    );
    let has_init = c.has_init;
    let max_steps = match c.max_steps {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let allow = cow_slice(c.allow.iter().map(|a| cow_str(a)).collect());
    quote! {
        &#cfg::EndpointConfig {
            name: #name,
            hardware: #hardware,
            workers: #cfg::Workers { min: #wmin, max: #wmax },
            idle_timeout_s: #idle,
            execution_timeout_ms: #exec,
            concurrency: #concurrency,
            scaler: #scaler,
            datacenters: #datacenters,
            volumes: #volumes,
            env: #env,
            secrets: #secrets,
            flashboot: #flashboot,
            min_vram_gb: #min_vram,
            interactive: #interactive,
            calls: #calls,
            has_init: #has_init,
            max_steps: #max_steps,
            allow: #allow,
        }
    }
}
