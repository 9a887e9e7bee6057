//! The attribute's grammar: `#[endpoint(key = value, ...)]` tokens into a [`Spec`], with an error
//! for every unknown key, duplicate key and value of the wrong type.
//!
//! Settings are split at top-level commas and parsed one by one, so a malformed setting is
//! reported and the others are still checked.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, Lit, Token, UnOp};

use crate::diagnostic::Diagnostics;
use crate::spec::{Int, Name, NameList, ScalerSpec, Spanned, Spec, VolumeSpec, WorkersSpec};
use crate::suggest::did_you_mean;

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

/// Every key the attribute accepts.
pub const KEYS: &[&str] = &[
    "name",
    "gpu",
    "cpu",
    "gpu_count",
    "workers",
    "idle_timeout",
    "execution_timeout_ms",
    "concurrency",
    "scaler",
    "datacenter",
    "volume",
    "env",
    "secrets",
    "flashboot",
    "min_cuda_version",
    "min_vram_gb",
    "interactive",
    "calls",
    "init",
    "max_steps",
    "allow",
    "crate",
];

/// Keys that other tools use for a setting this attribute spells differently.
const RENAMED: &[(&str, &str)] = &[
    ("max_concurrency", "concurrency"),
    ("idle_timeout_s", "idle_timeout"),
    ("execution_timeout", "execution_timeout_ms"),
    ("timeout", "execution_timeout_ms"),
    ("timeout_ms", "execution_timeout_ms"),
    ("scaler_type", "scaler"),
    ("scaler_value", "scaler"),
    ("datacenters", "datacenter"),
    ("data_center", "datacenter"),
    ("volumes", "volume"),
    ("network_volume", "volume"),
    ("min_workers", "workers"),
    ("max_workers", "workers"),
    ("vram", "min_vram_gb"),
    ("min_vram", "min_vram_gb"),
    ("cuda", "min_cuda_version"),
    ("step_budget", "max_steps"),
    ("max_calls", "max_steps"),
];

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
    let mut out = ParsedAttr {
        spec: Spec::new(
            Spanned::new(fn_name.to_string(), SpanRange::single(fn_name.span())),
            attr_span,
        ),
        init: None,
        calls: Vec::new(),
        krate: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for segment in split_top_level(args) {
        if segment.is_empty() {
            continue;
        }
        let parsed = (|input: ParseStream| {
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
        })
        .parse2(segment.clone());
        let (key, value) = match parsed {
            Ok(kv) => kv,
            Err(e) => {
                report_malformed(d, &segment, &e);
                continue;
            }
        };
        let key_name = key.to_string().trim_start_matches("r#").to_string();
        let key_span = SpanRange::single(key.span());
        if !KEYS.contains(&key_name.as_str()) {
            let diag = d.error(key_span, format!("unknown key `{key_name}`"));
            if let Some((_, to)) = RENAMED.iter().find(|(from, _)| *from == key_name) {
                diag.with_help(format!("this attribute calls it `{to}`"));
            } else if let Some(m) = did_you_mean(&key_name, KEYS.iter().copied()) {
                diag.with_help(format!("did you mean `{m}`?"));
            }
            diag.with_help(format!("valid keys: {}", KEYS.join(", ")));
            continue;
        }
        if key_name != "volume" {
            if seen.contains(&key_name) {
                d.error(key_span, format!("`{key_name}` is set more than once"))
                    .with_help("keep one `".to_string() + &key_name + "` setting");
                continue;
            }
            seen.push(key_name.clone());
        }
        set(&mut out, &key_name, key_span, value, d);
    }
    out
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
    let (message, help) = match key {
        Some(k) if after_eq && rest_empty => (
            format!("`{k} =` has no value"),
            format!("e.g. `{}`", example_for(&k)),
        ),
        Some(k) => (
            format!("`{k}` is not written as a setting: {e}"),
            format!(
                "settings are written `key = value`, e.g. `{}`",
                example_for(&k)
            ),
        ),
        None => (
            format!("expected a setting `key = value`: {e}"),
            "settings are written `key = value`, separated by commas".to_string(),
        ),
    };
    d.error(range, message).with_help(help);
}

