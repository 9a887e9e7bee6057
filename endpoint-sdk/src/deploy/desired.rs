//! The desired state of one endpoint: what the account should have, derived from its config
//! (already checked by `EndpointConfig::check`), and the request bodies that create or update it.

use std::collections::BTreeMap;

use super::error::PlanError;
use super::manifest::{ManifestEndpoint, ManifestExternal};
use super::remote::{
    CpuConfig, CreateEndpointRequest, EndpointType, Flashboot, GpuConfig, Scaling,
    UpdateEndpointRequest, WorkersConfig,
};
use super::resolve::{EnvValue, Resolve, Secrets};
use super::volume::VolumeKey;
use crate::config::{EndpointConfig, Hardware, Scaler, Severity, catalog, limits};
use crate::protocol::vars::{
    ENDPOINT_APP, ENDPOINT_NAME, HEALTH_CHECK_PATH, PORT, PORT_HEALTH, RUNPOD_API_KEY, id_var,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Compute {
    Gpu(GpuConfig),
    Cpu(Vec<CpuConfig>),
}

/// One endpoint as the account should have it.
#[derive(Debug, Clone)]
pub(super) struct Desired {
    pub(super) name: String,
    pub(super) kind: EndpointType,
    pub(super) image: String,
    /// Exposed ports: a load-balancing worker's app and health ports (`80/http`).
    pub(super) ports: Option<Vec<String>>,
    pub(super) env: BTreeMap<String, EnvValue>,
    pub(super) compute: Compute,
    pub(super) workers: WorkersConfig,
    pub(super) scaling: Scaling,
    pub(super) data_center_ids: Vec<String>,
    pub(super) volumes: Vec<VolumeKey>,
    pub(super) timeout: u64,
    pub(super) flashboot: Flashboot,
}

/// Which groups of fields an update sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) image: bool,
    pub(super) env: bool,
    pub(super) ports: bool,
    pub(super) compute: bool,
    pub(super) clear_allowed_cuda: bool,
    pub(super) workers: bool,
    pub(super) scaling: bool,
    pub(super) data_centers: bool,
    pub(super) volumes: bool,
    pub(super) timeout: bool,
    pub(super) flashboot: bool,
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
            kind: self.kind,
            image: self.image.clone(),
            env: self.env_map(r)?,
            ports: self.ports.clone(),
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
            ports: if f.ports { self.ports.clone() } else { None },
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

/// What planning one endpoint needs besides its config.
pub(super) struct Context<'a> {
    /// The application (`ENDPOINT_APP`).
    pub(super) app: &'a str,
    /// The image every endpoint runs.
    pub(super) image: &'a str,
    /// The endpoints it calls.
    pub(super) callees: &'a [&'a str],
    /// The endpoints built elsewhere that it calls (`#[external]`).
    pub(super) externals: &'a [&'a ManifestExternal],
    /// The deployer's environment (the values of `secrets = [..]`).
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
}

/// One endpoint's desired state. Problems are pushed and `None` returned when it cannot be built;
/// notes are things worth reading that do not stop the deployment.
pub(super) fn desire(
    cx: &Context<'_>,
    m: &ManifestEndpoint,
    secrets: &mut Secrets,
    problems: &mut Vec<PlanError>,
    notes: &mut Vec<String>,
) -> Option<Desired> {
    let c = &m.config;
    let name = c.name.to_string();
    let before = problems.len();
    problems.extend(
        c.check()
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| PlanError::InvalidConfig {
                endpoint: name.clone(),
                message: p.render(),
            }),
    );
    if problems.len() > before {
        return None;
    }
    let compute = compute(&name, c, problems)?;
    let (scaling, idle_timeout) = scaling(&name, c, notes);
    let (kind, ports) = match c.load_balancer() {
        Some(lb) => {
            let mut ports = vec![format!("{}/http", lb.port)];
            if lb.health_port != lb.port {
                ports.push(format!("{}/http", lb.health_port));
            }
            (EndpointType::LoadBalancer, Some(ports))
        }
        None => (EndpointType::Queue, None),
    };
    let volumes: Vec<VolumeKey> = c.volumes.iter().map(VolumeKey::of).collect();
    let data_center_ids = data_centers(c, &volumes);
    let env = env_vars(cx, &name, c, secrets, problems);
    if problems.len() > before {
        return None;
    }
    Some(Desired {
        kind,
        ports,
        image: cx.image.to_string(),
        env,
        compute,
        workers: WorkersConfig {
            min: c.workers.min,
            max: c.workers.max,
            idle_timeout,
        },
        scaling,
        data_center_ids,
        volumes,
        timeout: execution_timeout(&name, c, notes),
        flashboot: if c.flashboot {
            Flashboot::Flashboot
        } else {
            Flashboot::Off
        },
        name,
    })
}

