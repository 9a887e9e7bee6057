//! What the transitions of one endpoint need to know: its configuration and the runtime's
//! options, resolved once when the runtime starts.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{EndpointConfig, Scaler, Workers};
use crate::local::RuntimeOptions;

/// One endpoint's rules, as the state machine applies them.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) name: Arc<str>,
    pub(crate) workers: Workers,
    pub(crate) scaler: Scaler,
    /// The endpoint's own execution timeout (a job's policy may set another).
    pub(crate) execution_timeout: Option<Duration>,
    /// The idle timeout (the runtime's override, or the endpoint's).
    pub(crate) idle_timeout: Duration,
    /// Whether the runtime starts simulated workers for it (else only external workers run its
    /// jobs).
    pub(crate) simulate: bool,
    /// The most jobs that may wait: the platform answers 429 past `max(50, 500 × max workers)`.
    pub(crate) queue_limit: usize,
    pub(crate) run_retention: Duration,
    pub(crate) sync_retention: Duration,
    pub(crate) max_retained_results: usize,
    pub(crate) default_ttl: Duration,
    pub(crate) lost_after: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) affinity_wait: Duration,
    pub(crate) sweep_every: Duration,
    /// Keep a finished job's input (the dashboard shows it); else only a retryable job's.
    pub(crate) keep_inputs: bool,
}

impl Settings {
    /// The settings of endpoint `config` in a runtime with `options`.
    pub(crate) fn new(config: &EndpointConfig, options: &RuntimeOptions, simulate: bool) -> Self {
        Settings {
            name: Arc::from(config.name.as_ref()),
            workers: config.workers,
            scaler: config.scaler,
            execution_timeout: config.execution_timeout(),
            idle_timeout: options
                .idle_timeout
                .unwrap_or_else(|| config.idle_timeout()),
            simulate,
            queue_limit: options
                .queue_limit
                .unwrap_or_else(|| 50.max(500 * config.workers.max as usize)),
            run_retention: options.run_retention,
            sync_retention: options.sync_retention,
            max_retained_results: options.max_retained_results.max(1),
            default_ttl: options.default_ttl,
            lost_after: options.lost_after,
            max_attempts: options.max_attempts,
            affinity_wait: options.affinity_wait,
            sweep_every: options.sweep_every,
            keep_inputs: options.keep_inputs,
        }
    }
}
