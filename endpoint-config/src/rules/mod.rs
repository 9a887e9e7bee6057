//! The rules: a [`Spec`] in, an [`EndpointConfig`] and every problem out. Each problem is spanned
//! on the token that caused it and says what is valid. Validation never stops early and always
//! returns a config (with defaults where a value was bad), so the attribute can still generate
//! code that keeps follow-on errors away.

mod allow;
mod calls;
mod env;
mod hardware;
mod name;
mod placement;
mod scaling;
mod support;
mod timeouts;
mod vram;
mod workers;

use crate::diagnostic::Diagnostics;
use crate::model::{EndpointConfig, GpuChoice, Hardware, defaults};
use crate::spec::{Int, Name, NameList, Spec};

use allow::check_allow;
pub use calls::{callee_bounded, callee_fits};
use calls::{check_calls, check_max_steps};
use env::check_env;
use hardware::{check_gpu_fallback, check_hardware, gpu_names_resolve};
use name::check_name;
pub use name::is_valid_name;
use placement::{check_datacenters, check_volumes};
use scaling::{check_idle_with_request_count, check_scaler};
pub use support::group;
use timeouts::{check_execution_timeout, check_idle_timeout};
use vram::{check_min_vram, check_vram_floor_wanted};
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
    let gpu_names_ok = gpu_names_resolve(spec);
    let min_vram_gb = check_min_vram(spec, d, &hardware, gpu_names_ok);
    let interactive = spec.interactive.as_ref().is_some_and(|i| i.value);
    if let Hardware::Gpu { selection, .. } = &hardware
        && gpu_names_ok
    {
        check_vram_floor_wanted(spec, d, selection, min_vram_gb);
        check_gpu_fallback(spec, d, workers, interactive);
    }

    check_warm_worker(spec, d, workers, interactive);

    let calls = check_calls(spec, d);
    let max_steps = check_max_steps(spec, d);

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
