//! Who makes a call: a [`Client`] (code outside any endpoint) or a job's [`Ctx`](crate::Ctx), and what each
//! brings to the call (its [`CallScope`]: transport, deadline, cancellation, trace, step budget).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use endpoint_config::EndpointConfig;

use super::{CallError, CallOptions, HttpRoutes, HttpTransport, Trace, Transport};

/// Makes calls from code outside any endpoint (a script, a web backend, a test), over a
/// transport: in-process into a local runtime, or HTTP to the platform or `app dev`.
///
/// ```no_run
/// # async fn demo() {
/// use endpoint_sdk::client::{Client, HttpRoutes};
/// // The cloud, with ENDPOINT_ID_<NAME> and RUNPOD_API_KEY from the environment:
/// let cloud = Client::from_env();
/// // `app dev` on this machine:
/// let dev = Client::http(HttpRoutes::new("http://127.0.0.1:8000/v2"));
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) defaults: CallOptions,
    pub(crate) per_endpoint: Arc<std::collections::HashMap<String, CallOptions>>,
    pub(crate) trace: Arc<Trace>,
    pub(crate) max_steps: Option<u32>,
    pub(crate) steps: Arc<Steps>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.transport.describe())
            .field("defaults", &self.defaults)
            .finish()
    }
}

impl Client {
    /// A client over any transport.
    pub fn with_transport(transport: Arc<dyn Transport>) -> Self {
        Client {
            transport,
            defaults: CallOptions::default(),
            per_endpoint: Arc::default(),
            trace: Arc::new(Trace::root()),
            max_steps: None,
            steps: Arc::new(Steps::new(None)),
        }
    }

    /// Calls over HTTP.
    pub fn http(routes: HttpRoutes) -> Self {
        Client::with_transport(Arc::new(HttpTransport::new(routes)))
    }

    /// Calls over HTTP with routes and key from the environment ([`HttpRoutes::from_env`]).
    pub fn from_env() -> Self {
        Client::http(HttpRoutes::from_env())
    }

    /// Default options of every call.
    pub fn options(mut self, options: CallOptions) -> Self {
        self.defaults = options;
        self
    }

    /// Options of every call to endpoint `name` (e.g. no retries for a non-idempotent one).
    pub fn endpoint_options(mut self, name: impl Into<String>, options: CallOptions) -> Self {
        Arc::make_mut(&mut self.per_endpoint).insert(name.into(), options);
        self
    }

    /// A budget of calls through this client (each fan-out item counts).
    pub fn max_steps(mut self, steps: u32) -> Self {
        self.max_steps = Some(steps);
        self.steps = Arc::new(Steps::new(Some(steps)));
        self
    }

    /// The calls made through this client outside any job.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Calls this client may still make, `None` without a limit.
    pub fn steps_left(&self) -> Option<u32> {
        self.steps.left()
    }

    pub(crate) fn options_for(&self, endpoint: &str) -> CallOptions {
        self.per_endpoint
            .get(endpoint)
            .cloned()
            .unwrap_or_else(|| self.defaults.clone())
    }

    /// The same client, for one job: its own span of the trace, and its step budget.
    pub(crate) fn for_job(&self, trace: Trace, max_steps: Option<u32>) -> Client {
        Client {
            trace: Arc::new(trace),
            max_steps,
            steps: Arc::new(Steps::new(max_steps)),
            ..self.clone()
        }
    }
}

/// A step budget.
#[derive(Debug)]
pub(crate) struct Steps {
    pub(crate) limit: Option<u32>,
    pub(crate) used: AtomicU32,
}

impl Steps {
    pub(crate) fn new(limit: Option<u32>) -> Self {
        Steps {
            limit,
            used: AtomicU32::new(0),
        }
    }

    /// Takes a step; `Err(limit)` when the budget is spent.
    pub(crate) fn take(&self) -> Result<(), u32> {
        let used = self.used.fetch_add(1, Ordering::SeqCst);
        match self.limit {
            Some(limit) if used >= limit => Err(limit),
            _ => Ok(()),
        }
    }

    /// Steps left, `None` without a limit.
    pub(crate) fn left(&self) -> Option<u32> {
        self.limit
            .map(|l| l.saturating_sub(self.used.load(Ordering::SeqCst)))
    }
}

/// What a caller brings to a call: where calls go, the deadline, the cancellation, the trace
/// and the step budget.
#[derive(Clone)]
pub struct CallScope {
    pub(crate) client: Client,
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: CancellationToken,
    /// The calling endpoint's config (a job's scope, when its runtime knows): what it declares
    /// in `calls = [..]`.
    pub(crate) endpoint_config: Option<Arc<EndpointConfig>>,
}

impl CallScope {
    /// Refuses a call to `callee` that the calling endpoint does not declare: on the platform
    /// only declared callees are wired (`ENDPOINT_ID_*`), so the call would fail there.
    pub(crate) fn check_declared<E>(&self, callee: &str) -> Result<(), CallError<E>> {
        match self.undeclared(callee) {
            Some(caller) => Err(CallError::Undeclared {
                caller,
                callee: callee.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// The calling endpoint's name, when it does not declare `callee` in `calls = [..]`.
    pub(crate) fn undeclared(&self, callee: &str) -> Option<String> {
        self.endpoint_config
            .as_ref()
            .filter(|c| !c.calls.iter().any(|x| x == callee))
            .map(|c| c.name.to_string())
    }
}

impl CallScope {
    /// Takes a step of the caller's budget; `Err(limit)` when it is spent (counted in the
    /// metrics under the calling endpoint, or `client`).
    pub(crate) fn take_step(&self) -> Result<(), u32> {
        self.client.steps.take().inspect_err(|_| {
            let caller = self.endpoint_config.as_ref().map_or("client", |c| &c.name);
            crate::metrics::global().step_budget_exhausted(caller);
        })
    }

    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Who makes a call: a job's [`Ctx`](crate::Ctx) (its deadline, cancellation, trace, step budget), or a
/// [`Client`].
pub trait Caller {
    /// The scope of calls made by this caller.
    fn call_scope(&self) -> CallScope;
}

impl Caller for Client {
    fn call_scope(&self) -> CallScope {
        CallScope {
            client: self.clone(),
            deadline: None,
            cancel: CancellationToken::new(),
            endpoint_config: None,
        }
    }
}

impl<C: Caller> Caller for &C {
    fn call_scope(&self) -> CallScope {
        (**self).call_scope()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_budget_counts_every_step() {
        let steps = Steps::new(Some(2));
        assert!(steps.take().is_ok());
        assert!(steps.take().is_ok());
        assert_eq!(steps.take(), Err(2));
        assert_eq!(steps.left(), Some(0));
        assert!(Steps::new(None).take().is_ok());
    }
}
