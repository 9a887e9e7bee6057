//! The production worker of a load-balancing endpoint: the app on `PORT`, the health check on
//! `PORT_HEALTH` at `HEALTH_CHECK_PATH` (204 while `init` runs, 200 once ready, 503 when `init`
//! failed or the worker is draining), every request in its own span with its status and time,
//! and SIGTERM drained: no new connections, the requests in flight finished.
//! (`shared/reference/load-balancing-and-streaming.md` §1.2.)

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tracing::Instrument;

use super::{WorkerError, WorkerExit};
use crate::handler::{EndpointDef, RequestScope};
use crate::protocol::vars;

/// Where a load-balancing worker listens: the platform's variables, else the endpoint's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEnv {
    /// `PORT`: the app.
    pub port: u16,
    /// `PORT_HEALTH`: the health check (the app's port when equal).
    pub health_port: u16,
    /// `HEALTH_CHECK_PATH`.
    pub health_path: String,
    /// `RUNPOD_POD_ID`, or a random id.
    pub worker_id: String,
    /// The address to bind (`0.0.0.0`, as the platform requires).
    pub host: std::net::IpAddr,
}

impl AppEnv {
    /// Reads the variables through `get`, defaulting to `def`'s config.
    pub fn from_lookup(
        def: &EndpointDef,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<AppEnv, super::EnvError> {
        let lb = def.config.load_balancer().cloned().unwrap_or_default();
        let port = |name: &'static str, default: u16| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u16>()
                .map_err(|_| super::EnvError::Invalid {
                    name,
                    value: v.clone(),
                    why: "expected a TCP port, e.g. 80".into(),
                }),
        };
        let app_port = port(vars::PORT, lb.port)?;
        // The documented default of PORT_HEALTH is PORT.
        let health_default = if get(vars::PORT).is_some() && lb.health_port == lb.port {
            app_port
        } else {
            lb.health_port
        };
        Ok(AppEnv {
            port: app_port,
            health_port: port(vars::PORT_HEALTH, health_default)?,
            health_path: get(vars::HEALTH_CHECK_PATH).unwrap_or_else(|| lb.health_path.into()),
            worker_id: get(vars::RUNPOD_POD_ID)
                .unwrap_or_else(|| format!("worker-{}", uuid::Uuid::new_v4())),
            host: std::net::Ipv4Addr::UNSPECIFIED.into(),
        })
    }

    /// Reads the process environment.
    pub fn from_env(def: &EndpointDef) -> Result<AppEnv, super::EnvError> {
        Self::from_lookup(def, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }
}

/// The worker's health, as the check answers it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Health {
    Initializing = 0,
    Ready = 1,
    Failed = 2,
    Draining = 3,
}

/// What both servers share: the health, the app once built, and where the check lives.
struct Host {
    endpoint: String,
    health: AtomicU8,
    app: OnceLock<Router>,
    health_path: String,
    /// The health check is on the app's port, ahead of the app's routes.
    shared_port: bool,
    why_failed: OnceLock<String>,
}

impl Host {
    fn health(&self) -> Health {
        match self.health.load(Ordering::SeqCst) {
            0 => Health::Initializing,
            1 => Health::Ready,
            2 => Health::Failed,
            _ => Health::Draining,
        }
    }

    fn set(&self, h: Health) {
        self.health.store(h as u8, Ordering::SeqCst);
    }

    /// The health check's answer: 204 initializing, 200 ready, 503 otherwise.
    fn check(&self) -> Response {
        match self.health() {
            Health::Initializing => StatusCode::NO_CONTENT.into_response(),
            Health::Ready => (
                StatusCode::OK,
                axum::Json(serde_json::json!({"status": "healthy"})),
            )
                .into_response(),
            Health::Failed => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({
                    "status": "unhealthy",
                    "error": self.why_failed.get().cloned().unwrap_or_default(),
                })),
            )
                .into_response(),
            Health::Draining => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "draining"})),
            )
                .into_response(),
        }
    }
}

/// Serves `def`'s app until SIGTERM (or Ctrl-C), then drains.
pub async fn serve_app(def: EndpointDef, env: AppEnv) -> Result<WorkerExit, WorkerError> {
    let shutdown = CancellationToken::new();
    let signals = shutdown.clone();
    tokio::spawn(async move {
        super::serve::wait_for_signal().await;
        tracing::info!("stop requested: taking no new requests, finishing the ones in flight");
        signals.cancel();
    });
    serve_app_until(def, env, shutdown).await
}

