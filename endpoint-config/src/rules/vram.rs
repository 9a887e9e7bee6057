//! GPU memory rules: the `min_vram_gb` floor must be met by every card the selection can land
//! on (or, with `ANY`, by the largest one), and a selection whose cards differ in memory needs a
//! floor (`gpu_without_vram_floor`).

use std::borrow::Cow;

use crate::catalog::{self, GpuType};
use crate::diagnostic::Diagnostics;
use crate::lint::Lint;
use crate::model::{EndpointConfig, GpuChoice, Hardware};
use crate::spec::Spec;

/// The `min_vram_gb` floor, checked against the selection when every GPU name resolved; taken
/// as written otherwise (the unknown name is reported already, and the floor cannot be checked
/// against it).
pub(super) fn check_min_vram<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    hardware: &Hardware,
    gpu_names_resolve: bool,
) -> Option<u32> {
    if gpu_names_resolve {
        check_floor(spec, d, hardware)
    } else {
        spec.min_vram_gb
            .as_ref()
            .and_then(|v| u32::try_from(v.value).ok())
    }
}

/// The GPU types a selection can land on, ignoring any VRAM floor (with `ANY`, every type).
pub(super) fn selection_types(selection: &[GpuChoice]) -> Vec<&'static GpuType> {
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

/// The `min_vram_gb` floor: a positive number of GB that every card the selection can land on
/// offers (with `gpu_count` GPUs per worker).
fn check_floor<S: Copy>(
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

/// A GPU selection without `min_vram_gb` that can land on cards of different sizes (`ANY`, or
/// several pools): the `gpu_without_vram_floor` warning.
pub(super) fn check_vram_floor_wanted<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    selection: &[GpuChoice],
    min_vram_gb: Option<u32>,
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
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{ATTR, int, name, run, spec};
    use super::*;
    use crate::spec::NameList;

    fn gpu(names: &[&str], count: u32, floor: Option<i128>) -> (Spec<u32>, Hardware) {
        let mut s = spec();
        s.gpu = Some(NameList {
            items: names.iter().map(|n| name(n, 1)).collect(),
            is_list: names.len() > 1,
            span: 2,
        });
        s.min_vram_gb = floor.map(|f| int(f, 3));
        let selection: Vec<GpuChoice> = names
            .iter()
            .map(|n| match catalog::resolve_gpu(n) {
                Some(catalog::GpuName::Any) => GpuChoice::Any,
                Some(catalog::GpuName::Pool(p)) => GpuChoice::Pool(p.id.into()),
                Some(catalog::GpuName::Type(t)) => GpuChoice::Type(t.id.into()),
                None => panic!("unknown GPU {n} in a test"),
            })
            .collect();
        let hw = Hardware::Gpu {
            selection: selection.into(),
            count,
            min_cuda_version: catalog::DEFAULT_MIN_CUDA_VERSION.into(),
        };
        (s, hw)
    }

    #[test]
    fn a_floor_every_card_meets_is_kept() {
        let (s, hw) = gpu(&["AMPERE_80"], 1, Some(80));
        assert_eq!(
            run(|d| check_min_vram(&s, d, &hw, true)),
            (Some(80), vec![])
        );
        let (s, hw) = gpu(&["ADA_24"], 2, Some(48));
        assert_eq!(
            run(|d| check_min_vram(&s, d, &hw, true)),
            (Some(48), vec![]),
            "two 24 GB cards per worker make 48 GB"
        );
    }

    #[test]
    fn a_gpu_with_too_little_vram_is_named_with_the_fix() {
        let (s, hw) = gpu(&["ADA_24", "AMPERE_80"], 1, Some(60));
        let (floor, problems) = run(|d| check_min_vram(&s, d, &hw, true));
        assert_eq!(
            floor,
            Some(60),
            "the floor is kept: it is what the user needs"
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 3);
        assert_eq!(
            problems[0].message,
            "`min_vram_gb = 60`, but this selection can land on NVIDIA GeForce RTX 4090 with 24 GB"
        );
        assert_eq!(
            problems[0].help,
            [
                "below the floor: `ADA_24` (NVIDIA GeForce RTX 4090, 24 GB); remove it from \
                 `gpu`, or choose larger cards",
                "or set `gpu_count = 3`"
            ]
        );
    }

    #[test]
    fn with_any_only_the_largest_card_counts() {
        let (s, hw) = gpu(&["ANY"], 1, Some(200));
        let (_, problems) = run(|d| check_min_vram(&s, d, &hw, true));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with(
            "no GPU offers `min_vram_gb = 200` with 1 GPU per worker: the largest card"
        ));
        assert_eq!(
            problems[0].help,
            ["set `gpu_count = 2` to spread the model over 2 GPUs"]
        );

        let (s, hw) = gpu(&["ANY"], 1, Some(0));
        let (floor, problems) = run(|d| check_min_vram(&s, d, &hw, true));
        assert_eq!(floor, None);
        assert_eq!(
            problems[0].message,
            "`min_vram_gb = 0` must be a positive number of GB"
        );
    }

    #[test]
    fn an_unresolved_gpu_name_leaves_the_floor_unchecked() {
        let (s, hw) = gpu(&["ADA_24"], 1, Some(60));
        assert_eq!(
            run(|d| check_min_vram(&s, d, &hw, false)),
            (Some(60), vec![])
        );
    }

    #[test]
    fn a_selection_of_mixed_sizes_without_a_floor_gets_a_warning() {
        let (s, hw) = gpu(&["ADA_24", "AMPERE_80"], 1, None);
        let Hardware::Gpu { selection, .. } = &hw else {
            unreachable!()
        };
        let (_, problems) = run(|d| check_vram_floor_wanted(&s, d, selection, None));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 2);
        assert_eq!(problems[0].lint, Some(Lint::GpuWithoutVramFloor));
        assert_eq!(
            problems[0].message,
            "this GPU selection spans cards from 24 GB to 80 GB without `min_vram_gb`"
        );
        assert!(
            run(|d| check_vram_floor_wanted(&s, d, selection, Some(20)))
                .1
                .is_empty()
        );

        let (s, hw) = gpu(&["AMPERE_80"], 1, None);
        let Hardware::Gpu { selection, .. } = &hw else {
            unreachable!()
        };
        assert!(
            run(|d| check_vram_floor_wanted(&s, d, selection, None))
                .1
                .is_empty()
        );
    }

    #[test]
    fn no_gpu_at_all_means_any_and_is_warned_on_the_attribute() {
        let s = spec();
        let (_, problems) = run(|d| check_vram_floor_wanted(&s, d, &[GpuChoice::Any], None));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, ATTR);
        assert!(
            problems[0]
                .message
                .starts_with("no `gpu` (which means ANY) and no `min_vram_gb`")
        );
    }
}
