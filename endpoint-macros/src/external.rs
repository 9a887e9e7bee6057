//! `#[external(..)]` on a unit struct: an endpoint not built with this SDK (see
//! `endpoint_sdk::external`). Generates `AnyEndpoint` (so `calls = [..]` can name it and its
//! ceiling is checked against the caller's), `External` (how to reach it), its registration,
//! and `name::chat(&caller)`.

use endpoint_config::tokens::config_expr;
use endpoint_config::{EndpointConfig, is_valid_name, limits};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, ItemStruct, Lit, Meta, Path, Token};

/// The keys `#[external]` takes, with an example each.
const KEYS: &[(&str, &str)] = &[
    ("api", "api = openai"),
    ("name", "name = \"reasoning-model\""),
    ("id", "id = env(\"LLM_ENDPOINT_ID\") or id = \"abc123xyz\""),
    ("url", "url = env(\"LLM_BASE_URL\")"),
    ("key", "key = env(\"LLM_API_KEY\")"),
    ("model", "model = \"meta-llama/Llama-3.3-70B-Instruct\""),
    ("execution_timeout_ms", "execution_timeout_ms = 100_000"),
    ("crate", "crate = \"::endpoint_sdk\""),
];

/// What the attribute says.
struct External {
    name: Option<(String, Span)>,
    id: Option<TokenStream>,
    url: Option<TokenStream>,
    key: Option<TokenStream>,
    model: Option<TokenStream>,
    timeout_ms: Option<u64>,
    krate: Option<Path>,
}

