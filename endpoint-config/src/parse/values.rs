//! Reading one value: an integer, a string, a name, a list of names, a path, a flag, or the
//! `key = value` pairs of a nested list. Each reader reports a value of the wrong kind with the
//! key's example and returns `None`.

use proc_macro2::{TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, Lit, Token, UnOp};

use super::SpanRange;
use crate::diagnostic::Diagnostics;
use crate::spec::{Int, Name, NameList, Spanned};

type D = Diagnostics<SpanRange>;

/// A setting's value as written: `key`, `key = expr` or `key(tokens)`.
pub(super) enum Value {
    Flag,
    Expr(Expr),
    List(TokenStream),
}

/// Splits tokens at commas that are not inside a group.
pub(super) fn split_top_level(tokens: TokenStream) -> Vec<TokenStream> {
    let mut out = vec![TokenStream::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(TokenStream::new()),
            _ => out.last_mut().expect("never empty").extend([tt]),
        }
    }
    out
}

/// A short description of an expression's kind, for "found ..." in type errors.
fn describe(e: &Expr) -> &'static str {
    match e {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(_) => "a string",
            Lit::Int(_) => "an integer",
            Lit::Float(_) => "a number with a fraction",
            Lit::Bool(_) => "a boolean",
            _ => "a literal",
        },
        Expr::Path(_) => "a name",
        Expr::Tuple(_) | Expr::Paren(_) => "a tuple",
        Expr::Array(_) => "a list",
        Expr::Call(_) => "a call",
        _ => "an expression",
    }
}

/// "`key` expects .., found ..", with the key's example.
pub(super) fn type_error(d: &mut D, e: &Expr, key: &str, expected: &str, example: &str) {
    d.error(
        SpanRange::of(e),
        format!("`{key}` expects {expected}, found {}", describe(e)),
    )
    .with_help(format!("e.g. `{example}`"));
}

/// The expression inside any parentheses or invisible groups.
pub(super) fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        Expr::Group(g) => strip_parens(&g.expr),
        other => other,
    }
}

/// An integer literal, possibly negative (so the rules can say why a negative one is wrong).
pub(super) fn int(d: &mut D, e: &Expr, key: &str, example: &str) -> Option<Int<SpanRange>> {
    let span = SpanRange::of(e);
    let lit = |e: &Expr| match strip_parens(e) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => Some(lit.clone()),
        _ => None,
    };
    let (lit, sign) = match strip_parens(e) {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (lit(&u.expr), -1),
        other => (lit(other), 1),
    };
    let Some(lit) = lit else {
        type_error(d, e, key, "an integer", example);
        return None;
    };
    match lit.base10_parse::<i128>() {
        Ok(v) => Some(Spanned::new(sign * v, span)),
        Err(_) if sign < 0 => None,
        Err(err) => {
            d.error(span, format!("`{key}`: {err}"));
            None
        }
    }
}

/// A string literal.
pub(super) fn string(d: &mut D, e: &Expr, key: &str, example: &str) -> Option<Name<SpanRange>> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(Spanned::new(s.value(), SpanRange::of(e))),
        _ => {
            type_error(d, e, key, "a string", example);
            None
        }
    }
}

/// `key` alone (true) or `key = true`/`false`.
pub(super) fn boolean(
    d: &mut D,
    v: Value,
    key: &str,
    key_span: SpanRange,
) -> Option<Spanned<bool, SpanRange>> {
    match v {
        Value::Flag => Some(Spanned::new(true, key_span)),
        Value::Expr(Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        })) => Some(Spanned::new(b.value, SpanRange::single(b.span))),
        Value::Expr(e) => {
            type_error(d, &e, key, "`true` or `false`", &format!("{key} = true"));
            None
        }
        Value::List(t) => {
            d.error(
                SpanRange::of(&t),
                format!("`{key}` expects `true` or `false`, found a list"),
            )
            .with_help(format!("e.g. `{key} = true`, or just `{key}`"));
            None
        }
    }
}

/// A name written as an identifier, a path (last segment counts, so `GpuGroup::ADA_24` works),
/// a string, or (for CUDA versions) a number like `12.8`.
pub(super) fn name(d: &mut D, e: &Expr, key: &str, example: &str) -> Option<Name<SpanRange>> {
    let span = SpanRange::of(e);
    match strip_parens(e) {
        Expr::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .map(|s| Spanned::new(s.ident.to_string(), span)),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(Spanned::new(s.value(), span)),
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => Some(Spanned::new(f.base10_digits().to_string(), span)),
        _ => {
            type_error(d, e, key, "a name or a string", example);
            None
        }
    }
}

/// One name, or a bracketed list of names.
pub(super) fn names(d: &mut D, e: &Expr, key: &str, example: &str) -> Option<NameList<SpanRange>> {
    let span = SpanRange::of(e);
    match strip_parens(e) {
        Expr::Array(a) => Some(NameList {
            items: a
                .elems
                .iter()
                .filter_map(|x| name(d, x, key, example))
                .collect(),
            is_list: true,
            span,
        }),
        Expr::Tuple(_) => {
            type_error(d, e, key, "a name or a list `[..]`", example);
            None
        }
        _ => name(d, e, key, example).map(|n| NameList {
            items: vec![n],
            is_list: false,
            span,
        }),
    }
}

/// A path to a function or an endpoint.
pub(super) fn path(d: &mut D, e: &Expr, key: &str, example: &str) -> Option<syn::Path> {
    match strip_parens(e) {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        _ => {
            type_error(d, e, key, "a function name", example);
            None
        }
    }
}

/// Parses `key = value, ...` inside `volume(..)`-style lists.
pub(super) fn nested(
    d: &mut D,
    tokens: TokenStream,
    outer: &str,
) -> Vec<(syn::Ident, Option<Expr>)> {
    let mut out = Vec::new();
    for seg in split_top_level(tokens) {
        if seg.is_empty() {
            continue;
        }
        let parsed = (|input: ParseStream| {
            let key = input.call(syn::Ident::parse_any)?;
            if input.is_empty() {
                return Ok((key, None));
            }
            let _: Token![=] = input.parse()?;
            let v: Expr = input.parse()?;
            if !input.is_empty() {
                return Err(input.error("expected `,`"));
            }
            Ok((key, Some(v)))
        })
        .parse2(seg);
        match parsed {
            Ok(kv) => out.push(kv),
            Err(e) => {
                d.error(
                    SpanRange::single(e.span()),
                    format!("in `{outer}(..)`: {e}"),
                );
            }
        }
    }
    out
}
