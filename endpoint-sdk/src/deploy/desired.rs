//! The desired state of one endpoint (what the account should have, derived from its config),
//! how its symbolic values (secrets, ids not created yet) resolve, and how it differs from what
//! the account has.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::api::{
    CpuConfig, CreateEndpointRequest, Endpoint, EndpointType, Flashboot, GpuConfig, Scaling,
    UpdateEndpointRequest, WorkersConfig,
};
use super::manifest::ManifestEndpoint;
use super::plan::VolumeKey;
use super::{APP_VAR, PlanError};
use crate::config::{Hardware, Scaler, Severity, catalog, limits};
use crate::protocol::vars::id_var;

/// The value of one environment variable of a deployed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EnvValue {
    /// Written in the config (`env(..)`), or set by deploy (`ENDPOINT_NAME`, `ENDPOINT_APP`).
    Plain(String),
    /// `secrets = [..]`: read from the deployer's environment.
    Secret,
    /// The deployer's `RUNPOD_API_KEY`.
    ApiKey,
    /// The platform id of the named endpoint (`ENDPOINT_ID_<NAME>`).
    EndpointId(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Compute {
    Gpu(GpuConfig),
    Cpu(Vec<CpuConfig>),
}

/// One endpoint as the account should have it.
#[derive(Debug, Clone)]
pub(super) struct Desired {
    pub(super) name: String,
    pub(super) image: String,
    pub(super) env: BTreeMap<String, EnvValue>,
    pub(super) compute: Compute,
    pub(super) workers: WorkersConfig,
    pub(super) scaling: Scaling,
    pub(super) data_center_ids: Vec<String>,
    pub(super) volumes: Vec<VolumeKey>,
    pub(super) timeout: u64,
    pub(super) flashboot: Flashboot,
}

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

/// Which groups of fields an update sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) image: bool,
    pub(super) env: bool,
    pub(super) compute: bool,
    pub(super) clear_allowed_cuda: bool,
    pub(super) workers: bool,
    pub(super) scaling: bool,
    pub(super) data_centers: bool,
    pub(super) volumes: bool,
    pub(super) timeout: bool,
    pub(super) flashboot: bool,
}

/// Ids known so far: from the account, then from what the plan creates.
#[derive(Debug, Clone, Default)]
pub(super) struct Ids {
    /// Endpoint name → id.
    pub(super) endpoints: BTreeMap<String, String>,
    /// Volume → id.
    pub(super) volumes: BTreeMap<VolumeKey, String>,
}

/// Values that are never printed.
#[derive(Clone, Default)]
pub(super) struct Secrets {
    pub(super) by_var: BTreeMap<String, String>,
    pub(super) api_key: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("vars", &self.by_var.keys().collect::<Vec<_>>())
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How symbolic values become text.
pub(super) enum Resolve<'a> {
    /// Real values, to send or compare; `None` where an id is not known yet.
    Live { ids: &'a Ids, secrets: &'a Secrets },
    /// For people: secrets redacted, ids not known yet named after the request that creates them.
    Shown {
        ids: &'a Ids,
        created_by: &'a BTreeMap<Creates, usize>,
    },
}

/// What a step creates (to name it in placeholders).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Creates {
    Endpoint(String),
    Volume(VolumeKey),
}

impl Resolve<'_> {
    pub(super) fn env(&self, key: &str, v: &EnvValue) -> Option<String> {
        match (self, v) {
            (_, EnvValue::Plain(s)) => Some(s.clone()),
            (Resolve::Live { secrets, .. }, EnvValue::Secret) => secrets.by_var.get(key).cloned(),
            (Resolve::Live { secrets, .. }, EnvValue::ApiKey) => secrets.api_key.clone(),
            (Resolve::Shown { .. }, EnvValue::Secret) => {
                Some(format!("<redacted: ${key} from your environment>"))
            }
            (Resolve::Shown { .. }, EnvValue::ApiKey) => {
                Some("<redacted: $RUNPOD_API_KEY from your environment>".to_string())
            }
            (Resolve::Live { ids, .. }, EnvValue::EndpointId(n)) => ids.endpoints.get(n).cloned(),
            (Resolve::Shown { ids, created_by }, EnvValue::EndpointId(n)) => {
                Some(ids.endpoints.get(n).cloned().unwrap_or_else(|| {
                    let by = created_by.get(&Creates::Endpoint(n.clone()));
                    format!(
                        "<id of {n}{}>",
                        by.map_or(String::new(), |i| format!(", from request {i}"))
                    )
                }))
            }
        }
    }

    pub(super) fn volume(&self, k: &VolumeKey) -> Option<String> {
        match self {
            Resolve::Live { ids, .. } => ids.volumes.get(k).cloned(),
            Resolve::Shown { ids, created_by } => {
                Some(ids.volumes.get(k).cloned().unwrap_or_else(|| {
                    let by = created_by.get(&Creates::Volume(k.clone()));
                    format!(
                        "<id of volume {} in {}{}>",
                        k.name,
                        k.datacenter,
                        by.map_or(String::new(), |i| format!(", from request {i}"))
                    )
                }))
            }
        }
    }
}