/// The GPU or CPU selection. Pinned GPU types (and `ANY` under a VRAM floor) are expressed as
/// pools minus the pools' other members. REST v2 only creates CPU endpoints with a power-of-two
/// vCPU count of at least 2.
fn compute(name: &str, c: &EndpointConfig, problems: &mut Vec<PlanError>) -> Option<Compute> {
    match &c.hardware {
        Hardware::Gpu {
            count,
            min_cuda_version,
            ..
        } => {
            let types = c.gpu_types();
            let pools = c.gpu_pools();
            let excluded: Vec<String> = pools
                .iter()
                .filter_map(|p| catalog::gpu_pool(p))
                .flat_map(|p| p.members.iter())
                .filter(|m| !types.iter().any(|t| t.id == **m))
                .map(|m| m.to_string())
                .collect();
            Some(Compute::Gpu(GpuConfig {
                pools: pools.iter().map(|p| p.to_string()).collect(),
                excluded_types: excluded,
                count: *count,
                allowed_cuda_versions: None,
                min_cuda_version: Some(min_cuda_version.to_string()),
            }))
        }
        Hardware::Cpu { flavor } => {
            // `check()` (run before any plan) refuses a flavor `resolve_cpu` does not know.
            let f = catalog::resolve_cpu(flavor).expect("check() accepts only known CPU flavors");
            if f.vcpu < 2 || !f.vcpu.is_power_of_two() {
                let suggestion = catalog::CPU_FLAVORS
                    .iter()
                    .find(|x| x.family() == f.family() && x.vcpu == 2)
                    .map_or("cpu3c-2-4", |x| x.id);
                problems.push(PlanError::CpuFlavor {
                    endpoint: name.to_string(),
                    flavor: f.id.to_string(),
                    vcpu: f.vcpu,
                    suggestion: suggestion.to_string(),
                });
                return None;
            }
            Some(Compute::Cpu(vec![CpuConfig {
                id: f.family().to_string(),
                vcpu_count: f.vcpu,
            }]))
        }
    }
}

/// The scaler, and the idle timeout to send (none with `REQUEST_COUNT`: the API rejects it).
fn scaling(name: &str, c: &EndpointConfig, notes: &mut Vec<String>) -> (Scaling, Option<u32>) {
    match c.scaler {
        Scaler::QueueDelay(v) => (
            Scaling::QueueDelay { queue_delay: v },
            Some(c.idle_timeout_s),
        ),
        // On a load-balancing endpoint the API takes both.
        Scaler::RequestCount(v) if c.load_balancer().is_some() => (
            Scaling::RequestCount { request_count: v },
            Some(c.idle_timeout_s),
        ),
        Scaler::RequestCount(v) => {
            if c.idle_timeout_s != endpoint_config::defaults::IDLE_TIMEOUT_S {
                notes.push(format!(
                    "{name}: idle_timeout = {} s is not sent: the API rejects `workers.idleTimeout` \
                     with the REQUEST_COUNT scaler on queue endpoints (the platform's default \
                     applies)",
                    c.idle_timeout_s
                ));
            }
            (Scaling::RequestCount { request_count: v }, None)
        }
    }
}

