//! The local runtime's load balancer: a load-balancing endpoint's simulated workers (each with
//! its own state from `init`, after a cold start) behind the platform's balancer semantics.
//! A request goes straight to a worker's app, in process, with no queue; the answer streams
//! through unbuffered (server-sent events, chunked bodies) and carries `X-Runpod-Worker-Id`.
//! Affinity (`Affinity`: soft, `strict`, `strict-resume`), the scaler (requests in flight per
//! worker), the idle timeout, "no workers available" after two minutes, `worker_timeout` and
//! `affinity_worker_gone`, the per-request cap (`524`) and the 30 MB limit behave as the
//! platform documents them (`shared/reference/load-balancing-and-streaming.md` §1–2).
//!
//! The routing and scaling decisions are the pure `pool`; this file is the async shell that
//! holds it, starts and stops workers, and waits.

mod body;
pub(crate) mod pool;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::events::{RuntimeEvent, StopReason};
use super::shared::Shared;
use super::state::new_worker_id;
use crate::client::Client;
use crate::handler::{EndpointDef, RequestScope, panic_message};
use crate::metrics::PinOutcome;
use crate::protocol::load_balancer::{
    Affinity, BalancerError, NO_WORKER_WAIT, PAYLOAD_LIMIT, REQUEST_CAP, STRICT_WAIT,
    WORKER_ID_HEADER,
};
use crate::protocol::{Health, HealthJobs, HealthWorkers};
use pool::{Bound, Gone, Pool, PoolSettings, Route};

/// One simulated worker: its app, once `init` has built it, and its stop signal.
struct SimWorker {
    app: OnceLock<axum::Router>,
    stop: CancellationToken,
}

/// A request counted among the waiting: uncounted when it stops waiting, however it stops.
struct Waiting<'a> {
    balancer: &'a Balancer,
    counted: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.balancer.pool().waiting(-1);
        }
    }
}

/// A load-balancing endpoint in the local runtime.
pub(crate) struct Balancer {
    name: Arc<str>,
    def: EndpointDef,
    pool: Mutex<Pool>,
    /// Woken on every change a waiting request may care about.
    changed: Notify,
    /// Woken when the scaler may want to act at once (a request started waiting).
    wake: Notify,
    workers: Mutex<HashMap<Arc<str>, Arc<SimWorker>>>,
    shared: Arc<Shared>,
    /// The longest a request runs: the endpoint's execution timeout, at most the platform's cap.
    cap: Duration,
    answered: AtomicU64,
    failed: AtomicU64,
}