/// Expands `#[external(args)] struct name;`.
pub fn external(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: ItemStruct = match syn::parse2::<ItemStruct>(item.clone()) {
        Ok(s) if matches!(s.fields, syn::Fields::Unit) && s.generics.params.is_empty() => s,
        _ => {
            let e = syn::Error::new(
                Span::call_site(),
                "`#[external(..)]` goes on a unit struct: `pub struct reasoning_model;` (the \
                 endpoint lives elsewhere; this names it)",
            );
            let mut out = item;
            out.extend(e.to_compile_error());
            return out;
        }
    };
    // Named like the endpoint, as `#[endpoint]`'s handle types are.
    item.attrs
        .push(syn::parse_quote!(#[allow(non_camel_case_types)]));
    let mut errors: Vec<syn::Error> = Vec::new();
    let parsed = parse(args, &mut errors);
    let mut out = quote!(#item);
    for e in errors {
        out.extend(e.to_compile_error());
    }
    out.extend(generate(&item, &parsed));
    out
}

fn parse(args: TokenStream, errors: &mut Vec<syn::Error>) -> External {
    let mut ext = External {
        name: None,
        id: None,
        url: None,
        key: None,
        model: None,
        timeout_ms: None,
        krate: None,
    };
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(m) => m,
        Err(e) => {
            errors.push(e);
            return ext;
        }
    };
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            errors.push(syn::Error::new(
                meta.span(),
                format!("expected `key = value`; the keys: {}", examples()),
            ));
            continue;
        };
        let key = nv
            .path
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        let value = &nv.value;
        let result = match key.as_str() {
            "api" => api(value),
            "name" => string(value).map(|(s, span)| ext.name = Some((s, span))),
            "id" => setting(value).map(|t| ext.id = Some(t)),
            "url" => setting(value).map(|t| ext.url = Some(t)),
            "key" => setting(value).map(|t| ext.key = Some(t)),
            "model" => setting(value).map(|t| ext.model = Some(t)),
            "execution_timeout_ms" => timeout(value).map(|ms| ext.timeout_ms = Some(ms)),
            "crate" => string(value).and_then(|(s, span)| {
                syn::parse_str::<Path>(&s)
                    .map(|p| ext.krate = Some(p))
                    .map_err(|_| {
                        syn::Error::new(span, "`crate` takes a path, e.g. \"::endpoint_sdk\"")
                    })
            }),
            other => Err(syn::Error::new(
                nv.path.span(),
                format!(
                    "unknown key `{other}` of `#[external]`{}; the keys: {}",
                    endpoint_key_note(other),
                    examples()
                ),
            )),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    ext
}

/// What to say about an unknown key: the nearest key of `#[external]`, or why a key of
/// `#[endpoint]` is not one.
fn endpoint_key_note(key: &str) -> String {
    if let Some(near) = endpoint_config::did_you_mean(key, KEYS.iter().map(|(k, _)| *k)) {
        return format!(" (did you mean `{near}`?)");
    }
    if endpoint_config::keys::find(key).is_some() {
        format!(
            " (`{key}` is a key of `#[endpoint]`: an endpoint built elsewhere is configured \
             where it is deployed)"
        )
    } else {
        String::new()
    }
}

fn examples() -> String {
    KEYS.iter()
        .map(|(_, e)| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn api(value: &Expr) -> syn::Result<()> {
    match value {
        Expr::Path(p) if p.path.is_ident("openai") => Ok(()),
        other => Err(syn::Error::new(
            other.span(),
            "unknown `api`: `api = openai` (OpenAI's chat completions, as worker-vllm's \
             `/openai/v1` route, vLLM, SGLang or TGI serve them) is the one there is",
        )),
    }
}

fn string(value: &Expr) -> syn::Result<(String, Span)> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok((s.value(), s.span())),
        other => Err(syn::Error::new(other.span(), "expected a string literal")),
    }
}

/// `"literal"` or `env("VAR", ..)`, as a `Setting` expression (without the crate path).
fn setting(value: &Expr) -> syn::Result<TokenStream> {
    let help = "expected a string (`\"abc123\"`) or the environment variables to read it from \
                (`env(\"LLM_BASE_URL\")`, or several: `env(\"LLM_BASE_URL\", \"OPENAI_BASE_URL\")`)";
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if !s.value().trim().is_empty() => Ok(quote!(Literal(#s))),
        Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident("env")) => {
            let mut vars = Vec::new();
            for arg in &call.args {
                match arg {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) if !s.value().is_empty()
                        && s.value()
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                    {
                        vars.push(s.clone());
                    }
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`env(..)` takes variable names as string literals, e.g. \
                             `env(\"LLM_BASE_URL\")`",
                        ));
                    }
                }
            }
            if vars.is_empty() {
                return Err(syn::Error::new(call.span(), help));
            }
            Ok(quote!(Env(&[#(#vars),*])))
        }
        other => Err(syn::Error::new(other.span(), help)),
    }
}

fn timeout(value: &Expr) -> syn::Result<u64> {
    let range = limits::EXECUTION_TIMEOUT_MS;
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let ms: i128 = i.base10_parse()?;
            if range.contains(&ms) {
                Ok(ms as u64)
            } else {
                Err(syn::Error::new(
                    i.span(),
                    format!(
                        "execution_timeout_ms = {ms} is outside the platform's {} ..= {} ms",
                        range.start(),
                        range.end()
                    ),
                ))
            }
        }
        other => Err(syn::Error::new(
            other.span(),
            "expected milliseconds, e.g. `execution_timeout_ms = 100_000`",
        )),
    }
}

fn generate(item: &ItemStruct, ext: &External) -> TokenStream {
    let ident = &item.ident;
    let vis = &item.vis;
    let krate: Path = ext
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::endpoint_sdk));
    let p = quote!(#krate::__private);
    let (name, name_span) = ext.name.clone().unwrap_or_else(|| {
        (
            ident.to_string().trim_start_matches("r#").to_string(),
            ident.span(),
        )
    });
    let mut out = TokenStream::new();
    if !is_valid_name(&name) {
        out.extend(
            syn::Error::new(
                name_span,
                format!(
                    "`{name}` is not a valid endpoint name: ASCII letters, digits, `-` and `_`, \
                     at most {} characters; give `name = \"..\"`",
                    limits::NAME_LEN
                ),
            )
            .to_compile_error(),
        );
    }
    // The endpoint is not deployed from here: only its name and ceiling matter to callers.
    let mut config = EndpointConfig::new(name.clone());
    config.execution_timeout_ms = ext.timeout_ms;
    config.plain_input = true;
    let config = config_expr(&config, &quote!(#p::config), &[]);
    let opt = |s: &Option<TokenStream>| match s {
        Some(t) => quote!(::core::option::Option::Some(#p::Setting::#t)),
        None => quote!(::core::option::Option::None),
    };
    let (id, url, key, model) = (opt(&ext.id), opt(&ext.url), opt(&ext.key), opt(&ext.model));
    let chat_doc = format!(
        "A chat request to `{name}`, in `caller`'s scope: a step of its `max_steps`, within its \
         deadline, in its trace, streamed. `caller` must declare `{name}` in `calls = [..]`."
    );
    out.extend(quote! {
        impl #p::AnyEndpoint for #ident {
            const NAME: &'static str = #name;
            const CONFIG: &'static #p::config::EndpointConfig = #config;
        }

        impl #p::External for #ident {
            const SPEC: #p::ExternalSpec = #p::ExternalSpec {
                name: #name,
                api: #p::ExternalApi::OpenAi,
                id: #id,
                url: #url,
                key: #key,
                model: #model,
            };
        }

        #p::inventory::submit! { #p::ExternalRegistration::of::<#ident>() }

        impl #ident {
            #[doc = #chat_doc]
            #vis fn chat(caller: &impl #p::Caller) -> #p::ChatRequest {
                #p::ChatRequest::new::<#ident>(caller)
            }

            /// How this endpoint is declared; `SPEC.address()` says where its requests go now.
            #vis const SPEC: #p::ExternalSpec = <#ident as #p::External>::SPEC;
        }
    });
    out
}
