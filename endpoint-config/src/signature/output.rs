//! What the handler returns: a concrete `T`, or `Result<T, E>` with both types spelled out.

use syn::{GenericArgument, PathArguments, ReturnType, Type};

use super::err;
use super::params::contains_impl_trait;
use crate::diagnostic::Diagnostics;
use crate::parse::SpanRange;

/// The success type, the error type when there is one, and whether generated code can use them.
/// On an error the output is `()`, so the handle type still has one to name.
pub(super) fn read(ret: &ReturnType, d: &mut Diagnostics<SpanRange>) -> (Type, Option<Type>, bool) {
    let ty = match ret {
        ReturnType::Default => return (syn::parse_quote!(()), None, true),
        ReturnType::Type(_, ty) => &**ty,
    };
    if contains_impl_trait(ty) {
        err(
            d,
            ty,
            "an endpoint handler cannot return `impl Trait`: the output travels as JSON from a \
             concrete type",
            "return a concrete type that implements `serde::Serialize`",
        );
        return (syn::parse_quote!(()), None, false);
    }
    split_result(ty, d)
}

/// `Result<O, E>` into `(O, Some(E))`; any other type `T` into `(T, None)`.
fn split_result(ty: &Type, d: &mut Diagnostics<SpanRange>) -> (Type, Option<Type>, bool) {
    let Some(last) = result_segment(ty) else {
        return (ty.clone(), None, true);
    };
    if let PathArguments::AngleBracketed(a) = &last.arguments {
        let tys: Vec<&Type> = a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect();
        if let [ok, error] = tys[..] {
            return (ok.clone(), Some(error.clone()), true);
        }
    }
    err(
        d,
        ty,
        "write the handler's result as `Result<Output, Error>` with both types spelled out",
        "callers receive the error value itself, so its type must implement `Serialize`, \
         `Deserialize` and `Display` (e.g. a `thiserror` enum with serde derives, or `String`)",
    );
    (syn::parse_quote!(()), None, false)
}

/// The last path segment when `ty` is a path ending in `Result`.
fn result_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().filter(|s| s.ident == "Result")
        }
        _ => None,
    }
}