impl Balancer {
    pub(crate) fn new(def: EndpointDef, shared: Arc<Shared>) -> Arc<Self> {
        let c = &def.config;
        let idle_timeout = shared.options.idle_timeout.unwrap_or(c.idle_timeout());
        let settings = PoolSettings {
            min: c.workers.min,
            max: c.workers.max.max(1),
            per_worker: c.scaler.value(),
            idle_timeout,
            init_backoff: Duration::from_secs(5),
        };
        let cap = c
            .execution_timeout()
            .map_or(REQUEST_CAP, |t| t.min(REQUEST_CAP));
        Arc::new(Balancer {
            name: Arc::from(c.name.as_ref()),
            def,
            pool: Mutex::new(Pool::new(settings)),
            changed: Notify::new(),
            wake: Notify::new(),
            workers: Mutex::new(HashMap::new()),
            shared,
            cap,
            answered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        })
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<SimWorker>>> {
        self.workers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves one request, as the platform's balancer would: to a worker's app (the path as the
    /// app sees it on the platform), or the balancer's own error.
    pub(crate) async fn handle(self: &Arc<Self>, req: Request) -> Response {
        let started = Instant::now();
        let pinned = Affinity::parse(
            req.headers()
                .get(WORKER_ID_HEADER)
                .and_then(|v| v.to_str().ok()),
        );
        let (resp, refused) = self.serve(req, &pinned).await;
        let served_by = resp.headers().get(WORKER_ID_HEADER);
        let outcome = match (pinned.worker(), served_by, refused) {
            (_, _, Some(BalancerError::WorkerGone)) => PinOutcome::Gone,
            (_, _, Some(BalancerError::WorkerTimeout)) => PinOutcome::Timeout,
            (None, _, _) => PinOutcome::None,
            (Some(p), Some(w), _) if w.as_bytes() == p.as_bytes() => PinOutcome::Kept,
            (Some(_), Some(_), _) => PinOutcome::Moved,
            (Some(_), None, _) => PinOutcome::Unserved,
        };
        crate::metrics::global().lb_request(
            &self.name,
            resp.status().as_u16(),
            outcome,
            started.elapsed(),
        );
        resp
    }

    /// The answer, and the balancer's own error when it refused the request.
    async fn serve(
        self: &Arc<Self>,
        req: Request,
        affinity: &Affinity,
    ) -> (Response, Option<BalancerError>) {
        let too_large = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|n| n > PAYLOAD_LIMIT);
        if too_large {
            return self.refused(BalancerError::PayloadTooLarge);
        }
        // A streamed upload is held to the limit too: past it, the app's body reads fail.
        let req = req.map(|b| Body::new(http_body_util::Limited::new(b, PAYLOAD_LIMIT)));
        let (id, worker) = match self.acquire(affinity).await {
            Ok(w) => w,
            Err(e) => return self.refused(e),
        };
        let release = body::Release::new(self.clone(), id.clone());
        let app = worker
            .app
            .get()
            .cloned()
            .expect("a ready worker has its app");
        // The app first: an answer ready at its first poll sets no timer and no stop waiter.
        let answer = tokio::select! {
            biased;
            r = tokio::time::timeout(self.cap, app.oneshot(req)) => match r {
                Ok(Ok(resp)) => resp,
                Ok(Err(never)) => match never {},
                Err(_) => return self.refused(BalancerError::RequestTimeout),
            },
            _ = worker.stop.cancelled() => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let lost = format!("worker {id} was lost while it served this request");
                return ((StatusCode::BAD_GATEWAY, lost).into_response(), None);
            }
        };
        self.answered.fetch_add(1, Ordering::Relaxed);
        let (mut parts, inner) = answer.into_parts();
        if let Ok(v) = HeaderValue::from_str(&id) {
            parts.headers.insert(WORKER_ID_HEADER, v);
        }
        let resp = Response::from_parts(parts, body::guarded(inner, release, worker));
        (resp, None)
    }

    fn refused(&self, e: BalancerError) -> (Response, Option<BalancerError>) {
        (self.refuse(e), Some(e))
    }

    fn refuse(&self, e: BalancerError) -> Response {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(e.body())).into_response()
    }

