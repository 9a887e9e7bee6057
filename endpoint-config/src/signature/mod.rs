//! What a handler's signature means (feature `syn`): which parameter is the `Ctx`, which
//! receives the per-worker state, which are the job's input, and what the function returns;
//! with an error, spanned on the offending tokens, for every signature generated code cannot
//! call. The macro reads the item with [`parse_handler`] and the signature with [`analyze`];
//! a function returning a `Router` ([`returns_router`]) is a load-balancing endpoint's app
//! builder, read with [`analyze_app`].

mod app;
mod item;
mod output;
mod params;
#[cfg(test)]
mod tests;

use syn::{Ident, Signature, Type};

use crate::diagnostic::Diagnostics;
use crate::parse::SpanRange;

pub use app::{AppSig, AppState, analyze_app, literal_routes, returns_router};
pub use item::{HandlerFn, parse_handler};

/// A parameter that is part of the job's input.
pub struct InputParam {
    /// Its name as written (`r#type` stays raw, so it can name a struct field).
    pub ident: Ident,
    /// The key it travels under when there are several (`type` for `r#type`).
    pub wire_name: String,
    /// Its type.
    pub ty: Type,
    /// Whether its type is `impl Trait` somewhere (an error: the input needs a concrete type).
    pub opaque: bool,
}

/// One argument of the call the generated code makes, in the function's parameter order.
pub enum Arg {
    /// The job context, by value or by reference.
    Ctx {
        /// `&Ctx` rather than `Ctx`.
        by_ref: bool,
    },
    /// The per-worker state, by reference.
    State,
    /// The job's stream of chunks (`Chunks<T>`).
    Chunks,
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
    /// The `T` of a `Chunks<T>` parameter: what the handler streams.
    pub chunk: Option<Type>,
    /// The success type.
    pub output: Type,
    /// The error type, when the function returns `Result<_, E>`.
    pub error: Option<Type>,
    /// Whether generated code can call the function. When it cannot, an error says why, and
    /// the macro still generates the handle type and its methods so call sites compile.
    pub usable: bool,
}

impl HandlerSig {
    /// Whether the input is a type generated code can name (no parameter is `impl Trait`).
    pub fn input_is_concrete(&self) -> bool {
        !self.inputs.iter().any(|i| i.opaque)
    }
}

/// Reads the handler's signature. Problems go into `d`.
pub fn analyze(sig: &Signature, has_init: bool, d: &mut Diagnostics<SpanRange>) -> HandlerSig {
    let mut usable = check_qualifiers(sig, d);
    let params = params::read(sig, has_init, d);
    let (output, error, output_ok) = output::read(&sig.output, d);
    usable &= params.usable && output_ok;
    HandlerSig {
        args: params.args,
        inputs: params.inputs,
        state: params.state,
        chunk: params.chunk,
        output,
        error,
        usable,
    }
}

/// Reports an error underlining `tokens`.
fn err(d: &mut Diagnostics<SpanRange>, tokens: &dyn quote::ToTokens, msg: &str, help: &str) {
    d.error(SpanRange::of(&tokens.to_token_stream()), msg)
        .with_help(help);
}

/// `async`, and none of `const`, `unsafe`, `extern`, generics or `...`. True when all hold.
fn check_qualifiers(sig: &Signature, d: &mut Diagnostics<SpanRange>) -> bool {
    let mut ok = true;
    let mut fail = |tokens: &dyn quote::ToTokens, msg: &str, help: &str| {
        ok = false;
        err(d, tokens, msg, help);
    };
    if sig.asyncness.is_none() {
        fail(
            &sig.fn_token,
            "an endpoint handler must be an `async fn`",
            "write `async fn ..`; run blocking work inside it with `tokio::task::spawn_blocking`",
        );
    }
    if let Some(c) = &sig.constness {
        fail(
            c,
            "an endpoint handler cannot be a `const fn`",
            "remove `const`",
        );
    }
    if let syn::Safety::Unsafe(u) = &sig.safety {
        fail(
            u,
            "an endpoint handler cannot be `unsafe`",
            "remove `unsafe`; call unsafe code inside the handler",
        );
    }
    if let Some(abi) = &sig.abi {
        fail(
            abi,
            "an endpoint handler cannot have an `extern` ABI",
            "remove the ABI",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        fail(
            &sig.generics,
            "an endpoint handler cannot be generic: its input, output and error types travel as \
             JSON and must be concrete",
            "replace the type parameters with concrete types",
        );
    }
    if let Some(v) = &sig.variadic {
        fail(v, "an endpoint handler cannot be variadic", "remove `...`");
    }
    ok
}
