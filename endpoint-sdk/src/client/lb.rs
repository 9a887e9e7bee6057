//! Calling a load-balancing endpoint: an HTTP client bound to it (`chat::client(&caller)`) that
//! adds what every call carries (the API key, the caller's deadline, its W3C trace context, the
//! step budget), over the caller's transport (in process into `app dev`'s balancer, or HTTP to
//! the platform's `https://{id}.api.runpod.ai` or `app dev`'s `/lb/{name}`); and a
//! [`Conversation`], which pins its turns to the worker that served the first one, moves when
//! the platform says that worker is gone, and tells the caller that the session must be
//! rehydrated where it landed.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::sse::SseStream;
use super::{CallScope, Caller};
use crate::protocol::envelope::Deadline;
use crate::protocol::load_balancer::{
    Affinity, BalancerError, DEADLINE_HEADER, PAYLOAD_LIMIT, SESSION_HEADER, TRACEPARENT_HEADER,
    WORKER_ID_HEADER, deadline_header,
};
use crate::protocol::trace_context::SpanId;

/// The header a moved conversation's first request carries: the worker it left.
pub const MOVED_FROM_HEADER: &str = "x-endpoint-moved-from";

/// Why a request to a load-balancing endpoint has no answer from its app.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LbError {
    /// The balancer answered itself (no worker, a pinned worker gone or busy, the cap, the size
    /// limit).
    #[error("`{endpoint}`: the balancer answered {} {}: {}", .error.status(), .error.reason(), .error.message())]
    Balancer {
        /// The endpoint.
        endpoint: String,
        /// What the balancer said.
        error: BalancerError,
    },
    /// The endpoint could not be reached, or the answer was cut off.
    #[error("could not reach load-balancing endpoint `{endpoint}`: {message}")]
    Transport {
        /// The endpoint.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// The app answered with an error status ([`LbResponse::error_for_status`]).
    #[error("`{endpoint}` answered {status}: {body}")]
    Status {
        /// The endpoint.
        endpoint: String,
        /// The status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The answer is not what the caller expected.
    #[error("the answer of `{endpoint}` is not the JSON expected: {message}")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// What did not fit.
        message: String,
    },
    /// The caller's deadline passed before the request could be sent.
    #[error("the caller's deadline passed before the request to `{endpoint}` was sent")]
    DeadlineExceeded {
        /// The endpoint.
        endpoint: String,
    },
    /// The calling job has used its `max_steps`.
    #[error("the step budget of {limit} calls is spent; `{endpoint}` was not called")]
    StepBudgetExhausted {
        /// The endpoint.
        endpoint: String,
        /// The budget.
        limit: u32,
    },
    /// The calling endpoint does not list this one in `calls = [..]`.
    #[error(
        "endpoint `{caller}` calls `{callee}`, which it does not declare: add it to \
         `calls = [..]` (deployed, only declared callees are wired)"
    )]
    Undeclared {
        /// The calling endpoint.
        caller: String,
        /// The load-balancing endpoint.
        callee: String,
    },
}

/// An HTTP client bound to one load-balancing endpoint. Made by the generated
/// `chat::client(&caller)`, from a job's or request's `Ctx` or a [`Client`](super::Client).
#[derive(Clone)]
pub struct LbClient {
    scope: Arc<CallScope>,
    endpoint: Arc<str>,
}

impl LbClient {
    /// A client of load-balancing endpoint `endpoint`, in `caller`'s scope.
    pub fn new(caller: &impl Caller, endpoint: &str) -> Self {
        LbClient {
            scope: Arc::new(caller.call_scope()),
            endpoint: Arc::from(endpoint),
        }
    }

    /// The endpoint's name.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A request with `method` to `path` (the path as the app routes it, e.g. `/turn`).
    pub fn request(&self, method: Method, path: &str) -> LbRequest {
        LbRequest {
            client: self.clone(),
            method,
            path: path.to_string(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            conversation: None,
            timeout: None,
        }
    }

    /// A `GET` of `path`.
    pub fn get(&self, path: &str) -> LbRequest {
        self.request(Method::GET, path)
    }

    /// A `POST` to `path`.
    pub fn post(&self, path: &str) -> LbRequest {
        self.request(Method::POST, path)
    }

    /// A conversation: requests of one session, pinned to the worker that holds it.
    pub fn conversation(&self, session: impl Into<String>) -> Conversation {
        Conversation {
            client: self.clone(),
            session: session.into(),
            pin: Arc::new(Mutex::new(None)),
            mode: PinMode::Strict,
        }
    }
}

/// How a conversation holds on to its worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinMode {
    /// `<id>`: that worker when it has room, else any (the conversation moves silently).
    Soft,
    /// `strict <id>`: only that worker, waiting while it is busy; when it is gone, the turn
    /// is sent again without the pin, and the answer says the conversation moved.
    #[default]
    Strict,
    /// `strict-resume <id>`: like strict, and a worker scaled down while idle is resumed (with
    /// a fresh process: its memory is gone, so the app rehydrates on its own).
    StrictResume,
}