    /// A worker for a request with `affinity`, waiting as the platform does.
    async fn acquire(
        self: &Arc<Self>,
        affinity: &Affinity,
    ) -> Result<(Arc<str>, Arc<SimWorker>), BalancerError> {
        let started = Instant::now();
        // Counted among the waiting until this returns or is dropped (a caller that gave up).
        let mut waiting = Waiting {
            balancer: self,
            counted: false,
        };
        // The first try registers no waiter: most requests find a worker at once. Anything
        // else is routed again once the waiter is registered, so no change is missed.
        let first = self.pool().route(affinity);
        if let Route::To(id) = first {
            match self.workers().get(&id).cloned() {
                Some(w) => return Ok((id, w)),
                None => self.release(&id),
            }
        }
        let result = loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            // Counted as waiting under the same lock as the route, so that a release right
            // after it knows to wake this request.
            let route = self.pool().route_waiting(affinity, waiting.counted);
            let bound = match route {
                Route::To(id) => match self.workers().get(&id).cloned() {
                    Some(w) => break Ok((id, w)),
                    None => {
                        self.release(&id);
                        continue;
                    }
                },
                Route::Refuse(e) => break Err(e),
                Route::Resume(id) => {
                    self.start_worker(Some(id));
                    Bound::PinnedWorker
                }
                Route::Wait(bound) => bound,
            };
            if !waiting.counted {
                waiting.counted = true;
                self.wake.notify_one();
            }
            let (limit, error) = match bound {
                Bound::AnyWorker => (NO_WORKER_WAIT, BalancerError::NoWorkers),
                Bound::PinnedWorker => (STRICT_WAIT, BalancerError::WorkerTimeout),
            };
            tokio::select! {
                _ = &mut changed => {}
                _ = tokio::time::sleep_until(started + limit) => break Err(error),
            }
        };
        drop(waiting);
        result
    }

    /// A request routed to `id` is over. Wakes the requests waiting for room, if any.
    pub(crate) fn release(&self, id: &str) {
        let waiting = {
            let mut pool = self.pool();
            pool.release(id, Instant::now());
            pool.has_waiting()
        };
        if waiting {
            self.changed.notify_waiters();
        }
    }

    /// Starts a worker (`id`: resuming a retired one).
    fn start_worker(self: &Arc<Self>, id: Option<Arc<str>>) {
        let id = id.unwrap_or_else(new_worker_id);
        let worker = Arc::new(SimWorker {
            app: OnceLock::new(),
            stop: CancellationToken::new(),
        });
        self.workers().insert(id.clone(), worker.clone());
        self.pool().start(id.clone(), Instant::now());
        self.emit(RuntimeEvent::WorkerStarting {
            endpoint: self.name.clone(),
            worker: id.clone(),
        });
        tokio::spawn(self.clone().boot(id, worker));
    }

    /// A worker's cold start and `init`, then its app; or its failure.
    async fn boot(self: Arc<Self>, id: Arc<str>, worker: Arc<SimWorker>) {
        let started = Instant::now();
        let cold = self.shared.options.cold_start;
        let init = async {
            tokio::time::sleep(cold).await;
            match tokio::spawn(self.def.init()).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(join) => Err(format!(
                    "init panicked: {}",
                    panic_message(&*join.into_panic())
                )),
            }
        };
        let state = tokio::select! {
            s = init => s,
            _ = worker.stop.cancelled() => return,
        };
        let app = state.and_then(|s| {
            self.def
                .app(&s)
                .ok_or_else(|| "the app could not be built from its state".to_string())
        });
        match app {
            Ok(app) => {
                let scope = RequestScope::new(
                    Arc::new(self.def.config.clone()),
                    id.clone(),
                    self.shared
                        .calls
                        .get()
                        .cloned()
                        .unwrap_or_else(Client::from_env),
                    self.shared.options.sessions.clone(),
                    self.def.session_version(),
                );
                let _ = worker.app.set(scope.serve(app));
                self.pool().ready(&id, Instant::now());
                self.emit(RuntimeEvent::WorkerReady {
                    endpoint: self.name.clone(),
                    worker: id,
                    startup: started.elapsed(),
                    external: false,
                });
            }
            Err(why) => self.stop_worker(&id, Gone::Terminated, StopReason::InitFailed(why)),
        }
        self.changed.notify_waiters();
    }

    /// Stops worker `id`: its requests in flight end with `502`.
    fn stop_worker(&self, id: &str, how: Gone, reason: StopReason) {
        let Some((id, worker)) = self.workers().remove_entry(id) else {
            return;
        };
        worker.stop.cancel();
        let init_failed = matches!(reason, StopReason::InitFailed(_));
        self.pool().stopped(&id, how, init_failed, Instant::now());
        self.emit(RuntimeEvent::WorkerStopped {
            endpoint: self.name.clone(),
            worker: id,
            reason,
        });
        self.changed.notify_waiters();
    }

    /// Kills worker `id` as if its machine died. False when there is no such worker.
    pub(crate) fn kill(&self, id: &str) -> bool {
        let known = self.workers().contains_key(id);
        self.stop_worker(id, Gone::Terminated, StopReason::Lost);
        known
    }

    fn emit(&self, e: RuntimeEvent) {
        self.shared.sinks.emit(e);
    }

    /// The balancer's housekeeping until `shutdown`: the scaler's starts and retirements.
    pub(crate) async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let tick = self.shared.options.tick;
        loop {
            let scale = self.pool().scale(Instant::now());
            for _ in 0..scale.start {
                self.start_worker(None);
            }
            for id in scale.retire {
                self.stop_worker(&id, Gone::Retired, StopReason::IdleTimeout);
            }
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.cancelled() => break,
            }
        }
        let ids = self.pool().worker_ids();
        for id in ids {
            self.stop_worker(&id, Gone::Terminated, StopReason::Shutdown);
        }
    }

    /// `/health`: requests in flight and waiting, and the workers.
    pub(crate) fn health(&self) -> Health {
        let (idle, running, starting, in_flight, waiting) = self.pool().counts();
        Health {
            jobs: HealthJobs {
                completed: self.answered.load(Ordering::Relaxed),
                failed: self.failed.load(Ordering::Relaxed),
                in_progress: u64::from(in_flight),
                in_queue: u64::from(waiting),
                retried: 0,
            },
            workers: HealthWorkers {
                idle: u64::from(idle),
                initializing: u64::from(starting),
                ready: u64::from(idle + running),
                running: u64::from(running),
                throttled: 0,
                unhealthy: 0,
            },
        }
    }

    /// The ids of the workers in the pool.
    pub(crate) fn worker_ids(&self) -> Vec<Arc<str>> {
        self.pool().worker_ids()
    }

    /// The endpoint's definition.
    pub(crate) fn def(&self) -> &EndpointDef {
        &self.def
    }
}