impl Desired {
    pub(super) fn env_map(&self, r: &Resolve) -> Option<BTreeMap<String, String>> {
        self.env
            .iter()
            .map(|(k, v)| r.env(k, v).map(|s| (k.clone(), s)))
            .collect()
    }

    pub(super) fn volume_ids(&self, r: &Resolve) -> Option<Vec<String>> {
        self.volumes.iter().map(|k| r.volume(k)).collect()
    }

    pub(super) fn gpu(&self) -> Option<GpuConfig> {
        match &self.compute {
            Compute::Gpu(g) => Some(g.clone()),
            Compute::Cpu(_) => None,
        }
    }

    pub(super) fn cpu(&self) -> Option<Vec<CpuConfig>> {
        match &self.compute {
            Compute::Cpu(c) => Some(c.clone()),
            Compute::Gpu(_) => None,
        }
    }

    pub(super) fn create(&self, r: &Resolve) -> Option<CreateEndpointRequest> {
        Some(CreateEndpointRequest {
            name: self.name.clone(),
            kind: EndpointType::Queue,
            image: self.image.clone(),
            env: self.env_map(r)?,
            gpu: self.gpu(),
            cpu: self.cpu(),
            workers: self.workers,
            scaling: self.scaling,
            data_center_ids: self.data_center_ids.clone(),
            network_volumes: self.volume_ids(r)?,
            timeout: self.timeout,
            flashboot: self.flashboot,
        })
    }

    pub(super) fn update(&self, f: Fields, r: &Resolve) -> Option<UpdateEndpointRequest> {
        let gpu = self.gpu().map(|mut g| {
            if f.clear_allowed_cuda {
                g.allowed_cuda_versions = Some(Vec::new());
            }
            g
        });
        Some(UpdateEndpointRequest {
            image: f.image.then(|| self.image.clone()),
            env: if f.env { Some(self.env_map(r)?) } else { None },
            gpu: if f.compute { gpu } else { None },
            cpu: if f.compute { self.cpu() } else { None },
            workers: f.workers.then_some(self.workers),
            scaling: f.scaling.then_some(self.scaling),
            data_center_ids: f.data_centers.then(|| self.data_center_ids.clone()),
            network_volumes: if f.volumes {
                Some(self.volume_ids(r)?)
            } else {
                None
            },
            timeout: f.timeout.then_some(self.timeout),
            flashboot: f.flashboot.then_some(self.flashboot),
        })
    }
}

/// The reserved variables deploy sets itself.
pub(super) fn reserved(key: &str) -> bool {
    key == crate::protocol::vars::ENDPOINT_NAME || key == APP_VAR || key.starts_with("ENDPOINT_ID_")
}

