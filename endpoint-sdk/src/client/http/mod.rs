//! Calls over HTTP to a Runpod-compatible API: the cloud (`https://api.runpod.ai/v2`) or
//! `app dev`'s server. Each endpoint name resolves to a base URL and an endpoint id.
//!
//! From the environment ([`HttpRoutes::from_env`]):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `RUNPOD_ENDPOINT_BASE_URL` | the API's base, up to `/v2` | `https://api.runpod.ai/v2` |
//! | `ENDPOINT_ID_<NAME>` | the platform id of endpoint `<name>` (upper-case, `-` → `_`), written by `app deploy` | the name itself (as `app dev` serves it) |
//! | `ENDPOINT_URL_<NAME>` | a full base for one endpoint, e.g. `http://10.0.0.5:8000/v2/web-retrieval` | |
//! | `RUNPOD_API_KEY` | sent as `Authorization: Bearer <key>` | none |

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

mod lb;
mod runsync;

use super::transport::{Running, Transport, TransportError};
use crate::boxed::BoxFuture;
use crate::protocol::vars::{self, endpoint_suffix};
use crate::protocol::{JobStatus, RunRequest, StatusObject};

/// Where each endpoint lives.
#[derive(Clone, Default)]
pub struct HttpRoutes {
    base: String,
    ids: HashMap<String, String>,
    urls: HashMap<String, String>,
    api_key: Option<String>,
    /// The base is the cloud's because `RUNPOD_ENDPOINT_BASE_URL` was not set.
    defaulted: bool,
}

/// The platform's public API, where calls go when nothing says otherwise.
const CLOUD_BASE: &str = "https://api.runpod.ai/v2";

impl std::fmt::Debug for HttpRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRoutes")
            .field("base", &self.base)
            .field("ids", &self.ids)
            .field("urls", &self.urls)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HttpRoutes {
    /// A failure to reach the cloud's API that nothing pointed at, with what to set.
    fn hint(&self, e: TransportError) -> TransportError {
        match e {
            TransportError::Unavailable {
                message,
                retry_after,
                not_acted_on,
            } if self.defaulted => TransportError::Unavailable {
                message: format!(
                    "{message} (RUNPOD_ENDPOINT_BASE_URL is not set, so calls go to {CLOUD_BASE}; \
                     set it to `app dev`'s http://127.0.0.1:8000/v2 to call locally{})",
                    if self.api_key.is_none() {
                        ", or RUNPOD_API_KEY to call the platform"
                    } else {
                        ""
                    }
                ),
                retry_after,
                not_acted_on,
            },
            other => other,
        }
    }

    /// Every endpoint under `base` (e.g. `http://127.0.0.1:8000/v2`), by name.
    pub fn new(base: impl Into<String>) -> Self {
        HttpRoutes {
            base: base.into().trim_end_matches('/').to_string(),
            ..HttpRoutes::default()
        }
    }

    /// Routes from the environment (see the module docs).
    pub fn from_env() -> Self {
        let base = std::env::var(vars::RUNPOD_ENDPOINT_BASE_URL)
            .ok()
            .filter(|v| !v.is_empty());
        let defaulted = base.is_none();
        let mut routes = HttpRoutes::new(base.unwrap_or_else(|| CLOUD_BASE.to_string()));
        routes.defaulted = defaulted;
        for (k, v) in std::env::vars() {
            if v.is_empty() {
                continue;
            }
            if let Some(suffix) = k.strip_prefix(vars::ENDPOINT_ID_PREFIX) {
                routes.ids.insert(suffix.to_string(), v);
            } else if let Some(suffix) = k.strip_prefix(vars::ENDPOINT_URL_PREFIX) {
                routes
                    .urls
                    .insert(suffix.to_string(), v.trim_end_matches('/').to_string());
            }
        }
        routes.api_key = std::env::var(vars::RUNPOD_API_KEY)
            .ok()
            .filter(|k| !k.is_empty());
        routes
    }

    /// Endpoint `name` has platform id `id`.
    pub fn id(mut self, name: &str, id: impl Into<String>) -> Self {
        self.ids.insert(endpoint_suffix(name), id.into());
        self
    }

    /// Endpoint `name` lives at `url` (its full base, ending with its id).
    pub fn url(mut self, name: &str, url: impl Into<String>) -> Self {
        self.urls.insert(
            endpoint_suffix(name),
            url.into().trim_end_matches('/').to_string(),
        );
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, key: Option<String>) -> Self {
        self.api_key = key;
        self
    }

    /// The base URL of endpoint `name`'s routes.
    pub(crate) fn endpoint_url(&self, name: &str) -> String {
        let suffix = endpoint_suffix(name);
        if let Some(url) = self.urls.get(&suffix) {
            return url.clone();
        }
        let id = self.ids.get(&suffix).map_or(name, String::as_str);
        format!("{}/{id}", self.base)
    }
}

