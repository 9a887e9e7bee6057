//! A load-balancing endpoint's request, seen as a job: route handlers take a [`Ctx`] as an axum
//! extractor, with the same powers as a job's (typed calls within a deadline and a step budget,
//! the caller's trace, a session that survives the worker, the endpoint's `env(..)`). The host
//! of the app (the production worker, `app dev`'s simulated workers) puts a [`RequestScope`] in
//! every request's extensions; the caller's deadline, session and trace context come from its
//! headers (`protocol::load_balancer`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use tokio::time::Instant;

use super::{Ctx, job_budget};
use crate::client::Client;
use crate::config::EndpointConfig;
use crate::protocol::load_balancer::{
    DEADLINE_HEADER, SESSION_HEADER, TRACEPARENT_HEADER, parse_deadline_header,
};
use crate::session::Sessions;

/// What the host of a load-balancing app tells each request's [`Ctx`]. Cheap to clone (it is
/// put in every request).
#[derive(Clone)]
pub struct RequestScope(Arc<ScopeInner>);

struct ScopeInner {
    config: Arc<EndpointConfig>,
    worker_id: Arc<str>,
    client: Client,
    sessions: Sessions,
    session_version: Arc<str>,
}

impl RequestScope {
    /// The scope of a worker `worker_id` of the endpoint configured by `config`: its calls go
    /// through `client`, its sessions to `sessions`.
    pub fn new(
        config: Arc<EndpointConfig>,
        worker_id: impl Into<Arc<str>>,
        client: Client,
        sessions: Sessions,
        session_version: impl Into<Arc<str>>,
    ) -> Self {
        RequestScope(Arc::new(ScopeInner {
            config,
            worker_id: worker_id.into(),
            client,
            sessions,
            session_version: session_version.into(),
        }))
    }

    /// `app` with this scope in every request's extensions, so its handlers can take a `Ctx`
    /// (and, while an OpenTelemetry exporter runs, each request exported as a span).
    pub fn serve(&self, app: axum::Router) -> axum::Router {
        app.layer(axum::middleware::from_fn(traced))
            .layer(axum::Extension(self.clone()))
    }

    /// The context of one request: its id (the caller's `x-request-id`, or a new one), a
    /// deadline that is the sooner of the endpoint's execution timeout and the caller's, the
    /// caller's trace and session.
    pub fn ctx(&self, headers: &axum::http::HeaderMap) -> Ctx {
        self.ctx_with(headers, None)
    }

    fn ctx_with(
        &self,
        headers: &axum::http::HeaderMap,
        span: Option<crate::telemetry::RequestSpan>,
    ) -> Ctx {
        let scope = &*self.0;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let id = header("x-request-id")
            .map(str::to_string)
            .unwrap_or_else(|| format!("req-{}", uuid::Uuid::new_v4()));
        let caller_left = header(DEADLINE_HEADER)
            .and_then(parse_deadline_header)
            .map(|d| d.remaining());
        let budget = job_budget(scope.config.execution_timeout(), caller_left);
        let traceparent = header(TRACEPARENT_HEADER).and_then(|v| v.parse().ok());
        let session = header(SESSION_HEADER).map(str::to_string);
        Ctx::builder(scope.config.name.to_string(), id)
            .worker_id(scope.worker_id.to_string())
            .deadline(budget.map(|b| Instant::now() + b))
            .traceparent(traceparent)
            .client(scope.client.clone(), scope.config.max_steps)
            .config(scope.config.clone())
            .session(
                session,
                scope.sessions.clone(),
                scope.session_version.clone(),
            )
            .request_span(span)
            .build()
    }
}

/// While an exporter runs: one context per request, made before the app sees it (so that its
/// handler's `Ctx` is the request's span), told the response's status.
async fn traced(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let scope = req.extensions().get::<RequestScope>().cloned();
    let span = scope.as_ref().and_then(|_| {
        crate::telemetry::RequestSpan::start(req.method().as_str(), req.uri().path())
    });
    let (Some(scope), Some(span)) = (scope, span) else {
        return next.run(req).await;
    };
    let ctx = scope.ctx_with(req.headers(), Some(span));
    req.extensions_mut().insert(ctx.clone());
    let response = next.run(req).await;
    if let Some(span) = &ctx.inner.request_span {
        span.answered(response.status().as_u16());
    }
    response
}

/// A route handler of a load-balancing endpoint takes `ctx: Ctx` like any axum extractor.
impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, Self::Rejection> {
        if let Some(ctx) = parts.extensions.get::<Ctx>() {
            return Ok(ctx.clone());
        }
        match parts.extensions.get::<RequestScope>() {
            Some(scope) => Ok(scope.ctx(&parts.headers)),
            None => Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                "a `Ctx` is given to the routes of a load-balancing endpoint served by the SDK \
                 (`app worker`, `app dev`); this router was served another way",
            )),
        }
    }
}
