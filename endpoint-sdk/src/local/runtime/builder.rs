//! Builds a [`LocalRuntime`]: which endpoints it hosts, its tunables, where its events go.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{LocalRuntime, LocalTransport, RuntimeHandle};
use crate::client::Client;
use crate::config::EndpointConfig;
use crate::handler::{EndpointDef, Handler};
use crate::local::balancer::Balancer;

/// How many recent jobs' call trees the runtime keeps (the dashboard's waterfalls).
const CALL_TREES: usize = 1_000;
use crate::local::events::Sinks;
use crate::local::shared::Shared;
use crate::local::shell::LocalEndpoint;
use crate::local::{EventSink, RuntimeError, RuntimeEvent, RuntimeOptions, janitor};

/// How many events a subscriber of [`LocalRuntime::events`] may fall behind by.
const BROADCAST_CAPACITY: usize = 16_384;

/// Builds a [`LocalRuntime`].
#[derive(Default)]
pub struct LocalRuntimeBuilder {
    defs: Vec<EndpointDef>,
    external: Vec<EndpointConfig>,
    served_externally: Vec<String>,
    options: RuntimeOptions,
    broadcast: Option<broadcast::Sender<RuntimeEvent>>,
    sinks: Vec<Arc<dyn EventSink>>,
}

impl LocalRuntimeBuilder {
    /// Hosts endpoint `E`.
    pub fn endpoint<E: Handler>(self) -> Self {
        self.definition(EndpointDef::of::<E>())
    }

    /// Hosts load-balancing endpoint `E` behind a balancer.
    pub fn app<E: crate::handler::LoadBalanced>(self) -> Self {
        self.definition(EndpointDef::app_of::<E>())
    }

    /// Hosts an endpoint definition (e.g. one whose config a test adjusted).
    pub fn definition(mut self, def: EndpointDef) -> Self {
        self.defs.push(def);
        self
    }

    /// Hosts every endpoint registered in the binary.
    pub fn registry(mut self) -> Self {
        self.defs.extend(crate::registry::endpoints());
        self
    }

    /// Hosts an endpoint whose handler is not in this binary: only external workers (e.g. the
    /// official Python worker) attached over the job API run its jobs.
    pub fn external_endpoint(mut self, config: EndpointConfig) -> Self {
        self.external.push(config);
        self
    }

    /// Runs no simulated workers for endpoint `name`: external workers serve it.
    pub fn served_externally(mut self, name: impl Into<String>) -> Self {
        self.served_externally.push(name.into());
        self
    }

    /// Where jobs keep their sessions (e.g. a Redis store shared with external workers).
    pub fn sessions(mut self, sessions: crate::session::Sessions) -> Self {
        self.options.sessions = sessions;
        self
    }

    /// Simulated cold start before each worker's `init`.
    pub fn cold_start(mut self, delay: Duration) -> Self {
        self.options.cold_start = delay;
        self
    }

    /// Every tunable at once.
    pub fn options(mut self, options: RuntimeOptions) -> Self {
        self.options = options;
        self
    }

    /// Adjusts the tunables.
    pub fn with_options(mut self, f: impl FnOnce(&mut RuntimeOptions)) -> Self {
        f(&mut self.options);
        self
    }

    /// Sends the runtime's events to `sink` as well, from the first one (the minimum workers
    /// starting) on.
    pub fn sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Subscribes to the runtime's events before it starts, so that the first ones (the
    /// minimum workers starting) are not missed.
    pub fn events(&mut self) -> broadcast::Receiver<RuntimeEvent> {
        self.broadcast
            .get_or_insert_with(|| broadcast::channel(BROADCAST_CAPACITY).0)
            .subscribe()
    }

    /// Starts the runtime. Must be called inside a Tokio runtime.
    pub fn build(self) -> Result<LocalRuntime, RuntimeError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RuntimeError::NoTokio);
        }
        crate::registry::check(&self.defs)?;
        let broadcast = self
            .broadcast
            .unwrap_or_else(|| broadcast::channel(BROADCAST_CAPACITY).0);
        let shared = Arc::new(Shared {
            options: self.options,
            sinks: Sinks::new(self.sinks, broadcast),
            calls: std::sync::OnceLock::new(),
            call_trees: crate::local::call_trees::CallTrees::new(CALL_TREES),
        });
        let mut endpoints = BTreeMap::new();
        let (apps, defs): (Vec<EndpointDef>, Vec<EndpointDef>) = self
            .defs
            .into_iter()
            .partition(EndpointDef::is_load_balancer);
        let balancers: BTreeMap<String, Arc<Balancer>> = apps
            .into_iter()
            .map(|d| (d.name().to_string(), Balancer::new(d, shared.clone())))
            .collect();
        let all = defs
            .into_iter()
            .map(|d| (d.config.clone(), Some(d)))
            .chain(self.external.into_iter().map(|c| (c, None)));
        for (config, def) in all {
            let name = config.name.to_string();
            let simulate = def.is_some() && !self.served_externally.contains(&name);
            let ep = Arc::new(LocalEndpoint::new(config, def, simulate, shared.clone()));
            endpoints.insert(name, ep);
        }
        let shutdown = CancellationToken::new();
        let handle = Arc::new(RuntimeHandle {
            endpoints,
            balancers,
            shared: shared.clone(),
            shutdown: shutdown.clone(),
        });
        // Set before any worker starts: a worker's jobs call other endpoints with it.
        let transport = LocalTransport::from_weak(Arc::downgrade(&handle));
        let _ = shared
            .calls
            .set(Client::with_transport(Arc::new(transport)));
        for ep in handle.endpoints.values() {
            tokio::spawn(janitor::run(ep.clone(), shutdown.clone()));
        }
        for b in handle.balancers.values() {
            tokio::spawn(b.clone().run(shutdown.clone()));
        }
        Ok(LocalRuntime::from_handle(handle))
    }
}
