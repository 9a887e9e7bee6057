//! The rules: a [`Spec`] in, an [`EndpointConfig`] and every problem out. Each problem is spanned
//! on the token that caused it and says what is valid. Validation never stops early and always
//! returns a config (with defaults where a value was bad), so the attribute can still generate
//! code that keeps follow-on errors away.
//!
//! One file per family of rules: `allow`, `name`, `workers`, `hardware`, `placement` (data
//! centers and volumes), `env`, `timeouts`, `scaling`, `vram` (GPU memory), `calls` and
//! `load_balancer` (load-balancing endpoints' settings and the queue keys they refuse); shared
//! helpers are in `support`, and `check` runs the rules on configs built in code. [`validate`]
//! runs them in a fixed order, which is the order of the diagnostics the compiler shows.

mod allow;
mod budget;
mod calls;
mod check;
mod env;
mod hardware;
mod load_balancer;
mod name;
#[cfg(test)]
mod order;
mod placement;
mod scaling;
mod support;
mod timeouts;
mod vram;
mod workers;

use crate::diagnostic::Diagnostics;
use crate::model::{EndpointConfig, EndpointKind, Hardware, defaults};
use crate::spec::Spec;

use allow::check_allow;
pub use calls::{callee_bounded, callee_fits, callee_not_below_message, callee_unbounded_message};
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
    let kind = load_balancer::check_kind(spec, d);
    let lb = matches!(kind, EndpointKind::LoadBalancer(_));
    let workers = check_workers(spec, d);
    let hardware = check_hardware(spec, d);
    let datacenters = check_datacenters(spec, d, &hardware);
    let volumes = check_volumes(spec, d, &datacenters, &hardware);
    let (env, secrets) = check_env(spec, d);

    if !lb {
        // The platform refuses it on queue endpoints only (REST v2's `idleTimeout`).
        check_idle_with_request_count(spec, d);
    }
    let idle_timeout_s = check_idle_timeout(spec, d);
    let execution_timeout_ms = check_execution_timeout(spec, d);
    let concurrency = if lb {
        defaults::CONCURRENCY
    } else {
        check_concurrency(spec, d)
    };
    let gpu_names_ok = gpu_names_resolve(spec);
    let model = budget::check_model(spec, d, &hardware, gpu_names_ok);
    let concurrency = if lb {
        concurrency
    } else {
        budget::reconcile_concurrency(spec, d, model.as_ref(), concurrency)
    };
    let scaler = match (lb, &spec.scaler) {
        (true, None) => load_balancer::default_scaler(),
        // Refused by `check_kind` when it is the queue-delay scaler; the value is kept.
        (true, Some(_)) => crate::Scaler::RequestCount(check_scaler(spec, d).value()),
        (false, _) => check_scaler(spec, d),
    };

    // Advice about the GPU selection only makes sense when every GPU name resolved.
    let min_vram_gb = check_min_vram(spec, d, &hardware, gpu_names_ok);
    let min_vram_gb = budget::reconcile_min_vram(spec, d, model.as_ref(), min_vram_gb);
    let interactive = spec.interactive.as_ref().is_some_and(|i| i.value);
    if let Hardware::Gpu { selection, .. } = &hardware
        && gpu_names_ok
    {
        // With `model(..)` the budget checks every card; no floor is wanted.
        if spec.model.is_none() {
            check_vram_floor_wanted(spec, d, selection, min_vram_gb);
        }
        check_gpu_fallback(spec, d, workers, interactive);
    }

    check_warm_worker(spec, d, workers, interactive);

    let calls = check_calls(spec, d);
    let max_steps = check_max_steps(spec, d);

    EndpointConfig {
        name,
        kind,
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
        model,
        interactive,
        plain_input: spec.plain_input.as_ref().is_some_and(|p| p.value),
        calls: calls.into(),
        has_init: spec.init.is_some(),
        max_steps,
        allow: allow.into(),
    }
}
