//! The attribute's grammar: `#[endpoint(key = value, ...)]` tokens into a [`Spec`], with an error
//! for every unknown key, duplicate key and value of the wrong type.
//!
//! Settings are split at top-level commas and parsed one by one, so a malformed setting is
//! reported and the others are still checked. The keys, their examples and their other
//! spellings come from [`crate::keys`]; each key's setter is in `setters`.

mod setters;
mod values;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Token};

use crate::diagnostic::Diagnostics;
use crate::keys::{self, Key};
use crate::spec::{Spanned, Spec};
use crate::suggest::did_you_mean;
use values::{Value, split_top_level};

/// A span from the first to the last token of a value, so errors underline all of it.
#[derive(Debug, Clone, Copy)]
pub struct SpanRange {
    /// The first token.
    pub start: Span,
    /// The last token.
    pub end: Span,
}

impl SpanRange {
    /// The range covering `tokens`; call site when there are none.
    pub fn of(tokens: &impl ToTokens) -> Self {
        let mut iter = tokens.to_token_stream().into_iter();
        let start = iter.next().map_or_else(Span::call_site, |t| t.span());
        let end = iter.last().map_or(start, |t| t.span());
        SpanRange { start, end }
    }

    /// A one-token range.
    pub fn single(span: Span) -> Self {
        SpanRange {
            start: span,
            end: span,
        }
    }

    /// A `syn::Error` underlining this range.
    pub fn error(&self, message: impl std::fmt::Display) -> syn::Error {
        let mut tokens = TokenStream::new();
        tokens.extend([
            TokenTree::Ident(proc_macro2::Ident::new("start", self.start)),
            TokenTree::Ident(proc_macro2::Ident::new("end", self.end)),
        ]);
        syn::Error::new_spanned(tokens, message)
    }
}

/// What the attribute says, plus the paths that generated code refers to.
pub struct ParsedAttr {
    /// The settings, as written.
    pub spec: Spec<SpanRange>,
    /// `init = path`.
    pub init: Option<syn::Path>,
    /// `calls = [a, b]`, in order.
    pub calls: Vec<syn::Path>,
    /// `crate = "path"`.
    pub krate: Option<syn::Path>,
}

/// Parses the attribute's arguments. Problems go into `d`; whatever parsed is returned.
pub fn parse_attr(
    args: TokenStream,
    fn_name: &syn::Ident,
    d: &mut Diagnostics<SpanRange>,
) -> ParsedAttr {
    let attr_span = SpanRange::single(Span::call_site());
    let fn_name = Spanned::new(fn_name.to_string(), SpanRange::single(fn_name.span()));
    let mut out = ParsedAttr {
        spec: Spec::new(fn_name, attr_span),
        init: None,
        calls: Vec::new(),
        krate: None,
    };
    let mut seen: Vec<&'static str> = Vec::new();
    for segment in split_top_level(args) {
        if segment.is_empty() {
            continue;
        }
        let (key, value) = match parse_setting.parse2(segment.clone()) {
            Ok(kv) => kv,
            Err(e) => {
                report_malformed(d, &segment, &e);
                continue;
            }
        };
        let span = SpanRange::single(key.span());
        let Some(key) = known_key(d, &key, span) else {
            continue;
        };
        if !key.repeatable {
            if seen.contains(&key.name) {
                d.error(span, format!("`{}` is set more than once", key.name))
                    .with_help(format!("keep one `{}` setting", key.name));
                continue;
            }
            seen.push(key.name);
        }
        setters::set(&mut out, key, span, value, d);
    }
    out
}

/// One setting: `key`, `key = expr` or `key(..)`.
fn parse_setting(input: ParseStream) -> syn::Result<(syn::Ident, Value)> {
    let key = input.call(syn::Ident::parse_any)?;
    if input.is_empty() {
        return Ok((key, Value::Flag));
    }
    if input.peek(Token![=]) {
        let _: Token![=] = input.parse()?;
        let expr: Expr = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("expected `,` after the value"));
        }
        return Ok((key, Value::Expr(expr)));
    }
    if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        let inner: TokenStream = content.parse()?;
        if !input.is_empty() {
            return Err(input.error("expected `,` after `)`"));
        }
        return Ok((key, Value::List(inner)));
    }
    Err(input.error("expected `= value` or `(..)` after the key"))
}

