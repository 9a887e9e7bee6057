//! How an existing endpoint differs from its desired state: the changed fields (compared as sets
//! where the API gives order no meaning), when each reaches the workers, and the changes the API
//! cannot make in place.

use std::collections::BTreeSet;

use serde_json::Value;

use super::desired::{Compute, Desired, Fields};
use super::remote::{
    CpuConfig, EndpointType, Flashboot, GpuConfig, RemoteEndpoint, Scaling, WorkersConfig,
};
use super::resolve::{EnvValue, Resolve};
use Effect::{InPlace, RollingRelease};

/// When a change reaches the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Applied to the autoscaler promptly; running workers are untouched (`workers`, `scaling`,
    /// `timeout`).
    InPlace,
    /// A new release: idle workers are replaced at once, busy ones after their current job
    /// (the image, env, GPU/CPU selection, CUDA, data centers, volumes, FlashBoot).
    RollingRelease,
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Effect::InPlace => "in place",
            Effect::RollingRelease => "rolling release: workers are recreated",
        })
    }
}

/// One changed field of an existing endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The field, e.g. `timeout` or `env.HF_HOME`.
    pub field: String,
    /// The deployed value (`(hidden)` for secrets, `(none)` when absent).
    pub from: String,
    /// The new value.
    pub to: String,
    /// When it reaches the workers.
    pub effect: Effect,
}

/// Why an existing endpoint cannot be PATCHed into `d`: the API cannot change an endpoint's type
/// or compute family.
pub(super) fn recreate_reason(d: &Desired, e: &RemoteEndpoint) -> Option<String> {
    let deployed = e.kind.unwrap_or(EndpointType::Queue);
    if deployed != d.kind {
        let name = |k: EndpointType| match k {
            EndpointType::Queue => "QUEUE",
            EndpointType::LoadBalancer => "LOAD_BALANCER",
        };
        return Some(format!(
            "{} → {}: an endpoint's type cannot change in place",
            name(deployed),
            name(d.kind)
        ));
    }
    match (&d.compute, e.is_gpu()) {
        (Compute::Cpu(_), true) => Some("GPU → CPU: the compute family cannot change".into()),
        (Compute::Gpu(_), false) => Some("CPU → GPU: the compute family cannot change".into()),
        _ => None,
    }
}

fn set<T: Ord + Clone>(v: &[T]) -> BTreeSet<T> {
    v.iter().cloned().collect()
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "[]".to_string()
    } else {
        format!("[{}]", v.join(", "))
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("(none)".to_string(), |v| v.to_string())
}

/// The scaler of a response (`{"type", "queueDelay"|"requestCount"}`), as `(type, value)`.
fn scaling_of(v: &Value) -> Option<(String, f64)> {
    let kind = v.get("type")?.as_str()?.to_string();
    let value = v
        .get("queueDelay")
        .or_else(|| v.get("requestCount"))
        .or_else(|| v.get("value"))?
        .as_f64()?;
    Some((kind, value))
}

fn scaling_text(s: &Scaling) -> String {
    match s {
        Scaling::QueueDelay { queue_delay } => format!("QUEUE_DELAY {queue_delay}"),
        Scaling::RequestCount { request_count } => format!("REQUEST_COUNT {request_count}"),
    }
}

fn workers_text(w: &WorkersConfig) -> String {
    format!(
        "min {} max {}{}",
        w.min,
        w.max,
        w.idle_timeout
            .map_or(String::new(), |t| format!(" idle {t} s"))
    )
}

/// The changes found so far and the field groups they touch.
#[derive(Default)]
struct Diff {
    fields: Fields,
    changes: Vec<Change>,
}

impl Diff {
    fn change(&mut self, field: &str, from: String, to: String, effect: Effect) {
        self.changes.push(Change {
            field: field.to_string(),
            from,
            to,
            effect,
        });
    }
}