/// Calls over HTTP.
///
/// A typed call submits with `/runsync?wait=1000`: a job that ends within that second comes back
/// in that one exchange. Otherwise the answer brings the job's id, and the call waits with the
/// long poll `/status-sync/{id}?wait=<ms>`, which answers the moment the job ends, with no
/// polling delay; a server without that route (it answers 404 or 405 while `/status` knows the
/// job) is polled on `/status` instead, from then on. A handle ([`submit`](super::submit))
/// submits with `/run`, which answers the id at once.
///
/// Cancellation: a caller dropped during the `/runsync` exchange does not know its job's id
/// yet; the exchange goes on in a task of its own, and cancels the job as soon as the answer
/// names it, so the child runs at most that second longer (and never past the deadline it was
/// given in its envelope and its `policy.executionTimeout`).
pub struct HttpTransport {
    routes: HttpRoutes,
    http: reqwest::Client,
    /// Whether the server has `/status-sync` (until it shows otherwise).
    long_poll: AtomicBool,
}

/// How a long poll ended.
enum LongPoll {
    /// The job is final, or the wait is over.
    Done(StatusObject),
    /// `/status-sync` answered 404 or 405: no such route, or no such job.
    NotFound,
    /// Less than [`LONG_POLL_MIN`] is left.
    TooShort,
    /// The server is known to have no long poll.
    Unsupported,
}

/// The longest a single long poll asks the server to wait (the platform's default).
const LONG_POLL_MAX: Duration = Duration::from_secs(90);
/// The shortest wait the platform accepts on `/status-sync`.
const LONG_POLL_MIN: Duration = Duration::from_secs(1);

impl HttpTransport {
    /// A transport using `routes`.
    pub fn new(routes: HttpRoutes) -> Self {
        HttpTransport {
            routes,
            http: crate::http::client(),
            long_poll: AtomicBool::new(true),
        }
    }