/// Requests of one session (a conversation with an agent), pinned to the warm worker that
/// holds it. Each request carries the session id (`x-endpoint-session`, which the app's
/// `ctx.session()` opens) and the pin. When the pinned worker is gone, the request goes again
/// without the pin, carrying `x-endpoint-moved-from`, and its answer's
/// [`moved_from`](LbResponse::moved_from) tells the caller the session was rehydrated elsewhere.
#[derive(Clone)]
pub struct Conversation {
    client: LbClient,
    session: String,
    pin: Arc<Mutex<Option<String>>>,
    mode: PinMode,
}

impl Conversation {
    /// Pins with `mode` (strict by default).
    pub fn pin_mode(mut self, mode: PinMode) -> Self {
        self.mode = mode;
        self
    }

    /// The session id.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// The worker the conversation is pinned to, once a request was answered.
    pub fn worker(&self) -> Option<String> {
        self.pin.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A request of this conversation.
    pub fn request(&self, method: Method, path: &str) -> LbRequest {
        let mut r = self.client.request(method, path);
        r.conversation = Some(self.clone());
        r
    }

    /// A `GET` of `path`.
    pub fn get(&self, path: &str) -> LbRequest {
        self.request(Method::GET, path)
    }

    /// A `POST` to `path`.
    pub fn post(&self, path: &str) -> LbRequest {
        self.request(Method::POST, path)
    }

    fn affinity(&self) -> Affinity {
        match (self.worker(), self.mode) {
            (None, _) => Affinity::Any,
            (Some(w), PinMode::Soft) => Affinity::Prefer(w),
            (Some(w), PinMode::Strict) => Affinity::Strict(w),
            (Some(w), PinMode::StrictResume) => Affinity::StrictResume(w),
        }
    }

    fn pin_to(&self, worker: Option<&str>) {
        if let Some(w) = worker {
            *self.pin.lock().unwrap_or_else(|e| e.into_inner()) = Some(w.to_string());
        }
    }
}

/// A request to a load-balancing endpoint, being built.
pub struct LbRequest {
    client: LbClient,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    conversation: Option<Conversation>,
    timeout: Option<std::time::Duration>,
}

impl LbRequest {
    /// Waits at most `timeout` for the answer's headers (besides the caller's deadline); the
    /// app sees it as the caller's deadline.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a header (an invalid name or value is left out).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            self.headers.insert(n, v);
        }
        self
    }

    /// `value` as the JSON body.
    pub fn json(mut self, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(b) => {
                self.body = b.into();
                self.headers.insert(
                    axum::http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Err(e) => tracing::warn!("the request body could not be serialized as JSON: {e}"),
        }
        self
    }

    /// A raw body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request; the answer's headers are back when this returns, its body streams.
    pub async fn send(self) -> Result<LbResponse, LbError> {
        let endpoint = self.client.endpoint.to_string();
        let scope = &self.client.scope;
        if let Some(caller) = scope.undeclared(&endpoint) {
            return Err(LbError::Undeclared {
                caller,
                callee: endpoint,
            });
        }
        scope
            .take_step()
            .map_err(|limit| LbError::StepBudgetExhausted {
                endpoint: endpoint.clone(),
                limit,
            })?;
        if self.body.len() > PAYLOAD_LIMIT {
            return Err(LbError::Balancer {
                endpoint,
                error: BalancerError::PayloadTooLarge,
            });
        }
        let affinity = self
            .conversation
            .as_ref()
            .map_or(Affinity::Any, Conversation::affinity);
        let first = self.exchange(&affinity, None).await;
        let Some(conv) = &self.conversation else {
            return first;
        };
        let (answer, moved_from) = match first {
            // The pinned worker is gone: the turn goes wherever the platform puts it, which
            // rehydrates the session.
            Err(LbError::Balancer {
                error: BalancerError::WorkerGone,
                ..
            }) => {
                let gone = affinity.worker().map(str::to_string);
                let again = self.exchange(&Affinity::Any, gone.as_deref()).await;
                (again, gone)
            }
            other => (other, None),
        };
        let mut answer = answer?;
        let moved_from = moved_from.or_else(|| {
            let pinned = affinity.worker()?;
            (answer.worker.as_deref() != Some(pinned)).then(|| pinned.to_string())
        });
        conv.pin_to(answer.worker.as_deref());
        answer.moved_from = moved_from;
        Ok(answer)
    }

    /// One request with `affinity`.
    async fn exchange(
        &self,
        affinity: &Affinity,
        moved_from: Option<&str>,
    ) -> Result<LbResponse, LbError> {
        let endpoint = self.client.endpoint.to_string();
        let scope = &self.client.scope;
        let remaining = match (scope.remaining(), self.timeout) {
            (Some(r), Some(t)) => Some(r.min(t)),
            (r, t) => r.or(t),
        };
        if remaining.is_some_and(|r| r.is_zero()) {
            return Err(LbError::DeadlineExceeded { endpoint });
        }
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .body(Body::from(self.body.clone()))
            .map_err(|e| LbError::Transport {
                endpoint: endpoint.clone(),
                message: format!("bad request {} {}: {e}", self.method, self.path),
            })?;
        let headers = req.headers_mut();
        headers.extend(self.headers.clone());
        let mut set = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        if let Some(r) = remaining {
            set(DEADLINE_HEADER, deadline_header(&Deadline::in_(r)));
        }
        let traceparent = scope.client.trace.context_for(SpanId::random());
        set(TRACEPARENT_HEADER, traceparent.to_string());
        if let Some(c) = &self.conversation {
            set(SESSION_HEADER, c.session.clone());
        }
        if let Some(pin) = affinity.header_value() {
            set(WORKER_ID_HEADER, pin);
        }
        if let Some(gone) = moved_from {
            set(MOVED_FROM_HEADER, gone.to_string());
        }
        let sent = scope.client.transport.http(&endpoint, req);
        let answer = match remaining {
            Some(r) => {
                tokio::time::timeout(r, sent)
                    .await
                    .map_err(|_| LbError::DeadlineExceeded {
                        endpoint: endpoint.clone(),
                    })?
            }
            None => sent.await,
        }
        .map_err(|e| LbError::Transport {
            endpoint: endpoint.clone(),
            message: e.to_string(),
        })?;
        LbResponse::from_answer(endpoint, answer).await
    }
}

