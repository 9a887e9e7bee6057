//! The rules: a [`Spec`] in, an [`EndpointConfig`] and every problem out. Each problem is spanned
//! on the token that caused it and says what is valid. Validation never stops early and always
//! returns a config (with defaults where a value was bad), so the attribute can still generate
//! code that keeps follow-on errors away.

mod allow;
mod name;
mod scaling;
mod support;
mod timeouts;
mod workers;

use std::borrow::Cow;

use crate::catalog::{self, GpuName, GpuType};
use crate::diagnostic::Diagnostics;
use crate::lint::Lint;
use crate::model::{
    EndpointConfig, EnvVar, GpuChoice, Hardware, NetworkVolume, Text, Workers, defaults, limits,
};
use crate::spec::{Int, Name, NameList, Spec};
use crate::suggest::did_you_mean;

use allow::check_allow;
use name::check_name;
pub use name::is_valid_name;
use scaling::{check_idle_with_request_count, check_scaler};
pub use support::group;
use support::in_range;
use timeouts::{check_execution_timeout, check_idle_timeout};
use workers::{check_concurrency, check_warm_worker, check_workers};

/// Checks a spec against the catalog and the platform's rules.
pub fn validate<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> EndpointConfig {
    let allow = check_allow(spec, d);
    let name = check_name(spec, d);
    let workers = check_workers(spec, d);
    let hardware = check_hardware(spec, d);
    let datacenters = check_datacenters(spec, d, &hardware);
    let volumes = check_volumes(spec, d, &datacenters, &hardware);
    let (env, secrets) = check_env(spec, d);

    check_idle_with_request_count(spec, d);
    let idle_timeout_s = check_idle_timeout(spec, d);
    let execution_timeout_ms = check_execution_timeout(spec, d);
    let concurrency = check_concurrency(spec, d);
    let scaler = check_scaler(spec, d);

    // Advice about the GPU selection only makes sense when every GPU name resolved.
    let gpu_names_ok = spec.gpu.as_ref().is_none_or(|g| {
        !g.items.is_empty()
            && g.items
                .iter()
                .all(|i| catalog::resolve_gpu(&i.value).is_some())
    });
    let min_vram_gb = if gpu_names_ok {
        check_min_vram(spec, d, &hardware)
    } else {
        spec.min_vram_gb
            .as_ref()
            .and_then(|v| u32::try_from(v.value).ok())
    };
    let interactive_wanted = spec.interactive.as_ref().is_some_and(|i| i.value);
    if let Hardware::Gpu { selection, .. } = &hardware
        && gpu_names_ok
    {
        check_gpu_advice(spec, d, selection, workers, min_vram_gb, interactive_wanted);
    }

    let interactive = spec.interactive.as_ref().is_some_and(|i| i.value);
    check_warm_worker(spec, d, workers, interactive);

    let mut calls: Vec<Text> = Vec::new();
    for c in &spec.calls {
        if calls.iter().any(|x| *x == c.value) {
            d.error(c.span, format!("`{}` is listed twice in `calls`", c.value))
                .with_help("list each endpoint once");
        } else {
            calls.push(Cow::Owned(c.value.clone()));
        }
    }

    let max_steps = match &spec.max_steps {
        None => None,
        Some(v) if v.value < 1 || v.value > i128::from(u32::MAX) => {
            d.error(
                v.span,
                format!("`max_steps = {}` must be at least 1", group(v.value)),
            )
            .with_help(
                "it caps the calls one job makes to other endpoints; remove it for no limit",
            );
            None
        }
        Some(v) => Some(v.value as u32),
    };

    EndpointConfig {
        name,
        hardware,
        workers,
        idle_timeout_s,
        execution_timeout_ms,
        concurrency,
        scaler,
        datacenters: datacenters.into(),
        volumes: volumes.into(),
        env: env.into(),
        secrets: secrets.into(),
        flashboot: spec
            .flashboot
            .as_ref()
            .map_or(defaults::FLASHBOOT, |f| f.value),
        min_vram_gb,
        interactive,
        calls: calls.into(),
        has_init: spec.init.is_some(),
        max_steps,
        allow: allow.into(),
    }
}

