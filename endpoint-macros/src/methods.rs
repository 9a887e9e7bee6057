//! The typed methods on the handle type: `call`, `submit`, `stream` (each also `_with` options),
//! `job` and `fan_out`, taking the handler's own input parameters. They are generated for every signature: when it is
//! unusable (already reported), with bodies that never run, so call sites get no second error.

use endpoint_config::signature::HandlerSig;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Ident, Path, Visibility};

/// `impl fn_name { call, call_with, submit, submit_with, stream, stream_with, job, fan_out }`.
pub fn typed(
    fn_name: &Ident,
    vis: &Visibility,
    name: &str,
    sig: &HandlerSig,
    krate: &Path,
    input_ty: &TokenStream,
) -> TokenStream {
    let ids: Vec<_> = sig.inputs.iter().map(|i| &i.ident).collect();
    let tys: Vec<_> = sig.inputs.iter().map(|i| &i.ty).collect();
    let params = quote!(#(#ids: #tys),*);
    let [
        call,
        call_with,
        submit,
        submit_with,
        fan_out,
        stream,
        stream_with,
    ] = bodies(sig, krate, input_ty);
    let fan_out_bound = if sig.usable {
        quote!(I::Item: ::core::convert::Into<<Self as #krate::__private::Endpoint>::Input>,)
    } else {
        TokenStream::new()
    };
    let result = quote!(#krate::__private::CallResult<Self>);
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
    let stream_doc = format!(
        "Calls the `{name}` endpoint and reads its chunks as they are written: a \
         `futures::Stream` of its typed chunks (the job is submitted on first poll), then \
         `.output().await` for its result. Dropping the stream before the job ends cancels it."
    );
    let caller = quote!(caller: &impl #krate::__private::Caller);
    let options = quote!(options: #krate::__private::CallOptions);
    quote! {
        #[allow(unused_variables, clippy::too_many_arguments)]
        impl #fn_name {
            #[doc = #call_doc]
            #vis async fn call(#caller, #params) -> #result { #call }

            #[doc = #call_doc]
            #vis async fn call_with(#caller, #options, #params) -> #result { #call_with }

            #[doc = #submit_doc]
            #vis async fn submit(#caller, #params) -> #krate::__private::SubmitResult<Self> { #submit }

            #[doc = #submit_doc]
            #vis async fn submit_with(#caller, #options, #params) -> #krate::__private::SubmitResult<Self> { #submit_with }

            #[doc = #stream_doc]
            #vis fn stream(#caller, #params) -> #krate::__private::CallStream<Self> { #stream }

            #[doc = #stream_doc]
            #vis fn stream_with(#caller, #options, #params) -> #krate::__private::CallStream<Self> { #stream_with }

            /// Finds a job of this endpoint again by its id (after a restart, from another process): wait for it, check it, cancel it or stream it.
            #vis fn job(#caller, id: impl ::core::convert::Into<::std::string::String>) -> #krate::__private::JobHandle<Self> { #krate::__private::attach::<Self>(caller, id) }

            #[doc = #fan_doc]
            #vis fn fan_out<I>(#caller, inputs: I) -> #krate::__private::FanOut<Self>
            where I: ::core::iter::IntoIterator, #fan_out_bound
            { #fan_out }
        }
    }
}

/// The bodies of `call`, `call_with`, `submit`, `submit_with`, `fan_out`, `stream` and
/// `stream_with`; ones that never run when the signature is unusable.
fn bodies(sig: &HandlerSig, krate: &Path, input_ty: &TokenStream) -> [TokenStream; 7] {
    if !sig.usable {
        let never = quote!(::core::unreachable!(
            "only generated next to a compile error"
        ));
        return std::array::from_fn(|_| never.clone());
    }
    let input = match &sig.inputs[..] {
        [] => quote!(#krate::__private::NoInput),
        [only] => only.ident.to_token_stream(),
        several => {
            let ids = several.iter().map(|i| &i.ident);
            quote!(#input_ty { #(#ids),* })
        }
    };
    let (none, some) = (
        quote!(::core::option::Option::None),
        quote!(::core::option::Option::Some(options)),
    );
    [
        quote!(#krate::__private::call::<Self>(caller, #input, #none).await),
        quote!(#krate::__private::call::<Self>(caller, #input, #some).await),
        quote!(#krate::__private::submit::<Self>(caller, #input, #none).await),
        quote!(#krate::__private::submit::<Self>(caller, #input, #some).await),
        quote!(#krate::__private::fan_out::<Self, I>(caller, inputs)),
        quote!(#krate::__private::stream::<Self>(caller, #input, #none)),
        quote!(#krate::__private::stream::<Self>(caller, #input, #some)),
    ]
}
