//! The scenario resolved against the application: for each endpoint (in the order of its
//! configurations), its service time, its steps of calls by endpoint index, its hang and failure
//! shares and its cold start; and the endpoint the traffic goes to.

use std::time::Duration;

use super::SimulateError;
use super::scenario::{AffinityMode, ColdStarts, Scenario, Service, Span};
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
    /// A load-balancing endpoint's conversations: turns per arrival, the pause between them,
    /// and how a turn names the worker of the one before.
    pub(crate) turns: u32,
    pub(crate) think: Service,
    pub(crate) affinity: AffinityMode,
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
/// other endpoint calls (the first in order if there are several).
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
        let endpoints = configs
            .iter()
            .map(|c| {
                model(c, scenario, &index, &|i| {
                    configs[i].load_balancer().is_some()
                })
            })
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
    configs_lb: &dyn Fn(usize) -> bool,
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
                if configs_lb(to) {
                    return Err(err(format!(
                        "calls `{}`, a load-balancing endpoint: calls to those (HTTP requests \
                         from a job) are not simulated yet; send them traffic of their own",
                        s.to
                    )));
                }
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
                .filter(|&to| !configs_lb(to))
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
    let balanced = c.load_balancer().is_some();
    if !balanced
        && plan.is_some_and(|p| p.turns.is_some() || p.think.is_some() || p.affinity.is_some())
    {
        return Err(err(
            "`turns`, `think` and `affinity` are for load-balancing endpoints (a queue \
             endpoint's jobs have no worker affinity)"
                .into(),
        ));
    }
    let turns = plan.and_then(|p| p.turns).unwrap_or(1);
    if turns == 0 {
        return Err(err(
            "`turns = 0`: a conversation has at least one turn".into()
        ));
    }
    Ok(EndpointModel {
        turns,
        think: plan
            .and_then(|p| p.think)
            .unwrap_or(Service::Fixed(Span(Duration::from_secs(30)))),
        affinity: plan.and_then(|p| p.affinity).unwrap_or_default(),
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