/// The execution timeout to send: without one the API would impose its 300 s default, so the
/// platform's maximum is sent.
fn execution_timeout(name: &str, c: &EndpointConfig, notes: &mut Vec<String>) -> u64 {
    c.execution_timeout_ms.unwrap_or_else(|| {
        let max = *limits::EXECUTION_TIMEOUT_MS.end() as u64;
        notes.push(format!(
            "{name}: no execution timeout (allow(no_execution_timeout)); the API would impose its \
             300 s default, so the platform's maximum ({max} ms, 7 days) is sent"
        ));
        max
    })
}

/// The data centers: the configured ones, or (a worker only mounts a volume in its own data
/// center) the volumes' data centers.
fn data_centers(c: &EndpointConfig, volumes: &[VolumeKey]) -> Vec<String> {
    if !c.datacenters.is_empty() {
        return c.datacenters.iter().map(|d| d.to_string()).collect();
    }
    let mut dcs: Vec<String> = Vec::new();
    for v in volumes {
        if !dcs.contains(&v.datacenter) {
            dcs.push(v.datacenter.clone());
        }
    }
    dcs
}

/// The endpoint's environment: `env(..)`, the secrets (read now, never printed), and the
/// variables deploy sets itself (its name, the app, callee ids and the API key for calls). The
/// config's rules already refuse user variables with the reserved names.
fn env_vars(
    cx: &Context<'_>,
    name: &str,
    c: &EndpointConfig,
    secrets: &mut Secrets,
    problems: &mut Vec<PlanError>,
) -> BTreeMap<String, EnvValue> {
    let mut vars: BTreeMap<String, EnvValue> = c
        .env
        .iter()
        .map(|e| (e.key.to_string(), EnvValue::Plain(e.value.to_string())))
        .collect();
    for s in c.secrets.iter() {
        match (cx.env)(s).filter(|v| !v.is_empty()) {
            Some(v) => {
                secrets.by_var.insert(s.to_string(), v);
                vars.insert(s.to_string(), EnvValue::Secret);
            }
            None => problems.push(PlanError::MissingSecret {
                endpoint: name.to_string(),
                var: s.to_string(),
            }),
        }
    }
    vars.insert(ENDPOINT_NAME.to_string(), EnvValue::Plain(name.to_string()));
    // The docs and the OpenAPI disagree on PORT_HEALTH's default: every one is always sent.
    if let Some(lb) = c.load_balancer() {
        let plain = |v: String| EnvValue::Plain(v);
        vars.insert(PORT.to_string(), plain(lb.port.to_string()));
        vars.insert(PORT_HEALTH.to_string(), plain(lb.health_port.to_string()));
        vars.insert(
            HEALTH_CHECK_PATH.to_string(),
            plain(lb.health_path.to_string()),
        );
    }
    vars.insert(
        ENDPOINT_APP.to_string(),
        EnvValue::Plain(cx.app.to_string()),
    );
    for callee in cx.callees {
        vars.insert(id_var(callee), EnvValue::EndpointId(callee.to_string()));
    }
    for x in cx.externals {
        match &x.id {
            Some(id) => {
                vars.insert(id_var(&x.name), EnvValue::Plain(id.clone()));
            }
            // Its calls go to a URL the endpoint's own environment gives.
            None if x.url_from.is_some() => {}
            None => problems.push(PlanError::ExternalUnaddressed {
                endpoint: name.to_string(),
                external: x.name.clone(),
                id_from: x.id_from.clone(),
            }),
        }
    }
    if !cx.callees.is_empty() || !cx.externals.is_empty() {
        vars.insert(RUNPOD_API_KEY.to_string(), EnvValue::ApiKey);
    }
    vars
}
