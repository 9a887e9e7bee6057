//! The scenario resolved against the application: for each endpoint (in the order of its
//! configurations), its service time, its steps of calls by endpoint index, its hang and failure
//! shares and its cold start; and the endpoint the traffic goes to.

use std::time::Duration;

use super::SimulateError;
use super::scenario::{ColdStarts, Scenario, Service};
use crate::config::{EndpointConfig, Hardware};

/// One step of calls, resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub(crate) to: usize,
    pub(crate) count: u32,
}

/// What one endpoint's jobs do.
#[derive(Debug, Clone)]
pub(crate) struct EndpointModel {
    pub(crate) service: Service,
    pub(crate) steps: Vec<Step>,
    pub(crate) hang: f64,
    pub(crate) fail: f64,
    pub(crate) cold_start: Duration,
    /// Whether the scenario left this endpoint to the defaults.
    pub(crate) assumed: bool,
}

/// The scenario, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) endpoints: Vec<EndpointModel>,
    pub(crate) top: usize,
    /// Whether each endpoint's `min` workers are ready at the start.
    pub(crate) warm_at_start: bool,
}

/// The endpoint traffic goes to when the scenario does not say: the one queue endpoint no
/// other endpoint calls (the first by name if there are several).
fn root(configs: &[EndpointConfig]) -> Option<usize> {
    let called = |name: &str| configs.iter().any(|c| c.calls.iter().any(|x| x == name));
    configs
        .iter()
        .enumerate()
        .filter(|(_, c)| c.load_balancer().is_none() && !called(&c.name))
        .map(|(i, _)| i)
        .next()
}

/// The cold start of a worker of `c`.
pub(crate) fn cold_start(c: &EndpointConfig, d: &ColdStarts) -> Duration {
    let gpu = matches!(c.hardware, Hardware::Gpu { .. });
    match (gpu, c.flashboot) {
        (true, false) => d.gpu.0,
        (true, true) => d.gpu_flashboot.0,
        (false, false) => d.cpu.0,
        (false, true) => d.cpu_flashboot.0,
    }
}

impl Model {
    /// Resolves `scenario` against `configs`.
    pub(crate) fn new(
        configs: &[EndpointConfig],
        scenario: &Scenario,
    ) -> Result<Model, SimulateError> {
        let index = |name: &str| configs.iter().position(|c| c.name == name);
        let names = || {
            configs
                .iter()
                .map(|c| c.name.as_ref())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for name in scenario.endpoints.keys() {
            if index(name).is_none() {
                return Err(SimulateError::Scenario(format!(
                    "[endpoints.{name}]: this application has no endpoint `{name}` (it has {})",
                    names()
                )));
            }
        }
        let top = match &scenario.traffic.endpoint {
            Some(name) => index(name).ok_or_else(|| {
                SimulateError::Scenario(format!(
                    "traffic: no endpoint `{name}` in this application (it has {})",
                    names()
                ))
            })?,
            None => root(configs).ok_or_else(|| {
                SimulateError::Scenario(
                    "traffic: say which endpoint requests go to (`endpoint = \"..\"`): every \
                     queue endpoint is called by another"
                        .into(),
                )
            })?,
        };
        if configs[top].load_balancer().is_some() {
            return Err(SimulateError::Scenario(format!(
                "traffic: `{}` is a load-balancing endpoint; the simulator runs queue endpoints \
                 (send the traffic to the queue endpoint it calls, or to an orchestrator)",
                configs[top].name
            )));
        }
        let endpoints = configs
            .iter()
            .map(|c| model(c, scenario, &index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Model {
            endpoints,
            top,
            warm_at_start: !scenario.cold_at_start,
        })
    }
}

fn model(
    c: &EndpointConfig,
    scenario: &Scenario,
    index: &dyn Fn(&str) -> Option<usize>,
) -> Result<EndpointModel, SimulateError> {
    let plan = scenario.endpoints.get(c.name.as_ref());
    let err = |why: String| SimulateError::Scenario(format!("[endpoints.{}]: {why}", c.name));
    let mut steps = Vec::new();
    match plan.and_then(|p| p.calls.as_ref()) {
        Some(calls) => {
            for s in calls {
                let to = index(&s.to).ok_or_else(|| {
                    let declared: Vec<&str> = c.calls.iter().map(|x| x.as_ref()).collect();
                    err(format!(
                        "calls `{}`, which this application does not have (`{}` declares \
                         calls = [{}])",
                        s.to,
                        c.name,
                        declared.join(", ")
                    ))
                })?;
                if !c.calls.iter().any(|x| x == &s.to) {
                    return Err(err(format!(
                        "calls `{}`, which it does not declare in `calls = [..]` (on the \
                         platform the call would fail); declare it, or drop it from the scenario",
                        s.to
                    )));
                }
                if s.parallel {
                    steps.push(Step { to, count: s.count });
                } else {
                    steps.extend((0..s.count).map(|_| Step { to, count: 1 }));
                }
            }
        }
        // By default each declared callee once, one after the other.
        None => steps.extend(
            c.calls
                .iter()
                .filter_map(|name| index(name))
                .map(|to| Step { to, count: 1 }),
        ),
    }
    let share = |v: f64, key: &str| {
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(err(format!("`{key} = {v}` is a share: between 0 and 1")))
        }
    };
    if let Some(Service::Percentiles { p50, p99 }) = plan.and_then(|p| p.service)
        && p99 < p50
    {
        return Err(err("`service`: the p99 must not be below the p50".into()));
    }
    Ok(EndpointModel {
        service: plan.and_then(|p| p.service).unwrap_or_default(),
        steps,
        hang: share(plan.map_or(0.0, |p| p.hang), "hang")?,
        fail: share(plan.map_or(0.0, |p| p.fail), "fail")?,
        cold_start: plan
            .and_then(|p| p.cold_start)
            .map_or_else(|| cold_start(c, &scenario.cold_start), |s| s.0),
        assumed: plan.is_none_or(|p| p.service.is_none()),
    })
}
