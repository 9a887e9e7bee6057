//! `model(..)`: the GPU-memory budget of what a worker holds ([`crate::budget`]), checked
//! against every card the GPU selection can land on (times `gpu_count`), like `min_vram_gb`. An
//! error shows the arithmetic and the card, and offers each fix that would fit, computed: more
//! GPUs per worker, a larger card, fewer sessions, a shorter context, a lower precision.
//! Without `sessions`, a worker serves as many as fit on the smallest card. With `gpu = ANY`
//! the budget sets the floor that picks the cards (only the largest must hold it), and a worker
//! holds one session unless `sessions` says more.

use super::vram::selection_types;
use crate::budget::{ModelSpec, gib, usable_gib};
use crate::catalog::models::{self, MODELS, PRECISIONS};
use crate::catalog::{self, GpuType};
use crate::diagnostic::Diagnostics;
use crate::model::{GpuChoice, Hardware};
use crate::spec::{Int, ModelWritten, Name, Spec};
use crate::suggest::did_you_mean;

/// The context a session holds when `model(..)` does not say.
pub const DEFAULT_CONTEXT: u32 = 8_192;

/// The model a worker holds, checked against the GPUs it may land on. `None` without
/// `model(..)`, or when it cannot be resolved (the problem is reported).
pub(super) fn check_model<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    hardware: &Hardware,
    gpu_names_ok: bool,
) -> Option<ModelSpec> {
    let w = spec.model.as_ref()?;
    let Hardware::Gpu {
        selection, count, ..
    } = hardware
    else {
        d.error(
            w.span,
            "`model(..)` describes what a GPU holds, and this endpoint runs on CPUs",
        )
        .with_help("use `gpu = ..` with `model(..)`, or drop `model(..)`");
        return None;
    };
    let mut m = resolve(w, d)?;
    if !gpu_names_ok {
        return Some(m); // an unknown GPU name is reported already
    }
    // Every card the selection can land on must hold the budget; with `ANY` the budget's floor
    // picks the cards instead (as `min_vram_gb` does), so only the largest must, and a worker
    // holds one session unless `sessions` says more.
    let any = selection.contains(&GpuChoice::Any);
    let cards = selection_types(selection);
    let smallest = if any {
        cards.iter().max_by_key(|t| t.vram_gb)?
    } else {
        cards.iter().min_by_key(|t| t.vram_gb)?
    };
    let usable = usable_gib(smallest.vram_gb, *count);
    let span = w.sessions.as_ref().map_or(w.span, |s| s.span);
    if w.sessions.is_none() {
        let fit = m.sessions_fitting(usable);
        m.sessions = if any { fit.min(1) } else { fit };
    }
    let budget = m.budget();
    if m.sessions >= 1 && budget.needed_gib <= usable {
        return Some(m);
    }
    let what = match &m.preset {
        Some(p) => models::model(p).map_or(p.to_string(), |x| x.name.to_string()),
        None => format!("a model of {:.2}B parameters", m.params_m as f64 / 1000.0),
    };
    // Say which figures the attribute chose, so the user sees what to write.
    let context_note = match (&w.context, &m.preset) {
        (Some(_), _) => String::new(),
        (None, Some(p)) => format!(
            " (the default context; {} takes up to {})",
            models::model(p).map_or(String::new(), |x| x.name.to_string()),
            models::model(p).map_or(0, |x| x.max_context)
        ),
        (None, None) => " (the default context)".to_string(),
    };
    let sessions_note = if w.sessions.is_none() {
        " (none fits)"
    } else {
        ""
    };
    let shown = m.sessions.max(1);
    let shown_budget = m.budget_for(shown);
    // The card as the selection names it: `AMPERE_24` can land on `NVIDIA_RTX_A5000`.
    let card = written_entry(spec, selection, smallest)
        .filter(|w| *w != smallest.ident)
        .map_or(format!("`{}`", smallest.ident), |w| {
            format!("`{w}` can land on `{}`, which", smallest.ident)
        });
    let diag = d.error(
        span,
        format!(
            "{what} with {} bit weights and {}{sessions_note} of {} tokens{context_note} needs {}, \
             but {card} gives {} ({} % of {} GB × {count} GPU{})",
            m.weight_bits,
            crate::budget::plural(shown, "session"),
            m.context,
            gib(shown_budget.needed_gib),
            gib(usable),
            (crate::budget::GPU_MEMORY_UTILIZATION * 100.0) as u32,
            smallest.vram_gb,
            if *count == 1 { "" } else { "s" },
        ),
    );
    for line in shown_budget.lines(&ModelSpec {
        sessions: shown,
        ..m.clone()
    }) {
        diag.with_help(line);
    }
    for fix in fixes(&m, shown, smallest, *count, selection) {
        diag.with_help(fix);
    }
    None
}

