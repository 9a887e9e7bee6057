//! What the handler function's signature means: which parameter is the `Ctx`, which receives
//! the per-worker state, which are the job's input, and what the function returns.

use endpoint_config::Diagnostics;
use endpoint_config::parse::SpanRange;
use proc_macro2::Span;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

/// A parameter that is part of the job's input.
pub struct InputParam {
    /// Its name as written (`r#type` stays raw, so it can name a struct field).
    pub ident: Ident,
    /// The key it travels under when there are several (`type` for `r#type`).
    pub wire_name: String,
    /// Its type.
    pub ty: Type,
}

/// One argument of the call the generated code makes, in the function's parameter order.
pub enum Arg {
    /// The job context, by value or by reference.
    Ctx { by_ref: bool },
    /// The per-worker state, by reference.
    State,
    /// The input parameter at this index of [`HandlerSig::inputs`].
    Input(usize),
}

/// The handler's signature, understood.
pub struct HandlerSig {
    /// Arguments in order.
    pub args: Vec<Arg>,
    /// Input parameters.
    pub inputs: Vec<InputParam>,
    /// The type behind `&T` when the handler takes its per-worker state.
    pub state: Option<Type>,
    /// The success type.
    pub output: Type,
    /// The error type, when the function returns `Result<_, E>`.
    pub error: Option<Type>,
    /// Whether the signature can be called by generated code.
    pub usable: bool,
}

fn is_ctx(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Ctx" && s.arguments.is_empty()),
        Type::Group(g) => is_ctx(&g.elem),
        Type::Paren(p) => is_ctx(&p.elem),
        _ => false,
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(_) => true,
        Type::Reference(r) => contains_impl_trait(&r.elem),
        Type::Paren(p) => contains_impl_trait(&p.elem),
        Type::Group(g) => contains_impl_trait(&g.elem),
        Type::Tuple(t) => t.elems.iter().any(contains_impl_trait),
        Type::Path(p) => p.path.segments.iter().any(|s| match &s.arguments {
            PathArguments::AngleBracketed(a) => a.args.iter().any(|g| match g {
                GenericArgument::Type(t) => contains_impl_trait(t),
                _ => false,
            }),
            _ => false,
        }),
        _ => false,
    }
}