/// One endpoint's desired state. Problems are pushed and `None` returned when it cannot be built.
#[allow(clippy::too_many_arguments)]
pub(super) fn desire(
    app: &str,
    image: &str,
    m: &ManifestEndpoint,
    callees: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
    problems: &mut Vec<PlanError>,
    notes: &mut Vec<String>,
) -> Option<Desired> {
    let c = &m.config;
    let name = c.name.to_string();
    let before = problems.len();
    for p in c
        .check()
        .into_iter()
        .filter(|p| p.severity == Severity::Error)
    {
        problems.push(PlanError::InvalidConfig {
            endpoint: name.clone(),
            message: p.render(),
        });
    }
    if problems.len() > before {
        return None;
    }

    let compute = match &c.hardware {
        Hardware::Gpu {
            count,
            min_cuda_version,
            ..
        } => {
            let types = c.gpu_types();
            let pools = c.gpu_pools();
            // Pinned types (and `ANY` under a VRAM floor) are expressed as pools minus the
            // pools' other members.
            let excluded: Vec<String> = pools
                .iter()
                .filter_map(|p| catalog::gpu_pool(p))
                .flat_map(|p| p.members.iter())
                .filter(|m| !types.iter().any(|t| t.id == **m))
                .map(|m| m.to_string())
                .collect();
            Compute::Gpu(GpuConfig {
                pools: pools.iter().map(|p| p.to_string()).collect(),
                excluded_types: excluded,
                count: *count,
                allowed_cuda_versions: None,
                min_cuda_version: Some(min_cuda_version.to_string()),
            })
        }
        Hardware::Cpu { flavor } => {
            let Some(f) = catalog::cpu_flavor(flavor) else {
                problems.push(PlanError::InvalidConfig {
                    endpoint: name,
                    message: format!("unknown CPU flavor `{flavor}`"),
                });
                return None;
            };
            if f.vcpu < 2 || !f.vcpu.is_power_of_two() {
                let suggestion = catalog::CPU_FLAVORS
                    .iter()
                    .find(|x| x.family() == f.family() && x.vcpu == 2)
                    .map_or("cpu3c-2-4", |x| x.id);
                problems.push(PlanError::CpuFlavor {
                    endpoint: name,
                    flavor: f.id.to_string(),
                    vcpu: f.vcpu,
                    suggestion: suggestion.to_string(),
                });
                return None;
            }
            Compute::Cpu(vec![CpuConfig {
                id: f.family().to_string(),
                vcpu_count: f.vcpu,
            }])
        }
    };

    let (scaling, idle_timeout) = match c.scaler {
        Scaler::QueueDelay(v) => (
            Scaling::QueueDelay { queue_delay: v },
            Some(c.idle_timeout_s),
        ),
        Scaler::RequestCount(v) => {
            if c.idle_timeout_s != endpoint_config::defaults::IDLE_TIMEOUT_S {
                notes.push(format!(
                "{name}: idle_timeout = {} s is not sent: the API rejects `workers.idleTimeout` \
                 with the REQUEST_COUNT scaler on queue endpoints (the platform's default applies)",
                c.idle_timeout_s
                ));
            }
            (Scaling::RequestCount { request_count: v }, None)
        }
    };

    let timeout = c.execution_timeout_ms.unwrap_or_else(|| {
        let max = *limits::EXECUTION_TIMEOUT_MS.end() as u64;
        notes.push(format!(
            "{name}: no execution timeout (allow(no_execution_timeout)); the API would impose its \
             300 s default, so the platform's maximum ({max} ms, 7 days) is sent"
        ));
        max
    });

    let volumes: Vec<VolumeKey> = c
        .volumes
        .iter()
        .map(|v| VolumeKey {
            name: v.name.to_string(),
            datacenter: v.datacenter.to_string(),
        })
        .collect();
    // A worker only mounts a volume in its own data center: without an explicit list, pin the
    // endpoint to its volumes' data centers.
    let data_center_ids: Vec<String> = if c.datacenters.is_empty() {
        let mut dcs: Vec<String> = Vec::new();
        for v in &volumes {
            if !dcs.contains(&v.datacenter) {
                dcs.push(v.datacenter.clone());
            }
        }
        dcs
    } else {
        c.datacenters.iter().map(|d| d.to_string()).collect()
    };

    let mut vars: BTreeMap<String, EnvValue> = BTreeMap::new();
    for e in c.env.iter() {
        if reserved(&e.key) {
            problems.push(PlanError::ReservedEnv {
                endpoint: name.clone(),
                key: e.key.to_string(),
            });
        }
        vars.insert(e.key.to_string(), EnvValue::Plain(e.value.to_string()));
    }
    for s in c.secrets.iter() {
        if reserved(s) {
            problems.push(PlanError::ReservedEnv {
                endpoint: name.clone(),
                key: s.to_string(),
            });
        }
        match env(s).filter(|v| !v.is_empty()) {
            Some(v) => {
                secrets.by_var.insert(s.to_string(), v);
                vars.insert(s.to_string(), EnvValue::Secret);
            }
            None => problems.push(PlanError::MissingSecret {
                endpoint: name.clone(),
                var: s.to_string(),
            }),
        }
    }
    vars.insert(
        crate::protocol::vars::ENDPOINT_NAME.to_string(),
        EnvValue::Plain(name.clone()),
    );
    vars.insert(APP_VAR.to_string(), EnvValue::Plain(app.to_string()));
    for callee in callees {
        vars.insert(id_var(callee), EnvValue::EndpointId(callee.to_string()));
    }
    if !callees.is_empty() {
        vars.insert("RUNPOD_API_KEY".to_string(), EnvValue::ApiKey);
    }
    if problems.len() > before {
        return None;
    }

    Some(Desired {
        name,
        image: image.to_string(),
        env: vars,
        compute,
        workers: WorkersConfig {
            min: c.workers.min,
            max: c.workers.max,
            idle_timeout,
        },
        scaling,
        data_center_ids,
        volumes,
        timeout,
        flashboot: if c.flashboot {
            Flashboot::Flashboot
        } else {
            Flashboot::Off
        },
    })
}

