//! The signature rules on parsed signatures: what each shape means and what it reports.

use quote::ToTokens;
use syn::{Signature, parse_quote};

use super::{Arg, HandlerSig, analyze, parse_handler};
use crate::diagnostic::Diagnostics;
use crate::parse::SpanRange;

fn read(sig: Signature, has_init: bool) -> (HandlerSig, Vec<String>) {
    let mut d = Diagnostics::<SpanRange>::new();
    let hs = analyze(&sig, has_init, &mut d);
    let messages = d.into_vec().into_iter().map(|p| p.message).collect();
    (hs, messages)
}

fn ty(t: &syn::Type) -> String {
    t.to_token_stream().to_string()
}

#[test]
fn ctx_state_and_inputs_in_order() {
    let (s, errors) = read(
        parse_quote!(async fn f(ctx: &Ctx, model: &Model, query: String, r#type: u8) -> Result<Out, Error>),
        true,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(s.usable && s.input_is_concrete());
    assert!(matches!(
        s.args[..],
        [
            Arg::Ctx { by_ref: true },
            Arg::State,
            Arg::Input(0),
            Arg::Input(1)
        ]
    ));
    assert_eq!(ty(s.state.as_ref().unwrap()), "Model");
    let names: Vec<_> = s
        .inputs
        .iter()
        .map(|i| (i.ident.to_string(), i.wire_name.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("query".into(), "query".into()),
            ("r#type".into(), "type".into())
        ]
    );
    assert_eq!(ty(&s.output), "Out");
    assert_eq!(ty(s.error.as_ref().unwrap()), "Error");
}

#[test]
fn no_return_type_is_unit_and_a_plain_type_has_no_error() {
    let (s, _) = read(parse_quote!(async fn f(ctx: Ctx)), false);
    assert!(matches!(s.args[..], [Arg::Ctx { by_ref: false }]));
    assert_eq!(ty(&s.output), "()");
    let (s, _) = read(parse_quote!(async fn f(x: u32) -> Vec<u32>), false);
    assert_eq!(ty(&s.output), "Vec < u32 >");
    assert!(s.error.is_none() && s.usable);
}

#[test]
fn qualifiers_are_each_reported() {
    let (s, errors) = read(parse_quote!(const unsafe extern "C" fn f<T>(x: T)), false);
    assert!(!s.usable);
    for needle in [
        "`async fn`",
        "`const fn`",
        "`unsafe`",
        "`extern`",
        "generic",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{needle}: {errors:?}"
        );
    }
}

#[test]
fn a_reference_without_init_is_not_state() {
    let (s, errors) = read(parse_quote!(async fn f(model: &Model) -> u32), false);
    assert!(!s.usable && s.state.is_none());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("this endpoint has no `init`"),
        "{errors:?}"
    );
}

#[test]
fn mutable_borrows_and_duplicates_are_rejected() {
    let (s, errors) = read(
        parse_quote!(async fn f(ctx: &mut Ctx, again: Ctx, m: &mut M) -> u32),
        true,
    );
    assert!(!s.usable);
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("`&mut Ctx`"));
    assert!(errors[1].contains("at most one context parameter"));
    assert!(errors[2].contains("cannot be borrowed mutably"));
    let (_, errors) = read(parse_quote!(async fn f(a: &A, b: &B) -> u32), true);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("at most one per-worker state parameter"));
}

#[test]
fn impl_trait_inputs_are_kept_as_opaque_so_call_sites_still_type_check() {
    let (s, errors) = read(
        parse_quote!(async fn f(x: impl Into<String>, n: u32) -> u32),
        false,
    );
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("cannot be `impl Trait`"));
    assert!(!s.usable && !s.input_is_concrete());
    assert_eq!(s.inputs.len(), 2);
    assert!(s.inputs[0].opaque && !s.inputs[1].opaque);
}

#[test]
fn several_inputs_need_plain_names() {
    let (s, errors) = read(
        parse_quote!(async fn f((a, b): (u32, u32), c: u32) -> u32),
        false,
    );
    assert!(!s.usable);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("each needs a plain name"));
    // One destructured input is fine: the whole JSON value is that input.
    let (s, errors) = read(parse_quote!(async fn f((a, b): (u32, u32)) -> u32), false);
    assert!(s.usable && errors.is_empty());
    assert_eq!(s.inputs[0].ident.to_string(), "__input0");
}

#[test]
fn results_must_spell_out_both_types_and_impl_trait_is_not_an_output() {
    for sig in [
        parse_quote!(async fn f() -> Result<u32>),
        parse_quote!(async fn f() -> anyhow::Result<u32>),
    ] {
        let (s, errors) = read(sig, false);
        assert!(!s.usable);
        assert!(errors[0].contains("`Result<Output, Error>`"), "{errors:?}");
    }
    let (s, errors) = read(parse_quote!(async fn f() -> impl Serialize), false);
    assert!(!s.usable && errors[0].contains("cannot return `impl Trait`"));
    assert_eq!(ty(&s.output), "()");
}