/// The entry of `gpu = [..]`, as written, that can land on `card`.
fn written_entry<'a, S: Copy>(
    spec: &'a Spec<S>,
    selection: &[GpuChoice],
    card: &GpuType,
) -> Option<&'a str> {
    let written = spec.gpu.as_ref()?;
    selection
        .iter()
        .zip(&written.items)
        .find(|(choice, _)| selection_types(std::slice::from_ref(choice)).contains(&card))
        .map(|(_, w)| w.value.as_str())
}

/// Each change that would make `m` (with `sessions`) fit, computed.
fn fixes(
    m: &ModelSpec,
    sessions: u32,
    smallest: &GpuType,
    count: u32,
    selection: &[GpuChoice],
) -> Vec<String> {
    let m = ModelSpec {
        sessions,
        ..m.clone()
    };
    let needed = m.budget().needed_gib;
    let mut out = Vec::new();
    // Tensor parallelism splits the attention heads: 2, 4 or 8 GPUs, as inference servers take.
    if let Some(n) = [2, 4, 8]
        .into_iter()
        .filter(|&n| n > count)
        .find(|&n| needed <= usable_gib(smallest.vram_gb, n))
    {
        out.push(format!(
            "fits with `gpu_count = {n}`: {} over {n} × {} GB",
            gib(needed),
            smallest.vram_gb
        ));
    }
    let mut larger: Vec<&GpuType> = catalog::GPU_TYPES
        .iter()
        .filter(|t| needed <= usable_gib(t.vram_gb, count))
        .collect();
    larger.sort_by_key(|t| t.vram_gb);
    larger.dedup_by_key(|t| t.vram_gb);
    if !larger.is_empty() && !selection.contains(&GpuChoice::Any) {
        let names: Vec<String> = larger
            .iter()
            .take(3)
            .map(|t| format!("{} ({} GB)", t.ident, t.vram_gb))
            .collect();
        out.push(format!(
            "fits on a larger card: `gpu = {}`",
            names.join("` or `gpu = ")
        ));
    }
    let usable = usable_gib(smallest.vram_gb, count);
    let fit = m.sessions_fitting(usable);
    if fit >= 1 && fit < sessions {
        out.push(format!("fits with `sessions = {fit}`"));
    }
    // (A list of several cards is replaced by the larger card: the list's small ones are what
    // does not fit.)
    let context = m.context_fitting(usable);
    if context >= 512 && context < m.context {
        out.push(format!(
            "fits with `context = {}` ({} sessions)",
            round_down(context),
            sessions
        ));
    }
    for bits in [8, 4] {
        if bits < m.weight_bits {
            let lower = ModelSpec {
                weight_bits: bits,
                ..m.clone()
            };
            if lower.budget().needed_gib <= usable {
                out.push(format!(
                    "fits with `weights = {}` ({} of weights)",
                    if bits == 8 { "fp8" } else { "int4" },
                    gib(lower.budget().weights_gib)
                ));
                break;
            }
        }
    }
    if m.kv_bits > 8 {
        let lower = ModelSpec {
            kv_bits: 8,
            ..m.clone()
        };
        if lower.budget().needed_gib <= usable {
            out.push("fits with `kv = fp8` (half the KV cache)".to_string());
        }
    }
    out
}

