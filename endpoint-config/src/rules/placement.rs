//! Placement rules: where workers run (`datacenter = [..]`: known, not retired, each once, with
//! CPU workers for a CPU endpoint) and the network volumes they mount (`volume(..)`: named,
//! sized, in one of the endpoint's data centers, one per data center).

use std::borrow::Cow;

use crate::catalog;
use crate::diagnostic::Diagnostics;
use crate::model::{Hardware, NetworkVolume, Text, defaults, limits};
use crate::spec::{Name, NameList, Spec, VolumeSpec};
use crate::suggest::did_you_mean;

use super::support::in_range;

/// A data center as written: its Runpod id, or `None` (reported) when unknown or retired; a
/// retired one is answered with its reason and the nearest data centers still offered.
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

/// `datacenter = [..]`: not empty, known, each listed once, and with CPU workers for a CPU
/// endpoint. Empty means anywhere.
pub(super) fn check_datacenters<S: Copy>(
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

/// Data center ids as users write them, comma-separated.
fn dc_idents(ids: &[Text]) -> String {
    ids.iter()
        .map(|d| dc_ident(d))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The network volumes: each named, sized within [`limits::VOLUME_SIZE_GB`], in one of the
/// endpoint's data centers (and one with CPU workers for a CPU endpoint), at most one per data
/// center.
pub(super) fn check_volumes<S: Copy>(
    spec: &Spec<S>,
    d: &mut Diagnostics<S>,
    datacenters: &[Text],
    hardware: &Hardware,
) -> Vec<NetworkVolume> {
    let mut out: Vec<NetworkVolume> = Vec::new();
    for v in &spec.volumes {
        let name = check_volume_name(d, v);
        let size_gb = v
            .size
            .as_ref()
            .and_then(|s| in_range(d, s, limits::VOLUME_SIZE_GB, "size", "GB"))
            .map_or(defaults::VOLUME_SIZE_GB, |s| s as u32);
        let dc = volume_datacenter(d, v, datacenters, hardware);
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

/// A volume's name: present and not blank.
fn check_volume_name<S: Copy>(d: &mut Diagnostics<S>, v: &VolumeSpec<S>) -> Option<String> {
    match &v.name {
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
    }
}

/// The data center a volume lives in: as written, or the endpoint's only one.
fn volume_datacenter<S: Copy>(
    d: &mut Diagnostics<S>,
    v: &VolumeSpec<S>,
    datacenters: &[Text],
    hardware: &Hardware,
) -> Option<Text> {
    match &v.datacenter {
        Some(n) => check_volume_datacenter(d, n, datacenters, hardware).map(Cow::Borrowed),
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
    }
}

/// A volume's `datacenter = X`: a data center the endpoint may run in, with CPU workers when
/// the endpoint is a CPU one and pinned nowhere.
fn check_volume_datacenter<S: Copy>(
    d: &mut Diagnostics<S>,
    n: &Name<S>,
    datacenters: &[Text],
    hardware: &Hardware,
) -> Option<&'static str> {
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
    id
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{int, name, run, spec};
    use super::*;
    use crate::model::{EndpointConfig, GpuChoice};

    fn dcs(names: &[&str]) -> NameList<u32> {
        NameList {
            items: names
                .iter()
                .enumerate()
                .map(|(i, n)| name(n, 10 + i as u32))
                .collect(),
            is_list: true,
            span: 9,
        }
    }

    fn volume(name_: Option<&str>, dc: Option<&str>) -> VolumeSpec<u32> {
        VolumeSpec {
            name: name_.map(|n| name(n, 21)),
            size: Some(int(200, 22)),
            datacenter: dc.map(|n| name(n, 23)),
            span: 20,
        }
    }

    fn gpu() -> Hardware {
        Hardware::Gpu {
            selection: vec![GpuChoice::Any].into(),
            count: 1,
            min_cuda_version: catalog::DEFAULT_MIN_CUDA_VERSION.into(),
        }
    }

    fn cpu() -> Hardware {
        Hardware::Cpu {
            flavor: "cpu3g-2-8".into(),
        }
    }

    #[test]
    fn data_centers_in_either_spelling_become_ids() {
        let mut s = spec();
        s.datacenter = Some(dcs(&["US_KS_2", "EU-RO-1"]));
        let (out, problems) = run(|d| check_datacenters(&s, d, &gpu()));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out, ["US-KS-2", "EU-RO-1"]);
        assert!(run(|d| check_datacenters(&spec(), d, &gpu())).0.is_empty());
    }

    #[test]
    fn a_retired_data_center_is_answered_with_its_reason_and_the_nearest_ones() {
        let mut s = spec();
        s.datacenter = Some(dcs(&["US_GA_2"]));
        let (out, problems) = run(|d| check_datacenters(&s, d, &gpu()));
        assert!(out.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 10);
        assert!(
            problems[0].message.contains("no network storage"),
            "{problems:?}"
        );
        assert!(!problems[0].render().contains("did you mean"));
        assert!(problems[0].help[0].contains("nearest first: US_NC_2, US_IL_1"));
    }

    #[test]
    fn a_retired_data_center_in_a_config_built_in_code_is_the_only_problem() {
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
        assert!(problems[0].message.contains("no network storage"));
    }

    #[test]
    fn unknown_twice_listed_and_cpu_less_data_centers_are_refused() {
        let mut s = spec();
        s.datacenter = Some(dcs(&["EU_RO_2", "EU_RO_1", "EU_RO_1", "US_KS_2"]));
        let (out, problems) = run(|d| check_datacenters(&s, d, &cpu()));
        let got: Vec<_> = problems
            .iter()
            .map(|p| (p.span, p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (10, "unknown data center `EU_RO_2`"),
                (12, "data center `EU_RO_1` is listed twice"),
                (13, "CPU endpoints are not available in `US_KS_2`"),
            ]
        );
        assert_eq!(problems[0].help[0], "did you mean `EU_RO_1`?");
        assert_eq!(problems[2].help, ["CPU data centers: EU_RO_1"]);
        assert_eq!(out, ["EU-RO-1", "US-KS-2"]);

        s.datacenter = Some(dcs(&[]));
        let (_, problems) = run(|d| check_datacenters(&s, d, &gpu()));
        assert_eq!(
            problems[0].message,
            "`datacenter = []` allows no data center"
        );
    }

    #[test]
    fn a_volume_takes_the_endpoints_only_data_center() {
        let mut s = spec();
        s.volumes = vec![volume(Some("weights"), None)];
        let (out, problems) = run(|d| check_volumes(&s, d, &["EU-RO-1".into()], &gpu()));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            out,
            [NetworkVolume {
                name: "weights".into(),
                size_gb: 200,
                datacenter: "EU-RO-1".into()
            }]
        );
    }

    #[test]
    fn a_volume_outside_the_endpoints_data_centers_or_without_one_is_refused() {
        let mut s = spec();
        let pinned: Vec<Text> = vec!["US-KS-2".into(), "EU-RO-1".into()];
        s.volumes = vec![volume(Some("weights"), Some("US_IL_1"))];
        let (out, problems) = run(|d| check_volumes(&s, d, &pinned, &gpu()));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, 23);
        assert_eq!(
            problems[0].message,
            "network volume data center (US_IL_1) is not in the endpoint's data center list \
             (US_KS_2, EU_RO_1)"
        );
        assert_eq!(out.len(), 1, "still mounted, so later rules see it");

        s.volumes = vec![volume(Some("weights"), None)];
        let (out, problems) = run(|d| check_volumes(&s, d, &pinned, &gpu()));
        assert!(out.is_empty());
        assert_eq!(problems[0].span, 20);
        assert_eq!(
            problems[0].help,
            ["add `datacenter = X` to the volume, one of: US_KS_2, EU_RO_1"]
        );
    }

    #[test]
    fn one_volume_per_data_center_and_every_volume_named() {
        let mut s = spec();
        s.volumes = vec![
            volume(Some("a"), Some("EU_RO_1")),
            volume(Some("b"), Some("EU_RO_1")),
            volume(Some("  "), Some("US_KS_2")),
            volume(None, Some("US_KS_2")),
        ];
        let (out, problems) = run(|d| check_volumes(&s, d, &[], &gpu()));
        let got: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            got,
            [
                "multiple volumes in data center EU_RO_1 ('a' and 'b'): only one network volume \
                 is allowed per data center",
                "a network volume's name must not be empty or whitespace-only",
                "a network volume needs a `name`",
            ]
        );
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn a_cpu_endpoints_volume_must_be_where_cpu_workers_are() {
        let mut s = spec();
        s.volumes = vec![volume(Some("w"), Some("US_KS_2"))];
        let (_, problems) = run(|d| check_volumes(&s, d, &[], &cpu()));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("no CPU workers to mount it"));
        assert_eq!(
            problems[0].help,
            ["put the volume in a CPU data center: EU_RO_1"]
        );
        s.volumes = vec![volume(Some("w"), Some("EU_RO_1"))];
        assert!(run(|d| check_volumes(&s, d, &[], &cpu())).1.is_empty());
    }
}