/// Why an existing endpoint cannot be PATCHed into `d`: the API cannot change an endpoint's type
/// or compute family.
pub(super) fn recreate_reason(d: &Desired, e: &Endpoint) -> Option<String> {
    if e.kind == Some(EndpointType::LoadBalancer) {
        return Some("it is a load-balancer endpoint; the type cannot change to QUEUE".into());
    }
    match (&d.compute, e.is_gpu()) {
        (Compute::Cpu(_), true) => Some("GPU → CPU: the compute family cannot change".into()),
        (Compute::Gpu(_), false) => Some("CPU → GPU: the compute family cannot change".into()),
        _ => None,
    }
}

pub(super) fn set<T: Ord + Clone>(v: &[T]) -> BTreeSet<T> {
    v.iter().cloned().collect()
}

pub(super) fn list(v: &[String]) -> String {
    if v.is_empty() {
        "[]".to_string()
    } else {
        format!("[{}]", v.join(", "))
    }
}

pub(super) fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("(none)".to_string(), |v| v.to_string())
}

/// The scaler of a response (`{"type", "queueDelay"|"requestCount"}`), as `(type, value)`.
pub(super) fn scaling_of(v: &Value) -> Option<(String, f64)> {
    let kind = v.get("type")?.as_str()?.to_string();
    let value = v
        .get("queueDelay")
        .or_else(|| v.get("requestCount"))
        .or_else(|| v.get("value"))?
        .as_f64()?;
    Some((kind, value))
}

pub(super) fn scaling_text(s: &Scaling) -> String {
    match s {
        Scaling::QueueDelay { queue_delay } => format!("QUEUE_DELAY {queue_delay}"),
        Scaling::RequestCount { request_count } => format!("REQUEST_COUNT {request_count}"),
    }
}

pub(super) fn workers_text(w: &WorkersConfig) -> String {
    format!(
        "min {} max {}{}",
        w.min,
        w.max,
        w.idle_timeout
            .map_or(String::new(), |t| format!(" idle {t} s"))
    )
}