/// `n` rounded down to a multiple of 1 024 (a context length as people write them).
fn round_down(n: u32) -> u32 {
    if n >= 1024 { n / 1024 * 1024 } else { n }
}

/// The figures `model(..)` gives, or its preset's; the precisions; the context.
fn resolve<S: Copy>(w: &ModelWritten<S>, d: &mut Diagnostics<S>) -> Option<ModelSpec> {
    let preset = match &w.preset {
        Some(p) => match models::model(&p.value) {
            Some(m) => Some(m),
            None => {
                let names = MODELS.iter().map(|m| m.ident);
                let diag = d.error(p.span, format!("unknown model preset `{}`", p.value));
                match did_you_mean(&p.value, names) {
                    Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                    None => diag.with_help(format!(
                        "the presets are {}; or give the figures: `params_m`, `layers`, \
                         `kv_heads`, `head_dim`",
                        MODELS
                            .iter()
                            .map(|m| m.ident)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                return None;
            }
        },
        None => None,
    };
    let figure = |v: &Option<Int<S>>, from: Option<u64>, name: &str, d: &mut Diagnostics<S>| match v
    {
        Some(v) if v.value >= 1 && v.value <= i128::from(u32::MAX) * 1000 => Some(v.value as u64),
        Some(v) => {
            d.error(
                v.span,
                format!("`{name} = {}` must be a positive number", v.value),
            );
            None
        }
        None => from,
    };
    let params = figure(&w.params_m, preset.map(|p| p.params_m), "params_m", d);
    let embedding = match &w.embedding_params_m {
        Some(v) if v.value >= 0 => Some(v.value as u64),
        Some(v) => {
            d.error(
                v.span,
                format!("`embedding_params_m = {}` must not be negative", v.value),
            );
            return None;
        }
        None => Some(preset.map_or(0, |p| p.embedding_params_m)),
    };
    let layers = figure(&w.layers, preset.map(|p| u64::from(p.layers)), "layers", d);
    let kv_heads = figure(
        &w.kv_heads,
        preset.map(|p| u64::from(p.kv_heads)),
        "kv_heads",
        d,
    );
    let head_dim = figure(
        &w.head_dim,
        preset.map(|p| u64::from(p.head_dim)),
        "head_dim",
        d,
    );
    let missing: Vec<&str> = [
        ("params_m", params),
        ("layers", layers),
        ("kv_heads", kv_heads),
        ("head_dim", head_dim),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_none())
    .map(|(n, _)| n)
    .collect();
    if !missing.is_empty() && preset.is_none() && w.preset.is_none() {
        d.error(
            w.span,
            format!(
                "`model(..)` needs a `preset`, or the figures {}",
                missing.join(", ")
            ),
        )
        .with_help(
            "e.g. `model(preset = LLAMA_3_1_8B)`, or `model(params_m = 8_030, layers = 32, \
             kv_heads = 8, head_dim = 128)` from the model's config.json",
        );
        return None;
    }
    let weight_bits = bits(&w.weights, d)?;
    let kv_bits = bits(&w.kv, d)?;
    if let Some(kv) = &w.kv
        && kv_bits < 8
    {
        d.error(
            kv.span,
            format!("a {kv_bits}-bit KV cache is not one inference servers keep"),
        )
        .with_help("vLLM's cache is 16 bits (fp16, bf16) or 8 (`kv = fp8`)");
        return None;
    }
    let context = match &w.context {
        Some(c) if c.value < 1 || c.value > i128::from(u32::MAX) => {
            d.error(
                c.span,
                format!(
                    "`context = {}` must be a positive number of tokens",
                    c.value
                ),
            );
            return None;
        }
        Some(c) => {
            let c32 = c.value as u32;
            if let Some(p) = preset
                && c32 > p.max_context
            {
                d.error(
                    c.span,
                    format!(
                        "`context = {c32}` is longer than {} takes ({} tokens)",
                        p.name, p.max_context
                    ),
                )
                .with_help(format!("use `context = {}` or less", p.max_context));
                return None;
            }
            c32
        }
        None => preset.map_or(DEFAULT_CONTEXT, |p| p.max_context.min(DEFAULT_CONTEXT)),
    };
    let sessions = match &w.sessions {
        Some(s) if s.value < 1 || s.value > 100_000 => {
            d.error(
                s.span,
                format!("`sessions = {}` must be at least 1", s.value),
            );
            return None;
        }
        Some(s) => s.value as u32,
        None => 0,
    };
    Some(ModelSpec {
        preset: preset.map(|p| p.ident.into()),
        params_m: params?,
        embedding_params_m: embedding?,
        layers: layers? as u32,
        kv_heads: kv_heads? as u32,
        head_dim: head_dim? as u32,
        weight_bits,
        kv_bits,
        context,
        sessions,
    })
}

/// A precision's bits (16 when not written).
fn bits<S: Copy>(v: &Option<Name<S>>, d: &mut Diagnostics<S>) -> Option<u32> {
    let Some(v) = v else {
        return Some(16);
    };
    let bits = match v.value.parse::<u32>() {
        Ok(b) => [4, 8, 16, 32].contains(&b).then_some(b),
        Err(_) => models::precision_bits(&v.value),
    };
    if bits.is_none() {
        d.error(v.span, format!("unknown precision `{}`", v.value))
            .with_help(format!("write one of {PRECISIONS}, or bits: 4, 8, 16, 32"));
    }
    bits
}

/// `min_vram_gb` from the budget: the GB per worker that hold it, when `min_vram_gb` is not
/// written; a written one below it contradicts the budget.
pub(super) fn reconcile_min_vram<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    model: Option<&ModelSpec>,
    min_vram_gb: Option<u32>,
) -> Option<u32> {
    let Some(m) = model.filter(|m| m.sessions >= 1) else {
        return min_vram_gb;
    };
    let needed = m.budget().needed_gib;
    let floor = (needed / crate::budget::GPU_MEMORY_UTILIZATION).ceil() as u32;
    match (&spec.min_vram_gb, min_vram_gb) {
        (Some(written), Some(v)) if v < floor => {
            d.error(
                written.span,
                format!(
                    "`min_vram_gb = {v}` contradicts `model(..)`: its budget needs {floor} GB of \
                     cards' memory ({} used at {} %)",
                    gib(needed),
                    (crate::budget::GPU_MEMORY_UTILIZATION * 100.0) as u32
                ),
            )
            .with_help(format!(
                "drop `min_vram_gb` (the budget sets it), or write `min_vram_gb = {floor}`"
            ));
            Some(floor)
        }
        (Some(_), v) => v,
        (None, _) => Some(floor),
    }
}

/// Jobs per worker: the sessions the budget holds; a `concurrency` above them is an error.
pub(super) fn reconcile_concurrency<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    model: Option<&ModelSpec>,
    concurrency: u32,
) -> u32 {
    let Some(m) = model.filter(|m| m.sessions >= 1) else {
        return concurrency;
    };
    match &spec.concurrency {
        None => m.sessions,
        Some(c) if concurrency > m.sessions => {
            d.error(
                c.span,
                format!(
                    "`concurrency = {concurrency}` runs more jobs at once than the model's budget \
                     holds sessions ({}): the jobs beyond it would run out of GPU memory",
                    m.sessions
                ),
            )
            .with_help(format!(
                "drop `concurrency` (it follows the budget), or write `concurrency = {}`; for \
                 more, give `model(..)` fewer tokens of context, a lower precision, or more GPUs",
                m.sessions
            ));
            m.sessions
        }
        Some(_) => concurrency,
    }
}