/// A flavor with the vCPU and RAM the user wrote, in another family: `cpu5c-4-16` has no
/// flavor, but `cpu3g-4-16` has 4 vCPU and 16 GB.
fn same_shape_flavor(written: &str) -> Option<&'static str> {
    let normal = written.to_ascii_lowercase().replace('_', "-");
    let mut parts = normal.split('-').skip(1);
    let vcpu: u32 = parts.next()?.parse().ok()?;
    let ram: u32 = parts.next()?.parse().ok()?;
    catalog::CPU_FLAVORS
        .iter()
        .find(|f| f.vcpu == vcpu && f.ram_gb == ram)
        .map(|f| f.id)
}

fn gpu_choices_help() -> String {
    let pools: Vec<String> = catalog::GPU_POOLS
        .iter()
        .map(|p| format!("{} ({} GB)", p.id, p.vram_gb))
        .collect();
    let types: Vec<String> = catalog::GPU_TYPES
        .iter()
        .map(|t| format!("{} ({} GB)", t.ident, t.vram_gb))
        .collect();
    format!(
        "GPU pools: {}; GPU types: {}; or ANY",
        pools.join(", "),
        types.join(", ")
    )
}

fn check_hardware<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Hardware {
    if let (Some(_), Some(cpu)) = (&spec.gpu, &spec.cpu) {
        d.error(
            cpu.span,
            "`gpu` and `cpu` are mutually exclusive: an endpoint's workers are either GPU or CPU \
             workers",
        )
        .with_help("keep `gpu = ..` for a GPU endpoint, or `cpu = ..` for a CPU endpoint");
    }
    if let Some(cpu) = &spec.cpu {
        let flavor = match catalog::resolve_cpu(&cpu.value) {
            Some(f) if f.vcpu < 2 || !f.vcpu.is_power_of_two() => {
                let fix = catalog::CPU_FLAVORS
                    .iter()
                    .find(|o| o.family() == f.family() && o.vcpu == 2)
                    .map_or("cpu3c-2-4", |o| o.id);
                d.error(
                    cpu.span,
                    format!(
                        "`{}` has {} vCPU: Runpod's serverless API creates CPU workers with a \
                         power-of-two number of vCPUs, at least 2",
                        f.id, f.vcpu
                    ),
                )
                .with_help(format!("use `cpu = \"{fix}\"`"));
                f.id
            }
            Some(f) => f.id,
            None => {
                let ids: Vec<&str> = catalog::CPU_FLAVORS.iter().map(|f| f.id).collect();
                let diag = d.error(cpu.span, format!("unknown CPU flavor `{}`", cpu.value));
                if let Some(m) = same_shape_flavor(&cpu.value)
                    .or_else(|| did_you_mean(&cpu.value, ids.iter().copied()))
                {
                    diag.with_help(format!("did you mean `{m}`?"));
                }
                diag.with_help(format!(
                    "CPU flavors are `cpu{{3g,3c,5c}}-{{vcpu}}-{{ram GB}}`: {}",
                    ids.join(", ")
                ));
                "cpu3g-2-8"
            }
        };
        for (key, span) in [
            ("gpu_count", spec.gpu_count.as_ref().map(|v| v.span)),
            (
                "min_cuda_version",
                spec.min_cuda_version.as_ref().map(|v| v.span),
            ),
            ("min_vram_gb", spec.min_vram_gb.as_ref().map(|v| v.span)),
        ] {
            if let (Some(span), None) = (span, &spec.gpu) {
                d.error(
                    span,
                    format!("`{key}` applies to GPU endpoints; this is a CPU endpoint"),
                )
                .with_help(format!(
                    "remove `{key}`, or use `gpu = ..` instead of `cpu`"
                ));
            }
        }
        if spec.gpu.is_none() {
            return Hardware::Cpu {
                flavor: Cow::Borrowed(flavor),
            };
        }
    }

    let count = spec
        .gpu_count
        .as_ref()
        .and_then(|v| in_range(d, v, limits::GPU_COUNT, "gpu_count", "GPUs per worker"))
        .map_or(defaults::GPU_COUNT, |v| v as u32);

    let min_cuda_version = match &spec.min_cuda_version {
        None => Cow::Borrowed(catalog::DEFAULT_MIN_CUDA_VERSION),
        Some(v) => match catalog::resolve_cuda(&v.value) {
            Some(c) => Cow::Borrowed(c),
            None => {
                let diag = d.error(v.span, format!("unknown CUDA version `{}`", v.value));
                if let Some(m) = did_you_mean(&v.value, catalog::CUDA_VERSIONS.iter().copied()) {
                    diag.with_help(format!("did you mean `\"{m}\"`?"));
                }
                diag.with_help(format!(
                    "CUDA versions: {}",
                    catalog::CUDA_VERSIONS.join(", ")
                ));
                Cow::Borrowed(catalog::DEFAULT_MIN_CUDA_VERSION)
            }
        },
    };

    let mut selection: Vec<GpuChoice> = Vec::new();
    match &spec.gpu {
        None => selection.push(GpuChoice::Any),
        Some(list) => {
            if list.items.is_empty() {
                d.error(list.span, "`gpu = []` selects no GPU")
                    .with_help("name a GPU type or pool, e.g. `gpu = ADA_24`, or `gpu = ANY`");
            }
            if list.items.len() > limits::GPU_PRIORITIES {
                d.error(
                    list.items[limits::GPU_PRIORITIES].span,
                    format!(
                        "a GPU priority list has at most {} entries; this one has {}",
                        limits::GPU_PRIORITIES,
                        list.items.len()
                    ),
                )
                .with_help("keep your three preferred choices; a pool covers several GPU types");
            }
            for item in &list.items {
                let choice = match catalog::resolve_gpu(&item.value) {
                    Some(GpuName::Any) => {
                        if list.items.len() > 1 {
                            d.error(
                                item.span,
                                "`ANY` already means every pool; it cannot be part of a priority list",
                            )
                            .with_help("use `gpu = ANY` alone, or list specific pools and types");
                        }
                        GpuChoice::Any
                    }
                    Some(GpuName::Pool(p)) => GpuChoice::Pool(Cow::Borrowed(p.id)),
                    Some(GpuName::Type(t)) => GpuChoice::Type(Cow::Borrowed(t.id)),
                    None => {
                        let diag = d.error(item.span, format!("unknown GPU `{}`", item.value));
                        if let Some(m) = did_you_mean(&item.value, catalog::gpu_names()) {
                            diag.with_help(format!("did you mean `{m}`?"));
                        }
                        diag.with_help(gpu_choices_help());
                        continue;
                    }
                };
                if selection.contains(&choice) {
                    d.error(
                        item.span,
                        format!("`{}` is listed twice in `gpu`", item.value),
                    )
                    .with_help("list each GPU type or pool once");
                    continue;
                }
                selection.push(choice);
            }
        }
    }
    if selection.is_empty() {
        selection.push(GpuChoice::Any);
    }
    Hardware::Gpu {
        selection: selection.into(),
        count,
        min_cuda_version,
    }
}