/// The fields of `e` that differ from `d`. Lists whose order the API gives no meaning to (pools,
/// exclusions, data centers, volumes) compare as sets, so a server that reorders them does not
/// cause an update on every deploy.
pub(super) fn diff(d: &Desired, e: &RemoteEndpoint, live: &Resolve) -> (Fields, Vec<Change>) {
    let mut x = Diff::default();
    if e.image.as_deref() != Some(d.image.as_str()) {
        x.fields.image = true;
        x.change(
            "image",
            opt(e.image.as_deref()),
            d.image.clone(),
            RollingRelease,
        );
    }
    diff_env(&mut x, d, e, live);
    if let Some(ports) = &d.ports
        && set(ports) != set(&e.ports)
    {
        x.fields.ports = true;
        x.change("ports", list(&e.ports), list(ports), RollingRelease);
    }
    match &d.compute {
        Compute::Gpu(g) => diff_gpu(&mut x, g, e),
        Compute::Cpu(c) => diff_cpu(&mut x, c, e),
    }
    diff_scaling(&mut x, d, e);
    diff_placement(&mut x, d, e, live);
    if e.timeout != Some(d.timeout) {
        x.fields.timeout = true;
        x.change("timeout", opt(e.timeout), d.timeout.to_string(), InPlace);
    }
    if e.flashboot != Some(d.flashboot) {
        x.fields.flashboot = true;
        let name = |v: Flashboot| {
            serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        x.change(
            "flashboot",
            e.flashboot.map_or("(none)".into(), name),
            name(d.flashboot),
            RollingRelease,
        );
    }
    (x.fields, x.changes)
}

/// `env`: values are shown only where the config states them; secrets and the API key never are.
fn diff_env(x: &mut Diff, d: &Desired, e: &RemoteEndpoint, live: &Resolve) {
    let keys: BTreeSet<&String> = d.env.keys().chain(e.env.keys()).collect();
    for k in keys {
        let want = d.env.get(k);
        let old = e.env.get(k);
        let new: Option<Option<String>> = want.map(|v| live.env(k, v));
        if let (Some(o), Some(Some(n))) = (old, &new)
            && o == n
        {
            continue;
        }
        x.fields.env = true;
        let public = matches!(want, Some(EnvValue::Plain(_) | EnvValue::EndpointId(_)));
        let from = match old {
            None => "(none)".to_string(),
            Some(v) if public => v.clone(),
            Some(_) => "(hidden)".to_string(),
        };
        let to = match (want, new) {
            (None, _) => "(none)".to_string(),
            (Some(EnvValue::EndpointId(n)), Some(None)) => format!("(id of {n}, once created)"),
            (Some(_), Some(Some(v))) if public => v,
            (Some(_), _) => "(hidden)".to_string(),
        };
        x.change(&format!("env.{k}"), from, to, RollingRelease);
    }
}

/// `gpu`: pools, exclusions, count and CUDA floor.
fn diff_gpu(x: &mut Diff, g: &GpuConfig, e: &RemoteEndpoint) {
    let cur = e.gpu.clone().unwrap_or(GpuConfig {
        pools: vec![],
        excluded_types: vec![],
        count: 1,
        allowed_cuda_versions: None,
        min_cuda_version: None,
    });
    let compute = |x: &mut Diff, field: &str, from: String, to: String| {
        x.fields.compute = true;
        x.change(field, from, to, RollingRelease);
    };
    if set(&cur.pools) != set(&g.pools) {
        compute(x, "gpu.pools", list(&cur.pools), list(&g.pools));
    }
    if set(&cur.excluded_types) != set(&g.excluded_types) {
        let (from, to) = (list(&cur.excluded_types), list(&g.excluded_types));
        compute(x, "gpu.excludedTypes", from, to);
    }
    if cur.count != g.count {
        compute(x, "gpu.count", cur.count.to_string(), g.count.to_string());
    }
    if cur.min_cuda_version.as_deref().filter(|v| !v.is_empty()) != g.min_cuda_version.as_deref() {
        let from = opt(cur.min_cuda_version.as_deref());
        compute(
            x,
            "gpu.minCudaVersion",
            from,
            opt(g.min_cuda_version.as_deref()),
        );
    }
    if let Some(allowed) = cur.allowed_cuda_versions.filter(|a| !a.is_empty()) {
        // The API refuses a CUDA floor next to a non-empty list: clear the list.
        x.fields.clear_allowed_cuda = true;
        let to = "[] (the config sets a minimum instead)".to_string();
        compute(x, "gpu.allowedCudaVersions", list(&allowed), to);
    }
}

/// `cpu`: the flavor families and vCPU counts.
fn diff_cpu(x: &mut Diff, c: &[CpuConfig], e: &RemoteEndpoint) {
    let cur = e.cpu.clone().unwrap_or_default();
    let key = |v: &[CpuConfig]| -> BTreeSet<(String, u32)> {
        v.iter().map(|x| (x.id.clone(), x.vcpu_count)).collect()
    };
    if key(&cur) != key(c) {
        x.fields.compute = true;
        let show = |v: &[CpuConfig]| {
            list(
                &v.iter()
                    .map(|x| format!("{} × {} vCPU", x.id, x.vcpu_count))
                    .collect::<Vec<_>>(),
            )
        };
        x.change("cpu", show(&cur), show(c), RollingRelease);
    }
}

/// `workers` and `scaling`, both applied in place.
fn diff_scaling(x: &mut Diff, d: &Desired, e: &RemoteEndpoint) {
    let workers_differ = match &e.workers {
        None => true,
        // An idle timeout left over from a QUEUE_DELAY scaler differs too: the API refuses it
        // next to REQUEST_COUNT, so `workers` is resent without it.
        Some(w) => *w != d.workers,
    };
    if workers_differ {
        x.fields.workers = true;
        let from = e.workers.as_ref().map_or("(none)".into(), workers_text);
        x.change("workers", from, workers_text(&d.workers), InPlace);
    }
    let want = match d.scaling {
        Scaling::QueueDelay { queue_delay } => ("QUEUE_DELAY".to_string(), f64::from(queue_delay)),
        Scaling::RequestCount { request_count } => {
            ("REQUEST_COUNT".to_string(), f64::from(request_count))
        }
    };
    let cur = e.scaling.as_ref().and_then(scaling_of);
    if cur.as_ref() != Some(&want) {
        x.fields.scaling = true;
        let from = cur.map_or("(none)".into(), |(k, v)| format!("{k} {v}"));
        x.change("scaling", from, scaling_text(&d.scaling), InPlace);
    }
}

/// `dataCenterIds` and `networkVolumes`.
fn diff_placement(x: &mut Diff, d: &Desired, e: &RemoteEndpoint, live: &Resolve) {
    if set(&e.data_center_ids) != set(&d.data_center_ids) {
        x.fields.data_centers = true;
        let (from, to) = (list(&e.data_center_ids), list(&d.data_center_ids));
        x.change("dataCenterIds", from, to, RollingRelease);
    }
    let vols = d.volume_ids(live);
    if vols
        .as_ref()
        .is_none_or(|v| set(v) != set(&e.network_volumes))
    {
        x.fields.volumes = true;
        let to = vols.map_or_else(
            || {
                list(
                    &d.volumes
                        .iter()
                        .map(|k| format!("{} in {} (once created)", k.name, k.datacenter))
                        .collect::<Vec<_>>(),
                )
            },
            |v| list(&v),
        );
        x.change(
            "networkVolumes",
            list(&e.network_volumes),
            to,
            RollingRelease,
        );
    }
}