/// A load-balancing endpoint's answer: its status and headers, the worker that served it, and
/// its body, streamed.
pub struct LbResponse {
    endpoint: String,
    status: u16,
    headers: HeaderMap,
    body: Body,
    worker: Option<String>,
    moved_from: Option<String>,
}

impl LbResponse {
    /// An answer, unless it is the balancer's own error. The balancer's answers name no
    /// worker; those with its statuses are read to tell which error they are.
    async fn from_answer(
        endpoint: String,
        answer: axum::http::Response<Body>,
    ) -> Result<Self, LbError> {
        let (parts, body) = answer.into_parts();
        let worker = parts
            .headers
            .get(WORKER_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let status = parts.status.as_u16();
        if worker.is_none() && matches!(status, 400 | 404 | 413 | 524) {
            let bytes = axum::body::to_bytes(body, 64 * 1024)
                .await
                .unwrap_or_default();
            if let Some(error) = BalancerError::recognize(status, &bytes) {
                return Err(LbError::Balancer { endpoint, error });
            }
            return Ok(LbResponse {
                endpoint,
                status,
                headers: parts.headers,
                body: Body::from(bytes),
                worker,
                moved_from: None,
            });
        }
        Ok(LbResponse {
            endpoint,
            status,
            headers: parts.headers,
            body,
            worker,
            moved_from: None,
        })
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The worker that served it (`X-Runpod-Worker-Id`).
    pub fn worker(&self) -> Option<&str> {
        self.worker.as_deref()
    }

    /// For a conversation's request: the worker it was pinned to, when another served it (the
    /// pinned one was gone, or busy under a soft pin). The session was then rehydrated from
    /// its store on this answer's worker.
    pub fn moved_from(&self) -> Option<&str> {
        self.moved_from.as_deref()
    }

    /// An error for a 4xx or 5xx answer of the app, with the start of its body.
    pub async fn error_for_status(self) -> Result<Self, LbError> {
        if self.status < 400 {
            return Ok(self);
        }
        let (endpoint, status) = (self.endpoint.clone(), self.status);
        let body = self.text().await.unwrap_or_default();
        Err(LbError::Status {
            endpoint,
            status,
            body: crate::http::snippet(&body),
        })
    }

    /// The whole body.
    pub async fn bytes(self) -> Result<Bytes, LbError> {
        let endpoint = self.endpoint;
        axum::body::to_bytes(self.body, PAYLOAD_LIMIT)
            .await
            .map_err(|e| LbError::Transport {
                endpoint,
                message: format!("the answer was cut off: {e}"),
            })
    }

    /// The whole body as text.
    pub async fn text(self) -> Result<String, LbError> {
        Ok(String::from_utf8_lossy(&self.bytes().await?).into_owned())
    }

    /// The whole body as JSON of type `T`.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, LbError> {
        let endpoint = self.endpoint.clone();
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| LbError::Decode {
            endpoint,
            message: e.to_string(),
        })
    }

    /// The body as server-sent events, each as it arrives.
    pub fn events(self) -> SseStream {
        SseStream::new(self.body)
    }

    /// The body, streamed.
    pub fn into_body(self) -> Body {
        self.body
    }
}