#[test]
fn the_item_is_read_with_its_body_unparsed() {
    let item = quote::quote!(
        /// Doc.
        pub async fn f(x: u32) -> u32 { this is not rust }
    );
    let f = parse_handler(item.clone()).expect("the signature parses; the body is opaque");
    assert_eq!(
        f.to_token_stream().to_string(),
        item.to_string(),
        "emitted as written"
    );
    assert_eq!(f.sig.ident, "f");
    assert_eq!(f.attrs.len(), 1);
    assert!(matches!(f.vis, syn::Visibility::Public(_)));
    assert_eq!(f.body.stream().to_string(), "this is not rust");
}

#[test]
fn anything_but_a_function_is_named_in_the_error() {
    for (item, what) in [
        (
            quote::quote!(
                struct S;
            ),
            "not on a struct",
        ),
        (
            quote::quote!(
                enum E {
                    A,
                }
            ),
            "not on an enum",
        ),
        (
            quote::quote!(
                mod m {}
            ),
            "not on a module",
        ),
        (
            quote::quote!(
                async fn f(x: u32) -> u32;
            ),
            "not on this item",
        ),
    ] {
        let e = parse_handler(item)
            .err()
            .expect("not a handler")
            .to_string();
        assert!(
            e.contains(what) && e.contains("help: write `#[endpoint(..)]"),
            "{e}"
        );
    }
}

fn read_app(sig: Signature, has_init: bool) -> (super::AppSig, Vec<String>) {
    let mut d = Diagnostics::<SpanRange>::new();
    let app = super::analyze_app(&sig, has_init, &mut d);
    let messages = d.into_vec().into_iter().map(|p| p.message).collect();
    (app, messages)
}

#[test]
fn a_function_returning_a_router_is_an_app_builder() {
    assert!(super::returns_router(&parse_quote!(fn app() -> Router)).is_some());
    assert!(super::returns_router(&parse_quote!(fn app() -> axum::Router<()>)).is_some());
    assert!(super::returns_router(&parse_quote!(async fn f(x: u32) -> Routes)).is_none());
    assert!(super::returns_router(&parse_quote!(async fn f(x: u32))).is_none());
}

#[test]
fn an_app_builder_takes_nothing_or_the_workers_state() {
    let (a, errors) = read_app(parse_quote!(fn app() -> Router), false);
    assert!(
        errors.is_empty() && a.usable && a.state.is_none(),
        "{errors:?}"
    );
    let (a, errors) = read_app(parse_quote!(fn app(s: Arc<Model>) -> Router), true);
    assert!(errors.is_empty() && a.usable, "{errors:?}");
    assert!(matches!(a.state, Some(super::AppState::Arc(_))));
    assert_eq!(ty(a.state_type().unwrap()), "Model");
    let (a, _) = read_app(parse_quote!(fn app(s: &Model) -> Router), true);
    assert!(matches!(a.state, Some(super::AppState::Ref(_))));
}

#[test]
fn an_app_builder_refuses_what_belongs_to_a_request_or_a_job() {
    for (sig, has_init, expected) in [
        (parse_quote!(async fn app() -> Router), false, "plain `fn`"),
        (
            parse_quote!(fn app(ctx: Ctx) -> Router),
            true,
            "belongs to one request",
        ),
        (
            parse_quote!(fn app(c: Chunks<u8>) -> Router),
            true,
            "streams through its responses",
        ),
        (
            parse_quote!(fn app(s: Arc<Model>) -> Router),
            false,
            "has no `init`",
        ),
        (
            parse_quote!(fn app(s: Model) -> Router),
            true,
            "`Arc<State>`",
        ),
        (
            parse_quote!(fn app<T>() -> Router),
            false,
            "cannot be generic",
        ),
    ] {
        let (a, errors) = read_app(sig, has_init);
        assert!(!a.usable, "{expected}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains(expected), "{expected}: {errors:?}");
    }
}

#[test]
fn literal_routes_are_read_from_the_body_at_any_depth() {
    let f = parse_handler(quote::quote! {
        fn app() -> Router {
            let api = Router::new().route("/turn", post(turn));
            Router::new()
                .route("/ping", get(|| async { "pong" }))
                .route(PATH, get(other))
                .nest("/api", api)
        }
    })
    .expect("a function");
    let routes: Vec<String> = super::literal_routes(&f.body)
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(routes, ["/turn", "/ping"]);
}