    /// Long-polls until the job is final or `until`.
    async fn long_poll(
        &self,
        endpoint: &str,
        id: &str,
        until: tokio::time::Instant,
    ) -> Result<LongPoll, TransportError> {
        let base = format!("{}/status-sync/{id}", self.routes.endpoint_url(endpoint));
        let mut pause = Duration::from_millis(20);
        while self.long_poll.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left < LONG_POLL_MIN {
                return Ok(LongPoll::TooShort);
            }
            let asked = left.min(LONG_POLL_MAX);
            let url = format!("{base}?wait={}", asked.as_millis());
            let sent = tokio::time::Instant::now();
            match self
                .send(self.request(reqwest::Method::GET, url), "status-sync")
                .await
            {
                Ok(v) => {
                    let status = Self::status_from(v, "status-sync")?;
                    if status.status.is_final() || tokio::time::Instant::now() >= until {
                        return Ok(LongPoll::Done(status));
                    }
                    // A server that answers long before the wait it was asked for is not
                    // long-polling: pace the requests as a poll would.
                    if sent.elapsed() < asked / 2 {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                }
                // No such route here (or the job is unknown: `/status` tells which).
                Err(TransportError::Rejected {
                    status: Some(404 | 405),
                    ..
                }) => return Ok(LongPoll::NotFound),
                Err(e) => return Err(e),
            }
        }
        Ok(LongPoll::Unsupported)
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.routes.api_key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<Value, TransportError> {
        Self::answer(req.send().await, what)
            .await
            .map_err(|e| self.routes.hint(e))
    }

    /// The JSON of a successful answer, or the error that says what went wrong.
    async fn answer(
        sent: Result<reqwest::Response, reqwest::Error>,
        what: &str,
    ) -> Result<Value, TransportError> {
        let resp = sent.map_err(|e| {
            let msg = format!("{what}: {}", crate::http::error_chain(&e));
            // A connection that could not be made carried no request.
            TransportError::Unavailable {
                message: msg,
                retry_after: None,
                not_acted_on: e.is_connect(),
            }
        })?;
        let status = resp.status();
        let retry_after = retry_after(resp.headers());
        let text = match resp.text().await {
            Ok(text) => text,
            Err(e) => {
                return Err(TransportError::unavailable(format!(
                    "{what}: the answer ({status}) was cut off: {e}"
                )));
            }
        };
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| TransportError::Rejected {
                status: Some(status.as_u16()),
                message: format!(
                    "{what}: the answer is not JSON ({e}): {}",
                    crate::http::snippet(&text)
                ),
            });
        }
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("error")
                    .or_else(|| v.get("detail"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| crate::http::snippet(&text));
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let refused = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            return Err(TransportError::Unavailable {
                message: format!("{what} answered {status}: {message}"),
                retry_after,
                not_acted_on: refused,
            });
        }
        let hint = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                " (check RUNPOD_API_KEY)".to_string()
            }
            StatusCode::NOT_FOUND => {
                " (is the endpoint deployed, and its ENDPOINT_ID_* set? RUNPOD_ENDPOINT_BASE_URL \
                 ends in /v2)"
                    .to_string()
            }
            _ => String::new(),
        };
        Err(TransportError::Rejected {
            status: Some(status.as_u16()),
            message: format!("{message}{hint}"),
        })
    }

    fn status_from(v: Value, what: &str) -> Result<StatusObject, TransportError> {
        serde_json::from_value(v).map_err(|e| TransportError::Rejected {
            status: None,
            message: format!("{what}: not a status object: {e}"),
        })
    }
}

/// The pause between two reads of a stream on a server that answers empty reads at once.
const STREAM_POLL_PAUSE: Duration = Duration::from_millis(500);

/// A `/stream` answer: `{"status": .., "stream": [{"output": chunk}, ..]}`, taken apart without
/// copying the chunks.
fn stream_from(mut v: Value) -> (JobStatus, Vec<Value>) {
    let status = v
        .get_mut("status")
        .map(Value::take)
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or(JobStatus::InProgress);
    let chunks = match v.get_mut("stream").map(Value::take) {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|mut c| c.get_mut("output").map(Value::take).unwrap_or(Value::Null))
            .collect(),
        _ => Vec::new(),
    };
    (status, chunks)
}