/// The GPU types a selection can land on, ignoring any VRAM floor.
fn selection_types(selection: &[GpuChoice]) -> Vec<&'static GpuType> {
    let probe = EndpointConfig {
        hardware: Hardware::Gpu {
            selection: selection.to_vec().into(),
            count: 1,
            min_cuda_version: Cow::Borrowed(catalog::DEFAULT_MIN_CUDA_VERSION),
        },
        ..EndpointConfig::new("probe")
    };
    probe.gpu_types()
}

fn check_min_vram<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    hardware: &Hardware,
) -> Option<u32> {
    let v = spec.min_vram_gb.as_ref()?;
    if v.value < 1 || v.value > 10_000 {
        d.error(
            v.span,
            format!(
                "`min_vram_gb = {}` must be a positive number of GB",
                v.value
            ),
        );
        return None;
    }
    let floor = v.value as u32;
    let Hardware::Gpu {
        selection, count, ..
    } = hardware
    else {
        return Some(floor);
    };
    let per_worker = |t: &GpuType| t.vram_gb * count;
    let gpus = if *count == 1 { "GPU" } else { "GPUs" };
    if selection.contains(&GpuChoice::Any) {
        let largest = catalog::GPU_TYPES
            .iter()
            .max_by_key(|t| t.vram_gb)
            .expect("catalog has GPUs");
        if per_worker(largest) < floor {
            let needed = floor.div_ceil(largest.vram_gb);
            let diag = d.error(
                v.span,
                format!(
                    "no GPU offers `min_vram_gb = {floor}` with {count} {gpus} per worker: the \
                     largest card, {}, has {} GB",
                    largest.id, largest.vram_gb
                ),
            );
            if needed <= 8 {
                diag.with_help(format!(
                    "set `gpu_count = {needed}` to spread the model over {needed} GPUs"
                ));
            }
        }
        return Some(floor);
    }
    let types = selection_types(selection);
    if let Some(smallest) = types.iter().min_by_key(|t| t.vram_gb)
        && per_worker(smallest) < floor
    {
        // Name the entries as the user wrote them (`ADA_24`), with the cards that are too small.
        let written: Vec<&str> = spec
            .gpu
            .as_ref()
            .map(|g| g.items.iter().map(|i| i.value.as_str()).collect())
            .unwrap_or_default();
        let mut too_small = Vec::new();
        for (choice, as_written) in selection.iter().zip(written) {
            let small: Vec<String> = selection_types(std::slice::from_ref(choice))
                .into_iter()
                .filter(|t| per_worker(t) < floor)
                .map(|t| format!("{}, {} GB", t.id, t.vram_gb))
                .collect();
            if !small.is_empty() {
                too_small.push(format!("`{as_written}` ({})", small.join("; ")));
            }
        }
        let diag = d.error(
            v.span,
            format!(
                "`min_vram_gb = {floor}`, but this selection can land on {} with {} GB{}",
                smallest.id,
                smallest.vram_gb,
                if *count > 1 {
                    format!(" × {count} = {} GB", per_worker(smallest))
                } else {
                    String::new()
                }
            ),
        );
        diag.with_help(format!(
            "below the floor: {}; remove it from `gpu`, or choose larger cards",
            too_small.join(", ")
        ));
        let needed = floor.div_ceil(smallest.vram_gb);
        if needed <= 8 && needed > *count {
            diag.with_help(format!("or set `gpu_count = {needed}`"));
        }
    }
    Some(floor)
}