/// The key of the table named `ident`, or an error that names the key it is another spelling of,
/// or the nearest key.
fn known_key(
    d: &mut Diagnostics<SpanRange>,
    ident: &syn::Ident,
    span: SpanRange,
) -> Option<&'static Key> {
    let written = ident.to_string().trim_start_matches("r#").to_string();
    if let Some(key) = keys::find(&written) {
        return Some(key);
    }
    let diag = d.error(span, format!("unknown key `{written}`"));
    if let Some(to) = keys::renamed(&written) {
        diag.with_help(format!("this attribute calls it `{}`", to.name));
    } else if let Some(m) = did_you_mean(&written, keys::names()) {
        diag.with_help(format!("did you mean `{m}`?"));
    }
    let all: Vec<&str> = keys::names().collect();
    diag.with_help(format!("valid keys: {}", all.join(", ")));
    None
}

/// A setting that does not parse: reported on the setting (not at the end of the attribute),
/// naming its key when it has one.
fn report_malformed(d: &mut Diagnostics<SpanRange>, segment: &TokenStream, e: &syn::Error) {
    let range = SpanRange::of(segment);
    let mut tokens = segment.clone().into_iter();
    let key = match tokens.next() {
        Some(TokenTree::Ident(id)) => Some(id.to_string()),
        _ => None,
    };
    let after_eq = matches!(tokens.next(), Some(TokenTree::Punct(p)) if p.as_char() == '=');
    let rest_empty = tokens.next().is_none();
    let example = |k: &str| keys::find(k).map_or("key = value", |k| k.example);
    let (message, help) = match key {
        Some(k) if after_eq && rest_empty => (
            format!("`{k} =` has no value"),
            format!("e.g. `{}`", example(&k)),
        ),
        Some(k) => (
            format!("`{k}` is not written as a setting: {e}"),
            format!("settings are written `key = value`, e.g. `{}`", example(&k)),
        ),
        None => (
            format!("expected a setting `key = value`: {e}"),
            "settings are written `key = value`, separated by commas".to_string(),
        ),
    };
    d.error(range, message).with_help(help);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Severity, validate};
    use quote::quote;

    fn run(args: TokenStream) -> (ParsedAttr, Vec<String>, crate::EndpointConfig) {
        let mut d = Diagnostics::new();
        let fn_name = syn::Ident::new("orchestrate", Span::call_site());
        let parsed = parse_attr(args, &fn_name, &mut d);
        let config = validate(&parsed.spec, &mut d);
        let errors = d
            .iter()
            .filter(|x| x.severity == Severity::Error)
            .map(|x| x.message.clone())
            .collect();
        (parsed, errors, config)
    }

    #[test]
    fn parses_every_key() {
        let (parsed, errors, c) = run(quote! {
            name = "agent-orchestrator",
            gpu = [NVIDIA_A100_80GB_PCIe, AMPERE_80],
            gpu_count = 2,
            workers = (3, 20),
            idle_timeout = 1800,
            execution_timeout_ms = 120_000,
            concurrency = 2,
            scaler = queue_delay(3),
            datacenter = [US_KS_2, "EU-RO-1"],
            volume(name = "weights", size = 200, datacenter = US_KS_2),
            env(HF_HOME = "/runpod-volume/hf"),
            secrets = [HF_TOKEN],
            flashboot = false,
            min_cuda_version = 12.4,
            min_vram_gb = 120,
            interactive,
            calls = [scrape, crate::search::embed_search],
            init = load_model,
            allow(high_concurrency),
            crate = "my_sdk",
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.name, "agent-orchestrator");
        assert_eq!(c.workers.min, 3);
        assert_eq!(c.workers.max, 20);
        assert_eq!(c.idle_timeout_s, 1800);
        assert_eq!(c.execution_timeout_ms, Some(120_000));
        assert_eq!(c.concurrency, 2);
        assert_eq!(c.scaler, crate::Scaler::QueueDelay(3));
        assert_eq!(c.datacenters.as_ref(), ["US-KS-2", "EU-RO-1"]);
        assert_eq!(c.volumes[0].datacenter, "US-KS-2");
        assert_eq!(c.volumes[0].size_gb, 200);
        assert_eq!(c.env[0].key, "HF_HOME");
        assert_eq!(c.secrets.as_ref(), ["HF_TOKEN"]);
        assert!(!c.flashboot);
        assert!(c.interactive);
        assert!(c.has_init);
        assert_eq!(c.min_vram_gb, Some(120));
        assert_eq!(c.calls.as_ref(), ["scrape", "embed_search"]);
        assert_eq!(parsed.calls.len(), 2);
        assert!(parsed.init.is_some());
        assert!(parsed.krate.is_some());
        match &c.hardware {
            crate::Hardware::Gpu {
                selection,
                count,
                min_cuda_version,
            } => {
                assert_eq!(*count, 2);
                assert_eq!(min_cuda_version, "12.4");
                assert_eq!(
                    selection.as_ref(),
                    [
                        crate::GpuChoice::Type("NVIDIA A100 80GB PCIe".into()),
                        crate::GpuChoice::Pool("AMPERE_80".into())
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let (_, errors, c) = run(quote!(cpu = "cpu3c-2-4", execution_timeout_ms = 5_000));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.name, "orchestrate");
        assert_eq!((c.workers.min, c.workers.max), (0, 1));
        assert_eq!(c.idle_timeout_s, 60);
        assert_eq!(c.scaler, crate::Scaler::QueueDelay(4));
        assert!(c.flashboot);
        assert_eq!(
            c.hardware,
            crate::Hardware::Cpu {
                flavor: "cpu3c-2-4".into()
            }
        );
    }

    #[test]
    fn every_error_is_collected() {
        let (_, errors, _) = run(quote! {
            gpu = RTX_4090, cpu = "cpu5c-4-8", workers = (5, 2), idle_timeout = 0,
            concurrency = 0, colour = 3, workers = 2, gpu_count = "two"
        });
        let joined = errors.join("\n");
        for needle in [
            "unknown GPU `RTX_4090`",
            "mutually exclusive",
            "workers min (5) cannot exceed max (2)",
            "`idle_timeout = 0` is out of range",
            "`concurrency = 0`",
            "unknown key `colour`",
            "`workers` is set more than once",
            "`gpu_count` expects an integer, found a string",
            "missing `execution_timeout_ms`",
        ] {
            assert!(joined.contains(needle), "missing {needle:?} in:\n{joined}");
        }
    }

    #[test]
    fn an_endpoint_cannot_list_itself_in_calls() {
        let (parsed, errors, c) = run(quote!(
            cpu = "cpu3c-2-4",
            execution_timeout_ms = 9_000,
            calls = [scrape, orchestrate]
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("endpoint `orchestrate` cannot call itself"));
        assert_eq!(
            parsed.calls.len(),
            1,
            "the self-call is left out of the callee checks"
        );
        assert_eq!(c.calls[..], ["scrape"]);
        // A path that only ends in the same name is another endpoint.
        let (_, errors, _) = run(quote!(
            cpu = "cpu3c-2-4",
            execution_timeout_ms = 9_000,
            calls = [agents::orchestrate]
        ));
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn malformed_settings_do_not_hide_the_others() {
        let (_, errors, c) =
            run(quote!(workers = , idle_timeout = 5000, execution_timeout_ms = 9_000));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[1].contains("idle_timeout"));
        assert_eq!(c.execution_timeout_ms, Some(9_000));
    }

    #[test]
    fn renamed_keys_get_a_hint() {
        let mut d = Diagnostics::new();
        let f = syn::Ident::new("f", Span::call_site());
        parse_attr(quote!(max_concurrency = 3), &f, &mut d);
        let first = d.iter().next().unwrap();
        assert!(first.help[0].contains("`concurrency`"), "{:?}", first.help);
    }
}