/// The fields of `e` that differ from `d`. Lists whose order the API gives no meaning to (pools,
/// exclusions, data centers, volumes) compare as sets, so a server that reorders them does not
/// cause an update on every deploy.
pub(super) fn diff(d: &Desired, e: &Endpoint, live: &Resolve) -> (Fields, Vec<Change>) {
    use Effect::*;
    let mut f = Fields::default();
    let mut changes = Vec::new();
    let mut change = |field: &str, from: String, to: String, effect| {
        changes.push(Change {
            field: field.to_string(),
            from,
            to,
            effect,
        })
    };

    if e.image.as_deref() != Some(d.image.as_str()) {
        f.image = true;
        change(
            "image",
            opt(e.image.as_deref()),
            d.image.clone(),
            RollingRelease,
        );
    }

    // Values are shown only where the config states them; secrets and the API key never are.
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
        f.env = true;
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
        change(&format!("env.{k}"), from, to, RollingRelease);
    }

    match &d.compute {
        Compute::Gpu(g) => {
            let cur = e.gpu.clone().unwrap_or(GpuConfig {
                pools: vec![],
                excluded_types: vec![],
                count: 1,
                allowed_cuda_versions: None,
                min_cuda_version: None,
            });
            if set(&cur.pools) != set(&g.pools) {
                f.compute = true;
                change(
                    "gpu.pools",
                    list(&cur.pools),
                    list(&g.pools),
                    RollingRelease,
                );
            }
            if set(&cur.excluded_types) != set(&g.excluded_types) {
                f.compute = true;
                change(
                    "gpu.excludedTypes",
                    list(&cur.excluded_types),
                    list(&g.excluded_types),
                    RollingRelease,
                );
            }
            if cur.count != g.count {
                f.compute = true;
                change(
                    "gpu.count",
                    cur.count.to_string(),
                    g.count.to_string(),
                    RollingRelease,
                );
            }
            if cur.min_cuda_version.as_deref().filter(|v| !v.is_empty())
                != g.min_cuda_version.as_deref()
            {
                f.compute = true;
                change(
                    "gpu.minCudaVersion",
                    opt(cur.min_cuda_version.as_deref()),
                    opt(g.min_cuda_version.as_deref()),
                    RollingRelease,
                );
            }
            if let Some(allowed) = cur.allowed_cuda_versions.filter(|a| !a.is_empty()) {
                // The API refuses a CUDA floor next to a non-empty list: clear the list.
                f.compute = true;
                f.clear_allowed_cuda = true;
                change(
                    "gpu.allowedCudaVersions",
                    list(&allowed),
                    "[] (the config sets a minimum instead)".into(),
                    RollingRelease,
                );
            }
        }
        Compute::Cpu(c) => {
            let cur = e.cpu.clone().unwrap_or_default();
            if set(&cur
                .iter()
                .map(|x| (x.id.clone(), x.vcpu_count))
                .collect::<Vec<_>>())
                != set(&c
                    .iter()
                    .map(|x| (x.id.clone(), x.vcpu_count))
                    .collect::<Vec<_>>())
            {
                f.compute = true;
                let show = |v: &[CpuConfig]| {
                    list(
                        &v.iter()
                            .map(|x| format!("{} × {} vCPU", x.id, x.vcpu_count))
                            .collect::<Vec<_>>(),
                    )
                };
                change("cpu", show(&cur), show(c), RollingRelease);
            }
        }
    }

    let workers_differ = match &e.workers {
        None => true,
        // An idle timeout left over from a QUEUE_DELAY scaler differs too: the API refuses it
        // next to REQUEST_COUNT, so `workers` is resent without it.
        Some(w) => *w != d.workers,
    };
    if workers_differ {
        f.workers = true;
        change(
            "workers",
            e.workers.as_ref().map_or("(none)".into(), workers_text),
            workers_text(&d.workers),
            InPlace,
        );
    }

    let want = match d.scaling {
        Scaling::QueueDelay { queue_delay } => ("QUEUE_DELAY".to_string(), f64::from(queue_delay)),
        Scaling::RequestCount { request_count } => {
            ("REQUEST_COUNT".to_string(), f64::from(request_count))
        }
    };
    let cur = e.scaling.as_ref().and_then(scaling_of);
    if cur.as_ref() != Some(&want) {
        f.scaling = true;
        change(
            "scaling",
            cur.map_or("(none)".into(), |(k, v)| format!("{k} {v}")),
            scaling_text(&d.scaling),
            InPlace,
        );
    }

    if set(&e.data_center_ids) != set(&d.data_center_ids) {
        f.data_centers = true;
        change(
            "dataCenterIds",
            list(&e.data_center_ids),
            list(&d.data_center_ids),
            RollingRelease,
        );
    }

    let vols = d.volume_ids(live);
    if vols
        .as_ref()
        .is_none_or(|v| set(v) != set(&e.network_volumes))
    {
        f.volumes = true;
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
        change(
            "networkVolumes",
            list(&e.network_volumes),
            to,
            RollingRelease,
        );
    }

    if e.timeout != Some(d.timeout) {
        f.timeout = true;
        change("timeout", opt(e.timeout), d.timeout.to_string(), InPlace);
    }

    if e.flashboot != Some(d.flashboot) {
        f.flashboot = true;
        let name = |v: Flashboot| {
            serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        change(
            "flashboot",
            e.flashboot.map_or("(none)".into(), name),
            name(d.flashboot),
            RollingRelease,
        );
    }

    (f, changes)
}