fn check_gpu_advice<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    selection: &[GpuChoice],
    workers: Workers,
    min_vram_gb: Option<u32>,
    interactive: bool,
) {
    let gpu_span = spec.gpu.as_ref().map_or(spec.attr_span, |g| g.span);
    if min_vram_gb.is_none() {
        if selection.contains(&GpuChoice::Any) {
            let what = if spec.gpu.is_some() {
                "`gpu = ANY` without `min_vram_gb`"
            } else {
                "no `gpu` (which means ANY) and no `min_vram_gb`"
            };
            if let Some(diag) = d.lint(
                Lint::GpuWithoutVramFloor,
                gpu_span,
                format!("{what}: workers can land on a 16 GB card and run out of memory"),
            ) {
                diag.with_help(
                    "add `min_vram_gb = N` (model weights + KV cache), or pin a pool such as \
                     `gpu = AMPERE_80`",
                );
            }
        } else {
            let types = selection_types(selection);
            let mut pools: Vec<&str> = types.iter().map(|t| t.pool).collect();
            pools.dedup();
            let lo = types.iter().map(|t| t.vram_gb).min().unwrap_or(0);
            let hi = types.iter().map(|t| t.vram_gb).max().unwrap_or(0);
            if pools.len() > 1
                && lo != hi
                && let Some(diag) = d.lint(
                    Lint::GpuWithoutVramFloor,
                    gpu_span,
                    format!(
                        "this GPU selection spans cards from {lo} GB to {hi} GB without \
                         `min_vram_gb`"
                    ),
                )
            {
                diag.with_help(
                    "add `min_vram_gb = N` so the attribute checks every card fits the model",
                );
            }
        }
    }
    if let Some(list) = &spec.gpu
        && list.items.len() > 1
        && workers.max < limits::FALLBACK_MIN_WORKERS
        && let Some(diag) = d.lint(
            Lint::GpuFallbackNeedsFiveWorkers,
            list.span,
            format!(
                "the platform only falls back along a GPU priority list when max workers ≥ {}; \
                 with max = {} every worker waits for `{}`",
                limits::FALLBACK_MIN_WORKERS,
                workers.max,
                list.items[0].value
            ),
        )
    {
        let min = if interactive {
            workers.min.max(1)
        } else {
            workers.min
        };
        diag.with_help(format!(
            "raise the maximum, e.g. `workers = ({min}, {})`, or keep a single GPU choice",
            limits::FALLBACK_MIN_WORKERS.max(workers.max)
        ));
    }
}

