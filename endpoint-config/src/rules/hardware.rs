//! Hardware rules: `gpu` or `cpu` (not both); a CPU flavor the serverless API can create, with
//! no GPU-only keys beside it; for GPU workers, the GPU count, the CUDA floor and the priority
//! list (known names, at most three entries, `ANY` alone, no duplicates), and the advice that
//! the platform only falls back along that list with enough workers
//! (`gpu_fallback_needs_five_workers`).

use std::borrow::Cow;

use crate::catalog::{self, GpuName};
use crate::diagnostic::Diagnostics;
use crate::lint::Lint;
use crate::model::{GpuChoice, Hardware, Text, Workers, defaults, limits};
use crate::spec::{Name, NameList, Spec};
use crate::suggest::did_you_mean;

use super::support::in_range;

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

/// Every GPU pool and type with its memory, for the help of an unknown GPU.
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

/// What a worker runs on: a CPU flavor or a GPU selection, each checked against the catalog.
/// Bad values fall back to defaults so that the other rules still run.
pub(super) fn check_hardware<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Hardware {
    if let (Some(_), Some(cpu)) = (&spec.gpu, &spec.cpu) {
        d.error(
            cpu.span,
            "`gpu` and `cpu` are mutually exclusive: an endpoint's workers are either GPU or CPU \
             workers",
        )
        .with_help("keep `gpu = ..` for a GPU endpoint, or `cpu = ..` for a CPU endpoint");
    }
    if let Some(cpu) = &spec.cpu {
        let flavor = check_cpu_flavor(d, cpu);
        check_gpu_keys_on_cpu(spec, d);
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
    let min_cuda_version = check_cuda(spec, d);
    let selection = check_gpu_selection(spec, d);
    Hardware::Gpu {
        selection: selection.into(),
        count,
        min_cuda_version,
    }
}

/// The CPU flavor's id: a known flavor with a power-of-two number of vCPUs, at least 2.
fn check_cpu_flavor<S: Copy>(d: &mut Diagnostics<S>, cpu: &Name<S>) -> &'static str {
    match catalog::resolve_cpu(&cpu.value) {
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
    }
}

/// `gpu_count`, `min_cuda_version` and `min_vram_gb` next to `cpu` (and no `gpu`).
fn check_gpu_keys_on_cpu<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) {
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
}

/// The oldest CUDA version a host may have: a known version, or the default.
fn check_cuda<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Text {
    match &spec.min_cuda_version {
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
    }
}

