//! `app simulate`: the application's endpoints, with their checked configurations, under a
//! day of traffic in seconds, before renting a GPU.
//!
//! The simulator is not a second model of the platform: each endpoint is the local runtime's own
//! state machine ([`crate::local`]'s `EndpointState`, what `app dev` runs), driven in virtual
//! time by a discrete-event loop (`engine`) that plays the async shell's part (the janitor's
//! ticks, simulated workers with their cold starts, handlers that take their drawn service time
//! and make their calls). A [`Scenario`] says what arrives and what the jobs do; each variant
//! (overrides of configuration keys) runs on the same arrivals; the [`Report`] gives latency,
//! cold starts met, timeouts, workers and cost per endpoint and variant.

mod draw;
mod engine;
#[cfg(test)]
mod honest;
#[cfg(test)]
mod honest_lb;
mod overrides;
mod picture;
mod plan;
pub mod report;
pub mod scenario;
mod stats;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lb;
mod traffic;

use std::collections::BTreeMap;
use std::time::Instant;

pub use report::Report;
pub use scenario::Scenario;
pub use stats::Percentiles;

use crate::config::EndpointConfig;

/// Why a simulation cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The scenario is malformed or does not fit the application.
    #[error("scenario: {0}")]
    Scenario(String),
    /// A variant sets a key wrongly, or to a configuration the attribute would refuse.
    #[error("variant `{variant}`, `{key}`: {why}")]
    Variant {
        /// The variant.
        variant: String,
        /// The key (or the endpoint whose configuration the rules refused).
        key: String,
        /// What is wrong.
        why: String,
    },
}

/// One configuration to run: the application's as written, or a variant of it.
pub(crate) struct Variant {
    name: String,
    overrides: BTreeMap<String, serde_json::Value>,
    configs: Vec<EndpointConfig>,
    model: plan::Model,
}

/// The name of the configuration as written, always run first.
pub const CONFIGURED: &str = "configured";

/// Runs `scenario` against the endpoints configured by `configs` (the application `app`): the
/// configuration as written, then each variant, side by side on the same arrivals (variants run
/// on threads of their own).
pub fn simulate(
    app: &str,
    configs: &[EndpointConfig],
    scenario: &Scenario,
) -> Result<Report, SimulateError> {
    // Queue endpoints first, then load-balancing ones: the engine's two kinds of host.
    let ordered: Vec<EndpointConfig> = configs
        .iter()
        .filter(|c| c.load_balancer().is_none())
        .chain(configs.iter().filter(|c| c.load_balancer().is_some()))
        .cloned()
        .collect();
    let mut runs = vec![(CONFIGURED.to_string(), BTreeMap::new(), ordered.clone())];
    for (name, overrides) in &scenario.variants {
        let configs = overrides::apply(&ordered, name, overrides)?;
        runs.push((name.clone(), overrides.clone(), configs));
    }
    let mut prepared = Vec::new();
    for (name, overrides, configs) in runs {
        let model = plan::Model::new(&configs, scenario)?;
        let arrivals =
            traffic::Arrivals::new(&scenario.traffic, scenario.duration.0, scenario.seed)?;
        let variant = Variant {
            name,
            overrides,
            configs,
            model,
        };
        prepared.push((variant, arrivals));
    }
    let started = Instant::now();
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = prepared
            .into_iter()
            .map(|(variant, arrivals)| {
                s.spawn(move || {
                    let engine = engine::Engine::new(
                        &variant.configs,
                        &variant.model,
                        arrivals,
                        scenario.duration.0,
                        scenario.seed,
                    );
                    let outcome = engine.run();
                    (variant, outcome)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a simulation thread panicked"))
            .collect()
    });
    Ok(Report::new(app, scenario, outcomes, started.elapsed()))
}