fn resolve_dc<S: Copy>(d: &mut Diagnostics<S>, n: &Name<S>) -> Option<&'static str> {
    match catalog::resolve_data_center(&n.value) {
        Some(dc) => Some(dc.id),
        None if let Some(r) = catalog::retired(catalog::RetiredKind::DataCenter, &n.value) => {
            // Left out on purpose: say why, and offer the nearest, not the nearest spelling.
            d.error(n.span, r.message(&n.value)).with_help(format!(
                "data centers still offered, nearest first: {}",
                r.instead_written().join(", ")
            ));
            None
        }
        None => {
            let idents: Vec<String> = catalog::DATA_CENTERS.iter().map(|d| d.ident()).collect();
            let diag = d.error(n.span, format!("unknown data center `{}`", n.value));
            if let Some(m) = did_you_mean(&n.value, idents.iter().map(String::as_str)) {
                diag.with_help(format!("did you mean `{m}`?"));
            }
            diag.with_help(format!("data centers: {}", idents.join(", ")));
            None
        }
    }
}

fn check_datacenters<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    hardware: &Hardware,
) -> Vec<Text> {
    let Some(NameList { items, span, .. }) = &spec.datacenter else {
        return Vec::new();
    };
    if items.is_empty() {
        d.error(*span, "`datacenter = []` allows no data center")
            .with_help(
                "remove `datacenter` to run anywhere, or name one, e.g. `datacenter = EU_RO_1`",
            );
    }
    let mut out: Vec<Text> = Vec::new();
    for n in items {
        let Some(id) = resolve_dc(d, n) else { continue };
        if out.iter().any(|x| x == id) {
            d.error(n.span, format!("data center `{}` is listed twice", n.value))
                .with_help("list each data center once");
            continue;
        }
        if matches!(hardware, Hardware::Cpu { .. })
            && !catalog::data_center(id).is_some_and(|dc| dc.cpu)
        {
            let cpu_dcs = cpu_data_centers();
            d.error(
                n.span,
                format!("CPU endpoints are not available in `{}`", n.value),
            )
            .with_help(format!("CPU data centers: {}", cpu_dcs.join(", ")));
        }
        out.push(Cow::Borrowed(id));
    }
    out
}

/// The data centers with CPU workers, as users write them.
fn cpu_data_centers() -> Vec<String> {
    catalog::DATA_CENTERS
        .iter()
        .filter(|d| d.cpu)
        .map(|d| d.ident())
        .collect()
}

/// A data center id (`EU-RO-1`) as users write it in the attribute (`EU_RO_1`).
fn dc_ident(id: &str) -> String {
    id.replace('-', "_")
}