/// Serves `def`'s app until `shutdown`, then drains. Returns once every request in flight has
/// been answered.
pub async fn serve_app_until(
    def: EndpointDef,
    env: AppEnv,
    shutdown: CancellationToken,
) -> Result<WorkerExit, WorkerError> {
    let bind = |port: u16| {
        let addr = SocketAddr::new(env.host, port);
        async move {
            TcpListener::bind(addr).await.map_err(|e| {
                WorkerError::Select(format!("cannot listen on {addr}: {e} (PORT/PORT_HEALTH)"))
            })
        }
    };
    let shared_port = env.health_port == env.port;
    let host = Arc::new(Host {
        endpoint: def.name().to_string(),
        health: AtomicU8::new(Health::Initializing as u8),
        app: OnceLock::new(),
        health_path: env.health_path.clone(),
        shared_port,
        why_failed: OnceLock::new(),
    });
    let app_listener = bind(env.port).await?;
    let health_server = if shared_port {
        None
    } else {
        let listener = bind(env.health_port).await?;
        let checks = Router::new()
            .route(&env.health_path, axum::routing::get(check))
            .with_state(host.clone());
        Some(tokio::spawn(
            async move { axum::serve(listener, checks).await },
        ))
    };
    tracing::info!(
        endpoint = def.name(),
        worker = %env.worker_id,
        port = env.port,
        health = %format!("{}:{}", env.health_port, env.health_path),
        "load-balancing worker starting"
    );
    let front = Router::new().fallback(dispatch).with_state(host.clone());
    let drained = shutdown.clone();
    let draining = host.clone();
    let server = tokio::spawn(async move {
        axum::serve(app_listener, front)
            .with_graceful_shutdown(async move {
                drained.cancelled().await;
                draining.set(Health::Draining);
            })
            .await
    });
    init_app(&def, &env, &host).await;
    let served = server.await;
    if let Some(h) = health_server {
        h.abort();
    }
    match served {
        Ok(Ok(())) => {
            tracing::info!("worker stopped: every request in flight was answered");
            Ok(WorkerExit::Drained)
        }
        Ok(Err(e)) => Err(WorkerError::Select(format!("the app's server failed: {e}"))),
        Err(join) => Err(WorkerError::Select(format!(
            "the app's server panicked: {join}"
        ))),
    }
}

/// Runs `init` and builds the app, or marks the worker unhealthy with the reason.
async fn init_app(def: &EndpointDef, env: &AppEnv, host: &Host) {
    let started = Instant::now();
    let state = match tokio::spawn(def.init()).await {
        Ok(Ok(state)) => state,
        Ok(Err(e)) => return fail(host, e.to_string()),
        Err(join) => {
            let why = crate::handler::panic_message(&*join.into_panic());
            return fail(host, format!("init panicked: {why}"));
        }
    };
    let Some(app) = def.app(&state) else {
        return fail(host, "the app could not be built from its state".into());
    };
    let scope = RequestScope::new(
        Arc::new(def.config.clone()),
        env.worker_id.clone(),
        crate::client::Client::from_env(),
        match crate::session::Sessions::from_env() {
            Ok(s) => s,
            Err(e) => return fail(host, e.to_string()),
        },
        def.session_version(),
    );
    let _ = host.app.set(scope.serve(app));
    if host.health() == Health::Initializing {
        host.set(Health::Ready);
    }
    tracing::info!(
        "ready after {:?}: the health check answers 200",
        started.elapsed()
    );
}

fn fail(host: &Host, why: String) {
    tracing::error!("init failed: {why}; the health check answers 503 (unhealthy)");
    let _ = host.why_failed.set(why);
    host.set(Health::Failed);
}

async fn check(State(host): State<Arc<Host>>) -> Response {
    host.check()
}

/// The app's port: the health check where it shares the port, else the app once it is built,
/// each request logged in its own span.
async fn dispatch(State(host): State<Arc<Host>>, mut req: Request) -> Response {
    if host.shared_port && req.uri().path() == host.health_path {
        return host.check();
    }
    let Some(app) = host.app.get().cloned() else {
        let (status, msg) = match host.health() {
            Health::Failed => (
                StatusCode::SERVICE_UNAVAILABLE,
                "this worker's init failed; see its health check",
            ),
            _ => (
                StatusCode::SERVICE_UNAVAILABLE,
                "this worker is still initializing",
            ),
        };
        return (status, msg).into_response();
    };
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| format!("req-{}", uuid::Uuid::new_v4()), str::to_string);
    // The request's `Ctx` takes the same id as its log lines.
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let span = tracing::info_span!("request", request_id = %id);
    async move {
        let started = Instant::now();
        let resp = match app.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        tracing::info!(
            "{method} {path} answered {} (headers) in {:?}",
            resp.status().as_u16(),
            started.elapsed()
        );
        crate::metrics::global().lb_request(
            &host.endpoint,
            resp.status().as_u16(),
            crate::metrics::PinOutcome::None,
            started.elapsed(),
        );
        resp.map(Body::new)
    }
    .instrument(span)
    .await
}
