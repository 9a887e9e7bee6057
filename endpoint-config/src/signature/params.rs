//! The handler's parameters: at most one `Ctx` (by value or `&`), at most one `&State` (only
//! with `init = ..`), at most one `Chunks<T>` (the job's stream of `T`), and the rest are the
//! job's input, each with a concrete type.

use syn::{FnArg, GenericArgument, Ident, Pat, PatType, PathArguments, Signature, Type};

use super::{Arg, InputParam, err};
use crate::diagnostic::Diagnostics;
use crate::parse::SpanRange;

/// The parameters, understood.
pub(super) struct Params {
    pub args: Vec<Arg>,
    pub inputs: Vec<InputParam>,
    pub state: Option<Type>,
    pub chunk: Option<Type>,
    pub usable: bool,
}

/// What one typed parameter is.
enum Kind<'a> {
    /// `ok` is false when it is reported (`&mut Ctx`) but still fills its place in the call.
    Ctx {
        by_ref: bool,
        ok: bool,
    },
    State(&'a Type),
    Chunks(&'a Type),
    Input {
        opaque: bool,
    },
    /// Reported; left out of the call.
    Rejected,
}

pub(super) fn read(sig: &Signature, has_init: bool, d: &mut Diagnostics<SpanRange>) -> Params {
    let mut p = Params {
        args: Vec::new(),
        inputs: Vec::new(),
        state: None,
        chunk: None,
        usable: true,
    };
    let mut ctx_seen = false;
    for (i, arg) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = arg else {
            // rustc already reports `self` outside an impl; a second error would only repeat it.
            p.usable = false;
            continue;
        };
        match classify(
            pt,
            has_init,
            ctx_seen,
            p.state.is_some(),
            p.chunk.is_some(),
            d,
        ) {
            Kind::Ctx { by_ref, ok } => {
                ctx_seen = true;
                p.usable &= ok;
                p.args.push(Arg::Ctx { by_ref });
            }
            Kind::State(ty) => {
                p.state = Some(ty.clone());
                p.args.push(Arg::State);
            }
            Kind::Chunks(ty) => {
                p.chunk = Some(ty.clone());
                p.args.push(Arg::Chunks);
            }
            Kind::Input { opaque } => {
                p.usable &= !opaque;
                p.args.push(Arg::Input(p.inputs.len()));
                p.inputs.push(input_param(pt, i, opaque));
            }
            Kind::Rejected => p.usable = false,
        }
    }
    if p.inputs.len() > 1 {
        p.usable &= check_input_names(sig, d);
    }
    p
}

/// Classifies one parameter, reporting what generated code cannot pass.
fn classify<'a>(
    pt: &'a PatType,
    has_init: bool,
    ctx_seen: bool,
    state_seen: bool,
    chunks_seen: bool,
    d: &mut Diagnostics<SpanRange>,
) -> Kind<'a> {
    let ty = &*pt.ty;
    let (is_ref, inner, mutable) = match ty {
        Type::Reference(r) => (true, &*r.elem, r.mutability.is_some()),
        other => (false, other, false),
    };
    let reject = |d: &mut Diagnostics<SpanRange>, msg: &str, help: &str| {
        err(d, ty, msg, help);
        Kind::Rejected
    };
    if is_ctx(inner) {
        let mut ok = true;
        if mutable {
            ok = false;
            err(
                d,
                ty,
                "the job context cannot be taken as `&mut Ctx`",
                "take `ctx: &Ctx` or `ctx: Ctx`",
            );
        }
        if ctx_seen {
            return reject(
                d,
                "an endpoint handler takes at most one context parameter",
                "remove this parameter; `Ctx` is cheap to clone if you need it twice",
            );
        }
        return Kind::Ctx { by_ref: is_ref, ok };
    }
    if let Some(chunk) = chunks_of(inner) {
        if is_ref {
            return reject(
                d,
                "the job's stream is taken by value",
                "write `chunks: Chunks<T>`",
            );
        }
        if chunks_seen {
            return reject(
                d,
                "an endpoint handler takes at most one `Chunks<T>` parameter: a job has one stream",
                "remove this parameter; stream one type (an enum, if chunks differ)",
            );
        }
        return Kind::Chunks(chunk);
    }
    if contains_impl_trait(ty) {
        err(
            d,
            ty,
            "an endpoint parameter cannot be `impl Trait`: the input travels as JSON into a \
             concrete type",
            "name a concrete type that implements `serde::Deserialize`",
        );
        return Kind::Input { opaque: true };
    }
    if !is_ref {
        return Kind::Input { opaque: false };
    }
    if mutable {
        return reject(
            d,
            "the per-worker state is shared by the worker's jobs and cannot be borrowed mutably",
            "take `&State` and use interior mutability (a `Mutex`, an atomic) for what changes",
        );
    }
    if !has_init {
        return reject(
            d,
            "a reference parameter receives the per-worker state built by `init = ..`, and this \
             endpoint has no `init`",
            "add `init = load_state` (a function returning `Result<State, E>`), or take this \
             parameter by value as part of the input",
        );
    }
    if state_seen {
        return reject(
            d,
            "an endpoint handler takes at most one per-worker state parameter",
            "group the state into one struct returned by `init`",
        );
    }
    Kind::State(inner)
}

fn input_param(pt: &PatType, index: usize, opaque: bool) -> InputParam {
    let ident = match &*pt.pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
        other => Ident::new(&format!("__input{index}"), SpanRange::of(other).start),
    };
    let wire_name = ident.to_string().trim_start_matches("r#").to_string();
    InputParam {
        ident,
        wire_name,
        ty: (*pt.ty).clone(),
        opaque,
    }
}

/// With several inputs, each is a plain name (the JSON object's key). True when all are.
fn check_input_names(sig: &Signature, d: &mut Diagnostics<SpanRange>) -> bool {
    let mut ok = true;
    let inputs = sig.inputs.iter().filter_map(|a| match a {
        FnArg::Typed(pt) if !matches!(&*pt.ty, Type::Reference(_)) && !is_ctx(&pt.ty) => Some(pt),
        _ => None,
    });
    for arg in inputs {
        if !matches!(&*arg.pat, Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none()) {
            ok = false;
            err(
                d,
                &arg.pat,
                "with several input parameters, each needs a plain name: the input travels as a \
                 JSON object keyed by parameter name",
                "name the parameter, e.g. `pair: (u32, u32)`, and destructure it in the body",
            );
        }
    }
    ok
}

/// `Ctx`, `endpoint_sdk::Ctx`, or either in parentheses.
pub(super) fn is_ctx(ty: &Type) -> bool {
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

/// The `T` of `Chunks<T>` (the last path segment named `Chunks`, with one type argument).
pub(super) fn chunks_of(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Chunks" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.iter().collect::<Vec<_>>()[..] {
                [GenericArgument::Type(t)] => Some(t),
                _ => None,
            }
        }
        Type::Group(g) => chunks_of(&g.elem),
        Type::Paren(p) => chunks_of(&p.elem),
        _ => None,
    }
}

/// Whether `impl Trait` appears anywhere in `ty`.
pub(super) fn contains_impl_trait(ty: &Type) -> bool {
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