enum Value {
    Flag,
    Expr(Expr),
    List(TokenStream),
}

/// Splits tokens at commas that are not inside a group.
fn split_top_level(tokens: TokenStream) -> Vec<TokenStream> {
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
        Expr::Unary(_) => "an expression",
        _ => "an expression",
    }
}

fn type_error(d: &mut Diagnostics<SpanRange>, e: &Expr, key: &str, expected: &str, example: &str) {
    d.error(
        SpanRange::of(e),
        format!("`{key}` expects {expected}, found {}", describe(e)),
    )
    .with_help(format!("e.g. `{example}`"));
}

fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        Expr::Group(g) => strip_parens(&g.expr),
        other => other,
    }
}

fn int(
    d: &mut Diagnostics<SpanRange>,
    e: &Expr,
    key: &str,
    example: &str,
) -> Option<Int<SpanRange>> {
    let span = SpanRange::of(e);
    let parse_lit = |lit: &syn::LitInt| -> Result<i128, syn::Error> { lit.base10_parse::<i128>() };
    match strip_parens(e) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => match parse_lit(lit) {
            Ok(v) => Some(Spanned::new(v, span)),
            Err(err) => {
                d.error(span, format!("`{key}`: {err}"));
                None
            }
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match strip_parens(&u.expr) {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) => parse_lit(lit).ok().map(|v| Spanned::new(-v, span)),
            _ => {
                type_error(d, e, key, "an integer", example);
                None
            }
        },
        _ => {
            type_error(d, e, key, "an integer", example);
            None
        }
    }
}