/// `Retry-After` in seconds (the form the platform and proxies send); an HTTP date is ignored.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl Transport for HttpTransport {
    fn submit(
        &self,
        endpoint: &str,
        req: RunRequest,
    ) -> BoxFuture<'_, Result<String, TransportError>> {
        let endpoint_url = self.routes.endpoint_url(endpoint);
        let url = format!("{endpoint_url}/run");
        let request = self
            .request(reqwest::Method::POST, url)
            .timeout(Duration::from_secs(60))
            .json(&req);
        // A caller dropped before the answer has the job it created cancelled.
        let mut guard = self.guarded(request, "run", endpoint_url);
        Box::pin(async move {
            let v = guard.take().await.map_err(|e| self.routes.hint(e))?;
            v.get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| TransportError::Rejected {
                    status: None,
                    message: format!("/run answered without a job id: {v}"),
                })
        })
    }

    fn run(&self, endpoint: &str, req: RunRequest, wait: Duration) -> Running<'_> {
        self.runsync(endpoint, req, wait)
    }

    fn wait(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> BoxFuture<'_, Result<StatusObject, TransportError>> {
        let url = format!("{}/status/{id}", self.routes.endpoint_url(endpoint));
        let (endpoint, id) = (endpoint.to_string(), id.to_string());
        Box::pin(async move {
            let until = tokio::time::Instant::now() + wait;
            let mut not_found = match self.long_poll(&endpoint, &id, until).await? {
                LongPoll::Done(status) => return Ok(status),
                LongPoll::NotFound => true,
                LongPoll::TooShort | LongPoll::Unsupported => false,
            };
            // Poll `/status` with a growing interval until the job is final or `wait` passes.
            let mut interval = Duration::from_millis(20);
            loop {
                let v = self
                    .send(self.request(reqwest::Method::GET, url.clone()), "status")
                    .await?;
                let status = Self::status_from(v, "status")?;
                if std::mem::take(&mut not_found) {
                    // `/status` knows the job that `/status-sync` did not: no long poll here.
                    self.long_poll.store(false, Ordering::Relaxed);
                }
                let now = tokio::time::Instant::now();
                if status.status.is_final() || now >= until {
                    return Ok(status);
                }
                tokio::time::sleep(interval.min(until - now)).await;
                interval = (interval * 2).min(Duration::from_secs(1));
            }
        })
    }

    fn status(
        &self,
        endpoint: &str,
        id: &str,
    ) -> BoxFuture<'_, Result<StatusObject, TransportError>> {
        let url = format!("{}/status/{id}", self.routes.endpoint_url(endpoint));
        Box::pin(async move {
            let v = self
                .send(self.request(reqwest::Method::GET, url), "status")
                .await?;
            Self::status_from(v, "status")
        })
    }

    fn cancel(&self, endpoint: &str, id: &str) -> BoxFuture<'_, Result<(), TransportError>> {
        let url = format!("{}/cancel/{id}", self.routes.endpoint_url(endpoint));
        Box::pin(async move {
            self.send(self.request(reqwest::Method::POST, url), "cancel")
                .await
                .map(drop)
        })
    }

    fn stream(
        &self,
        endpoint: &str,
        id: &str,
        wait: Duration,
    ) -> BoxFuture<'_, Result<(JobStatus, Vec<Value>), TransportError>> {
        let base = format!("{}/stream/{id}", self.routes.endpoint_url(endpoint));
        let url = match wait.as_millis() {
            0 => base,
            ms => format!("{base}?wait={}", ms.min(LONG_POLL_MAX.as_millis())),
        };
        Box::pin(async move {
            let sent = tokio::time::Instant::now();
            let v = self
                .send(self.request(reqwest::Method::GET, url), "stream")
                .await?;
            let (status, chunks) = stream_from(v);
            // A server that does not long-poll the stream answers an empty read at once: pace
            // the reads as a poll would, rather than spin.
            if chunks.is_empty() && !status.is_final() && sent.elapsed() < wait / 2 {
                tokio::time::sleep((wait / 2).min(STREAM_POLL_PAUSE)).await;
            }
            Ok((status, chunks))
        })
    }

    fn http(
        &self,
        endpoint: &str,
        request: axum::http::Request<axum::body::Body>,
    ) -> BoxFuture<'_, Result<axum::http::Response<axum::body::Body>, TransportError>> {
        let endpoint = endpoint.to_string();
        Box::pin(async move { self.lb_request(&endpoint, request).await })
    }

    fn describe(&self) -> String {
        self.routes.base.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_cloud_that_nothing_pointed_at_says_what_to_set() {
        let routes = HttpRoutes {
            defaulted: true,
            ..HttpRoutes::new(CLOUD_BASE)
        };
        let e = routes
            .hint(TransportError::unavailable("could not connect"))
            .to_string();
        assert!(e.contains("RUNPOD_ENDPOINT_BASE_URL is not set"), "{e}");
        assert!(e.contains("RUNPOD_API_KEY"), "{e}");
        let chosen = HttpRoutes::new("http://127.0.0.1:9/v2");
        assert_eq!(
            chosen.hint(TransportError::unavailable("x")).to_string(),
            "x"
        );
    }

    #[test]
    fn endpoints_resolve_to_urls_by_name_id_or_explicit_url() {
        let routes = HttpRoutes::new("https://api.runpod.ai/v2/")
            .id("web-retrieval", "abc123")
            .url("embed", "http://10.0.0.5:8000/v2/embed/");
        assert_eq!(
            routes.endpoint_url("web-retrieval"),
            "https://api.runpod.ai/v2/abc123"
        );
        assert_eq!(
            routes.endpoint_url("embed"),
            "http://10.0.0.5:8000/v2/embed"
        );
        assert_eq!(
            routes.endpoint_url("other"),
            "https://api.runpod.ai/v2/other"
        );
        let debug = format!("{:?}", routes.api_key(Some("sk-secret".into())));
        assert!(!debug.contains("sk-secret"));
    }
}