fn dc_idents(ids: &[Text]) -> String {
    ids.iter()
        .map(|d| dc_ident(d))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_volumes<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    datacenters: &[Text],
    hardware: &Hardware,
) -> Vec<NetworkVolume> {
    let mut out: Vec<NetworkVolume> = Vec::new();
    for v in &spec.volumes {
        let name = match &v.name {
            Some(n) if n.value.trim().is_empty() => {
                d.error(
                    n.span,
                    "a network volume's name must not be empty or whitespace-only",
                )
                .with_help("e.g. `volume(name = \"model-weights\", size = 200)`");
                None
            }
            Some(n) => Some(n.value.clone()),
            None => {
                d.error(v.span, "a network volume needs a `name`")
                    .with_help("e.g. `volume(name = \"model-weights\", size = 200)`");
                None
            }
        };
        let size_gb = v
            .size
            .as_ref()
            .and_then(|s| in_range(d, s, limits::VOLUME_SIZE_GB, "size", "GB"))
            .map_or(defaults::VOLUME_SIZE_GB, |s| s as u32);
        let dc: Option<Text> = match &v.datacenter {
            Some(n) => {
                let id = resolve_dc(d, n);
                if let Some(id) = id
                    && !datacenters.is_empty()
                    && !datacenters.iter().any(|x| x == id)
                {
                    d.error(
                        n.span,
                        format!(
                            "network volume data center ({}) is not in the endpoint's data \
                             center list ({})",
                            dc_ident(id),
                            dc_idents(datacenters)
                        ),
                    )
                    .with_help(
                        "a worker can only mount a volume in its own data center: add it to \
                         `datacenter = [..]` or move the volume",
                    );
                }
                if let Some(id) = id
                    && datacenters.is_empty()
                    && matches!(hardware, Hardware::Cpu { .. })
                    && !catalog::data_center(id).is_some_and(|dc| dc.cpu)
                {
                    let cpu_dcs = cpu_data_centers();
                    d.error(
                        n.span,
                        format!(
                            "this CPU endpoint's volume is in `{}`, where there are no CPU \
                             workers to mount it",
                            n.value
                        ),
                    )
                    .with_help(format!(
                        "put the volume in a CPU data center: {}",
                        cpu_dcs.join(", ")
                    ));
                }
                id.map(Cow::Borrowed)
            }
            None if datacenters.len() == 1 => Some(datacenters[0].clone()),
            None => {
                d.error(
                    v.span,
                    "a network volume lives in one data center; this one does not say which",
                )
                .with_help(if datacenters.is_empty() {
                    "add `datacenter = X` to the volume, and pin the endpoint to it with \
                     `datacenter = X`"
                        .to_string()
                } else {
                    format!(
                        "add `datacenter = X` to the volume, one of: {}",
                        dc_idents(datacenters)
                    )
                });
                None
            }
        };
        if let (Some(dc), Some(name)) = (&dc, &name) {
            if let Some(other) = out.iter().find(|o| o.datacenter == *dc) {
                d.error(
                    v.span,
                    format!(
                        "multiple volumes in data center {} ('{}' and '{name}'): only one \
                         network volume is allowed per data center",
                        dc_ident(dc),
                        other.name
                    ),
                )
                .with_help("merge them into one volume, or put them in different data centers");
                continue;
            }
            out.push(NetworkVolume {
                name: Cow::Owned(name.clone()),
                size_gb,
                datacenter: dc.clone(),
            });
        }
    }
    out
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_env_key<S: Copy>(
    d: &mut Diagnostics<S>,
    k: &Name<S>,
    seen: &mut Vec<(String, &'static str)>,
    here: &'static str,
) -> bool {
    if !is_env_name(&k.value) {
        d.error(
            k.span,
            format!("`{}` is not a valid environment variable name", k.value),
        )
        .with_help("use letters, digits and `_`, not starting with a digit");
        return false;
    }
    if crate::vars::is_managed(&k.value) {
        d.error(
            k.span,
            format!(
                "`{}` is set by the SDK (it selects the endpoint a worker serves, or routes \
                 calls between endpoints)",
                k.value
            ),
        )
        .with_help("choose another name; `app deploy` writes these variables itself");
        return false;
    }
    if k.value.starts_with(crate::vars::RUNPOD_PREFIX) {
        d.error(
            k.span,
            format!(
                "`{}`: the `RUNPOD_` prefix is reserved for variables the platform sets",
                k.value
            ),
        )
        .with_help("choose another name");
        return false;
    }
    if let Some((_, first)) = seen.iter().find(|(name, _)| *name == k.value) {
        let msg = if *first == here {
            format!(
                "environment variable `{}` is set twice in `{here}`",
                k.value
            )
        } else {
            format!(
                "environment variable `{}` is in both `{first}` and `{here}`",
                k.value
            )
        };
        d.error(k.span, msg).with_help(
            "`env(..)` sets a value in the manifest; `secrets = [..]` copies a value from the \
             deployer's environment without writing it anywhere: keep one",
        );
        return false;
    }
    seen.push((k.value.clone(), here));
    true
}

fn check_env<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> (Vec<EnvVar>, Vec<Text>) {
    let mut seen = Vec::new();
    let mut env = Vec::new();
    for (k, v) in &spec.env {
        if check_env_key(d, k, &mut seen, "env(..)") {
            env.push(EnvVar {
                key: Cow::Owned(k.value.clone()),
                value: Cow::Owned(v.value.clone()),
            });
        }
    }
    let mut secrets = Vec::new();
    for k in &spec.secrets {
        if check_env_key(d, k, &mut seen, "secrets") {
            secrets.push(Cow::Owned(k.value.clone()));
        }
    }
    (env, secrets)
}

impl EndpointConfig {
    /// The config as a spec (no spans), so the attribute's rules can check a config built in
    /// code.
    pub fn to_spec(&self) -> Spec<()> {
        let n = |s: &str| Name::new(s.to_string(), ());
        let i = |v: u64| Int::new(i128::from(v), ());
        let mut spec = Spec::new(n(&self.name), ());
        spec.name = Some(n(&self.name));
        match &self.hardware {
            Hardware::Gpu {
                selection,
                count,
                min_cuda_version,
            } => {
                let items = selection
                    .iter()
                    .map(|c| match c {
                        GpuChoice::Any => n("ANY"),
                        GpuChoice::Pool(p) | GpuChoice::Type(p) => n(p),
                    })
                    .collect::<Vec<_>>();
                spec.gpu = Some(NameList {
                    is_list: items.len() > 1,
                    items,
                    span: (),
                });
                spec.gpu_count = Some(i(u64::from(*count)));
                spec.min_cuda_version = Some(n(min_cuda_version));
            }
            Hardware::Cpu { flavor } => spec.cpu = Some(n(flavor)),
        }
        spec.workers = Some(crate::spec::WorkersSpec {
            min: Some(i(u64::from(self.workers.min))),
            max: i(u64::from(self.workers.max)),
            span: (),
        });
        // A config always has an idle timeout; it only means something with the queue-delay
        // scaler (the attribute refuses `idle_timeout` next to `request_count`).
        if matches!(self.scaler, crate::Scaler::QueueDelay(_)) {
            spec.idle_timeout = Some(i(u64::from(self.idle_timeout_s)));
        }
        spec.execution_timeout_ms = self.execution_timeout_ms.map(i);
        spec.concurrency = Some(i(u64::from(self.concurrency)));
        spec.scaler = Some(crate::spec::ScalerSpec {
            kind: n(self.scaler.kind()),
            value: i(u64::from(self.scaler.value())),
            span: (),
        });
        if !self.datacenters.is_empty() {
            spec.datacenter = Some(NameList {
                items: self.datacenters.iter().map(|d| n(d)).collect(),
                is_list: true,
                span: (),
            });
        }
        spec.volumes = self
            .volumes
            .iter()
            .map(|v| crate::spec::VolumeSpec {
                name: Some(n(&v.name)),
                size: Some(i(u64::from(v.size_gb))),
                datacenter: Some(n(&v.datacenter)),
                span: (),
            })
            .collect();
        spec.env = self.env.iter().map(|e| (n(&e.key), n(&e.value))).collect();
        spec.secrets = self.secrets.iter().map(|s| n(s)).collect();
        spec.flashboot = Some(crate::spec::Spanned::new(self.flashboot, ()));
        spec.min_vram_gb = self.min_vram_gb.map(|v| i(u64::from(v)));
        spec.interactive = Some(crate::spec::Spanned::new(self.interactive, ()));
        spec.calls = self.calls.iter().map(|c| n(c)).collect();
        spec.init = self.has_init.then(|| n("init"));
        spec.max_steps = self.max_steps.map(|v| i(u64::from(v)));
        spec.allow = self.allow.iter().map(|a| n(a)).collect();
        spec
    }

    /// Checks a config built in code against the attribute's rules. Warnings are returned too;
    /// the config is usable when no entry is an error.
    pub fn check(&self) -> Vec<crate::Diagnostic<()>> {
        let mut d = Diagnostics::new();
        let _ = validate(&self.to_spec(), &mut d);
        d.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retired_data_center_gets_its_reason_and_the_nearest_ones() {
        let config = EndpointConfig {
            hardware: Hardware::Gpu {
                selection: vec![GpuChoice::Pool("ADA_24".into())].into(),
                count: 1,
                min_cuda_version: "12.8".into(),
            },
            datacenters: vec![Cow::Borrowed("US-GA-2")].into(),
            min_vram_gb: Some(20),
            ..EndpointConfig::new("e")
        };
        let problems = config.check();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("no network storage"),
            "{problems:?}"
        );
        assert!(!problems[0].render().contains("did you mean"));
        assert!(problems[0].help[0].contains("nearest first: US_NC_2, US_IL_1"));
    }
}