fn string(
    d: &mut Diagnostics<SpanRange>,
    e: &Expr,
    key: &str,
    example: &str,
) -> Option<Name<SpanRange>> {
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

fn boolean(
    d: &mut Diagnostics<SpanRange>,
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
fn name(
    d: &mut Diagnostics<SpanRange>,
    e: &Expr,
    key: &str,
    example: &str,
) -> Option<Name<SpanRange>> {
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

fn names(
    d: &mut Diagnostics<SpanRange>,
    e: &Expr,
    key: &str,
    example: &str,
) -> Option<NameList<SpanRange>> {
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

fn path(d: &mut Diagnostics<SpanRange>, e: &Expr, key: &str, example: &str) -> Option<syn::Path> {
    match strip_parens(e) {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        _ => {
            type_error(d, e, key, "a function name", example);
            None
        }
    }
}

/// Parses `key = value, ...` inside `volume(..)`-style lists.
fn nested(
    d: &mut Diagnostics<SpanRange>,
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
        .parse2(seg.clone());
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

fn set(
    out: &mut ParsedAttr,
    key: &str,
    key_span: SpanRange,
    value: Value,
    d: &mut Diagnostics<SpanRange>,
) {
    let spec = &mut out.spec;
    // Keys whose value is a list in parentheses: `volume(..)`, `env(..)`, `allow(..)`.
    if matches!(key, "volume" | "env" | "allow") {
        let tokens = match value {
            Value::List(t) => t,
            Value::Expr(e) => {
                let example = match key {
                    "volume" => {
                        "volume(name = \"model-weights\", size = 200, datacenter = EU_RO_1)"
                    }
                    "env" => "env(HF_HOME = \"/runpod-volume/hf\")",
                    _ => "allow(gpu_without_vram_floor)",
                };
                d.error(
                    SpanRange::of(&e),
                    format!("`{key}` is written as a list in parentheses, not `{key} = ..`"),
                )
                .with_help(format!("e.g. `{example}`"));
                return;
            }
            Value::Flag => {
                d.error(key_span, format!("`{key}` needs a list in parentheses"));
                return;
            }
        };
        match key {
            "volume" => {
                let mut v = VolumeSpec {
                    name: None,
                    size: None,
                    datacenter: None,
                    span: key_span,
                };
                let mut seen = Vec::new();
                for (k, val) in nested(d, tokens, "volume") {
                    // `size_gb` is another spelling of `size`: one key, whatever the spelling.
                    let ks = match k.to_string().as_str() {
                        "size_gb" => "size".to_string(),
                        other => other.to_string(),
                    };
                    if seen.contains(&ks) {
                        d.error(
                            SpanRange::single(k.span()),
                            format!("`{ks}` is set twice in `volume(..)`"),
                        );
                        continue;
                    }
                    seen.push(ks.clone());
                    let Some(val) = val else {
                        d.error(SpanRange::single(k.span()), format!("`{ks}` needs a value"));
                        continue;
                    };
                    match ks.as_str() {
                        "name" => v.name = string(d, &val, "name", "name = \"model-weights\""),
                        "size" => v.size = int(d, &val, "size", "size = 200"),
                        "datacenter" => {
                            v.datacenter = name(d, &val, "datacenter", "datacenter = EU_RO_1")
                        }
                        other => {
                            d.error(
                                SpanRange::single(k.span()),
                                format!("unknown key `{other}` in `volume(..)`"),
                            )
                            .with_help("a volume has `name`, `size` (GB) and `datacenter`");
                        }
                    }
                }
                spec.volumes.push(v);
            }
            "env" => {
                for (k, val) in nested(d, tokens, "env") {
                    let Some(val) = val else {
                        d.error(
                            SpanRange::single(k.span()),
                            format!("`{k}` needs a value, e.g. `{k} = \"..\"`"),
                        );
                        continue;
                    };
                    let kn = Spanned::new(k.to_string(), SpanRange::single(k.span()));
                    if let Some(v) = string(d, &val, &kn.value.clone(), &format!("{k} = \"value\""))
                    {
                        spec.env.push((kn, v));
                    }
                }
            }
            _ => {
                for seg in split_top_level(tokens) {
                    if seg.is_empty() {
                        continue;
                    }
                    match syn::parse2::<syn::Ident>(seg.clone()) {
                        Ok(id) => spec
                            .allow
                            .push(Spanned::new(id.to_string(), SpanRange::single(id.span()))),
                        Err(_) => {
                            d.error(SpanRange::of(&seg), "`allow(..)` lists rule names")
                                .with_help("e.g. `allow(gpu_without_vram_floor)`");
                        }
                    }
                }
            }
        }
        return;
    }
    if matches!(key, "interactive" | "flashboot") {
        let b = boolean(d, value, key, key_span);
        if key == "interactive" {
            spec.interactive = b;
        } else {
            spec.flashboot = b;
        }
        return;
    }
    let e = match value {
        Value::Expr(e) => e,
        Value::Flag => {
            d.error(key_span, format!("`{key}` needs a value"))
                .with_help(format!("e.g. `{}`", example_for(key)));
            return;
        }
        Value::List(t) => {
            let suggestion = if key == "scaler" {
                "scaler = queue_delay(4)".to_string()
            } else {
                example_for(key).to_string()
            };
            d.error(
                SpanRange::of(&t),
                format!("`{key}` is written `{key} = value`"),
            )
            .with_help(format!("e.g. `{suggestion}`"));
            return;
        }
    };
    let ex = example_for(key);
    match key {
        "name" => spec.name = string(d, &e, key, ex),
        "cpu" => spec.cpu = name(d, &e, key, ex),
        "gpu" => spec.gpu = names(d, &e, key, ex),
        "datacenter" => spec.datacenter = names(d, &e, key, ex),
        "gpu_count" => spec.gpu_count = int(d, &e, key, ex),
        "idle_timeout" => spec.idle_timeout = int(d, &e, key, ex),
        "execution_timeout_ms" => spec.execution_timeout_ms = int(d, &e, key, ex),
        "concurrency" => spec.concurrency = int(d, &e, key, ex),
        "min_vram_gb" => spec.min_vram_gb = int(d, &e, key, ex),
        "max_steps" => spec.max_steps = int(d, &e, key, ex),
        "min_cuda_version" => spec.min_cuda_version = name(d, &e, key, ex),
        "workers" => {
            let span = SpanRange::of(&e);
            match strip_parens(&e) {
                Expr::Tuple(t) if t.elems.len() == 2 => {
                    let min = int(d, &t.elems[0], key, ex);
                    let max = int(d, &t.elems[1], key, ex);
                    if let (Some(min), Some(max)) = (min, max) {
                        spec.workers = Some(WorkersSpec {
                            min: Some(min),
                            max,
                            span,
                        });
                    }
                }
                Expr::Tuple(_) => {
                    d.error(
                        span,
                        "`workers` expects `N` or `(min, max)`, found a tuple of another length",
                    )
                    .with_help("e.g. `workers = (1, 10)`: at least 1 warm worker, at most 10");
                }
                _ => {
                    if let Some(max) = int(d, &e, key, ex) {
                        spec.workers = Some(WorkersSpec {
                            min: None,
                            max,
                            span,
                        });
                    }
                }
            }
        }
        "scaler" => {
            let span = SpanRange::of(&e);
            match &e {
                Expr::Call(c) if c.args.len() == 1 => {
                    let kind = match &*c.func {
                        Expr::Path(p) => p.path.segments.last().map(|s| {
                            Spanned::new(s.ident.to_string(), SpanRange::single(s.ident.span()))
                        }),
                        _ => None,
                    };
                    match (kind, int(d, &c.args[0], "scaler", ex)) {
                        (Some(kind), Some(value)) => {
                            spec.scaler = Some(ScalerSpec { kind, value, span })
                        }
                        (None, _) => {
                            type_error(d, &e, key, "`queue_delay(N)` or `request_count(N)`", ex)
                        }
                        _ => {}
                    }
                }
                Expr::Path(_) => {
                    d.error(span, "`scaler` needs its value")
                        .with_help("e.g. `scaler = queue_delay(4)` (seconds) or `scaler = request_count(2)` (jobs per worker)");
                }
                _ => type_error(d, &e, key, "`queue_delay(N)` or `request_count(N)`", ex),
            }
        }
        "secrets" => match strip_parens(&e) {
            Expr::Array(a) => {
                for x in &a.elems {
                    if let Some(n) = name(d, x, key, ex) {
                        spec.secrets.push(n);
                    }
                }
            }
            _ => type_error(d, &e, key, "a list of variable names", ex),
        },
        "calls" => {
            let items: Vec<&Expr> = match strip_parens(&e) {
                Expr::Array(a) => a.elems.iter().collect(),
                _ => {
                    type_error(d, &e, key, "a list of endpoint functions", ex);
                    Vec::new()
                }
            };
            for x in items {
                if let Some(p) = path(d, x, key, ex) {
                    let last = p
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    spec.calls.push(Spanned::new(last, SpanRange::of(&p)));
                    out.calls.push(p);
                }
            }
        }
        "init" => {
            if let Some(p) = path(d, &e, key, ex) {
                let text = p.to_token_stream().to_string().replace(' ', "");
                spec.init = Some(Spanned::new(text, SpanRange::of(&p)));
                out.init = Some(p);
            }
        }
        "crate" => {
            if let Some(s) = string(d, &e, key, ex) {
                match syn::parse_str::<syn::Path>(&s.value) {
                    Ok(p) => out.krate = Some(p),
                    Err(_) => {
                        d.error(s.span, format!("`{}` is not a path", s.value))
                            .with_help(
                                "e.g. `crate = \"my_sdk\"` when the SDK is renamed in Cargo.toml",
                            );
                    }
                }
            }
        }
        _ => unreachable!("every key in KEYS is handled"),
    }
}

fn example_for(key: &str) -> &'static str {
    match key {
        "name" => "name = \"web-retrieval\"",
        "gpu" => "gpu = NVIDIA_GEFORCE_RTX_4090",
        "cpu" => "cpu = \"cpu5c-4-8\"",
        "gpu_count" => "gpu_count = 2",
        "workers" => "workers = (1, 10)",
        "idle_timeout" => "idle_timeout = 300",
        "execution_timeout_ms" => "execution_timeout_ms = 30_000",
        "concurrency" => "concurrency = 4",
        "scaler" => "scaler = queue_delay(4)",
        "datacenter" => "datacenter = EU_RO_1",
        "secrets" => "secrets = [HF_TOKEN]",
        "min_cuda_version" => "min_cuda_version = \"12.8\"",
        "min_vram_gb" => "min_vram_gb = 40",
        "calls" => "calls = [scrape, embed_search]",
        "init" => "init = load_model",
        "max_steps" => "max_steps = 50",
        "crate" => "crate = \"my_sdk\"",
        _ => "key = value",
    }
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
