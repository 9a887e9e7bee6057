//! One setter per key of [`crate::keys::KEYS`]: each reads its value into the [`ParsedAttr`].
//! [`setter`] dispatches on the key's name; a unit test checks that every key of the table has a
//! setter of its shape.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Expr;

use super::values::{
    boolean, int, name, names, nested, path, split_top_level, string, strip_parens, type_error,
};
use super::{ParsedAttr, SpanRange, Value};
use crate::diagnostic::Diagnostics;
use crate::keys::{self, Key, MODEL_KEYS, VOLUME_KEYS};
use crate::spec::{ModelWritten, ScalerSpec, Spanned, VolumeSpec, WorkersSpec};

type D = Diagnostics<SpanRange>;

/// How a key's value is read, by its [`keys::Shape`].
#[derive(Clone, Copy)]
pub(super) enum Setter {
    /// `key = value`.
    Assign(fn(&mut ParsedAttr, &Expr, &'static Key, &mut D)),
    /// `key` or `key = bool`.
    Flag(fn(&mut ParsedAttr, Option<Spanned<bool, SpanRange>>)),
    /// `key(..)`; the span is the key's.
    Parens(fn(&mut ParsedAttr, TokenStream, SpanRange, &mut D)),
}

/// The setter of the key named `name`.
pub(super) fn setter(name: &str) -> Option<Setter> {
    use Setter::{Assign, Flag, Parens};
    Some(match name {
        "name" => Assign(|o, e, k, d| o.spec.name = string(d, e, k.name, k.example)),
        "gpu" => Assign(|o, e, k, d| o.spec.gpu = names(d, e, k.name, k.example)),
        "cpu" => Assign(|o, e, k, d| o.spec.cpu = self::name(d, e, k.name, k.example)),
        "gpu_count" => Assign(|o, e, k, d| o.spec.gpu_count = int(d, e, k.name, k.example)),
        "workers" => Assign(set_workers),
        "idle_timeout" => Assign(|o, e, k, d| o.spec.idle_timeout = int(d, e, k.name, k.example)),
        "execution_timeout_ms" => {
            Assign(|o, e, k, d| o.spec.execution_timeout_ms = int(d, e, k.name, k.example))
        }
        "concurrency" => Assign(|o, e, k, d| o.spec.concurrency = int(d, e, k.name, k.example)),
        "scaler" => Assign(set_scaler),
        "datacenter" => Assign(|o, e, k, d| o.spec.datacenter = names(d, e, k.name, k.example)),
        "volume" => Parens(set_volume),
        "env" => Parens(set_env),
        "secrets" => Assign(set_secrets),
        "flashboot" => Flag(|o, b| o.spec.flashboot = b),
        "min_cuda_version" => {
            Assign(|o, e, k, d| o.spec.min_cuda_version = self::name(d, e, k.name, k.example))
        }
        "min_vram_gb" => Assign(|o, e, k, d| o.spec.min_vram_gb = int(d, e, k.name, k.example)),
        "model" => Parens(set_model),
        "interactive" => Flag(|o, b| o.spec.interactive = b),
        "plain_input" => Flag(|o, b| o.spec.plain_input = b),
        "calls" => Assign(set_calls),
        "init" => Assign(set_init),
        "max_steps" => Assign(|o, e, k, d| o.spec.max_steps = int(d, e, k.name, k.example)),
        "port" => Assign(|o, e, k, d| o.spec.port = int(d, e, k.name, k.example)),
        "health_port" => Assign(|o, e, k, d| o.spec.health_port = int(d, e, k.name, k.example)),
        "health_path" => Assign(|o, e, k, d| o.spec.health_path = string(d, e, k.name, k.example)),
        "allow" => Parens(set_allow),
        "crate" => Assign(set_crate),
        _ => return None,
    })
}

/// Reads `value` for `key` with its setter, or reports a value written in another shape.
pub(super) fn set(out: &mut ParsedAttr, key: &'static Key, span: SpanRange, v: Value, d: &mut D) {
    let Some(setter) = setter(key.name) else {
        unreachable!("every key of keys::KEYS has a setter (checked by a unit test)")
    };
    let example = key.example;
    match (setter, v) {
        (Setter::Assign(f), Value::Expr(e)) => f(out, &e, key, d),
        (Setter::Flag(f), v) => f(out, boolean(d, v, key.name, span)),
        (Setter::Parens(f), Value::List(tokens)) => f(out, tokens, span, d),
        (Setter::Assign(_), Value::Flag) => {
            d.error(span, format!("`{}` needs a value", key.name))
                .with_help(format!("e.g. `{example}`"));
        }
        (Setter::Assign(_), Value::List(t)) => {
            d.error(
                SpanRange::of(&t),
                format!("`{0}` is written `{0} = value`", key.name),
            )
            .with_help(format!("e.g. `{example}`"));
        }
        (Setter::Parens(_), Value::Expr(e)) => {
            d.error(
                SpanRange::of(&e),
                format!(
                    "`{0}` is written as a list in parentheses, not `{0} = ..`",
                    key.name
                ),
            )
            .with_help(format!("e.g. `{example}`"));
        }
        (Setter::Parens(_), Value::Flag) => {
            d.error(span, format!("`{}` needs a list in parentheses", key.name))
                .with_help(format!("e.g. `{example}`"));
        }
    }
}

fn set_workers(out: &mut ParsedAttr, e: &Expr, k: &'static Key, d: &mut D) {
    let span = SpanRange::of(e);
    match strip_parens(e) {
        Expr::Tuple(t) if t.elems.len() == 2 => {
            let min = int(d, &t.elems[0], k.name, k.example);
            let max = int(d, &t.elems[1], k.name, k.example);
            if let (Some(min), Some(max)) = (min, max) {
                let min = Some(min);
                out.spec.workers = Some(WorkersSpec { min, max, span });
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
            if let Some(max) = int(d, e, k.name, k.example) {
                out.spec.workers = Some(WorkersSpec {
                    min: None,
                    max,
                    span,
                });
            }
        }
    }
}

fn set_scaler(out: &mut ParsedAttr, e: &Expr, k: &'static Key, d: &mut D) {
    let span = SpanRange::of(e);
    let expected = "`queue_delay(N)` or `request_count(N)`";
    match e {
        Expr::Call(c) if c.args.len() == 1 => {
            let kind =
                match &*c.func {
                    Expr::Path(p) => p.path.segments.last().map(|s| {
                        Spanned::new(s.ident.to_string(), SpanRange::single(s.ident.span()))
                    }),
                    _ => None,
                };
            match (kind, int(d, &c.args[0], k.name, k.example)) {
                (Some(kind), Some(value)) => {
                    out.spec.scaler = Some(ScalerSpec { kind, value, span })
                }
                (None, _) => type_error(d, e, k.name, expected, k.example),
                _ => {}
            }
        }
        Expr::Path(_) => {
            d.error(span, "`scaler` needs its value").with_help(
                "e.g. `scaler = queue_delay(4)` (seconds) or `scaler = request_count(2)` (jobs \
                 per worker)",
            );
        }
        _ => type_error(d, e, k.name, expected, k.example),
    }
}

fn set_secrets(out: &mut ParsedAttr, e: &Expr, k: &'static Key, d: &mut D) {
    match strip_parens(e) {
        Expr::Array(a) => {
            for x in &a.elems {
                if let Some(n) = name(d, x, k.name, k.example) {
                    out.spec.secrets.push(n);
                }
            }
        }
        _ => type_error(d, e, k.name, "a list of variable names", k.example),
    }
}

fn set_calls(out: &mut ParsedAttr, e: &Expr, k: &'static Key, d: &mut D) {
    let Expr::Array(a) = strip_parens(e) else {
        type_error(d, e, k.name, "a list of endpoint functions", k.example);
        return;
    };
    for x in &a.elems {
        if let Some(p) = path(d, x, k.name, k.example) {
            if p.get_ident().is_some_and(|i| *i == out.spec.fn_name.value) {
                self_call(d, &p, &out.spec.fn_name.value);
                continue;
            }
            let last = p.segments.last().map(|s| s.ident.to_string());
            let span = SpanRange::of(&p);
            out.spec
                .calls
                .push(Spanned::new(last.unwrap_or_default(), span));
            out.calls.push(p);
        }
    }
}

/// `calls = [own_name]`: a job that waits for a job of its own endpoint can deadlock the
/// endpoint once every worker waits.
fn self_call(d: &mut D, p: &syn::Path, fn_name: &str) {
    d.error(
        SpanRange::of(p),
        format!(
            "endpoint `{fn_name}` cannot call itself: its job would wait for a job of the same \
             endpoint, and once every worker waits, none finishes"
        ),
    )
    .with_help("split the work into a separate endpoint and call that");
}

fn set_init(out: &mut ParsedAttr, e: &Expr, k: &'static Key, d: &mut D) {
    if let Some(p) = path(d, e, k.name, k.example) {
        let text = p.to_token_stream().to_string().replace(' ', "");
        out.spec.init = Some(Spanned::new(text, SpanRange::of(&p)));
        out.init = Some(p);
    }
}

fn set_crate(out: &mut ParsedAttr, e: &Expr, k: &'static Key, d: &mut D) {
    let Some(s) = string(d, e, k.name, k.example) else {
        return;
    };
    match syn::parse_str::<syn::Path>(&s.value) {
        Ok(p) => out.krate = Some(p),
        Err(_) => {
            d.error(s.span, format!("`{}` is not a path", s.value))
                .with_help("e.g. `crate = \"my_sdk\"` when the SDK is renamed in Cargo.toml");
        }
    }
}

fn set_volume(out: &mut ParsedAttr, tokens: TokenStream, span: SpanRange, d: &mut D) {
    let mut v = VolumeSpec {
        name: None,
        size: None,
        datacenter: None,
        span,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, val) in nested(d, tokens, "volume") {
        let written = k.to_string();
        let at = SpanRange::single(k.span());
        // Another spelling of a key (`size_gb`) is the same key.
        let Some(key) = keys::find_in(VOLUME_KEYS, &written)
            .or_else(|| keys::renamed_in(VOLUME_KEYS, &written))
        else {
            d.error(at, format!("unknown key `{written}` in `volume(..)`"))
                .with_help("a volume has `name`, `size` (GB) and `datacenter`");
            continue;
        };
        if seen.contains(&key.name) {
            d.error(at, format!("`{}` is set twice in `volume(..)`", key.name));
            continue;
        }
        seen.push(key.name);
        let Some(val) = val else {
            d.error(at, format!("`{}` needs a value", key.name));
            continue;
        };
        match key.name {
            "name" => v.name = string(d, &val, key.name, key.example),
            "size" => v.size = int(d, &val, key.name, key.example),
            _ => v.datacenter = name(d, &val, key.name, key.example),
        }
    }
    out.spec.volumes.push(v);
}

fn set_model(out: &mut ParsedAttr, tokens: TokenStream, span: SpanRange, d: &mut D) {
    if out.spec.model.is_some() {
        d.error(span, "`model(..)` is set twice")
            .with_help("a worker holds one model: keep one `model(..)`");
        return;
    }
    let mut m = ModelWritten {
        preset: None,
        params_m: None,
        embedding_params_m: None,
        layers: None,
        kv_heads: None,
        head_dim: None,
        weights: None,
        kv: None,
        context: None,
        sessions: None,
        span,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, val) in nested(d, tokens, "model") {
        let written = k.to_string();
        let at = SpanRange::single(k.span());
        // Another tool's spelling of a key (`max_model_len`) is the same key.
        let Some(key) =
            keys::find_in(MODEL_KEYS, &written).or_else(|| keys::renamed_in(MODEL_KEYS, &written))
        else {
            let known: Vec<&str> = MODEL_KEYS.iter().map(|k| k.name).collect();
            d.error(at, format!("unknown key `{written}` in `model(..)`"))
                .with_help(format!("`model(..)` takes {}", known.join(", ")));
            continue;
        };
        if seen.contains(&key.name) {
            d.error(at, format!("`{}` is set twice in `model(..)`", key.name));
            continue;
        }
        seen.push(key.name);
        let Some(val) = val else {
            d.error(at, format!("`{}` needs a value", key.name))
                .with_help(format!("e.g. `{}`", key.example));
            continue;
        };
        let (n, ex) = (key.name, key.example);
        match n {
            "preset" => m.preset = name(d, &val, n, ex),
            "params_m" => m.params_m = int(d, &val, n, ex),
            "embedding_params_m" => m.embedding_params_m = int(d, &val, n, ex),
            "layers" => m.layers = int(d, &val, n, ex),
            "kv_heads" => m.kv_heads = int(d, &val, n, ex),
            "head_dim" => m.head_dim = int(d, &val, n, ex),
            "weights" => m.weights = precision(d, &val, n, ex),
            "kv" => m.kv = precision(d, &val, n, ex),
            "context" => m.context = int(d, &val, n, ex),
            _ => m.sessions = int(d, &val, n, ex),
        }
    }
    out.spec.model = Some(m);
}

/// A precision: a name (`int4`, `fp16`) or a number of bits (`4`).
fn precision(d: &mut D, e: &Expr, key: &str, example: &str) -> Option<Spanned<String, SpanRange>> {
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(i),
        ..
    }) = super::values::strip_parens(e)
    {
        return Some(Spanned::new(
            i.base10_digits().to_string(),
            SpanRange::of(e),
        ));
    }
    name(d, e, key, example)
}

fn set_env(out: &mut ParsedAttr, tokens: TokenStream, _: SpanRange, d: &mut D) {
    for (k, val) in nested(d, tokens, "env") {
        let Some(val) = val else {
            d.error(
                SpanRange::single(k.span()),
                format!("`{k}` needs a value, e.g. `{k} = \"..\"`"),
            );
            continue;
        };
        let key = Spanned::new(k.to_string(), SpanRange::single(k.span()));
        if let Some(v) = string(d, &val, &key.value, &format!("{k} = \"value\"")) {
            out.spec.env.push((key, v));
        }
    }
}

fn set_allow(out: &mut ParsedAttr, tokens: TokenStream, _: SpanRange, d: &mut D) {
    for seg in split_top_level(tokens) {
        if seg.is_empty() {
            continue;
        }
        match syn::parse2::<syn::Ident>(seg.clone()) {
            Ok(id) => out
                .spec
                .allow
                .push(Spanned::new(id.to_string(), SpanRange::single(id.span()))),
            Err(_) => {
                d.error(SpanRange::of(&seg), "`allow(..)` lists rule names")
                    .with_help("e.g. `allow(gpu_without_vram_floor)`");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KEYS, Shape};

    #[test]
    fn every_key_has_a_setter_of_its_shape() {
        for k in KEYS {
            let shape = match setter(k.name) {
                Some(Setter::Assign(_)) => Shape::Assign,
                Some(Setter::Flag(_)) => Shape::Flag,
                Some(Setter::Parens(_)) => Shape::Parens,
                None => panic!("`{}` has no setter", k.name),
            };
            assert_eq!(shape, k.shape, "`{}`", k.name);
        }
        assert!(setter("colour").is_none());
    }
}