/// The GPU priority list: not empty, at most [`limits::GPU_PRIORITIES`] entries, each a known
/// type or pool, listed once. `ANY` when unset or when nothing resolved.
fn check_gpu_selection<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> Vec<GpuChoice> {
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
                let Some(choice) = resolve_gpu_choice(d, list, item) else {
                    continue;
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
    selection
}

/// One entry of the priority list as a choice; `None` (reported) when the name is unknown.
fn resolve_gpu_choice<S: Copy>(
    d: &mut Diagnostics<S>,
    list: &NameList<S>,
    item: &Name<S>,
) -> Option<GpuChoice> {
    match catalog::resolve_gpu(&item.value) {
        Some(GpuName::Any) => {
            if list.items.len() > 1 {
                d.error(
                    item.span,
                    "`ANY` already means every pool; it cannot be part of a priority list",
                )
                .with_help("use `gpu = ANY` alone, or list specific pools and types");
            }
            Some(GpuChoice::Any)
        }
        Some(GpuName::Pool(p)) => Some(GpuChoice::Pool(Cow::Borrowed(p.id))),
        Some(GpuName::Type(t)) => Some(GpuChoice::Type(Cow::Borrowed(t.id))),
        None => {
            let diag = d.error(item.span, format!("unknown GPU `{}`", item.value));
            if let Some(m) = did_you_mean(&item.value, catalog::gpu_names()) {
                diag.with_help(format!("did you mean `{m}`?"));
            }
            diag.with_help(gpu_choices_help());
            None
        }
    }
}

/// Whether every name in `gpu` is a known type or pool (and there is at least one): advice
/// about the selection only makes sense then.
pub(super) fn gpu_names_resolve<S: Copy>(spec: &Spec<S>) -> bool {
    spec.gpu.as_ref().is_none_or(|g| {
        !g.items.is_empty()
            && g.items
                .iter()
                .all(|i| catalog::resolve_gpu(&i.value).is_some())
    })
}

/// A GPU priority list with fewer than [`limits::FALLBACK_MIN_WORKERS`] max workers never falls
/// back: the `gpu_fallback_needs_five_workers` warning.
pub(super) fn check_gpu_fallback<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    workers: Workers,
    interactive: bool,
) {
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

#[cfg(test)]
mod tests {
    use super::super::support::testing::{int, name, run, spec};
    use super::*;

    fn gpu_list(names: &[&str]) -> NameList<u32> {
        NameList {
            items: names
                .iter()
                .enumerate()
                .map(|(i, n)| name(n, 10 + i as u32))
                .collect(),
            is_list: names.len() > 1,
            span: 9,
        }
    }

    #[test]
    fn a_cpu_flavor_and_a_gpu_list_resolve_to_canonical_ids() {
        let mut s = spec();
        s.cpu = Some(name("CPU5C_4_8", 1));
        let (hw, problems) = run(|d| check_hardware(&s, d));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            hw,
            Hardware::Cpu {
                flavor: "cpu5c-4-8".into()
            }
        );

        let mut s = spec();
        s.gpu = Some(gpu_list(&["NVIDIA_A100_80GB_PCIe", "ADA_24"]));
        s.gpu_count = Some(int(2, 2));
        let (hw, problems) = run(|d| check_hardware(&s, d));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            hw,
            Hardware::Gpu {
                selection: vec![
                    GpuChoice::Type("NVIDIA A100 80GB PCIe".into()),
                    GpuChoice::Pool("ADA_24".into())
                ]
                .into(),
                count: 2,
                min_cuda_version: catalog::DEFAULT_MIN_CUDA_VERSION.into(),
            }
        );
    }

    #[test]
    fn a_one_vcpu_flavor_is_refused_with_the_two_vcpu_one_of_its_family() {
        let mut s = spec();
        s.cpu = Some(name("cpu5c-1-2", 1));
        let (_, problems) = run(|d| check_hardware(&s, d));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("`cpu5c-1-2` has 1 vCPU"));
        assert_eq!(problems[0].help, ["use `cpu = \"cpu5c-2-4\"`"]);
    }

    #[test]
    fn an_unknown_flavor_suggests_the_same_shape_in_another_family() {
        let mut s = spec();
        s.cpu = Some(name("cpu5c-4-16", 1));
        let (hw, problems) = run(|d| check_hardware(&s, d));
        assert_eq!(
            hw,
            Hardware::Cpu {
                flavor: "cpu3g-2-8".into()
            }
        );
        assert_eq!(problems[0].message, "unknown CPU flavor `cpu5c-4-16`");
        assert_eq!(problems[0].help[0], "did you mean `cpu3g-4-16`?");
    }

    #[test]
    fn gpu_and_cpu_together_and_gpu_keys_on_a_cpu_endpoint() {
        let mut s = spec();
        s.gpu = Some(gpu_list(&["ADA_24"]));
        s.cpu = Some(name("cpu3g-2-8", 1));
        let (hw, problems) = run(|d| check_hardware(&s, d));
        assert!(
            matches!(hw, Hardware::Gpu { .. }),
            "gpu wins, so its rules still run"
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 1);
        assert!(problems[0].message.contains("mutually exclusive"));

        let mut s = spec();
        s.cpu = Some(name("cpu3g-2-8", 1));
        s.min_vram_gb = Some(int(24, 3));
        let (_, problems) = run(|d| check_hardware(&s, d));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 3);
        assert_eq!(
            problems[0].message,
            "`min_vram_gb` applies to GPU endpoints; this is a CPU endpoint"
        );
    }

    #[test]
    fn the_priority_list_refuses_any_in_a_list_duplicates_and_a_fourth_entry() {
        let mut s = spec();
        s.gpu = Some(gpu_list(&["ADA_24", "ADA_24", "ANY", "AMPERE_80"]));
        let (hw, problems) = run(|d| check_hardware(&s, d));
        let messages: Vec<_> = problems
            .iter()
            .map(|p| (p.span, p.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    13,
                    "a GPU priority list has at most 3 entries; this one has 4"
                ),
                (11, "`ADA_24` is listed twice in `gpu`"),
                (
                    12,
                    "`ANY` already means every pool; it cannot be part of a priority list"
                ),
            ]
        );
        let Hardware::Gpu { selection, .. } = hw else {
            panic!("{hw:?}")
        };
        assert_eq!(selection.len(), 3);
    }

    #[test]
    fn an_unknown_gpu_or_cuda_version_is_refused_and_falls_back() {
        let mut s = spec();
        s.gpu = Some(gpu_list(&["RTX_4090"]));
        s.min_cuda_version = Some(name("11.0", 2));
        let (hw, problems) = run(|d| check_hardware(&s, d));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].message, "unknown CUDA version `11.0`");
        assert!(
            problems[0]
                .help
                .last()
                .unwrap()
                .starts_with("CUDA versions: ")
        );
        assert_eq!(problems[1].message, "unknown GPU `RTX_4090`");
        assert!(
            problems[1]
                .help
                .last()
                .unwrap()
                .starts_with("GPU pools: AMPERE_16 (16 GB)")
        );
        assert_eq!(
            hw,
            Hardware::Gpu {
                selection: vec![GpuChoice::Any].into(),
                count: 1,
                min_cuda_version: catalog::DEFAULT_MIN_CUDA_VERSION.into(),
            }
        );
        assert!(!gpu_names_resolve(&s));
    }

    #[test]
    fn a_priority_list_falls_back_only_with_five_workers() {
        let mut s = spec();
        s.gpu = Some(gpu_list(&["ADA_24", "AMPERE_80"]));
        let few = Workers { min: 0, max: 3 };
        let (_, problems) = run(|d| check_gpu_fallback(&s, d, few, true));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 9);
        assert_eq!(problems[0].lint, Some(Lint::GpuFallbackNeedsFiveWorkers));
        assert!(
            problems[0]
                .message
                .contains("with max = 3 every worker waits for `ADA_24`")
        );
        assert_eq!(
            problems[0].help,
            ["raise the maximum, e.g. `workers = (1, 5)`, or keep a single GPU choice"]
        );

        let enough = Workers { min: 0, max: 5 };
        assert!(
            run(|d| check_gpu_fallback(&s, d, enough, false))
                .1
                .is_empty()
        );
        s.gpu = Some(gpu_list(&["ADA_24"]));
        assert!(run(|d| check_gpu_fallback(&s, d, few, false)).1.is_empty());
    }
}