/// Reads the handler's signature. Problems go into `d`.
pub fn analyze(item: &ItemFn, has_init: bool, d: &mut Diagnostics<SpanRange>) -> HandlerSig {
    let sig = &item.sig;
    let mut usable = true;
    let err =
        |d: &mut Diagnostics<SpanRange>, tokens: &dyn quote::ToTokens, msg: String, help: &str| {
            d.error(SpanRange::of(&tokens.to_token_stream()), msg)
                .with_help(help.to_string());
        };

    if sig.asyncness.is_none() {
        usable = false;
        err(
            d,
            &sig.fn_token,
            "an endpoint handler must be an `async fn`".into(),
            "write `async fn ..`; run blocking work inside it with `tokio::task::spawn_blocking`",
        );
    }
    if let Some(c) = &sig.constness {
        usable = false;
        err(
            d,
            c,
            "an endpoint handler cannot be a `const fn`".into(),
            "remove `const`",
        );
    }
    if let syn::Safety::Unsafe(u) = &sig.safety {
        usable = false;
        err(
            d,
            u,
            "an endpoint handler cannot be `unsafe`".into(),
            "remove `unsafe`; call unsafe code inside the handler",
        );
    }
    if let Some(abi) = &sig.abi {
        usable = false;
        err(
            d,
            abi,
            "an endpoint handler cannot have an `extern` ABI".into(),
            "remove the ABI",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        usable = false;
        err(
            d,
            &sig.generics,
            "an endpoint handler cannot be generic: its input, output and error types travel as \
             JSON and must be concrete"
                .into(),
            "replace the type parameters with concrete types",
        );
    }
    if let Some(v) = &sig.variadic {
        usable = false;
        err(
            d,
            v,
            "an endpoint handler cannot be variadic".into(),
            "remove `...`",
        );
    }

    let mut args = Vec::new();
    let mut inputs: Vec<InputParam> = Vec::new();
    let mut state: Option<Type> = None;
    let mut ctx_seen: Option<Span> = None;
    for (i, arg) in sig.inputs.iter().enumerate() {
        let pt = match arg {
            FnArg::Receiver(_) => {
                // rustc already reports `self` outside an impl; a second error would only repeat it.
                usable = false;
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let ty = &*pt.ty;
        let (is_ref, inner, mutable) = match ty {
            Type::Reference(r) => (true, &*r.elem, r.mutability.is_some()),
            other => (false, other, false),
        };
        if is_ctx(inner) {
            if mutable {
                usable = false;
                err(
                    d,
                    ty,
                    "the job context cannot be taken as `&mut Ctx`".into(),
                    "take `ctx: &Ctx` or `ctx: Ctx`",
                );
            }
            if ctx_seen.is_some() {
                usable = false;
                err(
                    d,
                    ty,
                    "an endpoint handler takes at most one context parameter".into(),
                    "remove this parameter; `Ctx` is cheap to clone if you need it twice",
                );
                continue;
            }
            ctx_seen = Some(Span::call_site());
            args.push(Arg::Ctx { by_ref: is_ref });
            continue;
        }
        if contains_impl_trait(ty) {
            usable = false;
            err(
                d,
                ty,
                "an endpoint parameter cannot be `impl Trait`: the input travels as JSON into a \
                 concrete type"
                    .into(),
                "name a concrete type that implements `serde::Deserialize`",
            );
            continue;
        }
        if is_ref {
            if mutable {
                usable = false;
                err(
                    d,
                    ty,
                    "the per-worker state is shared by the worker's jobs and cannot be borrowed \
                     mutably"
                        .into(),
                    "take `&State` and use interior mutability (a `Mutex`, an atomic) for what changes",
                );
                continue;
            }
            if !has_init {
                usable = false;
                err(
                    d,
                    ty,
                    "a reference parameter receives the per-worker state built by `init = ..`, \
                     and this endpoint has no `init`"
                        .into(),
                    "add `init = load_state` (a function returning `Result<State, E>`), or take \
                     this parameter by value as part of the input",
                );
                continue;
            }
            if state.is_some() {
                usable = false;
                err(
                    d,
                    ty,
                    "an endpoint handler takes at most one per-worker state parameter".into(),
                    "group the state into one struct returned by `init`",
                );
                continue;
            }
            state = Some(inner.clone());
            args.push(Arg::State);
            continue;
        }
        let ident = match &*pt.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            other => Ident::new(&format!("__input{i}"), SpanRange::of(other).start),
        };
        let wire_name = ident.to_string().trim_start_matches("r#").to_string();
        args.push(Arg::Input(inputs.len()));
        inputs.push(InputParam {
            ident,
            wire_name,
            ty: ty.clone(),
        });
    }
    if inputs.len() > 1 {
        let input_params = sig.inputs.iter().filter_map(|a| match a {
            FnArg::Typed(pt) if !matches!(&*pt.ty, Type::Reference(_)) && !is_ctx(&pt.ty) => {
                Some(pt)
            }
            _ => None,
        });
        for arg in input_params {
            if !matches!(&*arg.pat, Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none()) {
                usable = false;
                err(
                    d,
                    &arg.pat,
                    "with several input parameters, each needs a plain name: the input travels as \
                     a JSON object keyed by parameter name"
                        .into(),
                    "name the parameter, e.g. `pair: (u32, u32)`, and destructure it in the body",
                );
            }
        }
    }

    let (output, error) = match &sig.output {
        ReturnType::Default => (syn::parse_quote!(()), None),
        ReturnType::Type(_, ty) => {
            if contains_impl_trait(ty) {
                usable = false;
                err(
                    d,
                    ty,
                    "an endpoint handler cannot return `impl Trait`: the output travels as JSON \
                     from a concrete type"
                        .into(),
                    "return a concrete type that implements `serde::Serialize`",
                );
                (syn::parse_quote!(()), None)
            } else {
                split_result(ty, d, &mut usable)
            }
        }
    };

    HandlerSig {
        args,
        inputs,
        state,
        output,
        error,
        usable,
    }
}

/// `Result<O, E>` into `(O, Some(E))`; any other type `T` into `(T, None)`.
fn split_result(
    ty: &Type,
    d: &mut Diagnostics<SpanRange>,
    usable: &mut bool,
) -> (Type, Option<Type>) {
    if let Type::Path(p) = ty
        && p.qself.is_none()
        && let Some(last) = p.path.segments.last()
        && last.ident == "Result"
    {
        if let PathArguments::AngleBracketed(a) = &last.arguments {
            let tys: Vec<&Type> = a
                .args
                .iter()
                .filter_map(|g| match g {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect();
            if tys.len() == 2 {
                return (tys[0].clone(), Some(tys[1].clone()));
            }
        }
        *usable = false;
        d.error(
            SpanRange::of(ty),
            "write the handler's result as `Result<Output, Error>` with both types spelled out",
        )
        .with_help(
            "callers receive the error value itself, so its type must implement `Serialize`, \
             `Deserialize` and `Display` (e.g. a `thiserror` enum with serde derives, or `String`)",
        );
        return (syn::parse_quote!(()), None);
    }
    (ty.clone(), None)
}
