//! A load-balancing endpoint's function: a plain `fn` that builds the worker's HTTP app (an
//! axum `Router`) once per worker, taking the state `init = ..` built (`Arc<State>` or
//! `&State`) or nothing. Its routes are read from its body where they are literal paths, so
//! the rules can refuse one that the health check would shadow.

use proc_macro2::{Delimiter, Group, TokenTree};
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Signature, Type};

use super::err;
use super::params::{chunks_of, is_ctx};
use crate::diagnostic::Diagnostics;
use crate::parse::SpanRange;
use crate::spec::{Name, Spanned};

/// How the app builder receives the worker's state.
pub enum AppState {
    /// `state: Arc<T>`: the `T`.
    Arc(Type),
    /// `state: &T`: the `T`.
    Ref(Type),
}

/// The app builder's signature, understood.
pub struct AppSig {
    /// The state parameter, if the builder takes one.
    pub state: Option<AppState>,
    /// Whether generated code can call it. When it cannot, an error says why.
    pub usable: bool,
}

impl AppSig {
    /// The state's type, when the builder takes one.
    pub fn state_type(&self) -> Option<&Type> {
        match &self.state {
            Some(AppState::Arc(t) | AppState::Ref(t)) => Some(t),
            None => None,
        }
    }
}

/// The return type's range when the function returns a `Router` (its last path segment): the
/// mark of a load-balancing endpoint.
pub fn returns_router(sig: &Signature) -> Option<SpanRange> {
    let ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    match &**ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .filter(|s| s.ident == "Router")
            .map(|_| SpanRange::of(ty)),
        _ => None,
    }
}

/// Reads an app builder's signature. Problems go into `d`.
pub fn analyze_app(sig: &Signature, has_init: bool, d: &mut Diagnostics<SpanRange>) -> AppSig {
    let mut usable = check_qualifiers(sig, d);
    let mut state = None;
    for arg in &sig.inputs {
        let FnArg::Typed(pt) = arg else {
            usable = false;
            continue;
        };
        let ty = &*pt.ty;
        match read_param(ty, has_init, state.is_some(), d) {
            Some(s) => state = Some(s),
            None => usable = false,
        }
    }
    AppSig { state, usable }
}

fn check_qualifiers(sig: &Signature, d: &mut Diagnostics<SpanRange>) -> bool {
    let mut ok = true;
    if let Some(a) = &sig.asyncness {
        ok = false;
        err(
            d,
            a,
            "a load-balancing endpoint's function is a plain `fn`: it builds the worker's \
             `Router` once, after `init`",
            "remove `async`; do async setup (loading a model, connecting) in `init = ..`, and \
             take its state here as `Arc<State>`",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        ok = false;
        err(
            d,
            &sig.generics,
            "a load-balancing endpoint's function cannot be generic",
            "replace the type parameters with concrete types",
        );
    }
    if sig.constness.is_some() || sig.abi.is_some() || !matches!(sig.safety, syn::Safety::Default) {
        ok = false;
        err(
            d,
            &sig.fn_token,
            "a load-balancing endpoint's function is a plain `fn` (not `const`, `unsafe` or \
             `extern`)",
            "write `fn app(..) -> Router { .. }`",
        );
    }
    ok
}

/// The state parameter, or the error for anything else.
fn read_param(
    ty: &Type,
    has_init: bool,
    seen: bool,
    d: &mut Diagnostics<SpanRange>,
) -> Option<AppState> {
    let inner = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    let reject = |d: &mut Diagnostics<SpanRange>, msg: &str, help: &str| {
        err(d, ty, msg, help);
        None
    };
    if is_ctx(inner) {
        return reject(
            d,
            "a `Ctx` belongs to one request, and this function builds the app once per worker",
            "take `ctx: Ctx` in a route handler instead (`async fn turn(ctx: Ctx, ..)`): it is \
             an axum extractor there",
        );
    }
    if chunks_of(inner).is_some() {
        return reject(
            d,
            "a load-balancing endpoint streams through its responses, not `Chunks<T>`",
            "answer with server-sent events (`axum::response::Sse`) or a streamed body",
        );
    }
    if !has_init {
        return reject(
            d,
            "a load-balancing endpoint's function takes the worker's state from `init = ..`, \
             and this endpoint has no `init`",
            "add `init = load_state` (a function returning `Result<State, E>`), or remove \
             this parameter",
        );
    }
    if seen {
        return reject(
            d,
            "a load-balancing endpoint's function takes one parameter: the worker's state",
            "group the state into one struct returned by `init`",
        );
    }
    match ty {
        Type::Reference(r) if r.mutability.is_none() => Some(AppState::Ref((*r.elem).clone())),
        _ => match arc_of(ty) {
            Some(t) => Some(AppState::Arc(t.clone())),
            None => reject(
                d,
                "the worker's state reaches the app as `Arc<State>` (or `&State` to copy parts \
                 of it)",
                "write `state: Arc<State>`: the app's routes can hold it",
            ),
        },
    }
}

/// The `T` of `Arc<T>`.
fn arc_of(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    if last.ident != "Arc" {
        return None;
    }
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(t)] => Some(t),
        _ => None,
    }
}

/// The literal paths the body routes: the first argument of every `.route("..", ..)` and
/// `.route_service("..", ..)` whose path is a string literal.
pub fn literal_routes(body: &Group) -> Vec<Name<SpanRange>> {
    let mut out = Vec::new();
    collect_routes(body, &mut out);
    out
}

fn collect_routes(group: &Group, out: &mut Vec<Name<SpanRange>>) {
    let tokens: Vec<TokenTree> = group.stream().into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if id == "route" || id == "route_service" => {
                if let Some(TokenTree::Group(args)) = tokens.get(i + 1)
                    && args.delimiter() == Delimiter::Parenthesis
                    && let Some(TokenTree::Literal(lit)) = args.stream().into_iter().next()
                    && let Ok(s) = syn::parse_str::<syn::LitStr>(&lit.to_string())
                {
                    out.push(Spanned::new(s.value(), SpanRange::single(lit.span())));
                }
            }
            TokenTree::Group(g) => collect_routes(g, out),
            _ => {}
        }
    }
}
